public import Foundation

/// A product's stock in a region's warehouse.
public struct StockLevel: Sendable, Equatable, Codable {
    public var productID: Int
    public var sku: String
    public var name: String
    public var region: String
    public var onHand: Int
    public var reserved: Int
    /// On hand less reserved.
    public var available: Int { onHand - reserved }
    /// Available stock at or below this (when above 0) queues one restock task per crossing.
    public var reorderPoint: Int
    public var reorderQuantity: Int
    public var snoozedUntil: Date?
    /// Whether the current crossing below the reorder point has been handled (a task queued,
    /// or snoozed); cleared when available stock rises above the point again.
    public var belowReorder: Bool
    public var version: Int
    public var updatedAt: Date
}

/// One change of stock: the ledger row the balances derive from.
public struct StockMovement: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case receipt, adjustment, reservation, release, shipment
    }

    public var id: Int
    public var productID: Int
    public var region: String
    public var kind: Kind
    public var onHandDelta: Int
    public var reservedDelta: Int
    public var reason: String?
    public var orderID: Int?
    /// The restock task this movement queued, if it crossed the reorder point.
    public var taskID: Int?
    public var actorID: String?
    public var at: Date
}

/// A change of a stock row's reorder settings: the fields given change.
public struct StockSettings: Sendable, Equatable, Codable {
    public var reorderPoint: Int?
    public var reorderQuantity: Int?
    public var snoozedUntil: Date?
    public var clearSnooze: Bool

    public init(reorderPoint: Int? = nil, reorderQuantity: Int? = nil, snoozedUntil: Date? = nil, clearSnooze: Bool = false) {
        self.reorderPoint = reorderPoint
        self.reorderQuantity = reorderQuantity
        self.snoozedUntil = snoozedUntil
        self.clearSnooze = clearSnooze
    }

    public func validate() throws(BatonError) {
        if let reorderPoint, !(0...1_000_000_000).contains(reorderPoint) {
            throw .invalidArgument("reorder_point must be 0 to 1000000000", field: "reorder_point")
        }
        if let reorderQuantity, !(0...1_000_000_000).contains(reorderQuantity) {
            throw .invalidArgument("reorder_quantity must be 0 to 1000000000", field: "reorder_quantity")
        }
    }
}

/// A stock row whose balances disagree with the sum of its movements.
public struct StockDiscrepancy: Sendable, Equatable, Codable {
    public var productID: Int
    public var sku: String
    public var region: String
    public var onHand: Int
    public var ledgerOnHand: Int
    public var reserved: Int
    public var ledgerReserved: Int
}
