import Foundation
import PostgresClient

/// Products and stock: the catalogue, each region's stock with its ledger, and the
/// `stock.below_reorder` event when available stock falls to its reorder point (once per
/// crossing, unless snoozed), whose handoff rules (by default: restock, for logistics) run in
/// the transaction of the movement that crossed.
public struct InventoryService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let rules: HandoffRules

    public init(database: BatonDatabase, wakeups: Wakeups, rules: HandoffRules) {
        self.database = database
        self.wakeups = wakeups
        self.rules = rules
    }

    var products: ProductStore { ProductStore(pool: database.pool) }
    var stock: StockStore { StockStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    // MARK: - Products

    public func products(category: String?, activeOnly: Bool, page: PageRequest, by principal: Principal) async throws -> Page<Product> {
        try principal.authorize(.listProducts)
        if let category, !TextRules.hasLength(category, in: 1...100) {
            throw BatonError.invalidArgument("category must be 1 to 100 characters", field: "category")
        }
        return try await products.list(category: category, activeOnly: activeOnly, page: page)
    }

    public func createProduct(_ product: NewProduct, idempotencyKey: String? = nil, by principal: Principal) async throws -> Product {
        try principal.authorize(.createProduct)
        try product.validate()
        let products = self.products
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createProduct", request: product) { tx in
            try await products.create(product, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return created
    }

    public func product(id: Int, by principal: Principal) async throws -> Product {
        try principal.authorize(.getProduct)
        guard let product = try await products.find(id: id) else { throw BatonError.notFound("no product \(id)") }
        return product
    }

    /// Edits a product if it is still at `version`; a stale version is 412.
    public func updateProduct(id: Int, version: Int, _ changes: ProductChanges, by principal: Principal) async throws -> Product {
        try principal.authorize(.updateProduct)
        try changes.validate()
        let products = self.products
        let updated = try await database.pool.transaction { tx -> Product in
            if let updated = try await products.update(id: id, version: version, changes, by: principal, on: tx) { return updated }
            guard let current = try await products.find(id: id, on: tx) else { throw BatonError.notFound("no product \(id)") }
            throw BatonError.stale(version: current.version)
        }
        wakeups.eventsWritten()
        return updated
    }

    // MARK: - Stock

    /// Stock rows of the caller's regions (of one, or only those at or below their reorder point).
    public func levels(region: String?, belowReorder: Bool, page: PageRequest, by principal: Principal) async throws -> Page<StockLevel> {
        try principal.authorize(.listStock)
        return try await stock.list(region: region, belowReorder: belowReorder, scope: principal.scope, page: page)
    }

    /// A product's stock in a region; a product never stocked there reads as zero.
    public func level(region: String, sku: String, by principal: Principal) async throws -> StockLevel {
        let product = try await reachable(region: region, sku: sku, for: .getStock, by: principal)
        if let level = try await stock.level(product: product.id, region: region) { return level }
        guard try await database.regions.exists(region) else { throw BatonError.notFound("no region '\(region)'") }
        return StockLevel(
            productID: product.id,
            sku: product.sku,
            name: product.name,
            region: region,
            onHand: 0,
            reserved: 0,
            reorderPoint: 0,
            reorderQuantity: 0,
            snoozedUntil: nil,
            belowReorder: false,
            version: 0,
            updatedAt: product.createdAt
        )
    }

    /// Receives goods into a region's stock.
    public func receive(region: String, sku: String, quantity: Int, reason: String?, by principal: Principal) async throws -> StockLevel {
        guard (1...Self.maximumQuantity).contains(quantity) else {
            throw BatonError.invalidArgument("quantity must be 1 to \(Self.maximumQuantity)", field: "quantity")
        }
        return try await move(region: region, sku: sku, kind: .receipt, onHand: quantity, reason: reason, for: .receiveStock, by: principal)
    }

    /// Corrects a region's stock by `delta` (a count, breakage, a find), for a reason.
    public func adjust(region: String, sku: String, delta: Int, reason: String, by principal: Principal) async throws -> StockLevel {
        guard (-Self.maximumQuantity...Self.maximumQuantity).contains(delta) else {
            throw BatonError.invalidArgument("delta must be within ±\(Self.maximumQuantity)", field: "delta")
        }
        guard delta != 0 else {
            throw BatonError(.ruleViolation, "delta must not be 0: an adjustment changes the stock", details: ["field": "delta"])
        }
        guard TextRules.hasLength(reason, in: 1...500) else {
            throw BatonError.invalidArgument("reason must be 1 to 500 characters", field: "reason")
        }
        guard !SearchText.fold(reason).isEmpty else {
            throw BatonError(.ruleViolation, "reason must say why, not only spaces", details: ["field": "reason"])
        }
        return try await move(region: region, sku: sku, kind: .adjustment, onHand: delta, reason: reason, for: .adjustStock, by: principal)
    }

    /// Changes a stock row's reorder point, quantity or snooze if it is still at `version`;
    /// a stale version is 412. Crossing the new point is handled as a movement's crossing is.
    public func updateLevel(
        region: String,
        sku: String,
        version: Int,
        _ settings: StockSettings,
        by principal: Principal
    ) async throws
        -> StockLevel
    {
        let product = try await reachable(region: region, sku: sku, for: .setStockSettings, by: principal)
        try settings.validate()
        return try await changing(product, region: region, by: principal) { current, stock, tx in
            guard current.version == version else { throw BatonError.stale(version: current.version) }
            guard try await stock.update(current, version: version, settings, by: principal, on: tx),
                let updated = try await stock.level(product: product.id, region: region, on: tx)
            else { throw BatonError.stale(version: current.version) }
            return (updated, nil)
        }
    }

    public func movements(region: String, sku: String, page: PageRequest, by principal: Principal) async throws -> Page<StockMovement> {
        let product = try await reachable(region: region, sku: sku, for: .listStockMovements, by: principal)
        return try await stock.movements(product: product.id, region: region, page: page)
    }

    /// Every stock row whose balances disagree with the sum of its movements (none, normally).
    public func verify(by principal: Principal) async throws -> [StockDiscrepancy] {
        try principal.authorize(.verifyStock)
        return try await stock.discrepancies()
    }

    // MARK: - Helpers

    /// The most one movement, reorder point or quantity may be, as the document states.
    static let maximumQuantity = 1_000_000_000

    private func move(
        region: String,
        sku: String,
        kind: StockMovement.Kind,
        onHand: Int,
        reason: String?,
        for useCase: UseCase,
        by principal: Principal
    ) async throws -> StockLevel {
        if let reason, !TextRules.hasLength(reason, in: 1...500) {
            throw BatonError.invalidArgument("reason must be 1 to 500 characters", field: "reason")
        }
        let product = try await reachable(region: region, sku: sku, for: useCase, by: principal)
        return try await changing(product, region: region, by: principal) { current, stock, tx in
            let (after, movement) = try await stock.move(current, kind: kind, onHand: onHand, reason: reason, by: principal, on: tx)
            return (after, movement.id)
        }
    }

    /// Locks (creating if needed) the product's stock row in the region, lets `change` apply a
    /// movement or a setting, then handles a crossing of the reorder point (``settleReorder``).
    /// One transaction.
    private func changing(
        _ product: Product,
        region: String,
        by principal: Principal,
        change: @escaping @Sendable (StockLevel, StockStore, PostgresConnection) async throws -> (StockLevel, Int?)
    ) async throws -> StockLevel {
        let stock = self.stock
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        var woken: Set<String> = []
        let level = try await database.pool.transaction { tx -> StockLevel in
            guard let current = try await locked(product: product.id, region: region, on: tx) else {
                throw BatonError.notFound("no region '\(region)'")
            }
            let (changed, movement) = try await change(current, stock, tx)
            let (level, teams) = try await settleReorder(changed, movement: movement, by: principal, catalog: catalog, on: tx)
            woken = teams
            return level
        }
        if woken.isEmpty { wakeups.eventsWritten() } else { wakeups.queued(in: woken) }
        return level
    }

    /// The product's stock row in the region, created if needed and locked until the
    /// transaction ends; `nil` when there is no such region.
    func locked(product: Int, region: String, on tx: PostgresConnection) async throws -> StockLevel? {
        do {
            try await stock.ensure(product: product, region: region, on: tx)
        } catch let error as PostgresError where error.sqlState == "23503" {
            return nil
        }
        return try await stock.level(product: product, region: region, forUpdate: true, on: tx)
    }

    /// Handles a crossing of the reorder point by a change of a locked stock row: on the way
    /// down the flag that makes it once per crossing and the `stock.below_reorder` event, whose
    /// handoff rules run unless the row is snoozed (the movement that crossed names the first
    /// task they made); on the way up the flag cleared. Returns the row and the teams to wake.
    func settleReorder(
        _ changed: StockLevel,
        movement: Int?,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> (StockLevel, Set<String>) {
        var level = changed
        guard level.reorderPoint > 0 else { return (level, []) }
        var woken: Set<String> = []
        if level.available <= level.reorderPoint, !level.belowReorder {
            let snoozed = level.snoozedUntil.map { $0 > Date() } ?? false
            try await stock.markReorder(level, below: true, snoozed: snoozed, by: principal, on: tx)
            level.belowReorder = true
            if !snoozed {
                let fired = try await rules.fire([Self.belowReorderEvent(level)], by: principal, catalog: catalog, on: tx)
                if let movement, let first = fired.first { try await stock.link(movement: movement, task: first.task.id, on: tx) }
                woken = Set(fired.map(\.task.team))
            }
        } else if level.available > level.reorderPoint, level.belowReorder {
            try await stock.markReorder(level, below: false, snoozed: false, by: principal, on: tx)
            level.belowReorder = false
        }
        return (level, woken)
    }

    /// The `stock.below_reorder` event as handoff rules see it (its row's entity is
    /// `region/product id`).
    static func belowReorderEvent(_ level: StockLevel) -> RuleEvent {
        RuleEvent(
            type: "stock.below_reorder",
            entityType: "stock",
            entityID: "\(level.region)/\(level.productID)",
            region: level.region,
            data: [
                "product_id": .integer(level.productID), "sku": .string(level.sku), "name": .string(level.name), "region": .string(level.region),
                "on_hand": .integer(level.onHand), "reserved": .integer(level.reserved), "available": .integer(level.available),
                "reorder_point": .integer(level.reorderPoint), "reorder_quantity": .integer(level.reorderQuantity),
            ]
        )
    }

    /// The product of `sku`, when the caller may perform `useCase` on stock of `region`: 403
    /// for the role, then 404 for a region out of reach or an unknown product.
    private func reachable(region: String, sku: String, for useCase: UseCase, by principal: Principal) async throws -> Product {
        try principal.authorize(useCase, region: region, notFound: "no region '\(region)'")
        guard let product = try await products.find(sku: sku) else { throw BatonError.notFound("no product '\(sku)'") }
        return product
    }
}
