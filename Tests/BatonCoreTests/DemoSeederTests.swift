import BatonCore
import BatonTestSupport
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct DemoSeederTests {
    @Test func theDemoHasRegionsTeamsMembersAndTasksInEveryKindOfState() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 4) { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            #expect(try await DemoSeeder(database: database).seedIfEmpty())
            #expect(try await DemoSeeder(database: database).seedIfEmpty() == false, "a seeded database is left alone")
            let row = try #require(
                try await pool.query(
                    """
                    SELECT (SELECT count(*) FROM regions) AS regions, (SELECT count(*) FROM teams) AS teams,
                           (SELECT count(*) FROM members) AS members, (SELECT count(*) FROM tasks) AS tasks,
                           (SELECT count(DISTINCT state) FROM tasks) AS states,
                           (SELECT count(*) FROM tasks WHERE state = 'dead') AS dead,
                           (SELECT count(*) FROM tasks WHERE handed_off_from IS NOT NULL) AS handoffs
                    """
                ).first
            )
            #expect(try row.decode(Int.self, "regions") == 2)
            #expect(try row.decode(Int.self, "teams") == 10)
            #expect(try row.decode(Int.self, "members") == 6)
            #expect(try row.decode(Int.self, "tasks") >= 240)
            #expect(try row.decode(Int.self, "states") >= 5)
            #expect(try row.decode(Int.self, "dead") > 0)
            #expect(try row.decode(Int.self, "handoffs") == 6)
        }
    }
}
