public import PostgresClient
import Synchronization

/// Teams by slug, cached for a moment: every queue request needs its team's region for the
/// scope check, and teams almost never change. Only found teams are cached, so a new team is
/// visible at once; the claim statement reads `paused` itself, so a cached copy never hands
/// out work from a paused team.
public final class TeamDirectory: Sendable {
    private struct Entry {
        let team: Team
        let expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let lifetime: Duration

    public init(lifetime: Duration = .seconds(2)) { self.lifetime = lifetime }

    /// The team, from the cache when fresh.
    public func find(_ slug: String, pool: ConnectionPool) async throws -> Team? {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[slug] }), entry.expires > now { return entry.team }
        guard let team = try await TeamStore(pool: pool).find(slug) else { return nil }
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[slug] = Entry(team: team, expires: now + lifetime)
        }
        return team
    }
}
