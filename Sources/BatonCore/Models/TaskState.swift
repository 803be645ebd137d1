/// Where a task is in its life.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case queued
    case claimed
    case done
    case dead
    case cancelled
    case handedOff = "handed_off"

    /// Queued or claimed: the task still has work ahead of it.
    public var isLive: Bool { self == .queued || self == .claimed }
}
