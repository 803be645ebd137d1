public import Foundation
public import PostgresClient

extension WebhookStore {
    static let deliveryColumns = """
        task_id, webhook_id, event_id, event_type, redelivery, state, attempts, last_status, last_error, next_attempt_at,
        last_attempt_at, delivered_at, created_at, updated_at
        """

    static func delivery(_ row: PostgresRow) throws -> WebhookDelivery {
        guard let state = WebhookDelivery.State(rawValue: try row.decode(String.self, "state")) else {
            throw PostgresError(code: .decoding, message: "unknown delivery state")
        }
        return WebhookDelivery(
            id: try row.decode(Int.self, "task_id"),
            webhookID: try row.decode(Int.self, "webhook_id"),
            eventID: try row.decode(Int.self, "event_id"),
            eventType: try row.decode(String.self, "event_type"),
            redelivery: try row.decode(Bool.self, "redelivery"),
            state: state,
            attempts: try row.decode(Int.self, "attempts"),
            lastStatus: try row.decode(Int?.self, "last_status"),
            lastError: try row.decode(String?.self, "last_error"),
            nextAttemptAt: try row.decode(Date?.self, "next_attempt_at"),
            lastAttemptAt: try row.decode(Date?.self, "last_attempt_at"),
            deliveredAt: try row.decode(Date?.self, "delivered_at"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    /// A subscription's deliveries, newest first, a page at a time.
    public func deliveries(webhook id: Int, page: PageRequest) async throws -> Page<WebhookDelivery> {
        let after = try page.afterID()
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.deliveryColumns) FROM webhook_deliveries
            WHERE webhook_id = \(id) AND (\(after) = 0 OR task_id < \(after))
            ORDER BY task_id DESC LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.delivery)) { String($0.id) }
    }

    /// The delivery tasks for the rows of CTE `source` (columns task_id, webhook_id, event_id,
    /// event_type), due now, with their log rows; for use inside a `WITH`.
    private static func enqueue(from source: String, redelivery: Bool, settings: WebhookSettings) -> PostgresQuery {
        """
        queued AS (
            INSERT INTO tasks (id, chain_id, team, region, kind, title, payload, max_attempts, backoff_base_seconds,
                               subject_type, subject_id, created_by)
            SELECT s.task_id, s.task_id, \(Self.queue), '', 'webhook.delivery',
                   'Deliver event ' || s.event_id || ' (' || s.event_type || ') to webhook ' || s.webhook_id,
                   jsonb_build_object('webhook_id', s.webhook_id, 'event_id', s.event_id),
                   \(settings.maxAttempts), \(settings.backoffBaseSeconds), 'webhook', s.webhook_id::text, 'system'
            FROM \(unescaped: source) s
            RETURNING id
        ),
        logged AS (
            INSERT INTO webhook_deliveries (task_id, webhook_id, event_id, event_type, redelivery, next_attempt_at)
            SELECT s.task_id, s.webhook_id, s.event_id, s.event_type, \(redelivery), now()
            FROM \(unescaped: source) s JOIN queued q ON q.id = s.task_id
            RETURNING *
        )
        """
    }

    /// What one dispatch step did.
    public struct Dispatch: Sendable, Equatable {
        /// False when another server holds the cursor (it is the dispatcher right now).
        public var leader: Bool
        public var events: Int
        public var queued: Int
    }

