import Foundation
public import PostgresClient

/// Members and their team memberships.
public struct MemberStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let select = """
        SELECT m.id, m.name, m.email, m.active, m.created_at,
               coalesce((SELECT jsonb_agg(jsonb_build_object('team', ms.team, 'role', ms.role) ORDER BY ms.team)
                         FROM memberships ms WHERE ms.member_id = m.id), '[]')::text AS memberships
        FROM members m
        """

    static func member(_ row: PostgresRow) throws -> Member {
        Member(
            id: try row.decode(Int.self, "id"),
            name: try row.decode(String.self, "name"),
            email: try row.decode(String.self, "email"),
            active: try row.decode(Bool.self, "active"),
            memberships: try row.decodeJSON([Membership].self, "memberships"),
            createdAt: try row.decode(Date.self, "created_at")
        )
    }

    public func find(id: Int) async throws -> Member? {
        try await pool.query("\(Self.select) WHERE m.id = $1", [id]).first.map(Self.member)
    }

    /// Members in id order; a caller without every region sees the members of its teams.
    public func list(_ page: PageRequest, scope: Scope) async throws -> Page<Member> {
        var after = 0
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            after = value
        }
        let visible: PostgresQuery =
            scope.allRegions
            ? "TRUE"
            : """
            EXISTS (SELECT 1 FROM memberships ms JOIN teams t ON t.slug = ms.team
                    WHERE ms.member_id = m.id AND \(scope.condition(team: "t.slug", region: "t.region")))
            """
        let rows = try await pool.query(
            """
            \(unescaped: Self.select)
            WHERE m.id > \(after) AND \(visible)
            ORDER BY m.id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.member)) { String($0.id) }
    }

    /// Adds a member, with an event.
    public func create(name: String, email: String, by principal: Principal, on tx: PostgresConnection) async throws -> Member {
        guard TextRules.hasLength(name, in: 1...200) else { throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "name") }
        guard TextRules.isEmail(email) else {
            throw BatonError.invalidArgument("email is not an email address", field: "email")
        }
        do {
            guard
                let id = try await tx.query("INSERT INTO members (name, email) VALUES ($1, $2) RETURNING id", [name, email]).first?
                    .decode(Int.self, "id")
            else { throw BatonError(.internalError, "member not stored") }
            try await EventStore(pool: pool).append(
                type: "member.created",
                entityType: "member",
                entityID: String(id),
                team: nil,
                region: nil,
                by: principal,
                on: tx
            )
            guard let member = try await tx.query("\(Self.select) WHERE m.id = $1", [id]).first.map(Self.member) else {
                throw BatonError(.internalError, "member not stored")
            }
            return member
        } catch let error as PostgresError where error.isUniqueViolation {
            throw BatonError(.conflict, "a member with email \(email) exists")
        }
    }

    /// Puts a member on a team (or changes the role there), with an event.
    public func setMembership(
        memberID: Int,
        team: String,
        role: Membership.Role,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Member {
        guard try await tx.query("SELECT 1 FROM members WHERE id = $1", [memberID]).first != nil else {
            throw BatonError.notFound("no member \(memberID)")
        }
        guard let region = try await tx.query("SELECT region FROM teams WHERE slug = $1", [team]).first?.decode(String.self, "region") else {
            throw BatonError(.ruleViolation, "no team '\(team)'", details: ["field": "team"])
        }
        try await tx.query(
            """
            INSERT INTO memberships (member_id, team, role) VALUES ($1, $2, $3)
            ON CONFLICT (member_id, team) DO UPDATE SET role = excluded.role
            """,
            [memberID, team, role.rawValue]
        )
        try await EventStore(pool: pool).append(
            type: "member.joined_team",
            entityType: "member",
            entityID: String(memberID),
            team: team,
            region: region,
            dataJSON: PostgresJSON(["role": role.rawValue]).postgresText,
            by: principal,
            on: tx
        )
        guard let member = try await tx.query("\(Self.select) WHERE m.id = $1", [memberID]).first.map(Self.member) else {
            throw BatonError.notFound("no member \(memberID)")
        }
        return member
    }

    /// Deactivates a member and revokes every token bound to them, in one transaction.
    public func deactivate(id: Int, by principal: Principal) async throws -> Member {
        try await pool.transaction { tx in
            guard try await tx.query("UPDATE members SET active = false, updated_at = now() WHERE id = $1", [id]).affectedRows == 1 else {
                throw BatonError.notFound("no member \(id)")
            }
            let revoked = try await tx.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE member_id = $1 AND revoked_at IS NULL",
                [id]
            ).affectedRows
            try await EventStore(pool: pool).append(
                type: "member.deactivated",
                entityType: "member",
                entityID: String(id),
                team: nil,
                region: nil,
                dataJSON: PostgresJSON(["tokens_revoked": revoked]).postgresText,
                by: principal,
                on: tx
            )
            guard let member = try await tx.query("\(Self.select) WHERE m.id = $1", [id]).first.map(Self.member) else {
                throw BatonError.notFound("no member \(id)")
            }
            return member
        }
    }
}
