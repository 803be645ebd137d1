public import Foundation
public import PostgresClient

/// Webhook subscriptions: the SQL that reads and writes them, with their events.
public struct WebhookStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The system queue of delivery tasks. Not a team slug (slugs have no dot), so no team,
    /// department view, team list or token scope can name it.
    public static let queue = "baton.webhooks"

    static let columns = """
        id, url, event_types, active, description, failing_since, disabled_at, version, created_at, updated_at
        """

    static func webhook(_ row: PostgresRow) throws -> Webhook {
        Webhook(
            id: try row.decode(Int.self, "id"),
            url: try row.decode(String.self, "url"),
            eventTypes: try row.decode([String].self, "event_types"),
            active: try row.decode(Bool.self, "active"),
            description: try row.decode(String?.self, "description"),
            failingSince: try row.decode(Date?.self, "failing_since"),
            disabledAt: try row.decode(Date?.self, "disabled_at"),
            version: try row.decode(Int.self, "version"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    /// A `webhook.*` event per row of CTE `source`. The URL stays out of the data: it may hold
    /// a receiver's own token, and the feed reaches more people than the subscription does.
    private static func event(_ type: String, from source: String, by principal: Principal) -> PostgresQuery {
        EventStore.insert(
            type,
            from: source,
            entityType: "webhook",
            entity: "\(source).id::text",
            region: "NULL",
            data: """
                jsonb_build_object('event_types', to_jsonb(\(unescaped: source).event_types), 'active', \(unescaped: source).active,
                                   'version', \(unescaped: source).version)
                """,
            by: principal
        )
    }

    public func find(id: Int, on connection: PostgresConnection? = nil) async throws -> Webhook? {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM webhooks WHERE id = \(id) AND deleted_at IS NULL"
        if let connection { return try await connection.query(query).first.map(Self.webhook) }
        return try await pool.query(query).first.map(Self.webhook)
    }

    /// Subscriptions in id order, a page at a time.
    public func list(page: PageRequest) async throws -> Page<Webhook> {
        let after = try page.afterID()
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM webhooks
            WHERE id > \(after) AND deleted_at IS NULL
            ORDER BY id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.webhook)) { String($0.id) }
    }

    public func create(_ webhook: NewWebhook, secret: String, by principal: Principal, on tx: PostgresConnection) async throws -> Webhook {
        guard
            let row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO webhooks (url, event_types, secret, active, description, created_by)
                    VALUES (\(webhook.url), \(webhook.eventTypes), \(secret), \(webhook.active), nullif(\(webhook.description), ''),
                            \(principal.actorID))
                    RETURNING *
                ),
                written AS (\(Self.event("webhook.created", from: "created", by: principal)))
                SELECT \(unescaped: Self.columns) FROM created
                """
            ).first
        else { throw BatonError(.internalError, "webhook not stored") }
        return try Self.webhook(row)
    }

    /// Applies an edit if the subscription is still at `version`; `nil` when stale or gone.
    /// Turning it on again clears its failure streak.
    public func update(
        id: Int,
        version: Int,
        _ changes: WebhookChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws
        -> Webhook?
    {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE webhooks SET
                    url = coalesce(\(changes.url), url),
                    event_types = coalesce(\(changes.eventTypes)::text[], event_types),
                    secret = coalesce(\(changes.secret), secret),
                    active = coalesce(\(changes.active), active),
                    description = CASE WHEN \(changes.description)::text IS NULL THEN description ELSE nullif(\(changes.description), '') END,
                    failing_since = CASE WHEN \(changes.active)::boolean AND NOT active THEN NULL ELSE failing_since END,
                    disabled_at = CASE WHEN \(changes.active)::boolean THEN NULL ELSE disabled_at END,
                    version = version + 1, updated_at = now()
                WHERE id = \(id) AND version = \(version) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (\(Self.event("webhook.updated", from: "changed", by: principal)))
            SELECT \(unescaped: Self.columns) FROM changed
            """
        ).first.map(Self.webhook)
    }

    /// Deletes a subscription (kept for its delivery log) and cancels its queued deliveries.
    public func delete(id: Int, by principal: Principal, on tx: PostgresConnection) async throws -> Webhook? {
        let deleted = try await tx.query(
            """
            WITH deleted AS (
                UPDATE webhooks SET active = false, deleted_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (\(Self.event("webhook.deleted", from: "deleted", by: principal)))
            SELECT \(unescaped: Self.columns) FROM deleted
            """
        ).first.map(Self.webhook)
        if deleted != nil { try await cancelOpenDeliveries(webhook: id, on: tx) }
        return deleted
    }

    /// Cancels the deliveries of a subscription that are waiting in the queue (a claimed one
    /// finishes its attempt and is not retried).
    func cancelOpenDeliveries(webhook id: Int, on tx: PostgresConnection) async throws {
        try await tx.query(
            """
            WITH cancelled AS (
                UPDATE tasks SET state = 'cancelled', finished_at = now(), updated_at = now()
                WHERE team = \(Self.queue) AND state = 'queued'
                  AND id IN (SELECT task_id FROM webhook_deliveries WHERE webhook_id = \(id) AND state IN ('pending', 'retrying'))
                RETURNING id
            )
            UPDATE webhook_deliveries SET state = 'cancelled', next_attempt_at = NULL, updated_at = now()
            WHERE task_id IN (SELECT id FROM cancelled)
            """
        )
    }
}
