public import Foundation

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

/// Claim order: urgent first.
public enum TaskPriority: String, Sendable, Codable, CaseIterable {
    case urgent
    case high
    case normal
    case low

    /// The stored rank; ascending rank is claim order.
    public var rank: Int {
        switch self {
        case .urgent: 0
        case .high: 1
        case .normal: 2
        case .low: 3
        }
    }

    public init?(rank: Int) {
        guard let priority = Self.allCases.first(where: { $0.rank == rank }) else { return nil }
        self = priority
    }
}

/// A worker's hold on a claimed task. The token fences every later change: whoever does not
/// hold the current token cannot complete, fail, release or hand off the task.
public struct Lease: Sendable, Equatable, Codable {
    public var worker: String
    public var token: UUID?
    public var expiresAt: Date
}

/// The record a task is about, such as `{type: "order", id: "SO-1001"}`.
public struct TaskSubject: Sendable, Equatable, Codable {
    public var type: String
    public var id: String

    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }
}

/// A unit of work in a team's queue. (Named so it does not shadow Swift's `Task`.)
public struct QueueTask: Sendable, Equatable {
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

/// A task put on hold: its SLA clocks are paused, and a queued task is not claimable, until it
/// is resumed or `until` passes.
public struct TaskHold: Sendable, Equatable {
    public var since: Date
    public var until: Date?
    public var reason: String

    public init(since: Date, until: Date?, reason: String) {
        self.since = since
        self.until = until
        self.reason = reason
    }
}

/// A step of a handoff chain as a caller may see it: full for teams in scope, and only id,
/// team and state for the others.
public enum ChainStep: Sendable, Equatable {
    case visible(QueueTask)
    case hidden(id: Int, team: String, state: TaskState)
}

/// What the caller asks for when creating a task.
public struct NewTask: Sendable, Equatable {
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
