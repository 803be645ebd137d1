import Foundation
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct ErrorTests {
    @Test func uniqueAndForeignKeyViolationsCarryTheirDetails() async throws {
        try await withPool { pool, _ in
            try await pool.query("CREATE TABLE parents (id int PRIMARY KEY)")
            try await pool.query("CREATE TABLE children (id int PRIMARY KEY, parent int REFERENCES parents(id))")
            try await pool.query("INSERT INTO parents VALUES (1)")
            let unique = try await #require(throws: PostgresError.self) {
                try await pool.query("INSERT INTO parents VALUES ($1)", [1])
            }
            #expect(unique.isUniqueViolation)
            #expect(unique.sqlState == "23505")
            #expect(unique.constraint == "parents_pkey")
            #expect(unique.table == "parents")
            #expect(unique.detail?.contains("(id)=(1)") == true)
            let foreign = try await #require(throws: PostgresError.self) {
                try await pool.query("INSERT INTO children VALUES (1, $1)", [99])
            }
            #expect(foreign.isForeignKeyViolation)
            #expect(foreign.constraint == "children_parent_fkey")
        }
    }

    @Test func syntaxErrorsHaveSQLStateButTheDescriptionHoldsNoSQL() async throws {
        try await withPool { pool, _ in
            let error = try await #require(throws: PostgresError.self) {
                try await pool.query("SELEC secret_column FROM nowhere")
            }
            #expect(error.sqlState == "42601")
            #expect(error.code == .server)
            #expect(!error.description.contains("secret_column FROM nowhere"))
        }
    }

    @Test func serializationFailuresAreDetectedAndRetried() async throws {
        try await withPool(size: 4) { pool, _ in
            try await pool.query("CREATE TABLE counters (id int PRIMARY KEY, value int NOT NULL)")
            try await pool.query("INSERT INTO counters VALUES (1, 0)")
            // Two serializable transactions read then write the same row: one must fail.
            let first = try await PostgresConnection.connect(configuration: pool.connectionConfiguration)
            let second = try await PostgresConnection.connect(configuration: pool.connectionConfiguration)
            try await first.simpleQuery("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try await second.simpleQuery("BEGIN ISOLATION LEVEL SERIALIZABLE")
            try await first.query("SELECT value FROM counters WHERE id = 1")
            try await second.query("SELECT value FROM counters WHERE id = 1")
            try await first.query("UPDATE counters SET value = value + 1 WHERE id = 1")
            try await first.simpleQuery("COMMIT")
            let error = try await #require(throws: PostgresError.self) {
                try await second.query("UPDATE counters SET value = value + 1 WHERE id = 1")
            }
            #expect(error.isSerializationFailure)
            #expect(error.isRetryable)
            await first.close()
            await second.close()

            // The retrying helper turns the same race into increments that all land.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await pool.retryingTransaction(isolation: .serializable, maxAttempts: 50) { tx in
                            let row = try #require(try await tx.query("SELECT value FROM counters WHERE id = 1").first)
                            let value = try row.decode(Int.self, "value")
                            try await tx.query("UPDATE counters SET value = $1 WHERE id = 1", [value + 1])
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = try #require(try await pool.query("SELECT value FROM counters WHERE id = 1").first)
            #expect(try total.decode(Int.self, "value") == 9)
        }
    }

    @Test func deadlocksAreDetected() async throws {
        try await withPool(size: 4) { pool, _ in
            try await pool.query("CREATE TABLE accounts (id int PRIMARY KEY, balance int)")
            try await pool.query("INSERT INTO accounts VALUES (1, 0), (2, 0)")
            let first = try await PostgresConnection.connect(configuration: pool.connectionConfiguration)
            let second = try await PostgresConnection.connect(configuration: pool.connectionConfiguration)
            try await first.simpleQuery("BEGIN; SET LOCAL deadlock_timeout = '50ms'")
            try await second.simpleQuery("BEGIN; SET LOCAL deadlock_timeout = '50ms'")
            try await first.query("UPDATE accounts SET balance = 1 WHERE id = 1")
            try await second.query("UPDATE accounts SET balance = 1 WHERE id = 2")
            let a = Task { try await first.query("UPDATE accounts SET balance = 2 WHERE id = 2") }
            let b = Task { try await second.query("UPDATE accounts SET balance = 2 WHERE id = 1") }
            let outcomes = [await a.result, await b.result]
            let deadlocks = outcomes.compactMap { outcome -> PostgresError? in
                if case .failure(let error as PostgresError) = outcome, error.isDeadlock { return error }
                return nil
            }
            #expect(deadlocks.count == 1)
            _ = try? await first.simpleQuery("ROLLBACK")
            _ = try? await second.simpleQuery("ROLLBACK")
            await first.close()
            await second.close()
        }
    }

    @Test func badURLsRefusedConnectionsAndUnknownRolesAreClear() async throws {
        let malformed = #expect(throws: PostgresError.self) { try PostgresConfiguration("postgres://host:notaport/x?foo") }
        #expect(malformed?.code == .invalidConfiguration)
        #expect(malformed?.message.hasPrefix("invalid database URL") == true)

        let refused = try PostgresConfiguration("postgres://postgres@127.0.0.1:1/postgres")
        let refusedError = try await #require(throws: PostgresError.self) {
            try await PostgresConnection.connect(configuration: refused)
        }
        #expect(refusedError.code == .connectionFailed)
        #expect(refusedError.isUnavailable)

        try await withPool { _, url in
            var components = try #require(URLComponents(string: url))
            components.user = "no_such_role"
            let unknown = try PostgresConfiguration(components.string!)
            let authError = try await #require(throws: PostgresError.self) {
                try await PostgresConnection.connect(configuration: unknown)
            }
            #expect(authError.code == .authenticationFailed)
            #expect(!authError.description.contains("postgres://"))
        }
    }
}
