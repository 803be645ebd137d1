public import Foundation
public import PostgresClient

extension TaskStore {
    /// Why a lease-fenced change did not happen.
    public enum FenceFailure: Error, Sendable {
        /// No such task.
        case notFound
        /// The task is not claimed under this token (any more); carries its current state.
        case staleLease(QueueTask)
    }

    /// Claims up to `limit` claimable tasks of a team in one statement: highest priority, then
    /// earliest `run_at`, then id. Rows another worker is claiming are skipped, not waited for.
    /// A paused team yields nothing.
    public func claim(
        team: String,
        worker: String,
        limit: Int,
        leaseSeconds: Int,
        kinds: [String]?,
        by principal: Principal
    ) async throws -> [QueueTask] {
        // The update finds its rows through an id array, not a join with `picked`: under generic
        // plans the planner guesses `LIMIT $2` at a tenth of the backlog and could merge-join
        // through the whole primary key (history included) to find a single row.
        let kindFilter: PostgresQuery = kinds.map { "AND kind = ANY(\($0))" } ?? ""
        return try await pool.query(
            """
            WITH picked AS MATERIALIZED (
                SELECT id FROM tasks
                WHERE team = \(team) AND state = 'queued' AND run_at <= now() AND held_at IS NULL \(kindFilter)
                  AND NOT (SELECT paused FROM teams WHERE slug = \(team))
                ORDER BY priority, run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            ),
            claimed AS (
                UPDATE tasks t
                SET state = 'claimed', attempts = t.attempts + 1, lease_worker = \(worker), lease_token = gen_random_uuid(),
                    lease_expires_at = now() + make_interval(secs => \(leaseSeconds)), claimed_at = now(), updated_at = now()
                WHERE t.id = ANY (ARRAY(SELECT id FROM picked))
                RETURNING t.*
            ),
            claimed_events AS (
                \(Self.eventInsert(
                    from: "claimed", type: "'task.claimed'",
                    data: "jsonb_build_object('worker', claimed.lease_worker, 'attempt', claimed.attempts, 'lease_expires_at', claimed.lease_expires_at)",
                    by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM claimed ORDER BY priority, run_at, id
            """,
            prepared: true
        ).map(Self.task)
    }

    /// Extends a lease. Fenced on the token; an expired lease cannot be extended.
    public func heartbeat(
        id: Int,
        leaseToken: UUID,
        leaseSeconds: Int?,
        scope: Scope
    ) async throws -> Result<QueueTask, FenceFailure> {
        let rows = try await pool.query(
            """
            UPDATE tasks t
            SET lease_expires_at = now() + make_interval(secs => coalesce(\(leaseSeconds), tm.default_lease_seconds)),
                updated_at = now()
            FROM teams tm
            WHERE t.id = \(id) AND t.team = tm.slug AND t.state = 'claimed' AND t.lease_token = \(leaseToken)
              AND t.lease_expires_at > now() AND \(scope.condition(team: "t.team", region: "t.region"))
            RETURNING \(unescaped: Self.columns(of: "t"))
            """,
            prepared: true
        )
        return try await fenced(id: id, rows, scope: scope)
    }

    /// Completes a claimed task. Fenced on the token: a stale token changes nothing.
    public func complete(
        id: Int,
        leaseToken: UUID,
        resultJSON: String?,
        by principal: Principal
    ) async throws -> Result<QueueTask, FenceFailure> {
        let rows = try await pool.query(
            """
            WITH done AS (
                UPDATE tasks
                SET state = 'done', result = \(resultJSON.map(PostgresJSONText.init))::jsonb, lease_token = NULL,
                    lease_expires_at = NULL, finished_at = now(), updated_at = now()
                WHERE id = \(id) AND state = 'claimed' AND lease_token = \(leaseToken) AND lease_expires_at > now()
                  AND \(principal.scope.condition(team: "tasks.team", region: "tasks.region"))
                RETURNING *
            ),
            done_events AS (
                \(Self.eventInsert(
                    from: "done", type: "'task.completed'",
                    data: "jsonb_build_object('worker', done.lease_worker, 'attempt', done.attempts)", by: principal))
            ),
            counted AS (\(unescaped: Self.countFinished(from: "done", state: "'done'")))
            SELECT \(unescaped: Self.columns) FROM done
            """,
            prepared: true
        )
        return try await fenced(id: id, rows, scope: principal.scope)
    }

    /// One item of a batch completion.
    public struct CompletionItem: Sendable {
        public var id: Int
        public var leaseToken: UUID
        public var resultJSON: String?

        public init(id: Int, leaseToken: UUID, resultJSON: String?) {
            self.id = id
            self.leaseToken = leaseToken
            self.resultJSON = resultJSON
        }
    }

