public import Foundation

/// A department in a region, such as `logistics-apac`, with its own task queue.
public struct Team: Sendable, Equatable, Codable {
    public var slug: String
    public var department: Department
    public var region: String
    public var name: String
    public var paused: Bool
    public var defaultLeaseSeconds: Int
    public var defaultMaxAttempts: Int
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        slug: String,
        department: Department,
        region: String,
        name: String,
        paused: Bool,
        defaultLeaseSeconds: Int,
        defaultMaxAttempts: Int,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.slug = slug
        self.department = department
        self.region = region
        self.name = name
        self.paused = paused
        self.defaultLeaseSeconds = defaultLeaseSeconds
        self.defaultMaxAttempts = defaultMaxAttempts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
