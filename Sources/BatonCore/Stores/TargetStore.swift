import Foundation
public import PostgresClient

/// Sales targets and their variance analysis.
public struct TargetStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        id, owner_kind, member_id, team, region, metric, grain, period_start::text AS period_start, target_value::float8 AS target_value,
        currency, product_category, notes, variance_note, next_action, next_action_owner, next_action_due::text AS next_action_due, version,
        created_by, created_at, updated_at
        """

    static func target(_ row: PostgresRow) throws -> Target {
        let grain = ReportGrain(rawValue: try row.decode(String.self, "grain")) ?? .month
        let start = LocalDate(parsing: try row.decode(String.self, "period_start")) ?? LocalDate(daysSinceEpoch: 0)
        return Target(
            id: try row.decode(Int.self, "id"),
            ownerKind: TargetOwnerKind(rawValue: try row.decode(String.self, "owner_kind")) ?? .company,
            memberID: try row.decode(Int?.self, "member_id"),
            team: try row.decode(String?.self, "team"),
            region: try row.decode(String?.self, "region"),
            metric: TargetMetric(rawValue: try row.decode(String.self, "metric")) ?? .revenue,
            period: ReportPeriod(grain: grain, containing: start),
            value: try row.decode(Double.self, "target_value"),
            currency: try row.decode(String?.self, "currency"),
            productCategory: try row.decode(String?.self, "product_category"),
            notes: try row.decode(String?.self, "notes"),
            varianceNote: try row.decode(String?.self, "variance_note"),
            nextAction: try row.decode(String?.self, "next_action"),
            nextActionOwnerID: try row.decode(Int?.self, "next_action_owner"),
            nextActionDue: try row.decode(String?.self, "next_action_due"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    /// Targets of regions within scope; the company's only for a scope of every region.
    static func visible(_ scope: Scope) -> PostgresQuery {
        scope.allRegions ? "TRUE" : "(region IS NOT NULL AND \(scope.regionCondition("region")))"
    }

    static func event(_ type: String, from source: String, by principal: Principal) -> PostgresQuery {
        EventStore.insert(
            type,
            from: source,
            entityType: "target",
            entity: "\(source).id::text",
            region: "\(source).region",
            data: "jsonb_build_object('metric', \(unescaped: source).metric, 'version', \(unescaped: source).version)",
            by: principal
        )
    }

    public func find(id: Int, scope: Scope) async throws -> Target? {
        try await pool.query("SELECT \(unescaped: Self.columns) FROM targets WHERE id = \(id) AND \(Self.visible(scope))").first.map(Self.target)
    }

    /// What a target list or plan report may be narrowed to.
    public struct Filter: Sendable {
        public var grain: ReportGrain?
        /// Targets whose period overlaps these days (both included).
        public var from: LocalDate?
        public var to: LocalDate?
        public var region: String?
        public var team: String?
        public var memberID: Int?
        public var metric: TargetMetric?

        public init(
            grain: ReportGrain? = nil,
            from: LocalDate? = nil,
            to: LocalDate? = nil,
            region: String? = nil,
            team: String? = nil,
            memberID: Int? = nil,
            metric: TargetMetric? = nil
        ) {
            self.grain = grain
            self.from = from
            self.to = to
            self.region = region
            self.team = team
            self.memberID = memberID
            self.metric = metric
        }
    }

    /// Targets within `scope` matching `filter`, in id order; at most `limit`.
    public func list(_ filter: Filter, scope: Scope, after: Int = 0, limit: Int) async throws -> [Target] {
        // A period ends a year after its start at most, so the overlap test can use the index.
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM targets
            WHERE \(Self.visible(scope)) AND id > \(after)
              AND (\(filter.grain?.rawValue)::text IS NULL OR grain = \(filter.grain?.rawValue))
              AND (\(filter.to?.description)::date IS NULL OR period_start <= \(filter.to?.description)::date)
              AND (\(filter.from?.description)::date IS NULL OR (period_start + CASE grain WHEN 'week' THEN interval '7 days'
                   WHEN 'month' THEN interval '1 month' WHEN 'quarter' THEN interval '3 months' ELSE interval '1 year' END)::date
                   > \(filter.from?.description)::date)
              AND (\(filter.region)::text IS NULL OR region = \(filter.region))
              AND (\(filter.team)::text IS NULL OR team = \(filter.team))
              AND (\(filter.memberID)::bigint IS NULL OR member_id = \(filter.memberID))
              AND (\(filter.metric?.rawValue)::text IS NULL OR metric = \(filter.metric?.rawValue))
            ORDER BY id
            LIMIT \(limit)
            """
        )
        return try rows.map(Self.target)
    }

    public func create(_ new: NewTarget, by principal: Principal, on tx: PostgresConnection) async throws -> Target {
        do {
            guard
                let row = try await tx.query(
                    """
                    WITH owner AS (
                        SELECT coalesce((SELECT region FROM teams WHERE slug = \(new.team)), \(new.region)::text) AS region
                    ),
                    created AS (
                        INSERT INTO targets (owner_kind, member_id, team, region, metric, grain, period_start, target_value, currency,
                                             product_category, notes, created_by)
                        SELECT \(new.ownerKind.rawValue), \(new.memberID), \(new.team), owner.region, \(new.metric.rawValue),
                               \(new.period.grain.rawValue), \(new.period.start.description)::date, \(new.value), \(new.currency),
                               \(new.productCategory), nullif(\(new.notes)::text, ''), \(principal.actorID)
                        FROM owner
                        WHERE \(new.team)::text IS NULL OR owner.region IS NOT NULL
                        RETURNING *
                    ),
                    written AS (\(Self.event("target.created", from: "created", by: principal)))
                    SELECT \(unescaped: Self.columns) FROM created
                    """
                ).first
            else { throw BatonError(.ruleViolation, "no team '\(new.team ?? "")'", details: ["field": "team"]) }
            return try Self.target(row)
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw BatonError(.conflict, "this owner already has a \(new.metric.rawValue) target for \(new.period)")
        } catch let error as PostgresError where error.sqlState == "23503" {
            let field = new.memberID != nil && error.message.contains("member") ? "member_id" : "region"
            throw BatonError(.ruleViolation, "no such \(field == "member_id" ? "member" : "region")", details: ["field": field])
        }
    }

    /// Applies an edit if the target is still at `version`; nil when stale.
    public func update(id: Int, version: Int, _ changes: TargetChanges, by principal: Principal, on tx: PostgresConnection) async throws -> Target? {
        do {
            return try await tx.query(
                """
                WITH changed AS (
                    UPDATE targets SET
                        target_value = coalesce(\(changes.value), target_value),
                        notes = CASE WHEN \(changes.notes)::text IS NULL THEN notes ELSE nullif(\(changes.notes), '') END,
                        variance_note = CASE WHEN \(changes.varianceNote)::text IS NULL THEN variance_note ELSE nullif(\(changes.varianceNote), '') END,
                        next_action = CASE WHEN \(changes.nextAction)::text IS NULL THEN next_action ELSE nullif(\(changes.nextAction), '') END,
                        next_action_owner = CASE WHEN \(changes.nextActionOwnerID)::bigint IS NULL THEN next_action_owner
                                                 ELSE nullif(\(changes.nextActionOwnerID), 0) END,
                        next_action_due = coalesce(\(changes.nextActionDue?.description)::date, next_action_due),
                        version = version + 1, updated_at = now()
                    WHERE id = \(id) AND version = \(version)
                    RETURNING *
                ),
                written AS (\(Self.event("target.updated", from: "changed", by: principal)))
                SELECT \(unescaped: Self.columns) FROM changed
                """
            ).first.map(Self.target)
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(
                .ruleViolation,
                "no member \(changes.nextActionOwnerID ?? 0) to own the next action",
                details: ["field": "next_action_owner_id"]
            )
        }
    }

    public func version(id: Int, on tx: PostgresConnection) async throws -> Int? {
        try await tx.query("SELECT version FROM targets WHERE id = \(id)").first?.decode(Int.self, "version")
    }

    /// Member names by id, for the leaderboard.
    public func memberNames(_ ids: [Int]) async throws -> [Int: String] {
        var names: [Int: String] = [:]
        for row in try await pool.query("SELECT id, name FROM members WHERE id = ANY(\(ids))") {
            names[try row.decode(Int.self, "id")] = try row.decode(String.self, "name")
        }
        return names
    }
}
