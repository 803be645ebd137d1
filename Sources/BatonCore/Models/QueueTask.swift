public import Foundation

/// A unit of work in a team's queue. (Named so it does not shadow Swift's `Task`.)
public struct QueueTask: Sendable, Equatable, Codable {
    public var id: Int
    public var team: String
    public var region: String
    public var kind: String
    public var title: String
    /// The payload as JSON object text.
    public var payloadJSON: String
    public var priority: TaskPriority
    public var state: TaskState
    public var runAt: Date
    public var dueAt: Date?
    public var attempts: Int
    public var maxAttempts: Int
    public var lease: Lease?
    /// The result as JSON text, when completed with one.
    public var resultJSON: String?
    public var lastError: String?
    public var dedupeKey: String?
    public var subject: TaskSubject?
    public var tags: [String]
    public var createdBy: String?
    public var handedOffFrom: Int?
    public var handoffNote: String?
    public var chainID: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var claimedAt: Date?
    public var finishedAt: Date?
    /// The hold that pauses the task's SLA clocks, if it is on hold.
    public var hold: TaskHold?
    /// The SLA policy whose clocks run on the task, if any.
    public var slaPolicyID: Int?
}
