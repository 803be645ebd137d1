import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Handoff rules through the API and `batonctl rules`: rules as data (list, create, edit with
/// If-Match), the condition language's refusals, the dry run, each shipped default creating
/// exactly one task in the right team in the transaction of the write that caused it (and none
/// when that write rolls back), and who may do which.
@Suite(.requiresDatabase) struct RuleEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    static func rules(_ api: API, query: String = "") async throws -> [AnyJSON] {
        let response = try await api.call(.get, "/v1/rules\(query)")
        try api.expect(.ok, response)
        return try response.json(AnyJSON.self)["rules"]?.array ?? []
    }

    static func ruleID(_ api: API, named name: String) async throws -> Int {
        try #require(try await rules(api).first { $0["name"]?.string == name }?["id"]?.int)
    }

    static func tasks(_ database: BatonDatabase, kind: String) async throws -> [(team: String, title: String, subject: String)] {
        try await database.pool.query(
            "SELECT team, title, coalesce(subject_type || ':' || subject_id, '') AS subject FROM tasks WHERE kind = $1 ORDER BY id",
            [kind]
        ).map { (try $0.decode(String.self, "team"), try $0.decode(String.self, "title"), try $0.decode(String.self, "subject")) }
    }

    static func count(_ database: BatonDatabase, _ table: String) async throws -> Int {
        try await database.pool.query("SELECT count(*) AS n FROM \(unescaped: table)").first?.decode(Int.self, "n") ?? -1
    }

    static func customer(_ api: API, name: String, owner: Int? = nil) async throws -> Int {
        let extra = owner.map { #","owner_id":\#($0)"# } ?? ""
        let response = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"\#(name)","force":true\#(extra)}"#)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["customer"]?["id"]?.int)
    }

    static func deal(_ api: API, customer: Int) async throws -> Int {
        let response = try await api.call(
            .post,
            "/v1/opportunities",
            json: #"{"customer_id":\#(customer),"title":"Forty pumps","amount_minor":5160000,"currency":"EUR"}"#
        )
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["id"]?.int)
    }

    static let shipRule = #"""
        {"name":"Big orders to the coordinators","on":"order.confirmed","condition":{"total_minor":{"gte":1000000},"currency":{"in":["EUR","USD"]}},
         "action":{"team":"logistics-apac","kind":"big_order","priority":"high","title":"Big order {{number}} for {{customer_name}}",
                   "payload":{"order":"{{order_id}}","lines":"{{lines}}"},"subject":{}}}
        """#

    @Test func rulesAreDataThatAnAdminCreatesListsAndEditsWithIfMatch() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let defaults = try await Self.rules(api)
            #expect(
                defaults.compactMap { $0["on"]?.string }
                    == ["opportunity.won", "order.confirmed", "order.delivered", "stock.below_reorder", "case.opened"]
            )
            #expect(defaults.allSatisfy { $0["active"]?.bool == true })

            let created = try await api.call(.post, "/v1/rules", json: Self.shipRule)
            try api.expect(.created, created)
            #expect(created.headers[.eTag] == #""1""#)
            let rule = try created.json(AnyJSON.self)
            let id = try #require(rule["id"]?.int)
            #expect(rule["condition"]?["total_minor"]?["gte"]?.int == 1_000_000)
            #expect(rule["action"]?["team"]?.string == "logistics-apac")
            #expect(try await api.call(.post, "/v1/rules", json: Self.shipRule).status == .conflict, "names are unique")

            let page = try await api.call(.get, "/v1/rules?limit=4").json(AnyJSON.self)
            #expect(page["rules"]?.array.count == 4)
            let cursor = try #require(page["next_cursor"]?.string)
            #expect(try await Self.rules(api, query: "?after=\(cursor)").compactMap { $0["id"]?.int } == [5, id])
            #expect(try await Self.rules(api, query: "?on=order.confirmed").count == 2)

            let stale = try await api.call(.patch, "/v1/rules/\(id)", json: #"{"active":false}"#, headers: [Self.ifMatch: #""7""#])
            #expect(stale.status == .preconditionFailed)
            let edited = try await api.call(
                .patch,
                "/v1/rules/\(id)",
                json: #"{"active":false,"condition":{"lines":{"gt":10}}}"#,
                headers: [Self.ifMatch: #""1""#]
            )
            try api.expect(.ok, edited)
            #expect(edited.headers[.eTag] == #""2""#)
            let now = try edited.json(AnyJSON.self)
            #expect(now["active"]?.bool == false)
            #expect(now["condition"] == .object(["lines": .object(["gt": .number(10)])]))
            #expect(now["action"]?["title"]?.string == "Big order {{number}} for {{customer_name}}", "an action not given stays")
            #expect(try await Self.rules(api, query: "?on=order.confirmed&active=true").count == 1)
            #expect(try await api.call(.get, "/v1/rules/999999").status == .notFound)
        }
    }

    @Test func aConditionOrActionThatBreaksTheLanguageIs422NamingTheField() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            func rule(condition: String = "{}", action: String = #"{"department":"sales","kind":"k","title":"t"}"#) -> String {
                #"{"name":"r","on":"order.confirmed","condition":\#(condition),"action":\#(action)}"#
            }
            let tooMany = (1...21).map { #""f\#($0)":1"# }.joined(separator: ",")
            for (json, field) in [
                (rule(condition: #"{"kind":{"like":"%x"}}"#), "condition.kind"),
                (rule(condition: #"{"kind":{"in":[]}}"#), "condition.kind"),
                (rule(condition: #"{"kind":{"in":"complaint"}}"#), "condition.kind"),
                (rule(condition: #"{"kind":["complaint"]}"#), "condition.kind"),
                (rule(condition: #"{"total":{"gt":true}}"#), "condition.total"),
                (rule(condition: #"{"kind":{"exists":"yes"}}"#), "condition.kind"),
                (rule(condition: #"{"kind":{}}"#), "condition.kind"),
                (rule(condition: #"{"a..b":1}"#), "condition.a..b"),
                (rule(condition: #"{"x; DROP TABLE rules":1}"#), "condition.x; DROP TABLE rules"),
                (rule(condition: "{\(tooMany)}"), "condition"),
                (rule(action: #"{"kind":"k","title":"t"}"#), "action.team"),
                (rule(action: #"{"department":"sales","team":"sales-emea","kind":"k","title":"t"}"#), "action.team"),
                (rule(action: #"{"team":"nowhere-emea","kind":"k","title":"t"}"#), "action.team"),
                (rule(action: #"{"department":"sales","kind":"k","title":"Order {{number"}"#), "action.title"),
                (rule(action: #"{"department":"sales","kind":"k","title":"Order {{ no such }}"}"#), "action.title"),
                (rule(action: #"{"department":"sales","kind":"k","title":"   "}"#), "action.title"),
                (rule(action: #"{"department":"sales","kind":"k","title":"t","payload":{"n":"{{}}"}}"#), "action.payload.n"),
                (rule(action: #"{"department":"sales","kind":"k","title":"t","subject":{"id":""}}"#), "action.subject.id"),
            ] {
                let refused = try await api.call(.post, "/v1/rules", json: json)
                #expect(refused.status == .unprocessableContent, "\(json): \(refused.text)")
                #expect(try refused.errorEnvelope().error.details?["field"] == field, "\(json)")
            }
            // What the document's shape forbids is 400.
            for json in [
                #"{"name":"r","on":"Order Confirmed","action":{"department":"sales","kind":"k","title":"t"}}"#,
                #"{"name":"r","on":"order.confirmed","condition":[1],"action":{"department":"sales","kind":"k","title":"t"}}"#,
                #"{"name":"r","on":"order.confirmed","action":{"department":"accounts","kind":"k","title":"t"}}"#,
                #"{"name":"r","on":"order.confirmed","action":{"department":"sales","kind":"k","title":"t","payload":{"n":1}}}"#,
                #"{"name":"r","on":"order.confirmed","condition":null,"action":{"department":"sales","kind":"k","title":"t"}}"#,
            ] {
                #expect(try await api.call(.post, "/v1/rules", json: json).status == .badRequest, "\(json)")
            }
            // A null inside a condition is a value to compare with.
            try api.expect(.created, await api.call(.post, "/v1/rules", json: rule(condition: #"{"note":null}"#)))
            #expect(try await Self.count(database, "rules") == 6)
        }
    }

    @Test func aDryRunShowsTheTaskItWouldCreateAndWritesNothing() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let atRisk = try await Self.ruleID(api, named: "Complaint about an owned customer: account at risk")
            let events = try await Self.count(database, "events")
            let owned = #"""
                {"entity_type":"case","entity_id":"17","region":"emea",
                 "data":{"case_id":17,"kind":"complaint","subject":"Pump leaks","customer":{"id":4,"name":"Acme","owned":true,"owner_id":9}}}
                """#
            let trial = try await api.call(.post, "/v1/rules/\(atRisk)/test", json: owned)
            try api.expect(.ok, trial)
            let result = try trial.json(AnyJSON.self)
            #expect(result["matches"]?.bool == true)
            #expect(result["task"]?["team"]?.string == "sales-emea")
            #expect(result["task"]?["kind"]?.string == "complaint_notice")
            #expect(result["task"]?["priority"]?.string == "high")
            #expect(result["task"]?["title"]?.string == "Account at risk: Acme complained: Pump leaks")
            #expect(result["task"]?["payload"] == .object(["case_id": .string("17"), "customer_id": .string("4"), "owner_id": .string("9")]))
            #expect(result["task"]?["subject"] == .object(["type": .string("case"), "id": .string("17")]))

            let unowned = owned.replacingOccurrences(of: #""owned":true"#, with: #""owned":false"#)
            let miss = try await api.call(.post, "/v1/rules/\(atRisk)/test", json: unowned).json(AnyJSON.self)
            #expect(miss["matches"]?.bool == false)
            #expect(miss["reason"]?.string?.contains("customer.owned") == true)
            #expect(miss["task"] == nil)
            let otherType = try await api.call(.post, "/v1/rules/\(atRisk)/test", json: #"{"type":"case.resolved","data":{}}"#)
            #expect(try otherType.json(AnyJSON.self)["matches"]?.bool == false)

            let unknownRegion = try await api.call(.post, "/v1/rules/\(atRisk)/test", json: owned.replacingOccurrences(of: "emea", with: "mars"))
            #expect(unknownRegion.status == .unprocessableContent)
            #expect(try unknownRegion.errorEnvelope().error.details?["field"] == "region")
            for type in ["Not A Type", ""] {
                #expect(try await api.call(.post, "/v1/rules/\(atRisk)/test", json: #"{"type":"\#(type)","data":{}}"#).status == .badRequest)
            }
            #expect(try await api.call(.post, "/v1/rules/999999/test", json: owned).status == .notFound)
            #expect(try await Self.count(database, "tasks") == 0)
            #expect(try await Self.count(database, "events") == events)
        }
    }

    @Test func aWonOpportunityQueuesOneRaiseTheOrderTaskInTheRegionsSalesTeamPerWin() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Pumpen Müller")
            let deal = try await Self.deal(api, customer: customer)
            try api.expect(.ok, await api.call(.post, "/v1/opportunities/\(deal)/win", json: "{}"))
            var raised = try await Self.tasks(database, kind: "raise_order")
            #expect(raised.count == 1)
            #expect(raised.first?.team == "sales-emea")
            #expect(raised.first?.title == "Raise the order for Pumpen Müller: Forty pumps")
            #expect(raised.first?.subject == "opportunity:\(deal)")
            let task = try await api.call(.get, "/v1/tasks?team=sales-emea&kind=raise_order").json(AnyJSON.self)["tasks"]?[0]
            #expect(task?["payload"]?["amount_minor"]?.string == "5160000")

            // A deal reopened and won again is a new occurrence: one more task, not two.
            try api.expect(.ok, await api.call(.post, "/v1/opportunities/\(deal)/reopen", json: "{}"))
            try api.expect(.ok, await api.call(.post, "/v1/opportunities/\(deal)/win", json: "{}"))
            raised = try await Self.tasks(database, kind: "raise_order")
            #expect(raised.count == 2)
            #expect(try await Self.count(database, "rule_firings") == 2)
        }
    }

    @Test func aRuleNeverMakesTwoTasksForOneEventHoweverOftenTheHookRuns() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let services = BatonServices(database: database)
            let principal = Principal.system(source: "cli")
            let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
            let event = RuleEvent(
                type: "order.confirmed",
                entityType: "order",
                entityID: "42",
                region: "emea",
                data: ["order_id": .integer(42), "number": .string("SO-42"), "customer_name": .string("Acme"), "lines": .integer(3)]
            )
            let woken = try await database.pool.transaction { tx -> [Set<String>] in
                try await EventStore(pool: database.pool).append(
                    type: "order.confirmed",
                    entityType: "order",
                    entityID: "42",
                    team: nil,
                    region: "emea",
                    by: principal,
                    on: tx
                )
                let first = try await services.handoffRules.react(to: [event], by: principal, catalog: catalog, on: tx)
                let second = try await services.handoffRules.react(to: [event], by: principal, catalog: catalog, on: tx)
                return [first, second]
            }
            #expect(woken == [["logistics-emea"], []])
            let shipped = try await Self.tasks(database, kind: "ship_order")
            #expect(shipped.map(\.title) == ["Ship order SO-42 to Acme (3 lines)"])
            #expect(shipped.map(\.subject) == ["order:42"])

            // An event this transaction did not write is a caller's mistake, not a task.
            await #expect(throws: BatonError.self) {
                try await database.pool.transaction { tx in
                    _ = try await services.handoffRules.react(to: [event], by: principal, catalog: catalog, on: tx)
                }
            }
            #expect(try await Self.tasks(database, kind: "ship_order").count == 1)
        }
    }

    @Test func aComplaintAboutAnOwnedCustomerTellsSalesTheAccountIsAtRiskAndOthersDoNot() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"Ada","email":"ada@example.com"}"#)
            let owner = try #require(try member.json(AnyJSON.self)["id"]?.int)
            let owned = try await Self.customer(api, name: "Owned AG", owner: owner)
            let unowned = try await Self.customer(api, name: "Unowned AG")
            for (customer, kind) in [(owned, "complaint"), (owned, "inquiry"), (unowned, "complaint")] {
                let json = #"{"customer_id":\#(customer),"kind":"\#(kind)","subject":"Pump leaks"}"#
                try api.expect(.created, await api.call(.post, "/v1/cases", json: json))
            }
            let notices = try await Self.tasks(database, kind: "complaint_notice")
            #expect(notices.map(\.team) == ["sales-emea"])
            #expect(notices.map(\.title) == ["Account at risk: Owned AG complained: Pump leaks"])
        }
    }

    @Test func stockBelowItsReorderPointQueuesTheRulesTaskOncePerCrossing() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let product = #"{"sku":"VALVE-7","name":"Valve 7","unit_price_minor":900,"currency":"EUR"}"#
            try api.expect(.created, await api.call(.post, "/v1/products", json: product))
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/VALVE-7/receive", json: #"{"quantity":10}"#))
            let settings = try await api.call(.patch, "/v1/stock/emea/VALVE-7", json: #"{"reorder_point":4}"#, headers: [Self.ifMatch: #""1""#])
            try api.expect(.ok, settings)
            func adjust(_ delta: Int) async throws {
                try api.expect(.ok, await api.call(.post, "/v1/stock/emea/VALVE-7/adjust", json: #"{"delta":\#(delta),"reason":"count"}"#))
            }
            try await adjust(-7)
            try await adjust(-1)
            var restock = try await Self.tasks(database, kind: "restock")
            #expect(restock.map(\.team) == ["logistics-emea"], "one task per crossing")
            #expect(restock.first?.title == "Restock VALVE-7 (Valve 7): 3 available, reorder point 4")
            #expect(restock.first?.subject == "stock:emea/VALVE-7")

            // The rule is data: an edited title shows in the next crossing's task; a rule
            // switched off makes none.
            let id = try await Self.ruleID(api, named: "Below reorder point: restock")
            let action = #"{"department":"logistics","kind":"restock","title":"Reorder {{reorder_quantity}} x {{sku}}","subject":{}}"#
            try api.expect(.ok, await api.call(.patch, "/v1/rules/\(id)", json: #"{"action":\#(action)}"#, headers: [Self.ifMatch: #""1""#]))
            try await adjust(5)
            try await adjust(-5)
            restock = try await Self.tasks(database, kind: "restock")
            #expect(restock.map(\.title).last == "Reorder 0 x VALVE-7")
            #expect(restock.last?.subject.hasPrefix("stock:emea/") == true, "the event's entity when the subject names no parts")
            try api.expect(.ok, await api.call(.patch, "/v1/rules/\(id)", json: #"{"active":false}"#, headers: [Self.ifMatch: #""2""#]))
            try await adjust(5)
            try await adjust(-5)
            #expect(try await Self.tasks(database, kind: "restock").count == 2)
            let below = try await api.call(.get, "/v1/stock/emea/VALVE-7").json(AnyJSON.self)["below_reorder"]?.bool
            #expect(below == true, "the crossing is still recorded")
        }
    }

    @Test func aWriteThatFailsAfterItsRulesLeavesNoTask() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Rolled Back Ltd")
            let deal = try await Self.deal(api, customer: customer)
            // The shipped rule fires first (sales-emea has a team); this one then finds no
            // coordination team in EMEA, and the win fails as a whole.
            let coordination = #"""
                {"name":"Wins to the coordinators","on":"opportunity.won","action":{"department":"coordination","kind":"celebrate","title":"Won {{title}}"}}
                """#
            let created = try await api.call(.post, "/v1/rules", json: coordination)
            try api.expect(.created, created)
            let id = try #require(try created.json(AnyJSON.self)["id"]?.int)
            let refused = try await api.call(.post, "/v1/opportunities/\(deal)/win", json: "{}")
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.errorEnvelope().error.details?["rule_id"] == String(id))
            #expect(try await api.call(.get, "/v1/opportunities/\(deal)").json(AnyJSON.self)["outcome"]?.string == "open")
            #expect(try await Self.count(database, "tasks") == 0)
            #expect(try await Self.count(database, "rule_firings") == 0)
            let won = try await database.pool.query("SELECT count(*) AS n FROM events WHERE type = 'opportunity.won'").first
            #expect(try won?.decode(Int.self, "n") == 0)

            try api.expect(.ok, await api.call(.patch, "/v1/rules/\(id)", json: #"{"active":false}"#, headers: [Self.ifMatch: #""1""#]))
            try api.expect(.ok, await api.call(.post, "/v1/opportunities/\(deal)/win", json: "{}"))
            #expect(try await Self.tasks(database, kind: "raise_order").count == 1)
        }
    }

    @Test func coordinatorsReadAndTryRulesAndOnlyAdminsChangeThem() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let coordinator = try await api.makeToken(role: "coordinator", regions: ["emea"])
            let lead = try await api.makeToken(role: "lead", teams: ["sales-emea"])
            let viewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            let id = try await Self.ruleID(api, named: "Won deal: raise the order")
            let sample = #"{"region":"emea","data":{"title":"Forty pumps","customer_name":"Acme"}}"#
            #expect(try await api.call(.get, "/v1/rules", token: coordinator).status == .ok)
            #expect(try await api.call(.get, "/v1/rules/\(id)", token: coordinator).status == .ok)
            let trial = try await api.call(.post, "/v1/rules/\(id)/test", json: sample, token: coordinator)
            try api.expect(.ok, trial)
            #expect(try trial.json(AnyJSON.self)["task"]?["title"]?.string == "Raise the order for Acme: Forty pumps")
            #expect(try await api.call(.post, "/v1/rules", json: Self.shipRule, token: coordinator).status == .forbidden)
            let edit = try await api.call(.patch, "/v1/rules/\(id)", json: #"{"active":false}"#, token: coordinator, headers: [Self.ifMatch: #""1""#])
            #expect(edit.status == .forbidden)
            for token in [lead, viewer] {
                #expect(try await api.call(.get, "/v1/rules", token: token).status == .forbidden)
                #expect(try await api.call(.post, "/v1/rules/\(id)/test", json: sample, token: token).status == .forbidden)
            }
        }
    }

    @Test func batonctlListsRulesAndTriesOneAgainstAnEventFile() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let listed = try CLIEndToEndTests.batonctl(["rules", "list"], url: api.url)
            #expect(listed.status == 0, "\(listed.error)")
            #expect(listed.output.contains("stock.below_reorder"))
            #expect(listed.output.contains("logistics of the region"))
            let id = try await Self.ruleID(api, named: "Confirmed order: ship it")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("rule-event-\(UUID().uuidString).json")
            defer { try? FileManager.default.removeItem(at: file) }
            try #"{"entity_type":"order","entity_id":"7","region":"apac","data":{"number":"SO-7","customer_name":"Tata","lines":2}}"#
                .write(to: file, atomically: true, encoding: .utf8)
            let tried = try CLIEndToEndTests.batonctl(["rules", "test", String(id), "--event", file.path], url: api.url)
            #expect(tried.status == 0, "\(tried.error)")
            #expect(tried.output.contains("logistics-apac: Ship order SO-7 to Tata (2 lines)"))
            let missing = try CLIEndToEndTests.batonctl(["rules", "test", String(id), "--event", "/nonexistent.json"], url: api.url)
            #expect(missing.status == 1)
        }
    }
}
