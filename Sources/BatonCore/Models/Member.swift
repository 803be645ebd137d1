public import Foundation

/// A person on one or more teams.
public struct Member: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var email: String
    public var active: Bool
    public var memberships: [Membership]
    public var createdAt: Date
}

/// A member's place on a team.
public struct Membership: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        case lead
        case agent
        case viewer
    }

    public var team: String
    public var role: Role
}
