import Foundation
public import PostgresClient

/// Teams: the SQL that reads and writes them.
public struct TeamStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Teams within `scope` ordered by slug, optionally of one region or department.
    public func list(
        _ page: PageRequest,
        region: String? = nil,
        department: Department? = nil,
        scope: Scope = .everything
    ) async throws -> Page<Team> {
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns)
            FROM teams
            WHERE (\(page.after)::text IS NULL OR slug > \(page.after))
              AND (\(region)::text IS NULL OR region = \(region))
              AND (\(department?.rawValue)::text IS NULL OR department = \(department?.rawValue))
              AND \(scope.condition(team: "slug", region: "region"))
            ORDER BY slug LIMIT \(page.limit + 1)
            """
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

extension TeamStore {
    static let columns = """
        slug, department, region, name, paused, default_lease_seconds, default_max_attempts, created_at, updated_at
        """

    /// ``columns`` of the teams row `alias`.
    static func columns(of alias: String) -> String {
        columns.split(separator: ",").map { "\(alias).\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }.joined(separator: ", ")
    }

    /// One team, or `nil`.
    public func find(_ slug: String) async throws -> Team? {
        try await pool.query("SELECT \(Self.columns) FROM teams WHERE slug = $1", [slug], prepared: true).first.map(Self.team)
    }

    /// The team, read on `connection` (inside its transaction, without taking a second
    /// connection from the pool).
    public func find(_ slug: String, on connection: PostgresConnection) async throws -> Team? {
        try await connection.query("SELECT \(Self.columns) FROM teams WHERE slug = $1", [slug]).first.map(Self.team)
    }

    /// What creating a team needs.
    public struct NewTeam: Sendable, Codable {
        public var department: Department
        public var region: String
        public var slug: String?
        public var name: String?
        public var defaultLeaseSeconds: Int?
        public var defaultMaxAttempts: Int?

        public init(
            department: Department,
            region: String,
            slug: String? = nil,
            name: String? = nil,
            defaultLeaseSeconds: Int? = nil,
            defaultMaxAttempts: Int? = nil
        ) {
            self.department = department
            self.region = region
            self.slug = slug
            self.name = name
            self.defaultLeaseSeconds = defaultLeaseSeconds
            self.defaultMaxAttempts = defaultMaxAttempts
        }
    }

    /// The team of a department in a region (the first by slug, if there are several), read
    /// on `connection`.
    public func team(of department: Department, in region: String, on connection: PostgresConnection) async throws -> Team? {
        try await connection.query(
            "SELECT \(Self.columns) FROM teams WHERE region = $1 AND department = $2 ORDER BY slug LIMIT 1",
            [region, department.rawValue]
        ).first.map(Self.team)
    }

    /// Creates a team (slug `department-region` unless given) with an event.
    public func create(_ team: NewTeam, by principal: Principal, on tx: PostgresConnection) async throws -> Team {
        let slug = team.slug ?? "\(team.department.rawValue)-\(team.region)"
        guard TextRules.isTeamSlug(slug) else {
            throw BatonError.invalidArgument("slug must be 2 to 63 lower-case letters, digits and dashes", field: "slug")
        }
        if let name = team.name, !TextRules.hasLength(name, in: 1...200) {
            throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "name")
        }
        if let lease = team.defaultLeaseSeconds, !(5...86400).contains(lease) {
            throw BatonError.invalidArgument("default_lease_seconds must be between 5 and 86400", field: "default_lease_seconds")
        }
        if let attempts = team.defaultMaxAttempts, !(1...100).contains(attempts) {
            throw BatonError.invalidArgument("default_max_attempts must be between 1 and 100", field: "default_max_attempts")
        }
        do {
            let row = try await tx.query(
                """
                INSERT INTO teams (slug, department, region, name, default_lease_seconds, default_max_attempts)
                SELECT $1, $2, r.code, coalesce($3, left(d.name || ' ' || r.name, 200)), coalesce($4, 300), coalesce($5, 5)
                FROM regions r, departments d WHERE r.code = $6 AND d.code = $2
                RETURNING \(Self.columns)
                """,
                [slug, team.department.rawValue, team.name, team.defaultLeaseSeconds, team.defaultMaxAttempts, team.region]
            ).first
            guard let row else {
                throw BatonError(.ruleViolation, "no region '\(team.region)'", details: ["field": "region"])
            }
            let created = try Self.team(row)
            try await EventStore(pool: pool).append(
                type: "team.created",
                entityType: "team",
                entityID: slug,
                team: slug,
                region: created.region,
                by: principal,
                on: tx
            )
            return created
        } catch let error as PostgresError where error.isUniqueViolation {
            throw BatonError(.conflict, "team '\(slug)' already exists")
        }
    }

    /// Pauses or resumes a team's queue with an event; returns the team.
    public func setPaused(_ slug: String, paused: Bool, by principal: Principal) async throws -> Team {
        try await pool.transaction { tx in
            guard
                let row = try await tx.query(
                    "UPDATE teams SET paused = $2, updated_at = now() WHERE slug = $1 RETURNING \(Self.columns)",
                    [slug, paused]
                ).first
            else { throw BatonError.notFound("no such team") }
            let team = try Self.team(row)
            try await EventStore(pool: pool).append(
                type: paused ? "team.paused" : "team.resumed",
                entityType: "team",
                entityID: slug,
                team: slug,
                region: team.region,
                by: principal,
                on: tx
            )
            return team
        }
    }
}
