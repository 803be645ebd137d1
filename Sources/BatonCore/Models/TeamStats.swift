/// A team's queue at a glance.
public struct TeamStats: Sendable, Equatable, Codable {
    public var team: String
    public var paused: Bool
    /// Current tasks per state; finished states are lifetime totals.
    public var counts: [String: Int]
    public var oldestQueuedAgeSeconds: Double?
    public var completedLast5Minutes: Int
    public var completedLast60Minutes: Int
    public var dead: Int
}
