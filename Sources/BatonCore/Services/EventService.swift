import Foundation
import PostgresClient
import ServiceLifecycle

/// The event feed's use cases: a page of events after a cursor (waiting for one when asked),
/// and a stream that follows the feed. Both hand out events in feed order, never skip one,
/// and show a caller only the events of its teams.
public struct EventService: Sendable {
    let database: BatonDatabase
    let desks: Desks

    public init(database: BatonDatabase, desks: Desks) {
        self.database = database
        self.desks = desks
    }

    private var store: EventStore { EventStore(pool: database.pool) }

    /// Which events a follower wants.
    public struct Filter: Sendable {
        public var types: [String]?
        public var team: String?

        public init(types: [String]? = nil, team: String? = nil) {
            self.types = types
            self.team = team
        }
    }

    /// Up to `limit` events after the cursor `after` (0: the beginning); with `waitSeconds`,
    /// waits up to that long for the first one. A cursor that names no event is refused (400), one
    /// whose following events were pruned past retention too (410).
    public func feed(after: Int, limit: Int, filter: Filter, waitSeconds: Int, by principal: Principal) async throws -> [Event] {
        try principal.authorize(.listEvents)
        guard after >= 0 else { throw BatonError.invalidArgument("after must not be negative", field: "after") }
        guard (1...1000).contains(limit) else { throw BatonError.invalidArgument("limit must be between 1 and 1000", field: "limit") }
        guard (0...30).contains(waitSeconds) else { throw BatonError.invalidArgument("wait_seconds must be between 0 and 30", field: "wait_seconds") }
        let deadline = ContinuousClock.now + .seconds(waitSeconds)
        var pace = FollowerPace(store: store, filter: filter, scope: principal.scope)
        while true {
            let seen = desks.events.current
            let found = try await store.feed(after: after, limit: limit, types: filter.types, team: filter.team, scope: principal.scope)
            if found.isEmpty { try await check(after, field: "after") }
            let remaining = deadline - ContinuousClock.now
            if !found.isEmpty || remaining <= .zero || Task.isCancelledOrShuttingDown || CancellationSignal.current?.isCancelled == true {
                return found
            }
            try await pace.wait(on: desks.events, after: seen, cursor: after, pageWasEmpty: true, upTo: remaining)
        }
    }

    /// How a follower (a waiting page or a stream) waits between reads: for a notification, up
    /// to the one-second fallback poll; or, when its page came back empty although it was woken
    /// (or polled early) and events for it after its cursor are held back by an older open
    /// transaction or were freed since the read, only a moment, since that transaction may end
    /// without a notification. Most holders are brief, so the moments start short and double
    /// (2, 4, 8, 16, then 20 ms) while the events stay held.
    struct FollowerPace {
        let store: EventStore
        let filter: Filter
        let scope: Scope
        /// Whether a notification (or an early poll) ended the last wait; one may have come just
        /// before the first.
        private var woken = true
        private var pause = Duration.seconds(1)

        init(store: EventStore, filter: Filter, scope: Scope) {
            self.store = store
            self.filter = filter
            self.scope = scope
        }

        /// Waits on `signal` for a generation past `seen`, for the pause the last read calls for
        /// and at most `limit`.
        mutating func wait(on signal: Signal, after seen: Int, cursor: Int, pageWasEmpty: Bool, upTo limit: Duration) async throws {
            var held = false
            if pageWasEmpty, woken {
                held = try await store.hasPendingEvents(after: cursor, types: filter.types, team: filter.team, scope: scope)
            }
            pause = held ? Self.heldPause(after: pause) : .seconds(1)
            woken = await signal.wait(after: seen, timeout: min(limit, pause)) || held
        }

        /// The pause while events stay held, after the pause `previous` (one second: none yet).
        static func heldPause(after previous: Duration) -> Duration {
            previous <= longestHeldPause ? min(previous * 2, longestHeldPause) : shortestHeldPause
        }

        /// The pauses between reads while events are held back: the first, and the longest.
        static let shortestHeldPause: Duration = .milliseconds(2)
        static let longestHeldPause: Duration = .milliseconds(20)
    }

    /// Refuses a cursor the feed cannot continue from: 400 when it never named an event, 410
    /// (with the oldest cursor that works) when the events after it were pruned.
    private func check(_ cursor: Int, field: String) async throws {
        switch try await store.cursorStatus(cursor) {
        case .valid: return
        case .unknown:
            throw BatonError.invalidArgument(
                field == "after" ? "after is not the id of an event" : "the cursor is not the id of an event",
                field: field
            )
        case .gone(let oldestCursor, let oldestEvent):
            throw BatonError.pruned(cursor: cursor, field: field, oldestCursor: oldestCursor, oldestEvent: oldestEvent)
        }
    }

    /// What a stream yields.
    public enum StreamItem: Sendable {
        case event(Event)
        /// Nothing happened for a while; a client's proxy should not close the connection.
        case keepAlive
    }

    /// Follows the feed from `after` for `lifetime`, then ends (a client reconnects from its
    /// last event and loses nothing). `cursorField` names where the cursor came from, for the
    /// error when it names no event.
    public func stream(
        after: Int,
        filter: Filter,
        lifetime: Duration,
        keepAliveInterval: Duration,
        cursorField: String,
        by principal: Principal
    ) async throws -> AsyncThrowingStream<StreamItem, any Error> {
        try principal.authorize(.streamEvents)
        guard after >= 0 else { throw BatonError.invalidArgument("after must not be negative", field: cursorField) }
        let store = self.store
        try await check(after, field: cursorField)
        let signal = desks.events
        let scope = principal.scope
        let (stream, continuation) = AsyncThrowingStream<StreamItem, any Error>.makeStream()
        let producer = Task {
            do {
                var cursor = after
                let end = ContinuousClock.now + lifetime
                var lastWrite = ContinuousClock.now
                var pace = FollowerPace(store: store, filter: filter, scope: scope)
                while !Task.isCancelledOrShuttingDown, ContinuousClock.now < end {
                    let seen = signal.current
                    let page = try await store.feed(after: cursor, limit: 200, types: filter.types, team: filter.team, scope: scope)
                    for event in page {
                        continuation.yield(.event(event))
                        cursor = event.id
                        lastWrite = .now
                    }
                    if page.count == 200 { continue }
                    // Retention may prune past a follower that fell behind: end the stream with the
                    // reason rather than wait on a cursor the feed no longer continues from.
                    if page.isEmpty { try await check(cursor, field: cursorField) }
                    if ContinuousClock.now - lastWrite >= keepAliveInterval {
                        continuation.yield(.keepAlive)
                        lastWrite = .now
                    }
                    try await pace.wait(
                        on: signal,
                        after: seen,
                        cursor: cursor,
                        pageWasEmpty: page.isEmpty,
                        upTo: max(end - ContinuousClock.now, .zero)
                    )
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return stream
    }
}
