import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Testing

/// A token's reach is explicit: listed teams and regions, or every region by grant. A
/// coordinator (or viewer, lead, agent) token that names neither is refused; tokens made
/// before the rule keep their reach as an explicit grant; and a flood of unknown secrets cannot
/// push the valid tokens out of the authentication cache.
@Suite(.requiresDatabase) struct TokenReachTests {
    @Test func aTokenThatNamesNoReachIsRefusedUnlessItIsAnAdminOrGrantedEveryRegion() throws {
        for role in [Role.coordinator, .viewer, .lead, .agent] {
            let error = try #require(throws: BatonError.self) { try NewToken(name: "t", role: role).validate() }
            #expect(error.kind == .ruleViolation)
            #expect(error.details["field"] == "regions")
            #expect(throws: Never.self) { try NewToken(name: "t", role: role, allRegions: true).validate() }
            #expect(throws: Never.self) { try NewToken(name: "t", role: role, regions: ["emea"]).validate() }
        }
        #expect(throws: Never.self) { try NewToken(name: "t", role: .admin).validate() }
        let both = try #require(throws: BatonError.self) {
            try NewToken(name: "t", role: .coordinator, allRegions: true, regions: ["emea"]).validate()
        }
        #expect(both.details["field"] == "all_regions")
    }

    @Test func aCoordinatorOfOneRegionReachesOnlyItsTeams() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let services = BatonServices(database: database)
            let cli = Principal.system(source: "cli")
            for region in ["emea", "apac"] {
                _ = try await services.referenceData.createRegion(.init(code: region, name: region), by: cli)
                _ = try await services.referenceData.createTeam(.init(department: .sales, region: region), by: cli)
                _ = try await services.tasks.create(NewTask(kind: "k", title: "in \(region)"), inTeam: "sales-\(region)", by: cli)
            }
            let (_, emeaSecret) = try await database.tokens.create(NewToken(name: "c", role: .coordinator, regions: ["emea"]), createdBy: "t")
            let (_, allSecret) = try await database.tokens.create(NewToken(name: "c", role: .coordinator, allRegions: true), createdBy: "t")
            let emea = try #require(try await database.tokens.authenticate(secret: emeaSecret))
            let everywhere = try #require(try await database.tokens.authenticate(secret: allSecret))
            let page = try PageRequest(limit: 50, after: nil)
            #expect(try await services.tasks.list(.init(), page: page, by: emea).items.map(\.team) == ["sales-emea"])
            #expect(Set(try await services.tasks.list(.init(), page: page, by: everywhere).items.map(\.team)) == ["sales-emea", "sales-apac"])
            let refused = try await #require(throws: BatonError.self) {
                try await services.tasks.stats(team: "sales-apac", windowMinutes: 60, by: emea)
            }
            #expect(refused.kind == .notFound)
            #expect(try await services.referenceData.teams(page: page, region: nil, department: nil, by: emea).items.map(\.slug) == ["sales-emea"])
        }
    }

    @Test func tokensMadeBeforeTheRuleKeepTheirReachAsAnExplicitGrant() async throws {
        try await TestDatabase.withEmptyDatabase { url in
            let pool = ConnectionPool(try PostgresConfiguration(url), configuration: .init(size: 2))
            let before = BatonDatabase.migrations.filter { $0.name != "token_reach" && $0.version < 6 }
            try await Migrator(migrations: before, logger: TestDatabase.quietLogger).migrate(pool)
            try await pool.query(
                """
                INSERT INTO api_tokens (name, secret_hash, secret_hint, role, teams, regions) VALUES
                    ('old coordinator', '\\x01', 'bt_x', 'coordinator', '{}', '{}'),
                    ('old lead', '\\x02', 'bt_y', 'lead', '{sales-emea}', '{}')
                """
            )
            try await Migrator(migrations: BatonDatabase.migrations, logger: TestDatabase.quietLogger).migrate(pool)
            let rows = try await pool.query("SELECT name, all_regions FROM api_tokens ORDER BY name")
            #expect(try rows.map { try $0.decode(String.self, "name") } == ["old coordinator", "old lead"])
            #expect(try rows.map { try $0.decode(Bool.self, "all_regions") } == [true, false])
            // The database refuses a token with no reach, whatever writes it.
            let error = try await #require(throws: PostgresError.self) {
                try await pool.query("INSERT INTO api_tokens (name, secret_hash, secret_hint, role) VALUES ('x', '\\x03', 'h', 'viewer')")
            }
            #expect(error.sqlState == "23514")
            await pool.close()
        }
    }

    @Test func aFloodOfUnknownSecretsDoesNotEvictTheValidTokens() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            // A lifetime longer than the flood takes, so only eviction could drop the entry.
            let tokens = TokenStore(pool: pool, cacheLifetime: .seconds(600))
            let (_, secret) = try await tokens.create(NewToken(name: "worker", role: .admin), createdBy: "t")
            #expect(try await tokens.authenticate(secret: secret) != nil)
            for index in 0..<(TokenStore.invalidCacheLimit * 3) {
                #expect(try await tokens.authenticate(secret: "bt_unknown\(index)") == nil)
            }
            let counts = tokens.cachedCounts
            #expect(counts.valid == 1)
            #expect(counts.invalid <= TokenStore.invalidCacheLimit)
            // Still answered from the cache: revoking it in the database alone is not seen yet.
            try await pool.query("UPDATE api_tokens SET revoked_at = now()")
            #expect(try await tokens.authenticate(secret: secret) != nil)
        }
    }
}
