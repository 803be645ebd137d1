import Foundation
public import PostgresClient

/// Imports stage rows in temporary tables (dropped at commit) a batch at a time with `COPY`,
/// check them against what only the database knows, and write the good ones of each batch.
/// A batch is the staged rows of a range of lines; the customers' table holds one batch at a
/// time (emptied before the next is staged), the contacts' every batch.
extension CustomerStore {
    /// A problem with one row of an import.
    public struct RowProblem: Error, Sendable, Equatable, Codable {
        public var line: Int
        public var column: String
        public var reason: String
    }

    /// Makes the table an import of customers is staged in: one batch at a time, so it needs
    /// no index.
    public func beginCustomerStaging(on tx: PostgresConnection) async throws {
        try await tx.simpleQuery(
            """
            CREATE TEMPORARY TABLE customer_import (
                line integer NOT NULL, region text, name text, legal_name text, segment text, status text, owner_id bigint,
                tags text[], website text, notes text, search_name text, search_grams text[]
            ) ON COMMIT DROP
            """
        )
    }

    /// Loads a batch of checked customer rows into staging, in place of the batch before. Each
    /// row is `[line, region, name, legal_name, segment, status, owner_id, tags, website, notes,
    /// search_name, search_grams]` in COPY text.
    public func stageCustomers(_ rows: PostgresCopyText, on tx: PostgresConnection) async throws {
        try await tx.simpleQuery("TRUNCATE customer_import")
        try await tx.copyIn(
            """
            COPY customer_import (line, region, name, legal_name, segment, status, owner_id, tags, website, notes, search_name, search_grams)
            FROM STDIN
            """,
            chunks: rows.chunks
        )
    }

    /// What the database finds wrong with the staged batch of customers: an unknown region or
    /// owner and, unless `allowDuplicates`, a stored customer with the same folded name in the
    /// region. A batch holds each name once (the service reports repeats), and so does the
    /// file, so a customer this import wrote never matches.
    ///
    /// The stored-customer check looks each row up in the duplicate index one at a time
    /// (`LATERAL ... LIMIT 1`): a join leaves the plan to statistics, and an emptied table's
    /// (no live rows, many pages) made the planner scan every customer for every row.
    public func checkStagedCustomers(allowDuplicates: Bool, on tx: PostgresConnection) async throws -> [RowProblem] {
        try await tx.query(
            """
            SELECT line, 'region' AS col, 'no region ' || i.region AS reason FROM customer_import i
            WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = i.region)
            UNION ALL
            SELECT line, 'owner_id', 'no member ' || i.owner_id FROM customer_import i
            WHERE i.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = i.owner_id)
            UNION ALL
            SELECT i.line, 'name', 'customer ' || c.id || ' (' || c.name || ') in ' || c.region || ' has the same name'
            FROM customer_import i CROSS JOIN LATERAL (
                SELECT c.id, c.name, c.region FROM customers c
                WHERE c.region = i.region AND c.search_name = i.search_name AND c.deleted_at IS NULL LIMIT 1
            ) c
            WHERE NOT \(allowDuplicates)
            """
        ).map(Self.problem)
    }

    /// Gives the planner statistics on customers' names when it has none: a table that was
    /// never analyzed, or was analyzed empty, has none, and without them the duplicate check
    /// of the next batch scanned every customer of the region for every row (seconds per
    /// batch). Run after a batch is written, so the rows this import wrote are counted; the
    /// table's owner may analyze it, anyone else gets a warning and the old plan.
    public func analyzeCustomersIfUnmeasured(on tx: PostgresConnection) async throws {
        let unmeasured =
            try await tx.query(
                """
                SELECT NOT EXISTS (
                    SELECT 1 FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'customers' AND attname = 'search_name'
                ) AS unmeasured
                """
            ).first?.decode(Bool.self, "unmeasured") ?? false
        if unmeasured { try await tx.simpleQuery("ANALYZE customers (region, search_name)") }
    }

