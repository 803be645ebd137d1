/// What creating a customer needs. `force` creates it even when it looks like a duplicate.
public struct NewCustomer: Sendable, Equatable, Codable {
    public var region: String
    public var name: String
    public var legalName: String?
    public var segment: String?
    public var status: CustomerStatus?
    public var ownerID: Int?
    public var tags: [String]?
    public var website: String?
    public var notes: String?
    /// The campaign that brought the customer in: a lead from a campaign lands as a follow-up
    /// task in the region's sales queue.
    public var campaignID: Int?
    /// Contacts created with the customer (their e-mail addresses also find duplicates).
    public var contacts: [NewContact]
    public var force: Bool

    public init(
        region: String,
        name: String,
        legalName: String? = nil,
        segment: String? = nil,
        status: CustomerStatus? = nil,
        ownerID: Int? = nil,
        tags: [String]? = nil,
        website: String? = nil,
        notes: String? = nil,
        campaignID: Int? = nil,
        contacts: [NewContact] = [],
        force: Bool = false
    ) {
        self.region = region
        self.name = name
        self.legalName = legalName
        self.segment = segment
        self.status = status
        self.ownerID = ownerID
        self.tags = tags
        self.website = website
        self.notes = notes
        self.campaignID = campaignID
        self.contacts = contacts
        self.force = force
    }

    /// Checks what the table would refuse less clearly.
    public func validate() throws(BatonError) {
        try CustomerRules.check(name: name, field: "name")
        try CustomerRules.check(legalName: legalName, segment: segment, website: website, notes: notes, tags: tags)
        if let ownerID, ownerID < 1 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
        if let campaignID, campaignID < 1 { throw .invalidArgument("campaign_id is not a campaign id", field: "campaign_id") }
        guard contacts.count <= 50 else { throw .invalidArgument("at most 50 contacts at once", field: "contacts") }
        for (index, contact) in contacts.enumerated() { try contact.validate(field: "contacts[\(index)].") }
    }
}

/// The length and shape rules of customer fields, shared by creating and editing.
enum CustomerRules {
    static func check(name: String, field: String) throws(BatonError) {
        guard TextRules.hasLength(name, in: 1...300) else { throw .invalidArgument("\(field) must be 1 to 300 characters", field: field) }
        // Spaces only is the document's shape but no name: a 422, as for every rule of content.
        guard !SearchText.fold(name).isEmpty else { throw BatonError(.ruleViolation, "\(field) must not be only spaces", details: ["field": field]) }
    }

    static func check(optional value: String?, max: Int, field: String) throws(BatonError) {
        if let value, !TextRules.hasLength(value, in: 0...max) {
            throw .invalidArgument("\(field) must be at most \(max) characters", field: field)
        }
    }

    /// The optional fields' rules, for a new customer and an edit alike.
    static func check(legalName: String?, segment: String?, website: String?, notes: String?, tags: [String]?) throws(BatonError) {
        try check(optional: legalName, max: 300, field: "legal_name")
        try check(optional: segment, max: 100, field: "segment")
        try check(optional: website, max: 500, field: "website")
        try check(optional: notes, max: 10_000, field: "notes")
        try check(tags: tags)
    }

    static func check(tags: [String]?) throws(BatonError) {
        if let tags, tags.count > 50 || tags.contains(where: { !TextRules.hasLength($0, in: 1...100) }) {
            throw .invalidArgument("tags must be at most 50 strings of 1 to 100 characters", field: "tags")
        }
    }
}
