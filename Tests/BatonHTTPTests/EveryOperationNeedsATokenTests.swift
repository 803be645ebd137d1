import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing
import Yams

/// Generated from the OpenAPI document: every operation under /v1, called with no token, a
/// malformed one and an unknown one, must answer 401 in the envelope. A new endpoint that
/// forgets authentication fails this suite by itself.
@Suite(.requiresDatabase) struct EveryOperationNeedsATokenTests {
    static func operations() throws -> [(HTTPRequest.Method, String)] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BatonHTTP/openapi.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var result: [(HTTPRequest.Method, String)] = []
        for (path, item) in paths where path.hasPrefix("/v1") {
            let concrete = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "1", options: .regularExpression)
            for method in (item as? [String: Any])?.keys ?? [:].keys {
                if let parsed = HTTPRequest.Method(method.uppercased()) { result.append((parsed, concrete)) }
            }
        }
        return result
    }

    @Test func everyV1OperationRefusesMissingAndBadTokens() async throws {
        let operations = try Self.operations()
        #expect(operations.count >= 25)
        try await withTestApplication { api, _ in
            for (method, path) in operations {
                for token in [String?.none, "garbage", "bt_not_a_real_token"] {
                    let response = try await api.call(method, path, json: method == .post ? "{}" : nil, token: .some(token))
                    #expect(response.status == .unauthorized, "\(method) \(path) with \(token ?? "no token")")
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    let envelope = try? response.errorEnvelope()
                    #expect(envelope?.error.code == "unauthenticated")
                }
            }
        }
    }
}

/// Also generated from the document: a viewer may change nothing anywhere, and a scoped agent
/// may not touch reference data or tokens.
@Suite(.requiresDatabase) struct EveryWriteChecksTheRoleTests {
    @Test func aViewerChangesNothingAndAnAgentTouchesNoAdminData() async throws {
        let writes = try EveryOperationNeedsATokenTests.operations().filter { [.post, .put, .delete].contains($0.0) }
        #expect(writes.count >= 20)
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let task = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"t"}"#).json(AnyJSON.self)
            let taskID = try #require(task["id"]?.int)
            let viewer = try await api.makeToken(role: "viewer", teams: ["sales-emea"])
            let agent = try await api.makeToken(role: "agent", teams: ["sales-emea"])
            let before = try await database.pool.query("SELECT count(*) AS n FROM events").first?.decode(Int.self, "n")
            for (method, template) in writes {
                // Aim every path at things that exist and are in the tokens' scope.
                let path = template.replacingOccurrences(of: "/teams/1/", with: "/teams/sales-emea/")
                    .replacingOccurrences(of: "/tasks/1/", with: "/tasks/\(taskID)/")
                let body =
                    #"{"kind":"sla","title":"t","date":"2026-12-25","hours":{},"reason":"r","done_within_minutes":60,"worker":"w","lease_token":"00000000-0000-0000-0000-000000000000","to_team":"logistics-emea","note":"n","error":"e","items":[],"tasks":[],"name":"n","email":"a@b.c","code":"zz","role":"viewer","department":"sales","region":"emea","team":"sales-emea"}"#
                let viewerResponse = try await api.call(method, path, json: body, token: .some(viewer))
                #expect([403, 404].contains(Int(viewerResponse.status.code)), "viewer \(method) \(path): \(viewerResponse.status.code)")
                let adminOnly =
                    ["/v1/regions", "/v1/teams", "/v1/members", "/v1/tokens", "/v1/sla/policies"].contains(path)
                    || ["/v1/members/", "/v1/tokens/", "/v1/regions/", "/v1/sla/policies/"].contains { path.hasPrefix($0) }
                if adminOnly {
                    let agentResponse = try await api.call(method, path, json: body, token: .some(agent))
                    #expect(agentResponse.status == .forbidden, "agent \(method) \(path): \(agentResponse.status.code)")
                }
            }
            let after = try await database.pool.query("SELECT count(*) AS n FROM events").first?.decode(Int.self, "n")
            #expect(before == after, "no refused call changed anything")
        }
    }
}
