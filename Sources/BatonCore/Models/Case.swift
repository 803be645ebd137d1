public import Foundation

/// Whether a case asks something or complains about something.
public enum CaseKind: String, Sendable, Codable, CaseIterable {
    case inquiry
    case complaint
}

/// How a case reached Baton.
public enum CaseChannel: String, Sendable, Codable, CaseIterable {
    case email
    case phone
    case chat
    case web
    case inPerson = "in_person"
    case social
}

/// A customer's inquiry or complaint, owned by a team that works it through its states.
public struct Case: Sendable, Equatable, Codable {
    public var id: Int
    public var customerID: Int
    public var contactID: Int?
    /// The customer's region.
    public var region: String
    public var kind: CaseKind
    public var channel: CaseChannel?
    public var subject: String
    public var description: String?
    public var priority: TaskPriority
    public var state: CaseState
    /// The owning team's slug.
    public var team: String
    public var resolution: String?
    /// The owning team's current task for the case.
    public var taskID: Int?
    public var resolvedAt: Date?
    public var closedAt: Date?
    public var reopenCount: Int
    /// Bumped by every edit and state change; the ETag an edit's If-Match names.
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var deletedAt: Date?
}
