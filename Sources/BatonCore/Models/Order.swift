public import Foundation

/// Where an order stands. `draft` → `confirmed` (stock reserved) → `shipped` → `delivered`;
/// `cancelled` from draft or confirmed; `on_hold` from draft or confirmed and back.
public enum OrderState: String, Sendable, Codable, CaseIterable {
    case draft, confirmed
    case onHold = "on_hold"
    case shipped, delivered, cancelled
}

/// A customer's order of products from a region's warehouse. Totals are Baton's, computed from
/// the lines.
public struct Order: Sendable, Equatable, Codable {
    public var id: Int
    public var customerID: Int
    public var region: String
    public var opportunityID: Int?
    public var state: OrderState
    /// The state an order on hold returns to.
    public var heldFrom: OrderState?
    public var holdReason: String?
    public var cancelReason: String?
    public var currency: String
    public var subtotalMinor: Int
    public var discountMinor: Int
    public var totalMinor: Int
    /// `YYYY-MM-DD`.
    public var requestedDeliveryOn: String?
    public var notes: String?
    /// Confirmed short of stock: the missing units are reserved when it ships.
    public var backordered: Bool
    public var lines: [OrderLine]
    public var credits: [OrderCredit]
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var confirmedAt: Date?
    public var shippedAt: Date?
    public var deliveredAt: Date?
    public var cancelledAt: Date?

    /// How people name it: `SO-000042`.
    public var number: String { Self.number(id) }