    /// Takes up to `limit` events after the cursor in feed order (only those whose transaction
    /// has ended, as the feed does), queues one delivery per event and matching live
    /// subscription, and moves the cursor past them: one statement, so an event is queued
    /// exactly once. The cursor row is taken with SKIP LOCKED: while one server dispatches,
    /// the others' steps do nothing. Events about the system queue's own tasks are passed over,
    /// or every delivery would beget more. The cursor is two scalars in the row comparison, so it
    /// bounds the feed index scan (as in ``EventStore``); joined as a row it was only a filter,
    /// and each step read the whole log while holding its transaction id, which held the feed
    /// back for every follower (half a second per step at a million events).
    public func dispatch(limit: Int, settings: WebhookSettings) async throws -> Dispatch {
        let row = try await pool.query(
            """
            WITH mark AS MATERIALIZED (
                SELECT after_xid, after_id FROM webhook_dispatch FOR UPDATE SKIP LOCKED
            ),
            batch AS MATERIALIZED (
                SELECT e.xid, e.id, e.type, e.team, e.occurred_at FROM events e
                WHERE (e.xid, e.id) > ((SELECT after_xid FROM mark), (SELECT after_id FROM mark))
                  AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY e.xid, e.id
                LIMIT \(limit)
            ),
            matched AS MATERIALIZED (
                SELECT nextval('tasks_id_seq') AS task_id, m.* FROM (
                    SELECT w.id AS webhook_id, b.id AS event_id, b.type AS event_type
                    FROM batch b JOIN webhooks w
                      ON w.active AND w.deleted_at IS NULL AND b.occurred_at >= w.created_at
                     AND EXISTS (SELECT 1 FROM unnest(w.event_types) AS p (pattern)
                                 WHERE p.pattern = '*' OR p.pattern = b.type
                                    OR (right(p.pattern, 2) = '.*' AND starts_with(b.type, left(p.pattern, -1))))
                    WHERE b.team IS DISTINCT FROM \(Self.queue)
                    ORDER BY b.xid, b.id, w.id
                ) m
            ),
            \(Self.enqueue(from: "matched", redelivery: false, settings: settings)),
            moved AS (
                UPDATE webhook_dispatch d SET after_xid = last.xid, after_id = last.id, updated_at = now()
                FROM (SELECT xid, id FROM batch ORDER BY xid DESC, id DESC LIMIT 1) last
                WHERE d.singleton
            )
            SELECT (SELECT count(*) FROM mark) AS leader, (SELECT count(*) FROM batch) AS events,
                   (SELECT count(*) FROM logged) AS queued
            """
        ).first
        guard let row else { throw BatonError(.internalError, "dispatch returned nothing") }
        return Dispatch(
            leader: try row.decode(Int.self, "leader") > 0,
            events: try row.decode(Int.self, "events"),
            queued: try row.decode(Int.self, "queued")
        )
    }

    /// Queues `event` for the subscription again, due now, whatever became of earlier deliveries.
    public func redeliver(webhook id: Int, event: Int, settings: WebhookSettings, on tx: PostgresConnection) async throws -> WebhookDelivery? {
        try await tx.query(
            """
            WITH source AS MATERIALIZED (
                SELECT nextval('tasks_id_seq') AS task_id, \(id)::int8 AS webhook_id, e.id AS event_id, e.type AS event_type
                FROM events e WHERE e.id = \(event)
            ),
            \(Self.enqueue(from: "source", redelivery: true, settings: settings))
            SELECT \(unescaped: Self.deliveryColumns) FROM logged
            """
        ).first.map(Self.delivery)
    }

    /// A claimed delivery: the task's lease, the subscription as it is now, and the event.
    public struct Claimed: Sendable {
        public var taskID: Int
        public var leaseToken: UUID
        public var attempt: Int
        public var webhookID: Int
        public var url: String
        public var secret: String
        /// The subscription still exists and is on.
        public var live: Bool
        /// The event; `nil` if it no longer exists.
        public var event: Event?
    }

