import Foundation
public import PostgresClient

/// Stock per product and region and its ledger of movements.
public struct StockStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        s.product_id, p.sku, p.name, s.region, s.on_hand, s.reserved, s.reorder_point, s.reorder_quantity, s.snoozed_until,
        s.below_reorder, s.version, s.updated_at
        """

    static func level(_ row: PostgresRow) throws -> StockLevel {
        StockLevel(
            productID: try row.decode(Int.self, "product_id"),
            sku: try row.decode(String.self, "sku"),
            name: try row.decode(String.self, "name"),
            region: try row.decode(String.self, "region"),
            onHand: try row.decode(Int.self, "on_hand"),
            reserved: try row.decode(Int.self, "reserved"),
            reorderPoint: try row.decode(Int.self, "reorder_point"),
            reorderQuantity: try row.decode(Int.self, "reorder_quantity"),
            snoozedUntil: try row.decode(Date?.self, "snoozed_until"),
            belowReorder: try row.decode(Bool.self, "below_reorder"),
            version: try row.decode(Int.self, "version"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    /// A product's stock in a region (not created yet: `nil`).
    public func level(
        product: Int,
        region: String,
        forUpdate: Bool = false,
        on connection: PostgresConnection? = nil
    ) async throws
        -> StockLevel?
    {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM stock s JOIN products p ON p.id = s.product_id
            WHERE s.product_id = \(product) AND s.region = \(region)
            \(unescaped: forUpdate ? "FOR UPDATE OF s" : "")
            """
        return try await pool.query(query, on: connection).first.map(Self.level)
    }

    /// Stock rows within `scope` (of one region, or only those below their reorder point), by
    /// region and product, a page at a time (cursor `region/product id`).
    public func list(region: String?, belowReorder: Bool, scope: Scope, page: PageRequest) async throws -> Page<StockLevel> {
        var afterRegion = ""
        var afterProduct = 0
        if let cursor = page.after {
            let parts = cursor.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let id = TextRules.integerCursor(String(parts[1])) else {
                throw BatonError.invalidArgument("after is not a cursor", field: "after")
            }
            (afterRegion, afterProduct) = (String(parts[0]), id)
        }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM stock s JOIN products p ON p.id = s.product_id
            WHERE (s.region, s.product_id) > (\(afterRegion)::text, \(afterProduct)::bigint) AND \(scope.regionCondition("s.region"))
              AND (\(region)::text IS NULL OR s.region = \(region))
              AND (NOT \(belowReorder) OR (s.reorder_point > 0 AND s.on_hand - s.reserved <= s.reorder_point))
            ORDER BY s.region, s.product_id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.level)) { "\($0.region)/\($0.productID)" }
    }

    /// Makes the stock row of a product in a region if it has none, on the caller's transaction.
    public func ensure(product: Int, region: String, on tx: PostgresConnection) async throws {
        try await tx.query("INSERT INTO stock (product_id, region) VALUES (\(product), \(region)) ON CONFLICT DO NOTHING")
    }

    /// Applies a movement to a locked stock row and records it (for an order's reservation,
    /// release or shipment, naming the order); with an event. A movement that would take on
    /// hand or reserved below zero is 409 and changes nothing.
    public func move(
        _ level: StockLevel,
        kind: StockMovement.Kind,
        onHand: Int,
        reserved: Int = 0,
        reason: String?,
        order: Int? = nil,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> (StockLevel, StockMovement) {
        guard level.onHand + onHand >= 0, level.reserved + reserved >= 0 else {
            throw BatonError(
                .conflict,
                "\(level.sku) in \(level.region) has \(level.onHand) on hand; a change of \(onHand) would take it below zero",
                details: ["on_hand": String(level.onHand)]
            )
        }
        let available = level.onHand + onHand - level.reserved - reserved
        guard available >= 0 || onHand - reserved >= 0 else {
            throw BatonError(
                .conflict,
                "\(level.sku) in \(level.region) has \(level.available) available (\(level.reserved) reserved for orders); "
                    + "a change of \(onHand - reserved) would take it below zero",
                details: ["available": String(level.available)]
            )
        }
        guard
            let row = try await tx.query(
                """
                WITH changed AS (
                    UPDATE stock SET on_hand = on_hand + \(onHand), reserved = reserved + \(reserved), version = version + 1, updated_at = now()
                    WHERE product_id = \(level.productID) AND region = \(level.region)
                    RETURNING *
                ),
                moved AS (
                    INSERT INTO stock_movements (product_id, region, kind, on_hand_delta, reserved_delta, reason, order_id, actor_id)
                    SELECT product_id, region, \(kind.rawValue), \(onHand)::bigint, \(reserved)::bigint, \(reason), \(order)::bigint,
                           \(principal.actorID)
                    FROM changed
                    RETURNING id, kind, at
                ),
                written AS (
                    \(EventStore.insert(
                        "stock.moved", from: "changed", entityType: "stock", entity: "changed.region || '/' || changed.product_id", region: "changed.region",
                        data: """
                            jsonb_build_object('product_id', changed.product_id, 'kind', (SELECT kind FROM moved), 'on_hand', changed.on_hand,
                                               'reserved', changed.reserved, 'movement_id', (SELECT id FROM moved))
                            """,
                        by: principal))
                )
                SELECT (SELECT id FROM moved) AS movement_id, (SELECT at FROM moved) AS at
                """
            ).first
        else { throw BatonError(.internalError, "stock not moved") }
        var after = level
        after.onHand += onHand
        after.reserved += reserved
        after.version += 1
        let movement = StockMovement(
            id: try row.decode(Int.self, "movement_id"),
            productID: level.productID,
            region: level.region,
            kind: kind,
            onHandDelta: onHand,
            reservedDelta: reserved,
            reason: reason,
            orderID: order,
            taskID: nil,
            actorID: principal.actorID,
            at: try row.decode(Date.self, "at")
        )
        return (after, movement)
    }

    /// Records a crossing of the reorder point: the flag (set on the way down, cleared on the
    /// way up) and its event (`stock.below_reorder`, saying whether a snooze held it, or
    /// `stock.reorder_rearmed`).
    public func markReorder(
        _ level: StockLevel,
        below: Bool,
        snoozed: Bool,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE stock SET below_reorder = \(below) WHERE product_id = \(level.productID) AND region = \(level.region) RETURNING *
            ),
            written AS (
                \(EventStore.insert(
                    below ? "stock.below_reorder" : "stock.reorder_rearmed", from: "changed", entityType: "stock",
                    entity: "changed.region || '/' || changed.product_id", region: "changed.region",
                    data: """
                        jsonb_build_object('product_id', changed.product_id, 'available', changed.on_hand - changed.reserved,
                                           'reorder_point', changed.reorder_point, 'snoozed', \(snoozed))
                        """,
                    by: principal))
            )
            SELECT 1 FROM changed
            """
        )
    }

    /// Names the restock task on the movement that crossed the reorder point.
    public func link(movement: Int, task: Int, on tx: PostgresConnection) async throws {
        try await tx.query("UPDATE stock_movements SET task_id = \(task) WHERE id = \(movement)")
    }

    /// Applies reorder settings if the row is still at `version`; `nil` when stale.
    public func update(
        _ level: StockLevel,
        version: Int,
        _ settings: StockSettings,
        by principal: Principal,
        on tx: PostgresConnection
    )
        async throws -> Bool
    {
        try await tx.query(
            """
            UPDATE stock SET
                reorder_point = coalesce(\(settings.reorderPoint), reorder_point),
                reorder_quantity = coalesce(\(settings.reorderQuantity), reorder_quantity),
                snoozed_until = CASE WHEN \(settings.clearSnooze) THEN NULL ELSE coalesce(\(settings.snoozedUntil)::timestamptz, snoozed_until) END,
                version = version + 1, updated_at = now()
            WHERE product_id = \(level.productID) AND region = \(level.region) AND version = \(version)
            RETURNING 1
            """
        ).first != nil
    }

    /// A stock row's movements, newest first, a page at a time.
    public func movements(product: Int, region: String, page: PageRequest) async throws -> Page<StockMovement> {
        var before = Int.max
        if page.after != nil { before = try page.afterID() }
        let rows = try await pool.query(
            """
            SELECT id, product_id, region, kind, on_hand_delta, reserved_delta, reason, order_id, task_id, actor_id, at
            FROM stock_movements WHERE product_id = \(product) AND region = \(region) AND id < \(before)
            ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        )
        let movements = try rows.map { row in
            StockMovement(
                id: try row.decode(Int.self, "id"),
                productID: try row.decode(Int.self, "product_id"),
                region: try row.decode(String.self, "region"),
                kind: StockMovement.Kind(rawValue: try row.decode(String.self, "kind")) ?? .adjustment,
                onHandDelta: try row.decode(Int.self, "on_hand_delta"),
                reservedDelta: try row.decode(Int.self, "reserved_delta"),
                reason: try row.decode(String?.self, "reason"),
                orderID: try row.decode(Int?.self, "order_id"),
                taskID: try row.decode(Int?.self, "task_id"),
                actorID: try row.decode(String?.self, "actor_id"),
                at: try row.decode(Date.self, "at")
            )
        }
        return page.page(movements) { String($0.id) }
    }

    /// Every stock row whose balances differ from the sum of its movements.
    public func discrepancies() async throws -> [StockDiscrepancy] {
        try await pool.query(
            """
            SELECT s.product_id, p.sku, s.region, s.on_hand, s.reserved,
                   coalesce(m.on_hand, 0)::bigint AS ledger_on_hand, coalesce(m.reserved, 0)::bigint AS ledger_reserved
            FROM stock s JOIN products p ON p.id = s.product_id
            LEFT JOIN (SELECT product_id, region, sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved
                       FROM stock_movements GROUP BY product_id, region) m
                   ON m.product_id = s.product_id AND m.region = s.region
            WHERE s.on_hand <> coalesce(m.on_hand, 0) OR s.reserved <> coalesce(m.reserved, 0)
            ORDER BY s.region, p.sku
            """
        ).map { row in
            StockDiscrepancy(
                productID: try row.decode(Int.self, "product_id"),
                sku: try row.decode(String.self, "sku"),
                region: try row.decode(String.self, "region"),
                onHand: try row.decode(Int.self, "on_hand"),
                ledgerOnHand: try row.decode(Int.self, "ledger_on_hand"),
                reserved: try row.decode(Int.self, "reserved"),
                ledgerReserved: try row.decode(Int.self, "ledger_reserved")
            )
        }
    }
}
