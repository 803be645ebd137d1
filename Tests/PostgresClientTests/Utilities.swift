import BatonTestSupport
import Foundation
import PostgresClient
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test when a test cluster is configured (always under CI, where a missing
    /// cluster then fails the test rather than skipping it).
    static var requiresDatabase: Self {
        .enabled(if: TestDatabase.isEnabled, "needs BATON_TEST_DATABASE_URL (run scripts/test.sh)")
    }
}

/// Runs `body` with a pool on a fresh, empty database.
func withPool<Result>(
    size: Int = 4,
    acquireTimeout: Duration = .seconds(5),
    _ body: (ConnectionPool, String) async throws -> Result
) async throws -> Result {
    try await TestDatabase.withPool(size: size, acquireTimeout: acquireTimeout, migrated: false, body)
}

/// Terminates a server process from another connection, as an administrator or a crash would.
func terminateBackend(_ pid: Int32, url: String) async throws {
    let admin = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url))
    try await admin.query("SELECT pg_terminate_backend($1)", [pid])
    await admin.close()
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(
    timeout: Duration = .seconds(10),
    _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