    /// Claims up to `limit` due deliveries with a lease, as a department queue's claim does
    /// (SKIP LOCKED through the claim index).
    public func claim(worker: String, limit: Int, leaseSeconds: Int) async throws -> [Claimed] {
        let rows = try await pool.query(
            """
            WITH picked AS MATERIALIZED (
                SELECT id FROM tasks
                WHERE team = \(Self.queue) AND state = 'queued' AND run_at <= now() AND held_at IS NULL
                ORDER BY priority, run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            ),
            claimed AS (
                UPDATE tasks t
                SET state = 'claimed', attempts = t.attempts + 1, lease_worker = \(worker), lease_token = gen_random_uuid(),
                    lease_expires_at = now() + make_interval(secs => \(leaseSeconds)), claimed_at = now(), updated_at = now()
                WHERE t.id = ANY (ARRAY(SELECT id FROM picked))
                RETURNING t.id, t.attempts, t.lease_token
            )
            SELECT c.id AS task_id, c.attempts AS attempt, c.lease_token, w.id AS webhook_id, w.url, w.secret,
                   w.active AND w.deleted_at IS NULL AS live, e.id IS NOT NULL AS has_event,
                   \(unescaped: EventStore.columns(of: "e"))
            FROM claimed c
            JOIN webhook_deliveries d ON d.task_id = c.id
            JOIN webhooks w ON w.id = d.webhook_id
            LEFT JOIN events e ON e.id = d.event_id
            ORDER BY c.id
            """
        )
        return try rows.map { row in
            Claimed(
                taskID: try row.decode(Int.self, "task_id"),
                leaseToken: try row.decode(UUID.self, "lease_token"),
                attempt: try row.decode(Int.self, "attempt"),
                webhookID: try row.decode(Int.self, "webhook_id"),
                url: try row.decode(String.self, "url"),
                secret: try row.decode(String.self, "secret"),
                live: try row.decode(Bool.self, "live"),
                event: try row.decode(Bool.self, "has_event") ? try EventStore.event(row) : nil
            )
        }
    }

    /// Records a delivery the receiver accepted: the task done, the log delivered, the
    /// subscription's failure streak over. Fenced on the lease token; false when it was stale.
    public func delivered(_ claimed: Claimed, status: Int) async throws -> Bool {
        try await pool.query(
            """
            WITH done AS (
                UPDATE tasks SET state = 'done', result = jsonb_build_object('status', \(status)), lease_token = NULL,
                       lease_expires_at = NULL, finished_at = now(), updated_at = now()
                WHERE id = \(claimed.taskID) AND state = 'claimed' AND lease_token = \(claimed.leaseToken)
                RETURNING id, attempts, team
            ),
            logged AS (
                UPDATE webhook_deliveries d
                SET state = 'delivered', attempts = done.attempts, last_status = \(status), last_error = NULL,
                    next_attempt_at = NULL, last_attempt_at = now(), delivered_at = now(), updated_at = now()
                FROM done WHERE d.task_id = done.id
            ),
            healthy AS (
                UPDATE webhooks SET failing_since = NULL
                WHERE id = \(claimed.webhookID) AND failing_since IS NOT NULL AND EXISTS (SELECT 1 FROM done)
            ),
            counted AS (\(unescaped: TaskStore.countFinished(from: "done", state: "'done'")))
            SELECT count(*) AS n FROM done
            """
        ).first?.decode(Int.self, "n") == 1
    }

    /// What a failed attempt led to.
    public struct Failure: Sendable, Equatable {
        /// The attempts are used up.
        public var dead: Bool
        /// The subscription was turned off: it has failed for longer than `disableAfter`.
        public var disabled: Bool
    }

