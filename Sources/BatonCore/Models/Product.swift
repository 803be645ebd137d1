public import Foundation

/// Something Baton's regions sell and keep in stock.
public struct Product: Sendable, Equatable, Codable {
    public var id: Int
    public var sku: String
    public var name: String
    public var category: String?
    public var unitPriceMinor: Int
    public var currency: String
    public var active: Bool
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
}

/// What adding a product needs.
public struct NewProduct: Sendable, Equatable, Codable {
    public var sku: String
    public var name: String
    public var category: String?
    public var unitPriceMinor: Int
    public var currency: String

    public init(sku: String, name: String, category: String? = nil, unitPriceMinor: Int, currency: String) {
        self.sku = sku
        self.name = name
        self.category = category
        self.unitPriceMinor = unitPriceMinor
        self.currency = currency
    }

    public func validate() throws(BatonError) {
        try ProductRules.check(sku: sku)
        try RecordRules.check(title: name, field: "name")
        try ProductRules.check(category: category)
        try RecordRules.check(amountMinor: unitPriceMinor, currency: currency, amountField: "unit_price_minor")
    }
}

/// An edit of a product: the fields given change; an empty category clears it.
public struct ProductChanges: Sendable, Equatable, Codable {
    public var name: String?
    public var category: String?
    public var unitPriceMinor: Int?
    public var currency: String?
    public var active: Bool?

    public init(name: String? = nil, category: String? = nil, unitPriceMinor: Int? = nil, currency: String? = nil, active: Bool? = nil) {
        self.name = name
        self.category = category
        self.unitPriceMinor = unitPriceMinor
        self.currency = currency
        self.active = active
    }

    public func validate() throws(BatonError) {
        if let name { try RecordRules.check(title: name, field: "name") }
        if let category, !category.isEmpty { try ProductRules.check(category: category) }
        if let unitPriceMinor, unitPriceMinor < 0 { throw .invalidArgument("unit_price_minor must not be negative", field: "unit_price_minor") }
        if let currency { try RecordRules.check(currency: currency) }
    }
}

enum ProductRules {
    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`, such as `PUMP-200.B` (no `/`: a sku is a path segment).
    static func isSKU(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func plain(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard (1...64).contains(bytes.count), plain(bytes[0]) else { return false }
        return bytes.allSatisfy { plain($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    static func check(sku: String) throws(BatonError) {
        guard isSKU(sku) else {
            throw .invalidArgument("sku must be 1 to 64 letters, digits and . _ -, starting with a letter or digit", field: "sku")
        }
    }

    static func check(category: String?) throws(BatonError) {
        guard let category else { return }
        guard TextRules.hasLength(category, in: 1...100) else { throw .invalidArgument("category must be 1 to 100 characters", field: "category") }
    }
}
