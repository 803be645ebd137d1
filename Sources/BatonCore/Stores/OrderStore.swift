import Foundation
public import PostgresClient

/// Orders, their lines and credit shares: the SQL of the order lifecycle. Stock movements are
/// the stock store's; the order service ties the two together in one transaction.
public struct OrderStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The columns of an order `o`, with its lines and credits as JSON.
    static let columns = """
        o.id, o.customer_id, o.region, o.opportunity_id, o.state, o.held_from, o.hold_reason, o.cancel_reason, o.currency,
        o.subtotal_minor, o.discount_minor, o.total_minor, o.requested_delivery_on::text AS requested_delivery_on, o.notes,
        o.backordered, o.version, o.created_by, o.created_at, o.updated_at, o.confirmed_at, o.shipped_at, o.delivered_at,
        o.cancelled_at,
        (SELECT coalesce(jsonb_agg(jsonb_build_object(
                    'line', l.line, 'productID', l.product_id, 'sku', p.sku, 'name', p.name, 'quantity', l.quantity,
                    'unitPriceMinor', l.unit_price_minor, 'discountBasisPoints', l.discount_bp, 'totalMinor', l.total_minor,
                    'reserved', l.reserved) ORDER BY l.line), '[]')
         FROM order_lines l JOIN products p ON p.id = l.product_id WHERE l.order_id = o.id)::text AS lines,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('memberID', c.member_id, 'percent', c.percent) ORDER BY c.percent DESC, c.member_id),
                         '[]')
         FROM order_credits c WHERE c.order_id = o.id)::text AS credits
        """

    static func order(_ row: PostgresRow) throws -> Order {
        let decoder = JSONDecoder()
        return Order(
            id: try row.decode(Int.self, "id"),
            customerID: try row.decode(Int.self, "customer_id"),
            region: try row.decode(String.self, "region"),
            opportunityID: try row.decode(Int?.self, "opportunity_id"),
            state: OrderState(rawValue: try row.decode(String.self, "state")) ?? .draft,
            heldFrom: try row.decode(String?.self, "held_from").flatMap(OrderState.init(rawValue:)),
            holdReason: try row.decode(String?.self, "hold_reason"),
            cancelReason: try row.decode(String?.self, "cancel_reason"),
            currency: try row.decode(String.self, "currency"),
            subtotalMinor: try row.decode(Int.self, "subtotal_minor"),
            discountMinor: try row.decode(Int.self, "discount_minor"),
            totalMinor: try row.decode(Int.self, "total_minor"),
            requestedDeliveryOn: try row.decode(String?.self, "requested_delivery_on"),
            notes: try row.decode(String?.self, "notes"),
            backordered: try row.decode(Bool.self, "backordered"),
            lines: try decoder.decode([OrderLine].self, from: Data(try row.decode(String.self, "lines").utf8)),
            credits: try decoder.decode([OrderCredit].self, from: Data(try row.decode(String.self, "credits").utf8)),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at"),
            confirmedAt: try row.decode(Date?.self, "confirmed_at"),
            shippedAt: try row.decode(Date?.self, "shipped_at"),
            deliveredAt: try row.decode(Date?.self, "delivered_at"),
            cancelledAt: try row.decode(Date?.self, "cancelled_at")
        )
    }

    /// A line as Baton prices it.
    public struct PricedLine: Sendable, Equatable {
        public var productID: Int
        public var quantity: Int
        public var unitPriceMinor: Int
        public var discountBasisPoints: Int
        public var totalMinor: Int
    }

    // MARK: - Read

    /// An order in a region within `scope`, or `nil`. With `forUpdate` the row is locked until
    /// the transaction ends, so the moves of one order happen one after another.
    public func find(id: Int, scope: Scope, forUpdate: Bool = false, on connection: PostgresConnection? = nil) async throws -> Order? {
        try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM orders o
            WHERE o.id = \(id) AND \(scope.regionCondition("o.region"))
            \(unescaped: forUpdate ? "FOR UPDATE OF o" : "")
            """,
            on: connection
        ).first.map(Self.order)
    }

    /// What an order list may be narrowed to.
    public struct Filter: Sendable {
        public var region: String?
        public var customerID: Int?
        public var state: OrderState?

        public init(region: String? = nil, customerID: Int? = nil, state: OrderState? = nil) {
            self.region = region
            self.customerID = customerID
            self.state = state
        }
    }

    /// Orders within `scope`, newest first, a page at a time.
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<Order> {
        var before = Int.max
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            before = value
        }
        var conditions: [PostgresQuery] = ["o.id < \(before)", scope.regionCondition("o.region")]
        if let region = filter.region { conditions.append("o.region = \(region)") }
        if let customer = filter.customerID { conditions.append("o.customer_id = \(customer)") }
        if let state = filter.state { conditions.append("o.state = \(state.rawValue)") }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM orders o
            WHERE \(PostgresQuery.joined(conditions, separator: " AND "))
            ORDER BY o.id DESC LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.order)) { String($0.id) }
    }

    // MARK: - Write

    /// Inserts a draft order with its lines and credits; its id.
    public func create(
        _ order: NewOrder,
        region: String,
        currency: String,
        lines: [PricedLine],
        credits: [OrderCredit],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Int {
        guard
            let id = try await tx.query(
                """
                INSERT INTO orders (customer_id, region, opportunity_id, currency, requested_delivery_on, notes, created_by)
                VALUES (\(order.customerID), \(region), \(order.opportunityID), \(currency),
                        \(order.requestedDeliveryOn?.description)::date, \(order.notes), \(principal.actorID))
                RETURNING id
                """
            ).first?.decode(Int.self, "id")
        else { throw BatonError(.internalError, "order not created") }
        try await replace(lines: lines, of: id, on: tx)
        try await replace(credits: credits, of: id, on: tx)
        return id
    }

    /// Replaces an order's lines and recomputes its totals.
    public func replace(lines: [PricedLine], of id: Int, on tx: PostgresConnection) async throws {
        try await tx.query("DELETE FROM order_lines WHERE order_id = \(id)")
        try await tx.query(
            """
            INSERT INTO order_lines (order_id, line, product_id, quantity, unit_price_minor, discount_bp, total_minor)
            SELECT \(id), line, product_id, quantity, unit_price_minor, discount_bp, total_minor
            FROM unnest(\(Array(1...lines.count))::integer[], \(lines.map(\.productID))::bigint[], \(lines.map(\.quantity))::bigint[],
                        \(lines.map(\.unitPriceMinor))::bigint[], \(lines.map(\.discountBasisPoints))::integer[],
                        \(lines.map(\.totalMinor))::bigint[])
                 AS l (line, product_id, quantity, unit_price_minor, discount_bp, total_minor)
            """
        )
        try await tx.query(
            """
            UPDATE orders o SET subtotal_minor = t.subtotal, discount_minor = t.subtotal - t.total, total_minor = t.total
            FROM (SELECT sum(quantity * unit_price_minor) AS subtotal, sum(total_minor) AS total FROM order_lines WHERE order_id = \(id)) t
            WHERE o.id = \(id)
            """
        )
    }

    /// Replaces an order's credit shares.
    public func replace(credits: [OrderCredit], of id: Int, on tx: PostgresConnection) async throws {
        try await tx.query("DELETE FROM order_credits WHERE order_id = \(id)")
        guard !credits.isEmpty else { return }
        try await tx.query(
            """
            INSERT INTO order_credits (order_id, member_id, percent)
            SELECT \(id), member_id, percent FROM unnest(\(credits.map(\.memberID))::bigint[], \(credits.map(\.percent))::integer[])
                 AS c (member_id, percent)
            """
        )
    }

    /// Changes the notes and requested delivery date, bumps the version.
    public func update(id: Int, _ changes: OrderChanges, on tx: PostgresConnection) async throws {
        try await tx.query(
            """
            UPDATE orders SET
                notes = CASE WHEN \(changes.notes) = '' THEN NULL ELSE coalesce(\(changes.notes), notes) END,
                requested_delivery_on = CASE WHEN \(changes.clearRequestedDeliveryOn) THEN NULL
                                             ELSE coalesce(\(changes.requestedDeliveryOn?.description)::date, requested_delivery_on) END,
                version = version + 1, updated_at = now()
            WHERE id = \(id)
            """
        )
    }

    /// Sets the units a line holds in stock.
    public func setReserved(_ reserved: Int, order id: Int, line: Int, on tx: PostgresConnection) async throws {
        try await tx.query("UPDATE order_lines SET reserved = \(reserved) WHERE order_id = \(id) AND line = \(line)")
    }

    /// Moves an order to `state`, stamping when it got there, bumping the version.
    public func move(
        _ id: Int,
        to state: OrderState,
        heldFrom: OrderState? = nil,
        reason: String? = nil,
        backordered: Bool? = nil,
        on tx: PostgresConnection
    ) async throws {
        try await tx.query(
            """
            UPDATE orders SET state = \(state.rawValue), held_from = \(heldFrom?.rawValue),
                hold_reason = CASE WHEN \(state.rawValue) = 'on_hold' THEN \(reason) END,
                cancel_reason = CASE WHEN \(state.rawValue) = 'cancelled' THEN \(reason) ELSE cancel_reason END,
                backordered = coalesce(\(backordered), backordered),
                confirmed_at = CASE WHEN \(state.rawValue) = 'confirmed' THEN coalesce(confirmed_at, now()) ELSE confirmed_at END,
                shipped_at = CASE WHEN \(state.rawValue) = 'shipped' THEN now() ELSE shipped_at END,
                delivered_at = CASE WHEN \(state.rawValue) = 'delivered' THEN now() ELSE delivered_at END,
                cancelled_at = CASE WHEN \(state.rawValue) = 'cancelled' THEN now() ELSE cancelled_at END,
                version = version + 1, updated_at = now()
            WHERE id = \(id)
            """
        )
    }

    /// Records an event about an order, with what rules and subscribers need in its data:
    /// number, customer, state, total, currency and the count of lines, plus `extra`. Returns
    /// the event as handoff rules take it.
    @discardableResult
    public func event(
        _ type: String,
        order id: Int,
        extra: [String: String] = [:],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> RuleEvent {
        let row = try await tx.query(
            """
            WITH o AS (
                SELECT o.*, c.name AS customer_name, c.owner_id AS customer_owner_id,
                       (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS line_count
                FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id = \(id)
            )
            \(EventStore.insert(
                type, from: "o", entityType: "order", entity: "o.id::text", region: "o.region",
                data: """
                    jsonb_build_object(
                        'order_id', o.id,
                        'number', 'SO-' || CASE WHEN o.id < 1000000 THEN lpad(o.id::text, 6, '0') ELSE o.id::text END,
                        'customer_id', o.customer_id, 'customer_name', o.customer_name, 'customer_owner_id', o.customer_owner_id,
                        'region', o.region, 'state', o.state, 'total_minor', o.total_minor, 'currency', o.currency,
                        'lines', o.line_count, 'backordered', o.backordered, 'opportunity_id', o.opportunity_id
                    ) || \(PostgresJSON(extra))
                    """,
                by: principal))
            RETURNING id, region, data::text AS data
            """
        ).first
        guard let row else { throw BatonError.notFound("no order \(id)") }
        let data = try JSONDecoder().decode(JSONValue.self, from: Data(try row.decode(String.self, "data").utf8))
        guard case .object(let fields) = data else { throw BatonError(.internalError, "event data is not an object") }
        return RuleEvent(
            type: type,
            entityType: "order",
            entityID: String(id),
            region: try row.decode(String?.self, "region"),
            data: fields,
            eventID: try row.decode(Int.self, "id")
        )
    }
}
