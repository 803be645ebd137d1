import Foundation
public import Logging
public import PostgresClient

/// Where Baton's database is: a server named by URL, or the embedded cluster under the data
/// directory. `baton` and `batonctl` resolve it the same way: flag, then
/// `BATON_DATABASE_URL`, then the embedded cluster.
public enum DatabaseTarget: Sendable {
    /// A server by URL; `pooler` says what sits in between, `direct` reaches the server itself
    /// (for `LISTEN` and migrations) when the URL goes through a pooler.
    case url(String, pooler: DatabasePooler = .none, direct: String? = nil)
    case embedded(dataDirectory: String)

    public init(url: String?, dataDirectory: String, pooler: DatabasePooler = .none, directURL: String? = nil) {
        if let url, !url.isEmpty {
            self = .url(url, pooler: pooler, direct: directURL.flatMap { $0.isEmpty ? nil : $0 })
        } else {
            self = .embedded(dataDirectory: dataDirectory)
        }
    }

    /// The embedded cluster's own directory inside Baton's data directory.
    public static func clusterDirectory(in dataDirectory: String) -> String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("pg").standardizedFileURL.path
    }

    /// Opens the target: starts the embedded cluster when needed and returns a session whose
    /// ``DatabaseSession/close()`` stops what it started.
    public func open(
        poolConfiguration: ConnectionPool.Configuration,
        standby: StandbySettings? = nil,
        logger: Logger
    ) async throws -> DatabaseSession {
        let standby = try standby.map { settings in
            Standby(
                pool: ConnectionPool(try PostgresConfiguration(settings.url), configuration: poolConfiguration, logger: logger),
                maximumLag: settings.maximumLag
            )
        }
        switch self {
        case .url(let url, let pooler, let direct):
            var configuration = try PostgresConfiguration(url)
            configuration.transactionPooler = pooler == .transaction
            // The direct connection keeps its session: it LISTENs and holds the migration lock.
            // Behind a transaction pooler the main URL cannot stand in for it.
            let directConfiguration = try direct.map { try PostgresConfiguration($0) } ?? (pooler == .transaction ? nil : configuration)
            return DatabaseSession(
                database: BatonDatabase(
                    pool: ConnectionPool(configuration, configuration: poolConfiguration, logger: logger),
                    direct: pooler == .transaction ? directConfiguration : nil,
                    standby: standby,
                    logger: logger
                ),
                connectionConfiguration: configuration,
                directConfiguration: directConfiguration,
                embedded: nil,
                running: nil
            )
        case .embedded(let dataDirectory):
            let embedded = EmbeddedPostgres(
                options: .init(dataDirectory: Self.clusterDirectory(in: dataDirectory)),
                logger: logger
            )
            let running = try await embedded.start()
            let configuration = try PostgresConfiguration(running.connectionString)
            return DatabaseSession(
                database: BatonDatabase(
                    pool: ConnectionPool(configuration, configuration: poolConfiguration, logger: logger),
                    standby: standby,
                    logger: logger
                ),
                connectionConfiguration: configuration,
                directConfiguration: configuration,
                embedded: embedded,
                running: running
            )
        }
    }
}

/// A streaming-replication standby for stale-tolerant reads (`--read-database-url`).
public struct StandbySettings: Sendable {
    public var url: String
    /// Past this replay lag, reads go to the primary (`--max-replica-lag`).
    public var maximumLag: Duration

    public init(url: String, maximumLag: Duration) {
        self.url = url
        self.maximumLag = maximumLag
    }
}

/// What sits between Baton and PostgreSQL (`--database-pooler`).
public enum DatabasePooler: String, Sendable, CaseIterable {
    /// Nothing, or a pooler that keeps a server session per client (PgBouncer's session mode).
    case none
    /// A pooler that lends a server session for one transaction at a time.
    case transaction
}

/// An open database: the pool, and the embedded cluster if this process started one.
public struct DatabaseSession: Sendable {
    public let database: BatonDatabase
    public let connectionConfiguration: PostgresConfiguration
    /// The server itself, past any pooler: for `LISTEN`, which no transaction pooler carries.
    /// `nil` behind a transaction pooler when no direct URL was given.
    public let directConfiguration: PostgresConfiguration?
    let embedded: EmbeddedPostgres?
    let running: EmbeddedPostgres.Running?

    /// Whether this process started the embedded cluster (and so stops it on close).
    public var startedEmbeddedCluster: Bool { running?.startedHere ?? false }

    /// Closes the pool and stops the embedded cluster if this process started it.
    public func close(timeout: Duration = .seconds(10)) async {
        await database.pool.close(timeout: timeout)
        await database.standby?.pool.close(timeout: timeout)
        if let embedded, let running {
            do {
                try await embedded.stop(running)
            } catch {
                Logger(label: "baton").error("could not stop the embedded PostgreSQL cluster", metadata: ["error": "\(error)"])
            }
        }
    }
}
