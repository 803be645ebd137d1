import Foundation
public import PostgresClient

/// Teams: the SQL that reads and writes them.
public struct TeamStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Teams ordered by slug, optionally of one region or department.
    public func list(_ page: PageRequest, region: String? = nil, department: Department? = nil) async throws -> Page<Team> {
        let rows = try await pool.query(
            """
            SELECT slug, department, region, name, paused, default_lease_seconds, default_max_attempts,
                   created_at, updated_at
            FROM teams
            WHERE ($1::text IS NULL OR slug > $1)
              AND ($2::text IS NULL OR region = $2)
              AND ($3::text IS NULL OR department = $3)
            ORDER BY slug LIMIT $4
            """,
            [page.after, region, department?.rawValue, page.limit + 1]
        )
        return page.page(try rows.map(Self.team), cursor: \.slug)
    }

    static func team(_ row: PostgresRow) throws -> Team {
        let department = try row.decode(String.self, "department")
        guard let known = Department(rawValue: department) else {
            throw PostgresError(code: .decoding, message: "unknown department '\(department)'")
        }
        return Team(
            slug: try row.decode(String.self, "slug"),
            department: known,
            region: try row.decode(String.self, "region"),
            name: try row.decode(String.self, "name"),
            paused: try row.decode(Bool.self, "paused"),
            defaultLeaseSeconds: try row.decode(Int.self, "default_lease_seconds"),
            defaultMaxAttempts: try row.decode(Int.self, "default_max_attempts"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }
}
