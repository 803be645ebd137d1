/// A wake-up signal with a generation number, for long-poll waiters.
///
/// A waiter reads ``generation`` before it looks for work, and after finding none waits for
/// a generation beyond it; a signal fired in between is therefore never missed.
public actor Signal {
    private var generation = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    public init() {}

    /// The current generation.
    public var current: Int { generation }

    /// Wakes every waiter.
    public func fire() {
        generation += 1
        let waiting = waiters
        waiters.removeAll()
        for (_, continuation) in waiting { continuation.resume() }
    }

    /// Waits until the generation passes `seen`, or `timeout` elapses, or the task is
    /// cancelled. Returns whether the signal fired.
    public func wait(after seen: Int, timeout: Duration) async -> Bool {
        guard generation <= seen else { return true }
        nextWaiter += 1
        let id = nextWaiter
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.resume(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if generation > seen || Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.resume(id) }
        }
        timer.cancel()
        return generation > seen
    }

    private func resume(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }
}

/// The long-poll waiters of this instance: one ``Signal`` per team (the team's desk), one for
/// the event feed.
public actor Desks {
    private var teams: [String: Signal] = [:]
    public nonisolated let events = Signal()

    public init() {}

    /// The desk of a team, made on first use.
    public func desk(for team: String) -> Signal {
        if let signal = teams[team] { return signal }
        let signal = Signal()
        teams[team] = signal
        return signal
    }

    /// Wakes one team's waiters.
    public func wake(team: String) async {
        await teams[team]?.fire()
    }

    /// Wakes everyone: after a lost notification connection, anything may have changed.
    public func wakeAll() async {
        for signal in teams.values { await signal.fire() }
        await events.fire()
    }
}
