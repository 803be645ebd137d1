import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// The daily order summary reports read (`report_order_days`) against figures computed by
/// hand, through the API's own order moves: confirmation, a credit edit, shipment and
/// delivery, cancellation and a switch of the region's report settings. After every step the
/// summary also equals a rebuild from scratch (`report_order_days_drift()` is empty).
@Suite(.requiresDatabase) struct ReportSummaryTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    struct Seeded {
        var ada: Int
        var ben: Int
        var customer: Int
    }

    /// EMEA (Berlin) with Ada and Ben in sales-emea, a pump (category "pumps", 1299.00) and a
    /// valve ("valves", 24.50) in stock, and a customer.
    static func seed(_ api: API) async throws -> Seeded {
        try await api.seedReferenceData()
        var members: [Int] = []
        for (name, email) in [("Ada", "ada@example.com"), ("Ben", "ben@example.com")] {
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"\#(name)","email":"\#(email)"}"#)
            try api.expect(.created, member)
            let id = try #require(try member.json(AnyJSON.self)["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/members/\(id)/memberships", json: #"{"team":"sales-emea","role":"agent"}"#))
            members.append(id)
        }
        for (sku, category, price) in [("PUMP-200", "pumps", 129_900), ("VALVE-7", "valves", 2_450)] {
            try api.expect(
                .created,
                await api.call(
                    .post,
                    "/v1/products",
                    json: #"{"sku":"\#(sku)","name":"\#(sku)","category":"\#(category)","unit_price_minor":\#(price),"currency":"EUR"}"#
                )
            )
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/\(sku)/receive", json: #"{"quantity":100}"#))
        }
        let customer = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Acme Pumps","force":true}"#)
        try api.expect(.created, customer)
        return Seeded(ada: members[0], ben: members[1], customer: try #require(try customer.json(AnyJSON.self)["customer"]?["id"]?.int))
    }

    static func order(_ api: API, customer: Int, lines: String, credits: String) async throws -> Int {
        let response = try await api.call(.post, "/v1/orders", json: #"{"customer_id":\#(customer),"lines":\#(lines),"credits":\#(credits)}"#)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["id"]?.int)
    }

    static func move(_ api: API, _ id: Int, _ action: String, json: String? = nil) async throws {
        try api.expect(.ok, await api.call(.post, "/v1/orders/\(id)/\(action)", json: json))
    }

    static func target(_ api: API, _ json: String) async throws -> Int {
        let response = try await api.call(.post, "/v1/targets", json: json)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["id"]?.int)
    }

    /// This month in Berlin, where the orders are confirmed and delivered now.
    static var thisMonth: ReportPeriod {
        ReportPeriod(grain: .month, containing: LocalDate(Date(), in: TimeZone(identifier: "Europe/Berlin")!))
    }

    /// The summary has no row that differs from a rebuild from scratch.
    static func expectNoDrift(_ database: BatonDatabase, _ step: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let drift = try await database.pool.query("SELECT count(*)::int AS n FROM report_order_days_drift()").first?.decode(Int.self, "n")
        #expect(drift == 0, "the summary drifted after \(step)", sourceLocation: sourceLocation)
    }

    @Test func reportsFollowOrdersThroughConfirmationCreditEditsDeliveryCancellationAndASettingsSwitch() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api)
            let month = Self.thisMonth
            let euro = #""currency":"EUR""#
            let region = try await Self.target(
                api,
                #"{"owner_kind":"region","region":"emea","metric":"revenue","period":"\#(month)","value":100000,\#(euro)}"#
            )
            let regionOrders = try await Self.target(
                api,
                #"{"owner_kind":"region","region":"emea","metric":"orders","period":"\#(month)","value":10}"#
            )
            let team = try await Self.target(
                api,
                #"{"owner_kind":"team","team":"sales-emea","metric":"revenue","period":"\#(month)","value":100000,\#(euro)}"#
            )
            let ada = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ada),"region":"emea","metric":"revenue","period":"\#(month)","value":100000,\#(euro)}"#
            )
            let ben = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ben),"region":"emea","metric":"orders","period":"\#(month)","value":1}"#
            )
            let adaPumps = try await Self.target(
                api,
                #"{"owner_kind":"member","member_id":\#(seeded.ada),"region":"emea","metric":"revenue","period":"\#(month)","value":100000,\#(euro),"product_category":"pumps"}"#
            )

            func actuals() async throws -> [Int: Double] {
                let report = try await api.call(.get, "/v1/reports/plan?from=\(month.start)&to=\(month.last)&grain=month")
                try api.expect(.ok, report)
                var actuals: [Int: Double] = [:]
                for row in try #require(try report.json(AnyJSON.self)["rows"]?.array) {
                    actuals[try #require(row["target"]?["id"]?.int)] = row["actual"]?.double
                }
                return actuals
            }
            func kpi(_ name: String) async throws -> Double? {
                let report = try await api.call(.get, "/v1/reports/kpis?period=\(month)&region=emea")
                try api.expect(.ok, report)
                return try report.json(AnyJSON.self)["figures"]?.array.first { $0["name"]?.string == name }?["value"]?.double
            }

            // A: 2 pumps (2598.00) and 10 valves (245.00), 60/40 between Ada and Ben. B: 1 pump, Ada's.
            let a = try await Self.order(
                api,
                customer: seeded.customer,
                lines: #"[{"sku":"PUMP-200","quantity":2},{"sku":"VALVE-7","quantity":10}]"#,
                credits: #"[{"member_id":\#(seeded.ada),"percent":60},{"member_id":\#(seeded.ben),"percent":40}]"#
            )
            let b = try await Self.order(
                api,
                customer: seeded.customer,
                lines: #"[{"sku":"PUMP-200","quantity":1}]"#,
                credits: #"[{"member_id":\#(seeded.ada),"percent":100}]"#
            )
            // Drafts count nowhere.
            #expect(try await actuals()[region] == 0)
            try await Self.expectNoDrift(database, "drafts")

            try await Self.move(api, a, "confirm")
            try await Self.move(api, b, "confirm")
            var now = try await actuals()
            #expect(now[region] == 414_200)
            #expect(now[regionOrders] == 2)
            #expect(now[team] == 414_200)
            // Ada: 60 % of A (170580) and all of B; of pumps, 60 % of A's 259800 (155880) and B's 129900.
            #expect(now[ada] == 300_480)
            #expect(now[adaPumps] == 285_780)
            #expect(now[ben] == 0.4)
            #expect(try await kpi("revenue_minor") == 414_200)
            try await Self.expectNoDrift(database, "confirmation")

            // B's credit moves to Ben: Ada loses it, the team and the region keep it once.
            try api.expect(
                .ok,
                await api.call(
                    .patch,
                    "/v1/orders/\(b)",
                    json: #"{"credits":[{"member_id":\#(seeded.ben),"percent":100}]}"#,
                    headers: [Self.ifMatch: #""2""#]
                )
            )
            now = try await actuals()
            #expect(now[ada] == 170_580)
            #expect(now[adaPumps] == 155_880)
            #expect(now[ben] == 1.4)
            #expect(now[team] == 414_200)
            #expect(now[region] == 414_200)
            try await Self.expectNoDrift(database, "a credit edit")

            // Counted at delivery: nothing is delivered yet.
            let switched = try await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"delivered"}"#)
            try api.expect(.ok, switched)
            #expect(try switched.json(AnyJSON.self)["count_orders_at"]?.string == "delivered")
            now = try await actuals()
            #expect(now[region] == 0)
            #expect(now[regionOrders] == 0)
            #expect(try await kpi("revenue_minor") == 0)

            try await Self.move(api, a, "ship")
            try await Self.move(api, a, "deliver")
            now = try await actuals()
            #expect(now[region] == 284_300)
            #expect(now[ada] == 170_580)
            #expect(now[ben] == 0.4)
            #expect(try await kpi("orders") == 1)
            try await Self.expectNoDrift(database, "delivery")

            // Back to confirmation: both count again; then B is cancelled and leaves.
            try api.expect(.ok, await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"confirmed"}"#))
            #expect(try await actuals()[region] == 414_200)
            try await Self.move(api, b, "cancel", json: #"{"reason":"Customer withdrew"}"#)
            now = try await actuals()
            #expect(now[region] == 284_300)
            #expect(now[regionOrders] == 1)
            #expect(now[ben] == 0.4)
            #expect(now[team] == 284_300)
            #expect(try await kpi("revenue_minor") == 284_300)
            try await Self.expectNoDrift(database, "a cancellation")

            // The pump leaves the "pumps" category: Ada's pump revenue goes with it.
            let pump = try await api.call(.get, "/v1/products?limit=10")
            let pumpID = try #require(try pump.json(AnyJSON.self)["products"]?.array.first { $0["sku"]?.string == "PUMP-200" }?["id"]?.int)
            try api.expect(
                .ok,
                await api.call(.patch, "/v1/products/\(pumpID)", json: #"{"category":"spares"}"#, headers: [Self.ifMatch: #""1""#])
            )
            #expect(try await actuals()[adaPumps] == 0)
            try await Self.expectNoDrift(database, "a product's new category")

            // A new time zone moves the days; the summary is rebuilt and still agrees.
            try await database.pool.query("UPDATE regions SET time_zone = 'Pacific/Kiritimati' WHERE code = 'emea'")
            try await Self.expectNoDrift(database, "a time zone change")
        }
    }

    @Test func reportSettingsAreReadAndSetThroughTheAPIWithinReach() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let defaults = try await api.call(.get, "/v1/reports/settings/emea")
            try api.expect(.ok, defaults)
            let body = try defaults.json(AnyJSON.self)
            #expect(body["region"]?.string == "emea")
            #expect(body["count_orders_at"]?.string == "confirmed")
            #expect(body["currency"] == nil)
            #expect(body["updated_at"] == nil)

            let set = try await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"delivered","currency":"EUR"}"#)
            try api.expect(.ok, set)
            #expect(try set.json(AnyJSON.self)["currency"]?.string == "EUR")
            let read = try await api.call(.get, "/v1/reports/settings/emea").json(AnyJSON.self)
            #expect(read["count_orders_at"]?.string == "delivered")
            #expect(read["updated_at"]?.string != nil)
            // The report currency is what KPIs are summed in.
            let kpis = try await api.call(.get, "/v1/reports/kpis?period=2025-11&region=emea")
            #expect(try kpis.json(AnyJSON.self)["currency"]?.string == "EUR")
            // PUT replaces: no currency clears it.
            try api.expect(.ok, await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"delivered"}"#))
            #expect(try await api.call(.get, "/v1/reports/settings/emea").json(AnyJSON.self)["currency"] == nil)

            #expect(try await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"shipped"}"#).status == .badRequest)
            #expect(
                try await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"confirmed","currency":"eur"}"#).status
                    == .badRequest
            )
            #expect(try await api.call(.get, "/v1/reports/settings/mars").status == .notFound)
            #expect(try await api.call(.put, "/v1/reports/settings/mars", json: #"{"count_orders_at":"confirmed"}"#).status == .notFound)

            // An agent reads its region's settings but does not set them; a coordinator of APAC
            // does not see EMEA's.
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            try api.expect(.ok, await api.call(.get, "/v1/reports/settings/emea", token: agent))
            #expect(
                try await api.call(.put, "/v1/reports/settings/emea", json: #"{"count_orders_at":"confirmed"}"#, token: agent).status == .forbidden
            )
            let apac = try await api.makeToken(role: "coordinator", regions: ["apac"])
            #expect(try await api.call(.get, "/v1/reports/settings/emea", token: apac).status == .notFound)
            try api.expect(.ok, await api.call(.put, "/v1/reports/settings/apac", json: #"{"count_orders_at":"delivered"}"#, token: apac))

            // Each change is an event: the admin's two and the APAC coordinator's.
            let events = try await database.pool.query("SELECT count(*)::int AS n FROM events WHERE type = 'report_settings.updated'")
            #expect(try events.first?.decode(Int.self, "n") == 3)
        }
    }
}
