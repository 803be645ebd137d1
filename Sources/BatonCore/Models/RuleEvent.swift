/// A business event as handoff rules see it: its type, the record it is about, where, and the
/// facts a condition or template may name (`data`, a JSON object; nested objects are reached
/// with dotted paths such as `customer.owned`).
///
/// `entityType` and `entityID` must be those of the event row the service wrote (that row's
/// id is the occurrence a rule fires for at most once), unless `eventID` names the row itself.
public struct RuleEvent: Sendable, Equatable {
    public var type: String
    public var entityType: String?
    public var entityID: String?
    /// The region whose department teams a rule's department action resolves to.
    public var region: String?
    public var team: String?
    public var data: JSONValue
    /// The id of the event row, when the caller has it; otherwise the newest event of this
    /// type and entity written by the current transaction.
    public var eventID: Int?

    public init(
        type: String,
        entityType: String?,
        entityID: String?,
        region: String?,
        team: String? = nil,
        data: [String: JSONValue],
        eventID: Int? = nil
    ) {
        self.type = type
        self.entityType = entityType
        self.entityID = entityID
        self.region = region
        self.team = team
        self.data = .object(data)
        self.eventID = eventID
    }
}
