public import Foundation

/// What the caller asks for when creating a task.
public struct NewTask: Sendable, Equatable, Codable {
    public var kind: String
    public var title: String
    public var payloadJSON: String?
    public var priority: TaskPriority?
    public var runAt: Date?
    public var dueAt: Date?
    public var maxAttempts: Int?
    public var backoffBaseSeconds: Int?
    public var dedupeKey: String?
    public var subject: TaskSubject?
    public var tags: [String]?

    public init(
        kind: String,
        title: String,
        payloadJSON: String? = nil,
        priority: TaskPriority? = nil,
        runAt: Date? = nil,
        dueAt: Date? = nil,
        maxAttempts: Int? = nil,
        backoffBaseSeconds: Int? = nil,
        dedupeKey: String? = nil,
        subject: TaskSubject? = nil,
        tags: [String]? = nil
    ) {
        self.kind = kind
        self.title = title
        self.payloadJSON = payloadJSON
        self.priority = priority
        self.runAt = runAt
        self.dueAt = dueAt
        self.maxAttempts = maxAttempts
        self.backoffBaseSeconds = backoffBaseSeconds
        self.dedupeKey = dedupeKey
        self.subject = subject
        self.tags = tags
    }

    /// Checks lengths and ranges the database would otherwise reject less clearly.
    public func validate(field prefix: String = "") throws(BatonError) {
        try Self.check(kind: kind, field: prefix + "kind")
        try Self.check(title: title, field: prefix + "title")
        if let payloadJSON { try Self.check(payloadJSON: payloadJSON, field: prefix + "payload") }
        if let maxAttempts, !(1...100).contains(maxAttempts) {
            throw .invalidArgument("max_attempts must be between 1 and 100", field: prefix + "max_attempts")
        }
        if let backoffBaseSeconds, !(1...86400).contains(backoffBaseSeconds) {
            throw .invalidArgument("backoff_base_seconds must be between 1 and 86400", field: prefix + "backoff_base_seconds")
        }
        if let dedupeKey, !TextRules.hasLength(dedupeKey, in: 1...200) {
            throw .invalidArgument("dedupe_key must be 1 to 200 characters", field: prefix + "dedupe_key")
        }
        if let tags, tags.count > 50 || tags.contains(where: { !TextRules.hasLength($0, in: 1...100) }) {
            throw .invalidArgument("tags must be at most 50 strings of 1 to 100 characters", field: prefix + "tags")
        }
        if let subject, !TextRules.hasLength(subject.type, in: 1...100) || !TextRules.hasLength(subject.id, in: 1...200) {
            throw .invalidArgument("subject needs a type and an id", field: prefix + "subject")
        }
    }

    /// The rules of a new task's kind, title and payload, also for the task a handoff makes.
    static func check(kind: String, field: String) throws(BatonError) {
        guard TextRules.hasLength(kind, in: 1...100) else { throw .invalidArgument("kind must be 1 to 100 characters", field: field) }
    }

    static func check(title: String, field: String) throws(BatonError) {
        guard TextRules.hasLength(title, in: 1...500) else { throw .invalidArgument("title must be 1 to 500 characters", field: field) }
    }

    static func check(payloadJSON: String, field: String) throws(BatonError) {
        guard payloadJSON.utf8.count <= 64 * 1024 else {
            throw BatonError(.ruleViolation, "payload must be at most 64 KiB", details: ["field": field])
        }
    }
}
