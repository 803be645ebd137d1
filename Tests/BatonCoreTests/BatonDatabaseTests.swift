import BatonCore
import BatonTestSupport
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct BatonDatabaseTests {
    @Test func statusReportsVersionsPendingMigrationsAndCounts() async throws {
        try await TestDatabase.withEmptyDatabase { url in
            let pool = ConnectionPool(try PostgresConfiguration(url))
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let before = try await database.status()
            #expect(before.schemaVersion == 0)
            #expect(before.pendingMigrations == BatonDatabase.migrations.map(\.fileName))
            #expect(before.serverVersion.hasPrefix("1"))
            if case .unavailable(let reason, _, let pending) = await database.readiness() {
                #expect(reason.contains("pending"))
                #expect(pending.count == BatonDatabase.migrations.count)
            } else {
                Issue.record("an unmigrated database must not be ready")
            }

            try await database.migrate()
            try await pool.query("INSERT INTO regions (code, name) VALUES ('emea', 'EMEA'), ('apac', 'APAC')")
            try await pool.query("INSERT INTO teams (slug, department, region, name) VALUES ('sales-emea', 'sales', 'emea', 'Sales')")
            let after = try await database.status()
            #expect(after.schemaVersion == after.latestVersion)
            #expect(after.pendingMigrations.isEmpty)
            #expect(after.regions == 2)
            #expect(after.teams == 1)
            #expect(await database.readiness() == .ready(schemaVersion: after.latestVersion))
            await pool.close()
        }
    }

    @Test func readinessSaysUnreachableWhenTheDatabaseIsDown() async throws {
        let pool = ConnectionPool(
            try PostgresConfiguration("postgres://postgres@127.0.0.1:1/none", connectTimeoutSeconds: 1),
            configuration: .init(size: 1, acquireTimeout: .milliseconds(500))
        )
        let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
        guard case .unavailable(let reason, nil, []) = await database.readiness() else {
            Issue.record("a database that cannot be reached is not ready")
            return
        }
        #expect(reason.hasPrefix("database unreachable"))
        await pool.close()
    }

    @Test func referenceDataRulesAreEnforcedByTheSchema() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            try await pool.query("INSERT INTO regions (code, name) VALUES ('emea', 'EMEA')")
            let badDepartment = try await #require(throws: PostgresError.self) {
                try await pool.query("INSERT INTO teams (slug, department, region, name) VALUES ('hr-emea', 'hr', 'emea', 'HR')")
            }
            #expect(badDepartment.isForeignKeyViolation)
            let badSlug = try await #require(throws: PostgresError.self) {
                try await pool.query(
                    "INSERT INTO teams (slug, department, region, name) VALUES ('Sales EMEA', 'sales', 'emea', 'Sales')"
                )
            }
            #expect(badSlug.isCheckViolation)
            let duplicateRegion = try await #require(throws: PostgresError.self) {
                try await pool.query("INSERT INTO regions (code, name) VALUES ('emea', 'again')")
            }
            #expect(duplicateRegion.isUniqueViolation)
        }
    }

    /// The limits on what a task is created with live in domains (0022), checked where a value
    /// is written; a state change does not re-read them, and an insert still cannot break them.
    @Test func taskLimitsInDomainsRefuseBadValuesAsChecksDid() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            try await pool.query("INSERT INTO regions (code, name) VALUES ('emea', 'EMEA')")
            try await pool.query("INSERT INTO teams (slug, department, region, name) VALUES ('sales-emea', 'sales', 'emea', 'Sales')")
            func insert(kind: String = "k", title: String = "t", payload: String = "{}", maxAttempts: Int = 3, backoff: Int? = nil) async throws {
                try await pool.query(
                    """
                    INSERT INTO tasks (id, chain_id, team, region, kind, title, payload, max_attempts, backoff_base_seconds)
                    SELECT n, n, 'sales-emea', 'emea', \(kind), \(title), \(payload)::jsonb, \(maxAttempts), \(backoff)
                    FROM nextval('tasks_id_seq') AS n
                    """
                )
            }
            try await insert()
            let refused: [(String, () async throws -> Void)] = [
                ("empty kind", { try await insert(kind: "") }),
                ("long title", { try await insert(title: String(repeating: "x", count: 501)) }),
                ("array payload", { try await insert(payload: "[]") }),
                ("no attempts", { try await insert(maxAttempts: 0) }),
                ("backoff of a day and a second", { try await insert(backoff: 86401) }),
            ]
            for (label, write) in refused {
                let error = try await #require(throws: PostgresError.self, "\(label)") { try await write() }
                #expect(error.isCheckViolation, "\(label): \(error)")
            }
            let badSource = try await #require(throws: PostgresError.self) {
                try await pool.query(
                    "INSERT INTO events (type, source, entity_type, entity_id) VALUES ('task.created', 'mail', 'task', '1')"
                )
            }
            #expect(badSource.isCheckViolation)
            #expect(try await pool.query("SELECT count(*) AS n FROM tasks").first?.decode(Int.self, "n") == 1)
        }
    }
}
