import BatonCore
public import Foundation
public import Logging
public import PostgresClient

/// Databases for tests: each test gets a database of its own in the cluster that
/// `scripts/test.sh` started (`BATON_TEST_DATABASE_URL`), so tests run in parallel.
///
/// Without that variable the database tests are skipped locally; under `CI=true` they run and
/// fail with a clear message instead, so CI can never pass by skipping them.
public enum TestDatabase {
    /// The maintenance URL of the test cluster.
    public static let serverURL: String? = ProcessInfo.processInfo.environment["BATON_TEST_DATABASE_URL"]

    /// A PgBouncer in transaction mode in front of the test cluster, set by `scripts/test.sh`
    /// for its pass through a pooler (`postgres://…:PORT/postgres`; any database name works).
    public static let poolerURL: String? = ProcessInfo.processInfo.environment["BATON_TEST_POOLER_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }

    /// The way to `database`'s URL through the pooler, when the run has one.
    public static func pooledURL(for url: String) -> String? {
        sameDatabase(as: url, on: poolerURL)
    }

    /// `url`'s database on the server `server` names (nil without one).
    private static func sameDatabase(as url: String, on server: String?) -> String? {
        guard let server, var components = URLComponents(string: server), let database = URLComponents(string: url) else {
            return nil
        }
        components.path = database.path
        return components.string
    }

    /// A streaming-replication standby of the test cluster, set by `scripts/test.sh`
    /// (`postgres://…:PORT/postgres`), and the script that stops and starts it (`ctl.sh stop`).
    public static let standbyURL: String? = ProcessInfo.processInfo.environment["BATON_TEST_STANDBY_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    public static let standbyControl: String? = ProcessInfo.processInfo.environment["BATON_TEST_STANDBY_CTL"]

    /// `database`'s URL on the standby, when the run has one.
    public static func standbyURL(for url: String) -> String? {
        sameDatabase(as: url, on: standbyURL)
    }

    /// Whether database tests should run: the cluster is configured, or we are in CI (where a
    /// missing cluster must fail, not skip).
    public static var isEnabled: Bool {
        serverURL != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// The migrations this build carries.
    public static var migrations: [Migration] { BatonDatabase.migrations }

    /// A connection string for `database` in the test cluster.
    public static func url(database: String) throws -> String {
        guard let serverURL else {
            throw PostgresError(
                code: .invalidConfiguration,
                message: "BATON_TEST_DATABASE_URL is not set; run the tests with scripts/test.sh"
            )
        }
        guard var components = URLComponents(string: serverURL) else {
            throw PostgresError(code: .invalidConfiguration, message: "BATON_TEST_DATABASE_URL is not a URL")
        }
        components.path = "/\(database)"
        return components.string!
    }

    /// Creates an empty database, runs `body` with its URL and drops it afterwards.
    public static func withEmptyDatabase<Result>(_ body: (String) async throws -> Result) async throws -> Result {
        let name = "t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let admin = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url(database: "postgres")))
        try await admin.simpleQuery("CREATE DATABASE \(name)")
        do {
            let result = try await body(try url(database: name))
            try await admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
            return result
        } catch {
            _ = try? await admin.simpleQuery("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            await admin.close()
            throw error
        }
    }

    /// Creates a database with every migration applied, hands a pool on it to `body`, then
    /// closes the pool and drops the database.
    public static func withMigratedDatabase<Result>(
        poolSize: Int = 4,
        acquireTimeout: Duration = .seconds(5),
        _ body: (ConnectionPool, String) async throws -> Result
    ) async throws -> Result {
        try await withPool(size: poolSize, acquireTimeout: acquireTimeout, migrated: true, body)
    }

    /// Creates a database (migrated or empty), hands a pool on it to `body`, then closes the
    /// pool and drops the database.
    public static func withPool<Result>(
        size: Int = 4,
        acquireTimeout: Duration = .seconds(5),
        maximumBackoff: Duration = .milliseconds(200),
        migrated: Bool,
        _ body: (ConnectionPool, String) async throws -> Result
    ) async throws -> Result {
        try await withEmptyDatabase { url in
            let pool = ConnectionPool(
                try PostgresConfiguration(url),
                configuration: .init(size: size, acquireTimeout: acquireTimeout, maximumBackoff: maximumBackoff)
            )
            do {
                if migrated { try await Migrator(migrations: migrations, logger: quietLogger).migrate(pool) }
                let result = try await body(pool, url)
                await pool.close(timeout: .seconds(1))
                return result
            } catch {
                await pool.close(timeout: .seconds(1))
                throw error
            }
        }
    }

    /// A logger that only reports problems, to keep test output readable.
    public static var quietLogger: Logger {
        var logger = Logger(label: "baton.test")
        logger.logLevel = .warning
        return logger
    }
}
