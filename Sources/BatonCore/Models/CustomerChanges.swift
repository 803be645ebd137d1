/// An edit of a customer: the fields given change, the others stay. An empty string clears an
/// optional text field; `ownerID` 0 clears the owner.
public struct CustomerChanges: Sendable, Equatable, Codable {
    public var name: String?
    public var legalName: String?
    public var segment: String?
    public var status: CustomerStatus?
    public var ownerID: Int?
    public var tags: [String]?
    public var website: String?
    public var notes: String?

    public init(
        name: String? = nil,
        legalName: String? = nil,
        segment: String? = nil,
        status: CustomerStatus? = nil,
        ownerID: Int? = nil,
        tags: [String]? = nil,
        website: String? = nil,
        notes: String? = nil
    ) {
        self.name = name
        self.legalName = legalName
        self.segment = segment
        self.status = status
        self.ownerID = ownerID
        self.tags = tags
        self.website = website
        self.notes = notes
    }

    public func validate() throws(BatonError) {
        if let name { try CustomerRules.check(name: name, field: "name") }
        try CustomerRules.check(legalName: legalName, segment: segment, website: website, notes: notes, tags: tags)
        if let ownerID, ownerID < 0 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
    }
}
