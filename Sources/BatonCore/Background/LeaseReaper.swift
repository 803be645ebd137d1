public import Logging
import Metrics
public import PostgresClient
public import ServiceLifecycle

/// Requeues tasks whose lease expired, folds stats counters and purges old idempotency keys.
/// Safe to run in every instance at once (each sweep takes rows with SKIP LOCKED).
public struct LeaseReaper: Service {
    let pool: ConnectionPool
    let wakeups: Wakeups?
    let interval: Duration
    let logger: Logger

    /// `wakeups` wakes the waiters of teams whose tasks went back to the queue.
    public init(pool: ConnectionPool, wakeups: Wakeups? = nil, interval: Duration = .seconds(1), logger: Logger) {
        self.pool = pool
        self.wakeups = wakeups
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let tasks = TaskStore(pool: pool)
        var sweeps = 0
        while !Task.isCancelledOrShuttingDown {
            do {
                let reaped = try await tasks.reapExpiredLeases()
                if !reaped.isEmpty {
                    wakeups?.queued(in: reaped.filter { $0.state == .queued }.map(\.team))
                    Counter(label: "baton_lease_expiries_total").increment(by: reaped.count)
                    logger.info("requeued tasks whose lease expired", metadata: ["count": "\(reaped.count)"])
                }
                if sweeps % 5 == 0 { try await tasks.foldCounters() }
                if sweeps % 60 == 0 { try await IdempotencyStore().purgeExpired(pool: pool) }
            } catch let error as PostgresError where error.isUnavailable {
                logger.debug("reaper waiting for the database", metadata: ["error": "\(error.code)"])
            } catch {
                logger.warning("reaper sweep failed", metadata: ["error": "\(error)"])
            }
            sweeps += 1
            try? await Task.sleep(for: interval)
        }
    }
}

extension Task where Success == Never, Failure == Never {
    /// Cancelled, or the service group is shutting down gracefully.
    static var isCancelledOrShuttingDown: Bool {
        Task.isCancelled || Task.isShuttingDownGracefully
    }
}
