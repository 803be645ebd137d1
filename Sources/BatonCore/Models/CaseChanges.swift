/// An edit of a case's plain fields: the fields given change, the others stay. An empty
/// description clears it; `contactID` 0 clears the contact. State changes are actions.
public struct CaseChanges: Sendable, Equatable, Codable {
    public var subject: String?
    public var description: String?
    public var priority: TaskPriority?
    public var channel: CaseChannel?
    public var contactID: Int?

    public init(
        subject: String? = nil,
        description: String? = nil,
        priority: TaskPriority? = nil,
        channel: CaseChannel? = nil,
        contactID: Int? = nil
    ) {
        self.subject = subject
        self.description = description
        self.priority = priority
        self.channel = channel
        self.contactID = contactID
    }

    public func validate() throws(BatonError) {
        if let subject { try CaseRules.check(subject: subject) }
        try CaseRules.check(description: description)
        if let contactID, contactID < 0 { throw .invalidArgument("contact_id is not a contact id", field: "contact_id") }
    }
}