    /// Completes many claimed tasks in one transaction; each item succeeds or fails on its own
    /// lease, and items of teams outside the caller's scope are not found (and not touched).
    /// Returns, per item, the completed task or why not.
    public func completeMany(
        _ items: [CompletionItem],
        by principal: Principal
    ) async throws -> [Result<QueueTask, FenceFailure>] {
        guard !items.isEmpty else { return [] }
        let scope = principal.scope.condition(team: "t.team", region: "t.region")
        let rows = try await pool.query(
            """
            WITH input AS (
                SELECT * FROM unnest(\(items.map(\.id))::int8[],
                                     \(PostgresTextArray(items.map { $0.leaseToken.uuidString.lowercased() }))::text[],
                                     \(PostgresTextArray(items.map(\.resultJSON)))::text[]) AS i(id, token, result)
            ),
            done AS (
                UPDATE tasks t
                SET state = 'done', result = input.result::jsonb, lease_token = NULL, lease_expires_at = NULL,
                    finished_at = now(), updated_at = now()
                FROM input
                WHERE t.id = input.id AND t.state = 'claimed' AND t.lease_token = input.token::uuid
                  AND t.lease_expires_at > now() AND \(scope)
                RETURNING t.*
            ),
            done_events AS (
                \(Self.eventInsert(
                    from: "done", type: "'task.completed'",
                    data: "jsonb_build_object('worker', done.lease_worker, 'attempt', done.attempts)", by: principal))
            ),
            counted AS (\(unescaped: Self.countFinished(from: "done", state: "'done'")))
            SELECT \(unescaped: Self.columns) FROM done
            """,
            prepared: true
        )
        var completed: [Int: QueueTask] = [:]
        for row in rows {
            let task = try Self.task(row)
            completed[task.id] = task
        }
        let missing = items.map(\.id).filter { completed[$0] == nil }
        var current: [Int: QueueTask] = [:]
        if !missing.isEmpty {
            let visible = principal.scope.condition(team: "team", region: "region")
            for row in try await pool.query("SELECT \(unescaped: Self.columns) FROM tasks WHERE id = ANY(\(missing)) AND \(visible)") {
                let task = try Self.task(row)
                current[task.id] = task
            }
        }
        var seen: Set<Int> = []
        return items.map { item in
            // The same id twice in one batch completes once; the second mention is stale.
            if let task = completed[item.id], seen.insert(item.id).inserted { return .success(task) }
            if let task = current[item.id] ?? completed[item.id] { return .failure(.staleLease(task)) }
            return .failure(.notFound)
        }
    }

    /// Records a failed attempt: back to the queue after an exponential, jittered backoff, or
    /// dead when the attempts are used up. Fenced on the token.
    public func fail(
        id: Int,
        leaseToken: UUID,
        error: String,
        retryInSeconds: Int?,
        by principal: Principal
    ) async throws -> Result<QueueTask, FenceFailure> {
        let rows = try await pool.query(
            """
            WITH failed AS (
                UPDATE tasks t
                SET state = CASE WHEN t.attempts >= t.max_attempts THEN 'dead' ELSE 'queued' END,
                    run_at = CASE WHEN t.attempts >= t.max_attempts THEN t.run_at
                             ELSE now() + make_interval(secs => coalesce(\(retryInSeconds)::float8,
                                 least(tm.backoff_max_seconds::float8,
                                       coalesce(t.backoff_base_seconds, tm.backoff_base_seconds) * power(2, t.attempts - 1))
                                 * (0.75 + random() * 0.5))) END,
                    finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
                    last_error = \(error), lease_token = NULL, lease_expires_at = NULL, updated_at = now()
                FROM teams tm
                WHERE t.id = \(id) AND t.team = tm.slug AND t.state = 'claimed' AND t.lease_token = \(leaseToken)
                  AND t.lease_expires_at > now() AND \(principal.scope.condition(team: "t.team", region: "t.region"))
                RETURNING t.*
            ),
            failed_events AS (
                \(Self.eventInsert(
                    from: "failed",
                    events: [
                        ("'task.failed'", "jsonb_build_object('error', failed.last_error, 'attempt', failed.attempts)"),
                        (
                            "CASE failed.state WHEN 'dead' THEN 'task.dead' ELSE 'task.retry_scheduled' END",
                            "jsonb_build_object('attempt', failed.attempts, 'max_attempts', failed.max_attempts, 'run_at', failed.run_at)"
                        ),
                    ],
                    by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM failed
            """,
            prepared: true
        )
        return try await fenced(id: id, rows, scope: principal.scope)
    }