    /// Records a failed attempt (an HTTP status, or none when no response came): the task back
    /// in the queue after an exponential, jittered backoff, or dead; the log updated; the
    /// subscription's failure streak started. A subscription failing for longer than
    /// `settings.disableAfter` is turned off with a `webhook.disabled` event and its queued
    /// deliveries cancelled. One transaction; `nil` when the lease was stale.
    public func failed(_ claimed: Claimed, status: Int?, error: String, settings: WebhookSettings) async throws -> Failure? {
        let message = String(error.prefix(500))
        return try await pool.transaction { tx -> Failure? in
            guard
                let row = try await tx.query(
                    """
                    WITH failed AS (
                        UPDATE tasks t
                        SET state = CASE WHEN t.attempts >= t.max_attempts THEN 'dead' ELSE 'queued' END,
                            run_at = CASE WHEN t.attempts >= t.max_attempts THEN t.run_at
                                     ELSE now() + make_interval(secs => least(\(settings.backoffMaxSeconds)::float8,
                                              coalesce(t.backoff_base_seconds, \(settings.backoffBaseSeconds)) * power(2, t.attempts - 1))
                                              * (0.75 + random() * 0.5)) END,
                            finished_at = CASE WHEN t.attempts >= t.max_attempts THEN now() END,
                            last_error = \(message), lease_token = NULL, lease_expires_at = NULL, updated_at = now()
                        WHERE t.id = \(claimed.taskID) AND t.state = 'claimed' AND t.lease_token = \(claimed.leaseToken)
                        RETURNING t.id, t.state, t.attempts, t.run_at
                    ),
                    logged AS (
                        UPDATE webhook_deliveries d
                        SET state = CASE failed.state WHEN 'dead' THEN 'dead' ELSE 'retrying' END, attempts = failed.attempts,
                            last_status = \(status), last_error = \(message),
                            next_attempt_at = CASE failed.state WHEN 'dead' THEN NULL ELSE failed.run_at END,
                            last_attempt_at = now(), updated_at = now()
                        FROM failed WHERE d.task_id = failed.id
                    ),
                    streak AS (
                        UPDATE webhooks SET failing_since = coalesce(failing_since, now())
                        WHERE id = \(claimed.webhookID) AND EXISTS (SELECT 1 FROM failed)
                        RETURNING failing_since
                    )
                    SELECT failed.state = 'dead' AS dead,
                           coalesce((SELECT failing_since <= now() - make_interval(secs => \(Double(settings.disableAfter.components.seconds)))
                                     FROM streak), false) AS expired
                    FROM failed
                    """
                ).first
            else { return nil }
            var outcome = Failure(dead: try row.decode(Bool.self, "dead"), disabled: false)
            if try row.decode(Bool.self, "expired") {
                outcome.disabled = try await disable(webhook: claimed.webhookID, on: tx)
            }
            return outcome
        }
    }

    /// Turns off a subscription that keeps failing, with a `webhook.disabled` event, and
    /// cancels its queued deliveries; false when it was already off.
    private func disable(webhook id: Int, on tx: PostgresConnection) async throws -> Bool {
        let principal = Principal.system()
        let disabled =
            try await tx.query(
                """
                WITH disabled AS (
                    UPDATE webhooks SET active = false, disabled_at = now(), version = version + 1, updated_at = now()
                    WHERE id = \(id) AND active AND deleted_at IS NULL
                    RETURNING *
                ),
                written AS (
                    \(EventStore.insert(
                    "webhook.disabled", from: "disabled", entityType: "webhook", entity: "disabled.id::text", region: "NULL",
                    data: "jsonb_build_object('failing_since', disabled.failing_since, 'version', disabled.version)", by: principal))
                )
                SELECT id FROM disabled
                """
            ).first != nil
        if disabled { try await cancelOpenDeliveries(webhook: id, on: tx) }
        return disabled
    }

    /// Ends a claimed delivery whose subscription was deleted or turned off, or whose event is gone.
    public func cancel(_ claimed: Claimed, reason: String) async throws {
        try await pool.query(
            """
            WITH cancelled AS (
                UPDATE tasks SET state = 'cancelled', last_error = \(reason), lease_token = NULL, lease_expires_at = NULL,
                       finished_at = now(), updated_at = now()
                WHERE id = \(claimed.taskID) AND state = 'claimed' AND lease_token = \(claimed.leaseToken)
                RETURNING id
            )
            UPDATE webhook_deliveries SET state = 'cancelled', last_error = \(reason), next_attempt_at = NULL, updated_at = now()
            WHERE task_id IN (SELECT id FROM cancelled)
            """
        )
    }
}
