import BatonCore

extension Components.Schemas.Webhook {
    init(_ webhook: Webhook) {
        self.init(
            id: Int64(webhook.id),
            url: webhook.url,
            eventTypes: webhook.eventTypes,
            active: webhook.active,
            description: webhook.description,
            failingSince: webhook.failingSince,
            disabledAt: webhook.disabledAt,
            version: webhook.version,
            createdAt: webhook.createdAt,
            updatedAt: webhook.updatedAt
        )
    }
}

extension Components.Schemas.WebhookDelivery {
    init(_ delivery: WebhookDelivery) {
        self.init(
            id: Int64(delivery.id),
            webhookId: Int64(delivery.webhookID),
            eventId: Int64(delivery.eventID),
            eventType: delivery.eventType,
            redelivery: delivery.redelivery,
            state: .init(rawValue: delivery.state.rawValue) ?? .pending,
            attempts: delivery.attempts,
            lastStatusCode: delivery.lastStatus,
            lastError: delivery.lastError,
            nextAttemptAt: delivery.nextAttemptAt,
            lastAttemptAt: delivery.lastAttemptAt,
            deliveredAt: delivery.deliveredAt,
            createdAt: delivery.createdAt,
            updatedAt: delivery.updatedAt
        )
    }
}
