public import Logging
import Metrics
import PostgresClient
public import ServiceLifecycle

/// Follows the event feed with a cursor kept in the database and queues one delivery per event
/// and matching subscription, in the transaction that moves the cursor: no event is lost or
/// queued twice, across restarts and however many servers run it. The cursor row is the
/// leader's lock (taken with SKIP LOCKED inside each step's transaction, so it holds no
/// session state and works behind a transaction-mode pooler): while one server dispatches,
/// the others' steps find it taken and wait for the next.
public struct WebhookDispatcher: Service {
    let services: BatonServices
    let settings: WebhookSettings
    let batchSize: Int
    let logger: Logger

    public init(services: BatonServices, settings: WebhookSettings, batchSize: Int = 200, logger: Logger) {
        self.services = services
        self.settings = settings
        self.batchSize = batchSize
        self.logger = logger
    }

    /// One step: the next batch of events after the cursor, dispatched.
    @discardableResult
    public func step() async throws -> WebhookStore.Dispatch {
        let dispatch = try await WebhookStore(pool: services.database.pool).dispatch(limit: batchSize, settings: settings)
        if dispatch.queued > 0 {
            services.wakeups.queued(in: [WebhookStore.queue])
            Counter(label: "baton_webhook_deliveries_queued_total").increment(by: dispatch.queued)
        }
        return dispatch
    }

    public func run() async throws {
        let events = services.desks.events
        while !Task.isCancelledOrShuttingDown {
            let seen = events.current
            do {
                // A full batch means more may be waiting: take the next at once.
                if try await step().events == batchSize { continue }
            } catch let error as PostgresError where error.isUnavailable {
                logger.debug("webhook dispatcher waiting for the database", metadata: ["error": "\(error.code)"])
            } catch {
                logger.warning("webhook dispatch failed", metadata: ["error": "\(error)"])
            }
            // New events wake it; the timeout covers events of other servers whose wake-up was
            // lost, events held back behind a transaction still running, and a leader that left.
            await events.wait(after: seen, timeout: .seconds(1))
        }
    }
}
