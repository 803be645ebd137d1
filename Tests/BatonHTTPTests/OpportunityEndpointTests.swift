import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// The pipeline through the API: opportunities moved through their region's stages, won, lost
/// and reopened with every move recorded; the pipeline summary; each region's stages and lost
/// reasons; campaigns and what they brought in; and who may do which.
@Suite(.requiresDatabase) struct OpportunityEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    static func customer(_ api: API, _ name: String, region: String = "emea", extra: String = "") async throws -> Int {
        let response = try await api.call(.post, "/v1/customers", json: #"{"region":"\#(region)","name":"\#(name)"\#(extra)}"#)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["customer"]?["id"]?.int)
    }

    static func opportunity(
        _ api: API,
        customer: Int,
        amount: Int = 1_000,
        currency: String = "EUR",
        extra: String = ""
    ) async throws
        -> AnyJSON
    {
        let response = try await api.call(
            .post,
            "/v1/opportunities",
            json: #"{"customer_id":\#(customer),"title":"Deal","amount_minor":\#(amount),"currency":"\#(currency)"\#(extra)}"#
        )
        try api.expect(.created, response)
        return try response.json(AnyJSON.self)
    }

    /// Posts an action and returns the status and the body.
    static func act(_ api: API, _ id: Int, _ action: String, _ json: String? = nil, token: String? = nil) async throws -> (Int, AnyJSON) {
        let response = try await api.call(.post, "/v1/opportunities/\(id)/\(action)", json: json, token: token.map { .some($0) } ?? .none)
        return (Int(response.status.code), try response.json(AnyJSON.self))
    }

