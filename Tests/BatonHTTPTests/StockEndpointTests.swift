import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Products and stock through the API and `batonctl stock`: the catalogue, receipts and
/// adjustments recorded as movements, one restock task per crossing of the reorder point (not
/// one per movement, none while snoozed, re-armed on the way up), the ledger check, and who
/// may do which.
@Suite(.requiresDatabase) struct StockEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    static func product(_ api: API, sku: String = "PUMP-200") async throws -> Int {
        let response = try await api.call(
            .post,
            "/v1/products",
            json: #"{"sku":"\#(sku)","name":"Pump 200","category":"pumps","unit_price_minor":129900,"currency":"EUR"}"#
        )
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["id"]?.int)
    }

    static func restockTasks(_ api: API) async throws -> [AnyJSON] {
        try await api.call(.get, "/v1/tasks?team=logistics-emea&kind=restock").json(AnyJSON.self)["tasks"]?.array ?? []
    }

    static func adjust(_ api: API, _ delta: Int, token: String? = nil) async throws -> TestResponse {
        try await api.call(
            .post,
            "/v1/stock/emea/PUMP-200/adjust",
            json: #"{"delta":\#(delta),"reason":"cycle count"}"#,
            token: token.map { .some($0) } ?? .none
        )
    }

    @Test func aCrossingOfTheReorderPointQueuesOneRestockTaskAndRisingAboveReArmsIt() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            _ = try await Self.product(api)
            let unknown = try await api.call(.get, "/v1/stock/emea/PUMP-200")
            try api.expect(.ok, unknown)
            #expect(try unknown.json(AnyJSON.self)["on_hand"]?.int == 0, "a product never stocked reads as zero")
            #expect(unknown.headers[.eTag] == #""0""#)
            let settings = try await api.call(
                .patch,
                "/v1/stock/emea/PUMP-200",
                json: #"{"reorder_point":5,"reorder_quantity":20}"#,
                headers: [Self.ifMatch: #""0""#]
            )
            try api.expect(.ok, settings)
            #expect(try settings.json(AnyJSON.self)["below_reorder"]?.bool == true, "zero on hand is at the point")
            #expect(try await Self.restockTasks(api).count == 1, "setting the point with nothing on hand is a crossing")

            let received = try await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":12,"reason":"DN-4711"}"#)
            try api.expect(.ok, received)
            let level = try received.json(AnyJSON.self)
            #expect(level["on_hand"]?.int == 12)
            #expect(level["available"]?.int == 12)
            #expect(level["below_reorder"]?.bool == false, "rising above re-arms")

            // Down to 6: above the point. Down to 4: the crossing, one task. Down to 2: the same crossing.
            try api.expect(.ok, await Self.adjust(api, -6))
            #expect(try await Self.restockTasks(api).count == 1)
            try api.expect(.ok, await Self.adjust(api, -2))
            let tasks = try await Self.restockTasks(api)
            #expect(tasks.count == 2)
            #expect(tasks.contains { $0["subject"]?["id"]?.string == "emea/PUMP-200" && $0["title"]?.string?.contains("4 available") == true })
            try api.expect(.ok, await Self.adjust(api, -2))
            #expect(try await Self.restockTasks(api).count == 2, "one task per crossing, not per movement")

            // Taking on hand below zero is refused and changes nothing.
            let negative = try await Self.adjust(api, -3)
            #expect(negative.status == .conflict)
            #expect(try await api.call(.get, "/v1/stock/emea/PUMP-200").json(AnyJSON.self)["on_hand"]?.int == 2)

            // Snoozed: a new crossing is handled without a task.
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":10}"#))
            let version = try #require(try await api.call(.get, "/v1/stock/emea/PUMP-200").json(AnyJSON.self)["version"]?.int)
            let snoozed = try await api.call(
                .patch,
                "/v1/stock/emea/PUMP-200",
                json: #"{"snoozed_until":"2099-01-01T00:00:00Z"}"#,
                headers: [Self.ifMatch: "\"\(version)\""]
            )
            try api.expect(.ok, snoozed)
            let stale = try await api.call(
                .patch,
                "/v1/stock/emea/PUMP-200",
                json: #"{"reorder_point":1}"#,
                headers: [Self.ifMatch: "\"\(version)\""]
            )
            #expect(stale.status == .preconditionFailed)
            try api.expect(.ok, await Self.adjust(api, -9))
            #expect(try await Self.restockTasks(api).count == 2, "no task while snoozed")

            let movements = try await api.call(.get, "/v1/stock/emea/PUMP-200/movements").json(AnyJSON.self)["movements"]?.array ?? []
            #expect(movements.compactMap { $0["kind"]?.string } == ["adjustment", "receipt", "adjustment", "adjustment", "adjustment", "receipt"])
            #expect(movements.compactMap { $0["on_hand_delta"]?.int } == [-9, 10, -2, -2, -6, 12])
            #expect(movements[3]["task_id"]?.int != nil, "the movement that crossed names its task")
            let below = try await api.call(.get, "/v1/stock?region=emea&below_reorder=true").json(AnyJSON.self)["stock"]?.array ?? []
            #expect(below.compactMap { $0["sku"]?.string } == ["PUMP-200"])
        }
    }

    @Test func theLedgerCheckNamesEveryBalanceThatDisagreesWithItsMovements() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            _ = try await Self.product(api)
            _ = try await Self.product(api, sku: "VALVE-7")
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":8}"#))
            try api.expect(.ok, await api.call(.post, "/v1/stock/apac/VALVE-7/receive", json: #"{"quantity":3}"#))
            let clean = try CLIEndToEndTests.batonctl(["stock", "verify"], url: api.url)
            #expect(clean.status == 0)
            #expect(clean.output.contains("agrees"))

            // A balance changed behind the ledger's back.
            try await database.pool.query("UPDATE stock SET on_hand = 11 WHERE region = 'apac'")
            let found = try await api.call(.get, "/v1/stock/verify").json(AnyJSON.self)["discrepancies"]?.array ?? []
            #expect(found.count == 1)
            #expect(found.first?["sku"]?.string == "VALVE-7")
            #expect(found.first?["ledger_on_hand"]?.int == 3)
            let dirty = try CLIEndToEndTests.batonctl(["stock", "verify"], url: api.url)
            #expect(dirty.status == 1)
            #expect(dirty.output.contains("VALVE-7"))

            let cli = try CLIEndToEndTests.batonctl(
                ["stock", "adjust", "--region", "emea", "--sku", "PUMP-200", "--delta=-2", "--reason", "broken in transit"],
                url: api.url
            )
            #expect(cli.status == 0, "\(cli.error)")
            #expect(cli.output.contains("6 on hand"))
        }
    }

    @Test func productsAreTheAdminsAndStockFollowsTheRegionScope() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let id = try await Self.product(api)
            let duplicate = try await api.call(
                .post,
                "/v1/products",
                json: #"{"sku":"PUMP-200","name":"Again","unit_price_minor":1,"currency":"EUR"}"#
            )
            #expect(duplicate.status == .conflict)
            let agent = try await api.makeToken(role: "agent", teams: ["logistics-emea"])
            let apacAgent = try await api.makeToken(role: "agent", teams: ["logistics-apac"])
            let viewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            let byAgent = try await api.call(
                .post,
                "/v1/products",
                json: #"{"sku":"X-1","name":"X","unit_price_minor":1,"currency":"EUR"}"#,
                token: agent
            )
            #expect(byAgent.status == .forbidden)
            #expect(try await api.call(.get, "/v1/products/\(id)", token: viewer).status == .ok)
            let edited = try await api.call(.patch, "/v1/products/\(id)", json: #"{"active":false}"#, headers: [Self.ifMatch: #""1""#])
            try api.expect(.ok, edited)
            #expect(try edited.json(AnyJSON.self)["active"]?.bool == false)

            try api.expect(.ok, await Self.adjust(api, 5, token: agent))
            #expect(try await Self.adjust(api, 1, token: viewer).status == .forbidden)
            #expect(try await Self.adjust(api, 1, token: apacAgent).status == .notFound, "another region's stock does not exist for it")
            #expect(try await api.call(.get, "/v1/stock/mars/PUMP-200").status == .notFound)
            #expect(try await api.call(.get, "/v1/stock/emea/NOPE").status == .notFound)
            let listed = try await api.call(.get, "/v1/stock", token: apacAgent).json(AnyJSON.self)["stock"]?.array
            #expect(listed?.isEmpty == true)
            #expect(try await api.call(.get, "/v1/stock/verify", token: agent).status == .forbidden)
            let zero = try await api.call(.post, "/v1/stock/emea/PUMP-200/adjust", json: #"{"delta":0,"reason":"x"}"#)
            #expect(zero.status == .unprocessableContent, "the document's shape, but no change")
            let huge = try await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":1000000001}"#)
            #expect(huge.status == .badRequest)
        }
    }

    @Test func batonctlImportsProductsAddingNewSkusUpdatingKnownOnesAndRefusingBadFilesWhole() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            _ = try await Self.product(api)
            let bad = try CustomerImportTests.write(
                """
                sku,name,unit_price_minor,currency,category,active
                PUMP-200,Pump 200 Mk II,139900,EUR,pumps,
                VALVE 7,Valve,100,EUR,,
                VALVE-8,Valve,-1,EUR,,
                VALVE-9,Valve,100,euro,,
                VALVE-10,Valve,100,EUR,,maybe
                VALVE-11,Valve,100,EUR,,
                VALVE-11,Valve again,100,EUR,,

                """
            )
            let refused = try CLIEndToEndTests.batonctl(["import", "products", bad, "--json"], url: api.url)
            #expect(refused.status == 1)
            let report = try JSONDecoder.snakeCase.decode(CustomerService.ImportReport.self, from: Data(refused.output.utf8))
            #expect(report.committed == false)
            #expect(report.problems.map { "\($0.line) \($0.column)" } == ["3 sku", "4 unit_price_minor", "5 currency", "6 active", "8 sku"])
            #expect(try await api.call(.get, "/v1/products/1").json(AnyJSON.self)["name"]?.string == "Pump 200", "nothing written")

            let good = try CustomerImportTests.write(
                """
                sku,name,unit_price_minor,currency,category,active
                PUMP-200,Pump 200 Mk II,139900,EUR,pumps,false
                "VALVE-7","Valve, brass",2450,EUR,,

                """
            )
            let loaded = try CLIEndToEndTests.batonctl(["import", "products", good], url: api.url)
            #expect(loaded.status == 0, "\(loaded.output)\(loaded.error)")
            #expect(loaded.output.contains("Imported 2 of 2 rows"), "\(loaded.output)")
            let pump = try await api.call(.get, "/v1/products/1")
            #expect(try pump.json(AnyJSON.self)["name"]?.string == "Pump 200 Mk II")
            #expect(try pump.json(AnyJSON.self)["active"]?.bool == false)
            #expect(pump.headers[.eTag] == #""2""#)
            let valves = try await api.call(.get, "/v1/products?category=pumps").json(AnyJSON.self)["products"]?.array ?? []
            #expect(valves.count == 1)
            let events = try await database.pool.query(
                "SELECT type, count(*)::bigint AS n FROM events WHERE type LIKE 'product.%' GROUP BY type ORDER BY type"
            ).map { "\(try $0.decode(String.self, "type")) \(try $0.decode(Int.self, "n"))" }
            #expect(events == ["product.created 2", "product.updated 1"])

            // The same file again changes nothing: no new version, no event.
            try #require(try CLIEndToEndTests.batonctl(["import", "products", good], url: api.url).status == 0)
            #expect(try await api.call(.get, "/v1/products/1").headers[.eTag] == #""2""#)
        }
    }
}
