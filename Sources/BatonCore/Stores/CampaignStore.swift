import Foundation
public import PostgresClient

/// Marketing campaigns and what they brought in.
public struct CampaignStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        id, region, name, channel, budget_minor, currency, starts_on::text AS starts_on, ends_on::text AS ends_on, owner_id, version,
        created_by, created_at, updated_at
        """

    static func campaign(_ row: PostgresRow) throws -> Campaign {
        Campaign(
            id: try row.decode(Int.self, "id"),
            region: try row.decode(String.self, "region"),
            name: try row.decode(String.self, "name"),
            channel: CampaignChannel(rawValue: try row.decode(String.self, "channel")) ?? .other,
            budgetMinor: try row.decode(Int.self, "budget_minor"),
            currency: try row.decode(String.self, "currency"),
            startsOn: try row.decode(String?.self, "starts_on"),
            endsOn: try row.decode(String?.self, "ends_on"),
            ownerID: try row.decode(Int?.self, "owner_id"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    static func event(_ type: String, from source: String, data: PostgresQuery, by principal: Principal) -> PostgresQuery {
        EventStore.insert(
            type,
            from: source,
            entityType: "campaign",
            entity: "\(source).id::text",
            region: "\(source).region",
            data: data,
            by: principal
        )
    }

    /// A campaign in a region within `scope`, or `nil`.
    public func find(id: Int, scope: Scope) async throws -> Campaign? {
        try await pool.query(
            "SELECT \(unescaped: Self.columns) FROM campaigns WHERE id = \(id) AND \(scope.regionCondition("region"))"
        ).first.map(Self.campaign)
    }

    /// Campaigns within `scope` (optionally of one region), newest first, a page at a time.
    public func list(region: String?, scope: Scope, page: PageRequest) async throws -> Page<Campaign> {
        var before = Int.max
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            before = value
        }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM campaigns
            WHERE id < \(before) AND \(scope.regionCondition("region")) AND (\(region)::text IS NULL OR region = \(region))
            ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.campaign)) { String($0.id) }
    }

    public func create(_ campaign: NewCampaign, by principal: Principal, on tx: PostgresConnection) async throws -> Campaign {
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO campaigns (region, name, channel, budget_minor, currency, starts_on, ends_on, owner_id, created_by)
                    SELECT r.code, \(campaign.name), \(campaign.channel.rawValue), \(campaign.budgetMinor), \(campaign.currency),
                           \(campaign.startsOn?.description)::date, \(campaign.endsOn?.description)::date, \(campaign.ownerID),
                           \(principal.actorID)
                    FROM regions r WHERE r.code = \(campaign.region)
                    RETURNING *
                ),
                written AS (
                    \(Self.event("campaign.created", from: "created", data: "jsonb_build_object('name', created.name, 'channel', created.channel)", by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM created
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "no member \(campaign.ownerID ?? 0) to own the campaign", details: ["field": "owner_id"])
        }
        guard let row else { throw BatonError(.ruleViolation, "no region '\(campaign.region)'", details: ["field": "region"]) }
        return try Self.campaign(row)
    }

    /// Applies an edit if the campaign is still at `version`; `nil` when stale.
    public func update(
        id: Int,
        version: Int,
        _ changes: CampaignChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws
        -> Campaign?
    {
        do {
            return try await tx.query(
                """
                WITH changed AS (
                    UPDATE campaigns SET
                        name = coalesce(\(changes.name), name),
                        channel = coalesce(\(changes.channel?.rawValue), channel),
                        budget_minor = coalesce(\(changes.budgetMinor), budget_minor),
                        starts_on = coalesce(\(changes.startsOn?.description)::date, starts_on),
                        ends_on = coalesce(\(changes.endsOn?.description)::date, ends_on),
                        owner_id = CASE WHEN \(changes.ownerID)::bigint IS NULL THEN owner_id ELSE nullif(\(changes.ownerID), 0) END,
                        version = version + 1, updated_at = now()
                    WHERE id = \(id) AND version = \(version)
                    RETURNING *
                ),
                written AS (
                    \(Self.event("campaign.updated", from: "changed", data: "jsonb_build_object('version', changed.version)", by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM changed
                """
            ).first.map(Self.campaign)
        } catch let error as PostgresError where error.sqlState == "23514" {
            throw BatonError(.ruleViolation, "ends_on is before starts_on", details: ["field": "ends_on"])
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "no member \(changes.ownerID ?? 0) to own the campaign", details: ["field": "owner_id"])
        }
    }

    /// The campaign's current version, when it exists.
    public func version(id: Int, on tx: PostgresConnection) async throws -> Int? {
        try await tx.query("SELECT version FROM campaigns WHERE id = \(id)").first?.decode(Int.self, "version")
    }

    /// What a campaign brought in (see ``CampaignResults``). Qualified: a sourced opportunity
    /// that reached a stage after its region's first, or was won.
    public func results(of campaign: Campaign) async throws -> CampaignResults {
        guard
            let counts = try await pool.query(
                """
                SELECT
                    (SELECT count(*) FROM customers WHERE campaign_id = \(campaign.id) AND deleted_at IS NULL) AS leads,
                    count(o.id) AS opportunities,
                    count(o.id) FILTER (
                        WHERE o.outcome = 'won' OR EXISTS (
                            SELECT 1 FROM opportunity_transitions t
                            JOIN pipeline_stages s ON s.region = o.region AND s.stage = t.to_stage
                            WHERE t.opportunity_id = o.id
                              AND s.position > (SELECT min(position) FROM pipeline_stages WHERE region = o.region))
                    ) AS qualified,
                    count(o.id) FILTER (WHERE o.outcome = 'won') AS won
                FROM opportunities o
                WHERE o.campaign_id = \(campaign.id) AND o.deleted_at IS NULL
                """
            ).first
        else { throw BatonError(.internalError, "no campaign results") }
        let revenue = try await pool.query(
            """
            SELECT currency, sum(amount_minor)::bigint AS amount FROM opportunities
            WHERE campaign_id = \(campaign.id) AND outcome = 'won' AND deleted_at IS NULL
            GROUP BY currency ORDER BY currency
            """
        ).map { CampaignResults.Revenue(currency: try $0.decode(String.self, "currency"), amountMinor: try $0.decode(Int.self, "amount")) }
        let leads = try counts.decode(Int.self, "leads")
        let won = try counts.decode(Int.self, "won")
        return CampaignResults(
            campaign: campaign,
            leads: leads,
            opportunities: try counts.decode(Int.self, "opportunities"),
            qualified: try counts.decode(Int.self, "qualified"),
            won: won,
            revenue: revenue,
            costPerLeadMinor: leads == 0 ? nil : Int((Double(campaign.budgetMinor) / Double(leads)).rounded()),
            costPerWonMinor: won == 0 ? nil : Int((Double(campaign.budgetMinor) / Double(won)).rounded())
        )
    }
}
