import BatonCore
import BatonHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct OperationsEndpointTests {
    @Test func healthzAnswersWithTheVersion() async throws {
        try await withTestApplication { api, _ in
            let client = api.client
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                let body = try response.json([String: String].self)
                #expect(body == ["status": "ok", "version": BatonVersion.current])
            }
        }
    }

    @Test func readyzIsReadyOnAMigratedDatabase() async throws {
        try await withTestApplication { api, _ in
            let client = api.client
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(#""status":"ready""#))
                #expect(response.text.contains(#""schema_version":\#(TestDatabaseVersion.latest)"#))
            }
        }
    }

    @Test func readyzIs503WithTheReasonWhileMigrationsArePending() async throws {
        try await withTestApplication(migrated: false) { api, _ in
            let client = api.client
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.text.contains("migration(s) pending"))
                #expect(response.text.contains("0001_foundation.sql"))
            }
        }
    }

    @Test func theOpenAPIDocumentIsServedVerbatim() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BatonHTTP/openapi.yaml")
        let expected = try String(contentsOf: file, encoding: .utf8)
        try await withTestApplication { api, _ in
            let client = api.client
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
                #expect(response.text == expected)
            }
        }
    }

    @Test func metricsCountRequestsByRouteAndStatusAndReportThePool() async throws {
        try await withTestApplication { api, _ in
            let client = api.client
            try await client.execute(uri: "/healthz", method: .get) { _ in }
            try await client.execute(uri: "/no/such/path", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = response.text
                #expect(text.contains(#"hb_requests{http_route="/healthz",http_request_method="GET",http_response_status_code="200"}"#))
                #expect(text.contains(#"http_response_status_code="404""#))
                #expect(text.contains("http_server_request_duration_bucket"))
                #expect(text.contains(#"baton_db_pool_connections{state="in_use"}"#))
                #expect(text.contains("baton_db_pool_waiters"))
            }
        }
    }

    @Test func metricsReportQueueDepthsOldestAgeAndClaimLatencyPerTeam() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            for title in ["a", "b", "c"] {
                try api.expect(.created, await api.call(.post, "/v1/teams/marketing-apac/tasks", json: #"{"kind":"k","title":"\#(title)"}"#))
            }
            try api.expect(.ok, await api.call(.post, "/v1/teams/marketing-apac/claim", json: #"{"worker":"w"}"#))
            let text = try await api.call(.get, "/metrics", token: .some(nil)).text
            func value(_ series: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }
            #expect(value(#"baton_queue_depth{team="marketing-apac",state="queued"}"#) == 2, "\(text)")
            #expect(value(#"baton_queue_depth{team="marketing-apac",state="claimed"}"#) == 1)
            #expect(value(#"baton_queue_depth{team="marketing-apac",state="dead"}"#) == 0)
            #expect(value(#"baton_queue_depth{team="sales-emea",state="queued"}"#) == 0, "a team without work reads 0")
            #expect((value(#"baton_queue_oldest_age_seconds{team="marketing-apac"}"#) ?? -1) >= 0)
            #expect((value(#"baton_claim_duration_seconds_count{team="marketing-apac"}"#) ?? 0) >= 1)
            #expect((value(#"baton_tasks_claimed_total{team="marketing-apac"}"#) ?? 0) >= 1)
            #expect(value("baton_metrics_database_up") == 1)
        }
    }

    @Test func unknownPathsAre404InTheEnvelope() async throws {
        try await withTestApplication { api, _ in
            let client = api.client
            do {
                let response = try await api.call(.get, "/v1/nothing-here")
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let envelope = try response.errorEnvelope()
                #expect(envelope.error.code == "not_found")
            }
        }
    }

    @Test func wrongMethodsAre405WithAllow() async throws {
        try await withTestApplication { api, _ in
            let client = api.client
            do {
                let response = try await api.call(.delete, "/v1/teams")
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, POST")
                let envelope = try response.errorEnvelope()
                #expect(envelope.error.code == "method_not_allowed")
                #expect(envelope.error.message.contains("DELETE"))
            }
            try await client.execute(uri: "/healthz", method: .put, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }

    @Test func allowListsTheMethodsOfTheLiteralPathNotOfAParameterOneBesideIt() async throws {
        try await withTestApplication { api, _ in
            // `/v1/tasks/complete` is POST only, although `/v1/tasks/{id}` beside it has GET.
            let options = try await api.call(.options, "/v1/tasks/complete")
            #expect(options.status == .methodNotAllowed)
            #expect(options.headers[.allow] == "POST")
            let get = try await api.call(.get, "/v1/tasks/complete")
            #expect(get.status == .methodNotAllowed)
            #expect(get.headers[.allow] == "POST")
            // A number in the same place still takes the parameter route's methods.
            let delete = try await api.call(.delete, "/v1/tasks/42")
            #expect(delete.status == .methodNotAllowed)
            #expect(delete.headers[.allow] == "GET, HEAD")
        }
    }

    @Test func everyResponseCarriesARequestIDAndASaneIncomingOneIsKept() async throws {
        try await withTestApplication { api, _ in
            let client = api.client
            var seen: Set<String> = []
            for _ in 0..<3 {
                try await client.execute(uri: "/healthz", method: .get) { response in
                    let id = try #require(response.headers[.init("X-Request-Id")!])
                    #expect(!id.isEmpty)
                    seen.insert(id)
                }
            }
            #expect(seen.count == 3)
            try await client.execute(uri: "/nowhere", method: .get, headers: [.init("X-Request-Id")!: "trace-42.a_b"]) { response in
                #expect(response.headers[.init("X-Request-Id")!] == "trace-42.a_b")
            }
            try await client.execute(uri: "/healthz", method: .get, headers: [.init("X-Request-Id")!: "bad id with spaces"]) {
                response in
                #expect(response.headers[.init("X-Request-Id")!] != "bad id with spaces")
            }
        }
    }

    @Test func bodiesOverTheLimitAre413BeforeAnythingReadsThem() async throws {
        try await withTestApplication(settings: ServerSettings(maximumBodyBytes: 1024)) { api, _ in
            let client = api.client
            let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 4096)
            try await client.execute(uri: "/v1/regions", method: .post, headers: [.contentType: "application/json"], body: big) {
                response in
                #expect(response.status == .contentTooLarge)
                let envelope = try response.errorEnvelope()
                #expect(envelope.error.code == "payload_too_large")
                #expect(envelope.error.details?["limit_bytes"] == "1024")
            }
        }
    }
}

enum TestDatabaseVersion {
    static let latest = BatonDatabase.migrations.last?.version ?? 0
}