    /// Creates the staged batch of customers except those `skipping`, one `customer.created`
    /// event each; returns how many.
    public func createStagedCustomers(
        skipping: [Int],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Int {
        try await tx.query(
            """
            WITH created AS (
                INSERT INTO customers (region, name, legal_name, segment, status, owner_id, tags, website, notes, search_name,
                                       search_grams, created_by)
                SELECT region, name, legal_name, segment, coalesce(status, 'lead'), owner_id, coalesce(tags, '{}'), website, notes,
                       search_name, search_grams, \(principal.actorID)
                FROM customer_import
                WHERE NOT (line = ANY(\(skipping)))
                ORDER BY line
                RETURNING id, region, name, status
            ),
            written AS (
                \(Self.event(
                    "customer.created", from: "created", customer: "created.id::text", region: "created.region",
                    data: "jsonb_build_object('name', created.name, 'status', created.status, 'imported', true)", by: principal))
            )
            SELECT count(*) AS n FROM created
            """
        ).first?.decode(Int.self, "n") ?? 0
    }

    /// Makes the table an import of contacts is staged in.
    public func beginContactStaging(on tx: PostgresConnection) async throws {
        try await tx.simpleQuery(
            """
            CREATE TEMPORARY TABLE contact_import (
                line integer PRIMARY KEY, customer_id bigint, region text, customer text, customer_key text, name text, role text,
                email text, phone text, preferred_channel text
            ) ON COMMIT DROP
            """
        )
    }

    /// Loads checked contact rows (`[line, customer_id, region, customer, its folded name,
    /// name, role, email, phone, preferred_channel]`) into staging.
    public func stageContacts(_ rows: PostgresCopyText, on tx: PostgresConnection) async throws {
        try await tx.copyIn(
            "COPY contact_import (line, customer_id, region, customer, customer_key, name, role, email, phone, preferred_channel) FROM STDIN",
            chunks: rows.chunks
        )
    }

    /// Resolves each staged contact of `lines` to its customer (by id, or by region and folded
    /// name) and returns the rows that name no customer, or one out of `scope`.
    public func checkStagedContacts(_ lines: ClosedRange<Int>, scope: Scope, on tx: PostgresConnection) async throws -> [RowProblem] {
        try await tx.query(
            """
            UPDATE contact_import i SET customer_id = (
                SELECT c.id FROM customers c
                WHERE c.region = i.region AND c.search_name = i.customer_key AND c.deleted_at IS NULL ORDER BY c.id LIMIT 1)
            WHERE i.customer_id IS NULL AND i.line BETWEEN \(lines.lowerBound) AND \(lines.upperBound)
            """
        )
        return try await tx.query(
            """
            SELECT line, CASE WHEN i.region IS NULL THEN 'customer_id' ELSE 'customer' END AS col,
                   'no customer ' || coalesce(i.customer_id::text, i.customer || ' in ' || i.region) AS reason
            FROM contact_import i
            WHERE i.line BETWEEN \(lines.lowerBound) AND \(lines.upperBound)
              AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = i.customer_id AND c.deleted_at IS NULL
                                                          AND \(scope.regionCondition("c.region")))
            """
        ).map(Self.problem)
    }

    /// Adds the staged contacts of `lines` except those `skipping`, with events; returns how many.
    public func createStagedContacts(
        _ lines: ClosedRange<Int>,
        skipping: [Int],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Int {
        try await tx.query(
            """
            WITH added AS (
                INSERT INTO contacts (customer_id, name, role, email, phone, preferred_channel)
                SELECT customer_id, name, role, email, phone, preferred_channel
                FROM contact_import
                WHERE line BETWEEN \(lines.lowerBound) AND \(lines.upperBound) AND NOT (line = ANY(\(skipping)))
                ORDER BY line
                RETURNING *
            ),
            written AS (
                \(Self.event(
                    "contact.added", from: "added", customer: "added.customer_id::text",
                    region: "(SELECT region FROM customers WHERE id = added.customer_id)",
                    data: "jsonb_build_object('contact_id', added.id, 'name', added.name, 'imported', true)", by: principal))
            )
            SELECT count(*) AS n FROM added
            """
        ).first?.decode(Int.self, "n") ?? 0
    }

    static func problem(_ row: PostgresRow) throws -> RowProblem {
        RowProblem(line: try row.decode(Int.self, "line"), column: try row.decode(String.self, "col"), reason: try row.decode(String.self, "reason"))
    }

    /// Every customer within `scope` (of `region`, if given) after id `after`, `batch` of them.
    public func export(region: String?, scope: Scope, after: Int, batch: Int) async throws -> [Customer] {
        try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM customers
            WHERE id > \(after) AND deleted_at IS NULL AND \(scope.regionCondition("region"))
              AND (\(region)::text IS NULL OR region = \(region))
            ORDER BY id LIMIT \(batch)
            """
        ).map(Self.customer)
    }
}
