import Foundation
import PostgresClient

extension TaskStore {
    /// Counts that stay cheap however much history there is: live states and dead tasks come
    /// from partial indexes (their size is the queue, not the history): queued tasks as the
    /// claimable ones (`tasks_claim_idx`) plus the held ones (`tasks_held_idx`), each condition
    /// spelled as its index's predicate so the planner can use it. Recent completions come from a
    /// range of the `done` partial index, lifetime totals from the counter tables. The oldest
    /// age is that of the oldest claimable task that is due (a held task waits on purpose), as
    /// in `baton_queue_oldest_age_seconds`, read as the first entry of each priority (0 to 3)
    /// in the claim index. `TeamStatsPlanTests` keeps every read on those indexes.
    public func stats(team: String) async throws -> TeamStats {
        let row = try await pool.query(Self.statsSQL, [team]).first
        guard let row else { throw BatonError.notFound("no such team") }
        var counts: [String: Int] = [
            "queued": try row.decode(Int.self, "queued"),
            "claimed": try row.decode(Int.self, "claimed"),
            "dead": try row.decode(Int.self, "dead"),
            "done": 0, "cancelled": 0, "handed_off": 0,
        ]
        if let totals = try row.decodeJSON([String: Int]?.self, "totals") {
            for (state, total) in totals { counts[state] = total }
        }
        return TeamStats(
            team: team,
            paused: try row.decode(Bool.self, "paused"),
            counts: counts,
            oldestQueuedAgeSeconds: try row.decode(Double?.self, "oldest"),
            completedLast5Minutes: try row.decode(Int.self, "done5"),
            completedLast60Minutes: try row.decode(Int.self, "done60"),
            dead: counts["dead"] ?? 0
        )
    }

    /// The statement behind ``stats(team:)``; its one parameter is the team's slug.
    static let statsSQL = """
        SELECT t.paused,
               (SELECT count(*) FROM tasks WHERE team = $1 AND state = 'queued' AND held_at IS NULL)
                 + (SELECT count(*) FROM tasks WHERE team = $1 AND state = 'queued' AND held_at IS NOT NULL) AS queued,
               (SELECT count(*) FROM tasks WHERE team = $1 AND state = 'claimed') AS claimed,
               (SELECT count(*) FROM tasks WHERE team = $1 AND state = 'dead') AS dead,
               (SELECT extract(epoch FROM now() - min(first.run_at))::float8
                  FROM generate_series(0, 3) AS p (priority),
                       LATERAL (SELECT run_at FROM tasks
                                 WHERE team = $1 AND state = 'queued' AND held_at IS NULL AND priority = p.priority
                                 ORDER BY run_at LIMIT 1) AS first
                 WHERE first.run_at <= now()) AS oldest,
               (SELECT count(*) FROM tasks WHERE team = $1 AND state = 'done'
                 AND finished_at > now() - interval '5 minutes') AS done5,
               (SELECT count(*) FROM tasks WHERE team = $1 AND state = 'done'
                 AND finished_at > now() - interval '60 minutes') AS done60,
               (SELECT jsonb_object_agg(state, total)::text FROM (
                   SELECT state, sum(total)::bigint AS total FROM (
                       SELECT state, total FROM team_task_totals WHERE team = $1
                       UNION ALL
                       SELECT state, delta FROM team_task_deltas WHERE team = $1
                   ) parts GROUP BY state) totals) AS totals
        FROM teams t WHERE t.slug = $1
        """

    /// Live work of every team and of the webhook deliveries' system queue for the metrics
    /// endpoint (zero included, so a drained queue reads 0): claimable queued tasks with the
    /// age of the oldest, claimed and dead tasks. Each part reads one partial index, so the
    /// cost follows the live work, not the history.
    public func queueDepths() async throws -> [QueueDepth] {
        let rows = try await pool.query(
            """
            SELECT t.slug AS team, s.state, coalesce(live.n, 0) AS n, live.oldest
            FROM (SELECT slug FROM teams UNION ALL SELECT \(WebhookStore.queue)::text) t
            CROSS JOIN (VALUES ('queued'), ('claimed'), ('dead')) AS s (state)
            LEFT JOIN (
                SELECT team, 'queued' AS state, count(*) AS n,
                       extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now()))::float8 AS oldest
                  FROM tasks WHERE state = 'queued' AND held_at IS NULL GROUP BY team
                UNION ALL
                SELECT team, 'claimed', count(*), NULL FROM tasks WHERE state = 'claimed' GROUP BY team
                UNION ALL
                SELECT team, 'dead', count(*), NULL FROM tasks WHERE state = 'dead' GROUP BY team
            ) AS live ON live.team = t.slug AND live.state = s.state
            ORDER BY t.slug, s.state
            """,
            prepared: true
        )
        return try rows.map { row in
            QueueDepth(
                team: try row.decode(String.self, "team"),
                state: try row.decode(String.self, "state"),
                count: try row.decode(Int.self, "n"),
                oldestAgeSeconds: try row.decode(Double?.self, "oldest")
            )
        }
    }

    /// Folds counter deltas into the totals; safe to run from every instance at once.
    @discardableResult
    public func foldCounters() async throws -> Int {
        try await pool.query(
            """
            WITH folded AS (
                DELETE FROM team_task_deltas
                WHERE id IN (SELECT id FROM team_task_deltas ORDER BY id LIMIT 10000 FOR UPDATE SKIP LOCKED)
                RETURNING team, state, delta
            )
            INSERT INTO team_task_totals (team, state, total)
            SELECT team, state, sum(delta) FROM folded GROUP BY team, state
            ON CONFLICT (team, state) DO UPDATE SET total = team_task_totals.total + excluded.total
            """
        ).affectedRows
    }

    /// Requeues tasks whose lease expired (the attempt stays counted), or marks them dead when
    /// their attempts are used up. Safe in every instance at once: rows are taken with
    /// SKIP LOCKED, so two reapers never handle the same task.
    @discardableResult
    public func reapExpiredLeases(limit: Int = 500) async throws -> [QueueTask] {
        try await pool.query(
            """
            WITH expired AS MATERIALIZED (
                SELECT id FROM tasks
                WHERE state = 'claimed' AND lease_expires_at < now()
                ORDER BY lease_expires_at
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            ),
            reaped AS (
                UPDATE tasks t
                SET state = CASE WHEN t.attempts >= t.max_attempts THEN 'dead' ELSE 'queued' END,
                    finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
                    run_at = now(), last_error = 'lease expired', lease_token = NULL, lease_expires_at = NULL,
                    updated_at = now()
                WHERE t.id = ANY (ARRAY(SELECT id FROM expired))
                RETURNING t.*
            ),
            expired_events AS (
                \(Self.eventInsert(
                    from: "reaped",
                    events: [
                        ("'task.lease_expired'", "jsonb_build_object('worker', reaped.lease_worker, 'attempt', reaped.attempts)"),
                        ("CASE WHEN reaped.state = 'dead' THEN 'task.dead' END", "jsonb_build_object('attempt', reaped.attempts)"),
                    ],
                    by: .system()))
            )
            SELECT \(unescaped: Self.columns) FROM reaped
            """
        ).map(Self.task)
    }
}
