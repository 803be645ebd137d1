import Foundation
import PostgresClient

/// The order use cases: drafts priced by Baton from the catalogue, confirmation that reserves
/// every line's stock at once (or none of it), shipment, delivery, cancellation that gives the
/// stock back, holds. Each move is one transaction with its stock movements, its event and the
/// tasks the handoff rules make of it (a confirmed order for logistics to ship, a delivered
/// one for support to ask for feedback, a reservation down to the reorder point to restock).
public struct OrderService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let customers: CustomerService
    let inventory: InventoryService
    let rules: HandoffRules

    public init(database: BatonDatabase, wakeups: Wakeups, customers: CustomerService, inventory: InventoryService, rules: HandoffRules) {
        self.database = database
        self.wakeups = wakeups
        self.customers = customers
        self.inventory = inventory
        self.rules = rules
    }

    var store: OrderStore { OrderStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    // MARK: - Orders

    public func list(_ filter: OrderStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Order> {
        try principal.authorize(.listOrders)
        if let customer = filter.customerID, customer < 1 { throw BatonError.invalidArgument("customer_id is not an id", field: "customer_id") }
        return try await store.list(filter, scope: principal.scope, page: page)
    }

    /// Places a draft order for a customer the caller may edit, from the customer's region
    /// unless another is named.
    public func create(_ new: NewOrder, idempotencyKey: String? = nil, by principal: Principal) async throws -> Order {
        try principal.authorize(.createOrder)
        try new.validate()
        guard let customer = try await customers.store.find(id: new.customerID, scope: principal.scope) else {
            throw BatonError(.ruleViolation, "no customer \(new.customerID) you may place orders for", details: ["field": "customer_id"])
        }
        let region = new.region ?? customer.region
        guard principal.scope.reaches(region: region), try await database.regions.exists(region) else {
            throw BatonError(.ruleViolation, "no region '\(region)' you may ship from", details: ["field": "region"])
        }
        let store = self.store
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createOrder", request: new) { tx in
            let (lines, currency) = try await price(new.lines, currency: new.currency, on: tx)
            if let opportunity = new.opportunityID {
                try await checkOpportunity(opportunity, of: customer.id, on: tx)
            }
            let credits = new.credits ?? customer.ownerID.map { [OrderCredit(memberID: $0, percent: 100)] } ?? []
            let id = try await Self.creditingMembers(credits) {
                try await store.create(new, region: region, currency: currency, lines: lines, credits: credits, by: principal, on: tx)
            }
            try await store.event("order.created", order: id, by: principal, on: tx)
            guard let order = try await store.find(id: id, scope: principal.scope, on: tx) else {
                throw BatonError(.internalError, "order not found")
            }
            return order
        }
        wakeups.eventsWritten()
        return created
    }

    public func order(id: Int, by principal: Principal) async throws -> Order {
        try await reachable(id, for: .getOrder, by: principal)
    }

    /// Edits an order if it is still at `version`; a stale version is 412. Lines change only
    /// while it is a draft; a delivered or cancelled order does not change at all (409).
    public func update(id: Int, version: Int, _ changes: OrderChanges, by principal: Principal) async throws -> Order {
        _ = try await reachable(id, for: .updateOrder, by: principal)
        try changes.validate()
        guard !changes.isEmpty else {
            throw BatonError(.ruleViolation, "nothing to change: give lines, notes, requested_delivery_on or credits", details: ["field": "body"])
        }
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Order in
            guard let current = try await store.find(id: id, scope: principal.scope, forUpdate: true, on: tx) else {
                throw BatonError.notFound("no order \(id)")
            }
            guard current.version == version else { throw BatonError.stale(version: current.version) }
            guard current.state != .delivered, current.state != .cancelled else {
                throw BatonError(
                    .conflict,
                    "order \(id) is \(current.state.rawValue) and no longer changes",
                    details: ["state": current.state.rawValue]
                )
            }
            if let lines = changes.lines {
                guard current.state == .draft else {
                    throw BatonError(
                        .conflict,
                        "order \(id) is \(current.state.rawValue); its lines change only while it is a draft",
                        details: ["state": current.state.rawValue]
                    )
                }
                try await store.replace(lines: try await price(lines, currency: current.currency, on: tx).lines, of: id, on: tx)
            }
            if let credits = changes.credits {
                try await Self.creditingMembers(credits) { try await store.replace(credits: credits, of: id, on: tx) }
            }
            try await store.update(id: id, changes, on: tx)
            try await store.event("order.updated", order: id, by: principal, on: tx)
            guard let order = try await store.find(id: id, scope: principal.scope, on: tx) else { throw BatonError.notFound("no order \(id)") }
            return order
        }
        wakeups.eventsWritten()
        return updated
    }

    // MARK: - Lifecycle

    /// Confirms a draft, reserving every line's units in the region's stock. When a line is
    /// short, nothing is reserved and the answer (409) names the short lines, unless
    /// `allowBackorder`: then what there is is reserved and the rest when it ships.
    public func confirm(id: Int, allowBackorder: Bool, by principal: Principal) async throws -> Order {
        try await transition(id, for: .confirmOrder, by: principal) { order, tx in
            try Self.require(order, in: [.draft], to: "confirm it")
            let outcome = try await reserve(order, allowingShortage: allowBackorder, by: principal, on: tx)
            try await store.move(id, to: .confirmed, backordered: outcome.short, on: tx)
            return ("order.confirmed", outcome.teams)
        }
    }

    /// Ships a confirmed order: its reserved units leave the stock. A backordered line is
    /// reserved in full first; if the stock still falls short, nothing ships (409).
    public func ship(id: Int, by principal: Principal) async throws -> Order {
        try await transition(id, for: .shipOrder, by: principal) { order, tx in
            try Self.require(order, in: [.confirmed], to: "ship it")
            var teams: Set<String> = []
            var order = order
            if order.backordered {
                teams = try await reserve(order, allowingShortage: false, by: principal, on: tx).teams
                guard let reread = try await store.find(id: id, scope: .everything, on: tx) else { throw BatonError.notFound("no order \(id)") }
                order = reread
            }
            for line in order.lines.sorted(by: Self.lockOrder) {
                guard let level = try await inventory.locked(product: line.productID, region: order.region, on: tx) else {
                    throw BatonError.notFound("no region '\(order.region)'")
                }
                _ = try await inventory.stock.move(
                    level,
                    kind: .shipment,
                    onHand: -line.quantity,
                    reserved: -line.reserved,
                    reason: nil,
                    order: id,
                    by: principal,
                    on: tx
                )
                try await store.setReserved(0, order: id, line: line.line, on: tx)
            }
            try await store.move(id, to: .shipped, backordered: false, on: tx)
            return ("order.shipped", teams)
        }
    }

    public func deliver(id: Int, by principal: Principal) async throws -> Order {
        try await transition(id, for: .deliverOrder, by: principal) { order, tx in
            try Self.require(order, in: [.shipped], to: "deliver it")
            try await store.move(id, to: .delivered, on: tx)
            return ("order.delivered", [])
        }
    }

    /// Cancels a draft or a confirmed order (on hold or not), giving its reserved units back.
    public func cancel(id: Int, reason: String?, by principal: Principal) async throws -> Order {
        try Self.check(reason: reason)
        return try await transition(id, for: .cancelOrder, by: principal) { order, tx in
            try Self.require(order, in: [.draft, .confirmed, .onHold], to: "cancel it")
            let teams = try await giveBack(order, by: principal, on: tx)
            try await store.move(id, to: .cancelled, reason: reason, on: tx)
            return ("order.cancelled", teams)
        }
    }

    /// Holds a draft or a confirmed order (its reservations stay) until it is released.
    public func hold(id: Int, reason: String?, by principal: Principal) async throws -> Order {
        try Self.check(reason: reason)
        return try await transition(id, for: .holdOrder, by: principal) { order, tx in
            try Self.require(order, in: [.draft, .confirmed], to: "hold it")
            try await store.move(id, to: .onHold, heldFrom: order.state, reason: reason, on: tx)
            return ("order.held", [])
        }
    }

    /// Releases a hold: the order goes back to the state it was held in.
    public func release(id: Int, by principal: Principal) async throws -> Order {
        try await transition(id, for: .releaseOrder, by: principal) { order, tx in
            try Self.require(order, in: [.onHold], to: "release it")
            try await store.move(id, to: order.heldFrom ?? .draft, on: tx)
            return ("order.released", [])
        }
    }

    // MARK: - Helpers

    /// Locks the order, lets `move` check and apply the change (returning its event and the
    /// teams it queued work in), records the event and runs the rules that react to it, in one
    /// transaction; a deadlock with another order over the same stock is retried, never shown
    /// to the caller.
    private func transition(
        _ id: Int,
        for useCase: UseCase,
        by principal: Principal,
        move: @escaping @Sendable (Order, PostgresConnection) async throws -> (event: String, teams: Set<String>)
    ) async throws -> Order {
        try principal.authorize(useCase)
        let store = self.store
        let rules = self.rules
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let (order, teams) = try await database.pool.retryingTransaction { tx -> (Order, Set<String>) in
            guard let current = try await store.find(id: id, scope: principal.scope, forUpdate: true, on: tx) else {
                throw BatonError.notFound("no order \(id)")
            }
            var (event, teams) = try await move(current, tx)
            let written = try await store.event(event, order: id, extra: ["from": current.state.rawValue], by: principal, on: tx)
            teams.formUnion(try await rules.react(to: [written], by: principal, catalog: catalog, on: tx))
            guard let order = try await store.find(id: id, scope: principal.scope, on: tx) else { throw BatonError.notFound("no order \(id)") }
            return (order, teams)
        }
        if teams.isEmpty { wakeups.eventsWritten() } else { wakeups.queued(in: teams) }
        return order
    }

    /// Reserves what each line still lacks, locking the stock rows in product order (so two
    /// orders over the same products wait for each other instead of deadlocking). A shortage is
    /// 409 naming the short lines, with nothing reserved, unless `allowingShortage`: then each
    /// line takes what there is. Returns whether any line is still short, and the teams that
    /// got restock work.
    private func reserve(
        _ order: Order,
        allowingShortage: Bool,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> (short: Bool, teams: Set<String>) {
        let lines = order.lines.sorted(by: Self.lockOrder)
        var levels: [Int: StockLevel] = [:]
        for line in lines where levels[line.productID] == nil {
            guard let level = try await inventory.locked(product: line.productID, region: order.region, on: tx) else {
                throw BatonError.notFound("no region '\(order.region)'")
            }
            levels[line.productID] = level
        }
        // Decide every line before moving anything.
        var remaining = levels.mapValues { max(0, $0.available) }
        var takes: [(line: OrderLine, units: Int)] = []
        var shortages: [String] = []
        for line in lines {
            let lacking = line.quantity - line.reserved
            let units = min(lacking, remaining[line.productID] ?? 0)
            remaining[line.productID, default: 0] -= units
            if units < lacking { shortages.append("line \(line.line) (\(line.sku)) needs \(lacking), \(units) available") }
            if units > 0 { takes.append((line, units)) }
        }
        if !shortages.isEmpty, !allowingShortage {
            throw BatonError(
                .conflict,
                "not enough stock in \(order.region): " + shortages.joined(separator: "; "),
                details: ["short_lines": shortages.joined(separator: "; ")]
            )
        }
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        var teams: Set<String> = []
        for (line, units) in takes {
            guard let level = levels[line.productID] else { continue }
            let (moved, movement) = try await inventory.stock.move(
                level,
                kind: .reservation,
                onHand: 0,
                reserved: units,
                reason: nil,
                order: order.id,
                by: principal,
                on: tx
            )
            let (settled, woken) = try await inventory.settleReorder(moved, movement: movement.id, by: principal, catalog: catalog, on: tx)
            levels[line.productID] = settled
            teams.formUnion(woken)
            try await store.setReserved(line.reserved + units, order: order.id, line: line.line, on: tx)
        }
        return (!shortages.isEmpty, teams)
    }

    /// Releases every reserved unit of the order back to available stock.
    private func giveBack(_ order: Order, by principal: Principal, on tx: PostgresConnection) async throws -> Set<String> {
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        var teams: Set<String> = []
        for line in order.lines.sorted(by: Self.lockOrder) where line.reserved > 0 {
            guard let level = try await inventory.locked(product: line.productID, region: order.region, on: tx) else { continue }
            let (moved, movement) = try await inventory.stock.move(
                level,
                kind: .release,
                onHand: 0,
                reserved: -line.reserved,
                reason: nil,
                order: order.id,
                by: principal,
                on: tx
            )
            teams.formUnion(try await inventory.settleReorder(moved, movement: movement.id, by: principal, catalog: catalog, on: tx).1)
            try await store.setReserved(0, order: order.id, line: line.line, on: tx)
        }
        return teams
    }

    /// Product, then line: the order stock rows are locked in.
    private static func lockOrder(_ a: OrderLine, _ b: OrderLine) -> Bool {
        (a.productID, a.line) < (b.productID, b.line)
    }

    /// Prices lines from the catalogue in the order's currency (the first product's when none
    /// is given). A line without its own price takes the product's, which must be in that
    /// currency.
    private func price(
        _ lines: [NewOrderLine],
        currency: String?,
        on tx: PostgresConnection
    ) async throws
        -> (lines: [OrderStore.PricedLine], currency: String)
    {
        let products = try await ProductStore(pool: database.pool).find(skus: lines.map(\.sku), on: tx)
        var priced: [OrderStore.PricedLine] = []
        var total = 0
        var orderCurrency = currency
        for (index, line) in lines.enumerated() {
            let field = "lines[\(index)]"
            guard let product = products[line.sku] else {
                throw BatonError(.ruleViolation, "\(field): no product '\(line.sku)'", details: ["field": "\(field).sku"])
            }
            guard product.active else {
                throw BatonError(.ruleViolation, "\(field): product '\(line.sku)' is no longer sold", details: ["field": "\(field).sku"])
            }
            let currency = orderCurrency ?? product.currency
            orderCurrency = currency
            guard line.unitPriceMinor != nil || product.currency == currency else {
                throw BatonError(
                    .ruleViolation,
                    "\(field): '\(line.sku)' is priced in \(product.currency), the order in \(currency); give its unit_price_minor",
                    details: ["field": "\(field).unit_price_minor"]
                )
            }
            let unitPrice = line.unitPriceMinor ?? product.unitPriceMinor
            guard unitPrice <= OrderRules.maximumUnitPrice else {
                throw BatonError(
                    .ruleViolation,
                    "\(field): the catalogue price of '\(line.sku)' is above \(OrderRules.maximumUnitPrice); give unit_price_minor",
                    details: ["field": "\(field).unit_price_minor"]
                )
            }
            let basisPoints = try OrderRules.basisPoints(line.discountPercent, field: "\(field).discount_percent")
            let lineTotal = OrderRules.total(quantity: line.quantity, unitPriceMinor: unitPrice, basisPoints: basisPoints)
            let (sum, overflow) = total.addingReportingOverflow(line.quantity * unitPrice)
            guard !overflow else { throw BatonError(.ruleViolation, "the order's total is too large", details: ["field": "lines"]) }
            total = sum
            priced.append(
                .init(
                    productID: product.id,
                    quantity: line.quantity,
                    unitPriceMinor: unitPrice,
                    discountBasisPoints: basisPoints,
                    totalMinor: lineTotal
                )
            )
        }
        return (priced, orderCurrency ?? "EUR")
    }

    /// Refuses (422) an opportunity that is not one of the customer's.
    private func checkOpportunity(_ id: Int, of customer: Int, on tx: PostgresConnection) async throws {
        guard try await OpportunityStore(pool: database.pool).customer(ofOpportunity: id, on: tx) == customer else {
            throw BatonError(.ruleViolation, "opportunity \(id) is not one of customer \(customer)'s", details: ["field": "opportunity_id"])
        }
    }

    /// Runs a write of credit shares, turning an unknown member into a 422.
    private static func creditingMembers<Result>(_ credits: [OrderCredit], _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(
                .ruleViolation,
                "credits name a member that does not exist: \(credits.map { String($0.memberID) }.joined(separator: ", "))",
                details: ["field": "credits"]
            )
        }
    }

    private static func check(reason: String?) throws(BatonError) {
        guard let reason else { return }
        guard TextRules.hasLength(reason, in: 1...500) else { throw .invalidArgument("reason must be 1 to 500 characters", field: "reason") }
    }

    private static func require(_ order: Order, in states: [OrderState], to action: String) throws(BatonError) {
        guard states.contains(order.state) else {
            throw BatonError(
                .conflict,
                "order \(order.id) is \(order.state.rawValue); only \(states.map(\.rawValue).joined(separator: " or ")) orders can \(action)",
                details: ["state": order.state.rawValue]
            )
        }
    }

    /// The order, when the caller may perform `useCase` on it: 403 for the role first, then
    /// 404 for an order that does not exist or is in a region out of reach.
    func reachable(_ id: Int, for useCase: UseCase, by principal: Principal) async throws -> Order {
        try principal.authorize(useCase)
        guard let order = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no order \(id)") }
        return order
    }
}
