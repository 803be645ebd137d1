import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@testable import BatonCore

/// Targets and reports through the API, against figures computed by hand: orders dated back
/// with SQL, split credit, Berlin and Kolkata time zones, ISO weeks across a year boundary,
/// growth from zero bases and CSV quoting.
@Suite(.requiresDatabase) struct ReportEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!
    static let accept = HTTPField.Name("Accept")!

    struct Seeded {
        var ada: Int
        var ben: Int
        var customer: Int
    }

    /// Regions and teams; Ada and Ben ("Doe, Ben") in sales-emea; a customer in EMEA.
    static func seed(_ api: API) async throws -> Seeded {
        try await api.seedReferenceData()
        var members: [Int] = []
        for (name, email) in [("Ada", "ada@example.com"), (#"Doe, \"Ben\""#, "ben@example.com")] {
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"\#(name)","email":"\#(email)"}"#)
            try api.expect(.created, member)
            let id = try #require(try member.json(AnyJSON.self)["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/members/\(id)/memberships", json: #"{"team":"sales-emea","role":"agent"}"#))
            members.append(id)
        }
        let customer = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Acme Pumps","force":true}"#)
        try api.expect(.created, customer)
        return Seeded(ada: members[0], ben: members[1], customer: try #require(try customer.json(AnyJSON.self)["customer"]?["id"]?.int))
    }

    /// An order dated back: confirmed at `confirmed` (UTC), in `state`, credited as given.
    static func order(
        _ database: BatonDatabase,
        customer: Int,
        region: String = "emea",
        total: Int,
        currency: String = "EUR",
        confirmed: String,
        state: String = "confirmed",
        credits: [(Int, Int)] = []
    ) async throws {
        let row = try await database.pool.query(
            """
            INSERT INTO orders (customer_id, region, state, currency, subtotal_minor, total_minor, confirmed_at)
            VALUES (\(customer), \(region), \(state), \(currency), \(total), \(total), \(confirmed)::timestamptz)
            RETURNING id
            """
        ).first
        let id = try #require(try row?.decode(Int.self, "id"))
        for (member, percent) in credits {
            try await database.pool.query("INSERT INTO order_credits (order_id, member_id, percent) VALUES (\(id), \(member), \(percent))")
        }
    }

    static func target(_ api: API, _ json: String) async throws -> Int {
        let response = try await api.call(.post, "/v1/targets", json: json)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["id"]?.int)
    }

    /// March 2025 in Berlin: o1 1000.00 split 60/40 between Ada and Ben, o2 500.00 Ada's, o3
    /// 700.00 cancelled, o4 300.00 in USD Ben's, o5 200.00 on 31 March 22:30 UTC (1 April in
    /// Berlin), o6 100.00 on 28 February 23:30 UTC (1 March in Berlin).
    static func march(_ database: BatonDatabase, _ seeded: Seeded) async throws {
        let customer = seeded.customer
        try await order(
            database,
            customer: customer,
            total: 100_000,
            confirmed: "2025-03-10 12:00Z",
            state: "delivered",
            credits: [(seeded.ada, 60), (seeded.ben, 40)]
        )
        try await order(database, customer: customer, total: 50_000, confirmed: "2025-03-20 09:00Z", credits: [(seeded.ada, 100)])
        try await order(database, customer: customer, total: 70_000, confirmed: "2025-03-15 09:00Z", state: "cancelled", credits: [(seeded.ada, 100)])
        try await order(database, customer: customer, total: 30_000, currency: "USD", confirmed: "2025-03-05 09:00Z", credits: [(seeded.ben, 100)])
        try await order(database, customer: customer, total: 20_000, confirmed: "2025-03-31 22:30Z")
        try await order(database, customer: customer, total: 10_000, confirmed: "2025-02-28 23:30Z")
    }

    @Test func thePlanReportComputesVarianceAttainmentAndStatusPerGrainWithSplitCreditCountedOnce() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api)
            try await Self.march(database, seeded)
            let region = try await Self.target(
                api,
                #"{"owner_kind":"region","region":"emea","metric":"revenue","period":"2025-03","value":200000,"currency":"EUR"}"#
            )
            let ada = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ada),"region":"emea","metric":"revenue","period":"2025-03","value":100000,"currency":"EUR"}"#
            )
            let ben = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ben),"region":"emea","metric":"orders","period":"2025-03","value":1.4}"#
            )
            let team = try await Self.target(
                api,
                #"{"owner_kind":"team","team":"sales-emea","metric":"revenue","period":"2025-Q1","value":150000,"currency":"EUR"}"#
            )
            let company = try await Self.target(api, #"{"owner_kind":"company","metric":"orders","period":"2025","value":10}"#)

            let report = try await api.call(.get, "/v1/reports/plan?from=2025-01-01&to=2025-12-31")
            try api.expect(.ok, report)
            let rows = try #require(try report.json(AnyJSON.self)["rows"]?.array)
            func row(_ id: Int) -> AnyJSON? { rows.first { $0["target"]?["id"]?.int == id } }

            // EMEA's March in EUR: o1 + o2 + o6 (1 March in Berlin) = 160000; o3 is cancelled,
            // o4 is in USD, o5 falls on 1 April in Berlin.
            #expect(row(region)?["actual"]?.double == 160_000)
            #expect(row(region)?["variance"]?.double == -40_000)
            #expect(row(region)?["variance_percent"]?.double == -20)
            #expect(row(region)?["attainment_percent"]?.double == 80)
            #expect(row(region)?["elapsed"]?.double == 1)
            #expect(row(region)?["status"]?.string == "behind")
            // Ada: 60 % of o1 and all of o2.
            #expect(row(ada)?["actual"]?.double == 110_000)
            #expect(row(ada)?["attainment_percent"]?.double == 110)
            #expect(row(ada)?["status"]?.string == "ahead")
            // Ben: 40 % of o1 and o4 (an order in any currency).
            #expect(row(ben)?["actual"]?.double == 1.4)
            #expect(row(ben)?["status"]?.string == "on_track")
            // The team: o1 once (60 + 40 %), and o2.
            #expect(row(team)?["actual"]?.double == 150_000)
            #expect(row(team)?["target"]?["period_start"]?.string == "2025-01-01")
            #expect(row(team)?["target"]?["period_end"]?.string == "2025-03-31")
            #expect(row(team)?["target"]?["region"]?.string == "emea")
            // The company's 2025: o1, o2, o4, o5, o6.
            #expect(row(company)?["actual"]?.double == 5)
            #expect(row(company)?["attainment_percent"]?.double == 50)

            // Narrowed to a member.
            let mine = try await api.call(.get, "/v1/reports/plan?from=2025-03-01&to=2025-03-31&member=\(seeded.ada)")
            #expect(try mine.json(AnyJSON.self)["rows"]?.array.count == 1)

            // The variance analysis and next action, under If-Match.
            let stale = try await api.call(.patch, "/v1/targets/\(region)", json: #"{"variance_note":"x"}"#, headers: [Self.ifMatch: #""5""#])
            #expect(stale.status == .preconditionFailed)
            let patched = try await api.call(
                .patch,
                "/v1/targets/\(region)",
                json:
                    #"{"variance_note":"Two deals slipped","next_action":"Call Acme","next_action_owner_id":\#(seeded.ada),"next_action_due":"2025-04-04"}"#,
                headers: [Self.ifMatch: #""1""#]
            )
            try api.expect(.ok, patched)
            #expect(patched.headers[.eTag] == #""2""#)
            let again = try await api.call(.get, "/v1/reports/plan?from=2025-03-01&to=2025-03-01&region=emea&grain=month")
            let analysed = try #require(try again.json(AnyJSON.self)["rows"]?.array.first { $0["target"]?["id"]?.int == region })
            #expect(analysed["target"]?["variance_note"]?.string == "Two deals slipped")
            #expect(analysed["target"]?["next_action_owner_id"]?.int == seeded.ada)
            #expect(analysed["target"]?["next_action_due"]?.string == "2025-04-04")

            // The same owner, metric and period twice is 409; a revenue target names its currency.
            #expect(
                try await api.call(
                    .post,
                    "/v1/targets",
                    json: #"{"owner_kind":"region","region":"emea","metric":"revenue","period":"2025-03","value":1,"currency":"EUR"}"#
                )
                .status == .conflict
            )
            #expect(
                try await api.call(
                    .post,
                    "/v1/targets",
                    json: #"{"owner_kind":"region","region":"emea","metric":"revenue","period":"2025-04","value":1}"#
                ).status == .unprocessableContent
            )
        }
    }

    @Test func isoWeeksCrossTheYearBoundaryInTheRegionsTimeZone() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api)
            // 2026-W01 runs from Monday 29 December 2025 to Sunday 4 January 2026.
            try await Self.order(database, customer: seeded.customer, total: 5_000, confirmed: "2025-12-29 10:00Z", credits: [(seeded.ada, 100)])
            // Sunday 28 December, 23:00 in Berlin: week 52 of 2025.
            try await Self.order(database, customer: seeded.customer, total: 7_000, confirmed: "2025-12-28 22:00Z", credits: [(seeded.ada, 100)])
            // Sunday 4 January 2026, 23:30 in Berlin: still week 1.
            try await Self.order(database, customer: seeded.customer, total: 1_000, confirmed: "2026-01-04 22:30Z", credits: [(seeded.ada, 100)])
            let week = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ada),"region":"emea","metric":"revenue","period":"2026-W01","value":4000,"currency":"EUR"}"#
            )
            let created = try await api.call(.get, "/v1/targets/\(week)")
            #expect(try created.json(AnyJSON.self)["period_start"]?.string == "2025-12-29")
            #expect(try created.json(AnyJSON.self)["period_end"]?.string == "2026-01-04")
            let report = try await api.call(.get, "/v1/reports/plan?from=2025-12-31&to=2025-12-31&grain=week")
            let row = try #require(try report.json(AnyJSON.self)["rows"]?.array.first)
            #expect(row["actual"]?.double == 6_000)
            #expect(row["attainment_percent"]?.double == 150)
            #expect(row["status"]?.string == "ahead")
            // 2025 has 52 ISO weeks, 2026 has 53.
            let missing = #"{"owner_kind":"region","region":"emea","metric":"orders","period":"2025-W53","value":1}"#
            #expect(try await api.call(.post, "/v1/targets", json: missing).status == .unprocessableContent)
            let long = #"{"owner_kind":"region","region":"emea","metric":"orders","period":"2026-W53","value":1}"#
            let last = try await api.call(.post, "/v1/targets", json: long)
            try api.expect(.created, last)
            #expect(try last.json(AnyJSON.self)["period_start"]?.string == "2026-12-28")
        }
    }

    @Test func theKPIReportGivesGrowthAndNullFromAZeroBase() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api)
            // APAC (Kolkata, UTC+5:30). November 2025: 100.00 and 300.00; October: 200.00; the
            // order of 31 October 19:00 UTC is 1 November in Kolkata.
            let apac = try await api.call(.post, "/v1/customers", json: #"{"region":"apac","name":"Bharat Valves","force":true}"#)
            let customer = try #require(try apac.json(AnyJSON.self)["customer"]?["id"]?.int)
            try await Self.order(database, customer: customer, region: "apac", total: 10_000, confirmed: "2025-10-31 19:00Z")
            try await Self.order(database, customer: customer, region: "apac", total: 30_000, confirmed: "2025-11-20 09:00Z")
            try await Self.order(database, customer: customer, region: "apac", total: 20_000, confirmed: "2025-10-10 09:00Z")
            for score in [5, 4, 2] {
                try await database.pool.query(
                    "INSERT INTO feedback (customer_id, region, score, created_at) VALUES (\(customer), 'apac', \(score), '2025-11-12 10:00Z')"
                )
            }
            try api.expect(
                .ok,
                await api.call(
                    .put,
                    "/v1/market/apac/2025-11",
                    json: #"{"size_minor":400000,"currency":"EUR","source":"Industry panel, Q4 \"estimate\""}"#
                )
            )
            // A year before 1000 is stored under the label it was given.
            let early = try await api.call(.put, "/v1/market/apac/0914-04", json: #"{"share_percent":88.6,"source":"Chronicle"}"#)
            try api.expect(.ok, early)
            #expect(try early.json(AnyJSON.self)["period"]?.string == "0914-04")
            _ = seeded

            let response = try await api.call(.get, "/v1/reports/kpis?period=2025-11&grain=month&region=apac")
            try api.expect(.ok, response)
            let report = try response.json(AnyJSON.self)
            #expect(report["previous"]?.string == "2025-10")
            #expect(report["year_ago"]?.string == "2024-11")
            #expect(report["currency"]?.string == "EUR")
            let figures = try #require(report["figures"]?.array)
            func figure(_ name: String) -> AnyJSON? { figures.first { $0["name"]?.string == name } }
            #expect(figure("revenue_minor")?["value"]?.double == 40_000)
            #expect(figure("revenue_minor")?["previous"]?.double == 20_000)
            #expect(figure("revenue_minor")?["growth_percent"]?.double == 100)
            #expect(figure("revenue_minor")?["year_ago"]?.double == 0)
            #expect(figure("revenue_minor")?["yoy_percent"] == nil)
            #expect(figure("revenue_minor")?["yoy_note"]?.string == "the base period is zero")
            #expect(figure("orders")?["value"]?.double == 2)
            #expect(figure("orders")?["growth_percent"]?.double == 100)
            #expect(figure("average_order_value_minor")?["value"]?.double == 20_000)
            #expect(figure("average_order_value_minor")?["growth_percent"]?.double == 0)
            #expect(figure("average_order_value_minor")?["yoy_note"]?.string == "no value in the base period")
            #expect(figure("win_rate_percent")?["value"] == nil)
            #expect(figure("win_rate_percent")?["growth_note"]?.string == "no value in this period")
            // 2 of 3 responses are 4 or 5.
            #expect(figure("csat_percent")?["value"]?.double == 66.7)
            #expect(figure("market_share_percent")?["value"]?.double == 10)
            #expect(figure("new_customers")?["growth_note"]?.string == "the base period is zero")

            // A period the calendar does not have; a grain that is not the period's.
            #expect(try await api.call(.get, "/v1/reports/kpis?period=2025-13").status == .unprocessableContent)
            #expect(try await api.call(.get, "/v1/reports/kpis?period=2025-11&grain=week").status == .unprocessableContent)
            #expect(try await api.call(.get, "/v1/reports/kpis?period=November").status == .badRequest)

            // CSV, by query or by Accept.
            let csv = try await api.call(.get, "/v1/reports/kpis?period=2025-11&region=apac", headers: [Self.accept: "text/csv"])
            try api.expect(.ok, csv)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.components(separatedBy: "\r\n")
            #expect(lines[0].hasPrefix("kpi,period,value,previous_period,previous,growth_percent,growth_note,"))
            #expect(lines[1] == "revenue_minor,2025-11,40000,2025-10,20000,100,,2024-11,0,,the base period is zero,apac,EUR")
        }
    }

    @Test func theLeaderboardRanksMembersByAttainmentAndItsCSVQuotes() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api)
            try await Self.march(database, seeded)
            _ = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ada),"region":"emea","metric":"revenue","period":"2025-03","value":100000,"currency":"EUR"}"#
            )
            let ben = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ben),"region":"emea","metric":"revenue","period":"2025-03","value":80000,"currency":"EUR"}"#
            )
            let board = try await api.call(.get, "/v1/reports/leaderboard?period=2025-03")
            try api.expect(.ok, board)
            let entries = try #require(try board.json(AnyJSON.self)["entries"]?.array)
            #expect(entries.map { $0["member_id"]?.int } == [seeded.ada, seeded.ben])
            #expect(entries.map { $0["rank"]?.int } == [1, 2])
            // Ben: 40 % of o1 = 40000 of 80000.
            #expect(entries[1]["attainment_percent"]?.double == 50)

            let csv = try await api.call(.get, "/v1/reports/leaderboard?period=2025-03&format=csv")
            try api.expect(.ok, csv)
            #expect(csv.text.hasPrefix("rank,member_id,member_name,period,metric,target,actual,attainment_percent\r\n"))
            #expect(csv.text.contains("2,\(seeded.ben),\"Doe, \"\"Ben\"\"\",2025-03,revenue,80000,40000,50\r\n"))

            // A note with a comma, quotes and a line break survives the plan's CSV.
            try api.expect(
                .ok,
                await api.call(
                    .patch,
                    "/v1/targets/\(ben)",
                    json: #"{"variance_note":"Slow, \"quiet\" month\nrecovering"}"#,
                    headers: [Self.ifMatch: #""1""#]
                )
            )
            let plan = try await api.call(.get, "/v1/reports/plan?from=2025-03-01&to=2025-03-31&member=\(seeded.ben)&format=csv")
            try api.expect(.ok, plan)
            #expect(plan.text.contains(",\"Slow, \"\"quiet\"\" month\nrecovering\","))
        }
    }

    @Test func statusFollowsTheElapsedShareOfThePeriod() throws {
        let december = try #require(ReportPeriod(parsing: "2026-12"))
        #expect(december.elapsedShare(today: try #require(LocalDate(year: 2026, month: 12, day: 16))) == 15.5 / 31)
        let target = Target(
            id: 1,
            ownerKind: .region,
            region: "emea",
            metric: .orders,
            period: december,
            value: 62,
            version: 1,
            createdAt: Date(),
            updatedAt: Date()
        )
        // Half the month gone: 31 orders expected.
        #expect(PlanRow(target: target, actual: 31, elapsed: 0.5).status == .onTrack)
        #expect(PlanRow(target: target, actual: 34.1, elapsed: 0.5).status == .ahead)
        #expect(PlanRow(target: target, actual: 29, elapsed: 0.5).status == .behind)
        #expect(PlanRow(target: target, actual: 0, elapsed: 0).status == .onTrack)
        #expect(ReportPeriod(parsing: "2027-W01")?.start == LocalDate(year: 2027, month: 1, day: 4))
        #expect(ReportPeriod(parsing: "2026-W53")?.previous.description == "2026-W52")
        #expect(ReportPeriod(parsing: "2026-Q1")?.yearAgo.description == "2025-Q1")
        #expect(ReportPeriod(parsing: "2026-01")?.previous.description == "2025-12")
        // Early years keep their four digits, so a label reads back as itself.
        for label in ["0914-04", "0914", "0914-Q2", "0915-W03"] {
            #expect(ReportPeriod(parsing: label)?.description == label)
        }
    }
}
