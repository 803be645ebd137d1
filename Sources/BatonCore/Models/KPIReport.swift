public import Foundation

/// A region's (or every reachable region's) key figures in one period, each against the
/// previous period and the same period a year earlier.
public struct KPIReport: Sendable, Equatable, Codable {
    /// One figure: its value in three periods and the growth between them in percent. Growth
    /// from a zero or missing base is nil with the reason.
    public struct Figure: Sendable, Equatable, Codable {
        public var name: String
        public var value: Double?
        public var previous: Double?
        public var yearAgo: Double?
        public var growthPercent: Double?
        public var growthNote: String?
        public var yoyPercent: Double?
        public var yoyNote: String?

        public init(name: String, value: Double?, previous: Double?, yearAgo: Double?) {
            self.name = name
            self.value = value
            self.previous = previous
            self.yearAgo = yearAgo
            (growthPercent, growthNote) = Self.growth(from: previous, to: value)
            (yoyPercent, yoyNote) = Self.growth(from: yearAgo, to: value)
        }

        static func growth(from base: Double?, to value: Double?) -> (Double?, String?) {
            guard let value else { return (nil, "no value in this period") }
            guard let base else { return (nil, "no value in the base period") }
            guard base != 0 else { return (nil, "the base period is zero") }
            return (((value - base) * 1000 / base).rounded() / 10, nil)
        }
    }

    public var period: ReportPeriod
    public var previous: ReportPeriod
    public var yearAgo: ReportPeriod
    public var region: String?
    /// The currency money figures are in; orders in other currencies are counted in `orders`
    /// but left out of revenue, average order value, market share and campaign cost.
    public var currency: String?
    public var figures: [Figure]
}

/// The counts one period's figures are made of.
public struct PeriodCounts: Sendable, Equatable {
    public var revenueMinor: Double = 0
    public var orders: Double = 0
    public var currencyOrders: Double = 0
    public var newCustomers: Int = 0
    public var won: Int = 0
    public var lost: Int = 0
    public var responses: Int = 0
    public var satisfied: Int = 0
    public var campaignBudgetMinor: Int = 0
    public var campaignWon: Int = 0

    /// Percent satisfied (4 or 5), one decimal, as `GET /v1/csat`; nil without responses.
    public var csat: Double? {
        CSATPeriod(start: "", end: "", responses: responses, satisfied: satisfied).csat
    }
}

/// The size of a region's market in a period, or its share given directly, with the source.
public struct MarketSize: Sendable, Equatable, Codable {
    public var region: String
    public var period: ReportPeriod
    public var sizeMinor: Int?
    public var currency: String?
    public var sharePercent: Double?
    public var source: String

    public init(region: String, period: ReportPeriod, sizeMinor: Int?, currency: String?, sharePercent: Double?, source: String) {
        self.region = region
        self.period = period
        self.sizeMinor = sizeMinor
        self.currency = currency
        self.sharePercent = sharePercent
        self.source = source
    }

    public func validate() throws(BatonError) {
        try RecordRules.check(title: source, field: "source", max: 500)
        guard sizeMinor != nil || sharePercent != nil else {
            throw BatonError(.ruleViolation, "give size_minor (with currency) or share_percent", details: ["field": "size_minor"])
        }
        if let sizeMinor {
            guard sizeMinor > 0 else { throw BatonError(.ruleViolation, "size_minor must be above zero", details: ["field": "size_minor"]) }
            guard let currency else { throw BatonError(.ruleViolation, "size_minor needs its currency", details: ["field": "currency"]) }
            try RecordRules.check(currency: currency)
        } else if currency != nil {
            throw BatonError(.ruleViolation, "currency goes with size_minor", details: ["field": "currency"])
        }
        if let sharePercent, !(0...100).contains(sharePercent) {
            throw BatonError(.ruleViolation, "share_percent is between 0 and 100", details: ["field": "share_percent"])
        }
    }
}

/// A region's report settings: which moment of an order counts it in reports, and the
/// currency money figures are summed in (nil: the currency most of a period's orders are in).
public struct ReportSettings: Sendable, Equatable, Codable {
    public enum Moment: String, Sendable, Codable, CaseIterable {
        case confirmed
        case delivered
    }

    public var region: String
    public var countOrdersAt: Moment
    public var currency: String?
    /// When they were last set; nil while the region has the defaults.
    public var updatedAt: Date?

    public init(region: String, countOrdersAt: Moment, currency: String?, updatedAt: Date? = nil) {
        self.region = region
        self.countOrdersAt = countOrdersAt
        self.currency = currency
        self.updatedAt = updatedAt
    }
}
