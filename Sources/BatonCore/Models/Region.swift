public import Foundation

/// A region the organisation works in, such as `emea`, with the IANA time zone its business
/// hours are kept in.
public struct Region: Sendable, Equatable, Codable {
    public var code: String
    public var name: String
    public var timeZone: String
    public var createdAt: Date

    public init(code: String, name: String, timeZone: String, createdAt: Date) {
        self.code = code
        self.name = name
        self.timeZone = timeZone
        self.createdAt = createdAt
    }
}
