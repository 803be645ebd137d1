public import Foundation
public import PostgresClient

/// Regions: the SQL that reads and writes them.
public struct RegionStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Regions ordered by code, a page at a time.
    public func list(_ page: PageRequest) async throws -> Page<Region> {
        let rows = try await pool.query(
            """
            SELECT code, name, time_zone, created_at FROM regions
            WHERE $1::text IS NULL OR code > $1
            ORDER BY code LIMIT $2
            """,
            [page.after, page.limit + 1]
        )
        return page.page(try rows.map(Self.region), cursor: \.code)
    }

    static func region(_ row: PostgresRow) throws -> Region {
        Region(
            code: try row.decode(String.self, "code"),
            name: try row.decode(String.self, "name"),
            timeZone: try row.decode(String.self, "time_zone"),
            createdAt: try row.decode(Date.self, "created_at")
        )
    }
}

extension RegionStore {
    /// A region's time zone (UTC for one that is gone or unknown to this system).
    public func timeZone(of region: String) async throws -> TimeZone {
        let identifier = try await pool.query("SELECT time_zone FROM regions WHERE code = $1", [region]).first?.decode(String.self, "time_zone")
        return identifier.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
    }

    /// Whether a region exists.
    public func exists(_ code: String) async throws -> Bool {
        try await pool.query("SELECT 1 FROM regions WHERE code = \(code)").first != nil
    }

    /// Every region's code, in order.
    public func codes() async throws -> [String] {
        try await pool.query("SELECT code FROM regions ORDER BY code").map { try $0.decode(String.self, "code") }
    }

    /// Creates a region with an event, on the caller's transaction.
    public func create(
        code: String,
        name: String,
        timeZone: String,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Region {
        guard TextRules.isRegionCode(code) else {
            throw BatonError.invalidArgument("code must be 2 to 16 lower-case letters and digits, starting with a letter", field: "code")
        }
        guard TextRules.hasLength(name, in: 1...200) else { throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "name") }
        // The calendar's rule: an IANA Area/Location name or UTC, never an abbreviation such as
        // EST that silently drops the region's daylight-saving rules.
        guard BusinessCalendar.isRegionTimeZone(timeZone) else {
            throw BatonError(.ruleViolation, "'\(timeZone)' is not an IANA time zone such as Europe/Berlin", details: ["field": "time_zone"])
        }
        do {
            let row = try await tx.query(
                "INSERT INTO regions (code, name, time_zone) VALUES ($1, $2, $3) RETURNING code, name, time_zone, created_at",
                [code, name, timeZone]
            ).first
            guard let row else { throw BatonError(.internalError, "region not stored") }
            // A new region brings a calendar (the standard week) for the SLA catalog.
            try await SLACatalog.announceChange(on: tx)
            try await EventStore(pool: pool).append(
                type: "region.created",
                entityType: "region",
                entityID: code,
                team: nil,
                region: code,
                by: principal,
                on: tx
            )
            return try Self.region(row)
        } catch let error as PostgresError where error.isUniqueViolation {
            throw BatonError(.conflict, "region '\(code)' already exists")
        }
    }
}
