import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
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
