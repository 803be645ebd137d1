public import Foundation
import PostgresClient

/// Plans and reports: targets with their variance analysis, the plan report, the leaderboard,
/// the KPI report and the market sizes it needs. Actuals are computed from the records at query
/// time (``ReportStore``), so they are never stale.
public struct ReportService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
    }

    var targets: TargetStore { TargetStore(pool: database.pool) }
    var reports: ReportStore { ReportStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    /// The most targets one plan report or list answers with.
    public static let maximumRows = 500

    public func listTargets(_ filter: TargetStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Target> {
        try principal.authorize(.listTargets)
        let after = try page.afterID()
        return page.page(try await targets.list(filter, scope: principal.scope, after: after, limit: page.limit + 1)) { String($0.id) }
    }

    public func createTarget(_ new: NewTarget, idempotencyKey: String? = nil, by principal: Principal) async throws -> Target {
        try principal.authorize(.createTarget)
        try new.validate()
        if new.ownerKind == .company, !principal.scope.allRegions {
            throw BatonError(.forbidden, "only a caller who reaches every region sets company targets")
        }
        if let region = new.region, !principal.scope.reaches(region: region) {
            throw BatonError(.ruleViolation, "no region '\(region)' you may set targets in", details: ["field": "region"])
        }
        let store = targets
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createTarget", request: new) { tx in
            try await store.create(new, by: principal, on: tx)
        }
        if let region = created.region, !principal.scope.reaches(region: region) {
            throw BatonError(.ruleViolation, "no team '\(new.team ?? "")' you may set targets for", details: ["field": "team"])
        }
        wakeups.eventsWritten()
        return created
    }

    public func target(id: Int, by principal: Principal) async throws -> Target {
        try principal.authorize(.getTarget)
        guard let target = try await targets.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no target \(id)") }
        return target
    }

    /// Records the variance analysis and next action, or changes the value, if the target is
    /// still at `version`; a stale version is 412.
    public func updateTarget(id: Int, version: Int, _ changes: TargetChanges, by principal: Principal) async throws -> Target {
        try principal.authorize(.updateTarget)
        guard let current = try await targets.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no target \(id)") }
        try changes.validate(metric: current.metric)
        let store = targets
        let updated = try await database.pool.transaction { tx -> Target in
            guard let updated = try await store.update(id: id, version: version, changes, by: principal, on: tx) else {
                guard let now = try await store.version(id: id, on: tx) else { throw BatonError.notFound("no target \(id)") }
                throw BatonError.stale(version: now)
            }
            return updated
        }
        wakeups.eventsWritten()
        return updated
    }

    /// Each target whose period overlaps `from`...`to` (today by default: in the region asked
    /// for, else UTC) against its actual, all actuals counted in one statement. How much of a
    /// target's period has gone is measured from today in the target's region (UTC for the
    /// company's), unless `today` is given.
    public func plan(_ filter: TargetStore.Filter, by principal: Principal, today: LocalDate? = nil) async throws -> PlanReport {
        try principal.authorize(.getPlanReport)
        var filter = filter
        let now = Date()
        let regions = RegionStore(pool: database.pool)
        var zones: [String: TimeZone] = [:]
        func localToday(in region: String?) async throws -> LocalDate {
            if let today { return today }
            guard let region else { return LocalDate(now, in: .gmt) }
            if zones[region] == nil { zones[region] = try await regions.timeZone(of: region) }
            return LocalDate(now, in: zones[region] ?? .gmt)
        }
        var to = filter.to ?? LocalDate(now, in: .gmt)
        if filter.to == nil { to = try await localToday(in: filter.region) }
        let from = filter.from ?? to
        guard from <= to else { throw BatonError(.ruleViolation, "from must not be after to", details: ["field": "from"]) }
        filter.from = from
        filter.to = to
        let (found, counted) = try await database.staleRead { pool in
            let found = try await TargetStore(pool: pool).list(filter, scope: principal.scope, limit: Self.maximumRows + 1)
            guard found.count <= Self.maximumRows else {
                throw BatonError(.ruleViolation, "more than \(Self.maximumRows) targets match; narrow the span or filter", details: ["field": "from"])
            }
            return (found, try await ReportStore(pool: pool).counts(of: found, scope: principal.scope))
        }
        var rows: [PlanRow] = []
        for target in found {
            rows.append(
                PlanRow(
                    target: target,
                    actual: Self.actual(of: target, counted[target.id]),
                    elapsed: target.period.elapsedShare(today: try await localToday(in: target.region))
                )
            )
        }
        return PlanReport(from: from, to: to, grain: filter.grain, rows: rows)
    }

    /// Members ranked by attainment of their `metric` targets of `period` (highest first; ties
    /// share a rank; members without an actual last).
    public func leaderboard(period: ReportPeriod, metric: TargetMetric, by principal: Principal) async throws -> Leaderboard {
        try principal.authorize(.getLeaderboard)
        let filter = TargetStore.Filter(grain: period.grain, from: period.start, to: period.start, metric: metric)
        let (found, names, counted) = try await database.staleRead { pool in
            let targets = TargetStore(pool: pool)
            let found = try await targets.list(filter, scope: principal.scope, limit: Self.maximumRows).filter {
                $0.ownerKind == .member && $0.period == period
            }
            let names = try await targets.memberNames(found.compactMap(\.memberID))
            return (found, names, try await ReportStore(pool: pool).counts(of: found, scope: principal.scope))
        }
        var rows = found.map { PlanRow(target: $0, actual: Self.actual(of: $0, counted[$0.id]), elapsed: 1) }
        rows.sort { ($0.attainmentPercent ?? -1, -$0.target.id) > ($1.attainmentPercent ?? -1, -$1.target.id) }
        var entries: [Leaderboard.Entry] = []
        for (index, row) in rows.enumerated() {
            let rank = index > 0 && rows[index - 1].attainmentPercent == row.attainmentPercent ? entries[index - 1].rank : index + 1
            let member = row.target.memberID ?? 0
            entries.append(
                .init(
                    rank: rank,
                    memberID: member,
                    memberName: names[member] ?? "",
                    targetID: row.target.id,
                    target: row.target.value,
                    actual: row.actual,
                    attainmentPercent: row.attainmentPercent
                )
            )
        }
        return Leaderboard(period: period, metric: metric, entries: entries)
    }

    /// The KPI report of `period` for `region` (every region within reach by default).
    public func kpis(period: ReportPeriod, region: String?, currency: String?, by principal: Principal) async throws -> KPIReport {
        try principal.authorize(.getKPIReport)
        if let region, !principal.scope.reaches(region: region) { throw BatonError.notFound("no region '\(region)'") }
        if let currency { try RecordRules.check(currency: currency) }
        let owner = ReportStore.Owner(region: region)
        let scope = principal.scope
        let (now, before, lastYear, used, shares) = try await database.staleRead { pool in
            let reports = ReportStore(pool: pool)
            let (now, used) = try await reports.counts(owner, period: period, currency: currency, scope: scope)
            let (before, _) = try await reports.counts(owner, period: period.previous, currency: used, scope: scope)
            let (lastYear, _) = try await reports.counts(owner, period: period.yearAgo, currency: used, scope: scope)
            var shares: [Double?] = []
            for (counts, when) in [(now, period), (before, period.previous), (lastYear, period.yearAgo)] {
                shares.append(try await Self.marketShare(counts, region: region, period: when, currency: used, from: reports))
            }
            return (now, before, lastYear, used, shares)
        }
        func figure(_ name: String, _ value: (PeriodCounts) -> Double?) -> KPIReport.Figure {
            .init(name: name, value: value(now), previous: value(before), yearAgo: value(lastYear))
        }
        var figures = [
            figure("revenue_minor") { $0.revenueMinor.rounded() },
            figure("orders") { PlanRow.rounded($0.orders) },
            figure("average_order_value_minor") { $0.currencyOrders > 0 ? ($0.revenueMinor / $0.currencyOrders).rounded() : nil },
            figure("new_customers") { Double($0.newCustomers) },
            figure("win_rate_percent") { $0.won + $0.lost > 0 ? (Double($0.won) * 1000 / Double($0.won + $0.lost)).rounded() / 10 : nil },
            figure("csat_percent") { $0.csat },
        ]
        figures.append(.init(name: "market_share_percent", value: shares[0], previous: shares[1], yearAgo: shares[2]))
        figures.append(
            figure("campaign_cost_per_won_deal_minor") {
                $0.campaignWon > 0 ? (Double($0.campaignBudgetMinor) / Double($0.campaignWon)).rounded() : nil
            }
        )
        return KPIReport(period: period, previous: period.previous, yearAgo: period.yearAgo, region: region, currency: used, figures: figures)
    }

    /// Revenue / market size in percent (two decimals), or the share recorded directly; nil
    /// without a region, a recorded figure, or a size in the report's currency.
    private static func marketShare(
        _ counts: PeriodCounts,
        region: String?,
        period: ReportPeriod,
        currency: String?,
        from reports: ReportStore
    ) async throws -> Double? {
        guard let region, let market = try await reports.market(region: region, period: period) else { return nil }
        if let size = market.sizeMinor, market.currency == currency {
            return PlanRow.rounded(counts.revenueMinor * 100 / Double(size))
        }
        return market.sharePercent
    }

    /// Records the size (or share) of a region's market in a period.
    public func setMarket(_ market: MarketSize, by principal: Principal) async throws -> MarketSize {
        try principal.authorize(.setMarketSize)
        guard principal.scope.reaches(region: market.region) else { throw BatonError.notFound("no region '\(market.region)'") }
        try market.validate()
        return try await reports.setMarket(market, by: principal)
    }

    /// A region's report settings (the defaults for a region without its own).
    public func settings(region: String, by principal: Principal) async throws -> ReportSettings {
        try principal.authorize(.getReportSettings, region: region, notFound: "no region '\(region)'")
        guard let settings = try await reports.settings(region: region) else { throw BatonError.notFound("no region '\(region)'") }
        return settings
    }

    /// Replaces a region's report settings. The order summary keeps both moments, so reports
    /// count the new way at once, over every period.
    public func setSettings(_ settings: ReportSettings, by principal: Principal) async throws -> ReportSettings {
        try principal.authorize(.setReportSettings, region: settings.region, notFound: "no region '\(settings.region)'")
        if let currency = settings.currency { try RecordRules.check(currency: currency) }
        let store = reports
        let saved = try await database.pool.transaction { tx in try await store.setSettings(settings, by: principal, on: tx) }
        guard let saved else { throw BatonError.notFound("no region '\(settings.region)'") }
        wakeups.eventsWritten()
        return saved
    }

    /// A target's actual from its metric's counts (nil for CSAT without responses).
    static func actual(of target: Target, _ counts: ReportStore.TargetCounts?) -> Double? {
        let counts = counts ?? .init()
        return switch target.metric {
        case .revenue: counts.revenueMinor
        case .orders: counts.orders
        case .newCustomers: Double(counts.newCustomers)
        case .opportunitiesWon: Double(counts.won)
        case .csat: CSATPeriod(start: "", end: "", responses: counts.responses, satisfied: counts.satisfied).csat
        }
    }
}

extension LocalDate {
    /// Today in UTC.
    public static var today: LocalDate {
        LocalDate(Date(), in: .gmt)
    }

    /// The day `instant` falls on in `zone`.
    public init(_ instant: Date, in zone: TimeZone) {
        let local = instant.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: instant))
        self.init(daysSinceEpoch: Int64((local / 86_400).rounded(.down)))
    }
}
