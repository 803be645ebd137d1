import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test in `scripts/test.sh`'s pass through PgBouncer (`BATON_TEST_POOLER_URL`).
    static var requiresPooler: Self {
        .enabled(if: TestDatabase.poolerURL != nil, "needs BATON_TEST_POOLER_URL (scripts/test.sh's pass through PgBouncer)")
    }
}

/// Baton behind PgBouncer in transaction mode (`default_pool_size = 6` in `scripts/lib.sh`):
/// what `--database-pooler transaction` changes, and what `batonctl` and `baton serve` say when
/// the settings and the path to the database disagree.
@Suite(.requiresPooler, .serialized) struct PoolerTests {
    @Test func transactionsCarryTheirLimitsAndStatementsRunUnnamedOverSharedSessions() async throws {
        try await TestDatabase.withMigratedDatabase { _, url in
            let pooledURL = try #require(TestDatabase.pooledURL(for: url))
            // Without the setting, PgBouncer refuses the session options Baton starts with.
            do {
                let connection = try await PostgresConnection.connect(configuration: try PostgresConfiguration(pooledURL))
                await connection.close()
                Issue.record("PgBouncer took a connection with startup options")
            } catch let error as PostgresError {
                #expect(error.message.contains("unsupported startup parameter"), "\(error)")
            }

            var configuration = try PostgresConfiguration(pooledURL)
            configuration.transactionPooler = true
            let pool = ConnectionPool(
                configuration,
                configuration: .init(size: 12, statementTimeout: .milliseconds(300), lockTimeout: .milliseconds(200))
            )
            do {
                // The limits travel with each transaction, whichever server session it gets.
                let limits = try #require(
                    try await pool.transaction { tx in
                        try await tx.query("SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l").first
                    }
                )
                #expect(try limits.decode(String.self, "s") == "300ms")
                #expect(try limits.decode(String.self, "l") == "200ms")
                do {
                    try await pool.transaction { tx in _ = try await tx.query("SELECT pg_sleep(2)") }
                    Issue.record("a two-second statement outlived a 300 ms statement_timeout")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "57014", "\(error)")
                }

                // Forty-eight transactions from twelve clients over PgBouncer's six server
                // sessions, each running a statement marked prepared: a named statement would
                // be missing on most sessions it lands on.
                let servers = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<48 {
                        group.addTask {
                            try await pool.transaction { tx in
                                _ = try await tx.query("SELECT pg_sleep(0.02)")
                                let row = try await tx.query("SELECT pg_backend_pid() AS pid, $1::int AS i", [index], prepared: true).first
                                #expect(try row?.decode(Int.self, "i") == index)
                                return try #require(try row?.decode(Int.self, "pid"))
                            }
                        }
                    }
                    var servers: Set<Int> = []
                    for try await pid in group { servers.insert(pid) }
                    return servers
                }
                #expect(await pool.statistics().open > 6)
                #expect((1...6).contains(servers.count), "\(servers.count) server sessions")
                await pool.close(timeout: .seconds(1))
            } catch {
                await pool.close(timeout: .seconds(1))
                throw error
            }
        }
    }

    @Test func migrationsAndTheServerNeedTheDirectURL() async throws {
        try await TestDatabase.withEmptyDatabase { url in
            let pooledURL = try #require(TestDatabase.pooledURL(for: url))
            let refused = try CLIEndToEndTests.batonctl(["migrate", "--database-pooler", "transaction"], url: pooledURL)
            #expect(refused.status == 1)
            #expect(refused.error.contains("give the server's own URL with --direct-database-url"), "\(refused.error)")

            let migrated = try CLIEndToEndTests.batonctl(
                ["migrate", "--database-pooler", "transaction", "--direct-database-url", url],
                url: pooledURL
            )
            #expect(migrated.status == 0, "\(migrated.error)")
            let connection = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url))
            let version = try await connection.query("SELECT max(version) AS v FROM schema_migrations").first?.decode(Int.self, "v")
            await connection.close()
            #expect(version == BatonDatabase.migrations.last?.version)

            let serve = Process()
            serve.executableURL = ServeEndToEndTests.binary
            serve.arguments = ["serve", "--database-url", pooledURL, "--database-pooler", "transaction", "--port", "0"]
            let error = Pipe()
            serve.standardError = error
            serve.standardOutput = Pipe()
            try serve.run()
            let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            serve.waitUntilExit()
            #expect(serve.terminationStatus != 0)
            #expect(message.contains("--database-pooler transaction needs --direct-database-url"), "\(message)")
        }
    }

    @Test func doctorSaysWhetherThePoolerSettingMatchesThePath() async throws {
        try await TestDatabase.withMigratedDatabase { pool, url in
            let pooledURL = try #require(TestDatabase.pooledURL(for: url))
            /// The doctor's pooler (or connectivity) row and its advice.
            func doctor(_ arguments: [String], url: String) throws -> (result: String, text: String) {
                let run = try CLIEndToEndTests.batonctl(["doctor"] + arguments, url: url)
                let lines = run.output.split(separator: "\n").map(String.init)
                let row = lines.first { $0.hasPrefix("pooler ") } ?? lines.first { $0.hasPrefix("connectivity ") } ?? ""
                let cells = row.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
                return (cells.count >= 2 ? cells[1] : "", run.output)
            }

            let unset = try doctor([], url: pooledURL)
            #expect(unset.result == "FAILED")
            #expect(unset.text.contains("a pooler stands in between and refuses the session options"), "\(unset.text)")
            #expect(unset.text.contains("set --database-pooler transaction"))

            // PgBouncer keeps its server sessions, which took the database's settings when they
            // started: the settings come first, and the databases without them are others.
            let database = String(try #require(URLComponents(string: url)?.path.dropFirst()))
            try await pool.query("ALTER DATABASE \(unescaped: database) SET statement_timeout = '30s'")
            try await pool.query("ALTER DATABASE \(unescaped: database) SET jit = off")
            let matching = try doctor(["--database-pooler", "transaction", "--direct-database-url", url], url: pooledURL)
            #expect(matching.result == "ok", "\(matching.text)")
            #expect(matching.text.contains("behind a transaction pooler, with --database-pooler transaction"))
            #expect(matching.text.contains("statement_timeout of 30s, without JIT"))
            try await TestDatabase.withEmptyDatabase { bareURL in
                let bare = try #require(TestDatabase.pooledURL(for: bareURL))
                let noTimeout = try doctor(["--database-pooler", "transaction", "--direct-database-url", bareURL], url: bare)
                #expect(noTimeout.result == "WARNING", "\(noTimeout.text)")
                #expect(noTimeout.text.contains("statements outside a transaction run without a statement_timeout"))
            }
            try await TestDatabase.withEmptyDatabase { jitURL in
                let name = String(try #require(URLComponents(string: jitURL)?.path.dropFirst()))
                try await pool.query("ALTER DATABASE \(unescaped: name) SET statement_timeout = '30s'")
                let jit = try doctor(
                    ["--database-pooler", "transaction", "--direct-database-url", jitURL],
                    url: try #require(TestDatabase.pooledURL(for: jitURL))
                )
                #expect(jit.result == "WARNING", "\(jit.text)")
                #expect(jit.text.contains("the sessions may JIT-compile statements"))
                #expect(jit.text.contains("ALTER ROLE baton SET jit = off"))
            }

            let directThroughPooler = try doctor(["--database-pooler", "transaction", "--direct-database-url", pooledURL], url: pooledURL)
            #expect(directThroughPooler.result == "FAILED", "\(directThroughPooler.text)")
            #expect(directThroughPooler.text.contains("--direct-database-url goes through a pooler too"))

            let noPooler = try doctor(["--database-pooler", "transaction", "--direct-database-url", url], url: url)
            #expect(noPooler.result == "WARNING", "\(noPooler.text)")
            #expect(noPooler.text.contains("no pooler stands in between"))

            let direct = try doctor([], url: url)
            #expect(direct.result == "ok", "\(direct.text)")
            #expect(direct.text.contains("connected to PostgreSQL itself"))
        }
    }
}
