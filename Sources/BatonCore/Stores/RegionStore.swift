import Foundation
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
