public import Foundation

/// An API token as listed (never with its secret).
public struct TokenInfo: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var role: Role
    /// The token reaches every team of every region.
    public var allRegions: Bool
    public var teams: [String]
    public var regions: [String]
    public var memberID: Int?
    public var secretHint: String
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    public var createdAt: Date
}
