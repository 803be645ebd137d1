public import Logging
public import PostgresClient
import Synchronization

/// Wakes long-poll waiters after a write has committed: this process's at once, and every
/// other server's through `NOTIFY`, sent outside the writing transaction and coalesced to one
/// notification per channel and team every couple of milliseconds.
///
/// A `NOTIFY` inside the writing transaction (the triggers of migrations 0002) serialises the
/// commits of every notifying transaction in the cluster on one lock; here only the small
/// notifying transaction takes it, a few hundred times a second at most. A lost notification
/// still costs at most the waiters' one-second poll.
public final class Wakeups: Sendable {
    /// How long writes gather before one round of notifications goes out.
    static let coalescing: Duration = .milliseconds(2)

    private struct State {
        var teams: Set<String> = []
        var events = false
        var publishing = false
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    let desks: Desks
    private let pool: ConnectionPool
    private let logger: Logger
    private let state = Mutex(State())

    public init(pool: ConnectionPool, desks: Desks, logger: Logger = Logger(label: "baton.wakeups")) {
        self.pool = pool
        self.desks = desks
        self.logger = logger
    }

    /// Work became claimable in these teams (and events were written with it).
    public func queued(in teams: some Sequence<String>) {
        let teams = Set(teams)
        for team in teams { desks.wake(team: team) }
        desks.events.fire()
        publish(teams: teams, events: true)
    }

    /// Events were written (nothing new to claim).
    public func eventsWritten() {
        desks.events.fire()
        publish(teams: [], events: true)
    }

    /// Returns once every notification asked for so far has been sent (or failed): for a
    /// process about to exit, such as `batonctl`.
    public func flush() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                guard state.publishing else { return true }
                state.idle.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func publish(teams: Set<String>, events: Bool) {
        let start = state.withLock { state -> Bool in
            state.teams.formUnion(teams)
            state.events = state.events || events
            guard !state.publishing else { return false }
            state.publishing = true
            return true
        }
        if start { Task { await self.publishLoop() } }
    }

    private func publishLoop() async {
        while true {
            try? await Task.sleep(for: Self.coalescing)
            let (teams, events, idle) = state.withLock { state -> ([String], Bool, [CheckedContinuation<Void, Never>]) in
                let taken = (Array(state.teams), state.events)
                state.teams.removeAll()
                state.events = false
                guard taken.0.isEmpty, !taken.1 else { return (taken.0, taken.1, []) }
                state.publishing = false
                defer { state.idle.removeAll() }
                return ([], false, state.idle)
            }
            guard !teams.isEmpty || events else {
                for continuation in idle { continuation.resume() }
                return
            }
            do {
                try await pool.query(
                    """
                    SELECT pg_notify('baton_tasks', team) FROM unnest($1::text[]) AS team
                    UNION ALL SELECT pg_notify('baton_events', '') WHERE $2
                    """,
                    [teams.sorted(), events]
                )
            } catch {
                // The other servers' one-second poll covers it.
                logger.debug("could not send wake-ups", metadata: ["error": "\(error)"])
            }
        }
    }
}
