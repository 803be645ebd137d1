import Foundation
public import PostgresClient

/// Handoff rules and their firings: the SQL.
public struct RuleStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns =
        "id, name, event_type, condition::text AS condition, action::text AS action, active, version, created_by, created_at, updated_at"

    static func rule(_ row: PostgresRow) throws -> Rule {
        let conditionText = try row.decode(String.self, "condition")
        let actionText = try row.decode(String.self, "action")
        guard let conditionJSON = JSONValue.parse(conditionText),
            let action = try? JSONDecoder().decode(RuleAction.self, from: Data(actionText.utf8))
        else { throw BatonError(.internalError, "a stored rule does not parse") }
        return Rule(
            id: try row.decode(Int.self, "id"),
            name: try row.decode(String.self, "name"),
            on: try row.decode(String.self, "event_type"),
            condition: try RuleCondition(conditionJSON),
            action: action,
            active: try row.decode(Bool.self, "active"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    public func find(id: Int, on connection: PostgresConnection? = nil) async throws -> Rule? {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM rules WHERE id = \(id)"
        if let connection { return try await connection.query(query).first.map(Self.rule) }
        return try await pool.query(query).first.map(Self.rule)
    }

    /// Rules in id order (optionally of one event type, or only active ones), a page at a time.
    public func list(on eventType: String?, activeOnly: Bool, page: PageRequest) async throws -> Page<Rule> {
        let after = try page.afterID()
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM rules
            WHERE id > \(after) AND (\(eventType)::text IS NULL OR event_type = \(eventType)) AND (NOT \(activeOnly) OR active)
            ORDER BY id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.rule)) { String($0.id) }
    }

    /// The active rules of some event types, in id order (the partial index serves it).
    public func active(for eventTypes: [String], on tx: PostgresConnection) async throws -> [Rule] {
        try await tx.query(
            "SELECT \(unescaped: Self.columns) FROM rules WHERE active AND event_type = ANY(\(eventTypes)) ORDER BY id"
        ).map(Self.rule)
    }

    public func create(_ rule: NewRule, condition: RuleCondition, by principal: Principal, on tx: PostgresConnection) async throws -> Rule {
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO rules (name, event_type, condition, action, active, created_by)
                    VALUES (\(rule.name), \(rule.on), \(PostgresJSONText(condition.json.text)), \(PostgresJSON(rule.action)),
                            coalesce(\(rule.active), true), \(principal.actorID))
                    RETURNING *
                ),
                written AS (
                    \(EventStore.insert(
                        "rule.created", from: "created", entityType: "rule", entity: "created.id::text", region: "NULL",
                        data: "jsonb_build_object('name', created.name, 'on', created.event_type, 'active', created.active)", by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM created
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw BatonError(.conflict, "a rule named '\(rule.name)' exists", details: ["field": "name"])
        }
        guard let row else { throw BatonError(.internalError, "rule not stored") }
        return try Self.rule(row)
    }

    /// Applies an edit if the rule is still at `version`; `nil` when stale.
    public func update(
        id: Int,
        version: Int,
        _ changes: RuleChanges,
        condition: RuleCondition?,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Rule? {
        do {
            return try await tx.query(
                """
                WITH changed AS (
                    UPDATE rules SET
                        name = coalesce(\(changes.name), name),
                        event_type = coalesce(\(changes.on), event_type),
                        condition = coalesce(\(condition.map { PostgresJSONText($0.json.text) })::jsonb, condition),
                        action = coalesce(\(changes.action.map { PostgresJSON($0) })::jsonb, action),
                        active = coalesce(\(changes.active), active),
                        version = version + 1, updated_at = now()
                    WHERE id = \(id) AND version = \(version)
                    RETURNING *
                ),
                written AS (
                    \(EventStore.insert(
                        "rule.updated", from: "changed", entityType: "rule", entity: "changed.id::text", region: "NULL",
                        data: "jsonb_build_object('version', changed.version, 'on', changed.event_type, 'active', changed.active)", by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM changed
                """
            ).first.map(Self.rule)
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw BatonError(.conflict, "a rule named '\(changes.name ?? "")' exists", details: ["field": "name"])
        }
    }

    /// The event row an occurrence is: the newest of this type and entity that the current
    /// transaction wrote (served by the feed index on xid).
    func eventID(of event: RuleEvent, on tx: PostgresConnection) async throws -> Int? {
        try await tx.query(
            """
            SELECT id FROM events
            WHERE xid = pg_current_xact_id() AND type = \(event.type)
              AND entity_type IS NOT DISTINCT FROM \(event.entityType)::text AND entity_id IS NOT DISTINCT FROM \(event.entityID)::text
            ORDER BY id DESC LIMIT 1
            """
        ).first?.decode(Int.self, "id")
    }

    /// Records that `rule` fires for `event`; false when it already has (the task exists).
    func recordFiring(rule: Int, event: Int, on tx: PostgresConnection) async throws -> Bool {
        try await tx.query(
            "INSERT INTO rule_firings (rule_id, event_id) VALUES (\(rule), \(event)) ON CONFLICT DO NOTHING RETURNING rule_id"
        ).first != nil
    }

    func linkFiring(rule: Int, event: Int, task: Int, on tx: PostgresConnection) async throws {
        try await tx.query("UPDATE rule_firings SET task_id = \(task) WHERE rule_id = \(rule) AND event_id = \(event)")
    }
}
