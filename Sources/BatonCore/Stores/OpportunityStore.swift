import Foundation
public import PostgresClient

/// Opportunities and their transitions: the SQL that moves a deal through its region's stages
/// and records every move.
public struct OpportunityStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The columns of an opportunity `o` joined to its stage `s`.
    static let columns = """
        o.id, o.customer_id, o.region, o.title, o.amount_minor, o.currency, o.expected_close::text AS expected_close, o.owner_id,
        o.probability, coalesce(o.probability, s.probability) AS effective_probability, o.stage, o.outcome, o.lost_reason,
        o.campaign_id, o.stage_entered_at, o.closed_at, o.version, o.created_by, o.created_at, o.updated_at
        """

    /// `FROM` rows `source` as `o`, joined to their stages as `s`.
    static func from(_ source: String) -> String {
        "FROM \(source) o JOIN pipeline_stages s ON s.region = o.region AND s.stage = o.stage"
    }

    static func opportunity(_ row: PostgresRow) throws -> Opportunity {
        Opportunity(
            id: try row.decode(Int.self, "id"),
            customerID: try row.decode(Int.self, "customer_id"),
            region: try row.decode(String.self, "region"),
            title: try row.decode(String.self, "title"),
            amountMinor: try row.decode(Int.self, "amount_minor"),
            currency: try row.decode(String.self, "currency"),
            expectedClose: try row.decode(String?.self, "expected_close"),
            ownerID: try row.decode(Int?.self, "owner_id"),
            probability: try row.decode(Int?.self, "probability"),
            effectiveProbability: try row.decode(Int.self, "effective_probability"),
            stage: try row.decode(String.self, "stage"),
            outcome: OpportunityOutcome(rawValue: try row.decode(String.self, "outcome")) ?? .open,
            lostReason: try row.decode(String?.self, "lost_reason"),
            campaignID: try row.decode(Int?.self, "campaign_id"),
            stageEnteredAt: try row.decode(Date.self, "stage_entered_at"),
            closedAt: try row.decode(Date?.self, "closed_at"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    /// One event per row of CTE `source` (opportunities), for use inside a `WITH`.
    static func event(_ type: String, from source: String, data: PostgresQuery, by principal: Principal) -> PostgresQuery {
        EventStore.insert(
            type,
            from: source,
            entityType: "opportunity",
            entity: "\(source).id::text",
            region: "\(source).region",
            data: data,
            by: principal
        )
    }

    // MARK: - Read

    /// An opportunity (not deleted) in a region within `scope`, or `nil`. With `forUpdate` the
    /// row is locked until the transaction ends, so moves of one deal happen one after another.
    public func find(id: Int, scope: Scope, forUpdate: Bool = false, on connection: PostgresConnection? = nil) async throws -> Opportunity? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) \(unescaped: Self.from("opportunities"))
            WHERE o.id = \(id) AND o.deleted_at IS NULL AND \(scope.regionCondition("o.region"))
            \(unescaped: forUpdate ? "FOR UPDATE OF o" : "")
            """
        let rows = try await pool.query(query, on: connection)
        return try rows.first.map(Self.opportunity)
    }

    /// The customer of an opportunity (not deleted), read on `connection`; `nil` when there is
    /// no such opportunity.
    public func customer(ofOpportunity id: Int, on connection: PostgresConnection) async throws -> Int? {
        try await connection.query("SELECT customer_id FROM opportunities WHERE id = \(id) AND deleted_at IS NULL")
            .first?.decode(Int.self, "customer_id")
    }

    /// What an opportunity list may be narrowed to.
    public struct Filter: Sendable {
        public var region: String?
        public var customerID: Int?
        public var ownerID: Int?
        public var stage: String?
        public var outcome: OpportunityOutcome?
        public var campaignID: Int?

        public init(
            region: String? = nil,
            customerID: Int? = nil,
            ownerID: Int? = nil,
            stage: String? = nil,
            outcome: OpportunityOutcome? = nil,
            campaignID: Int? = nil
        ) {
            self.region = region
            self.customerID = customerID
            self.ownerID = ownerID
            self.stage = stage
            self.outcome = outcome
            self.campaignID = campaignID
        }
    }

    /// Opportunities within `scope` in id order, a page at a time.
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<Opportunity> {
        var after = 0
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            after = value
        }
        var conditions: [PostgresQuery] = ["o.id > \(after)", "o.deleted_at IS NULL", scope.regionCondition("o.region")]
        if let region = filter.region { conditions.append("o.region = \(region)") }
        if let customer = filter.customerID { conditions.append("o.customer_id = \(customer)") }
        if let owner = filter.ownerID { conditions.append("o.owner_id = \(owner)") }
        if let stage = filter.stage { conditions.append("o.stage = \(stage)") }
        if let outcome = filter.outcome { conditions.append("o.outcome = \(outcome.rawValue)") }
        if let campaign = filter.campaignID { conditions.append("o.campaign_id = \(campaign)") }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) \(unescaped: Self.from("opportunities"))
            WHERE \(PostgresQuery.joined(conditions, separator: " AND "))
            ORDER BY o.id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.opportunity)) { String($0.id) }
    }

    /// An opportunity's transitions, oldest first, each with how long the deal stayed as it left it.
    public func transitions(of opportunity: Opportunity) async throws -> [OpportunityTransition] {
        let rows = try await pool.query(
            """
            SELECT id, opportunity_id, action, from_stage, to_stage, from_outcome, to_outcome, reason, note, actor_id, at,
                   extract(epoch FROM coalesce(lead(at) OVER (ORDER BY id),
                                               CASE WHEN to_outcome = 'open' THEN now() END) - at)::bigint AS seconds_until_next
            FROM opportunity_transitions WHERE opportunity_id = \(opportunity.id)
            ORDER BY id
            """
        )
        return try rows.map { row in
            OpportunityTransition(
                action: try row.decode(String.self, "action"),
                id: try row.decode(Int.self, "id"),
                opportunityID: try row.decode(Int.self, "opportunity_id"),
                fromStage: try row.decode(String?.self, "from_stage"),
                toStage: try row.decode(String.self, "to_stage"),
                fromOutcome: try row.decode(String?.self, "from_outcome").flatMap(OpportunityOutcome.init),
                toOutcome: OpportunityOutcome(rawValue: try row.decode(String.self, "to_outcome")) ?? .open,
                reason: try row.decode(String?.self, "reason"),
                note: try row.decode(String?.self, "note"),
                actorID: try row.decode(String?.self, "actor_id"),
                at: try row.decode(Date.self, "at"),
                secondsUntilNext: try row.decode(Int?.self, "seconds_until_next")
            )
        }
    }

    // MARK: - Write

    /// Opens an opportunity for `customer` with its `created` transition and event, on the
    /// caller's transaction. Its stage must be an active one of the customer's region (the
    /// first, when none is named); its campaign, one of the region (the customer's, when none
    /// is named).
    public func create(
        _ opportunity: NewOpportunity,
        for customer: Customer,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws
        -> Opportunity
    {
        let stage: String
        if let named = opportunity.stage {
            guard try await isActiveStage(named, region: customer.region, on: tx) else {
                throw BatonError(.ruleViolation, "region \(customer.region) has no stage '\(named)'", details: ["field": "stage"])
            }
            stage = named
        } else {
            guard
                let first = try await tx.query(
                    "SELECT stage FROM pipeline_stages WHERE region = \(customer.region) AND active ORDER BY position LIMIT 1"
                ).first
            else { throw BatonError(.ruleViolation, "region \(customer.region) has no pipeline stages", details: ["field": "stage"]) }
            stage = try first.decode(String.self, "stage")
        }
        if let campaign = opportunity.campaignID,
            try await tx.query("SELECT 1 FROM campaigns WHERE id = \(campaign) AND region = \(customer.region)").first == nil
        {
            throw BatonError(.ruleViolation, "no campaign \(campaign) in region \(customer.region)", details: ["field": "campaign_id"])
        }
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO opportunities (customer_id, region, title, amount_minor, currency, expected_close, owner_id, probability,
                                               stage, campaign_id, created_by)
                    VALUES (\(customer.id), \(customer.region), \(opportunity.title), \(opportunity.amountMinor), \(opportunity.currency),
                            \(opportunity.expectedClose?.description)::date, \(opportunity.ownerID ?? customer.ownerID),
                            \(opportunity.probability), \(stage), coalesce(\(opportunity.campaignID)::bigint, \(customer.campaignID)::bigint),
                            \(principal.actorID))
                    RETURNING *
                ),
                moved AS (
                    INSERT INTO opportunity_transitions (opportunity_id, action, to_stage, to_outcome, actor_id, at)
                    SELECT id, 'created', stage, outcome, \(principal.actorID), created_at FROM created
                ),
                written AS (
                    \(Self.event(
                        "opportunity.created", from: "created",
                        data: "jsonb_build_object('customer_id', created.customer_id, 'title', created.title, 'stage', created.stage, 'amount_minor', created.amount_minor, 'currency', created.currency)",
                        by: principal))
                )
                SELECT \(unescaped: Self.columns) \(unescaped: Self.from("created"))
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "no member \(opportunity.ownerID ?? 0) to own the opportunity", details: ["field": "owner_id"])
        }
        guard let row else { throw BatonError(.internalError, "opportunity not stored") }
        return try Self.opportunity(row)
    }

    /// Applies an edit if the opportunity is still at `version`, with an event; `nil` when stale.
    public func update(
        id: Int,
        version: Int,
        _ changes: OpportunityChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws
        -> Opportunity?
    {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE opportunities SET
                    title = coalesce(\(changes.title), title),
                    amount_minor = coalesce(\(changes.amountMinor), amount_minor),
                    currency = coalesce(\(changes.currency), currency),
                    expected_close = CASE WHEN \(changes.clearExpectedClose) THEN NULL
                                          ELSE coalesce(\(changes.expectedClose?.description)::date, expected_close) END,
                    owner_id = CASE WHEN \(changes.ownerID)::bigint IS NULL THEN owner_id ELSE nullif(\(changes.ownerID), 0) END,
                    probability = CASE WHEN \(changes.probability)::integer IS NULL THEN probability
                                       ELSE nullif(\(changes.probability), -1) END,
                    version = version + 1, updated_at = now()
                WHERE id = \(id) AND version = \(version) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(Self.event("opportunity.updated", from: "changed", data: "jsonb_build_object('version', changed.version)", by: principal))
            )
            SELECT \(unescaped: Self.columns) \(unescaped: Self.from("changed"))
            """
        ).first.map(Self.opportunity)
    }

    /// A move of an opportunity that `transition` describes: its stage, outcome and lost
    /// reason after the move, why, and the event it is.
    public struct Move: Sendable {
        public var action: String
        public var event: String
        public var stage: String
        public var outcome: OpportunityOutcome
        public var lostReason: String?
        public var note: String?
    }

    /// Moves a locked opportunity (see ``find(id:scope:forUpdate:on:)``) as `move` says, with
    /// its transition and event.
    public func apply(_ move: Move, to current: Opportunity, by principal: Principal, on tx: PostgresConnection) async throws -> Opportunity {
        let closes = move.outcome != .open
        guard
            let row = try await tx.query(
                """
                WITH changed AS (
                    UPDATE opportunities SET
                        stage = \(move.stage), outcome = \(move.outcome.rawValue), lost_reason = \(move.lostReason),
                        stage_entered_at = CASE WHEN stage = \(move.stage) THEN stage_entered_at ELSE now() END,
                        closed_at = CASE WHEN \(closes) THEN now() END,
                        version = version + 1, updated_at = now()
                    WHERE id = \(current.id)
                    RETURNING *
                ),
                moved AS (
                    INSERT INTO opportunity_transitions (opportunity_id, action, from_stage, to_stage, from_outcome, to_outcome, reason, note,
                                                         actor_id)
                    SELECT id, \(move.action), \(current.stage), stage, \(current.outcome.rawValue), outcome, lost_reason, \(move.note),
                           \(principal.actorID)
                    FROM changed
                    RETURNING from_stage
                ),
                written AS (
                    \(Self.event(
                        move.event, from: "changed",
                        data: """
                            jsonb_build_object('customer_id', changed.customer_id, 'from_stage', (SELECT from_stage FROM moved), 'stage', changed.stage,
                                               'outcome', changed.outcome, 'lost_reason', changed.lost_reason,
                                               'amount_minor', changed.amount_minor, 'currency', changed.currency)
                            """,
                        by: principal))
                )
                SELECT \(unescaped: Self.columns) \(unescaped: Self.from("changed"))
                """
            ).first
        else { throw BatonError(.internalError, "opportunity not moved") }
        return try Self.opportunity(row)
    }

    /// Marks an opportunity deleted (kept for the audit trail), with an event.
    public func delete(id: Int, by principal: Principal, on tx: PostgresConnection) async throws -> Opportunity? {
        try await tx.query(
            """
            WITH gone AS (
                UPDATE opportunities SET deleted_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(Self.event("opportunity.deleted", from: "gone", data: "'{}'::jsonb", by: principal))
            )
            SELECT \(unescaped: Self.columns) \(unescaped: Self.from("gone"))
            """
        ).first.map(Self.opportunity)
    }

    /// Whether `stage` is one of the region's active stages.
    public func isActiveStage(_ stage: String, region: String, on tx: PostgresConnection) async throws -> Bool {
        try await tx.query("SELECT 1 FROM pipeline_stages WHERE region = \(region) AND stage = \(stage) AND active").first != nil
    }

    /// Whether `reason` is one of the region's active lost reasons.
    public func isActiveLostReason(_ reason: String, region: String, on tx: PostgresConnection) async throws -> Bool {
        try await tx.query("SELECT 1 FROM lost_reasons WHERE region = \(region) AND reason = \(reason) AND active").first != nil
    }
}
