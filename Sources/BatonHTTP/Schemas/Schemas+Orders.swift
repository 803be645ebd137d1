import BatonCore

extension Components.Schemas.Order {
    init(_ order: Order) {
        self.init(
            id: Int64(order.id),
            number: order.number,
            customerId: Int64(order.customerID),
            region: order.region,
            opportunityId: order.opportunityID.map(Int64.init),
            state: Components.Schemas.OrderState(order.state),
            heldFrom: order.heldFrom.map(Components.Schemas.OrderState.init),
            holdReason: order.holdReason,
            cancelReason: order.cancelReason,
            currency: order.currency,
            subtotalMinor: Int64(order.subtotalMinor),
            discountMinor: Int64(order.discountMinor),
            totalMinor: Int64(order.totalMinor),
            requestedDeliveryOn: order.requestedDeliveryOn,
            notes: order.notes,
            backordered: order.backordered,
            lines: order.lines.map(Components.Schemas.OrderLine.init),
            credits: order.credits.map { .init(memberId: Int64($0.memberID), percent: $0.percent) },
            version: order.version,
            createdBy: order.createdBy,
            createdAt: order.createdAt,
            updatedAt: order.updatedAt,
            confirmedAt: order.confirmedAt,
            shippedAt: order.shippedAt,
            deliveredAt: order.deliveredAt,
            cancelledAt: order.cancelledAt
        )
    }
}

extension Components.Schemas.OrderState {
    init(_ state: OrderState) {
        self = Self(rawValue: state.rawValue) ?? .draft
    }
}

extension Components.Schemas.OrderLine {
    init(_ line: OrderLine) {
        self.init(
            line: line.line,
            productId: Int64(line.productID),
            sku: line.sku,
            name: line.name,
            quantity: Int64(line.quantity),
            unitPriceMinor: Int64(line.unitPriceMinor),
            discountPercent: Double(line.discountBasisPoints) / 100,
            totalMinor: Int64(line.totalMinor),
            reserved: Int64(line.reserved)
        )
    }
}

extension NewOrderLine {
    init(_ line: Components.Schemas.NewOrderLine) {
        self.init(
            sku: line.sku,
            quantity: Int(line.quantity),
            unitPriceMinor: line.unitPriceMinor.map(Int.init),
            discountPercent: line.discountPercent
        )
    }
}

extension OrderCredit {
    init(_ credit: Components.Schemas.OrderCredit) {
        self.init(memberID: Int(credit.memberId), percent: credit.percent)
    }
}
