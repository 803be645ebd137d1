import Foundation
import PostgresClient

/// Webhook subscriptions and their deliveries (admin, with every region: a subscription
/// receives every region's events). URLs are checked when a subscription is made or changed.
public struct WebhookService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let settings: WebhookSettings

    public init(database: BatonDatabase, wakeups: Wakeups, settings: WebhookSettings) {
        self.database = database
        self.wakeups = wakeups
        self.settings = settings
    }

    private var store: WebhookStore { WebhookStore(pool: database.pool) }
    private var policy: WebhookURLPolicy { WebhookURLPolicy(allowPrivateAddresses: settings.allowPrivateAddresses) }

    /// Refuses a caller who may not manage webhooks: the role first, then a token limited to
    /// some regions (a subscription would show it every region's events).
    private func authorize(_ useCase: UseCase, _ principal: Principal) throws(BatonError) {
        try principal.authorize(useCase)
        guard principal.scope.allRegions else {
            throw BatonError(.forbidden, "webhooks receive every region's events: this needs a token with every region")
        }
    }

    public func list(page: PageRequest, by principal: Principal) async throws -> Page<Webhook> {
        try authorize(.listWebhooks, principal)
        return try await store.list(page: page)
    }

    public func webhook(id: Int, by principal: Principal) async throws -> Webhook {
        try authorize(.getWebhook, principal)
        guard let webhook = try await store.find(id: id) else { throw BatonError.notFound("no webhook \(id)") }
        return webhook
    }

    /// Subscribes; returns the subscription and its secret, which is never shown again (a
    /// repeated `Idempotency-Key` is refused instead of replayed).
    public func create(_ webhook: NewWebhook, idempotencyKey: String? = nil, by principal: Principal) async throws -> (Webhook, secret: String) {
        try authorize(.createWebhook, principal)
        try webhook.validate()
        try await policy.check(webhook.url)
        let secret = webhook.secret ?? TokenStore.generateSecret(prefix: "whsec_")
        let store = self.store
        let created = try await database.pool.transaction { tx in
            if let idempotencyKey {
                try await IdempotentWrite(pool: database.pool).refuseRepeat(
                    key: idempotencyKey,
                    by: principal,
                    operation: "createWebhook",
                    request: webhook,
                    on: tx
                )
            }
            return try await store.create(webhook, secret: secret, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return (created, secret)
    }

    /// Edits a subscription if it is still at `version` (else 412). Turning it on again starts
    /// its failure streak afresh.
    public func update(id: Int, version: Int, _ changes: WebhookChanges, by principal: Principal) async throws -> Webhook {
        try authorize(.updateWebhook, principal)
        try changes.validate()
        if let url = changes.url { try await policy.check(url) }
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Webhook in
            if let updated = try await store.update(id: id, version: version, changes, by: principal, on: tx) { return updated }
            guard let current = try await store.find(id: id, on: tx) else { throw BatonError.notFound("no webhook \(id)") }
            throw BatonError.stale(version: current.version)
        }
        wakeups.eventsWritten()
        return updated
    }

    /// Deletes a subscription; its queued deliveries are cancelled, its log kept.
    public func delete(id: Int, by principal: Principal) async throws -> Webhook {
        try authorize(.deleteWebhook, principal)
        let store = self.store
        let deleted = try await database.pool.transaction { tx in
            try await store.delete(id: id, by: principal, on: tx)
        }
        guard let deleted else { throw BatonError.notFound("no webhook \(id)") }
        wakeups.eventsWritten()
        return deleted
    }

    public func deliveries(webhook id: Int, page: PageRequest, by principal: Principal) async throws -> Page<WebhookDelivery> {
        try authorize(.listWebhookDeliveries, principal)
        guard try await store.find(id: id) != nil else { throw BatonError.notFound("no webhook \(id)") }
        return try await store.deliveries(webhook: id, page: page)
    }

    /// Queues an event for a subscription again, due now. The subscription must be on.
    public func redeliver(webhook id: Int, event: Int, by principal: Principal) async throws -> WebhookDelivery {
        try authorize(.redeliverWebhookEvent, principal)
        let store = self.store
        let settings = self.settings
        return try await database.pool.transaction { tx in
            guard let webhook = try await store.find(id: id, on: tx) else { throw BatonError.notFound("no webhook \(id)") }
            guard webhook.active else {
                throw BatonError(.conflict, "webhook \(id) is turned off; turn it on before redelivering", details: ["active": "false"])
            }
            guard let delivery = try await store.redeliver(webhook: id, event: event, settings: settings, on: tx) else {
                throw BatonError.notFound("no event \(event)")
            }
            return delivery
        }
    }
}
