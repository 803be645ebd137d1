public import Foundation

/// Who a target belongs to.
public enum TargetOwnerKind: String, Sendable, Codable, CaseIterable {
    case member, team, region, company
}

/// What a target measures (see ``ReportStore`` for how each actual is counted).
public enum TargetMetric: String, Sendable, Codable, CaseIterable {
    case revenue, orders
    case newCustomers = "new_customers"
    case opportunitiesWon = "opportunities_won"
    case csat
}

/// A sales target: an owner's goal for one metric in one period, with the variance analysis
/// and the next action agreed on it.
public struct Target: Sendable, Equatable, Codable {
    public var id: Int
    public var ownerKind: TargetOwnerKind
    public var memberID: Int?
    public var team: String?
    /// The owner's region; nil for the company.
    public var region: String?
    public var metric: TargetMetric
    public var period: ReportPeriod
    /// Minor units for revenue, a count for orders, customers and deals, percent for CSAT.
    public var value: Double
    public var currency: String?
    public var productCategory: String?
    public var notes: String?
    public var varianceNote: String?
    public var nextAction: String?
    public var nextActionOwnerID: Int?
    public var nextActionDue: String?
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
}

extension ReportPeriod: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let period = ReportPeriod(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a period"))
        }
        self = period
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// What creating a target needs. The owner is a member (`memberID`, and the `region` the
/// target is set in), a team, a region or the company.
public struct NewTarget: Sendable, Equatable, Codable {
    public var ownerKind: TargetOwnerKind
    public var memberID: Int?
    public var team: String?
    public var region: String?
    public var metric: TargetMetric
    public var period: ReportPeriod
    public var value: Double
    public var currency: String?
    public var productCategory: String?
    public var notes: String?

    public init(
        ownerKind: TargetOwnerKind,
        memberID: Int? = nil,
        team: String? = nil,
        region: String? = nil,
        metric: TargetMetric,
        period: ReportPeriod,
        value: Double,
        currency: String? = nil,
        productCategory: String? = nil,
        notes: String? = nil
    ) {
        self.ownerKind = ownerKind
        self.memberID = memberID
        self.team = team
        self.region = region
        self.metric = metric
        self.period = period
        self.value = value
        self.currency = currency
        self.productCategory = productCategory
        self.notes = notes
    }

    public func validate() throws(BatonError) {
        switch ownerKind {
        case .member:
            guard let memberID, memberID >= 1 else {
                throw BatonError(.ruleViolation, "a member target names member_id", details: ["field": "member_id"])
            }
            guard region != nil else {
                throw BatonError(.ruleViolation, "a member target names the region it is set in", details: ["field": "region"])
            }
            guard team == nil else { throw BatonError(.ruleViolation, "a member target names no team", details: ["field": "team"]) }
        case .team:
            guard team != nil else { throw BatonError(.ruleViolation, "a team target names team", details: ["field": "team"]) }
            guard memberID == nil else { throw BatonError(.ruleViolation, "a team target names no member", details: ["field": "member_id"]) }
        case .region:
            guard region != nil else { throw BatonError(.ruleViolation, "a region target names region", details: ["field": "region"]) }
            guard memberID == nil, team == nil else {
                throw BatonError(.ruleViolation, "a region target names no member or team", details: ["field": "team"])
            }
        case .company:
            guard memberID == nil, team == nil, region == nil else {
                throw BatonError(.ruleViolation, "a company target names no member, team or region", details: ["field": "region"])
            }
        }
        guard value > 0, value.isFinite, value <= 1e15 else {
            throw BatonError(.ruleViolation, "value must be above zero", details: ["field": "value"])
        }
        if metric == .csat, value > 100 { throw BatonError(.ruleViolation, "a CSAT target is a percent up to 100", details: ["field": "value"]) }
        if metric == .revenue {
            guard let currency, currency.utf8.count == 3, currency.utf8.allSatisfy({ (65...90).contains($0) }) else {
                throw BatonError(.ruleViolation, "a revenue target names its currency (ISO 4217)", details: ["field": "currency"])
            }
        } else if currency != nil {
            throw BatonError(.ruleViolation, "only a revenue target has a currency", details: ["field": "currency"])
        }
        if let productCategory {
            guard metric == .revenue || metric == .orders else {
                throw BatonError(
                    .ruleViolation,
                    "only revenue and orders targets narrow to a product category",
                    details: ["field": "product_category"]
                )
            }
            try RecordRules.check(title: productCategory, field: "product_category", max: 100)
        }
        if let notes, notes.count > 10_000 { throw BatonError(.ruleViolation, "notes are longer than 10000 characters", details: ["field": "notes"]) }
    }
}

/// An edit of a target: the variance analysis, the next action (its owner and due date), the
/// notes or the value. Empty text and owner 0 clear a field.
public struct TargetChanges: Sendable, Equatable, Codable {
    public var value: Double?
    public var notes: String?
    public var varianceNote: String?
    public var nextAction: String?
    public var nextActionOwnerID: Int?
    public var nextActionDue: LocalDate?

    public init(
        value: Double? = nil,
        notes: String? = nil,
        varianceNote: String? = nil,
        nextAction: String? = nil,
        nextActionOwnerID: Int? = nil,
        nextActionDue: LocalDate? = nil
    ) {
        self.value = value
        self.notes = notes
        self.varianceNote = varianceNote
        self.nextAction = nextAction
        self.nextActionOwnerID = nextActionOwnerID
        self.nextActionDue = nextActionDue
    }

    public func validate(metric: TargetMetric) throws(BatonError) {
        if let value {
            guard value > 0, value.isFinite, value <= 1e15 else {
                throw BatonError(.ruleViolation, "value must be above zero", details: ["field": "value"])
            }
            if metric == .csat, value > 100 { throw BatonError(.ruleViolation, "a CSAT target is a percent up to 100", details: ["field": "value"]) }
        }
        if let notes, notes.count > 10_000 { throw BatonError(.ruleViolation, "notes are longer than 10000 characters", details: ["field": "notes"]) }
        if let varianceNote, varianceNote.count > 10_000 {
            throw BatonError(.ruleViolation, "variance_note is longer than 10000 characters", details: ["field": "variance_note"])
        }
        if let nextAction, nextAction.count > 2000 {
            throw BatonError(.ruleViolation, "next_action is longer than 2000 characters", details: ["field": "next_action"])
        }
        if let nextActionOwnerID, nextActionOwnerID < 0 {
            throw .invalidArgument("next_action_owner_id is not a member id", field: "next_action_owner_id")
        }
    }
}
