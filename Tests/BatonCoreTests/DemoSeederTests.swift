import BatonCore
import BatonTestSupport
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct DemoSeederTests {
    @Test func theDemoHasRegionsTeamsMembersAndTasksInEveryKindOfState() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 4) { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            #expect(try await DemoSeeder(services: BatonServices(database: database)).seedIfEmpty())
            #expect(try await DemoSeeder(services: BatonServices(database: database)).seedIfEmpty() == false, "a seeded database is left alone")
            let row = try #require(
                try await pool.query(
                    """
                    SELECT (SELECT count(*) FROM regions) AS regions, (SELECT count(*) FROM teams) AS teams,
                           (SELECT count(*) FROM members) AS members, (SELECT count(*) FROM tasks) AS tasks,
                           (SELECT count(DISTINCT state) FROM tasks) AS states,
                           (SELECT count(*) FROM tasks WHERE state = 'dead') AS dead,
                           (SELECT count(*) FROM tasks WHERE handed_off_from IS NOT NULL) AS handoffs
                    """
                ).first
            )
            #expect(try row.decode(Int.self, "regions") == 2)
            #expect(try row.decode(Int.self, "teams") == 10)
            #expect(try row.decode(Int.self, "members") == 6)
            #expect(try row.decode(Int.self, "tasks") >= 240)
            #expect(try row.decode(Int.self, "states") >= 5)
            #expect(try row.decode(Int.self, "dead") > 0)
            #expect(try row.decode(Int.self, "handoffs") == 6)

            // SLAs a newcomer sees at once: calendars, policies, and clocks already past their
            // due time or their at-risk point (the monitor reports them on its first sweep).
            let sla = try #require(
                try await pool.query(
                    """
                    SELECT (SELECT count(*) FROM region_calendars) AS calendars,
                           (SELECT count(*) FROM region_holidays) AS holidays,
                           (SELECT count(*) FROM sla_policies WHERE active) AS policies,
                           (SELECT count(*) FROM sla_policies WHERE kind = 'ola') AS olas,
                           (SELECT count(*) FROM sla_clocks WHERE stopped_at IS NULL AND due_at < now()) AS overdue,
                           (SELECT count(*) FROM sla_clocks
                            WHERE stopped_at IS NULL AND at_risk_at < now() AND due_at > now()) AS at_risk
                    """
                ).first
            )
            #expect(try sla.decode(Int.self, "calendars") == 2)
            #expect(try sla.decode(Int.self, "holidays") > 0)
            #expect(try sla.decode(Int.self, "policies") == 4)
            #expect(try sla.decode(Int.self, "olas") == 1)
            #expect(try sla.decode(Int.self, "overdue") > 0)
            #expect(try sla.decode(Int.self, "at_risk") > 0)
            // The customer file: names in several scripts, contacts, interactions, campaigns whose
            // leads landed in sales, and deals in every stage, won and lost.
            let records = try #require(
                try await pool.query(
                    """
                    SELECT (SELECT count(*) FROM customers) AS customers,
                           (SELECT count(*) FROM customers WHERE name ~ '[一-龥ぁ-ヿ가-힣]') AS cjk,
                           (SELECT count(*) FROM contacts) AS contacts, (SELECT count(*) FROM interactions) AS interactions,
                           (SELECT count(*) FROM campaigns) AS campaigns,
                           (SELECT count(*) FROM tasks WHERE kind = 'campaign_lead') AS leads,
                           (SELECT count(*) FROM tasks WHERE kind = 'customer_follow_up') AS follow_ups,
                           (SELECT count(DISTINCT stage) FROM opportunities WHERE outcome = 'open') AS open_stages,
                           (SELECT count(*) FROM opportunities WHERE outcome = 'won') AS won,
                           (SELECT count(*) FROM opportunities WHERE outcome = 'lost') AS lost,
                           (SELECT count(DISTINCT state) FROM cases) AS case_states,
                           (SELECT count(*) FROM feedback) AS feedback,
                           (SELECT count(*) FROM stock) AS stock,
                           (SELECT count(*) FROM stock WHERE below_reorder) AS below,
                           (SELECT count(*) FROM tasks WHERE kind = 'restock' AND subject_type = 'stock') AS restock,
                           (SELECT string_agg(DISTINCT state, ',') FROM orders) AS order_states,
                           (SELECT count(DISTINCT date_trunc('month', confirmed_at)) FROM orders) AS order_months,
                           (SELECT count(*) FROM stock WHERE reserved > 0) AS reserving,
                           (SELECT count(*) FROM meetings) AS meetings,
                           (SELECT count(*) FROM meetings WHERE cancelled_at IS NOT NULL) AS cancelled_meetings,
                           (SELECT count(*) FROM meetings WHERE outcome IS NOT NULL) AS meeting_outcomes,
                           (SELECT count(*) FROM meeting_attendees WHERE contact_id IS NOT NULL) AS meeting_contacts,
                           (SELECT count(*) FROM training_programmes) AS programmes,
                           (SELECT string_agg(DISTINCT status, ',') FROM training_attendance) AS attendance,
                           (SELECT count(*) FROM training_sessions WHERE starts_at > now()) AS upcoming_sessions,
                           (SELECT count(*) FROM training_programmes WHERE cardinality(competencies) > 0) AS building,
                           (SELECT count(*) FROM member_competencies) AS levels
                    """
                ).first
            )
            #expect(try records.decode(Int.self, "customers") == 12)
            #expect(try records.decode(Int.self, "cjk") == 5)
            #expect(try records.decode(Int.self, "contacts") == 12)
            #expect(try records.decode(Int.self, "interactions") > 12)
            #expect(try records.decode(Int.self, "campaigns") == 2)
            #expect(try records.decode(Int.self, "leads") == 3)
            #expect(try records.decode(Int.self, "follow_ups") > 0)
            #expect(try records.decode(Int.self, "open_stages") == 4)
            #expect(try records.decode(Int.self, "won") > 0)
            #expect(try records.decode(Int.self, "lost") > 0)
            #expect(try records.decode(Int.self, "case_states") == 6, "new, open, both pending, resolved and closed")
            #expect(try records.decode(Int.self, "feedback") > 0)
            #expect(try records.decode(Int.self, "stock") == 12)
            #expect(try records.decode(Int.self, "below") > 0)
            #expect(try records.decode(Int.self, "restock") == (try records.decode(Int.self, "below")), "one task per crossing")
            let orderStates = try records.decode(String.self, "order_states")
            #expect(orderStates == "cancelled,confirmed,delivered,draft,on_hold,shipped", "\(orderStates)")
            #expect(try records.decode(Int.self, "order_months") >= 24, "two years of orders for year-over-year reports")
            #expect(try records.decode(Int.self, "reserving") > 0, "this month's confirmed orders hold stock")
            // Meetings: two internal, a review with each of two active customers per region, one
            // past with its outcome, one cancelled.
            #expect(try records.decode(Int.self, "meetings") == 3 + 4 + 2)
            #expect(try records.decode(Int.self, "cancelled_meetings") == 1)
            #expect(try records.decode(Int.self, "meeting_outcomes") == 1)
            #expect(try records.decode(Int.self, "meeting_contacts") == 4)
            // Training: three programmes, past sessions marked in every way, sessions ahead.
            #expect(try records.decode(Int.self, "programmes") == 3)
            #expect(try records.decode(String.self, "attendance") == "absent,attended,excused,invited")
            #expect(try records.decode(Int.self, "upcoming_sessions") > 0)
            #expect(try records.decode(Int.self, "building") == 3)
            #expect(try records.decode(Int.self, "levels") == 4)

            // The targets of the latest month with orders show every status; the KPI report has a year-ago base and a market share.
            let reports = BatonServices(database: database).reports
            let system = Principal.system(source: "system")
            let thisMonth = ReportPeriod(grain: .month, containing: .today)
            let plan = try await reports.plan(
                .init(grain: .month, from: thisMonth.previous.previous.previous.start, to: thisMonth.previous.last),
                by: system
            )
            #expect(Set(plan.rows.compactMap(\.status)) == Set(PlanStatus.allCases))
            let lastMonth = try #require(plan.rows.first?.target.period)
            let kpis = try await reports.kpis(period: lastMonth, region: "emea", currency: nil, by: system)
            let revenue = try #require(kpis.figures.first { $0.name == "revenue_minor" })
            #expect((revenue.yearAgo ?? 0) > 0)
            #expect(revenue.yoyPercent != nil)
            #expect(kpis.figures.first { $0.name == "market_share_percent" }?.yoyPercent != nil)

            // This week has a revenue target per region, so the desk's week chart has bars.
            let thisWeek = ReportPeriod(grain: .week, containing: .today)
            let week = try await reports.plan(.init(grain: .week, from: thisWeek.start, to: thisWeek.last), by: system)
            #expect(Set(week.rows.map(\.target.region)) == ["emea", "apac"])
            #expect(week.rows.allSatisfy { $0.target.metric == .revenue && ($0.target.value) > 0 })

            let sweep = try await SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger).sweep()
            #expect(sweep.breached > 0)
            #expect(sweep.atRisk > 0)
            #expect(sweep.escalations > 0)
        }
    }
}
