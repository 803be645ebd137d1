import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Synchronization
import Testing

/// The regional deployment the README describes: one `baton serve --region CODE` per region on
/// one database. Each serves the API for every region, runs the SLA sweeps of its own region
/// only, and work handed across regions reaches the other region's workers at once.
@Suite(.requiresDatabase, .serialized) struct RegionalDeploymentTests {
    @Test func twoRegionsServersShareOneDatabase() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ServeEndToEndTests.binary.path), "build the baton product first")
        try await TestDatabase.withMigratedDatabase { pool, url in
            let token = try #require(try await TokenStore(pool: pool).bootstrapAdminToken())
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-regions-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // Servers still running when the test ends early (a failed #require) are stopped here.
            let started = Mutex<[Process]>([])
            defer { started.withLock { for process in $0 where process.isRunning { process.terminate() } } }
            func start(_ region: String) async throws -> ServeEndToEndTests.Server {
                let server = try TwoInstancesEndToEndTests.start(
                    url: url,
                    log: directory.appendingPathComponent("\(region).log"),
                    arguments: ["--region", region, "--sla-interval", "0.1", "--log-format", "json"]
                )
                started.withLock { $0.append(server.process) }
                let ready = try await ServeEndToEndTests.waitUntilReady(server)
                if !ready { Issue.record("\(region) never became ready: \((try? String(contentsOf: server.log, encoding: .utf8)) ?? "")") }
                return server
            }
            func post(_ port: Int, _ path: String, _ json: String, token: String? = nil) async throws -> [String: Any] {
                let answer = try #require(await ServeEndToEndTests.post(path, port: port, token: token ?? "", json: json))
                #expect((200...201).contains(answer.0), "\(path): \(answer.1)")
                return try #require(try JSONSerialization.jsonObject(with: Data(answer.1.utf8)) as? [String: Any])
            }
            func breaches(_ id: Int) async throws -> Int {
                try await pool.query(
                    "SELECT count(*) AS n FROM events WHERE type = 'sla.breached' AND entity_type = 'task' AND entity_id = $1",
                    [String(id)]
                ).first?.decode(Int.self, "n") ?? -1
            }
            func backdateClocks() async throws {
                try await pool.query(
                    """
                    UPDATE sla_clocks SET started_at = started_at - interval '1 hour', running_since = running_since - interval '1 hour',
                                          at_risk_at = now() - interval '2 minutes', due_at = now() - interval '1 minute'
                    WHERE breached_at IS NULL
                    """
                )
            }

            let emea = try await start("emea")
            let e = emea.port
            let admin = { (port: Int, path: String, json: String) in try await post(port, path, json, token: token) }
            _ = try await admin(e, "/v1/regions", #"{"code":"emea","name":"EMEA","time_zone":"Europe/Berlin"}"#)
            _ = try await admin(e, "/v1/regions", #"{"code":"apac","name":"APAC","time_zone":"Asia/Kolkata"}"#)
            for team in ["sales-emea", "support-emea", "logistics-apac", "support-apac"] {
                let parts = team.split(separator: "-")
                _ = try await admin(e, "/v1/teams", #"{"department":"\#(parts[0])","region":"\#(parts[1])"}"#)
            }
            _ = try await admin(
                e,
                "/v1/sla/policies",
                #"{"name":"complaints","kind":"sla","department":"support","done_within_minutes":600}"#
            )

            // The EMEA server creates work in both regions and sweeps only EMEA's clocks.
            let emeaComplaint = try #require(
                try await admin(e, "/v1/teams/support-emea/tasks", #"{"kind":"complaint","title":"late"}"#)["id"] as? Int
            )
            let apacComplaint = try #require(
                try await admin(e, "/v1/teams/support-apac/tasks", #"{"kind":"complaint","title":"late"}"#)["id"] as? Int
            )
            try await backdateClocks()
            try await Task.sleep(for: .seconds(2))
            #expect(try await breaches(emeaComplaint) == 1, "the EMEA server sweeps EMEA")
            #expect(try await breaches(apacComplaint) == 0, "the EMEA server leaves APAC's clocks to APAC's server")

            // The APAC server comes up, serves EMEA's API too, and sweeps APAC.
            let apac = try await start("apac")
            let a = apac.port
            try await Task.sleep(for: .seconds(2))
            #expect(try await breaches(apacComplaint) == 1, "the APAC server sweeps APAC")
            #expect(try await breaches(emeaComplaint) == 1, "and never EMEA again")
            let order = try #require(try await admin(a, "/v1/teams/sales-emea/tasks", #"{"kind":"order","title":"ship 40 chairs"}"#)["id"] as? Int)

            // Sales in EMEA wins the deal and hands it to logistics in APAC: a worker long-polling
            // the APAC server wakes as soon as the EMEA server commits the handoff.
            let apacAgent = try #require(
                try await admin(a, "/v1/tokens", #"{"name":"apac worker","role":"agent","regions":["apac"]}"#)["secret"] as? String
            )
            let claimed = try #require(
                try await admin(e, "/v1/teams/sales-emea/claim", #"{"worker":"sales-1","limit":1}"#)["tasks"] as? [[String: Any]]
            )
            let lease = try #require((claimed.first?["lease"] as? [String: Any])?["token"] as? String)
            let waiter = Task {
                let started = ContinuousClock.now
                let answer = await ServeEndToEndTests.post(
                    "/v1/teams/logistics-apac/claim",
                    port: a,
                    token: apacAgent,
                    json: #"{"worker":"shipper","wait_seconds":20}"#
                )
                return (answer?.1 ?? "", ContinuousClock.now - started)
            }
            try await Task.sleep(for: .milliseconds(500))
            let handedOff = try await admin(
                e,
                "/v1/tasks/\(order)/handoff",
                #"{"to_team":"logistics-apac","note":"deal won, ship it","lease_token":"\#(lease)"}"#
            )
            let (text, waited) = await waiter.value
            let body = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
            let shipped = try #require((body["tasks"] as? [[String: Any]])?.first, "\(text)")
            #expect(shipped["id"] as? Int == (handedOff["task"] as? [String: Any])?["id"] as? Int)
            #expect(shipped["handed_off_from"] as? Int == order)
            #expect(waited < .seconds(10), "the handoff woke the APAC waiter (waited \(waited))")
            // The APAC agent cannot reach EMEA's queues through either server.
            let refused = try #require(
                await ServeEndToEndTests.post("/v1/teams/sales-emea/claim", port: e, token: apacAgent, json: #"{"worker":"x"}"#)
            )
            #expect(refused.0 == 404)

            for server in [emea, apac] {
                #expect(try await ServeEndToEndTests.stop(server) == 0)
            }
            // Each request is one JSON log line with its request id, token and team.
            let lines = try String(contentsOf: emea.log, encoding: .utf8).split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
            }
            let handoffLine = try #require(lines.first { $0["message"] == "request" && $0["path"] == "/v1/tasks/\(order)/handoff" })
            #expect(handoffLine["status"] == "200")
            #expect(handoffLine["method"] == "POST")
            #expect(handoffLine["team"] == "sales-emea")
            #expect(handoffLine["token_id"] == "1")
            #expect(handoffLine["region"] == "emea")
            #expect((handoffLine["request_id"] ?? "").isEmpty == false)
            #expect(handoffLine["hb.request.id"] == nil, "the request id appears once")
            #expect(Double(handoffLine["duration_ms"] ?? "") != nil)
            #expect(lines.allSatisfy { !($0.values.contains { $0.contains(token) }) }, "no log line carries the token's secret")
        }
    }
}
