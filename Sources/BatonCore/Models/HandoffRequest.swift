public import Foundation

/// What a handoff asks for.
public struct HandoffRequest: Sendable, Codable {
    public var toTeam: String
    public var note: String
    public var kind: String?
    public var title: String?
    public var payloadJSON: String?
    public var priority: TaskPriority?
    public var dueAt: Date?
    public var leaseToken: UUID?

    public init(
        toTeam: String,
        note: String,
        kind: String? = nil,
        title: String? = nil,
        payloadJSON: String? = nil,
        priority: TaskPriority? = nil,
        dueAt: Date? = nil,
        leaseToken: UUID? = nil
    ) {
        self.toTeam = toTeam
        self.note = note
        self.kind = kind
        self.title = title
        self.payloadJSON = payloadJSON
        self.priority = priority
        self.dueAt = dueAt
        self.leaseToken = leaseToken
    }

    /// Checks the note and, where the handoff sets them, the new task's kind, title and payload
    /// by the rules of a new task (the table would refuse them less clearly).
    public func validate() throws(BatonError) {
        guard TextRules.hasLength(note, in: 1...2000) else { throw .invalidArgument("note must be 1 to 2000 characters", field: "note") }
        if let kind { try NewTask.check(kind: kind, field: "kind") }
        if let title { try NewTask.check(title: title, field: "title") }
        if let payloadJSON { try NewTask.check(payloadJSON: payloadJSON, field: "payload") }
    }
}
