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

    /// Every migration file compiled into this build, in version order. A landed file in `sql/`
    /// is never edited, so a new migration is a new `sql/NNNN_name.sql` with a
    /// `sql/NNNN_name.swift` exposing it, added here and to `migrationFiles` in Package.swift.
    public static let migrationFiles: [(name: String, contents: [UInt8])] =
        BatonMigrations.files + [BatonMigrations.slaHolds, BatonMigrations.teamStats]

    /// Every migration compiled into this build, in version order.
    public static let migrations: [Migration] = migrationFiles.compactMap {
        Migration(fileName: $0.name, contents: $0.contents)
    }

    public let pool: ConnectionPool
    public let migrator: Migrator
    /// Teams by slug, briefly cached for the hot paths.
    public let teamDirectory = TeamDirectory()
    /// Active SLA policies and region calendars, cached for a moment.
    public let slaCatalog = SLACatalog()
    private let logger: Logger

    public init(pool: ConnectionPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
        self.migrator = Migrator(migrations: Self.migrations, logger: logger)
    }

    /// Applies pending migrations (or lists them with `dryRun`).
    @discardableResult
    public func migrate(dryRun: Bool = false) async throws -> [Migration] {
        try await migrator.migrate(pool, dryRun: dryRun)
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
        let server = try await pool.query("SELECT current_setting('server_version') AS version")
        var regions = 0
        var teams = 0
        if migrations.currentVersion >= 1 {
            let counts = try await pool.query(
                "SELECT (SELECT count(*) FROM regions) AS regions, (SELECT count(*) FROM teams) AS teams"
            )
            regions = try counts.first?.decode(Int.self, "regions") ?? 0
            teams = try counts.first?.decode(Int.self, "teams") ?? 0
        }
        return Status(
            batonVersion: BatonVersion.current,
            serverVersion: try server.first?.decode(String.self, "version") ?? "unknown",
            schemaVersion: migrations.currentVersion,
            latestVersion: Self.migrations.last?.version ?? 0,
            pendingMigrations: migrations.pending.map(\.fileName),
            changedMigrations: migrations.changed.map(\.fileName),
            regions: regions,
            teams: teams
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
