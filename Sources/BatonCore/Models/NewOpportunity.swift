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
        try OpportunityRules.check(title: title)
        try OpportunityRules.check(amountMinor: amountMinor, currency: currency)
        try OpportunityRules.check(probability: probability)
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
        if let title { try OpportunityRules.check(title: title) }
        if let amountMinor { try OpportunityRules.check(amountMinor: amountMinor, currency: currency ?? "EUR") }
        if let currency { try OpportunityRules.check(amountMinor: amountMinor ?? 0, currency: currency) }
        if let probability, probability != -1 { try OpportunityRules.check(probability: probability) }
        if let ownerID, ownerID < 0 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
    }
}

/// The shape rules of opportunity and campaign fields.
enum OpportunityRules {
    static func check(title: String, field: String = "title", max: Int = 300) throws(BatonError) {
        guard TextRules.hasLength(title, in: 1...max) else { throw .invalidArgument("\(field) must be 1 to \(max) characters", field: field) }
        guard !SearchText.fold(title).isEmpty else { throw BatonError(.ruleViolation, "\(field) must not be only spaces", details: ["field": field]) }
    }

    static func check(amountMinor: Int, currency: String, amountField: String = "amount_minor") throws(BatonError) {
        guard amountMinor >= 0 else { throw .invalidArgument("\(amountField) must not be negative", field: amountField) }
        try check(currency: currency)
    }

    /// An ISO 4217 code: three capital letters.
    static func check(currency: String) throws(BatonError) {
        let bytes = Array(currency.utf8)
        guard bytes.count == 3, bytes.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            throw .invalidArgument("currency must be an ISO 4217 code such as EUR", field: "currency")
        }
    }

    static func check(probability: Int?) throws(BatonError) {
        guard let probability else { return }
        guard (0...100).contains(probability) else { throw .invalidArgument("probability must be 0 to 100", field: "probability") }
    }

    static func check(note: String?, field: String = "note") throws(BatonError) {
        guard let note else { return }
        guard TextRules.length(note) <= 2_000 else { throw .invalidArgument("\(field) must be at most 2000 characters", field: field) }
    }
}