    @Test func everyMoveOfTheStateMachineIsAllowedOrRefusedWithItsStatus() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, "Nordwind Logistik")
            let created = try await Self.opportunity(api, customer: customer, amount: 250_000)
            let id = try #require(created["id"]?.int)
            #expect(created["stage"]?.string == "new", "the region's first stage")
            #expect(created["outcome"]?.string == "open")
            #expect(created["effective_probability"]?.int == 10, "the stage's probability")

            var (status, body) = try await Self.act(api, id, "stage", #"{"stage":"qualified","note":"budget confirmed"}"#)
            #expect(status == 200)
            #expect(body["stage"]?.string == "qualified")
            #expect(body["version"]?.int == 2)
            (status, body) = try await Self.act(api, id, "stage", #"{"stage":"qualified"}"#)
            #expect(status == 409, "already in that stage")
            (status, body) = try await Self.act(api, id, "stage", #"{"stage":"bogus"}"#)
            #expect(status == 422)
            #expect(body["error"]?["details"]?["field"]?.string == "stage")
            (status, body) = try await Self.act(api, id, "reopen")
            #expect(status == 409, "an open deal does not reopen")

            (status, body) = try await Self.act(api, id, "win", #"{"note":"signed"}"#)
            #expect(status == 200)
            #expect(body["outcome"]?.string == "won")
            #expect(body["stage"]?.string == "qualified", "a won deal keeps the stage it was won from")
            #expect(body["closed_at"]?.string != nil)
            #expect(body["days_to_close"]?.int == 0)
            for (action, json) in [("win", nil), ("lose", #"{"reason":"price"}"#), ("stage", #"{"stage":"proposal"}"#)] {
                (status, body) = try await Self.act(api, id, action, json)
                #expect(status == 409, "\(action) on a won deal")
                #expect(body["error"]?["details"]?["outcome"]?.string == "won")
            }

            (status, body) = try await Self.act(api, id, "reopen", #"{"stage":"proposal"}"#)
            #expect(status == 200)
            #expect(body["outcome"]?.string == "open")
            #expect(body["stage"]?.string == "proposal")
            #expect(body["closed_at"] == nil)
            (status, body) = try await Self.act(api, id, "lose", #"{}"#)
            #expect(status == 400, "a reason is required")
            (status, body) = try await Self.act(api, id, "lose", #"{"reason":"astrology"}"#)
            #expect(status == 422)
            #expect(body["error"]?["message"]?.string?.contains("price") == true, "the message lists the region's reasons")
            (status, body) = try await Self.act(api, id, "lose", #"{"reason":"competitor","note":"went with Globex"}"#)
            #expect(status == 200)
            #expect(body["outcome"]?.string == "lost")
            #expect(body["lost_reason"]?.string == "competitor")

            let transitions = try await api.call(.get, "/v1/opportunities/\(id)/transitions").json(AnyJSON.self)["transitions"]?.array ?? []
            #expect(transitions.compactMap { $0["action"]?.string } == ["created", "stage", "won", "reopened", "lost"])
            #expect(transitions[1]["from_stage"]?.string == "new")
            #expect(transitions[1]["to_stage"]?.string == "qualified")
            #expect(transitions[1]["note"]?.string == "budget confirmed")
            #expect(transitions[4]["reason"]?.string == "competitor")
            #expect(transitions[4]["from_outcome"]?.string == "open")
            #expect(transitions[0]["seconds_until_next"]?.int != nil, "time in the first stage")
            #expect(transitions[4]["seconds_until_next"] == nil, "a closed deal's last state has no end")

            // The events are on the feed, written in the moves' transactions. The feed shows an
            // event once every older transaction has ended (its gap-free rule), so ask until then.
            var types: [String] = []
            for _ in 0..<30 {
                let events = try await api.call(.get, "/v1/events?limit=1000").json(AnyJSON.self)["events"]?.array ?? []
                types = events.filter { $0["entity_type"]?.string == "opportunity" }.compactMap { $0["type"]?.string }
                if types.count >= 5 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                types == ["opportunity.created", "opportunity.stage_changed", "opportunity.won", "opportunity.reopened", "opportunity.lost"]
            )

            // The customer's timeline shows the moves, newest first.
            let timeline = try await api.call(.get, "/v1/customers/\(customer)/timeline").json(AnyJSON.self)["entries"]?.array ?? []
            let moves = timeline.filter { $0["kind"]?.string == "opportunity" }
            #expect(moves.compactMap { $0["type"]?.string } == ["lost", "reopened", "won", "stage", "created"])
            #expect(moves.first?["summary"]?.string == "Deal: lost (competitor)")
            #expect(moves.first?["link"]?.string == "/v1/opportunities/\(id)")
        }
    }

    @Test func editsNeedTheCurrentVersionAndTwoAtOnceCannotBothWin() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, "Helios Energie")
            let id = try #require(try await Self.opportunity(api, customer: customer)["id"]?.int)
            async let first = api.call(.patch, "/v1/opportunities/\(id)", json: #"{"amount_minor":2000}"#, headers: [Self.ifMatch: #""1""#])
            async let second = api.call(.patch, "/v1/opportunities/\(id)", json: #"{"amount_minor":3000}"#, headers: [Self.ifMatch: #""1""#])
            let answers = try await [first, second]
            #expect(answers.map(\.status.code).sorted() == [200, 412])
            let loser = try #require(answers.first { $0.status == .preconditionFailed })
            #expect(try loser.errorEnvelope().error.details?["version"] == "2")

            let edited = try await api.call(
                .patch,
                "/v1/opportunities/\(id)",
                json: #"{"probability":80,"expected_close":"2027-01-31","title":"Helios rollout"}"#,
                headers: [Self.ifMatch: #""2""#]
            )
            try api.expect(.ok, edited)
            #expect(edited.headers[.eTag] == #""3""#)
            let body = try edited.json(AnyJSON.self)
            #expect(body["effective_probability"]?.int == 80)
            #expect(body["expected_close"]?.string == "2027-01-31")
            let cleared = try await api.call(
                .patch,
                "/v1/opportunities/\(id)",
                json: #"{"probability":-1,"expected_close":""}"#,
                headers: [Self.ifMatch: #""3""#]
            )
            try api.expect(.ok, cleared)
            #expect(try cleared.json(AnyJSON.self)["effective_probability"]?.int == 10, "back to the stage's")
            #expect(try cleared.json(AnyJSON.self)["expected_close"] == nil)
            // Bad input changes nothing.
            let bad = try await api.call(.patch, "/v1/opportunities/\(id)", json: #"{"currency":"euro"}"#, headers: [Self.ifMatch: #""4""#])
            #expect(bad.status == .badRequest)
            let unknownOwner = try await api.call(.patch, "/v1/opportunities/\(id)", json: #"{"owner_id":9999}"#, headers: [Self.ifMatch: #""4""#])
            #expect(unknownOwner.status == .unprocessableContent)
            #expect(try await api.call(.get, "/v1/opportunities/\(id)").headers[.eTag] == #""4""#)
        }
    }

    @Test func thePipelineSumsOpenDealsPerStageAndCurrencyAndWeighsThem() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, "Orbis Retail")
            _ = try await Self.opportunity(api, customer: customer, amount: 1_000)
            _ = try await Self.opportunity(api, customer: customer, amount: 3_000)
            _ = try await Self.opportunity(api, customer: customer, amount: 500, currency: "USD")
            _ = try await Self.opportunity(api, customer: customer, amount: 2_000, extra: #","stage":"proposal","probability":90"#)
            let won = try #require(try await Self.opportunity(api, customer: customer, amount: 7_000)["id"]?.int)
            let lost = try #require(try await Self.opportunity(api, customer: customer, amount: 9_000)["id"]?.int)
            let lostToo = try #require(try await Self.opportunity(api, customer: customer, amount: 9_000)["id"]?.int)
            #expect(try await Self.act(api, won, "win").0 == 200)
            #expect(try await Self.act(api, lost, "lose", #"{"reason":"price"}"#).0 == 200)
            #expect(try await Self.act(api, lostToo, "lose", #"{"reason":"timing"}"#).0 == 200)
            let apacCustomer = try await Self.customer(api, "Sakura Foods", region: "apac")
            _ = try await Self.opportunity(api, customer: apacCustomer, amount: 123_000)

            let response = try await api.call(.get, "/v1/pipeline?region=emea")
            try api.expect(.ok, response)
            let regions = try response.json(AnyJSON.self)["regions"]?.array ?? []
            #expect(regions.count == 1)
            let stages = regions.first?["stages"]?.array ?? []
            #expect(stages.compactMap { $0["stage"]?.string } == ["new", "qualified", "proposal", "negotiation"])
            #expect(stages[0]["count"]?.int == 3)
            let amounts = stages[0]["amounts"]?.array ?? []
            #expect(amounts.compactMap { $0["currency"]?.string } == ["EUR", "USD"], "currencies are never added up")
            #expect(amounts[0]["amount_minor"]?.int == 4_000)
            #expect(amounts[0]["weighted_minor"]?.int == 400)
            #expect(amounts[1]["amount_minor"]?.int == 500)
            #expect(stages[1]["count"]?.int == 0)
            #expect(stages[2]["amounts"]?.array.first?["weighted_minor"]?.int == 1_800, "the deal's own probability")
            #expect(stages[0]["average_days_in_stage"]?.double == 0)
            let rate = regions.first?["win_rate"]
            #expect(rate?["won"]?.int == 1)
            #expect(rate?["lost"]?.int == 2)
            #expect(rate?["rate"]?.double.map { abs($0 - 1.0 / 3.0) < 1e-9 } == true)

            // Without a region: every region the caller reaches; a scoped caller sees only its own.
            let all = try await api.call(.get, "/v1/pipeline").json(AnyJSON.self)["regions"]?.array ?? []
            #expect(all.compactMap { $0["region"]?.string } == ["apac", "emea"])
            let emeaViewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            let scoped = try await api.call(.get, "/v1/pipeline", token: emeaViewer).json(AnyJSON.self)["regions"]?.array ?? []
            #expect(scoped.compactMap { $0["region"]?.string } == ["emea"])
            #expect(try await api.call(.get, "/v1/pipeline?region=apac", token: emeaViewer).status == .notFound)
            #expect(try await api.call(.get, "/v1/pipeline?window_days=0").status == .badRequest)
        }
    }

    @Test func aRegionsStagesAndLostReasonsAreConfigurable() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let defaults = try await api.call(.get, "/v1/regions/emea/pipeline").json(AnyJSON.self)
            #expect(defaults["stages"]?.array.compactMap { $0["stage"]?.string } == ["new", "qualified", "proposal", "negotiation"])
            #expect(defaults["lost_reasons"]?.array.contains { $0["reason"]?.string == "competitor" } == true)

            let customer = try await Self.customer(api, "Vega Pharma")
            let id = try #require(try await Self.opportunity(api, customer: customer, extra: #","stage":"qualified""#)["id"]?.int)
            let replacement = #"""
                {"stages":[{"stage":"new","name":"New","probability":5},{"stage":"discovery","name":"Discovery","probability":30},
                           {"stage":"proposal","name":"Proposal","probability":60}],
                 "lost_reasons":[{"reason":"price","name":"Price"},{"reason":"regulation","name":"Regulation"}]}
                """#
            let busy = try await api.call(.put, "/v1/regions/emea/pipeline", json: replacement)
            #expect(busy.status == .conflict, "an open deal is in the stage left out")
            #expect(try busy.errorEnvelope().error.details?["stage"] == "qualified")
            #expect(try await Self.act(api, id, "stage", #"{"stage":"proposal"}"#).0 == 200)
            let replaced = try await api.call(.put, "/v1/regions/emea/pipeline", json: replacement)
            try api.expect(.ok, replaced)
            #expect(try replaced.json(AnyJSON.self)["stages"]?.array.compactMap { $0["stage"]?.string } == ["new", "discovery", "proposal"])
            #expect(try await Self.act(api, id, "stage", #"{"stage":"qualified"}"#).0 == 422, "a retired stage takes no deals")
            #expect(try await Self.act(api, id, "lose", #"{"reason":"competitor"}"#).0 == 422, "a retired reason is refused")
            #expect(try await Self.act(api, id, "lose", #"{"reason":"regulation"}"#).0 == 200)
            // The other region keeps its own list.
            let apac = try await api.call(.get, "/v1/regions/apac/pipeline").json(AnyJSON.self)
            #expect(apac["stages"]?.array.count == 4)

            let duplicate = try await api.call(
                .put,
                "/v1/regions/emea/pipeline",
                json:
                    #"{"stages":[{"stage":"new","name":"A","probability":5},{"stage":"new","name":"B","probability":6}],"lost_reasons":[{"reason":"price","name":"Price"}]}"#
            )
            #expect(duplicate.status == .unprocessableContent)
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            #expect(try await api.call(.put, "/v1/regions/emea/pipeline", json: replacement, token: agent).status == .forbidden)
            #expect(try await api.call(.get, "/v1/regions/apac/pipeline", token: agent).status == .notFound)
            #expect(try await api.call(.get, "/v1/regions/mars/pipeline").status == .notFound)
        }
    }

    @Test func aCampaignsLeadsLandInSalesAndItsResultsAddUp() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let created = try await api.call(
                .post,
                "/v1/campaigns",
                json:
                    #"{"region":"emea","name":"Hannover Messe","channel":"events","budget_minor":100000,"currency":"EUR","starts_on":"2026-04-20","ends_on":"2026-04-24"}"#
            )
            try api.expect(.created, created)
            let campaign = try #require(try created.json(AnyJSON.self)["id"]?.int)
            let lead = try await Self.customer(api, "Kranich Maschinenbau", extra: #","campaign_id":\#(campaign)"#)
            _ = try await Self.customer(api, "Falke Werkzeuge", extra: #","campaign_id":\#(campaign)"#)
            _ = try await Self.customer(api, "Unrelated GmbH")

            // Each lead landed as a task in the region's sales queue, about the customer.
            let tasks = try await api.call(.get, "/v1/tasks?team=sales-emea&kind=campaign_lead").json(AnyJSON.self)["tasks"]?.array ?? []
            #expect(tasks.count == 2)
            #expect(tasks.contains { $0["subject"]?["id"]?.string == String(lead) })

            let deal = try await Self.opportunity(api, customer: lead, amount: 50_000)
            #expect(deal["campaign_id"]?.int == campaign, "a lead's deal carries its campaign")
            let dealID = try #require(deal["id"]?.int)
            #expect(try await Self.act(api, dealID, "stage", #"{"stage":"qualified"}"#).0 == 200)
            #expect(try await Self.act(api, dealID, "win").0 == 200)
            let stalled = try #require(try await Self.opportunity(api, customer: lead, amount: 8_000)["id"]?.int)
            #expect(try await Self.act(api, stalled, "lose", #"{"reason":"no_budget"}"#).0 == 200)

            let results = try await api.call(.get, "/v1/campaigns/\(campaign)/results")
            try api.expect(.ok, results)
            let figures = try results.json(AnyJSON.self)
            #expect(figures["leads"]?.int == 2)
            #expect(figures["opportunities"]?.int == 2)
            #expect(figures["qualified"]?.int == 1, "the lost deal never left the first stage")
            #expect(figures["won"]?.int == 1)
            #expect(figures["revenue"]?.array.first?["amount_minor"]?.int == 50_000)
            #expect(figures["cost_per_lead_minor"]?.int == 50_000)
            #expect(figures["cost_per_won_minor"]?.int == 100_000)

            // A campaign of another region cannot source this region's customers.
            let apacCampaign = try await api.call(
                .post,
                "/v1/campaigns",
                json: #"{"region":"apac","name":"Tokyo webinar","channel":"email","currency":"JPY"}"#
            )
            let apacID = try #require(try apacCampaign.json(AnyJSON.self)["id"]?.int)
            let wrong = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Elster AG","campaign_id":\#(apacID)}"#)
            #expect(wrong.status == .unprocessableContent)
            #expect(try wrong.errorEnvelope().error.details?["field"] == "campaign_id")

            let edit = try await api.call(.patch, "/v1/campaigns/\(campaign)", json: #"{"budget_minor":200000}"#, headers: [Self.ifMatch: #""1""#])
            try api.expect(.ok, edit)
            let stale = try await api.call(.patch, "/v1/campaigns/\(campaign)", json: #"{"budget_minor":1}"#, headers: [Self.ifMatch: #""1""#])
            #expect(stale.status == .preconditionFailed)
            let backwards = try await api.call(
                .patch,
                "/v1/campaigns/\(campaign)",
                json: #"{"ends_on":"2026-01-01"}"#,
                headers: [Self.ifMatch: #""2""#]
            )
            #expect(backwards.status == .unprocessableContent, "the end before the start")
            let listed = try await api.call(.get, "/v1/campaigns?region=emea").json(AnyJSON.self)["campaigns"]?.array ?? []
            #expect(listed.compactMap { $0["name"]?.string } == ["Hannover Messe"])
        }
    }

    @Test func eachRoleReachesWhatItMayAndNoMore() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, "Atlas Bau")
            let id = try #require(try await Self.opportunity(api, customer: customer)["id"]?.int)
            let viewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            let apacAgent = try await api.makeToken(role: "agent", teams: ["sales-apac"])

            #expect(try await api.call(.get, "/v1/opportunities/\(id)", token: viewer).status == .ok)
            #expect(try await Self.act(api, id, "stage", #"{"stage":"qualified"}"#, token: viewer).0 == 403)
            let viewerCreate = try await api.call(
                .post,
                "/v1/opportunities",
                json: #"{"customer_id":\#(customer),"title":"x","amount_minor":1,"currency":"EUR"}"#,
                token: viewer
            )
            #expect(viewerCreate.status == .forbidden)

            #expect(try await api.call(.get, "/v1/opportunities/\(id)", token: apacAgent).status == .notFound)
            #expect(try await Self.act(api, id, "win", token: apacAgent).0 == 404)
            let apacCreate = try await api.call(
                .post,
                "/v1/opportunities",
                json: #"{"customer_id":\#(customer),"title":"x","amount_minor":1,"currency":"EUR"}"#,
                token: apacAgent
            )
            #expect(apacCreate.status == .unprocessableContent, "the customer is out of its reach")
            let apacList = try await api.call(.get, "/v1/opportunities", token: apacAgent).json(AnyJSON.self)["opportunities"]?.array
            #expect(apacList?.isEmpty == true)

            #expect(try await Self.act(api, id, "stage", #"{"stage":"qualified"}"#, token: agent).0 == 200)
            #expect(try await api.call(.delete, "/v1/opportunities/\(id)", token: agent).status == .forbidden, "only an admin deletes")
            #expect(try await api.call(.delete, "/v1/opportunities/\(id)").status == .ok)
            #expect(try await api.call(.get, "/v1/opportunities/\(id)").status == .notFound)
            let listed = try await api.call(.get, "/v1/opportunities?customer_id=\(customer)").json(AnyJSON.self)["opportunities"]?.array
            #expect(listed?.isEmpty == true, "a deleted deal is not listed")
        }
    }
}
