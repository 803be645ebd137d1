import Synchronization

/// Cancels the database work of one unit of work from outside its task: the HTTP server fires
/// it when a client hangs up, and every statement started under it (``current``) is cancelled
/// on the server at once and returns its connection to the pool.
///
/// Swift task cancellation does the same; this exists because the task that serves a request
/// belongs to the HTTP server and cannot be cancelled from the connection's event loop.
public final class CancellationSignal: Sendable {
    /// The signal of the work the current task does, if any.
    @TaskLocal public static var current: CancellationSignal?

    private struct State {
        var cancelled = false
        var nextID = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Cancels: runs every registered action once; later registrations are refused.
    public func cancel() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            defer { state.actions.removeAll() }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    /// Registers `action` to run on cancellation; `nil` when already cancelled (nothing is
    /// registered and the caller should not start).
    func register(_ action: @escaping @Sendable () -> Void) -> Int? {
        state.withLock { state in
            guard !state.cancelled else { return nil }
            state.nextID += 1
            state.actions[state.nextID] = action
            return state.nextID
        }
    }

    func deregister(_ id: Int) {
        _ = state.withLock { $0.actions.removeValue(forKey: id) }
    }
}
