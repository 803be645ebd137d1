import Crypto
public import Foundation
public import Logging

/// One numbered migration, `NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, hex encoded.
    public let checksum: String

    /// The file name it came from.
    public var fileName: String { "\(String(format: "%04d", version))_\(name).sql" }

    /// Parses `NNNN_name.sql`; returns `nil` for any other file name.
    public init?(fileName: String, contents: [UInt8]) {
        guard fileName.hasSuffix(".sql") else { return nil }
        let stem = fileName.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0 else {
            return nil
        }
        self.version = version
        self.name = String(stem[stem.index(after: underscore)...])
        self.sql = String(decoding: contents, as: UTF8.self)
        self.checksum = SHA256.hash(data: contents).map { String(format: "%02x", $0) }.joined()
    }
}

/// A migration recorded in `schema_migrations`.
public struct AppliedMigration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let checksum: String
    public let appliedAt: Date
}

/// Where a database stands against the migrations this binary carries.
public struct MigrationStatus: Sendable {
    public let applied: [AppliedMigration]
    public let pending: [Migration]
    /// Applied migrations whose file has changed since (by version).
    public let changed: [Migration]
    /// Versions applied in the database that this binary does not know (a newer Baton ran).
    public let unknown: [Int]

    /// The highest applied version, 0 for an empty database.
    public var currentVersion: Int { applied.map(\.version).max() ?? 0 }
    /// Every migration this binary knows is applied and unchanged.
    public var isCurrent: Bool { pending.isEmpty && changed.isEmpty }
}

/// Applies `sql/NNNN_name.sql` migrations in order, each in its own transaction, under an
/// advisory lock so that servers starting together cannot race. Refuses to run when a
/// migration that was applied has since changed.
public struct Migrator: Sendable {
    /// The advisory lock key that serialises migrators across processes.
    static let lockKey: Int64 = 0x6261_746F_6E5F_6D67  // "baton_mg"

    public let migrations: [Migration]
    private let logger: Logger

    public init(migrations: [Migration], logger: Logger = Logger(label: "baton.migrator")) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Reads where the database stands without changing it.
    public func status(_ pool: ConnectionPool) async throws -> MigrationStatus {
        try await pool.withConnection { connection in try await status(on: connection) }
    }

    /// Applies every pending migration; with `dryRun` only reports them. Returns what was
    /// (or would be) applied.
    @discardableResult
    public func migrate(_ pool: ConnectionPool, dryRun: Bool = false) async throws -> [Migration] {
        try await pool.withConnection { connection in
            // Migrations are not bounded like API work: a large table may take long to alter, and
            // a server starting beside another waits for its migrator's lock.
            try await connection.simpleQuery("SET statement_timeout = 0; SET lock_timeout = 0")
            try await connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey])
            do {
                let applied = try await migrateLocked(connection, dryRun: dryRun)
                try await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                try await connection.simpleQuery("RESET statement_timeout; RESET lock_timeout")
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock($1)", [Self.lockKey])
                _ = try? await connection.simpleQuery("RESET statement_timeout; RESET lock_timeout")
                throw error
            }
        }
    }

    private func migrateLocked(_ connection: PostgresConnection, dryRun: Bool) async throws -> [Migration] {
        if !dryRun {
            try await connection.simpleQuery(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """
            )
        }
        let status = try await status(on: connection)
        if let changed = status.changed.first {
            throw PostgresError(
                code: .migration,
                message: "migration \(changed.fileName) has changed since it was applied; "
                    + "restore the original file and add a new migration instead"
            )
        }
        if dryRun { return status.pending }
        for migration in status.pending {
            logger.info("applying migration", metadata: ["migration": "\(migration.fileName)"])
            do {
                try await connection.transaction { connection in
                    try await connection.simpleQuery(migration.sql)
                    try await connection.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [migration.version, migration.name, migration.checksum]
                    )
                }
            } catch let error as PostgresError where error.code == .server {
                throw PostgresError(
                    code: .migration,
                    message: "migration \(migration.fileName) failed: \(error.message)",
                    sqlState: error.sqlState
                )
            }
        }
        return status.pending
    }

    private func status(on connection: PostgresConnection) async throws -> MigrationStatus {
        let table = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        var applied: [AppliedMigration] = []
        if try table.first?.decode(Bool.self, "present") == true {
            let rows = try await connection.query(
                "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
            )
            applied = try rows.map { row in
                AppliedMigration(
                    version: try row.decode(Int.self, "version"),
                    name: try row.decode(String.self, "name"),
                    checksum: try row.decode(String.self, "checksum"),
                    appliedAt: try row.decode(Date.self, "applied_at")
                )
            }
        }
        let appliedByVersion = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
        let known = Set(migrations.map(\.version))
        return MigrationStatus(
            applied: applied,
            pending: migrations.filter { appliedByVersion[$0.version] == nil },
            changed: migrations.filter { migration in
                appliedByVersion[migration.version].map { $0.checksum != migration.checksum } ?? false
            },
            unknown: applied.map(\.version).filter { !known.contains($0) }
        )
    }
}
