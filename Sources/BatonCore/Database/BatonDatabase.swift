import BatonSQL
import Foundation
public import Logging
public import PostgresClient

/// Baton's database: the connection pool, the migrations this build carries, and the checks
/// that `/readyz` and `batonctl status` report.
public final class BatonDatabase: Sendable {
    /// Whether the server can serve, and if not, why.
    public enum Readiness: Sendable, Equatable {
        case ready(schemaVersion: Int)
        case unavailable(reason: String, schemaVersion: Int?, pending: [String])
    }

    /// Where a database stands, for `batonctl status`.
    public struct Status: Sendable, Codable {
        public var batonVersion: String
        public var serverVersion: String
        public var schemaVersion: Int
        public var latestVersion: Int
        public var pendingMigrations: [String]
        public var changedMigrations: [String]
        public var regions: Int
        public var teams: Int
    }

    /// Every migration compiled into this build, in version order: each `sql/NNNN_name.sql`
    /// file, embedded by the build. A landed file is never edited; a change is a new file.
    public static let migrations: [Migration] = BatonMigrations.files.compactMap {
        Migration(fileName: $0.name, contents: Array($0.sql.utf8))
    }

    public let pool: ConnectionPool
    /// The server past a transaction pooler, for migrations (they hold a session lock); `nil`
    /// when the pool reaches the server itself.
    public let direct: PostgresConfiguration?
    /// A standby for reads that may be a little stale (`--read-database-url`), if any.
    public let standby: Standby?
    public let migrator: Migrator
    /// Teams by slug, briefly cached for the hot paths.
    public let teamDirectory = TeamDirectory()
    /// Active SLA policies and region calendars, cached for a moment.
    public let slaCatalog = SLACatalog()
    /// API tokens, with the authentication cache every request consults.
    public let tokens: TokenStore
    private let logger: Logger

    public init(pool: ConnectionPool, direct: PostgresConfiguration? = nil, standby: Standby? = nil, logger: Logger) {
        self.pool = pool
        self.direct = direct
        self.standby = standby
        self.logger = logger
        self.tokens = TokenStore(pool: pool)
        self.migrator = Migrator(migrations: Self.migrations, logger: logger)
    }

    /// Applies pending migrations (or lists them with `dryRun`).
    @discardableResult
    public func migrate(dryRun: Bool = false) async throws -> [Migration] {
        guard pool.connectionConfiguration.transactionPooler else { return try await migrator.migrate(pool, dryRun: dryRun) }
        guard let direct else { throw Self.needsDirectURL("migrations hold a session lock") }
        // Behind a transaction pooler the migration lock would be held by whichever session
        // the pooler lent, so migrations take a connection of their own to the server.
        let directPool = ConnectionPool(direct, configuration: .init(size: 1, acquireTimeout: .seconds(10)), logger: logger)
        do {
            let applied = try await migrator.migrate(directPool, dryRun: dryRun)
            await directPool.close()
            return applied
        } catch {
            await directPool.close()
            throw error
        }
    }

    /// The error for work that needs the server itself when only a pooler's URL was given.
    public static func needsDirectURL(_ reason: String) -> PostgresError {
        PostgresError(
            code: .invalidConfiguration,
            message: "behind a transaction pooler \(reason): give the server's own URL with --direct-database-url (BATON_DIRECT_DATABASE_URL)"
        )
    }

    /// Whether the database answers within `timeout` and every migration is applied.
    public func readiness(timeout: Duration = .seconds(2)) async -> Readiness {
        do {
            let status = try await withTimeout(timeout) { try await self.migrator.status(self.pool) }
            if status.isCurrent {
                return .ready(schemaVersion: status.currentVersion)
            }
            let reason =
                status.changed.isEmpty
                ? "\(status.pending.count) migration(s) pending" : "migration \(status.changed[0].fileName) has changed"
            return .unavailable(reason: reason, schemaVersion: status.currentVersion, pending: status.pending.map(\.fileName))
        } catch let error as PostgresError {
            logger.debug("readiness check failed", metadata: ["error": "\(error)"])
            return .unavailable(reason: "database unreachable (\(error.code))", schemaVersion: nil, pending: [])
        } catch {
            return .unavailable(reason: "database did not answer within \(timeout)", schemaVersion: nil, pending: [])
        }
    }

    /// Versions, migrations and reference-data counts.
    public func status() async throws -> Status {
        let migrations = try await migrator.status(pool)
        let diagnostics = DiagnosticsStore(pool: pool)
        let counts = migrations.currentVersion >= 1 ? try await diagnostics.referenceDataCounts() : (regions: 0, teams: 0)
        return Status(
            batonVersion: BatonVersion.current,
            serverVersion: try await diagnostics.serverVersion(),
            schemaVersion: migrations.currentVersion,
            latestVersion: Self.migrations.last?.version ?? 0,
            pendingMigrations: migrations.pending.map(\.fileName),
            changedMigrations: migrations.changed.map(\.fileName),
            regions: counts.regions,
            teams: counts.teams
        )
    }

    public var regions: RegionStore { RegionStore(pool: pool) }
    public var teams: TeamStore { TeamStore(pool: pool) }
}

struct TimeoutError: Error {}

/// Runs `body`, giving up with ``TimeoutError`` after `timeout`.
func withTimeout<Result: Sendable>(
    _ timeout: Duration,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
