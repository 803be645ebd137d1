public import Foundation

/// Where a campaign reaches people.
public enum CampaignChannel: String, Sendable, Codable, CaseIterable {
    case email, social, search, events, partner, print, referral, other
}

/// A marketing campaign: customers and opportunities carry the campaign that sourced them.
public struct Campaign: Sendable, Equatable, Codable {
    public var id: Int
    public var region: String
    public var name: String
    public var channel: CampaignChannel
    public var budgetMinor: Int
    public var currency: String
    /// `YYYY-MM-DD`.
    public var startsOn: String?
    public var endsOn: String?
    public var ownerID: Int?
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// What creating a campaign needs.
public struct NewCampaign: Sendable, Equatable, Codable {
    public var region: String
    public var name: String
    public var channel: CampaignChannel
    public var budgetMinor: Int
    public var currency: String
    public var startsOn: LocalDate?
    public var endsOn: LocalDate?
    public var ownerID: Int?

    public init(
        region: String,
        name: String,
        channel: CampaignChannel,
        budgetMinor: Int = 0,
        currency: String,
        startsOn: LocalDate? = nil,
        endsOn: LocalDate? = nil,
        ownerID: Int? = nil
    ) {
        self.region = region
        self.name = name
        self.channel = channel
        self.budgetMinor = budgetMinor
        self.currency = currency
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.ownerID = ownerID
    }

    public func validate() throws(BatonError) {
        try RecordRules.check(title: name, field: "name", max: 200)
        try RecordRules.check(amountMinor: budgetMinor, currency: currency, amountField: "budget_minor")
        if let startsOn, let endsOn, endsOn < startsOn {
            throw BatonError(.ruleViolation, "ends_on is before starts_on", details: ["field": "ends_on"])
        }
        if let ownerID, ownerID < 1 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
    }
}

/// An edit of a campaign: the fields given change; `ownerID` 0 clears the owner.
public struct CampaignChanges: Sendable, Equatable, Codable {
    public var name: String?
    public var channel: CampaignChannel?
    public var budgetMinor: Int?
    public var startsOn: LocalDate?
    public var endsOn: LocalDate?
    public var ownerID: Int?

    public init(
        name: String? = nil,
        channel: CampaignChannel? = nil,
        budgetMinor: Int? = nil,
        startsOn: LocalDate? = nil,
        endsOn: LocalDate? = nil,
        ownerID: Int? = nil
    ) {
        self.name = name
        self.channel = channel
        self.budgetMinor = budgetMinor
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.ownerID = ownerID
    }

    public func validate() throws(BatonError) {
        if let name { try RecordRules.check(title: name, field: "name", max: 200) }
        if let budgetMinor, budgetMinor < 0 { throw .invalidArgument("budget_minor must not be negative", field: "budget_minor") }
        if let startsOn, let endsOn, endsOn < startsOn {
            throw BatonError(.ruleViolation, "ends_on is before starts_on", details: ["field": "ends_on"])
        }
        if let ownerID, ownerID < 0 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
    }
}

/// What a campaign brought in: leads (customers it sourced), the opportunities it sourced, how
/// many were qualified (left the first stage, or were won) and won, the revenue of the won ones
/// per currency, and its cost per lead and per won deal in the budget's currency.
public struct CampaignResults: Sendable, Equatable, Codable {
    public struct Revenue: Sendable, Equatable, Codable {
        public var currency: String
        public var amountMinor: Int
    }

    public var campaign: Campaign
    public var leads: Int
    public var opportunities: Int
    public var qualified: Int
    public var won: Int
    public var revenue: [Revenue]
    /// Budget / leads in minor units, nil without leads.
    public var costPerLeadMinor: Int?
    /// Budget / won deals in minor units, nil without a won deal.
    public var costPerWonMinor: Int?
}
