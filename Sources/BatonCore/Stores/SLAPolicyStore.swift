import Foundation
public import PostgresClient

/// SLA and OLA policies: the SQL that reads and writes them.
public struct SLAPolicyStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        id, name, kind, team, department, task_kind, priority, tags, from_department, claim_within_minutes,
        done_within_minutes, calendar_region, escalations::text AS escalations, active, created_at, updated_at
        """

    /// Every policy (active first, then by id), or only the active ones.
    public func list(activeOnly: Bool = false) async throws -> [SLAPolicy] {
        try await list(activeOnly: activeOnly, scope: .everything)
    }

    /// Policies that can cover a team within `scope`: those naming no team, and those naming a
    /// team in scope.
    public func list(activeOnly: Bool = false, scope: Scope) async throws -> [SLAPolicy] {
        let visible: PostgresQuery =
            scope.allRegions
            ? "TRUE"
            : "(team IS NULL OR EXISTS (SELECT 1 FROM teams t WHERE t.slug = sla_policies.team AND \(scope.condition(team: "t.slug", region: "t.region"))))"
        return try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM sla_policies
            WHERE (active OR NOT \(activeOnly)) AND \(visible)
            ORDER BY active DESC, id
            """
        ).map(Self.policy)
    }

    /// One policy, or `nil`.
    public func find(id: Int) async throws -> SLAPolicy? {
        try await pool.query("SELECT \(Self.columns) FROM sla_policies WHERE id = $1", [id]).first.map(Self.policy)
    }

    /// Creates a policy with an event, on the caller's transaction.
    public func create(_ policy: NewSLAPolicy, by principal: Principal, on tx: PostgresConnection) async throws -> SLAPolicy {
        try policy.validate()
        if let team = policy.team, try await tx.query("SELECT 1 FROM teams WHERE slug = $1", [team]).first == nil {
            throw BatonError(.ruleViolation, "no team '\(team)'", details: ["field": "team"])
        }
        if let region = policy.calendarRegion, try await tx.query("SELECT 1 FROM regions WHERE code = $1", [region]).first == nil {
            throw BatonError(.ruleViolation, "no region '\(region)'", details: ["field": "calendar_region"])
        }
        for (index, level) in policy.escalations.enumerated() {
            if let team = level.team, try await tx.query("SELECT 1 FROM teams WHERE slug = $1", [team]).first == nil {
                throw BatonError(.ruleViolation, "no team '\(team)'", details: ["field": "escalations[\(index)].team"])
            }
        }
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                INSERT INTO sla_policies (name, kind, team, department, task_kind, priority, tags, from_department,
                                          claim_within_minutes, done_within_minutes, calendar_region, escalations, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13)
                RETURNING \(Self.columns)
                """,
                [
                    policy.name, policy.kind.rawValue, policy.team, policy.department?.rawValue, policy.taskKind,
                    policy.priority?.rank, policy.tags, policy.fromDepartment?.rawValue, policy.claimWithinMinutes,
                    policy.doneWithinMinutes, policy.calendarRegion, PostgresJSON(policy.escalations), principal.actorID,
                ]
            ).first
        } catch let error as PostgresError where error.isUniqueViolation {
            throw BatonError(.conflict, "a policy named '\(policy.name)' already exists", details: ["field": "name"])
        }
        guard let created = try row.map(Self.policy) else { throw BatonError(.internalError, "policy not stored") }
        try await SLACatalog.announceChange(on: tx)
        try await EventStore(pool: pool).append(
            type: "sla.policy_created",
            entityType: "sla_policy",
            entityID: String(created.id),
            team: created.team,
            region: nil,
            dataJSON: PostgresJSON(["name": created.name, "kind": created.kind.rawValue]).postgresText,
            by: principal,
            on: tx
        )
        return created
    }

    /// Turns a policy on or off. Clocks already running keep going; new tasks stop (or start)
    /// matching it.
    public func setActive(id: Int, _ active: Bool, by principal: Principal, on tx: PostgresConnection) async throws -> SLAPolicy {
        guard
            let policy = try await tx.query(
                "UPDATE sla_policies SET active = $2, updated_at = now() WHERE id = $1 RETURNING \(Self.columns)",
                [id, active]
            ).first.map(Self.policy)
        else {
            throw BatonError.notFound("no SLA policy \(id)")
        }
        try await SLACatalog.announceChange(on: tx)
        try await EventStore(pool: pool).append(
            type: active ? "sla.policy_enabled" : "sla.policy_disabled",
            entityType: "sla_policy",
            entityID: String(id),
            team: policy.team,
            region: nil,
            by: principal,
            on: tx
        )
        return policy
    }

    static func policy(_ row: PostgresRow) throws -> SLAPolicy {
        let escalations = try JSONDecoder().decode([EscalationLevel].self, from: Data(try row.decode(String.self, "escalations").utf8))
        return SLAPolicy(
            id: try row.decode(Int.self, "id"),
            definition: NewSLAPolicy(
                name: try row.decode(String.self, "name"),
                kind: SLAKind(rawValue: try row.decode(String.self, "kind")) ?? .sla,
                team: try row.decode(String?.self, "team"),
                department: try row.decode(String?.self, "department").flatMap(Department.init(rawValue:)),
                taskKind: try row.decode(String?.self, "task_kind"),
                priority: try row.decode(Int?.self, "priority").flatMap(TaskPriority.init(rank:)),
                tags: try row.decode([String].self, "tags"),
                fromDepartment: try row.decode(String?.self, "from_department").flatMap(Department.init(rawValue:)),
                claimWithinMinutes: try row.decode(Int?.self, "claim_within_minutes"),
                doneWithinMinutes: try row.decode(Int?.self, "done_within_minutes"),
                calendarRegion: try row.decode(String?.self, "calendar_region"),
                escalations: escalations
            ),
            active: try row.decode(Bool.self, "active"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }
}
