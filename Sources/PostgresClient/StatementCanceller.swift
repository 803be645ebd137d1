import CPostgres
import Synchronization

/// Cancels the statement a connection is running, from any thread, and only that statement.
///
/// Each statement takes a ticket before it is queued; a cancel names its ticket, so a late
/// cancel cannot reach the next caller's statement. A cancel that arrives before its statement
/// starts stops it from starting; one that arrives while it runs sends `PQcancel`, after which
/// the session is not reused (the server may act on the request after the statement ended).
final class StatementCanceller: Sendable {
    /// libpq's cancel object: plain data, safe to use from any thread.
    private struct Key: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private struct State {
        var nextTicket = 0
        var active: Int?
        var running = false
        var requested = false
        var sent = false
    }

    private let key: Key?
    private let state = Mutex(State())

    init(key: OpaquePointer?) {
        self.key = key.map(Key.init)
    }

    deinit {
        if let key { PQfreeCancel(key.pointer) }
    }

    /// A ticket for the next statement.
    func issueTicket() -> Int {
        state.withLock { state in
            state.nextTicket += 1
            state.active = state.nextTicket
            state.running = false
            state.requested = false
            state.sent = false
            return state.nextTicket
        }
    }

    /// Marks the statement as running; false when it was cancelled before it started.
    func start(_ ticket: Int) -> Bool {
        state.withLock { state in
            guard state.active == ticket, !state.requested else { return false }
            state.running = true
            return true
        }
    }

    /// Ends the statement's ticket; true when a cancel request was sent for it.
    @discardableResult
    func finish(_ ticket: Int) -> Bool {
        state.withLock { state in
            guard state.active == ticket else { return false }
            let sent = state.sent
            state.active = nil
            state.running = false
            return sent
        }
    }

    /// Cancels the statement holding `ticket`, if it has not finished.
    func cancel(_ ticket: Int) {
        state.withLock { state in
            guard state.active == ticket, !state.requested else { return }
            state.requested = true
            guard state.running, let key else { return }
            // Sent while holding the lock: the statement cannot be marked finished, and the
            // session handed to another caller, while the request is on its way.
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(key.pointer, &buffer, Int32(buffer.count))
            state.sent = true
        }
    }
}
