public import Logging
import PostgresClient
public import ServiceLifecycle

/// Deletes history past its retention age: a prune pass (small batches, one transaction each,
/// paused between them) every `interval`. Safe to run in every instance at once: a kind that
/// another server is pruning is left to it (``RetentionStore``).
public struct HistoryPruner: Service {
    let services: BatonServices
    let policy: RetentionPolicy
    let interval: Duration
    let batchSize: Int
    let pause: Duration
    let logger: Logger

    public init(
        services: BatonServices,
        policy: RetentionPolicy,
        interval: Duration = .seconds(300),
        batchSize: Int = 2000,
        pause: Duration = .milliseconds(50),
        logger: Logger
    ) {
        self.services = services
        self.policy = policy
        self.interval = interval
        self.batchSize = batchSize
        self.pause = pause
        self.logger = logger
    }

    public func run() async throws {
        guard policy != .forever else {
            // Nothing to prune: wait for shutdown instead of ending the group.
            try? await gracefulShutdown()
            return
        }
        // Servers started together do not all look at once.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(Int.random(in: 1000...5000))) }
        while !Task.isCancelledOrShuttingDown {
            do {
                for outcome in try await services.retention.prune(policy, batchSize: batchSize, pause: pause) where outcome.deleted > 0 {
                    logger.info(
                        "pruned history past retention",
                        metadata: ["kind": "\(outcome.kind.rawValue)", "rows": "\(outcome.deleted)", "dependents": "\(outcome.dependents)"]
                    )
                }
            } catch let error as PostgresError where error.isUnavailable {
                logger.debug("pruner waiting for the database", metadata: ["error": "\(error.code)"])
            } catch is CancellationError {
                break
            } catch {
                logger.warning("prune pass failed", metadata: ["error": "\(error)"])
            }
            // Shutdown ends the wait at once rather than after a whole interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
