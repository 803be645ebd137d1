import Synchronization

/// Task ids for the created tasks, as a sequence would hand them out.
final class TaskIDs: Sendable {
    private let last = Atomic<Int64>(0)

    func next() -> Int64 {
        last.add(1, ordering: .relaxed).newValue
    }
}
