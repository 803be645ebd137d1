import Foundation
public import PostgresClient

/// Imports stage rows in temporary tables (dropped at commit) a batch at a time with `COPY`,
/// check them against what only the database knows, and write the good ones of each batch.
/// A batch is the staged rows of a range of lines.
extension CustomerStore {
    /// A problem with one row of an import.
    public struct RowProblem: Error, Sendable, Equatable, Codable {
        public var line: Int
        public var column: String
        public var reason: String
    }

    /// Makes the table an import of customers is staged in.
    public func beginCustomerStaging(on tx: PostgresConnection) async throws {
        try await tx.simpleQuery(
            """
            CREATE TEMPORARY TABLE customer_import (
                line integer PRIMARY KEY, region text, name text, legal_name text, segment text, status text, owner_id bigint,
                tags text[], website text, notes text, search_name text, search_grams text[]
            ) ON COMMIT DROP;
            CREATE INDEX ON customer_import (region, search_name, line)
            """
        )
    }

    /// Loads checked customer rows into staging. Each row is `[line, region, name, legal_name,
    /// segment, status, owner_id, tags, website, notes, search_name, search_grams]` in COPY text.
    public func stageCustomers(_ rows: PostgresCopyText, on tx: PostgresConnection) async throws {
        try await tx.copyIn(
            """
            COPY customer_import (line, region, name, legal_name, segment, status, owner_id, tags, website, notes, search_name, search_grams)
            FROM STDIN
            """,
            chunks: rows.chunks
        )
    }

    /// What the database finds wrong with the staged customers of `lines`: an unknown region
    /// or owner and, unless `allowDuplicates`, the same folded name in the region as an earlier
    /// line of the file or, failing that, as a stored customer.
    public func checkStagedCustomers(_ lines: ClosedRange<Int>, allowDuplicates: Bool, on tx: PostgresConnection) async throws -> [RowProblem] {
        try await tx.query(
            """
            WITH batch AS (
                SELECT i.*, (SELECT min(j.line) FROM customer_import j WHERE j.region = i.region AND j.search_name = i.search_name) AS first
                FROM customer_import i WHERE i.line BETWEEN \(lines.lowerBound) AND \(lines.upperBound)
            )
            SELECT line, 'region' AS col, 'no region ' || b.region AS reason FROM batch b
            WHERE NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = b.region)
            UNION ALL
            SELECT line, 'owner_id', 'no member ' || b.owner_id FROM batch b
            WHERE b.owner_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = b.owner_id)
            UNION ALL
            SELECT line, 'name', 'the same name as line ' || first FROM batch b WHERE NOT \(allowDuplicates) AND first < line
            UNION ALL
            SELECT b.line, 'name', 'customer ' || c.id || ' (' || c.name || ') in ' || c.region || ' has the same name'
            FROM batch b JOIN customers c ON c.region = b.region AND c.search_name = b.search_name AND c.deleted_at IS NULL
            WHERE NOT \(allowDuplicates) AND b.first = b.line
            """
        ).map(Self.problem)
    }

    /// Creates the staged customers of `lines` except those `skipping`, one `customer.created`
    /// event each; returns how many.
    public func createStagedCustomers(
        _ lines: ClosedRange<Int>,
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
                WHERE line BETWEEN \(lines.lowerBound) AND \(lines.upperBound) AND NOT (line = ANY(\(skipping)))
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
