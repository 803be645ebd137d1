import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Who may do what: every role against reads, work, management and admin endpoints, inside
/// and outside its scope.
@Suite(.requiresDatabase) struct AccessMatrixTests {
    @Test func everyRoleGetsTheStatusItMust() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let task = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"in scope"}"#).json(AnyJSON.self)
            let taskID = try #require(task["id"]?.int)
            let apacTask = try await api.call(.post, "/v1/teams/sales-apac/tasks", json: #"{"kind":"k","title":"out of scope"}"#)
                .json(AnyJSON.self)
            let apacID = try #require(apacTask["id"]?.int)

            let coordinator = try await api.makeToken(role: "coordinator", regions: ["emea"])
            let lead = try await api.makeToken(role: "lead", teams: ["sales-emea"])
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            let viewer = try await api.makeToken(role: "viewer", teams: ["sales-emea"])
            let revoked = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            let tokens = try await api.call(.get, "/v1/tokens").json(AnyJSON.self)["tokens"]?.array ?? []
            let revokedID = try #require(tokens.last?["id"]?.int)
            #expect(try await api.call(.post, "/v1/tokens/\(revokedID)/revoke").status == .ok)
            let expired = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            try await database.pool.query(
                "UPDATE api_tokens SET expires_at = now() - interval '1 day' WHERE id = (SELECT max(id) FROM api_tokens)"
            )

            struct Case {
                var method: HTTPRequest.Method
                var path: String
                var json: String?
            }
            let read = Case(method: .get, path: "/v1/tasks/\(taskID)")
            let readOutside = Case(method: .get, path: "/v1/tasks/\(apacID)")
            let create = Case(method: .post, path: "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"t"}"#)
            let createOutside = Case(method: .post, path: "/v1/teams/sales-apac/tasks", json: #"{"kind":"k","title":"t"}"#)
            let stats = Case(method: .get, path: "/v1/teams/sales-emea/stats")
            let pause = Case(method: .post, path: "/v1/teams/marketing-emea/pause")
            let pauseOwn = Case(method: .post, path: "/v1/teams/sales-emea/pause")
            let makeRegion = Case(method: .post, path: "/v1/regions", json: #"{"code":"latam","name":"LATAM"}"#)
            let listTokens = Case(method: .get, path: "/v1/tokens")

            let expectations: [(String, String?, Case, Int)] = [
                ("none", nil, read, 401), ("none", nil, create, 401), ("none", nil, listTokens, 401),
                ("garbage", "not-a-token", read, 401), ("revoked", revoked, read, 401), ("expired", expired, read, 401),
                ("viewer", viewer, read, 200), ("viewer", viewer, stats, 200), ("viewer", viewer, create, 403),
                ("viewer", viewer, readOutside, 404), ("viewer", viewer, pauseOwn, 403),
                ("agent", agent, read, 200), ("agent", agent, create, 201), ("agent", agent, createOutside, 404),
                ("agent", agent, readOutside, 404), ("agent", agent, pauseOwn, 403), ("agent", agent, listTokens, 403),
                ("lead", lead, create, 201), ("lead", lead, pauseOwn, 200), ("lead", lead, pause, 404),
                ("lead", lead, makeRegion, 403),
                ("coordinator", coordinator, pause, 200), ("coordinator", coordinator, readOutside, 404),
                ("coordinator", coordinator, create, 201), ("coordinator", coordinator, makeRegion, 403),
                ("coordinator", coordinator, listTokens, 403),
                ("admin", api.token, readOutside, 200), ("admin", api.token, listTokens, 200), ("admin", api.token, makeRegion, 201),
            ]
            for (name, token, testCase, status) in expectations {
                let response = try await api.call(testCase.method, testCase.path, json: testCase.json, token: .some(token))
                #expect(Int(response.status.code) == status, "\(name) \(testCase.method) \(testCase.path): \(response.text)")
                if status >= 400 {
                    #expect((try? response.errorEnvelope()) != nil, "errors use the envelope")
                }
            }

            // Lists and the feed honour scope: the agent never sees APAC tasks or their events.
            let listed = try await api.call(.get, "/v1/tasks?limit=200", token: .some(agent)).json(AnyJSON.self)
            #expect(listed["tasks"]?.array.allSatisfy { $0["team"]?.string == "sales-emea" } == true)
            // (The feed may lag while other tests' transactions are open; wait for something.)
            let feed = try await api.call(.get, "/v1/events?limit=1000&wait_seconds=10", token: .some(agent)).json(AnyJSON.self)
            let events = feed["events"]?.array ?? []
            #expect(!events.isEmpty)
            // Its team's events, and its region's events that belong to no team (the region's records).
            #expect(events.allSatisfy { $0["team"]?.string == "sales-emea" || ($0["team"] == nil && $0["region"]?.string == "emea") })
            #expect(events.contains { $0["team"]?.string == "sales-emea" })
            let visibleTeams = try await api.call(.get, "/v1/teams", token: .some(agent)).json(AnyJSON.self)
            #expect(visibleTeams["teams"]?.array.compactMap { $0["slug"]?.string } == ["sales-emea"])
        }
    }

    @Test func aChainShowsOutOfScopeStepsAsIdTeamAndStateOnly() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let task = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"deal"}"#).json(AnyJSON.self)
            let id = try #require(task["id"]?.int)
            let handoff = try await api.call(.post, "/v1/tasks/\(id)/handoff", json: #"{"to_team":"logistics-apac","note":"ship"}"#)
            let newID = try #require(try handoff.json(AnyJSON.self)["task"]?["id"]?.int)
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            let detail = try await api.call(.get, "/v1/tasks/\(id)", token: .some(agent)).json(AnyJSON.self)
            let chain = detail["chain"]?.array ?? []
            try #require(chain.count == 2)
            #expect(chain[0]["task"] != nil)
            #expect(chain[1]["id"]?.int == newID)
            #expect(chain[1]["team"]?.string == "logistics-apac")
            #expect(chain[1]["task"] == nil, "the out-of-scope step shows id, team and state only")
            #expect(try await api.call(.get, "/v1/tasks/\(newID)", token: .some(agent)).status == .notFound)
        }
    }
}
