import Foundation
public import PostgresClient
import Synchronization

/// Active SLA policies and region calendars, cached for a moment: every task creation asks
/// whether a policy covers it, and policies and calendars change rarely. A change notifies
/// `baton_catalog` in its transaction, and every instance's ``NotificationRouter`` drops its
/// copy when the change commits; `lifetime` bounds the staleness should a notification be lost.
public final class SLACatalog: Sendable {
    /// What the catalog holds at one moment.
    public struct Snapshot: Sendable {
        public let policies: [SLAPolicy]
        public let calendars: [String: RegionCalendar]
        /// Built once per snapshot: building one resolves its time zone.
        private let built: [String: BusinessCalendar]

        public init(policies: [SLAPolicy], calendars: [String: RegionCalendar]) {
            self.policies = policies
            self.calendars = calendars
            var built: [String: BusinessCalendar] = [:]
            for (region, stored) in calendars {
                built[region] =
                    (try? stored.businessCalendar())
                    ?? (try? BusinessCalendar(timeZoneIdentifier: "UTC", hours: stored.hours, holidays: stored.holidays))
            }
            self.built = built
        }

        /// The most specific active policy covering a task, if any (ties go to the older policy).
        public func policy(
            for team: Team,
            kind: String,
            priority: TaskPriority,
            tags: [String],
            fromDepartment: Department? = nil
        ) -> SLAPolicy? {
            var best: (score: Int, policy: SLAPolicy)?
            for policy in policies {
                guard let score = policy.specificity(team: team, kind: kind, priority: priority, tags: tags, fromDepartment: fromDepartment)
                else { continue }
                if best == nil || score > best!.score { best = (score, policy) }
            }
            return best?.policy
        }

        /// Whether a policy covers any of these new tasks of `team`.
        public func covers(_ tasks: [NewTask], in team: Team) -> Bool {
            guard !policies.isEmpty else { return false }
            return tasks.contains { task in
                policy(for: team, kind: task.kind, priority: task.priority ?? .normal, tags: task.tags ?? []) != nil
            }
        }

        /// The calendar of a region; a region whose stored calendar is unusable (or that the
        /// snapshot does not know yet) counts in the standard week in UTC rather than stopping
        /// the clocks.
        public func calendar(region: String) -> BusinessCalendar {
            if let calendar = built[region] { return calendar }
            return Self.standard
        }

        // The standard week is valid by construction.
        private static let standard = try! BusinessCalendar(timeZoneIdentifier: "UTC", hours: BusinessCalendar.standardHours())
    }

    private struct Entry {
        let snapshot: Snapshot
        let expires: ContinuousClock.Instant
    }

    /// The channel a change of policies or calendars is announced on.
    public static let channel = "baton_catalog"

    /// Announces a change to every instance, on the changing transaction (sent at commit).
    public static func announceChange(on tx: PostgresConnection) async throws {
        try await tx.query("SELECT pg_notify($1, '')", [channel])
    }

    private struct State {
        var entry: Entry?
        /// Bumped by every invalidation, so a load that began before a change does not store
        /// what it read as fresh.
        var generation = 0
    }

    private let state = Mutex(State())
    private let lifetime: Duration

    public init(lifetime: Duration = .seconds(2)) { self.lifetime = lifetime }

    /// The current snapshot, loaded when stale.
    public func snapshot(pool: ConnectionPool) async throws -> Snapshot {
        let now = ContinuousClock.now
        let (cached, generation) = state.withLock { ($0.entry, $0.generation) }
        if let cached, cached.expires > now { return cached.snapshot }
        let snapshot = Snapshot(
            policies: try await SLAPolicyStore(pool: pool).list(activeOnly: true),
            calendars: try await CalendarStore(pool: pool).all()
        )
        state.withLock { state in
            if state.generation == generation { state.entry = Entry(snapshot: snapshot, expires: now + lifetime) }
        }
        return snapshot
    }

    /// Forgets the snapshot, after a policy or calendar changed.
    public func invalidate() {
        state.withLock { state in
            state.entry = nil
            state.generation &+= 1
        }
    }
}
