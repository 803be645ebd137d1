import BatonCore

extension Components.Schemas.Product {
    init(_ product: Product) {
        self.init(
            id: Int64(product.id),
            sku: product.sku,
            name: product.name,
            category: product.category,
            unitPriceMinor: Int64(product.unitPriceMinor),
            currency: product.currency,
            active: product.active,
            version: product.version,
            createdAt: product.createdAt,
            updatedAt: product.updatedAt
        )
    }
}

extension Components.Schemas.StockLevel {
    init(_ level: StockLevel) {
        self.init(
            productId: Int64(level.productID),
            sku: level.sku,
            name: level.name,
            region: level.region,
            onHand: Int64(level.onHand),
            reserved: Int64(level.reserved),
            available: Int64(level.available),
            reorderPoint: Int64(level.reorderPoint),
            reorderQuantity: Int64(level.reorderQuantity),
            snoozedUntil: level.snoozedUntil,
            belowReorder: level.belowReorder,
            version: level.version,
            updatedAt: level.updatedAt
        )
    }
}

extension Components.Schemas.StockMovement {
    init(_ movement: StockMovement) {
        self.init(
            id: Int64(movement.id),
            productId: Int64(movement.productID),
            region: movement.region,
            kind: .init(rawValue: movement.kind.rawValue) ?? .adjustment,
            onHandDelta: Int64(movement.onHandDelta),
            reservedDelta: Int64(movement.reservedDelta),
            reason: movement.reason,
            orderId: movement.orderID.map(Int64.init),
            taskId: movement.taskID.map(Int64.init),
            actorId: movement.actorID,
            at: movement.at
        )
    }
}

extension Components.Schemas.StockDiscrepancy {
    init(_ found: StockDiscrepancy) {
        self.init(
            productId: Int64(found.productID),
            sku: found.sku,
            region: found.region,
            onHand: Int64(found.onHand),
            ledgerOnHand: Int64(found.ledgerOnHand),
            reserved: Int64(found.reserved),
            ledgerReserved: Int64(found.ledgerReserved)
        )
    }
}
