public import ArgumentParser
public import BatonCore
public import PostgresClient

/// Where the database is and how long its statements may take: the options `baton serve` and
/// every `batonctl` command share, declared once. Flags win over `BATON_*` environment
/// variables, which win over the defaults.
public struct DatabaseOptions: ParsableArguments, Sendable {
    @Option(help: "PostgreSQL URL or keyword string. [env: BATON_DATABASE_URL] (default: the embedded cluster)")
    public var databaseURL: String?

    @Option(help: "Baton's data directory, for the embedded cluster and local state. [env: BATON_DATA_DIR] (default: .baton)")
    public var dataDir: String?

    @Option(
        help:
            "What sits between Baton and PostgreSQL: none, or transaction for a pooler that lends a server session per transaction (PgBouncer's pool_mode = transaction). [env: BATON_DATABASE_POOLER] (default: none)"
    )
    public var databasePooler: String?

    @Option(
        help:
            "PostgreSQL itself, past the pooler: for LISTEN and migrations, which need a session of their own. [env: BATON_DIRECT_DATABASE_URL] (default: the database URL; required with --database-pooler transaction)"
    )
    public var directDatabaseURL: String?

    @Option(
        help:
            "Seconds a statement may run before it is cancelled (503 timeout); 0 for no limit. Migrations are not limited. [env: BATON_STATEMENT_TIMEOUT] (default: 30)"
    )
    public var statementTimeout: Double?

    @Option(help: "Seconds a statement may wait for a lock; 0 for no limit. [env: BATON_LOCK_TIMEOUT] (default: 5)")
    public var lockTimeout: Double?

    public init() {}

    /// A setting that cannot be used, with the reason.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// The database these options name.
    public func target(environment: [String: String]) throws -> DatabaseTarget {
        let poolerText = Self.value(databasePooler, "BATON_DATABASE_POOLER", environment) ?? "none"
        guard let pooler = DatabasePooler(rawValue: poolerText.lowercased()) else {
            throw Invalid(description: "BATON_DATABASE_POOLER (--database-pooler) must be none or transaction, not '\(poolerText)'")
        }
        let url = Self.value(databaseURL, "BATON_DATABASE_URL", environment)
        if pooler == .transaction && url == nil {
            throw Invalid(description: "--database-pooler transaction needs --database-url (BATON_DATABASE_URL): the embedded cluster has no pooler")
        }
        return DatabaseTarget(
            url: url,
            dataDirectory: Self.value(dataDir, "BATON_DATA_DIR", environment) ?? ".baton",
            pooler: pooler,
            directURL: Self.value(directDatabaseURL, "BATON_DIRECT_DATABASE_URL", environment)
        )
    }

    /// The data directory these options name.
    public func dataDirectory(environment: [String: String]) -> String {
        Self.value(dataDir, "BATON_DATA_DIR", environment) ?? ".baton"
    }

    /// `configuration` with these options' statement and lock timeouts.
    public func bounding(_ configuration: ConnectionPool.Configuration, environment: [String: String]) throws -> ConnectionPool.Configuration {
        var configuration = configuration
        configuration.statementTimeout = try Self.seconds(statementTimeout, "BATON_STATEMENT_TIMEOUT", default: 30, environment)
        configuration.lockTimeout = try Self.seconds(lockTimeout, "BATON_LOCK_TIMEOUT", default: 5, environment)
        return configuration
    }

    private static func value(_ flag: String?, _ name: String, _ environment: [String: String]) -> String? {
        flag ?? environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Seconds from the flag, the environment or the default, as a duration; 0 is no limit.
    private static func seconds(
        _ flag: Double?,
        _ name: String,
        default fallback: Double,
        _ environment: [String: String]
    ) throws
        -> Duration?
    {
        var seconds = fallback
        if let flag {
            seconds = flag
        } else if let text = environment[name], !text.isEmpty {
            guard let parsed = Double(text) else { throw Invalid(description: "\(name) must be a number of seconds, not '\(text)'") }
            seconds = parsed
        }
        guard (0...86400).contains(seconds) else { throw Invalid(description: "\(name) must be between 0 and 86400 seconds") }
        return seconds == 0 ? nil : .milliseconds(Int((seconds * 1000).rounded()))
    }
}
