import BatonCore

extension APIHandler {
    func listWebhooks(_ input: Operations.ListWebhooks.Input) async throws -> Operations.ListWebhooks.Output {
        let page = try await services.webhooks.list(
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(webhooks: page.items.map(Components.Schemas.Webhook.init), nextCursor: page.nextCursor))))
    }

    func createWebhook(_ input: Operations.CreateWebhook.Input) async throws -> Operations.CreateWebhook.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let (webhook, secret) = try await services.webhooks.create(
            NewWebhook(url: body.url, eventTypes: body.eventTypes, secret: body.secret, active: body.active ?? true, description: body.description),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(webhook: .init(webhook), secret: secret))))
    }

    func getWebhook(_ input: Operations.GetWebhook.Input) async throws -> Operations.GetWebhook.Output {
        .ok(Self.webhookResponse(try await services.webhooks.webhook(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateWebhook(_ input: Operations.UpdateWebhook.Input) async throws -> Operations.UpdateWebhook.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let webhook = try await services.webhooks.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            WebhookChanges(url: body.url, eventTypes: body.eventTypes, secret: body.secret, active: body.active, description: body.description),
            by: principal
        )
        return .ok(Self.webhookResponse(webhook))
    }

    func deleteWebhook(_ input: Operations.DeleteWebhook.Input) async throws -> Operations.DeleteWebhook.Output {
        .ok(Self.webhookResponse(try await services.webhooks.delete(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func listWebhookDeliveries(_ input: Operations.ListWebhookDeliveries.Input) async throws -> Operations.ListWebhookDeliveries.Output {
        let page = try await services.webhooks.deliveries(
            webhook: Int(input.path.id),
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(
            .init(body: .json(.init(deliveries: page.items.map(Components.Schemas.WebhookDelivery.init), nextCursor: page.nextCursor)))
        )
    }

    func redeliverWebhookEvent(_ input: Operations.RedeliverWebhookEvent.Input) async throws -> Operations.RedeliverWebhookEvent.Output {
        let delivery = try await services.webhooks.redeliver(
            webhook: Int(input.path.id),
            event: Int(input.path.eventId),
            by: try RequestPrincipal.require()
        )
        return .accepted(.init(body: .json(.init(delivery))))
    }

    static func webhookResponse(_ webhook: Webhook) -> Components.Responses.Webhook {
        .init(headers: .init(eTag: etag(webhook.version)), body: .json(.init(webhook)))
    }
}
