import Foundation
public import PostgresClient

/// What reports count, at query time, from the records: orders (through their daily summary,
/// `report_order_days`, which triggers keep in step with every write), customers,
/// opportunities, feedback and campaigns, and the market sizes supplied for market share.
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
                -- Whose rows of the summary count: the whole orders (0) for everyone, else the
                -- member's or the team's members' credited shares.
                who AS (
                    SELECT 0::bigint AS member_id WHERE \(everyone)
                    UNION SELECT \(member)::bigint WHERE \(member)::bigint IS NOT NULL
                    UNION SELECT member_id FROM memberships WHERE team = \(team)
                ),
                days AS MATERIALIZED (
                    SELECT d.currency, sum(d.amount_pct) AS amount_pct, sum(d.orders_pct) AS orders_pct
                    FROM b JOIN report_order_days d ON d.region = b.code AND d.counted_at = b.counted
                         AND d.day >= \(start)::date AND d.day < \(end)::date
                    WHERE d.member_id IN (SELECT member_id FROM who) AND d.category = coalesce(\(category)::text, '')
                    GROUP BY d.currency
                ),
                cur AS (
                    SELECT coalesce(\(currency)::text, (SELECT currency FROM report_settings WHERE region = \(region)),
                                    (SELECT currency FROM days WHERE orders_pct > 0 ORDER BY orders_pct DESC, currency LIMIT 1)) AS code
                ),
                opp AS (
                    SELECT o.outcome, o.campaign_id FROM b
                    JOIN opportunities o ON o.region = b.code AND o.closed_at >= b.lo AND o.closed_at < b.hi AND o.deleted_at IS NULL
                    WHERE \(ownedBy("o.owner_id"))
                )
                SELECT
                    (SELECT code FROM cur) AS currency,
                    (SELECT coalesce(sum(amount_pct), 0) / 100 FROM days WHERE currency = (SELECT code FROM cur))::float8 AS revenue,
                    (SELECT coalesce(sum(orders_pct), 0) / 100.0 FROM days)::float8 AS orders,
                    (SELECT coalesce(sum(orders_pct), 0) / 100.0 FROM days WHERE currency = (SELECT code FROM cur))::float8 AS currency_orders,
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

    /// What a target's actual is made of: the figures of its metric (others stay zero).
    public struct TargetCounts: Sendable, Equatable {
        public var revenueMinor: Double = 0
        public var orders: Double = 0
        public var newCustomers = 0
        public var won = 0
        public var responses = 0
        public var satisfied = 0
    }

    /// The counts of many targets' metrics in one statement: per target, whose records its owner
    /// kind says (a member's, a team's members', a region's or everyone's within `scope`) in its
    /// period, revenue in the target's currency ("XXX" counts none), lines of its category only.
    public func counts(of targets: [Target], scope: Scope) async throws -> [Int: TargetCounts] {
        guard !targets.isEmpty else { return [:] }
        let ids = targets.map(\.id)
        // Arrays with NULLs travel as text[]; the statement casts them.
        let members = PostgresTextArray(targets.map { $0.ownerKind == .member ? $0.memberID.map(String.init) : nil })
        let teams = PostgresTextArray(targets.map { $0.ownerKind == .team ? $0.team : nil })
        let regions = PostgresTextArray(targets.map { $0.ownerKind == .region ? $0.region : nil })
        let categories = PostgresTextArray(targets.map(\.productCategory))
        let currencies = targets.map { $0.currency ?? "XXX" }
        let metrics = targets.map(\.metric.rawValue)
        let starts = targets.map(\.period.start.description)
        let ends = targets.map(\.period.end.description)
        let rows = try await pool.transaction { tx in
            try await tx.query("SET LOCAL jit = off")
            return try await tx.query(
                """
                WITH t AS (
                    SELECT * FROM unnest(\(ids)::bigint[], \(members)::bigint[], \(teams)::text[], \(regions)::text[],
                                         \(categories)::text[], \(currencies)::text[], \(metrics)::text[], \(starts)::date[], \(ends)::date[])
                         AS t (id, member_id, team, region, category, currency, metric, start_on, end_on)
                ),
                -- Each target with each region it counts in, that region's counting moment and
                -- period bounds, and whose summary rows count (0: the whole orders).
                tb AS MATERIALIZED (
                    SELECT t.*, r.code, coalesce(s.count_orders_at, 'confirmed') AS counted,
                           (t.start_on::timestamp AT TIME ZONE r.time_zone) AS lo, (t.end_on::timestamp AT TIME ZONE r.time_zone) AS hi,
                           t.member_id IS NULL AND t.team IS NULL AS everyone,
                           CASE WHEN t.member_id IS NULL AND t.team IS NULL THEN ARRAY[0::bigint]
                                WHEN t.member_id IS NOT NULL THEN ARRAY[t.member_id]
                                ELSE ARRAY(SELECT m.member_id FROM memberships m WHERE m.team = t.team) END AS who
                    FROM t JOIN regions r ON (t.region IS NULL OR r.code = t.region) AND \(scope.regionCondition("r.code"))
                    LEFT JOIN report_settings s ON s.region = r.code
                ),
                money AS (
                    SELECT tb.id, sum(d.amount_pct) FILTER (WHERE d.currency = tb.currency) / 100 AS revenue, sum(d.orders_pct) / 100.0 AS orders
                    FROM tb JOIN report_order_days d ON d.member_id = ANY(tb.who) AND d.category = coalesce(tb.category, '')
                         AND d.region = tb.code AND d.counted_at = tb.counted AND d.day >= tb.start_on AND d.day < tb.end_on
                    WHERE tb.metric IN ('revenue', 'orders')
                    GROUP BY tb.id
                ),
                added AS (
                    SELECT tb.id, count(*) AS n FROM tb
                    JOIN customers c ON c.region = tb.code AND c.created_at >= tb.lo AND c.created_at < tb.hi AND c.deleted_at IS NULL
                    WHERE tb.metric = 'new_customers' AND (tb.everyone OR c.owner_id = ANY(tb.who))
                    GROUP BY tb.id
                ),
                won AS (
                    SELECT tb.id, count(*) AS n FROM tb
                    JOIN opportunities o ON o.region = tb.code AND o.closed_at >= tb.lo AND o.closed_at < tb.hi AND o.deleted_at IS NULL
                    WHERE tb.metric = 'opportunities_won' AND o.outcome = 'won' AND (tb.everyone OR o.owner_id = ANY(tb.who))
                    GROUP BY tb.id
                ),
                heard AS (
                    SELECT tb.id, count(*) AS responses, count(*) FILTER (WHERE f.score >= 4) AS satisfied FROM tb
                    JOIN feedback f ON f.region = tb.code AND f.created_at >= tb.lo AND f.created_at < tb.hi
                    WHERE tb.metric = 'csat'
                      AND (tb.everyone OR f.team = tb.team OR f.order_id IN (SELECT c.order_id FROM order_credits c WHERE c.member_id = tb.member_id))
                    GROUP BY tb.id
                )
                SELECT t.id, coalesce(money.revenue, 0)::float8 AS revenue, coalesce(money.orders, 0)::float8 AS orders,
                       coalesce(added.n, 0)::int AS new_customers, coalesce(won.n, 0)::int AS won,
                       coalesce(heard.responses, 0)::int AS responses, coalesce(heard.satisfied, 0)::int AS satisfied
                FROM t LEFT JOIN money USING (id) LEFT JOIN added USING (id) LEFT JOIN won USING (id) LEFT JOIN heard USING (id)
                """
            )
        }
        var counts: [Int: TargetCounts] = [:]
        for row in rows {
            counts[try row.decode(Int.self, "id")] = TargetCounts(
                revenueMinor: try row.decode(Double.self, "revenue"),
                orders: try row.decode(Double.self, "orders"),
                newCustomers: try row.decode(Int.self, "new_customers"),
                won: try row.decode(Int.self, "won"),
                responses: try row.decode(Int.self, "responses"),
                satisfied: try row.decode(Int.self, "satisfied")
            )
        }
        return counts
    }

    /// A region's report settings: the defaults (orders counted when confirmed, no report
    /// currency) for a region without a row; nil for a region that does not exist.
    public func settings(region: String) async throws -> ReportSettings? {
        try await pool.query(
            """
            SELECT r.code, coalesce(s.count_orders_at, 'confirmed') AS count_orders_at, s.currency, s.updated_at
            FROM regions r LEFT JOIN report_settings s ON s.region = r.code WHERE r.code = \(region)
            """
        ).first.map(Self.settings)
    }

    /// Replaces a region's report settings with an event; nil for a region that does not exist.
    public func setSettings(_ settings: ReportSettings, by principal: Principal, on tx: PostgresConnection) async throws -> ReportSettings? {
        try await tx.query(
            """
            WITH stored AS (
                INSERT INTO report_settings (region, count_orders_at, currency, updated_by)
                SELECT code, \(settings.countOrdersAt.rawValue), \(settings.currency), \(principal.actorID) FROM regions WHERE code = \(settings.region)
                ON CONFLICT (region) DO UPDATE SET
                    count_orders_at = excluded.count_orders_at, currency = excluded.currency, updated_by = excluded.updated_by,
                    updated_at = now()
                RETURNING *
            ),
            written AS (
                \(EventStore.insert(
                    "report_settings.updated", from: "stored", entityType: "region", entity: "stored.region", region: "stored.region",
                    data: "jsonb_build_object('count_orders_at', stored.count_orders_at, 'currency', stored.currency)", by: principal))
            )
            SELECT region AS code, count_orders_at, currency, updated_at FROM stored
            """
        ).first.map(Self.settings)
    }

    static func settings(_ row: PostgresRow) throws -> ReportSettings {
        ReportSettings(
            region: try row.decode(String.self, "code"),
            countOrdersAt: ReportSettings.Moment(rawValue: try row.decode(String.self, "count_orders_at")) ?? .confirmed,
            currency: try row.decode(String?.self, "currency"),
            updatedAt: try row.decode(Date?.self, "updated_at")
        )
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
