import Foundation
public import PostgresClient

/// What reports count, at query time, from the records: orders, customers, opportunities,
/// feedback and campaigns, and the market sizes supplied for market share.
///
/// A period is a span of wall-calendar days; each record is counted in its own region's time
/// zone. An order counts when it was confirmed, or delivered where the region's
/// `report_settings` say so, unless it is cancelled now (an order confirmed and later cancelled
/// leaves the figures). A member's share of an order is the percent credited to the member; a
/// team's share is the sum of its members' percents, so a split order counts once in a team's,
/// region's and the company's totals.
public struct ReportStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Whose records to count: a member's, a team's members', or everyone's (of `region`, or of
    /// every region within scope).
    public struct Owner: Sendable, Equatable {
        public var region: String?
        public var memberID: Int?
        public var team: String?

        public init(region: String? = nil, memberID: Int? = nil, team: String? = nil) {
            self.region = region
            self.memberID = memberID
            self.team = team
        }
    }

    /// The counts of one period. Money is summed in `currency`; nil takes the region's report
    /// currency, then the currency most of the period's orders are in. Returns the currency used.
    public func counts(
        _ owner: Owner,
        period: ReportPeriod,
        category: String? = nil,
        currency: String?,
        scope: Scope
    ) async throws -> (PeriodCounts, currency: String?) {
        let start = period.start.description
        let end = period.end.description
        let member = owner.memberID
        let team = owner.team
        let region = owner.region
        // Anyone's records when the owner is a region or the company.
        let everyone: PostgresQuery = "(\(member)::bigint IS NULL AND \(team)::text IS NULL)"
        let ownedBy: (String) -> PostgresQuery = { column in
            "(\(everyone) OR \(unescaped: column) = \(member) OR \(unescaped: column) IN (SELECT member_id FROM memberships WHERE team = \(team)))"
        }
        // The planner prices the correlated sub-selects high enough to JIT-compile the
        // statement, which costs seconds and saves nothing on index-bounded periods: off for
        // this transaction only (SET LOCAL holds no session state).
        let found = try await pool.transaction { tx in
            try await tx.query("SET LOCAL jit = off")
            return try await tx.query(
                """
                WITH b AS MATERIALIZED (
                    SELECT r.code, coalesce(s.count_orders_at, 'confirmed') AS counted,
                           (\(start)::date::timestamp AT TIME ZONE r.time_zone) AS lo,
                           (\(end)::date::timestamp AT TIME ZONE r.time_zone) AS hi
                    FROM regions r LEFT JOIN report_settings s ON s.region = r.code
                    WHERE (\(region)::text IS NULL OR r.code = \(region)) AND \(scope.regionCondition("r.code"))
                ),
                credited AS (
                    SELECT order_id, sum(percent) / 100.0 AS share FROM order_credits
                    WHERE member_id = \(member) OR member_id IN (SELECT member_id FROM memberships WHERE team = \(team))
                    GROUP BY order_id
                ),
                counted AS (
                    -- Two branches rather than a CASE, so each uses its (region, time) index.
                    SELECT o.id, o.currency, o.total_minor FROM b
                    JOIN orders o ON o.region = b.code AND o.confirmed_at >= b.lo AND o.confirmed_at < b.hi
                    WHERE b.counted = 'confirmed' AND o.state <> 'cancelled'
                    UNION ALL
                    SELECT o.id, o.currency, o.total_minor FROM b
                    JOIN orders o ON o.region = b.code AND o.delivered_at >= b.lo AND o.delivered_at < b.hi
                    WHERE b.counted = 'delivered' AND o.state <> 'cancelled'
                ),
                owned AS MATERIALIZED (
                    SELECT c.currency,
                           CASE WHEN \(category)::text IS NULL THEN c.total_minor
                                ELSE (SELECT sum(l.total_minor) FROM order_lines l JOIN products p ON p.id = l.product_id
                                      WHERE l.order_id = c.id AND p.category = \(category)) END AS amount,
                           CASE WHEN \(everyone) THEN 1.0 ELSE cr.share END AS share
                    FROM counted c LEFT JOIN credited cr ON cr.order_id = c.id
                ),
                ord AS (SELECT * FROM owned WHERE share IS NOT NULL AND amount IS NOT NULL),
                cur AS (
                    SELECT coalesce(\(currency)::text, (SELECT currency FROM report_settings WHERE region = \(region)),
                                    (SELECT mode() WITHIN GROUP (ORDER BY currency) FROM ord)) AS code
                ),
                opp AS (
                    SELECT o.outcome, o.campaign_id FROM b
                    JOIN opportunities o ON o.region = b.code AND o.closed_at >= b.lo AND o.closed_at < b.hi AND o.deleted_at IS NULL
                    WHERE \(ownedBy("o.owner_id"))
                )
                SELECT
                    (SELECT code FROM cur) AS currency,
                    (SELECT coalesce(sum(amount * share), 0)::float8 FROM ord WHERE currency = (SELECT code FROM cur)) AS revenue,
                    (SELECT coalesce(sum(share), 0)::float8 FROM ord) AS orders,
                    (SELECT coalesce(sum(share), 0)::float8 FROM ord WHERE currency = (SELECT code FROM cur)) AS currency_orders,
                    (SELECT count(*) FROM b
                     JOIN customers c ON c.region = b.code AND c.created_at >= b.lo AND c.created_at < b.hi AND c.deleted_at IS NULL
                     WHERE \(ownedBy("c.owner_id")))::int AS new_customers,
                    (SELECT count(*) FROM opp WHERE outcome = 'won')::int AS won,
                    (SELECT count(*) FROM opp WHERE outcome = 'lost')::int AS lost,
                    (SELECT count(*) FROM opp WHERE outcome = 'won' AND campaign_id IS NOT NULL)::int AS campaign_won,
                    (SELECT coalesce(sum(k.budget_minor), 0) FROM b
                     JOIN campaigns k ON k.region = b.code AND k.starts_on >= \(start)::date AND k.starts_on < \(end)::date
                     WHERE k.currency = (SELECT code FROM cur))::bigint AS campaign_budget,
                    f.responses, f.satisfied
                FROM (
                    SELECT count(*)::int AS responses, count(*) FILTER (WHERE f.score >= 4)::int AS satisfied FROM b
                    JOIN feedback f ON f.region = b.code AND f.created_at >= b.lo AND f.created_at < b.hi
                    WHERE \(everyone) OR f.team = \(team) OR f.order_id IN (SELECT order_id FROM order_credits WHERE member_id = \(member))
                ) f
                """
            ).first
        }
        guard let row = found else { throw BatonError(.internalError, "no report counts") }
        var counts = PeriodCounts()
        counts.revenueMinor = try row.decode(Double.self, "revenue")
        counts.orders = try row.decode(Double.self, "orders")
        counts.currencyOrders = try row.decode(Double.self, "currency_orders")
        counts.newCustomers = try row.decode(Int.self, "new_customers")
        counts.won = try row.decode(Int.self, "won")
        counts.lost = try row.decode(Int.self, "lost")
        counts.campaignWon = try row.decode(Int.self, "campaign_won")
        counts.campaignBudgetMinor = try row.decode(Int.self, "campaign_budget")
        counts.responses = try row.decode(Int.self, "responses")
        counts.satisfied = try row.decode(Int.self, "satisfied")
        return (counts, try row.decode(String?.self, "currency"))
    }

    /// Records a market size or share, replacing the one of the same region and period.
    public func setMarket(_ market: MarketSize, by principal: Principal) async throws -> MarketSize {
        do {
            try await pool.query(
                """
                INSERT INTO market_sizes (region, period, size_minor, currency, share_percent, source, updated_by)
                VALUES (\(market.region), \(market.period.description), \(market.sizeMinor), \(market.currency), \(market.sharePercent),
                        \(market.source), \(principal.actorID))
                ON CONFLICT (region, period) DO UPDATE SET
                    size_minor = excluded.size_minor, currency = excluded.currency, share_percent = excluded.share_percent,
                    source = excluded.source, updated_by = excluded.updated_by, updated_at = now()
                """
            )
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError.notFound("no region '\(market.region)'")
        }
        return market
    }

    /// The market size or share recorded for a region and period.
    public func market(region: String, period: ReportPeriod) async throws -> MarketSize? {
        try await pool.query(
            """
            SELECT size_minor, currency, share_percent::float8 AS share_percent, source FROM market_sizes
            WHERE region = \(region) AND period = \(period.description)
            """
        ).first.map { row in
            MarketSize(
                region: region,
                period: period,
                sizeMinor: try row.decode(Int?.self, "size_minor"),
                currency: try row.decode(String?.self, "currency"),
                sharePercent: try row.decode(Double?.self, "share_percent"),
                source: try row.decode(String.self, "source")
            )
        }
    }
}