    public static func number(_ id: Int) -> String {
        let digits = String(id)
        return "SO-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

/// One line of an order.
public struct OrderLine: Sendable, Equatable, Codable {
    public var line: Int
    public var productID: Int
    public var sku: String
    public var name: String
    public var quantity: Int
    public var unitPriceMinor: Int
    /// Hundredths of a percent (1250 is 12.5 %).
    public var discountBasisPoints: Int
    public var totalMinor: Int
    /// Units held in the region's stock for this line.
    public var reserved: Int
}

/// A member's share of the credit for an order, in percent.
public struct OrderCredit: Sendable, Equatable, Codable {
    public var memberID: Int
    public var percent: Int

    public init(memberID: Int, percent: Int) {
        self.memberID = memberID
        self.percent = percent
    }
}

/// A line as a caller writes it: the unit price defaults to the product's.
public struct NewOrderLine: Sendable, Equatable, Codable {
    public var sku: String
    public var quantity: Int
    public var unitPriceMinor: Int?
    /// Percent, at most two decimals.
    public var discountPercent: Double?

    public init(sku: String, quantity: Int, unitPriceMinor: Int? = nil, discountPercent: Double? = nil) {
        self.sku = sku
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
        self.discountPercent = discountPercent
    }
}

/// What placing an order needs.
public struct NewOrder: Sendable, Equatable, Codable {
    public var customerID: Int
    public var region: String?
    public var opportunityID: Int?
    /// Defaults to the currency of the first line's product.
    public var currency: String?
    public var lines: [NewOrderLine]
    public var requestedDeliveryOn: LocalDate?
    public var notes: String?
    /// Defaults to the customer's owner, all of it.
    public var credits: [OrderCredit]?

    public init(
        customerID: Int,
        region: String? = nil,
        opportunityID: Int? = nil,
        currency: String? = nil,
        lines: [NewOrderLine],
        requestedDeliveryOn: LocalDate? = nil,
        notes: String? = nil,
        credits: [OrderCredit]? = nil
    ) {
        self.customerID = customerID
        self.region = region
        self.opportunityID = opportunityID
        self.currency = currency
        self.lines = lines
        self.requestedDeliveryOn = requestedDeliveryOn
        self.notes = notes
        self.credits = credits
    }

    public func validate() throws(BatonError) {
        if let currency { try RecordRules.check(currency: currency) }
        try OrderRules.check(lines: lines)
        try OrderRules.check(notes: notes)
        if let credits { try OrderRules.check(credits: credits) }
    }
}

/// An edit of an order under `If-Match`: the fields given change. Lines (replaced whole) only
/// while it is a draft; empty notes clear them.
public struct OrderChanges: Sendable, Equatable, Codable {
    public var lines: [NewOrderLine]?
    public var requestedDeliveryOn: LocalDate?
    public var clearRequestedDeliveryOn: Bool
    public var notes: String?
    public var credits: [OrderCredit]?

    public init(
        lines: [NewOrderLine]? = nil,
        requestedDeliveryOn: LocalDate? = nil,
        clearRequestedDeliveryOn: Bool = false,
        notes: String? = nil,
        credits: [OrderCredit]? = nil
    ) {
        self.lines = lines
        self.requestedDeliveryOn = requestedDeliveryOn
        self.clearRequestedDeliveryOn = clearRequestedDeliveryOn
        self.notes = notes
        self.credits = credits
    }

    public var isEmpty: Bool { lines == nil && requestedDeliveryOn == nil && !clearRequestedDeliveryOn && notes == nil && credits == nil }

    public func validate() throws(BatonError) {
        if let lines { try OrderRules.check(lines: lines) }
        try OrderRules.check(notes: notes)
        if let credits { try OrderRules.check(credits: credits) }
    }
}

/// The rules of order fields, and the arithmetic of their totals.
enum OrderRules {
    static let maximumLines = 200
    static let maximumQuantity = 1_000_000
    static let maximumUnitPrice = 1_000_000_000_000

    static func check(lines: [NewOrderLine]) throws(BatonError) {
        guard (1...maximumLines).contains(lines.count) else {
            throw .invalidArgument("an order has 1 to \(maximumLines) lines", field: "lines")
        }
        for (index, line) in lines.enumerated() {
            let field = "lines[\(index)]"
            try ProductRules.check(sku: line.sku)
            guard (1...maximumQuantity).contains(line.quantity) else {
                throw .invalidArgument("\(field).quantity must be 1 to \(maximumQuantity)", field: "\(field).quantity")
            }
            if let price = line.unitPriceMinor, !(0...maximumUnitPrice).contains(price) {
                throw .invalidArgument("\(field).unit_price_minor must be 0 to \(maximumUnitPrice)", field: "\(field).unit_price_minor")
            }
            _ = try basisPoints(line.discountPercent, field: "\(field).discount_percent")
        }
    }

    /// A discount in percent as hundredths of a percent; more than two decimals is 422.
    static func basisPoints(_ percent: Double?, field: String) throws(BatonError) -> Int {
        guard let percent else { return 0 }
        guard percent.isFinite, (0...100).contains(percent) else { throw .invalidArgument("\(field) must be 0 to 100", field: field) }
        let scaled = (percent * 100).rounded()
        guard abs(scaled - percent * 100) < 1e-6 else {
            throw BatonError(.ruleViolation, "\(field) has at most two decimals, such as 12.5", details: ["field": field])
        }
        return Int(scaled)
    }

    /// The total of a line: quantity × unit price less the discount, rounded half up. Within the
    /// limits above nothing overflows.
    static func total(quantity: Int, unitPriceMinor: Int, basisPoints: Int) -> Int {
        let gross = quantity * unitPriceMinor
        let discount = gross / 10_000 * basisPoints + (gross % 10_000 * basisPoints + 5_000) / 10_000
        return gross - discount
    }

    static func check(notes: String?) throws(BatonError) {
        guard let notes else { return }
        guard TextRules.length(notes) <= 10_000 else { throw .invalidArgument("notes must be at most 10000 characters", field: "notes") }
    }

    static func check(credits: [OrderCredit]) throws(BatonError) {
        guard !credits.isEmpty else { return }
        guard credits.count <= 20 else { throw .invalidArgument("at most 20 members share the credit", field: "credits") }
        var seen: Set<Int> = []
        for credit in credits {
            guard credit.memberID > 0 else { throw .invalidArgument("credits member_id is not a member id", field: "credits") }
            guard (1...100).contains(credit.percent) else { throw .invalidArgument("credits percent must be 1 to 100", field: "credits") }
            guard seen.insert(credit.memberID).inserted else {
                throw BatonError(.ruleViolation, "member \(credit.memberID) is credited twice", details: ["field": "credits"])
            }
        }
        let sum = credits.reduce(0) { $0 + $1.percent }
        guard sum == 100 else {
            throw BatonError(.ruleViolation, "the credit shares add up to \(sum) %, not 100 %", details: ["field": "credits"])
        }
    }
}
