import Foundation
import Metrics

/// Retention's use cases: what a prune would delete now, and a prune pass that deletes every
/// kind's old history in small batches (one transaction each, with a pause between them so
/// the queue's own work keeps the database). The background ``HistoryPruner`` and
/// `batonctl prune` both call these.
public struct RetentionService: Sendable {
    let database: BatonDatabase

    public init(database: BatonDatabase) { self.database = database }

    private var store: RetentionStore { RetentionStore(pool: database.pool) }

    /// Per kind, the cutoff and how many rows are older (kinds kept forever show no cutoff).
    public func preview(_ policy: RetentionPolicy) async throws -> [RetentionPreview] {
        try await store.preview(policy)
    }

    /// Deletes each kind's history older than its age, `batchSize` rows a transaction, until
    /// none is left or another server turns out to be pruning that kind.
    public func prune(_ policy: RetentionPolicy, batchSize: Int = 2000, pause: Duration = .milliseconds(50)) async throws -> [RetentionOutcome] {
        guard (1...50_000).contains(batchSize) else {
            throw BatonError.invalidArgument("batch size must be between 1 and 50000", field: "batch_size")
        }
        var outcomes: [RetentionOutcome] = []
        for kind in RetentionPolicy.Kind.allCases {
            guard let age = policy.age(of: kind) else { continue }
            var outcome = RetentionOutcome(kind: kind)
            var after = RetentionStore.Batch.Position()
            while !Task.isCancelledOrShuttingDown {
                let batch: RetentionStore.Batch
                switch kind {
                case .tasks: batch = try await store.pruneTasks(olderThan: age, after: after, limit: batchSize)
                case .events: batch = try await store.pruneEvents(olderThan: age, limit: batchSize)
                case .webhookDeliveries: batch = try await store.pruneDeliveries(olderThan: age, after: after, limit: batchSize)
                }
                guard batch.leader else {
                    outcome.busy = true
                    break
                }
                outcome.deleted += batch.deleted
                outcome.dependents += batch.dependents
                if batch.deleted > 0 {
                    Counter(label: "baton_pruned_rows_total", dimensions: [("kind", kind.rawValue)]).increment(by: batch.deleted)
                }
                guard batch.more else { break }
                after = batch.next
                try await Task.sleep(for: pause)
            }
            outcomes.append(outcome)
        }
        return outcomes
    }
}
