/// What opening an opportunity needs. It starts in `stage`, else its region's first stage;
/// `campaignID` defaults to the campaign that sourced the customer.
public struct NewOpportunity: Sendable, Equatable, Codable {
    public var customerID: Int
    public var title: String
    public var amountMinor: Int
    public var currency: String
    public var expectedClose: LocalDate?
    public var ownerID: Int?
    public var probability: Int?
    public var stage: String?
    public var campaignID: Int?

    public init(
        customerID: Int,
        title: String,
        amountMinor: Int,
        currency: String,
        expectedClose: LocalDate? = nil,
        ownerID: Int? = nil,
        probability: Int? = nil,
        stage: String? = nil,
        campaignID: Int? = nil
    ) {
        self.customerID = customerID
        self.title = title
        self.amountMinor = amountMinor
        self.currency = currency
        self.expectedClose = expectedClose
        self.ownerID = ownerID
        self.probability = probability
        self.stage = stage
        self.campaignID = campaignID
    }

    public func validate() throws(BatonError) {
        guard customerID >= 1 else { throw .invalidArgument("customer_id is not a customer id", field: "customer_id") }
        try RecordRules.check(title: title)
        try RecordRules.check(amountMinor: amountMinor, currency: currency)
        try RecordRules.check(probability: probability)
        if let ownerID, ownerID < 1 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
        if let campaignID, campaignID < 1 { throw .invalidArgument("campaign_id is not a campaign id", field: "campaign_id") }
    }
}

/// An edit of an opportunity: the fields given change. `ownerID` 0 clears the owner,
/// `probability` -1 goes back to the stage's, and `clearExpectedClose` clears the date.
public struct OpportunityChanges: Sendable, Equatable, Codable {
    public var title: String?
    public var amountMinor: Int?
    public var currency: String?
    public var expectedClose: LocalDate?
    public var clearExpectedClose: Bool
    public var ownerID: Int?
    public var probability: Int?

    public init(
        title: String? = nil,
        amountMinor: Int? = nil,
        currency: String? = nil,
        expectedClose: LocalDate? = nil,
        clearExpectedClose: Bool = false,
        ownerID: Int? = nil,
        probability: Int? = nil
    ) {
        self.title = title
        self.amountMinor = amountMinor
        self.currency = currency
        self.expectedClose = expectedClose
        self.clearExpectedClose = clearExpectedClose
        self.ownerID = ownerID
        self.probability = probability
    }

    public func validate() throws(BatonError) {
        if let title { try RecordRules.check(title: title) }
        if let amountMinor { try RecordRules.check(amountMinor: amountMinor, currency: currency ?? "EUR") }
        if let currency { try RecordRules.check(amountMinor: amountMinor ?? 0, currency: currency) }
        if let probability, probability != -1 { try RecordRules.check(probability: probability) }
        if let ownerID, ownerID < 0 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
    }
}
