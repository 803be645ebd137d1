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
