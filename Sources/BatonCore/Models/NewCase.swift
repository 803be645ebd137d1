/// What opening a case needs. Without `team`, the support team of the customer's region owns it.
public struct NewCase: Sendable, Equatable, Codable {
    public var customerID: Int
    public var contactID: Int?
    public var kind: CaseKind
    public var channel: CaseChannel?
    public var subject: String
    public var description: String?
    public var priority: TaskPriority?
    public var team: String?

    public init(
        customerID: Int,
        contactID: Int? = nil,
        kind: CaseKind,
        channel: CaseChannel? = nil,
        subject: String,
        description: String? = nil,
        priority: TaskPriority? = nil,
        team: String? = nil
    ) {
        self.customerID = customerID
        self.contactID = contactID
        self.kind = kind
        self.channel = channel
        self.subject = subject
        self.description = description
        self.priority = priority
        self.team = team
    }

    /// Checks what the table would refuse less clearly.
    public func validate() throws(BatonError) {
        guard customerID >= 1 else { throw .invalidArgument("customer_id is not a customer id", field: "customer_id") }
        if let contactID, contactID < 1 { throw .invalidArgument("contact_id is not a contact id", field: "contact_id") }
        try CaseRules.check(subject: subject)
        try CaseRules.check(description: description)
    }
}

/// The length rules of case fields, shared by opening and editing.
enum CaseRules {
    static func check(subject: String) throws(BatonError) {
        guard TextRules.hasLength(subject, in: 1...300) else { throw .invalidArgument("subject must be 1 to 300 characters", field: "subject") }
        // The document cannot say "not only spaces": a rule (422), not a malformed request.
        guard subject.unicodeScalars.contains(where: { !TextRules.isSpace($0) }) else {
            throw BatonError(.ruleViolation, "subject must not be only spaces", details: ["field": "subject"])
        }
    }

    static func check(description: String?) throws(BatonError) {
        if let description, !TextRules.hasLength(description, in: 0...10_000) {
            throw .invalidArgument("description must be at most 10000 characters", field: "description")
        }
    }

    /// A note of a transition or a resolution: required ones must hold a visible character.
    static func check(note: String?, field: String, required: Bool = false) throws(BatonError) {
        guard let note else {
            if required { throw BatonError(.ruleViolation, "\(field) is required", details: ["field": field]) }
            return
        }
        guard TextRules.hasLength(note, in: 0...5000) else { throw .invalidArgument("\(field) must be at most 5000 characters", field: field) }
        if required, !note.unicodeScalars.contains(where: { !TextRules.isSpace($0) }) {
            throw BatonError(.ruleViolation, "\(field) is required", details: ["field": field])
        }
    }
}
