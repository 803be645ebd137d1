import Synchronization

/// A wake-up signal with a generation number, for long-poll waiters.
///
/// A waiter reads ``current`` before it looks for work, and after finding none waits for a
/// generation beyond it; a signal fired in between is therefore never missed. Firing takes a
/// lock and resumes the waiters, without a hop to another executor, so a write can wake this
/// process's waiters on its own thread.
public final class Signal: Sendable {
    private struct State {
        var generation = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The current generation.
    public var current: Int { state.withLock { $0.generation } }

    /// Wakes every waiter.
    public func fire() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Waits until the generation passes `seen`, or `timeout` elapses, or the task is
    /// cancelled. Returns whether the signal fired.
    @discardableResult
    public func wait(after seen: Int, timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int? in
            guard state.generation <= seen else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return true }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation > seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.resume(id)
        }
        timer.cancel()
        return current > seen
    }

    private func resume(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}

/// The long-poll waiters of this process: one ``Signal`` per team (the team's desk), one for
/// the event feed.
public final class Desks: Sendable {
    private let teams = Mutex<[String: Signal]>([:])
    public let events = Signal()

    public init() {}

    /// The desk of a team, made on first use.
    public func desk(for team: String) -> Signal {
        teams.withLock { teams in
            if let signal = teams[team] { return signal }
            let signal = Signal()
            teams[team] = signal
            return signal
        }
    }

    /// Wakes one team's waiters (a team nobody waits for has no desk yet: nothing to do).
    public func wake(team: String) {
        teams.withLock { $0[team] }?.fire()
    }

    /// Wakes everyone: after a lost notification connection, anything may have changed.
    public func wakeAll() {
        for signal in teams.withLock({ Array($0.values) }) { signal.fire() }
        events.fire()
    }
}
