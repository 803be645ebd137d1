import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Customers through the API: creating with contacts, finding by any part of the name in any
/// script, duplicate detection, edits under If-Match, interactions with follow-up tasks, the
/// timeline, and who reaches which customer.
@Suite(.requiresDatabase) struct CustomerEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    /// Creates a customer as the admin and returns the response's JSON.
    static func create(_ api: API, _ json: String) async throws -> AnyJSON {
        let response = try await api.call(.post, "/v1/customers", json: json)
        try api.expect(.created, response)
        return try response.json(AnyJSON.self)
    }

    static func id(_ api: API, name: String, region: String = "emea") async throws -> Int {
        try #require(try await create(api, #"{"region":"\#(region)","name":"\#(name)","force":true}"#)["customer"]?["id"]?.int)
    }

    static func names(_ api: API, _ query: String, token: String? = nil) async throws -> [String] {
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
        let response = try await api.call(.get, "/v1/customers?q=\(encoded)", token: token.map { .some($0) } ?? .none)
        try api.expect(.ok, response)
        return try response.json(AnyJSON.self)["customers"]?.array.compactMap { $0["name"]?.string }.sorted() ?? []
    }

    @Test func aCustomerIsCreatedWithContactsAndReadBackWithItsVersion() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let response = try await api.call(
                .post,
                "/v1/customers",
                json: #"""
                    {"region":"emea","name":"Acme Industrie","legal_name":"Acme Industrie GmbH","segment":"manufacturing",
                     "status":"prospect","tags":["key"],"website":"https://acme.example",
                     "contacts":[{"name":"Jana Novak","role":"Buyer","email":"jana@acme.example","preferred_channel":"email"}]}
                    """#
            )
            try api.expect(.created, response)
            #expect(response.headers[.eTag] == #""1""#)
            let created = try response.json(AnyJSON.self)
            let id = try #require(created["customer"]?["id"]?.int)
            #expect(created["customer"]?["status"]?.string == "prospect")
            #expect(created["contacts"]?.array.first?["email"]?.string == "jana@acme.example")
            let read = try await api.call(.get, "/v1/customers/\(id)")
            try api.expect(.ok, read)
            #expect(read.headers[.eTag] == #""1""#)
            #expect(try read.json(AnyJSON.self)["legal_name"]?.string == "Acme Industrie GmbH")
            let contacts = try await api.call(.get, "/v1/customers/\(id)/contacts").json(AnyJSON.self)
            #expect(contacts["contacts"]?.array.count == 1)
            // Nothing half-made: a bad contact refuses the whole customer.
            let bad = try await api.call(
                .post,
                "/v1/customers",
                json: #"{"region":"emea","name":"Half Made","contacts":[{"name":"X","email":"not-an-email"}]}"#
            )
            #expect(bad.status == .badRequest)
            #expect(try await Self.names(api, "half made").isEmpty)
        }
    }

    @Test func nameSearchIgnoresCaseAccentsAndWidthAndFindsAnySubstringInAnyScript() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            for name in [
                "Société Générale", "Müller & Söhne", "ACME Corp", "华为技术有限公司", "株式会社トヨタ自動車", "삼성전자", "Ｆｕｊｉ Film",
                "Café 50% Off_Sale",
            ] {
                _ = try await Self.id(api, name: name)
            }
            #expect(try await Self.names(api, "societe") == ["Société Générale"])
            #expect(try await Self.names(api, "GÉNÉ") == ["Société Générale"])
            #expect(try await Self.names(api, "muller") == ["Müller & Söhne"])
            #expect(try await Self.names(api, "me co") == ["ACME Corp"])
            #expect(try await Self.names(api, "华为") == ["华为技术有限公司"])
            #expect(try await Self.names(api, "技术有限") == ["华为技术有限公司"])
            #expect(try await Self.names(api, "公司") == ["华为技术有限公司"])
            #expect(try await Self.names(api, "トヨタ") == ["株式会社トヨタ自動車"])
            #expect(try await Self.names(api, "自") == ["株式会社トヨタ自動車"])
            #expect(try await Self.names(api, "성전") == ["삼성전자"])
            #expect(try await Self.names(api, "fuji") == ["Ｆｕｊｉ Film"], "full-width letters fold to ASCII")
            #expect(try await Self.names(api, "50%") == ["Café 50% Off_Sale"], "wildcards are literal")
            #expect(try await Self.names(api, "e_5").isEmpty, "an underscore is not a wildcard (cafe 50% would match)")
            #expect(try await Self.names(api, "zzz").isEmpty)
            #expect(try await Self.names(api, "s") == ["Müller & Söhne", "Société Générale"], "one Latin letter: a word starting with it")
            #expect(try await Self.names(api, "F") == ["Ｆｕｊｉ Film"], "not Off_Sale: no word of it starts with f")
            #expect(try await Self.names(api, "so") == ["Müller & Söhne", "Société Générale"], "two Latin letters: a word starting with them")
            #expect(try await Self.names(api, "ul").isEmpty, "two letters inside a word are not a word's start")
            let tooLong = try await api.call(.get, "/v1/customers?q=\(String(repeating: "a", count: 201))")
            #expect(tooLong.status == .badRequest)
        }
    }

    @Test func aLikelyDuplicateIsRefusedNamingTheExistingCustomerUnlessForced() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let first = try await Self.create(
                api,
                #"{"region":"emea","name":"Nordlicht AG","contacts":[{"name":"Ola","email":"ola@nordlicht.example"}]}"#
            )
            let existing = try #require(first["customer"]?["id"]?.int)
            for json in [
                #"{"region":"emea","name":"  NORDLICHT   ag "}"#,
                #"{"region":"emea","name":"Nordlicht Vertrieb","contacts":[{"name":"O","email":"OLA@nordlicht.example"}]}"#,
            ] {
                let response = try await api.call(.post, "/v1/customers", json: json)
                #expect(response.status == .conflict, "\(json)")
                let error = try response.errorEnvelope().error
                #expect(error.details?["existing_id"] == String(existing))
            }
            // Another region may have its own Nordlicht; force overrides the check.
            try api.expect(.created, await api.call(.post, "/v1/customers", json: #"{"region":"apac","name":"Nordlicht AG"}"#))
            try api.expect(.created, await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Nordlicht AG","force":true}"#))
        }
    }

    @Test func editsNeedTheCurrentVersionAndTwoConcurrentEditsCannotBothWin() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let id = try await Self.id(api, name: "Versioned Ltd")
            // No If-Match, or a malformed one: 400.
            #expect(try await api.call(.patch, "/v1/customers/\(id)", json: #"{"status":"active"}"#).status == .badRequest)
            #expect(
                try await api.call(.patch, "/v1/customers/\(id)", json: #"{"status":"active"}"#, headers: [Self.ifMatch: "abc"]).status
                    == .badRequest
            )
            // Two edits that both read version 1: exactly one wins, the other is 412 naming version 2.
            async let first = api.call(.patch, "/v1/customers/\(id)", json: #"{"status":"active"}"#, headers: [Self.ifMatch: #""1""#])
            async let second = api.call(.patch, "/v1/customers/\(id)", json: #"{"status":"churned"}"#, headers: [Self.ifMatch: #""1""#])
            let answers = try await [first, second]
            #expect(answers.map(\.status.code).sorted() == [200, 412])
            let loser = try #require(answers.first { $0.status == .preconditionFailed })
            #expect(try loser.errorEnvelope().error.details?["version"] == "2")
            let winner = try #require(answers.first { $0.status == .ok })
            #expect(winner.headers[.eTag] == #""2""#)
            // Empty strings clear, absent fields stay.
            try api.expect(
                .ok,
                await api.call(.patch, "/v1/customers/\(id)", json: #"{"website":"https://v.example"}"#, headers: [Self.ifMatch: #"W/"2""#])
            )
            let cleared = try await api.call(.patch, "/v1/customers/\(id)", json: #"{"website":""}"#, headers: [Self.ifMatch: #""3""#])
            try api.expect(.ok, cleared)
            let json = try cleared.json(AnyJSON.self)
            #expect(json["website"] == nil)
            #expect(json["version"]?.int == 4)
        }
    }

    @Test func onlyAnAdminDeletesAndADeletedCustomerIsGoneFromReads() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let id = try await Self.id(api, name: "Short Lived")
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            #expect(try await api.call(.delete, "/v1/customers/\(id)", token: .some(agent)).status == .forbidden)
            try api.expect(.ok, await api.call(.delete, "/v1/customers/\(id)"))
            #expect(try await api.call(.get, "/v1/customers/\(id)").status == .notFound)
            #expect(try await Self.names(api, "short lived").isEmpty)
            #expect(try await api.call(.delete, "/v1/customers/\(id)").status == .notFound)
            // Kept for the audit trail, with its events.
            let kept = try await database.pool.query("SELECT deleted_at IS NOT NULL AS gone FROM customers WHERE id = $1", [id])
            #expect(try kept.first?.decode(Bool.self, "gone") == true)
            let events = try await database.pool.query(
                "SELECT type FROM events WHERE entity_type = 'customer' AND entity_id = $1 ORDER BY id",
                [String(id)]
            )
            #expect(try events.map { try $0.decode(String.self, "type") } == ["customer.created", "customer.deleted"])
        }
    }

    @Test func aRegionOutOfReachHasNoCustomersAndTakesNone() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let emea = try await Self.id(api, name: "Emea Only")
            _ = try await Self.id(api, name: "Apac Only", region: "apac")
            let apacCoordinator = try await api.makeToken(role: "coordinator", regions: ["apac"])
            let emeaAgent = try await api.makeToken(role: "agent", teams: ["support-emea"])
            let viewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            #expect(try await api.call(.get, "/v1/customers/\(emea)", token: .some(apacCoordinator)).status == .notFound)
            #expect(try await Self.names(api, "only", token: apacCoordinator) == ["Apac Only"])
            #expect(try await Self.names(api, "only", token: emeaAgent) == ["Emea Only"], "a team reaches its region's customers")
            let outside = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Sneaky"}"#, token: .some(apacCoordinator))
            #expect(outside.status == .unprocessableContent)
            #expect(
                try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Read Only"}"#, token: .some(viewer)).status == .forbidden
            )
            #expect(try await api.call(.get, "/v1/customers/\(emea)", token: .some(viewer)).status == .ok)
            try api.expect(.created, await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"By Agent"}"#, token: .some(emeaAgent)))
        }
    }

    @Test func contactsAreAddedAndEditedUnderTheirOwnVersion() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let id = try await Self.id(api, name: "Contacts Inc")
            let added = try await api.call(.post, "/v1/customers/\(id)/contacts", json: #"{"name":"Lee","phone":"+44 20 1234"}"#)
            try api.expect(.created, added)
            let contact = try #require(try added.json(AnyJSON.self)["id"]?.int)
            let stale = try await api.call(
                .patch,
                "/v1/customers/\(id)/contacts/\(contact)",
                json: #"{"role":"CFO"}"#,
                headers: [Self.ifMatch: #""7""#]
            )
            #expect(stale.status == .preconditionFailed)
            let edited = try await api.call(
                .patch,
                "/v1/customers/\(id)/contacts/\(contact)",
                json: #"{"role":"CFO","phone":""}"#,
                headers: [Self.ifMatch: #""1""#]
            )
            try api.expect(.ok, edited)
            let json = try edited.json(AnyJSON.self)
            #expect(json["role"]?.string == "CFO")
            #expect(json["phone"] == nil)
            #expect(
                try await api.call(.patch, "/v1/customers/\(id)/contacts/999999", json: #"{"role":"x"}"#, headers: [Self.ifMatch: #""1""#]).status
                    == .notFound
            )
        }
    }

    @Test func aFollowUpDateQueuesATaskInTheOwnersTeamThroughTheTaskService() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            // The owner works in sales-emea; a policy covers follow-ups there.
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"Ada","email":"ada@example.com"}"#)
            let owner = try #require(try member.json(AnyJSON.self)["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/members/\(owner)/memberships", json: #"{"team":"sales-emea","role":"lead"}"#))
            try api.expect(
                .created,
                await api.call(
                    .post,
                    "/v1/sla/policies",
                    json: #"{"name":"Follow-ups","kind":"sla","department":"sales","task_kind":"customer_follow_up","done_within_minutes":480}"#
                )
            )
            let id = try #require(
                try await Self.create(api, #"{"region":"emea","name":"Followed Up","owner_id":\#(owner)}"#)["customer"]?["id"]?.int
            )
            let logged = try await api.call(
                .post,
                "/v1/customers/\(id)/interactions",
                json: #"{"kind":"call","summary":"Asked for a quote","follow_up_on":"2030-03-04"}"#
            )
            try api.expect(.created, logged)
            let interaction = try logged.json(AnyJSON.self)
            let taskID = try #require(interaction["follow_up_task_id"]?.int)
            #expect(interaction["follow_up_on"]?.string == "2030-03-04")
            let task = try await api.call(.get, "/v1/tasks/\(taskID)").json(AnyJSON.self)
            #expect(task["task"]?["team"]?.string == "sales-emea")
            #expect(task["task"]?["kind"]?.string == "customer_follow_up")
            #expect(task["task"]?["subject"]?["id"]?.string == String(id))
            // Midnight of that day in Berlin (the demo region's zone is Europe/Berlin).
            #expect(task["task"]?["run_at"]?.string.flatMap(PostgresTimestamp.parse) == PostgresTimestamp.parse("2030-03-03T23:00:00Z"))
            #expect(task["task"]?["sla_policy_id"]?.int != nil, "its SLA clocks started like any task's")
            let clocks = try await database.pool.query("SELECT count(*) AS n FROM sla_clocks WHERE task_id = $1", [taskID])
            #expect(try clocks.first?.decode(Int.self, "n") == 1)
            // A contact of another customer is refused, and nothing is logged.
            let other = try await Self.create(api, #"{"region":"emea","name":"Other Co","contacts":[{"name":"Z"}]}"#)
            let foreign = try #require(other["contacts"]?[0]?["id"]?.int)
            let refused = try await api.call(
                .post,
                "/v1/customers/\(id)/interactions",
                json: #"{"kind":"note","summary":"x","contact_id":\#(foreign)}"#
            )
            #expect(refused.status == .unprocessableContent)
            let listed = try await api.call(.get, "/v1/customers/\(id)/interactions").json(AnyJSON.self)
            #expect(listed["interactions"]?.array.count == 1)
        }
    }

    @Test func theTimelineMergesInteractionsTasksAndChangesNewestFirstAndPages() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let id = try await Self.id(api, name: "Timeline GmbH")
            try api.expect(.created, await api.call(.post, "/v1/customers/\(id)/interactions", json: #"{"kind":"note","summary":"first"}"#))
            try api.expect(
                .created,
                await api.call(
                    .post,
                    "/v1/teams/support-emea/tasks",
                    json: #"{"kind":"k","title":"about it","subject":{"type":"customer","id":"\#(id)"}}"#
                )
            )
            try api.expect(.ok, await api.call(.patch, "/v1/customers/\(id)", json: #"{"status":"active"}"#, headers: [Self.ifMatch: #""1""#]))
            try api.expect(.created, await api.call(.post, "/v1/customers/\(id)/interactions", json: #"{"kind":"call","summary":"last"}"#))
            var entries: [AnyJSON] = []
            var cursor = ""
            for _ in 0..<5 {
                let page = try await api.call(.get, "/v1/customers/\(id)/timeline?limit=2&after=\(cursor)").json(AnyJSON.self)
                entries += page["entries"]?.array ?? []
                guard let next = page["next_cursor"]?.string else { break }
                cursor = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? next
            }
            #expect(entries.map { $0["summary"]?.string ?? "" } == ["last", "active", "about it", "first", "Timeline GmbH"])
            #expect(entries.map { $0["kind"]?.string ?? "" } == ["interaction", "event", "task", "interaction", "event"])
            let times = entries.compactMap { $0["at"]?.string }
            #expect(times == times.sorted(by: >), "newest first")
            #expect(entries[2]["link"]?.string?.hasPrefix("/v1/tasks/") == true)
        }
    }
}
