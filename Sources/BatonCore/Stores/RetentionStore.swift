public import Foundation
public import PostgresClient

/// The pruner's SQL: one small batch of old history per statement (its own transaction), with
/// everything that depends on the deleted rows, and the counts `batonctl prune --dry-run` shows.
///
/// Each batch first takes its kind's row in `retention_marks` with SKIP LOCKED: while one server
/// prunes a kind, the others' batches find the row taken and do nothing, so several servers
/// neither wait for each other nor delete the same rows. Rows are taken with SKIP LOCKED too,
/// so the pruner never waits for a request that is changing one (it comes back for it later).
public struct RetentionStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// What one batch did.
    public struct Batch: Sendable, Equatable {
        /// False when another server holds the kind's mark (it is pruning right now).
        public var leader: Bool
        /// Rows of the kind deleted.
        public var deleted: Int
        /// Rows that depended on them and went with them (SLA clocks and escalations, rule firings).
        public var dependents: Int
        /// Where the next batch starts (tasks and deliveries: the last row looked at).
        public var next: Position
        /// Whether older rows may remain past `next`.
        public var more: Bool

        /// A place in a kind's walk: the last id looked at and, for tasks, its `finished_at`.
        public struct Position: Sendable, Equatable {
            public var id: Int
            public var finishedAt: Date?

            public init(id: Int = 0, finishedAt: Date? = nil) {
                self.id = id
                self.finishedAt = finishedAt
            }
        }
    }

    /// Finished tasks not referenced by a customer record (a case's task, an interaction's
    /// follow-up, a stock movement's task: records keep what they point at), in `alias`.
    private static func prunable(_ alias: String) -> String {
        """
        \(alias).state IN ('done', 'dead', 'cancelled', 'handed_off') AND \(alias).finished_at < now() - $1 * interval '1 second'
          AND \(alias).team <> '\(WebhookStore.queue)'
          AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.task_id = \(alias).id)
          AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.follow_up_task_id = \(alias).id)
          AND NOT EXISTS (SELECT 1 FROM stock_movements m WHERE m.task_id = \(alias).id)
        """
    }

    /// Deletes the prunable ones among the next `limit` tasks finished before the cutoff, after
    /// `after` in (finished_at, id) order (the partial index `tasks_finished_idx`), with their SLA
    /// clocks and escalations. A handoff chain goes only as a whole, once every step is finished
    /// and old enough: a chain with a live step keeps its history.
    public func pruneTasks(olderThan age: Duration, after: Batch.Position, limit: Int) async throws -> Batch {
        try await batch(
            """
            WITH mark AS MATERIALIZED (
                SELECT kind FROM retention_marks WHERE kind = 'tasks' FOR UPDATE SKIP LOCKED
            ),
            scanned AS MATERIALIZED (
                SELECT t.id, t.finished_at FROM tasks t
                WHERE EXISTS (SELECT 1 FROM mark)
                  AND t.state IN ('done', 'dead', 'cancelled', 'handed_off') AND t.team <> '\(WebhookStore.queue)'
                  AND (t.finished_at, t.id) > (coalesce($4::timestamptz, '-infinity'), $2)
                  AND t.finished_at < now() - $1 * interval '1 second'
                ORDER BY t.finished_at, t.id
                LIMIT $3
            ),
            picked AS MATERIALIZED (
                SELECT t.id, t.chain_id, \(TaskStore.inChain("t")) AS chained
                FROM tasks t
                WHERE t.id = ANY (ARRAY(SELECT id FROM scanned)) AND \(Self.prunable("t"))
                FOR UPDATE SKIP LOCKED
            ),
            chains AS MATERIALIZED (
                SELECT DISTINCT chain_id FROM picked WHERE chained
            ),
            members AS MATERIALIZED (
                SELECT t.id, t.chain_id FROM tasks t
                WHERE t.chain_id IN (SELECT chain_id FROM chains) AND \(TaskStore.inChain("t"))
                  AND \(Self.prunable("t"))
                FOR UPDATE SKIP LOCKED
            ),
            whole AS MATERIALIZED (
                SELECT c.chain_id FROM chains c
                WHERE (SELECT count(*) FROM members m WHERE m.chain_id = c.chain_id)
                    = (SELECT count(*) FROM tasks t
                       WHERE t.chain_id = c.chain_id AND \(TaskStore.inChain("t")))
            ),
            doomed AS MATERIALIZED (
                SELECT id FROM picked WHERE NOT chained
                UNION
                SELECT id FROM members WHERE chain_id IN (SELECT chain_id FROM whole)
            ),
            escalations AS (
                DELETE FROM sla_escalations e USING sla_clocks k
                WHERE e.clock_id = k.id AND k.task_id IN (SELECT id FROM doomed)
                RETURNING 1
            ),
            clocks AS (
                DELETE FROM sla_clocks WHERE task_id IN (SELECT id FROM doomed) RETURNING 1
            ),
            gone AS (
                DELETE FROM tasks WHERE id IN (SELECT id FROM doomed) RETURNING id
            ),
            counted AS (
                UPDATE retention_marks SET pruned_rows = pruned_rows + (SELECT count(*) FROM gone), pruned_at = now()
                WHERE kind = 'tasks' AND EXISTS (SELECT 1 FROM gone)
            )
            SELECT (SELECT count(*) FROM mark) AS leader, (SELECT count(*) FROM gone) AS deleted,
                   (SELECT count(*) FROM clocks) + (SELECT count(*) FROM escalations) AS dependents,
                   last.id AS next, last.finished_at AS next_finished_at, (SELECT count(*) FROM scanned) = $3 AS more
            FROM (SELECT NULL) AS one
            LEFT JOIN (SELECT id, finished_at FROM scanned ORDER BY finished_at DESC, id DESC LIMIT 1) AS last ON true
            """,
            [age.inSeconds, after.id, limit, after.finishedAt]
        )
    }

    /// Deletes finished webhook deliveries (their log rows and their tasks in the system queue)
    /// among the `limit` deliveries after task id `after`.
    public func pruneDeliveries(olderThan age: Duration, after: Batch.Position, limit: Int) async throws -> Batch {
        try await batch(
            """
            WITH mark AS MATERIALIZED (
                SELECT kind FROM retention_marks WHERE kind = 'webhook_deliveries' FOR UPDATE SKIP LOCKED
            ),
            scanned AS MATERIALIZED (
                SELECT d.task_id, d.created_at FROM webhook_deliveries d
                WHERE EXISTS (SELECT 1 FROM mark) AND d.task_id > $2
                ORDER BY d.task_id
                LIMIT $3
            ),
            picked AS MATERIALIZED (
                SELECT d.task_id FROM webhook_deliveries d
                WHERE d.task_id = ANY (ARRAY(SELECT task_id FROM scanned))
                  AND d.state IN ('delivered', 'dead', 'cancelled') AND d.updated_at < now() - $1 * interval '1 second'
                FOR UPDATE SKIP LOCKED
            ),
            logged AS (
                DELETE FROM webhook_deliveries WHERE task_id IN (SELECT task_id FROM picked) RETURNING task_id
            ),
            gone AS (
                DELETE FROM tasks WHERE id IN (SELECT task_id FROM logged) RETURNING id
            ),
            counted AS (
                UPDATE retention_marks SET pruned_rows = pruned_rows + (SELECT count(*) FROM logged), pruned_at = now()
                WHERE kind = 'webhook_deliveries' AND EXISTS (SELECT 1 FROM logged)
            )
            SELECT (SELECT count(*) FROM mark) AS leader, (SELECT count(*) FROM logged) AS deleted,
                   (SELECT count(*) FROM gone) AS dependents,
                   coalesce((SELECT max(task_id) FROM scanned), $2) AS next, NULL::timestamptz AS next_finished_at,
                   coalesce((SELECT bool_or(created_at < now() - $1 * interval '1 second') FROM scanned), false) AS more
            """,
            [age.inSeconds, after.id, limit]
        )
    }

    /// Deletes the oldest events in feed order, up to `limit` and up to the first that is not
    /// old enough, whose transaction is still running, or that the webhook dispatcher has not
    /// passed yet (its deliveries are not queued), and moves the feed's horizon past them.
    /// A customer's events stay (they are its timeline, which outlives the feed), as do events
    /// an open webhook delivery still has to send; the feed no longer hands them out.
    public func pruneEvents(olderThan age: Duration, limit: Int) async throws -> Batch {
        try await batch(
            """
            WITH mark AS MATERIALIZED (
                SELECT after_xid, after_id FROM retention_marks WHERE kind = 'events' FOR UPDATE SKIP LOCKED
            ),
            scanned AS MATERIALIZED (
                SELECT e.xid, e.id, e.occurred_at, e.entity_type FROM events e
                WHERE (e.xid, e.id) > ((SELECT after_xid FROM mark), (SELECT after_id FROM mark))
                ORDER BY e.xid, e.id
                LIMIT $2
            ),
            stop AS MATERIALIZED (
                SELECT s.xid, s.id FROM scanned s, webhook_dispatch d
                WHERE NOT (s.occurred_at < now() - $1 * interval '1 second'
                           AND s.xid < pg_snapshot_xmin(pg_current_snapshot())
                           AND (s.xid, s.id) <= (d.after_xid, d.after_id))
                ORDER BY s.xid, s.id
                LIMIT 1
            ),
            passed AS MATERIALIZED (
                SELECT s.xid, s.id,
                       s.entity_type IS DISTINCT FROM 'customer'
                       AND s.id NOT IN (SELECT event_id FROM webhook_deliveries WHERE state IN ('pending', 'retrying')) AS doomed
                FROM scanned s
                WHERE NOT EXISTS (SELECT 1 FROM stop) OR (s.xid, s.id) < ((SELECT xid FROM stop), (SELECT id FROM stop))
            ),
            firings AS (
                DELETE FROM rule_firings WHERE event_id IN (SELECT id FROM passed WHERE doomed) RETURNING 1
            ),
            gone AS (
                DELETE FROM events WHERE id IN (SELECT id FROM passed WHERE doomed) RETURNING id
            ),
            moved AS (
                UPDATE retention_marks m
                SET after_xid = last.xid, after_id = last.id, max_id = greatest(m.max_id, (SELECT max(id) FROM passed)),
                    pruned_rows = m.pruned_rows + (SELECT count(*) FROM gone), pruned_at = now()
                FROM (SELECT xid, id FROM passed ORDER BY xid DESC, id DESC LIMIT 1) last
                WHERE m.kind = 'events'
            )
            SELECT (SELECT count(*) FROM mark) AS leader, (SELECT count(*) FROM gone) AS deleted,
                   (SELECT count(*) FROM firings) AS dependents, 0 AS next, NULL::timestamptz AS next_finished_at,
                   (SELECT count(*) FROM passed) = $2 AND NOT EXISTS (SELECT 1 FROM stop) AS more
            """,
            [age.inSeconds, limit]
        )
    }

    /// What a prune would delete now: the cutoff of each kind with an age and how many rows
    /// are older. It reads every candidate row, so it is for an operator, not for a hot path.
    public func preview(_ policy: RetentionPolicy) async throws -> [RetentionPreview] {
        var previews: [RetentionPreview] = []
        for kind in RetentionPolicy.Kind.allCases {
            guard let age = policy.age(of: kind) else {
                previews.append(RetentionPreview(kind: kind, age: nil, cutoff: nil, rows: 0))
                continue
            }
            let sql: String
            switch kind {
            case .tasks:
                // As a batch decides: a step of a handoff chain counts only when its whole chain goes.
                sql = """
                    SELECT now() - $1 * interval '1 second' AS cutoff, count(*) AS n FROM tasks t
                    WHERE \(Self.prunable("t"))
                      AND (NOT \(TaskStore.inChain("t"))
                           OR NOT EXISTS (SELECT 1 FROM tasks s
                                          WHERE s.chain_id = t.chain_id AND \(TaskStore.inChain("s"))
                                            AND NOT (\(Self.prunable("s")))))
                    """
            case .events:
                sql = """
                    SELECT now() - $1 * interval '1 second' AS cutoff, count(*) AS n FROM events e, webhook_dispatch d
                    WHERE e.occurred_at < now() - $1 * interval '1 second' AND (e.xid, e.id) <= (d.after_xid, d.after_id)
                      AND e.entity_type IS DISTINCT FROM 'customer'
                      AND e.id NOT IN (SELECT event_id FROM webhook_deliveries WHERE state IN ('pending', 'retrying'))
                    """
            case .webhookDeliveries:
                sql = """
                    SELECT now() - $1 * interval '1 second' AS cutoff, count(*) AS n FROM webhook_deliveries d
                    WHERE d.state IN ('delivered', 'dead', 'cancelled') AND d.updated_at < now() - $1 * interval '1 second'
                    """
            }
            guard let row = try await pool.query(sql, [age.inSeconds]).first else { continue }
            previews.append(
                RetentionPreview(kind: kind, age: age, cutoff: try row.decode(Date.self, "cutoff"), rows: try row.decode(Int.self, "n"))
            )
        }
        return previews
    }

    private func batch(_ sql: String, _ bindings: PostgresConnection.Binds) async throws -> Batch {
        guard let row = try await pool.query(sql, bindings).first else { throw BatonError(.internalError, "a prune batch returned nothing") }
        return Batch(
            leader: try row.decode(Int.self, "leader") > 0,
            deleted: try row.decode(Int.self, "deleted"),
            dependents: try row.decode(Int.self, "dependents"),
            next: Batch.Position(id: try row.decode(Int?.self, "next") ?? 0, finishedAt: try row.decode(Date?.self, "next_finished_at")),
            more: try row.decode(Bool.self, "more")
        )
    }
}
