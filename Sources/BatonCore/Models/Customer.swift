public import Foundation

/// A customer: a company (or person) a region sells to, with its owner among the members.
public struct Customer: Sendable, Equatable, Codable {
    public var id: Int
    public var region: String
    public var name: String
    public var legalName: String?
    public var segment: String?
    public var status: CustomerStatus
    public var ownerID: Int?
    public var tags: [String]
    public var website: String?
    public var notes: String?
    /// The campaign that brought the customer in.
    public var campaignID: Int?
    /// Bumped by every edit; the ETag an edit's If-Match names.
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Set when an admin deleted the customer (kept for the audit trail).
    public var deletedAt: Date?
}
