import Foundation
import PostgresClient

extension DemoSeeder {
    /// Targets for the latest month with orders, this month and this week, set from the actuals so
    /// that every status shows (that month's EMEA revenue ahead, APAC's on track, EMEA's order
    /// count behind; this month's paced to the days gone, this week's a week's share of it), Ada's
    /// revenue target for the leaderboard, and market sizes for
    /// the last sixteen months so market share has a year-over-year figure.
    func seedPlans(by system: Principal) async throws {
        let reports = services.reports
        let today = LocalDate.today
        let current = ReportPeriod(grain: .month, containing: today)
        // The latest month before this one with orders (the demo's history is dated back
        // about a month and a half).
        var previous = current.previous
        for _ in 0..<3 {
            let (counts, _) = try await reports.reports.counts(.init(region: "emea"), period: previous, currency: nil, scope: .everything)
            if counts.revenueMinor > 0 { break }
            previous = previous.previous
        }
        let elapsed = current.elapsedShare(today: today)
        for region in ["emea", "apac"] {
            let (last, currency) = try await reports.reports.counts(.init(region: region), period: previous, currency: nil, scope: .everything)
            let (now, _) = try await reports.reports.counts(.init(region: region), period: current, currency: currency, scope: .everything)
            let money = currency ?? "EUR"
            // Attainment 125 % (ahead) in EMEA, 100 % (on track) in APAC.
            let lastRevenue = max(last.revenueMinor, 1) / (region == "emea" ? 1.25 : 1)
            // Twice the orders there were: behind.
            let lastOrders = max(last.orders, 1) * 2
            // This month's pace: expected = target × elapsed share.
            let paced = max(now.revenueMinor, 1) / max(elapsed, 0.05) / (region == "emea" ? 0.8 : 1.2)
            // This week's share of this month's target (seven of its days), for the desk's week chart.
            let week = ReportPeriod(grain: .week, containing: today)
            let weekly = paced * 7 / Double(current.end.daysSinceEpoch - current.start.daysSinceEpoch)
            for (metric, period, value) in [
                (TargetMetric.revenue, previous, lastRevenue.rounded()), (.orders, previous, lastOrders.rounded()),
                (.revenue, current, paced.rounded()), (.revenue, week, max(weekly, 1).rounded()),
            ] {
                _ = try await reports.createTarget(
                    NewTarget(
                        ownerKind: .region,
                        region: region,
                        metric: metric,
                        period: period,
                        value: value,
                        currency: metric == .revenue ? money : nil,
                        notes: "Agreed with the regional team"
                    ),
                    by: system
                )
            }
            var month = current
            for _ in 0..<16 {
                let (counts, _) = try await reports.reports.counts(.init(region: region), period: month, currency: money, scope: .everything)
                // A market about eight times the region's revenue, rounded to thousands.
                let size = Int((max(counts.revenueMinor, 100_000) * 8 / 100_000).rounded()) * 100_000
                _ = try await reports.setMarket(
                    MarketSize(
                        region: region,
                        period: month,
                        sizeMinor: size,
                        currency: money,
                        sharePercent: nil,
                        source: "Industry association panel"
                    ),
                    by: system
                )
                month = month.previous
            }
        }
        if let ada = try await services.database.pool.query("SELECT id FROM members WHERE email = 'ada@example.com'").first {
            let target = try await reports.createTarget(
                NewTarget(
                    ownerKind: .member,
                    memberID: try ada.decode(Int.self, "id"),
                    region: "emea",
                    metric: .opportunitiesWon,
                    period: previous,
                    value: 2,
                    notes: "Two wins a month"
                ),
                by: system
            )
            _ = try await reports.updateTarget(
                id: target.id,
                version: target.version,
                TargetChanges(
                    varianceNote: "Deals slipped to the next quarter",
                    nextAction: "Review the pipeline with each account manager",
                    nextActionOwnerID: try ada.decode(Int.self, "id"),
                    nextActionDue: LocalDate(daysSinceEpoch: today.daysSinceEpoch + 7)
                ),
                by: system
            )
        }
    }
}
