import Foundation
public import Logging
import Metrics
import PostgresClient
public import ServiceLifecycle

/// Sends queued webhook deliveries: claims them from the system queue with a lease, re-checks
/// the URL, posts the signed event and records the outcome. A 2xx completes the delivery;
/// another status, no response or a refused URL is a failed attempt, retried with backoff
/// until the attempts are used up (then dead). Safe in every server at once.
public struct WebhookWorker: Service {
    let services: BatonServices
    let transport: any WebhookTransport
    let settings: WebhookSettings
    let name: String
    let logger: Logger

    public init(
        services: BatonServices,
        transport: any WebhookTransport,
        settings: WebhookSettings,
        name: String? = nil,
        logger: Logger
    ) {
        self.services = services
        self.transport = transport
        self.settings = settings
        self.name = name ?? "webhooks-\(ProcessInfo.processInfo.processIdentifier)"
        self.logger = logger
    }

    private var store: WebhookStore { WebhookStore(pool: services.database.pool) }

    public func run() async throws {
        let desk = services.desks.desk(for: WebhookStore.queue)
        while !Task.isCancelledOrShuttingDown {
            let seen = desk.current
            do {
                if try await step() == settings.concurrency { continue }
            } catch let error as PostgresError where error.isUnavailable {
                logger.debug("webhook worker waiting for the database", metadata: ["error": "\(error.code)"])
            } catch {
                logger.warning("webhook deliveries failed", metadata: ["error": "\(error)"])
            }
            await desk.wait(after: seen, timeout: settings.pollInterval)
        }
    }

    /// Claims the due deliveries (up to ``WebhookSettings/concurrency``) and sends them side by
    /// side; returns how many it claimed.
    @discardableResult
    public func step() async throws -> Int {
        let claimed = try await store.claim(worker: name, limit: settings.concurrency, leaseSeconds: settings.leaseSeconds)
        await withTaskGroup(of: Void.self) { group in
            for delivery in claimed {
                group.addTask { await self.send(delivery) }
            }
        }
        return claimed.count
    }

    private func send(_ claimed: WebhookStore.Claimed) async {
        do {
            guard claimed.live, let event = claimed.event else {
                try await store.cancel(claimed, reason: claimed.live ? "the event no longer exists" : "the webhook was deleted or turned off")
                return
            }
            let started = ContinuousClock.now
            let (status, error) = await attempt(claimed, event: event)
            Metrics.Timer(label: "baton_webhook_delivery_duration_seconds").record(duration: ContinuousClock.now - started)
            if let status, (200..<300).contains(status) {
                guard try await store.delivered(claimed, status: status) else { return }
                Counter(label: "baton_webhook_deliveries_total", dimensions: [("outcome", "delivered")]).increment()
                return
            }
            let message = error ?? "the receiver answered \(status ?? 0)"
            guard let failure = try await store.failed(claimed, status: status, error: message, settings: settings) else { return }
            Counter(label: "baton_webhook_deliveries_total", dimensions: [("outcome", failure.dead ? "dead" : "failed")]).increment()
            if failure.disabled {
                services.wakeups.eventsWritten()
                logger.warning("webhook disabled after a day of failed deliveries", metadata: ["webhook": "\(claimed.webhookID)"])
            }
        } catch {
            // The lease runs out and the reaper puts the delivery back: it is retried, not lost.
            logger.warning("recording a webhook delivery failed", metadata: ["task": "\(claimed.taskID)", "error": "\(error)"])
        }
    }

    /// One POST: the receiver's status, or why there was none.
    private func attempt(_ claimed: WebhookStore.Claimed, event: Event) async -> (status: Int?, error: String?) {
        do throws(BatonError) {
            try await WebhookURLPolicy(allowPrivateAddresses: settings.allowPrivateAddresses).check(claimed.url)
        } catch {
            return (nil, "refused: \(error.message)")
        }
        let body = Self.body(of: event)
        let timestamp = Int(Date().timeIntervalSince1970)
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"),
            ("User-Agent", "Baton-Webhooks/\(BatonVersion.current)"),
            ("Baton-Event-Id", String(event.id)),
            ("Baton-Event-Type", event.type),
            ("Baton-Delivery-Id", String(claimed.taskID)),
            ("Baton-Timestamp", String(timestamp)),
            ("Baton-Signature", WebhookSignature.header(secret: claimed.secret, timestamp: timestamp, body: body)),
        ]
        do {
            return (try await transport.post(url: claimed.url, headers: headers, body: body, timeout: settings.timeout), nil)
        } catch {
            return (nil, "no response: \(error)")
        }
    }

    /// The JSON posted for an event: its id, type, time, entity, team, region and data.
    static func body(of event: Event) -> [UInt8] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var entity: Any = NSNull()
        if let type = event.entityType, let id = event.entityID { entity = ["type": type, "id": id] }
        let object: [String: Any] = [
            "id": event.id,
            "type": event.type,
            "occurred_at": formatter.string(from: event.occurredAt),
            "entity": entity,
            "team": event.team.map { $0 as Any } ?? NSNull(),
            "region": event.region.map { $0 as Any } ?? NSNull(),
            "data": (try? JSONSerialization.jsonObject(with: Data(event.dataJSON.utf8))) ?? [String: Any](),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }
}
