public import Foundation

/// A handoff rule: on an event of type `on`, when `condition` holds for the event's data, a
/// task is created as `action` says, in the transaction that wrote the event.
public struct Rule: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var on: String
    public var condition: RuleCondition
    public var action: RuleAction
    public var active: Bool
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// What a rule does when it holds: a task in a department of the event's region or in a named
/// team, its kind, priority, title, payload and subject made from templates over the data.
public struct RuleAction: Sendable, Equatable, Codable {
    public var department: Department?
    public var team: String?
    public var kind: String
    public var priority: TaskPriority?
    /// At most 500 code points of text with `{{field}}` placeholders.
    public var title: String
    /// Payload member → template (at most 50, each at most 1,000 code points).
    public var payload: [String: String]
    /// The task's subject; a part left out is the event's entity type or id. No subject when nil.
    public var subject: Subject?

    public struct Subject: Sendable, Equatable, Codable {
        public var type: String?
        public var id: String?

        public init(type: String? = nil, id: String? = nil) {
            self.type = type
            self.id = id
        }
    }

    public init(
        department: Department? = nil,
        team: String? = nil,
        kind: String,
        priority: TaskPriority? = nil,
        title: String,
        payload: [String: String] = [:],
        subject: Subject? = nil
    ) {
        self.department = department
        self.team = team
        self.kind = kind
        self.priority = priority
        self.title = title
        self.payload = payload
        self.subject = subject
    }

    /// Checks the action's shape beyond the document's (one destination, templates that parse);
    /// a named team's existence is checked by the service.
    public func validate() throws(BatonError) {
        guard (department == nil) != (team == nil) else {
            throw BatonError(.ruleViolation, "an action names a department or a team, not both and not neither", details: ["field": "action.team"])
        }
        if let team, !TextRules.isTeamSlug(team) {
            throw BatonError.invalidArgument("team must be a team slug", field: "action.team")
        }
        try NewTask.check(kind: kind, field: "action.kind")
        guard TextRules.hasLength(title, in: 1...500) else { throw .invalidArgument("title must be 1 to 500 characters", field: "action.title") }
        guard !SearchText.fold(title).isEmpty else {
            throw BatonError(.ruleViolation, "title must say something, not only spaces", details: ["field": "action.title"])
        }
        _ = try RuleTemplate.fields(of: title, field: "action.title")
        guard payload.count <= 50 else { throw BatonError(.ruleViolation, "payload maps at most 50 members", details: ["field": "action.payload"]) }
        for key in payload.keys.sorted() {
            let field = "action.payload.\(key)"
            guard TextRules.hasLength(key, in: 1...100) else {
                throw BatonError(.ruleViolation, "payload member names are 1 to 100 characters", details: ["field": "action.payload"])
            }
            let template = payload[key] ?? ""
            guard TextRules.hasLength(template, in: 0...1000) else {
                throw BatonError(.ruleViolation, "a payload template is at most 1000 characters", details: ["field": field])
            }
            _ = try RuleTemplate.fields(of: template, field: field)
        }
        if let subject {
            for (template, field) in [(subject.type, "action.subject.type"), (subject.id, "action.subject.id")] {
                guard let template else { continue }
                guard TextRules.hasLength(template, in: 1...200) else {
                    throw BatonError(.ruleViolation, "a subject template is 1 to 200 characters", details: ["field": field])
                }
                _ = try RuleTemplate.fields(of: template, field: field)
            }
        }
    }
}

/// What creating a rule needs.
public struct NewRule: Sendable, Equatable, Codable {
    public var name: String
    public var on: String
    public var condition: JSONValue?
    public var action: RuleAction
    public var active: Bool?

    public init(name: String, on: String, condition: JSONValue? = nil, action: RuleAction, active: Bool? = nil) {
        self.name = name
        self.on = on
        self.condition = condition
        self.action = action
        self.active = active
    }

    /// Checks every part; returns the parsed condition.
    public func validate() throws(BatonError) -> RuleCondition {
        try RuleRules.check(name: name)
        try RuleRules.check(eventType: on)
        try action.validate()
        guard let condition else { return .always }
        return try RuleCondition(condition)
    }
}

/// An edit of a rule: the parts given replace the current ones (an action as a whole).
public struct RuleChanges: Sendable, Equatable {
    public var name: String?
    public var on: String?
    public var condition: JSONValue?
    public var action: RuleAction?
    public var active: Bool?

    public init(name: String? = nil, on: String? = nil, condition: JSONValue? = nil, action: RuleAction? = nil, active: Bool? = nil) {
        self.name = name
        self.on = on
        self.condition = condition
        self.action = action
        self.active = active
    }

    /// Checks the parts given; returns the parsed condition if one was given.
    public func validate() throws(BatonError) -> RuleCondition? {
        if let name { try RuleRules.check(name: name) }
        if let on { try RuleRules.check(eventType: on) }
        try action?.validate()
        guard let condition else { return nil }
        return try RuleCondition(condition)
    }
}

/// What a dry run says: whether the rule holds for the sample event (and if not, the field of
/// the first clause that failed) and the task it would create.
public struct RuleTrial: Sendable, Equatable, Codable {
    public var matches: Bool
    /// Why it does not match: another event type, or the field of the first failing clause.
    public var reason: String?
    public var task: RuleTask?
}

/// The task a rule makes for one event, before it is created.
public struct RuleTask: Sendable, Equatable, Codable {
    public var team: String
    public var kind: String
    public var priority: TaskPriority
    public var title: String
    public var payload: [String: String]
    public var subject: TaskSubject?

    var newTask: NewTask {
        NewTask(kind: kind, title: title, payloadJSON: PostgresJSONPayload.text(payload), priority: priority, subject: subject)
    }
}

enum RuleRules {
    static func check(name: String) throws(BatonError) {
        guard TextRules.hasLength(name, in: 1...200) else { throw .invalidArgument("name must be 1 to 200 characters", field: "name") }
        guard !SearchText.fold(name).isEmpty else {
            throw BatonError(.ruleViolation, "name must say something, not only spaces", details: ["field": "name"])
        }
    }

    /// `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}$`, such as `order.confirmed`, at most 100 characters.
    static func isEventType(_ text: String) -> Bool {
        guard TextRules.hasLength(text, in: 3...100) else { return false }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (2...4).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            guard let first = part.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
            return part.utf8.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "_")
            }
        }
    }

    static func check(eventType: String) throws(BatonError) {
        guard isEventType(eventType) else {
            throw .invalidArgument("on must be an event type such as order.confirmed", field: "on")
        }
    }
}

/// Payload text of template results.
enum PostgresJSONPayload {
    static func text(_ payload: [String: String]) -> String {
        JSONValue.object(payload.mapValues { .string($0) }).text
    }
}
