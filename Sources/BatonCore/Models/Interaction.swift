public import Foundation

/// What kind of contact with a customer an interaction was.
public enum InteractionKind: String, Sendable, Codable, CaseIterable {
    case call
    case email
    case meeting
    case note
}

/// A call, e-mail, meeting or note with a customer, and the follow-up task it asked for.
public struct Interaction: Sendable, Equatable, Codable {
    public var id: Int
    public var customerID: Int
    public var contactID: Int?
    public var kind: InteractionKind
    public var memberID: Int?
    public var occurredAt: Date
    public var summary: String
    public var followUpOn: String?
    public var followUpTaskID: Int?
    public var createdBy: String?
    public var createdAt: Date
}

/// What logging an interaction needs. A `followUpOn` date (YYYY-MM-DD, in the customer's
/// region) queues a follow-up task in the owner's team for that day.
public struct NewInteraction: Sendable, Equatable, Codable {
    public var kind: InteractionKind
    public var summary: String
    public var occurredAt: Date?
    public var contactID: Int?
    public var memberID: Int?
    public var followUpOn: LocalDate?

    public init(
        kind: InteractionKind,
        summary: String,
        occurredAt: Date? = nil,
        contactID: Int? = nil,
        memberID: Int? = nil,
        followUpOn: LocalDate? = nil
    ) {
        self.kind = kind
        self.summary = summary
        self.occurredAt = occurredAt
        self.contactID = contactID
        self.memberID = memberID
        self.followUpOn = followUpOn
    }

    public func validate() throws(BatonError) {
        guard TextRules.hasLength(summary, in: 1...5000) else {
            throw .invalidArgument("summary must be 1 to 5000 characters", field: "summary")
        }
    }
}
