import Foundation
public import PostgresClient

/// Products: the SQL that reads and writes the catalogue.
public struct ProductStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = "id, sku, name, category, unit_price_minor, currency, active, version, created_at, updated_at"

    static func product(_ row: PostgresRow) throws -> Product {
        Product(
            id: try row.decode(Int.self, "id"),
            sku: try row.decode(String.self, "sku"),
            name: try row.decode(String.self, "name"),
            category: try row.decode(String?.self, "category"),
            unitPriceMinor: try row.decode(Int.self, "unit_price_minor"),
            currency: try row.decode(String.self, "currency"),
            active: try row.decode(Bool.self, "active"),
            version: try row.decode(Int.self, "version"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    public func find(id: Int, on connection: PostgresConnection? = nil) async throws -> Product? {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM products WHERE id = \(id)"
        return try await pool.query(query, on: connection).first.map(Self.product)
    }

    public func find(sku: String, on connection: PostgresConnection? = nil) async throws -> Product? {
        let query: PostgresQuery = "SELECT \(unescaped: Self.columns) FROM products WHERE sku = \(sku)"
        return try await pool.query(query, on: connection).first.map(Self.product)
    }

    /// The products of `skus` that exist, by sku.
    public func find(skus: [String], on connection: PostgresConnection? = nil) async throws -> [String: Product] {
        let rows = try await pool.query("SELECT \(unescaped: Self.columns) FROM products WHERE sku = ANY(\(skus)::text[])", on: connection)
        return Dictionary(try rows.map(Self.product).map { ($0.sku, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Products in id order (optionally of a category, or only active ones), a page at a time.
    public func list(category: String?, activeOnly: Bool, page: PageRequest) async throws -> Page<Product> {
        let after = try page.afterID()
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM products
            WHERE id > \(after) AND (\(category)::text IS NULL OR category = \(category)) AND (NOT \(activeOnly) OR active)
            ORDER BY id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.product)) { String($0.id) }
    }

    public func create(_ product: NewProduct, by principal: Principal, on tx: PostgresConnection) async throws -> Product {
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO products (sku, name, category, unit_price_minor, currency, created_by)
                    VALUES (\(product.sku), \(product.name), nullif(\(product.category), ''), \(product.unitPriceMinor), \(product.currency),
                            \(principal.actorID))
                    RETURNING *
                ),
                written AS (
                    \(EventStore.insert(
                        "product.created", from: "created", entityType: "product", entity: "created.id::text", region: "NULL",
                        data: "jsonb_build_object('sku', created.sku, 'name', created.name)", by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM created
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23505" {
            throw BatonError(.conflict, "a product with sku '\(product.sku)' exists", details: ["field": "sku"])
        }
        guard let row else { throw BatonError(.internalError, "product not stored") }
        return try Self.product(row)
    }

    /// A product as a catalogue file states it; `active` nil keeps what a product has.
    public struct ImportedProduct: Sendable {
        public var product: NewProduct
        public var active: Bool?
    }

    /// Adds the product, or brings the product of its sku up to date (a new version, only when
    /// something changed); with an event.
    public func upsert(_ row: ImportedProduct, by principal: Principal, on tx: PostgresConnection) async throws {
        let product = row.product
        try await tx.query(
            """
            WITH stored AS (
                INSERT INTO products AS p (sku, name, category, unit_price_minor, currency, active, created_by)
                VALUES (\(product.sku), \(product.name), \(product.category), \(product.unitPriceMinor), \(product.currency),
                        coalesce(\(row.active)::boolean, true), \(principal.actorID))
                ON CONFLICT (sku) DO UPDATE SET
                    name = EXCLUDED.name, category = EXCLUDED.category, unit_price_minor = EXCLUDED.unit_price_minor,
                    currency = EXCLUDED.currency, active = coalesce(\(row.active)::boolean, p.active),
                    version = p.version + 1, updated_at = now()
                WHERE (p.name, p.category, p.unit_price_minor, p.currency, p.active)
                      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.category, EXCLUDED.unit_price_minor, EXCLUDED.currency,
                                        coalesce(\(row.active)::boolean, p.active))
                RETURNING p.*, p.version = 1 AS created
            ),
            created AS (SELECT * FROM stored WHERE created),
            changed AS (SELECT * FROM stored WHERE NOT created),
            created_events AS (
                \(EventStore.insert(
                    "product.created", from: "created", entityType: "product", entity: "created.id::text", region: "NULL",
                    data: "jsonb_build_object('sku', created.sku, 'name', created.name)", by: principal))
            ),
            changed_events AS (
                \(EventStore.insert(
                    "product.updated", from: "changed", entityType: "product", entity: "changed.id::text", region: "NULL",
                    data: "jsonb_build_object('version', changed.version, 'active', changed.active)", by: principal))
            )
            SELECT count(*) AS n FROM stored
            """
        )
    }

    /// Applies an edit if the product is still at `version`; `nil` when stale.
    public func update(
        id: Int,
        version: Int,
        _ changes: ProductChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws
        -> Product?
    {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE products SET
                    name = coalesce(\(changes.name), name),
                    category = CASE WHEN \(changes.category)::text IS NULL THEN category ELSE nullif(\(changes.category), '') END,
                    unit_price_minor = coalesce(\(changes.unitPriceMinor), unit_price_minor),
                    currency = coalesce(\(changes.currency), currency),
                    active = coalesce(\(changes.active), active),
                    version = version + 1, updated_at = now()
                WHERE id = \(id) AND version = \(version)
                RETURNING *
            ),
            written AS (
                \(EventStore.insert(
                    "product.updated", from: "changed", entityType: "product", entity: "changed.id::text", region: "NULL",
                    data: "jsonb_build_object('version', changed.version, 'active', changed.active)", by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM changed
            """
        ).first.map(Self.product)
    }
}
