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
        // Two statements rather than an OR in the filter, so each gets the partial index. The
        // update finds its rows through an id array, not a join with `picked`: under generic
        // plans the planner guesses `LIMIT $2` at a tenth of the backlog and could merge-join
        // through the whole primary key (history included) to find a single row.
        let kindFilter = kinds == nil ? "" : "AND kind = ANY($7)"
        var binds: PostgresConnection.Binds = [team, limit, worker, leaseSeconds, principal.actorID, principal.source]
        if let kinds { binds.append(kinds) }
        return try await pool.query(
            """
            WITH picked AS MATERIALIZED (
                SELECT id FROM tasks
                WHERE team = $1 AND state = 'queued' AND run_at <= now() AND held_at IS NULL \(kindFilter)
                  AND NOT (SELECT paused FROM teams WHERE slug = $1)
                ORDER BY priority, run_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED
            ),
            claimed AS (
                UPDATE tasks t
                SET state = 'claimed', attempts = t.attempts + 1, lease_worker = $3, lease_token = gen_random_uuid(),
                    lease_expires_at = now() + make_interval(secs => $4), claimed_at = now(), updated_at = now()
                WHERE t.id = ANY (ARRAY(SELECT id FROM picked))
                RETURNING t.*
            ),
            claimed_events AS (
                \(Self.eventInsert(
                    from: "claimed", type: "'task.claimed'", actor: "$5", origin: "$6",
                    data: "jsonb_build_object('worker', claimed.lease_worker, 'attempt', claimed.attempts, 'lease_expires_at', claimed.lease_expires_at)"))
            )
            SELECT \(Self.columns) FROM claimed ORDER BY priority, run_at, id
            """,
            binds,
            prepared: true
        ).map(Self.task)
    }

    /// Extends a lease. Fenced on the token; an expired lease cannot be extended.
    public func heartbeat(
        id: Int,
        leaseToken: UUID,
        leaseSeconds: Int?,
        scope: Scope = Scope()
    ) async throws -> Result<QueueTask, FenceFailure> {
        let rows = try await pool.query(
            """
            UPDATE tasks t
            SET lease_expires_at = now() + make_interval(secs => coalesce($3, tm.default_lease_seconds)), updated_at = now()
            FROM teams tm
            WHERE t.id = $1 AND t.team = tm.slug AND t.state = 'claimed' AND t.lease_token = $2 AND t.lease_expires_at > now()
              AND \(Self.scopeFilter(teams: 4, regions: 5, alias: "t"))
            RETURNING \(Self.columns(of: "t"))
            """,
            [id, leaseToken, leaseSeconds] + Self.scopeBinds(scope),
            prepared: true
        )
        return try await fenced(id: id, rows)
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
                SET state = 'done', result = $3::jsonb, lease_token = NULL, lease_expires_at = NULL,
                    finished_at = now(), updated_at = now()
                WHERE id = $1 AND state = 'claimed' AND lease_token = $2 AND lease_expires_at > now()
                  AND \(Self.scopeFilter(teams: 6, regions: 7, alias: "tasks"))
                RETURNING *
            ),
            done_events AS (
                \(Self.eventInsert(
                    from: "done", type: "'task.completed'", actor: "$4", origin: "$5",
                    data: "jsonb_build_object('worker', done.lease_worker, 'attempt', done.attempts)"))
            )
            SELECT \(Self.columns) FROM done
            """,
            [id, leaseToken, resultJSON.map(PostgresJSONText.init), principal.actorID, principal.source]
                + Self.scopeBinds(principal.scope),
            prepared: true
        )
        return try await fenced(id: id, rows)
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
    /// lease. Returns, per item, the completed task or why not.
    public func completeMany(
        _ items: [CompletionItem],
        by principal: Principal
    ) async throws -> [Result<QueueTask, FenceFailure>] {
        guard !items.isEmpty else { return [] }
        let rows = try await pool.query(
            """
            WITH input AS (
                SELECT * FROM unnest($1::int8[], $2::text[], $3::text[]) AS i(id, token, result)
            ),
            done AS (
                UPDATE tasks t
                SET state = 'done', result = input.result::jsonb, lease_token = NULL, lease_expires_at = NULL,
                    finished_at = now(), updated_at = now()
                FROM input
                WHERE t.id = input.id AND t.state = 'claimed' AND t.lease_token = input.token::uuid
                  AND t.lease_expires_at > now()
                RETURNING t.*
            ),
            done_events AS (
                \(Self.eventInsert(
                    from: "done", type: "'task.completed'", actor: "$4", origin: "$5",
                    data: "jsonb_build_object('worker', done.lease_worker, 'attempt', done.attempts)"))
            )
            SELECT \(Self.columns) FROM done
            """,
            [
                items.map(\.id), PostgresTextArray(items.map { $0.leaseToken.uuidString.lowercased() }),
                PostgresTextArray(items.map(\.resultJSON)), principal.actorID, principal.source,
            ],
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
            for row in try await pool.query("SELECT \(Self.columns) FROM tasks WHERE id = ANY($1)", [missing]) {
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
                             ELSE now() + make_interval(secs => coalesce($4::float8,
                                 least(tm.backoff_max_seconds::float8,
                                       coalesce(t.backoff_base_seconds, tm.backoff_base_seconds) * power(2, t.attempts - 1))
                                 * (0.75 + random() * 0.5))) END,
                    finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
                    last_error = $3, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
                FROM teams tm
                WHERE t.id = $1 AND t.team = tm.slug AND t.state = 'claimed' AND t.lease_token = $2
                  AND t.lease_expires_at > now() AND \(Self.scopeFilter(teams: 7, regions: 8, alias: "t"))
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
                    actor: "$5", origin: "$6"))
            )
            SELECT \(Self.columns) FROM failed
            """,
            [id, leaseToken, error, retryInSeconds, principal.actorID, principal.source] + Self.scopeBinds(principal.scope),
            prepared: true
        )
        return try await fenced(id: id, rows)
    }

    /// Puts a claimed task back in the queue at once, without counting the attempt.
    public func release(id: Int, leaseToken: UUID, by principal: Principal) async throws -> Result<QueueTask, FenceFailure> {
        let rows = try await pool.query(
            """
            WITH released AS (
                UPDATE tasks
                SET state = 'queued', attempts = greatest(attempts - 1, 0), run_at = now(), lease_token = NULL,
                    lease_expires_at = NULL, updated_at = now()
                WHERE id = $1 AND state = 'claimed' AND lease_token = $2 AND lease_expires_at > now()
                  AND \(Self.scopeFilter(teams: 5, regions: 6, alias: "tasks"))
                RETURNING *
            ),
            released_events AS (
                \(Self.eventInsert(
                    from: "released", type: "'task.released'", actor: "$3", origin: "$4",
                    data: "jsonb_build_object('worker', released.lease_worker)"))
            )
            SELECT \(Self.columns) FROM released
            """,
            [id, leaseToken, principal.actorID, principal.source] + Self.scopeBinds(principal.scope)
        )
        return try await fenced(id: id, rows)
    }

    /// Moves a task from one of `from` states to `to` with an event; `nil` when it was not in
    /// one of those states (or does not exist). Used for retry (dead → queued) and cancel.
    public func transition(
        id: Int,
        from: [TaskState],
        to: TaskState,
        eventType: String,
        reason: String?,
        by principal: Principal
    ) async throws -> QueueTask? {
        let resetAttempts = to == .queued
        let rows = try await pool.query(
            """
            WITH changed AS (
                UPDATE tasks
                SET state = $3,
                    attempts = CASE WHEN $4 THEN 0 ELSE attempts END,
                    run_at = CASE WHEN $4 THEN now() ELSE run_at END,
                    finished_at = CASE WHEN $3 IN ('queued', 'claimed') THEN NULL ELSE now() END,
                    lease_token = NULL, lease_expires_at = NULL, updated_at = now(),
                    held_at = NULL, hold_until = NULL, hold_reason = NULL
                WHERE id = $1 AND state = ANY($2)
                RETURNING *
            ),
            changed_events AS (
                \(Self.eventInsert(
                    from: "changed", type: "$5", actor: "$6", origin: "$7",
                    data: "jsonb_strip_nulls(jsonb_build_object('reason', $8::text))"))
            )
            SELECT \(Self.columns) FROM changed
            """,
            [id, from.map(\.rawValue), to.rawValue, resetAttempts, eventType, principal.actorID, principal.source, reason]
        )
        return try rows.first.map(Self.task)
    }

    /// An SQL condition limiting rows to a scope, given the parameter numbers of its team and
    /// region arrays (NULL teams means unrestricted). Lets a lease-fenced change check scope in
    /// the same statement instead of reading the task first.
    static func scopeFilter(teams: Int, regions: Int, alias: String) -> String {
        "($\(teams)::text[] IS NULL OR \(alias).team = ANY($\(teams)) OR \(alias).region = ANY($\(regions)::text[]))"
    }

    static func scopeBinds(_ scope: Scope) -> PostgresConnection.Binds {
        scope.isUnrestricted ? [nil, nil] : [Array(scope.teams), Array(scope.regions)]
    }

    private func fenced(id: Int, _ rows: PostgresQueryResult) async throws -> Result<QueueTask, FenceFailure> {
        if let row = rows.first { return .success(try Self.task(row)) }
        guard let current = try await find(id: id) else { return .failure(.notFound) }
        return .failure(.staleLease(current))
    }
}
