import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Customer cases through the API: opening one queues work in the owning team, the state
/// machine with every allowed and refused action, SLA holds while waiting on the customer,
/// resolving and reopening within the region's window, edits under If-Match, who reaches which
/// case, feedback with CSAT per period, and cases and feedback on the customer's timeline.
@Suite(.requiresDatabase) struct CaseEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    static func customer(_ api: API, name: String, region: String = "emea", extra: String = "") async throws -> Int {
        let response = try await api.call(.post, "/v1/customers", json: #"{"region":"\#(region)","name":"\#(name)","force":true\#(extra)}"#)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["customer"]?["id"]?.int)
    }

    /// Opens a case as the admin and returns it.
    static func open(_ api: API, customer: Int, kind: String = "inquiry", extra: String = "") async throws -> AnyJSON {
        let response = try await api.call(
            .post,
            "/v1/cases",
            json: #"{"customer_id":\#(customer),"kind":"\#(kind)","subject":"The parcel is late","channel":"email"\#(extra)}"#
        )
        try api.expect(.created, response)
        return try response.json(AnyJSON.self)
    }

    static func act(_ api: API, _ id: Int, _ action: String, _ json: String? = nil, token: String? = nil) async throws -> TestResponse {
        try await api.call(.post, "/v1/cases/\(id)/\(action)", json: json, token: token.map { .some($0) } ?? .none)
    }

    /// The tasks whose subject is the case: kind, team and state.
    static func tasks(of caseID: Int, _ database: BatonDatabase) async throws -> [(kind: String, team: String, state: String)] {
        try await database.pool.query(
            "SELECT kind, team, state FROM tasks WHERE subject_type = 'case' AND subject_id = $1 ORDER BY id",
            [String(caseID)]
        ).map { (try $0.decode(String.self, "kind"), try $0.decode(String.self, "team"), try $0.decode(String.self, "state")) }
    }

