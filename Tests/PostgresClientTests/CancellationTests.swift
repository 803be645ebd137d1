import Foundation
import PostgresClient
import Testing

/// A statement ends on the server when the work it was for is cancelled, whether by Swift task
/// cancellation or by a ``CancellationSignal`` fired from outside (a client that hung up), and
/// its connection goes back to the pool at once, closed rather than reused.
@Suite(.requiresDatabase) struct CancellationTests {
    /// Statements of this test's pool still running `pg_sleep` on the server.
    static func sleepingStatements(url: String) async throws -> Int {
        let observer = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url, applicationName: "observer"))
        let count =
            try await observer.query(
                """
                SELECT count(*) AS n FROM pg_stat_activity
                WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep%'
                """
            ).first?.decode(Int.self, "n") ?? 0
        await observer.close()
        return count
    }

    /// Whether, within `timeout`, exactly `count` statements are sleeping.
    static func eventuallySleeping(_ count: Int, url: String, within timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await sleepingStatements(url: url) == count { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await sleepingStatements(url: url) == count
    }

    @Test func cancellingTheTaskCancelsItsStatementOnTheServer() async throws {
        try await withPool(size: 1) { pool, url in
            let sleeper = Task { try await pool.query("SELECT pg_sleep(30)") }
            #expect(try await Self.eventuallySleeping(1, url: url, within: .seconds(5)))
            let cancelled = ContinuousClock.now
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            #expect(ContinuousClock.now - cancelled < .seconds(2))
            #expect(try await Self.eventuallySleeping(0, url: url, within: .seconds(1)))
            let statistics = await pool.statistics()
            #expect(statistics.inUse == 0)
            #expect(statistics.open == 0, "a connection that was sent a cancel request is closed, not reused")
            // The one slot is free again.
            let one = try await pool.query("SELECT 1 AS one").first?.decode(Int.self, "one")
            #expect(one == 1)
        }
    }

    @Test func aSignalFiredFromOutsideCancelsTheStatementsStartedUnderIt() async throws {
        try await withPool(size: 2) { pool, url in
            let signal = CancellationSignal()
            let sleeper = Task {
                try await CancellationSignal.$current.withValue(signal) {
                    try await pool.transaction { tx in
                        try await tx.query("CREATE TABLE written (id int)")
                        try await tx.query("SELECT pg_sleep(30)")
                    }
                }
            }
            #expect(try await Self.eventuallySleeping(1, url: url, within: .seconds(5)))
            signal.cancel()
            await #expect(throws: CancellationError.self) { try await sleeper.value }
            #expect(try await Self.eventuallySleeping(0, url: url, within: .seconds(1)))
            #expect(await pool.statistics().inUse == 0)
            // The transaction's work was rolled back with it.
            let gone = try await pool.query("SELECT to_regclass('written') IS NULL AS gone").first?.decode(Bool.self, "gone")
            #expect(gone == true)
            // Work started under a fired signal does not start at all.
            await #expect(throws: CancellationError.self) {
                try await CancellationSignal.$current.withValue(signal) { try await pool.query("SELECT 1") }
            }
        }
    }

    @Test func aCancelThatComesAfterTheStatementLeavesTheNextOneAlone() async throws {
        try await withPool(size: 1) { pool, _ in
            let signal = CancellationSignal()
            try await CancellationSignal.$current.withValue(signal) { _ = try await pool.query("SELECT 1") }
            signal.cancel()
            // The same (only) connection runs the next statement undisturbed.
            let two = try await pool.query("SELECT pg_sleep(0.2), 2 AS two").first?.decode(Int.self, "two")
            #expect(two == 2)
        }
    }

    @Test func closingThePoolWaitsForBorrowedConnectionsWithoutPolling() async throws {
        try await withPool(size: 2) { pool, _ in
            let borrowed = Task { try await pool.withConnection { try await $0.query("SELECT pg_sleep(0.3)") } }
            #expect(try await eventually(timeout: .seconds(5)) { await pool.statistics().inUse == 1 })
            let started = ContinuousClock.now
            await pool.close(timeout: .seconds(10))
            let waited = ContinuousClock.now - started
            _ = try await borrowed.value
            #expect(waited < .seconds(5), "close returned \(waited) after the connection came back (its timeout is 10 s)")
            #expect(await pool.statistics().open == 0)
        }
    }

    @Test func closingThePoolGivesUpAtItsTimeoutWhenAConnectionNeverComesBack() async throws {
        try await withPool(size: 1) { pool, _ in
            let holder = Task { try await pool.withConnection { _ in try await Task.sleep(for: .seconds(10)) } }
            let borrowed = try await eventually(timeout: .seconds(5)) { await pool.statistics().inUse == 1 }
            #expect(borrowed)
            let closing = ContinuousClock.now
            await pool.close(timeout: .milliseconds(200))
            // Well under the 10 s the connection is held: the close gave up at its timeout.
            #expect(ContinuousClock.now - closing < .seconds(5))
            holder.cancel()
        }
    }
}
