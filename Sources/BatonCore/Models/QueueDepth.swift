/// One team's count of tasks in one live state.
public struct QueueDepth: Sendable, Equatable {
    public var team: String
    public var state: String
    public var count: Int
    /// For `queued`: seconds since the oldest claimable task became due.
    public var oldestAgeSeconds: Double?
}