    @Test func openingACaseQueuesATaskInTheRegionsSupportTeamAboutTheCase() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Late Parcels GmbH")
            let response = try await api.call(
                .post,
                "/v1/cases",
                json: #"{"customer_id":\#(customer),"kind":"inquiry","subject":"Where is my order?","priority":"high"}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "case-1"]
            )
            try api.expect(.created, response)
            #expect(response.headers[.eTag] == #""1""#)
            let opened = try response.json(AnyJSON.self)
            let id = try #require(opened["id"]?.int)
            #expect(opened["state"]?.string == "new")
            #expect(opened["team"]?.string == "support-emea")
            #expect(opened["region"]?.string == "emea")
            let taskID = try #require(opened["task_id"]?.int)
            let task = try await api.call(.get, "/v1/tasks/\(taskID)").json(AnyJSON.self)
            #expect(task["task"]?["team"]?.string == "support-emea")
            #expect(task["task"]?["kind"]?.string == "case_inquiry")
            #expect(task["task"]?["priority"]?.string == "high")
            #expect(task["task"]?["subject"]?["type"]?.string == "case")
            #expect(task["task"]?["subject"]?["id"]?.string == String(id))
            // The same key and body: the first case again, and no second task.
            let replay = try await api.call(
                .post,
                "/v1/cases",
                json: #"{"customer_id":\#(customer),"kind":"inquiry","subject":"Where is my order?","priority":"high"}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "case-1"]
            )
            #expect(try replay.json(AnyJSON.self)["id"]?.int == id)
            #expect(try await Self.tasks(of: id, database).count == 1)
            let transitions = try await api.call(.get, "/v1/cases/\(id)/transitions").json(AnyJSON.self)["transitions"]?.array ?? []
            #expect(transitions.count == 1)
            #expect(transitions.first?["from"] == nil)
            #expect(transitions.first?["to"]?.string == "new")
            let events = try await database.pool.query(
                "SELECT type, region FROM events WHERE entity_type = 'case' AND entity_id = $1 ORDER BY id",
                [String(id)]
            )
            #expect(try events.map { try $0.decode(String.self, "type") } == ["case.opened"])
            #expect(try events.first?.decode(String.self, "region") == "emea")
            // A named team owns it instead.
            let named = try await Self.open(api, customer: customer, extra: #","team":"logistics-emea""#)
            #expect(named["team"]?.string == "logistics-emea")
            #expect(try await Self.tasks(of: try #require(named["id"]?.int), database).map(\.team) == ["logistics-emea"])
            // Precise refusals, and nothing written for them.
            let other = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Other","contacts":[{"name":"Z"}]}"#)
            let foreignContact = try #require(try other.json(AnyJSON.self)["contacts"]?[0]?["id"]?.int)
            for (json, field) in [
                (#"{"customer_id":\#(customer),"kind":"inquiry","subject":"x","team":"nowhere-emea"}"#, "team"),
                (#"{"customer_id":\#(customer),"kind":"inquiry","subject":"x","team":"Not A Team!"}"#, "team"),
                (#"{"customer_id":\#(customer),"kind":"inquiry","subject":"   "}"#, "subject"),
                (#"{"customer_id":\#(customer),"kind":"inquiry","subject":"x","contact_id":\#(foreignContact)}"#, "contact_id"),
                (#"{"customer_id":999999,"kind":"inquiry","subject":"x"}"#, "customer_id"),
            ] {
                let refused = try await api.call(.post, "/v1/cases", json: json)
                #expect(refused.status == .unprocessableContent, "\(json)")
                #expect(try refused.errorEnvelope().error.details?["field"] == field)
            }
            #expect(try await api.call(.post, "/v1/cases", json: #"{"customer_id":\#(customer),"kind":"rant","subject":"x"}"#).status == .badRequest)
            #expect(
                try await api.call(.post, "/v1/cases", json: #"{"customer_id":\#(customer),"kind":"inquiry","subject":""}"#).status == .badRequest
            )
            let count = try await database.pool.query("SELECT count(*) AS n FROM cases").first?.decode(Int.self, "n")
            #expect(count == 2)
        }
    }

    @Test func aComplaintAboutAnOwnedCustomerAlsoTellsTheOwnersSalesTeam() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"Ada","email":"ada@example.com"}"#)
            let owner = try #require(try member.json(AnyJSON.self)["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/members/\(owner)/memberships", json: #"{"team":"sales-emea","role":"lead"}"#))
            let owned = try await Self.customer(api, name: "Owned AG", extra: #","owner_id":\#(owner)"#)
            let unowned = try await Self.customer(api, name: "Unowned AG")

            let complaint = try #require(try await Self.open(api, customer: owned, kind: "complaint")["id"]?.int)
            let told = try await Self.tasks(of: complaint, database)
            #expect(told.map(\.kind) == ["case_complaint", "complaint_notice"])
            #expect(told.map(\.team) == ["support-emea", "sales-emea"])
            let inquiry = try #require(try await Self.open(api, customer: owned, kind: "inquiry")["id"]?.int)
            #expect(try await Self.tasks(of: inquiry, database).map(\.team) == ["support-emea"])
            let aboutUnowned = try #require(try await Self.open(api, customer: unowned, kind: "complaint")["id"]?.int)
            #expect(try await Self.tasks(of: aboutUnowned, database).map(\.team) == ["support-emea"])
        }
    }

    @Test func everyActionMovesOnlyFromTheStatesThatAllowIt() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "State Machine SA")
            let actions: [(name: String, path: String, json: String?)] = [
                ("open", "open", nil), ("wait on customer", "pending", #"{"waiting_on":"customer"}"#),
                ("wait internally", "pending", #"{"waiting_on":"internal","note":"asked logistics"}"#),
                ("resolve", "resolve", #"{"resolution":"Sent again"}"#), ("close", "close", #"{"note":"done"}"#),
                ("reopen", "reopen", #"{"reason":"still missing"}"#),
            ]
            // How to reach each state from new, and where each action leads from there (nil: refused with 409).
            let paths: [String: [Int]] = [
                "new": [], "open": [0], "pending_customer": [1], "pending_internal": [2], "resolved": [3], "closed": [3, 4],
            ]
            let expected: [String: [String?]] = [
                "new": ["open", "pending_customer", "pending_internal", "resolved", nil, nil],
                "open": [nil, "pending_customer", "pending_internal", "resolved", nil, nil],
                "pending_customer": ["open", nil, "pending_internal", "resolved", nil, nil],
                "pending_internal": ["open", "pending_customer", nil, "resolved", nil, nil],
                "resolved": [nil, nil, nil, nil, "closed", "open"],
                "closed": [nil, nil, nil, nil, nil, "open"],
            ]
            for (state, path) in paths.sorted(by: { $0.key < $1.key }) {
                for (index, action) in actions.enumerated() {
                    let id = try #require(try await Self.open(api, customer: customer)["id"]?.int)
                    for step in path { try api.expect(.ok, await Self.act(api, id, actions[step].path, actions[step].json)) }
                    let response = try await Self.act(api, id, action.path, action.json)
                    if let target = expected[state]?[index] ?? nil {
                        #expect(response.status == .ok, "\(action.name) from \(state): \(response.text)")
                        let moved = try response.json(AnyJSON.self)
                        #expect(moved["state"]?.string == target, "\(action.name) from \(state)")
                        #expect(response.headers[.eTag] == "\"\(path.count + 2)\"", "every action bumps the version")
                        let transitions = try await api.call(.get, "/v1/cases/\(id)/transitions").json(AnyJSON.self)["transitions"]?.array ?? []
                        #expect(transitions.count == path.count + 2)
                        #expect(transitions.last?["from"]?.string == state)
                        #expect(transitions.last?["to"]?.string == target)
                        #expect(transitions.last?["actor"]?.string != nil)
                    } else {
                        #expect(response.status == .conflict, "\(action.name) from \(state): \(response.status.code)")
                        let error = try response.errorEnvelope().error
                        #expect(error.code == "conflict")
                        #expect(error.details?["state"] == state)
                        #expect(error.message.contains(state))
                    }
                }
            }
            let events = try await database.pool.query(
                "SELECT DISTINCT type FROM events WHERE entity_type = 'case' ORDER BY type"
            ).map { try $0.decode(String.self, "type") }
            #expect(events == ["case.closed", "case.opened", "case.reopened", "case.resolved", "case.state_changed"])
            #expect(try await Self.act(api, 999_999, "open").status == .notFound)
        }
    }

    @Test func waitingOnTheCustomerHoldsTheCaseTasksClocksAndLeavingResumesThem() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            try api.expect(
                .created,
                await api.call(
                    .post,
                    "/v1/sla/policies",
                    json: #"{"name":"Inquiries","kind":"sla","department":"support","task_kind":"case_inquiry","done_within_minutes":480}"#
                )
            )
            let customer = try await Self.customer(api, name: "Held Clocks Ltd")
            let opened = try await Self.open(api, customer: customer)
            let id = try #require(opened["id"]?.int)
            let taskID = try #require(opened["task_id"]?.int)
            func detail() async throws -> AnyJSON { try await api.call(.get, "/v1/tasks/\(taskID)").json(AnyJSON.self) }
            #expect(try await detail()["task"]?["sla_policy_id"]?.int != nil, "the case task's clocks started like any task's")
            #expect(try await detail()["sla"]?.array.first?["state"]?.string == "running")

            try api.expect(.ok, await Self.act(api, id, "pending", #"{"waiting_on":"customer","note":"asked for the invoice"}"#))
            var task = try await detail()
            #expect(task["task"]?["hold"]?["reason"]?.string?.contains("asked for the invoice") == true)
            #expect(task["sla"]?.array.allSatisfy { $0["state"]?.string == "paused" } == true, "\(task["sla"] ?? .null)")
            // To pending_internal: no longer waiting on the customer, so the clocks run again.
            try api.expect(.ok, await Self.act(api, id, "pending", #"{"waiting_on":"internal"}"#))
            task = try await detail()
            #expect(task["task"]?["hold"] == nil)
            #expect(task["sla"]?.array.allSatisfy { $0["state"]?.string == "running" } == true)
            try api.expect(.ok, await Self.act(api, id, "pending", #"{"waiting_on":"customer"}"#))
            try api.expect(.ok, await Self.act(api, id, "open"))
            task = try await detail()
            #expect(task["task"]?["hold"] == nil)
            #expect(task["sla"]?.array.allSatisfy { $0["state"]?.string == "running" } == true)
            let types = task["events"]?.array.compactMap { $0["type"]?.string } ?? []
            #expect(types.filter { $0 == "task.held" }.count == 2)
            #expect(types.filter { $0 == "task.resumed" }.count == 2)
            // A case task handed to another team is followed there.
            let handed = try await Self.open(api, customer: customer)
            let handedID = try #require(handed["id"]?.int)
            let handoff = try await api.call(
                .post,
                "/v1/tasks/\(try #require(handed["task_id"]?.int))/handoff",
                json: #"{"to_team":"logistics-emea","note":"the parcel"}"#
            )
            try api.expect(.ok, handoff)
            let successor = try #require(try handoff.json(AnyJSON.self)["task"]?["id"]?.int)
            try api.expect(.ok, await Self.act(api, handedID, "pending", #"{"waiting_on":"customer"}"#))
            let followed = try await api.call(.get, "/v1/tasks/\(successor)").json(AnyJSON.self)
            #expect(followed["task"]?["hold"] != nil, "the task it was handed to is held")
            try api.expect(.ok, await Self.act(api, handedID, "resolve", #"{"resolution":"Found it"}"#))
            #expect(try await api.call(.get, "/v1/tasks/\(successor)").json(AnyJSON.self)["task"]?["state"]?.string == "cancelled")
            // Resolved while waiting on the customer: the held task is cancelled, its clocks stop.
            try api.expect(.ok, await Self.act(api, id, "pending", #"{"waiting_on":"customer"}"#))
            try api.expect(.ok, await Self.act(api, id, "resolve", #"{"resolution":"Invoice received"}"#))
            task = try await detail()
            #expect(task["task"]?["state"]?.string == "cancelled")
            let running = try await database.pool.query(
                "SELECT count(*) AS n FROM sla_clocks WHERE task_id = $1 AND stopped_at IS NULL",
                [taskID]
            )
            #expect(try running.first?.decode(Int.self, "n") == 0)
        }
    }

    @Test func resolvingNeedsAResolutionCancelsTheOpenTaskAndAsksForFeedback() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Resolved Oy")
            let opened = try await Self.open(api, customer: customer)
            let id = try #require(opened["id"]?.int)
            #expect(try await Self.act(api, id, "resolve").status == .badRequest)
            #expect(try await Self.act(api, id, "resolve", "{}").status == .badRequest)
            let blank = try await Self.act(api, id, "resolve", #"{"resolution":"   "}"#)
            #expect(blank.status == .unprocessableContent)
            #expect(try blank.errorEnvelope().error.details?["field"] == "resolution")
            #expect(try await Self.tasks(of: id, database).map(\.state) == ["queued"], "a refused resolve changes nothing")

            let resolved = try await Self.act(api, id, "resolve", #"{"resolution":"Refunded the shipping"}"#)
            try api.expect(.ok, resolved)
            let json = try resolved.json(AnyJSON.self)
            #expect(json["resolution"]?.string == "Refunded the shipping")
            #expect(json["resolved_at"]?.string != nil)
            let tasks = try await Self.tasks(of: id, database)
            #expect(tasks.map(\.kind) == ["case_inquiry", "ask_feedback"])
            #expect(tasks.map(\.state) == ["cancelled", "queued"])
            #expect(tasks.map(\.team) == ["support-emea", "support-emea"])

            // A case task already done stays done.
            let other = try #require(try await Self.open(api, customer: customer)["id"]?.int)
            let claim = try await api.call(.post, "/v1/teams/support-emea/claim", json: #"{"worker":"w","limit":5}"#).json(AnyJSON.self)
            let claimed = try #require(claim["tasks"]?.array.first { $0["subject"]?["id"]?.string == String(other) })
            let token = try #require(claimed["lease"]?["token"]?.string)
            let claimedID = try #require(claimed["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/tasks/\(claimedID)/complete", json: #"{"lease_token":"\#(token)"}"#))
            try api.expect(.ok, await Self.act(api, other, "resolve", #"{"resolution":"Answered"}"#))
            #expect(try await Self.tasks(of: other, database).map(\.state) == ["done", "queued"])
        }
    }

    @Test func reopeningWorksWithinTheRegionsWindowAndIsRefusedAfterIt() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Reopened BV")
            let id = try #require(try await Self.open(api, customer: customer)["id"]?.int)
            try api.expect(.ok, await Self.act(api, id, "resolve", #"{"resolution":"Fixed"}"#))
            #expect(try await Self.act(api, id, "reopen", "{}").status == .badRequest)
            #expect(try await Self.act(api, id, "reopen", #"{"reason":" "}"#).status == .unprocessableContent)
            let reopened = try await Self.act(api, id, "reopen", #"{"reason":"It broke again"}"#)
            try api.expect(.ok, reopened)
            let json = try reopened.json(AnyJSON.self)
            #expect(json["state"]?.string == "open")
            #expect(json["reopen_count"]?.int == 1)
            #expect(json["resolution"] == nil)
            #expect(json["resolved_at"] == nil)
            let tasks = try await Self.tasks(of: id, database)
            #expect(tasks.map(\.kind) == ["case_inquiry", "ask_feedback", "case_inquiry"])
            #expect(tasks.last?.state == "queued")
            let transitions = try await api.call(.get, "/v1/cases/\(id)/transitions").json(AnyJSON.self)["transitions"]?.array ?? []
            #expect(transitions.last?["note"]?.string == "It broke again")

            // The window: 14 days unless set; only an admin sets it.
            let settings = try await api.call(.get, "/v1/regions/emea/case-settings")
            try api.expect(.ok, settings)
            #expect(try settings.json(AnyJSON.self)["reopen_window_days"]?.int == 14)
            let agent = try await api.makeToken(role: "agent", teams: ["support-emea"])
            #expect(
                try await api.call(.put, "/v1/regions/emea/case-settings", json: #"{"reopen_window_days":3}"#, token: .some(agent)).status
                    == .forbidden
            )
            #expect(try await api.call(.get, "/v1/regions/emea/case-settings", token: .some(agent)).status == .ok)
            #expect(try await api.call(.get, "/v1/regions/apac/case-settings", token: .some(agent)).status == .notFound)
            #expect(try await api.call(.put, "/v1/regions/nowhere/case-settings", json: #"{"reopen_window_days":3}"#).status == .notFound)
            let negative = try await api.call(.put, "/v1/regions/emea/case-settings", json: #"{"reopen_window_days":-1}"#)
            #expect(negative.status == .unprocessableContent)
            #expect(try negative.errorEnvelope().error.details?["field"] == "reopen_window_days")
            let set = try await api.call(.put, "/v1/regions/emea/case-settings", json: #"{"reopen_window_days":30}"#)
            try api.expect(.ok, set)
            #expect(try await api.call(.get, "/v1/regions/emea/case-settings").json(AnyJSON.self)["reopen_window_days"]?.int == 30)

            // Resolved 31 days ago (and then closed): past the window, 409 saying when it ended.
            try api.expect(.ok, await Self.act(api, id, "resolve", #"{"resolution":"Fixed for good"}"#))
            try api.expect(.ok, await Self.act(api, id, "close"))
            try await database.pool.query("UPDATE cases SET resolved_at = now() - interval '31 days' WHERE id = $1", [id])
            let late = try await Self.act(api, id, "reopen", #"{"reason":"again"}"#)
            #expect(late.status == .conflict)
            let error = try late.errorEnvelope().error
            #expect(error.details?["state"] == "closed")
            #expect(error.details?["reopen_deadline"] != nil)
            #expect(error.message.contains("30 days"))
            // 29 days ago is within it.
            try await database.pool.query("UPDATE cases SET resolved_at = now() - interval '29 days' WHERE id = $1", [id])
            try api.expect(.ok, await Self.act(api, id, "reopen", #"{"reason":"again"}"#))
            // A window of 0 days allows no reopening at all.
            try api.expect(.ok, await api.call(.put, "/v1/regions/emea/case-settings", json: #"{"reopen_window_days":0}"#))
            try api.expect(.ok, await Self.act(api, id, "resolve", #"{"resolution":"Third time"}"#))
            #expect(try await Self.act(api, id, "reopen", #"{"reason":"again"}"#).status == .conflict)
        }
    }

    @Test func editsNeedTheCurrentVersionAndTwoConcurrentEditsCannotBothWin() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let created = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Edited Kft","contacts":[{"name":"Eva"}]}"#)
            let customerJSON = try created.json(AnyJSON.self)
            let customer = try #require(customerJSON["customer"]?["id"]?.int)
            let contact = try #require(customerJSON["contacts"]?[0]?["id"]?.int)
            let id = try #require(try await Self.open(api, customer: customer)["id"]?.int)
            #expect(try await api.call(.patch, "/v1/cases/\(id)", json: #"{"priority":"low"}"#).status == .badRequest, "If-Match is required")
            let stale = try await api.call(.patch, "/v1/cases/\(id)", json: #"{"priority":"low"}"#, headers: [Self.ifMatch: #""5""#])
            #expect(stale.status == .preconditionFailed)
            #expect(try stale.errorEnvelope().error.details?["version"] == "1")
            async let first = api.call(.patch, "/v1/cases/\(id)", json: #"{"priority":"urgent"}"#, headers: [Self.ifMatch: #""1""#])
            async let second = api.call(.patch, "/v1/cases/\(id)", json: #"{"subject":"Changed"}"#, headers: [Self.ifMatch: #""1""#])
            let answers = try await [first, second]
            #expect(answers.map(\.status.code).sorted() == [200, 412])
            #expect(try answers.first { $0.status == .preconditionFailed }?.errorEnvelope().error.details?["version"] == "2")
            // An action bumps the version too: an edit based on the version before it is stale.
            try api.expect(.ok, await Self.act(api, id, "open"))
            #expect(
                try await api.call(.patch, "/v1/cases/\(id)", json: #"{"channel":"phone"}"#, headers: [Self.ifMatch: #""2""#]).status
                    == .preconditionFailed
            )
            let edited = try await api.call(
                .patch,
                "/v1/cases/\(id)",
                json: #"{"channel":"phone","contact_id":\#(contact),"description":"More detail"}"#,
                headers: [Self.ifMatch: #""3""#]
            )
            try api.expect(.ok, edited)
            #expect(edited.headers[.eTag] == #""4""#)
            let json = try edited.json(AnyJSON.self)
            #expect(json["channel"]?.string == "phone")
            #expect(json["contact_id"]?.int == contact)
            #expect(json["state"]?.string == "open", "an edit does not change the state")
            let cleared = try await api.call(
                .patch,
                "/v1/cases/\(id)",
                json: #"{"contact_id":0,"description":""}"#,
                headers: [Self.ifMatch: #""4""#]
            )
            #expect(try cleared.json(AnyJSON.self)["contact_id"] == nil)
            #expect(try cleared.json(AnyJSON.self)["description"] == nil)
            let other = try await Self.customer(api, name: "Someone Else")
            let foreign = try await api.call(.post, "/v1/customers/\(other)/contacts", json: #"{"name":"F"}"#).json(AnyJSON.self)
            let refused = try await api.call(
                .patch,
                "/v1/cases/\(id)",
                json: #"{"contact_id":\#(try #require(foreign["id"]?.int))}"#,
                headers: [Self.ifMatch: #""5""#]
            )
            #expect(refused.status == .unprocessableContent)
            #expect(try refused.errorEnvelope().error.details?["field"] == "contact_id")
        }
    }

    @Test func viewersReadAgentsWorkTheirRegionAndOnlyAnAdminDeletes() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let emeaCustomer = try await Self.customer(api, name: "Scoped Emea")
            let apacCustomer = try await Self.customer(api, name: "Scoped Apac", region: "apac")
            let id = try #require(try await Self.open(api, customer: emeaCustomer)["id"]?.int)
            let apacCase = try #require(try await Self.open(api, customer: apacCustomer)["id"]?.int)
            let viewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            let agent = try await api.makeToken(role: "agent", teams: ["support-emea"])
            let apacCoordinator = try await api.makeToken(role: "coordinator", regions: ["apac"])

            #expect(try await api.call(.get, "/v1/cases/\(id)", token: .some(viewer)).status == .ok)
            #expect(try await api.call(.get, "/v1/cases/\(id)/transitions", token: .some(viewer)).status == .ok)
            #expect(try await Self.act(api, id, "open", token: viewer).status == .forbidden)
            #expect(
                try await api.call(.patch, "/v1/cases/\(id)", json: #"{"priority":"low"}"#, token: .some(viewer), headers: [Self.ifMatch: #""1""#])
                    .status == .forbidden
            )
            let viewerCreate = try await api.call(
                .post,
                "/v1/cases",
                json: #"{"customer_id":\#(emeaCustomer),"kind":"inquiry","subject":"x"}"#,
                token: .some(viewer)
            )
            #expect(viewerCreate.status == .forbidden)

            #expect(try await api.call(.get, "/v1/cases/\(id)", token: .some(apacCoordinator)).status == .notFound)
            #expect(try await Self.act(api, id, "open", token: apacCoordinator).status == .notFound)
            #expect(try await api.call(.get, "/v1/cases/\(id)/transitions", token: .some(apacCoordinator)).status == .notFound)
            let outside = try await api.call(
                .post,
                "/v1/cases",
                json: #"{"customer_id":\#(emeaCustomer),"kind":"inquiry","subject":"x"}"#,
                token: .some(apacCoordinator)
            )
            #expect(outside.status == .unprocessableContent)
            let listed = try await api.call(.get, "/v1/cases", token: .some(apacCoordinator)).json(AnyJSON.self)
            #expect(listed["cases"]?.array.compactMap { $0["id"]?.int } == [apacCase])

            try api.expect(.ok, await Self.act(api, id, "open", token: agent))
            #expect(try await api.call(.get, "/v1/cases/\(apacCase)", token: .some(agent)).status == .notFound)
            try api.expect(
                .created,
                await api.call(.post, "/v1/cases", json: #"{"customer_id":\#(emeaCustomer),"kind":"complaint","subject":"y"}"#, token: .some(agent))
            )
            #expect(try await api.call(.delete, "/v1/cases/\(id)", token: .some(agent)).status == .forbidden)
            try api.expect(.ok, await api.call(.delete, "/v1/cases/\(id)"))
            #expect(try await api.call(.get, "/v1/cases/\(id)").status == .notFound)
            #expect(try await api.call(.delete, "/v1/cases/\(id)").status == .notFound)
            let all = try await api.call(.get, "/v1/cases?region=emea").json(AnyJSON.self)["cases"]?.array ?? []
            #expect(!all.contains { $0["id"]?.int == id }, "a deleted case is not listed")
            let kept = try await database.pool.query("SELECT deleted_at IS NOT NULL AS gone FROM cases WHERE id = $1", [id])
            #expect(try kept.first?.decode(Bool.self, "gone") == true)
            #expect(try await Self.tasks(of: id, database).map(\.state) == ["cancelled"], "no work is left about a deleted case")
        }
    }

    @Test func casesAreListedByRegionStateKindCustomerAndTeamAPageAtATime() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let first = try await Self.customer(api, name: "Listed One")
            let second = try await Self.customer(api, name: "Listed Two")
            let a = try #require(try await Self.open(api, customer: first)["id"]?.int)
            let b = try #require(try await Self.open(api, customer: first, kind: "complaint")["id"]?.int)
            let c = try #require(try await Self.open(api, customer: second, extra: #","team":"logistics-emea""#)["id"]?.int)
            try api.expect(.ok, await Self.act(api, b, "open"))
            func ids(_ query: String) async throws -> [Int] {
                let response = try await api.call(.get, "/v1/cases?\(query)")
                try api.expect(.ok, response)
                return try response.json(AnyJSON.self)["cases"]?.array.compactMap { $0["id"]?.int } ?? []
            }
            #expect(try await ids("region=emea") == [a, b, c])
            #expect(try await ids("region=apac") == [])
            #expect(try await ids("state=open") == [b])
            #expect(try await ids("kind=complaint") == [b])
            #expect(try await ids("customer_id=\(first)") == [a, b])
            #expect(try await ids("team=logistics-emea") == [c])
            let page = try await api.call(.get, "/v1/cases?limit=2").json(AnyJSON.self)
            #expect(page["cases"]?.array.count == 2)
            let cursor = try #require(page["next_cursor"]?.string)
            #expect(try await ids("limit=2&after=\(cursor)") == [c])
            #expect(try await api.call(.get, "/v1/cases?state=lost").status == .badRequest)
        }
    }

    @Test func feedbackNeedsAScoreFromOneToFiveAndCountsForTheCasesTeam() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Feedback Plc")
            let other = try await Self.customer(api, name: "Other Plc")
            let caseID = try #require(try await Self.open(api, customer: customer, extra: #","team":"logistics-emea""#)["id"]?.int)
            let otherCase = try #require(try await Self.open(api, customer: other)["id"]?.int)
            for score in [0, 6, -1] {
                let refused = try await api.call(.post, "/v1/feedback", json: #"{"customer_id":\#(customer),"score":\#(score)}"#)
                #expect(refused.status == .unprocessableContent, "score \(score)")
                #expect(try refused.errorEnvelope().error.details?["field"] == "score")
            }
            #expect(try await api.call(.post, "/v1/feedback", json: #"{"customer_id":\#(customer)}"#).status == .badRequest)
            let foreign = try await api.call(.post, "/v1/feedback", json: #"{"customer_id":\#(customer),"case_id":\#(otherCase),"score":4}"#)
            #expect(foreign.status == .unprocessableContent)
            #expect(try foreign.errorEnvelope().error.details?["field"] == "case_id")

            let about = try await api.call(
                .post,
                "/v1/feedback",
                json: #"{"customer_id":\#(customer),"case_id":\#(caseID),"score":5,"comment":"Quick and kind","order_id":4711}"#
            )
            try api.expect(.created, about)
            let json = try about.json(AnyJSON.self)
            #expect(json["team"]?.string == "logistics-emea")
            #expect(json["region"]?.string == "emea")
            #expect(json["order_id"]?.int == 4711)
            let plain = try await api.call(.post, "/v1/feedback", json: #"{"customer_id":\#(customer),"score":2}"#)
            try api.expect(.created, plain)
            #expect(try plain.json(AnyJSON.self)["team"] == nil)

            let byCustomer = try await api.call(.get, "/v1/feedback?customer_id=\(customer)").json(AnyJSON.self)
            #expect(byCustomer["feedback"]?.array.compactMap { $0["score"]?.int } == [5, 2])
            let byCase = try await api.call(.get, "/v1/feedback?case_id=\(caseID)").json(AnyJSON.self)
            #expect(byCase["feedback"]?.array.compactMap { $0["score"]?.int } == [5])
            let apac = try await api.makeToken(role: "viewer", regions: ["apac"])
            #expect(try await api.call(.get, "/v1/feedback", token: .some(apac)).json(AnyJSON.self)["feedback"]?.array.isEmpty == true)
            let events = try await database.pool.query("SELECT count(*) AS n FROM events WHERE type = 'feedback.received' AND region = 'emea'")
            #expect(try events.first?.decode(Int.self, "n") == 2)
        }
    }

    @Test func csatIsTheShareOfFoursAndFivesPerPeriodTeamAndRegion() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Scored GmbH")
            let apacCustomer = try await Self.customer(api, name: "Scored Pte", region: "apac")
            let caseID = try #require(try await Self.open(api, customer: customer)["id"]?.int)
            // January: 5, 4, 2 (two of three satisfied); February: none; March: 1 and 5 about the case.
            for (score, day, about) in [
                (5, "2026-01-05", false), (4, "2026-01-20", false), (2, "2026-01-31", false), (1, "2026-03-01", true), (5, "2026-03-31", true),
            ] {
                let json = #"{"customer_id":\#(customer),"score":\#(score)\#(about ? #","case_id":\#(caseID)"# : "")}"#
                let created = try await api.call(.post, "/v1/feedback", json: json).json(AnyJSON.self)
                try await database.pool.query(
                    "UPDATE feedback SET created_at = ($2::date + time '12:00') AT TIME ZONE 'UTC' WHERE id = $1",
                    [try #require(created["id"]?.int), day]
                )
            }
            let apacFeedback = try await api.call(.post, "/v1/feedback", json: #"{"customer_id":\#(apacCustomer),"score":1}"#).json(AnyJSON.self)
            try await database.pool.query(
                "UPDATE feedback SET created_at = '2026-01-10T12:00:00Z' WHERE id = $1",
                [try #require(apacFeedback["id"]?.int)]
            )
            func periods(_ query: String, token: String? = nil) async throws -> [AnyJSON] {
                let response = try await api.call(.get, "/v1/csat?\(query)", token: token.map { .some($0) } ?? .none)
                try api.expect(.ok, response)
                return try response.json(AnyJSON.self)["periods"]?.array ?? []
            }
            let months = try await periods("region=emea&from=2026-01-01&to=2026-03-31&grain=month")
            #expect(months.compactMap { $0["start"]?.string } == ["2026-01-01", "2026-02-01", "2026-03-01"])
            #expect(months.compactMap { $0["end"]?.string } == ["2026-01-31", "2026-02-28", "2026-03-31"])
            #expect(months.compactMap { $0["responses"]?.int } == [3, 0, 2])
            #expect(months.compactMap { $0["satisfied"]?.int } == [2, 0, 1])
            #expect(months.map { $0["csat"] } == [.number(66.7), nil, .number(50)], "no responses: no percentage")
            let quarter = try await periods("region=emea&from=2026-01-01&to=2026-03-31&grain=quarter")
            #expect(quarter.count == 1)
            #expect(quarter.first?["csat"] == .number(60))
            let team = try await periods("team=support-emea&from=2026-01-01&to=2026-03-31&grain=quarter")
            #expect(team.first?["responses"]?.int == 2, "only the feedback about the team's case")
            let everywhere = try await periods("from=2026-01-01&to=2026-01-31&grain=month")
            #expect(everywhere.first?["responses"]?.int == 4)
            let apacViewer = try await api.makeToken(role: "viewer", regions: ["apac"])
            let scoped = try await periods("from=2026-01-01&to=2026-01-31", token: apacViewer)
            #expect(scoped.first?["responses"]?.int == 1, "the caller's regions only")
            let weeks = try await periods("region=emea&from=2026-01-01&to=2026-01-31&grain=week")
            #expect(weeks.first?["start"]?.string == "2025-12-29", "weeks start on Monday")
            #expect(weeks.compactMap { $0["responses"]?.int }.reduce(0, +) == 3)
            let backwards = try await api.call(.get, "/v1/csat?from=2026-02-01&to=2026-01-01")
            #expect(backwards.status == .unprocessableContent)
            #expect(try await api.call(.get, "/v1/csat?from=2026-02-30").status == .badRequest)
            #expect(try await api.call(.get, "/v1/csat?from=1900-01-01&to=2026-01-01&grain=week").status == .unprocessableContent)
        }
    }

    @Test func theTimelineShowsCasesAndFeedbackNewestFirstWithoutRepeatingTheirEvents() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let customer = try await Self.customer(api, name: "Timeline Cases AB")
            try api.expect(.created, await api.call(.post, "/v1/customers/\(customer)/interactions", json: #"{"kind":"call","summary":"called"}"#))
            let caseID = try #require(try await Self.open(api, customer: customer)["id"]?.int)
            try api.expect(.ok, await Self.act(api, caseID, "resolve", #"{"resolution":"Done"}"#))
            try api.expect(
                .created,
                await api.call(.post, "/v1/feedback", json: #"{"customer_id":\#(customer),"case_id":\#(caseID),"score":4,"comment":"Good"}"#)
            )
            var entries: [AnyJSON] = []
            var cursor = ""
            for _ in 0..<5 {
                let response = try await api.call(.get, "/v1/customers/\(customer)/timeline?limit=2&after=\(cursor)")
                try api.expect(.ok, response)
                let page = try response.json(AnyJSON.self)
                entries += page["entries"]?.array ?? []
                guard let next = page["next_cursor"]?.string else { break }
                cursor = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? next
            }
            #expect(entries.map { $0["kind"]?.string ?? "" } == ["feedback", "case", "interaction", "event"])
            #expect(entries.map { $0["type"]?.string ?? "" } == ["score_4", "resolved", "call", "customer.created"])
            #expect(entries[0]["summary"]?.string == "Good")
            #expect(entries[1]["link"]?.string == "/v1/cases/\(caseID)")
            let times = entries.compactMap { $0["at"]?.string }
            #expect(times == times.sorted(by: >), "newest first")
        }
    }
}
