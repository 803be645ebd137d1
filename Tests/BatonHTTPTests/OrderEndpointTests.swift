import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Orders through the API: the state machine, totals computed by Baton, reservations that are
/// all or nothing, the race for the last units, and the ledger that records every unit an
/// order holds, ships or gives back.
@Suite(.requiresDatabase) struct OrderEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    /// Regions and teams, a customer of EMEA, two products, stock received into EMEA.
    static func seed(_ api: API, pumps: Int = 10, valves: Int = 50) async throws -> Int {
        try await api.seedReferenceData()
        for (sku, price) in [("PUMP-200", 129_900), ("VALVE-7", 2_450)] {
            try api.expect(
                .created,
                await api.call(.post, "/v1/products", json: #"{"sku":"\#(sku)","name":"\#(sku)","unit_price_minor":\#(price),"currency":"EUR"}"#)
            )
        }
        for (sku, quantity) in [("PUMP-200", pumps), ("VALVE-7", valves)] where quantity > 0 {
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/\(sku)/receive", json: #"{"quantity":\#(quantity)}"#))
        }
        let customer = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Acme Pumps","force":true}"#)
        try api.expect(.created, customer)
        return try #require(try customer.json(AnyJSON.self)["customer"]?["id"]?.int)
    }

    static func draft(_ api: API, customer: Int, lines: String) async throws -> AnyJSON {
        let response = try await api.call(.post, "/v1/orders", json: #"{"customer_id":\#(customer),"lines":\#(lines)}"#)
        try api.expect(.created, response)
        return try response.json(AnyJSON.self)
    }

    static func stock(_ api: API, _ sku: String) async throws -> AnyJSON {
        try await api.call(.get, "/v1/stock/emea/\(sku)").json(AnyJSON.self)
    }

    @Test func anOrderGoesFromDraftToDeliveredReservingAndShippingItsStock() async throws {
        try await withTestApplication { api, _ in
            let customer = try await Self.seed(api)
            let order = try await Self.draft(
                api,
                customer: customer,
                lines: #"[{"sku":"PUMP-200","quantity":2,"discount_percent":12.5},{"sku":"VALVE-7","quantity":10}]"#
            )
            let id = try #require(order["id"]?.int)
            #expect(order["state"]?.string == "draft")
            #expect(order["number"]?.string == String(format: "SO-%06d", id))
            #expect(order["currency"]?.string == "EUR")
            // 2 × 1299.00 less 12.5 % = 2273.25; 10 × 24.50 = 245.00.
            #expect(order["lines"]?[0]?["total_minor"]?.int == 227_325)
            #expect(order["lines"]?[0]?["discount_percent"]?.double == 12.5)
            #expect(order["subtotal_minor"]?.int == 259_800 + 24_500)
            #expect(order["discount_minor"]?.int == 32_475)
            #expect(order["total_minor"]?.int == 227_325 + 24_500)

            // Lines change in a draft, under If-Match.
            let stale = try await api.call(.patch, "/v1/orders/\(id)", json: #"{"notes":"x"}"#, headers: [Self.ifMatch: #""7""#])
            #expect(stale.status == .preconditionFailed)
            let edited = try await api.call(
                .patch,
                "/v1/orders/\(id)",
                json: #"{"lines":[{"sku":"PUMP-200","quantity":3},{"sku":"VALVE-7","quantity":10,"unit_price_minor":2000}],"notes":"Dock 4"}"#,
                headers: [Self.ifMatch: #""1""#]
            )
            try api.expect(.ok, edited)
            #expect(edited.headers[.eTag] == #""2""#)
            #expect(try edited.json(AnyJSON.self)["total_minor"]?.int == 3 * 129_900 + 10 * 2_000)

            let confirmed = try await api.call(.post, "/v1/orders/\(id)/confirm")
            try api.expect(.ok, confirmed)
            let body = try confirmed.json(AnyJSON.self)
            #expect(body["state"]?.string == "confirmed")
            #expect(body["lines"]?[0]?["reserved"]?.int == 3)
            #expect(body["confirmed_at"]?.string != nil)
            let pumps = try await Self.stock(api, "PUMP-200")
            #expect(pumps["on_hand"]?.int == 10)
            #expect(pumps["reserved"]?.int == 3)
            #expect(pumps["available"]?.int == 7)

            // Confirmed: lines no longer change, notes do; it confirms only once.
            let lines = try await api.call(
                .patch,
                "/v1/orders/\(id)",
                json: #"{"lines":[{"sku":"PUMP-200","quantity":1}]}"#,
                headers: [Self.ifMatch: #""3""#]
            )
            #expect(lines.status == .conflict, "\(lines.text)")
            try api.expect(.ok, await api.call(.patch, "/v1/orders/\(id)", json: #"{"notes":"Dock 5"}"#, headers: [Self.ifMatch: #""3""#]))
            #expect(try await api.call(.post, "/v1/orders/\(id)/confirm").status == .conflict)
            #expect(try await api.call(.post, "/v1/orders/\(id)/deliver").status == .conflict, "only a shipped order is delivered")

            // On hold and back: the reservation stays.
            let held = try await api.call(.post, "/v1/orders/\(id)/hold", json: #"{"reason":"credit check"}"#)
            try api.expect(.ok, held)
            #expect(try held.json(AnyJSON.self)["state"]?.string == "on_hold")
            #expect(try held.json(AnyJSON.self)["held_from"]?.string == "confirmed")
            #expect(try await api.call(.post, "/v1/orders/\(id)/ship").status == .conflict, "a held order does not ship")
            let released = try await api.call(.post, "/v1/orders/\(id)/release")
            try api.expect(.ok, released)
            #expect(try released.json(AnyJSON.self)["state"]?.string == "confirmed")
            #expect(try await Self.stock(api, "PUMP-200")["reserved"]?.int == 3)

            let shipped = try await api.call(.post, "/v1/orders/\(id)/ship")
            try api.expect(.ok, shipped)
            #expect(try shipped.json(AnyJSON.self)["state"]?.string == "shipped")
            let after = try await Self.stock(api, "PUMP-200")
            #expect(after["on_hand"]?.int == 7)
            #expect(after["reserved"]?.int == 0)
            #expect(try await api.call(.post, "/v1/orders/\(id)/cancel").status == .conflict, "a shipped order is not cancelled")

            let delivered = try await api.call(.post, "/v1/orders/\(id)/deliver")
            try api.expect(.ok, delivered)
            #expect(try delivered.json(AnyJSON.self)["state"]?.string == "delivered")
            #expect(try delivered.json(AnyJSON.self)["delivered_at"]?.string != nil)
            let late = try await api.call(
                .patch,
                "/v1/orders/\(id)",
                json: #"{"notes":"late"}"#,
                headers: [Self.ifMatch: delivered.headers[.eTag] ?? ""]
            )
            #expect(late.status == .conflict, "a delivered order no longer changes")

            // The ledger names the order on each of its movements, and agrees with the balances.
            let movements = try await api.call(.get, "/v1/stock/emea/PUMP-200/movements").json(AnyJSON.self)["movements"]?.array ?? []
            let kinds = movements.filter { $0["order_id"]?.int == id }.compactMap { $0["kind"]?.string }
            #expect(Set(kinds) == ["reservation", "shipment"], "\(movements)")
            #expect(try await api.call(.get, "/v1/stock/verify").json(AnyJSON.self)["discrepancies"]?.array == [])

            // The feed hands out events once every older transaction has ended: poll.
            var types: [String] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while types.count < 3, ContinuousClock.now < deadline {
                let events = try await api.call(.get, "/v1/events?types=order.confirmed,order.shipped,order.delivered").json(AnyJSON.self)
                types = events["events"]?.array.filter { $0["entity_id"]?.string == String(id) }.compactMap { $0["type"]?.string } ?? []
                if types.count < 3 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(types == ["order.confirmed", "order.shipped", "order.delivered"])
        }
    }

    @Test func aShortConfirmationReservesNothingUnlessBackorderedAndCancellingGivesStockBack() async throws {
        try await withTestApplication { api, _ in
            let customer = try await Self.seed(api, pumps: 3)
            let order = try await Self.draft(api, customer: customer, lines: #"[{"sku":"VALVE-7","quantity":5},{"sku":"PUMP-200","quantity":5}]"#)
            let id = try #require(order["id"]?.int)

            let short = try await api.call(.post, "/v1/orders/\(id)/confirm")
            #expect(short.status == .conflict)
            let envelope = try short.errorEnvelope()
            #expect(envelope.error.message.contains("line 2 (PUMP-200) needs 5, 3 available"), "\(short.text)")
            #expect(try await Self.stock(api, "VALVE-7")["reserved"]?.int == 0, "nothing reserved, not even the line that fits")
            #expect(try await Self.stock(api, "PUMP-200")["reserved"]?.int == 0)
            #expect(try await api.call(.get, "/v1/orders/\(id)").json(AnyJSON.self)["state"]?.string == "draft")

            let backordered = try await api.call(.post, "/v1/orders/\(id)/confirm", json: #"{"allow_backorder":true}"#)
            try api.expect(.ok, backordered)
            let body = try backordered.json(AnyJSON.self)
            #expect(body["backordered"]?.bool == true)
            #expect(body["lines"]?[1]?["reserved"]?.int == 3)
            #expect(try await Self.stock(api, "PUMP-200")["available"]?.int == 0)

            #expect(try await api.call(.post, "/v1/orders/\(id)/ship").status == .conflict, "still two pumps short")
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":1}"#))
            // Cancelling gives back every reserved unit.
            let cancelled = try await api.call(.post, "/v1/orders/\(id)/cancel", json: #"{"reason":"customer changed plans"}"#)
            try api.expect(.ok, cancelled)
            #expect(try cancelled.json(AnyJSON.self)["cancel_reason"]?.string == "customer changed plans")
            #expect(try await Self.stock(api, "PUMP-200")["reserved"]?.int == 0)
            #expect(try await Self.stock(api, "PUMP-200")["available"]?.int == 4)
            #expect(try await Self.stock(api, "VALVE-7")["reserved"]?.int == 0)

            // A backordered order ships once the stock is there.
            let second = try await Self.draft(api, customer: customer, lines: #"[{"sku":"PUMP-200","quantity":6}]"#)
            let secondID = try #require(second["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/orders/\(secondID)/confirm", json: #"{"allow_backorder":true}"#))
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":2}"#))
            let shipped = try await api.call(.post, "/v1/orders/\(secondID)/ship")
            try api.expect(.ok, shipped)
            #expect(try shipped.json(AnyJSON.self)["backordered"]?.bool == false)
            let pumps = try await Self.stock(api, "PUMP-200")
            #expect(pumps["on_hand"]?.int == 0)
            #expect(pumps["reserved"]?.int == 0)
            #expect(try await api.call(.get, "/v1/stock/verify").json(AnyJSON.self)["discrepancies"]?.array == [])
        }
    }

    @Test func concurrentConfirmationsForTheLastUnitsConfirmExactlyTheOrdersThatFit() async throws {
        try await withTestApplication(poolSize: 12, acquireTimeout: .seconds(60)) { api, database in
            let customer = try await Self.seed(api, pumps: 7)
            // Twelve orders of one or two pumps (18 in all) compete for 7.
            var orders: [(id: Int, quantity: Int)] = []
            for index in 0..<12 {
                let quantity = index % 2 + 1
                let order = try await Self.draft(api, customer: customer, lines: #"[{"sku":"PUMP-200","quantity":\#(quantity)}]"#)
                orders.append((try #require(order["id"]?.int), quantity))
            }
            let failures = Failures()
            let outcomes = try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for order in orders {
                    group.addTask {
                        let response = try await api.call(.post, "/v1/orders/\(order.id)/confirm")
                        if response.status.code >= 500 { failures.append(response.text) }
                        return (order.id, order.quantity, response.status.code)
                    }
                }
                var outcomes: [(Int, Int, Int)] = []
                for try await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.allSatisfy { $0.2 == 200 || $0.2 == 409 }, "only confirmations and shortages: \(outcomes.map(\.2)) \(failures)")
            let confirmed = outcomes.filter { $0.2 == 200 }
            let units = confirmed.reduce(0) { $0 + $1.1 }
            #expect(units <= 7, "never more than the stock: \(units)")
            // Every refused order needed more than was left when it was refused: at the end at
            // most one pump is free, so no refused order of one pump may leave one free.
            let pumps = try await Self.stock(api, "PUMP-200")
            #expect(pumps["reserved"]?.int == units)
            #expect(pumps["available"]?.int == 7 - units)
            let refused = outcomes.filter { $0.2 == 409 }
            #expect(refused.allSatisfy { $0.1 > 7 - units }, "a refused order would have fit: \(refused), \(units) reserved")
            let rows = try await database.pool.query("SELECT count(*) AS n FROM orders WHERE state = 'confirmed'")
            #expect(try rows.first?.decode(Int.self, "n") == confirmed.count)
            let negative = try await database.pool.query("SELECT count(*) AS n FROM stock WHERE on_hand < 0 OR reserved < 0 OR reserved > on_hand")
            #expect(try negative.first?.decode(Int.self, "n") == 0)
            #expect(try await api.call(.get, "/v1/stock/verify").json(AnyJSON.self)["discrepancies"]?.array == [])
        }
    }

    @Test func badOrdersAreRefusedWithTheFieldAndNothingIsStored() async throws {
        try await withTestApplication { api, database in
            let customer = try await Self.seed(api)
            try api.expect(
                .created,
                await api.call(.post, "/v1/products", json: #"{"sku":"GADGET-1","name":"Gadget","unit_price_minor":500,"currency":"USD"}"#)
            )
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"Sam","email":"sam@example.com"}"#)
            let memberID = try #require(try member.json(AnyJSON.self)["id"]?.int)
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"customer_id":\#(customer),"lines":[]}"#, .badRequest, "lines"),
                (#"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":0}]}"#, .badRequest, "quantity"),
                (#"{"customer_id":\#(customer),"lines":[{"sku":"NOPE-1","quantity":1}]}"#, .unprocessableContent, "lines[0].sku"),
                (
                    #"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":1,"discount_percent":1.125}]}"#, .unprocessableContent,
                    "discount"
                ),
                (
                    #"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":1},{"sku":"GADGET-1","quantity":1}]}"#, .unprocessableContent,
                    "unit_price"
                ),
                (
                    #"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":1}],"credits":[{"member_id":\#(memberID),"percent":60}]}"#,
                    .unprocessableContent, "credits"
                ),
                (
                    #"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":1}],"credits":[{"member_id":999999,"percent":100}]}"#,
                    .unprocessableContent, "credits"
                ),
                (#"{"customer_id":999999,"lines":[{"sku":"PUMP-200","quantity":1}]}"#, .unprocessableContent, "customer_id"),
                (
                    #"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":1}],"requested_delivery_on":"2027-02-30"}"#,
                    .unprocessableContent, "requested_delivery_on"
                ),
                (#"{"customer_id":\#(customer),"lines":[{"sku":"PUMP-200","quantity":"1"}]}"#, .badRequest, "quantity"),
            ]
            for (body, status, field) in cases {
                let response = try await api.call(.post, "/v1/orders", json: body)
                #expect(response.status == status, "\(body): \(response.status.code) \(response.text)")
                #expect(response.text.contains(field), "\(body): \(response.text)")
            }
            #expect(try await database.pool.query("SELECT count(*) AS n FROM orders").first?.decode(Int.self, "n") == 0)

            // A shared credit is kept; the split is the caller's, the order is counted once.
            let shared = try await api.call(
                .post,
                "/v1/orders",
                json: #"{"customer_id":\#(customer),"lines":[{"sku":"GADGET-1","quantity":2}],"credits":[{"member_id":\#(memberID),"percent":100}]}"#
            )
            try api.expect(.created, shared)
            #expect(try shared.json(AnyJSON.self)["currency"]?.string == "USD")
            #expect(try shared.json(AnyJSON.self)["credits"]?[0]?["percent"]?.int == 100)
        }
    }

    @Test func reservingDownToTheReorderPointQueuesOneRestockTask() async throws {
        try await withTestApplication { api, _ in
            let customer = try await Self.seed(api, pumps: 10)
            try api.expect(.ok, await api.call(.patch, "/v1/stock/emea/PUMP-200", json: #"{"reorder_point":4}"#, headers: [Self.ifMatch: #""1""#]))
            for quantity in [3, 3, 1] {
                let order = try await Self.draft(api, customer: customer, lines: #"[{"sku":"PUMP-200","quantity":\#(quantity)}]"#)
                try api.expect(.ok, await api.call(.post, "/v1/orders/\(try #require(order["id"]?.int))/confirm"))
            }
            let tasks = try await api.call(.get, "/v1/tasks?team=logistics-emea&kind=restock").json(AnyJSON.self)["tasks"]?.array ?? []
            #expect(tasks.count == 1, "available went 10 → 7 → 4 → 3: one crossing, one task: \(tasks)")
            #expect(try await Self.stock(api, "PUMP-200")["below_reorder"]?.bool == true)
        }
    }

    @Test func theDefaultRulesHandConfirmedOrdersToLogisticsAndDeliveredOnesToSupportInTheSameTransaction() async throws {
        try await withTestApplication { api, database in
            let customer = try await Self.seed(api)
            func tasks(_ team: String, _ kind: String) async throws -> [AnyJSON] {
                try await api.call(.get, "/v1/tasks?team=\(team)&kind=\(kind)").json(AnyJSON.self)["tasks"]?.array ?? []
            }
            let order = try await Self.draft(api, customer: customer, lines: #"[{"sku":"PUMP-200","quantity":2}]"#)
            let id = try #require(order["id"]?.int)
            let number = try #require(order["number"]?.string)

            // A second rule on order.confirmed sends to a department EMEA has no team of: the
            // confirmation fails whole, with no reservation and no task from either rule.
            let coordination = try await api.call(
                .post,
                "/v1/rules",
                json:
                    #"{"name":"Orders to the coordinators","on":"order.confirmed","action":{"department":"coordination","kind":"note","title":"{{number}}"}}"#
            )
            try api.expect(.created, coordination)
            let failed = try await api.call(.post, "/v1/orders/\(id)/confirm")
            #expect(failed.status == .unprocessableContent, "\(failed.text)")
            #expect(try await tasks("logistics-emea", "ship_order").isEmpty)
            #expect(try await Self.stock(api, "PUMP-200")["reserved"]?.int == 0)
            #expect(try await api.call(.get, "/v1/orders/\(id)").json(AnyJSON.self)["state"]?.string == "draft")
            let ruleID = try #require(try coordination.json(AnyJSON.self)["id"]?.int)
            try api.expect(
                .ok,
                await api.call(.patch, "/v1/rules/\(ruleID)", json: #"{"active":false}"#, headers: [Self.ifMatch: #""1""#])
            )

            try api.expect(.ok, await api.call(.post, "/v1/orders/\(id)/confirm"))
            let ship = try await tasks("logistics-emea", "ship_order")
            #expect(ship.count == 1)
            #expect(ship.first?["title"]?.string == "Ship order \(number) to Acme Pumps (1 lines)")
            #expect(ship.first?["subject"]?["id"]?.string == String(id))
            #expect(try await tasks("logistics-apac", "ship_order").isEmpty, "the order's region's team")

            try api.expect(.ok, await api.call(.post, "/v1/orders/\(id)/ship"))
            #expect(try await tasks("support-emea", "ask_feedback").isEmpty, "feedback is asked once delivered")
            try api.expect(.ok, await api.call(.post, "/v1/orders/\(id)/deliver"))
            let feedback = try await tasks("support-emea", "ask_feedback")
            #expect(feedback.count == 1)
            #expect(try await tasks("logistics-emea", "ship_order").count == 1, "one task per event, not per move")
            let firings = try await database.pool.query("SELECT count(*) AS n FROM rule_firings")
            #expect(try firings.first?.decode(Int.self, "n") == 2)
        }
    }
}

/// Bodies of unexpected answers, collected from concurrent calls.
final class Failures: @unchecked Sendable, CustomStringConvertible {
    private let lock = NSLock()
    private var texts: [String] = []

    func append(_ text: String) { lock.withLock { texts.append(text) } }
    var description: String { lock.withLock { texts.joined(separator: "; ") } }
}
