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
