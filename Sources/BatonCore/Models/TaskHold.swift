public import Foundation

/// A task put on hold: its SLA clocks are paused, and a queued task is not claimable, until it
/// is resumed or `until` passes.
public struct TaskHold: Sendable, Equatable, Codable {
    public var since: Date
    public var until: Date?
    public var reason: String

    public init(since: Date, until: Date?, reason: String) {
        self.since = since
        self.until = until
        self.reason = reason
    }
}
