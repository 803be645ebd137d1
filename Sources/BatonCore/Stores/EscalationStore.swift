public import Foundation
public import PostgresClient

/// Escalation levels of SLA clocks: which are due, and marking them fired with their outcome.
public struct EscalationStore: Sendable {
    public init() {}

    /// A level that is due, locked for the caller's transaction.
    public struct DueLevel: Sendable {
        public var clockID: Int
        public var level: Int
        public var spec: EscalationLevel
        public var target: String
        public var policyID: Int
        public var breachedAt: Date?
        public var atRiskEmittedAt: Date?
        /// When an earlier level of the clock last fired (or failed).
        public var lastFired: Date?
    }

    private static let dueLevels = """
        e.fired_at IS NULL AND e.fire_at <= now() AND c.stopped_at IS NULL AND c.paused_at IS NULL
          AND CASE WHEN e.basis = 'breach' THEN c.breached_at IS NOT NULL ELSE c.at_risk_emitted_at IS NOT NULL END
        """

    /// The task of the level due first (of one region, when given), leaving out `busy` tasks.
    public func nextDueTask(region: String?, skipping busy: [Int], on tx: PostgresConnection) async throws -> Int? {
        try await tx.query(
            """
            SELECT c.task_id FROM sla_escalations e JOIN sla_clocks c ON c.id = e.clock_id
            WHERE \(Self.dueLevels) AND ($1::text IS NULL OR c.region = $1) AND NOT (c.task_id = ANY($2::bigint[]))
            ORDER BY e.fire_at, e.clock_id, e.level
            LIMIT 1
            """,
            [region, busy]
        ).first?.decode(Int.self, "task_id")
    }

    /// The task's level due first, locked; `nil` when none is due any more.
    public func lockNextDueLevel(taskID: Int, on tx: PostgresConnection) async throws -> DueLevel? {
        guard
            let row = try await tx.query(
                """
                SELECT e.clock_id, e.level, e.spec::text AS spec, c.target, c.policy_id, c.breached_at, c.at_risk_emitted_at,
                       (SELECT max(p.fired_at) FROM sla_escalations p
                        WHERE p.clock_id = e.clock_id AND p.outcome IN ('fired', 'failed')) AS last_fired
                FROM sla_escalations e JOIN sla_clocks c ON c.id = e.clock_id
                WHERE \(Self.dueLevels) AND c.task_id = $1
                ORDER BY e.fire_at, e.clock_id, e.level
                LIMIT 1
                FOR UPDATE OF e
                """,
                [taskID]
            ).first
        else { return nil }
        return DueLevel(
            clockID: try row.decode(Int.self, "clock_id"),
            level: try row.decode(Int.self, "level"),
            spec: try row.decodeJSON(EscalationLevel.self, "spec"),
            target: try row.decode(String.self, "target"),
            policyID: try row.decode(Int.self, "policy_id"),
            breachedAt: try row.decode(Date?.self, "breached_at"),
            atRiskEmittedAt: try row.decode(Date?.self, "at_risk_emitted_at"),
            lastFired: try row.decode(Date?.self, "last_fired")
        )
    }

    /// Marks a level fired now with its outcome (`fired`, `skipped`, `failed`).
    public func record(clockID: Int, level: Int, outcome: String, on tx: PostgresConnection) async throws {
        try await tx.query(
            "UPDATE sla_escalations SET fired_at = coalesce(fired_at, now()), outcome = $3 WHERE clock_id = $1 AND level = $2",
            [clockID, level, outcome]
        )
    }
}