    /// Puts a claimed task back in the queue at once, without counting the attempt.
    public func release(id: Int, leaseToken: UUID, by principal: Principal) async throws -> Result<QueueTask, FenceFailure> {
        let rows = try await pool.query(
            """
            WITH released AS (
                UPDATE tasks
                SET state = 'queued', attempts = greatest(attempts - 1, 0), run_at = now(), lease_token = NULL,
                    lease_expires_at = NULL, updated_at = now()
                WHERE id = \(id) AND state = 'claimed' AND lease_token = \(leaseToken) AND lease_expires_at > now()
                  AND \(principal.scope.condition(team: "tasks.team", region: "tasks.region"))
                RETURNING *
            ),
            released_events AS (
                \(Self.eventInsert(
                    from: "released", type: "'task.released'", data: "jsonb_build_object('worker', released.lease_worker)",
                    by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM released
            """
        )
        return try await fenced(id: id, rows, scope: principal.scope)
    }

    /// Moves a task from one of `from` states to `to` with an event; `nil` when it was not in
    /// one of those states (or does not exist). Used for retry (dead → queued) and cancel; on
    /// `connection` when it is part of the caller's transaction.
    public func transition(
        id: Int,
        from: [TaskState],
        to: TaskState,
        eventType: String,
        reason: String?,
        by principal: Principal,
        on connection: PostgresConnection? = nil
    ) async throws -> QueueTask? {
        let resetAttempts = to == .queued
        let changedEvents: PostgresQuery = """
            INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
            SELECT \(eventType), \(principal.source), 'principal', \(principal.actorID), 'task', changed.id::text, changed.team,
                   changed.region, jsonb_strip_nulls(jsonb_build_object('reason', \(reason)::text))
            FROM changed
            """
        let query: PostgresQuery = """
            WITH changed AS (
                UPDATE tasks
                SET state = \(to.rawValue),
                    attempts = CASE WHEN \(resetAttempts) THEN 0 ELSE attempts END,
                    run_at = CASE WHEN \(resetAttempts) THEN now() ELSE run_at END,
                    finished_at = CASE WHEN \(to.isLive) THEN NULL ELSE now() END,
                    lease_token = NULL, lease_expires_at = NULL, updated_at = now(),
                    held_at = NULL, hold_until = NULL, hold_reason = NULL
                WHERE id = \(id) AND state = ANY(\(from.map(\.rawValue)))
                RETURNING *
            ),
            changed_events AS (
                \(changedEvents)
            ),
            counted AS (\(unescaped: Self.countFinished(from: "changed", state: "changed.state")))
            SELECT \(unescaped: Self.columns) FROM changed
            """
        let rows = try await pool.query(query, on: connection)
        return try rows.first.map(Self.task)
    }

    /// An `INSERT` of the finished-state counter deltas for the rows of CTE `source` that are
    /// now in `state` (an SQL expression over them): one row per team and state, and only for
    /// the states whose lifetime totals team stats report (done, cancelled, handed off).
    static func countFinished(from source: String, state: String) -> String {
        """
        INSERT INTO team_task_deltas (team, state, delta)
        SELECT \(source).team, \(state), count(*) FROM \(source)
        WHERE \(state) IN ('done', 'cancelled', 'handed_off')
        GROUP BY 1, 2
        """
    }

    /// The task a lease-fenced change produced, or why not: not found (or out of scope), or
    /// stale with the task's current state.
    private func fenced(id: Int, _ rows: PostgresQueryResult, scope: Scope) async throws -> Result<QueueTask, FenceFailure> {
        if let row = rows.first { return .success(try Self.task(row)) }
        guard let current = try await find(id: id, scope: scope) else { return .failure(.notFound) }
        return .failure(.staleLease(current))
    }

    /// Raises a task's priority to `rank` (a lower rank), on the caller's transaction.
    public func raisePriority(id: Int, to rank: Int, on tx: PostgresConnection) async throws {
        try await tx.query("UPDATE tasks SET priority = LEAST(priority, $2), updated_at = now() WHERE id = $1", [id, rank])
    }

    /// Tasks on hold whose `until` has passed, oldest first (of one region, when given).
    public func endedHolds(region: String?, limit: Int) async throws -> [Int] {
        try await pool.query(
            """
            SELECT id FROM tasks
            WHERE hold_until <= now() AND state IN ('queued', 'claimed') AND ($1::text IS NULL OR region = $1)
            ORDER BY hold_until LIMIT $2
            """,
            [region, limit]
        ).map { try $0.decode(Int.self, "id") }
    }

    /// Moves a task's creation and `run_at` back to `date`, as if it had waited since then. For
    /// the demo data only: nothing in the API can do this.
    public func backdate(id: Int, to date: Date, on tx: PostgresConnection) async throws -> QueueTask {
        guard
            let task = try await tx.query(
                "UPDATE tasks SET created_at = $2, run_at = $2 WHERE id = $1 RETURNING \(Self.columns)",
                [id, date]
            ).first.map(Self.task)
        else { throw BatonError.notFound("no task \(id)") }
        return task
    }
}
