import Foundation
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct PoolTests {
    struct Rollback: Error {}

    @Test func transactionCommitsOnReturnAndRollsBackOnThrow() async throws {
        try await withPool { pool, _ in
            try await pool.query("CREATE TABLE notes (body text)")
            try await pool.transaction { tx in
                try await tx.query("INSERT INTO notes VALUES ($1)", ["kept"])
            }
            await #expect(throws: Rollback.self) {
                try await pool.transaction { tx in
                    try await tx.query("INSERT INTO notes VALUES ($1)", ["discarded"])
                    throw Rollback()
                }
            }
            // A statement error inside the transaction rolls back the earlier statements too.
            await #expect(throws: PostgresError.self) {
                try await pool.transaction { tx in
                    try await tx.query("INSERT INTO notes VALUES ($1)", ["also discarded"])
                    try await tx.query("INSERT INTO missing_table VALUES (1)")
                }
            }
            let rows = try await pool.query("SELECT body FROM notes")
            #expect(try rows.map { try $0.decode(String.self, "body") } == ["kept"])
            let stats = await pool.statistics()
            #expect(stats.inUse == 0)
            #expect(stats.idle >= 1)
        }
    }

    /// Pooled sessions never JIT-compile: with generic plans, a statement reading a few rows of
    /// a large table can be costed past `jit_above_cost` and compiled at every execution.
    @Test func pooledSessionsNeverCompileStatementsWithJIT() async throws {
        try await withPool(size: 1) { pool, _ in
            try await pool.withConnection { connection in
                #expect(try await connection.query("SHOW jit").first?.decode(String.self, "jit") == "off")
                for setting in ["jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost"] {
                    try await connection.query("SELECT set_config($1, '0', false)", [setting])
                }
                func compiled() async throws -> Bool {
                    let plan = try #require(
                        try await connection.query("EXPLAIN (ANALYZE, FORMAT JSON) SELECT sum(g) FROM generate_series(1, 10) AS g").first
                    )
                    return try plan.decode(String.self, "QUERY PLAN").contains("\"JIT\"")
                }
                #expect(try await compiled() == false)
                // The check can tell: where the server has JIT (pg_jit_available() answers for
                // the session's own setting), the same statement is compiled once it is on.
                try await connection.query("SET jit = on")
                let available = try #require(try await connection.query("SELECT pg_jit_available() AS on").first?.decode(Bool.self, "on"))
                #expect(try await compiled() == available)
                try await connection.query("RESET ALL")
            }
        }
    }

    @Test func acquireTimesOutWhenEveryConnectionIsBusy() async throws {
        try await withPool(size: 1, acquireTimeout: .milliseconds(200)) { pool, _ in
            async let holder: Void = pool.withConnection { connection in
                try await connection.query("SELECT pg_sleep(5)")
            }
            // The holder must have the only connection before the clock starts (a fixed sleep
            // is not enough on a loaded machine).
            #expect(try await eventually(timeout: .seconds(5)) { await pool.statistics().inUse == 1 })
            let started = ContinuousClock.now
            let error = try await #require(throws: PostgresError.self) {
                try await pool.query("SELECT 1")
            }
            #expect(error.code == .poolTimeout)
            #expect(error.isUnavailable)
            // The 200 ms timeout, not the five-second holder (loose for a loaded machine).
            #expect(ContinuousClock.now - started < .seconds(3))
            try await holder
            // Once the holder is done, the pool serves again.
            #expect(try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
        }
    }

    @Test func aTerminatedIdleConnectionIsReplacedTransparently() async throws {
        try await withPool(size: 1) { pool, url in
            let pid = try #require(try await pool.query("SELECT pg_backend_pid() AS pid").first).decode(Int32.self, "pid")
            try await terminateBackend(pid, url: url)
            // Connections idle for a second are checked before reuse (busier ones are not).
            try await Task.sleep(for: .milliseconds(1100))
            let next = try #require(try await pool.query("SELECT pg_backend_pid() AS pid").first).decode(Int32.self, "pid")
            #expect(next != pid)
        }
    }

    @Test func aConnectionLostMidQueryIsReportedAndDiscarded() async throws {
        try await withPool(size: 1) { pool, url in
            let pid = try #require(try await pool.query("SELECT pg_backend_pid() AS pid").first).decode(Int32.self, "pid")
            let sleeping = Task { try await pool.query("SELECT pg_sleep(5)") }
            try await Task.sleep(for: .milliseconds(200))
            try await terminateBackend(pid, url: url)
            let error = try await #require(throws: PostgresError.self) { try await sleeping.value }
            #expect(error.isConnectionLoss)
            #expect(error.isUnavailable)
            #expect(try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
            #expect(await pool.statistics().open == 1)
        }
    }

    @Test func theCooperativePoolStaysFreeWhileEveryConnectionBlocks() async throws {
        let size = 2 * ProcessInfo.processInfo.activeProcessorCount + 2
        try await withPool(size: size) { pool, _ in
            // Warm the pool so every connection exists before the clock starts.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<size { group.addTask { try await pool.query("SELECT pg_sleep(0.05)") } }
                try await group.waitForAll()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<size {
                    group.addTask { try await pool.query("SELECT pg_sleep(6)") }
                }
                // Wait until every connection is inside pg_sleep.
                let allBusy = try await eventually(timeout: .seconds(3)) { await pool.statistics().inUse == size }
                #expect(allBusy)
                // While all connections sleep, plain Swift tasks must keep running. If libpq
                // calls blocked cooperative threads (there are only as many as cores), these
                // could not run until the sleeps ended.
                let ticker = Task {
                    var ticks = 0
                    for _ in 0..<20 {
                        ticks += 1
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    return ticks
                }
                let ticks = try await ticker.value
                #expect(ticks == 20)
                #expect(await pool.statistics().inUse == size, "the ticker finished while every connection was still blocked")
                try await group.waitForAll()
            }
        }
    }

    @Test func brokenServerMeansFastFailuresThenRecovery() async throws {
        let pool = ConnectionPool(
            try PostgresConfiguration("postgres://postgres@127.0.0.1:1/postgres", connectTimeoutSeconds: 1),
            configuration: .init(size: 2, acquireTimeout: .seconds(1), maximumBackoff: .milliseconds(300))
        )
        let first = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(first.code == .connectionFailed)
        // Within the backoff window the pool answers at once with the same error: well inside
        // the one-second acquire timeout (the bound leaves room for a loaded machine).
        let started = ContinuousClock.now
        let second = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(second.code == .connectionFailed)
        #expect(ContinuousClock.now - started < .milliseconds(500))
        #expect(await pool.statistics().open == 0)
        await pool.close()
        let closed = try await #require(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(closed.code == .poolClosed)
    }
}
