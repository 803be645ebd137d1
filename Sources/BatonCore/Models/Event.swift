public import Foundation

/// One entry of the append-only event log.
public struct Event: Sendable, Equatable {
    public var id: Int
    public var type: String
    public var occurredAt: Date
    public var source: String
    public var actorType: String?
    public var actorID: String?
    public var entityType: String?
    public var entityID: String?
    public var team: String?
    public var region: String?
    /// The event's data as JSON object text.
    public var dataJSON: String
}
