import Foundation
public import PostgresClient

/// Customers: the SQL that reads and writes them, their duplicate checks and their search.
public struct CustomerStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        id, region, name, legal_name, segment, status, owner_id, tags, website, notes, campaign_id, version, created_by,
        created_at, updated_at, deleted_at
        """

    static func customer(_ row: PostgresRow) throws -> Customer {
        Customer(
            id: try row.decode(Int.self, "id"),
            region: try row.decode(String.self, "region"),
            name: try row.decode(String.self, "name"),
            legalName: try row.decode(String?.self, "legal_name"),
            segment: try row.decode(String?.self, "segment"),
            status: CustomerStatus(rawValue: try row.decode(String.self, "status")) ?? .lead,
            ownerID: try row.decode(Int?.self, "owner_id"),
            tags: try row.decode([String].self, "tags"),
            website: try row.decode(String?.self, "website"),
            notes: try row.decode(String?.self, "notes"),
            campaignID: try row.decode(Int?.self, "campaign_id"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at"),
            deletedAt: try row.decode(Date?.self, "deleted_at")
        )
    }

    /// An `INSERT INTO events` of one event per row of CTE `source`, about customer
    /// `customer` (an SQL expression over the rows) in `region`, for use inside a `WITH`.
    static func event(
        _ type: String,
        from source: String,
        customer: String,
        region: String,
        data: PostgresQuery,
        by principal: Principal
    )
        -> PostgresQuery
    {
        EventStore.insert(type, from: source, entityType: "customer", entity: customer, region: region, data: data, by: principal)
    }

    // MARK: - Read

    /// A customer (not deleted) whose region is within `scope`, or `nil`.
    public func find(id: Int, scope: Scope, on connection: PostgresConnection? = nil) async throws -> Customer? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM customers
            WHERE id = \(id) AND deleted_at IS NULL AND \(scope.regionCondition("region"))
            """
        let rows = try await pool.query(query, on: connection)
        return try rows.first.map(Self.customer)
    }

    /// What a customer list may be narrowed to.
    public struct Filter: Sendable {
        /// Found anywhere in the name, case, accents and width aside.
        public var query: String?
        public var region: String?
        public var status: CustomerStatus?
        public var ownerID: Int?
        public var tag: String?

        public init(query: String? = nil, region: String? = nil, status: CustomerStatus? = nil, ownerID: Int? = nil, tag: String? = nil) {
            self.query = query
            self.region = region
            self.status = status
            self.ownerID = ownerID
            self.tag = tag
        }
    }

    /// Customers within `scope` in id order, a page at a time. A name query goes through the
    /// grams index (every gram of the query must be in the name) and is then checked as a
    /// substring, so any part of a name in any script finds it.
    ///
    /// A query found in many names (`gmbh`) would make the index hand over thousands of rows
    /// only for the first page of them to be kept, and the planner cannot tell such a query
    /// from a rare one (it takes the grams as independent). So the next `searchWindow` ids
    /// are read in order first, which fills a page of a common query at once; only when they do
    /// not is the index asked for the rest.
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<Customer> {
        var after = 0
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            after = value
        }
        var conditions: [PostgresQuery] = ["deleted_at IS NULL", scope.regionCondition("region")]
        if let region = filter.region { conditions.append("region = \(region)") }
        if let status = filter.status { conditions.append("status = \(status.rawValue)") }
        if let owner = filter.ownerID { conditions.append("owner_id = \(owner)") }
        if let tag = filter.tag { conditions.append("tags <> '{}' AND tags @> ARRAY[\(tag)::text]") }
        let limit = page.limit + 1
        let rows: PostgresQueryResult
        if let query = filter.query.map(SearchText.fold), !query.isEmpty {
            let search = SearchText.query(query)
            var matches: [PostgresQuery] = ["(' ' || search_name) LIKE \(search.pattern)"]
            if !search.grams.isEmpty { matches.insert("search_grams @> \(search.grams)::text[]", at: 0) }
            let filters = PostgresQuery.joined(conditions + matches, separator: " AND ")
            // Prepared: the plan is generic (as the pool's connections plan everything), so it
            // is made once per connection and filter combination. The window's end is one of its
            // parameters; `id + 0` keeps the planner from ANDing the grams index with a scan of every id
            // past the window (6 ms at 100,000 customers), so the rest is read through the
            // grams alone.
            rows = try await pool.query(
                """
                WITH bound AS MATERIALIZED (
                    SELECT coalesce((SELECT id FROM customers WHERE id > \(after) ORDER BY id LIMIT 1), 0) + \(Self.searchWindow) AS id
                ),
                near AS MATERIALIZED (
                    SELECT \(unescaped: Self.columns) FROM customers
                    WHERE id > \(after) AND id <= (SELECT id FROM bound) AND \(filters)
                    ORDER BY id LIMIT \(limit)
                )
                SELECT * FROM near
                UNION ALL
                (SELECT \(unescaped: Self.columns) FROM customers
                 WHERE (SELECT count(*) FROM near) < \(limit) AND id + 0 > (SELECT id FROM bound) AND \(filters)
                 ORDER BY id LIMIT \(limit))
                ORDER BY id
                LIMIT \(limit)
                """,
                prepared: true
            )
        } else {
            rows = try await pool.query(
                """
                SELECT \(unescaped: Self.columns) FROM customers
                WHERE id > \(after) AND \(PostgresQuery.joined(conditions, separator: " AND "))
                ORDER BY id
                LIMIT \(limit)
                """
            )
        }
        return page.page(try rows.map(Self.customer)) { String($0.id) }
    }

    /// How many ids (from the first after the cursor) a name search reads in id order before it
    /// asks the grams index: the customers with them, fewer where ids were skipped.
    static let searchWindow = 5_000

    // MARK: - Write

    /// A customer that looks like the one being created: the same folded name in the region, or
    /// a contact with one of the same e-mail addresses.
    public struct Duplicate: Sendable {
        public var customer: Customer
        /// `name` or `email`.
        public var reason: String
    }

    /// Creates a customer with its contacts and events, on the caller's transaction. Unless
    /// `force`, a likely duplicate is refused with 409 naming it. Creations of the same folded
    /// name in a region are serialised, so two at once cannot both pass the check.
    public func create(_ customer: NewCustomer, by principal: Principal, on tx: PostgresConnection) async throws -> (Customer, [Contact]) {
        let folded = SearchText.fold(customer.name)
        try await tx.query("SELECT pg_advisory_xact_lock(hashtext(\(customer.region) || '/' || \(folded)))")
        if !customer.force, let duplicate = try await duplicate(of: customer, folded: folded, on: tx) {
            throw BatonError(
                .conflict,
                "customer \(duplicate.customer.id) (\(duplicate.customer.name)) in \(duplicate.customer.region) has the same \(duplicate.reason); send force to create it anyway",
                details: ["existing_id": String(duplicate.customer.id), "reason": duplicate.reason]
            )
        }
        if let campaignID = customer.campaignID,
            try await tx.query("SELECT 1 FROM campaigns WHERE id = \(campaignID) AND region = \(customer.region)").first == nil
        {
            throw BatonError(.ruleViolation, "no campaign \(campaignID) in region \(customer.region)", details: ["field": "campaign_id"])
        }
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO customers (region, name, legal_name, segment, status, owner_id, tags, website, notes, search_name,
                                           search_grams, campaign_id, created_by)
                    SELECT r.code, \(customer.name), nullif(\(customer.legalName), ''), nullif(\(customer.segment), ''),
                           coalesce(\(customer.status?.rawValue), 'lead'), \(customer.ownerID),
                           coalesce(\(customer.tags)::text[], '{}'), nullif(\(customer.website), ''), nullif(\(customer.notes), ''),
                           \(folded), \(SearchText.grams(folded)), \(customer.campaignID), \(principal.actorID)
                    FROM regions r WHERE r.code = \(customer.region)
                      AND (\(customer.campaignID)::bigint IS NULL
                           OR EXISTS (SELECT 1 FROM campaigns WHERE id = \(customer.campaignID) AND region = r.code))
                    RETURNING *
                ),
                written AS (
                    \(Self.event(
                        "customer.created", from: "created", customer: "created.id::text", region: "created.region",
                        data: "jsonb_build_object('name', created.name, 'status', created.status)", by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM created
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "no member \(customer.ownerID ?? 0) to own the customer", details: ["field": "owner_id"])
        }
        guard let row else { throw BatonError(.ruleViolation, "no region '\(customer.region)'", details: ["field": "region"]) }
        let created = try Self.customer(row)
        var contacts: [Contact] = []
        for contact in customer.contacts {
            contacts.append(try await addContact(contact, to: created, by: principal, on: tx))
        }
        return (created, contacts)
    }

    func duplicate(of customer: NewCustomer, folded: String, on tx: PostgresConnection) async throws -> Duplicate? {
        if let row = try await tx.query(
            """
            SELECT \(unescaped: Self.columns) FROM customers
            WHERE region = \(customer.region) AND search_name = \(folded) AND deleted_at IS NULL
            ORDER BY id LIMIT 1
            """
        ).first {
            return Duplicate(customer: try Self.customer(row), reason: "name")
        }
        let emails = customer.contacts.compactMap { $0.email?.lowercased() }.filter { !$0.isEmpty }
        guard !emails.isEmpty else { return nil }
        let row = try await tx.query(
            """
            SELECT \(unescaped: Self.columns) FROM customers c
            WHERE c.region = \(customer.region) AND c.deleted_at IS NULL
              AND EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id AND k.deleted_at IS NULL
                                                    AND lower(k.email) = ANY(\(emails)))
            ORDER BY c.id LIMIT 1
            """
        ).first
        return try row.map { Duplicate(customer: try Self.customer($0), reason: "email") }
    }

    /// Applies an edit if the customer is still at `version`; with an event. `nil` when the
    /// version is stale (the caller reads the current one for the 412).
    public func update(
        id: Int,
        version: Int,
        _ changes: CustomerChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Customer? {
        let folded = changes.name.map(SearchText.fold)
        let changed = try await tx.query(
            """
            WITH changed AS (
                UPDATE customers SET
                    name = coalesce(\(changes.name), name),
                    search_name = coalesce(\(folded), search_name),
                    search_grams = coalesce(\(folded.map(SearchText.grams))::text[], search_grams),
                    legal_name = CASE WHEN \(changes.legalName)::text IS NULL THEN legal_name ELSE nullif(\(changes.legalName), '') END,
                    segment = CASE WHEN \(changes.segment)::text IS NULL THEN segment ELSE nullif(\(changes.segment), '') END,
                    status = coalesce(\(changes.status?.rawValue), status),
                    owner_id = CASE WHEN \(changes.ownerID)::bigint IS NULL THEN owner_id ELSE nullif(\(changes.ownerID), 0) END,
                    tags = coalesce(\(changes.tags)::text[], tags),
                    website = CASE WHEN \(changes.website)::text IS NULL THEN website ELSE nullif(\(changes.website), '') END,
                    notes = CASE WHEN \(changes.notes)::text IS NULL THEN notes ELSE nullif(\(changes.notes), '') END,
                    version = version + 1, updated_at = now()
                WHERE id = \(id) AND version = \(version) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(Self.event(
                    "customer.updated", from: "changed", customer: "changed.id::text", region: "changed.region",
                    data: "jsonb_build_object('version', changed.version, 'status', changed.status)", by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM changed
            """
        )
        return try changed.first.map(Self.customer)
    }

    /// Marks a customer deleted (kept for the audit trail), with an event.
    public func delete(id: Int, by principal: Principal, on tx: PostgresConnection) async throws -> Customer? {
        try await tx.query(
            """
            WITH gone AS (
                UPDATE customers SET deleted_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(Self.event("customer.deleted", from: "gone", customer: "gone.id::text", region: "gone.region", data: "'{}'::jsonb", by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM gone
            """
        ).first.map(Self.customer)
    }

    // MARK: - Contacts

    static let contactColumns = "id, customer_id, name, role, email, phone, preferred_channel, version, created_at, updated_at"

    static func contact(_ row: PostgresRow) throws -> Contact {
        Contact(
            id: try row.decode(Int.self, "id"),
            customerID: try row.decode(Int.self, "customer_id"),
            name: try row.decode(String.self, "name"),
            role: try row.decode(String?.self, "role"),
            email: try row.decode(String?.self, "email"),
            phone: try row.decode(String?.self, "phone"),
            preferredChannel: try row.decode(String?.self, "preferred_channel").flatMap(ContactChannel.init),
            version: try row.decode(Int.self, "version"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    /// A customer's contacts in the order they were added.
    public func contacts(of customerID: Int) async throws -> [Contact] {
        try await pool.query(
            "SELECT \(unescaped: Self.contactColumns) FROM contacts WHERE customer_id = \(customerID) AND deleted_at IS NULL ORDER BY id"
        ).map(Self.contact)
    }

    /// Adds a contact to a customer, with an event.
    public func addContact(_ contact: NewContact, to customer: Customer, by principal: Principal, on tx: PostgresConnection) async throws -> Contact {
        guard
            let row = try await tx.query(
                """
                WITH added AS (
                    INSERT INTO contacts (customer_id, name, role, email, phone, preferred_channel)
                    VALUES (\(customer.id), \(contact.name), nullif(\(contact.role), ''), nullif(\(contact.email), ''),
                            nullif(\(contact.phone), ''), \(contact.preferredChannel?.rawValue))
                    RETURNING *
                ),
                written AS (
                    \(Self.event(
                        "contact.added", from: "added", customer: "added.customer_id::text", region: "(SELECT region FROM customers WHERE id = added.customer_id)",
                        data: "jsonb_build_object('contact_id', added.id, 'name', added.name)", by: principal))
                )
                SELECT \(unescaped: Self.contactColumns) FROM added
                """
            ).first
        else { throw BatonError(.internalError, "contact not stored") }
        return try Self.contact(row)
    }

    /// Applies an edit to a contact if it is still at `version`; `nil` when stale or gone.
    public func updateContact(
        id: Int,
        of customer: Customer,
        version: Int,
        _ changes: ContactChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Contact? {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE contacts SET
                    name = coalesce(\(changes.name), name),
                    role = CASE WHEN \(changes.role)::text IS NULL THEN role ELSE nullif(\(changes.role), '') END,
                    email = CASE WHEN \(changes.email)::text IS NULL THEN email ELSE nullif(\(changes.email), '') END,
                    phone = CASE WHEN \(changes.phone)::text IS NULL THEN phone ELSE nullif(\(changes.phone), '') END,
                    preferred_channel = coalesce(\(changes.preferredChannel?.rawValue), preferred_channel),
                    version = version + 1, updated_at = now()
                WHERE id = \(id) AND customer_id = \(customer.id) AND version = \(version) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(Self.event(
                    "contact.updated", from: "changed", customer: "changed.customer_id::text",
                    region: "(SELECT region FROM customers WHERE id = changed.customer_id)",
                    data: "jsonb_build_object('contact_id', changed.id, 'version', changed.version)", by: principal))
            )
            SELECT \(unescaped: Self.contactColumns) FROM changed
            """
        ).first.map(Self.contact)
    }

    /// The contact's current version, when it exists for this customer.
    public func contactVersion(id: Int, customerID: Int, on tx: PostgresConnection) async throws -> Int? {
        try await tx.query(
            "SELECT version FROM contacts WHERE id = \(id) AND customer_id = \(customerID) AND deleted_at IS NULL"
        ).first?.decode(Int.self, "version")
    }
}
