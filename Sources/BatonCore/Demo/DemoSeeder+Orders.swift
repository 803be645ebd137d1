import Foundation
import PostgresClient

extension DemoSeeder {
    /// Two orders a month per region over the last two years, growing, almost all delivered
    /// (a few cancelled), dated back so that month-over-month and year-over-year reports have
    /// data; and this month's orders in every state. Each historic order's units are received
    /// just before it is confirmed, so the stock the demo ends with is its opening stock less
    /// what this month's orders hold.
    func seedOrders(for customers: [Customer], skus: [String], by system: Principal) async throws {
        let orders = services.orders
        let inventory = services.inventory
        let now = Date()
        for region in ["emea", "apac"] {
            let buyers = customers.filter { $0.region == region && ($0.status == .active || $0.status == .prospect) }
            guard !buyers.isEmpty else { continue }
            for monthsAgo in stride(from: 23, through: 0, by: -1) {
                for slot in 0..<2 {
                    let seed = monthsAgo * 7 + slot * 3 + (region == "apac" ? 5 : 0)
                    // Later months order more: year over year the business grows.
                    let quantity = 1 + (24 - monthsAgo) / 8 + seed % 2
                    var lines = [NewOrderLine(sku: skus[seed % skus.count], quantity: quantity)]
                    if seed % 3 == 0 {
                        lines.append(NewOrderLine(sku: skus[(seed + 2) % skus.count], quantity: quantity * 2, discountPercent: 5))
                    }
                    let customer = buyers[seed % buyers.count]
                    let order = try await orders.create(NewOrder(customerID: customer.id, lines: lines), by: system)
                    let placed = now.addingTimeInterval(-Double(monthsAgo * 30 + 20 - slot * 9) * 86_400)
                    guard monthsAgo > 0 else {
                        try await seedCurrent(order, slot: slot, region: region, by: system)
                        continue
                    }
                    for line in lines {
                        _ = try await inventory.receive(region: region, sku: line.sku, quantity: line.quantity, reason: "Replenishment", by: system)
                    }
                    _ = try await orders.confirm(id: order.id, allowBackorder: false, by: system)
                    if seed % 11 == 4 {
                        _ = try await orders.cancel(id: order.id, reason: "Customer postponed the project", by: system)
                    } else {
                        _ = try await orders.ship(id: order.id, by: system)
                        _ = try await orders.deliver(id: order.id, by: system)
                    }
                    try await DemoStore().backdate(order: order.id, to: placed, on: services.database.pool)
                }
            }
        }
    }

    /// This month's orders: a draft and one each on hold, confirmed, shipped and cancelled
    /// across the two slots of the two regions (the delivered ones are the months before).
    private func seedCurrent(_ order: Order, slot: Int, region: String, by system: Principal) async throws {
        let orders = services.orders
        let steps: [[String]] =
            region == "emea"
            ? [["confirm", "hold"], ["confirm"]]
            : [["confirm", "ship"], ["confirm", "cancel"]]
        for step in steps[slot] {
            switch step {
            case "confirm": _ = try await orders.confirm(id: order.id, allowBackorder: true, by: system)
            case "hold": _ = try await orders.hold(id: order.id, reason: "Waiting for the customer's credit check", by: system)
            case "ship": _ = try await orders.ship(id: order.id, by: system)
            case "deliver": _ = try await orders.deliver(id: order.id, by: system)
            default: _ = try await orders.cancel(id: order.id, reason: "Ordered twice by mistake", by: system)
            }
        }
        if region == "emea", slot == 0 {
            // And a draft still being put together.
            _ = try await orders.create(
                NewOrder(customerID: order.customerID, lines: [NewOrderLine(sku: order.lines[0].sku, quantity: 2)], notes: "Quote sent"),
                by: system
            )
        }
    }
}
