import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Testing

/// Two real `baton` processes on one database, each running its SLA monitor several times a
/// second: a breached task still gets one `sla.breached` event per target and each
/// escalation level fires once.
@Suite(.requiresDatabase, .serialized) struct TwoInstancesEndToEndTests {
    /// A `baton serve` on the database at `url` (through the run's pooler, when it has one),
    /// writing its log to `log`.
    static func start(
        url: String,
        log: URL,
        arguments: [String] = ["--sla-interval", "0.1", "--log-level", "warning"]
    ) throws -> ServeEndToEndTests.Server {
        let port = try ServeEndToEndTests.freePort()
        let process = Process()
        process.executableURL = ServeEndToEndTests.binary
        // In the run through a pooler the servers' statements go through PgBouncer.
        let database =
            TestDatabase.pooledURL(for: url).map { ["--database-url", $0, "--database-pooler", "transaction", "--direct-database-url", url] }
            ?? ["--database-url", url]
        process.arguments = ["serve"] + database + ["--port", String(port)] + arguments
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return ServeEndToEndTests.Server(process: process, log: log, port: port)
    }

    @Test func twoInstancesReportEachBreachOnceAndFireEachLevelOnce() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: ServeEndToEndTests.binary.path), "build the baton product first")
        try await TestDatabase.withMigratedDatabase { pool, url in
            let token = try #require(try await TokenStore(pool: pool).bootstrapAdminToken())
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-two-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var servers: [ServeEndToEndTests.Server] = []
            // Servers still running when the test ends early (a failed #require) are stopped here,
            // before the test database is dropped.
            defer {
                for server in servers where server.process.isRunning {
                    server.process.terminate()
                    server.process.waitUntilExit()
                }
            }
            for name in ["a", "b"] {
                servers.append(try Self.start(url: url, log: directory.appendingPathComponent("\(name).log")))
            }
            for server in servers {
                let ready = try await ServeEndToEndTests.waitUntilReady(server)
                if !ready { Issue.record("baton never became ready: \((try? String(contentsOf: server.log, encoding: .utf8)) ?? "")") }
            }
            let (a, b) = (servers[0].port, servers[1].port)
            func post(_ port: Int, _ path: String, _ json: String) async throws -> String {
                let answer = try #require(await ServeEndToEndTests.post(path, port: port, token: token, json: json))
                #expect((200...201).contains(answer.0), "\(path): \(answer.1)")
                return answer.1
            }
            _ = try await post(a, "/v1/regions", #"{"code":"emea","name":"EMEA","time_zone":"Europe/Berlin"}"#)
            _ = try await post(b, "/v1/teams", #"{"department":"support","region":"emea"}"#)
            _ = try await post(
                a,
                "/v1/sla/policies",
                #"""
                {"name":"complaints","kind":"sla","department":"support","claim_within_minutes":5,"done_within_minutes":10,
                 "escalations":[{"after_minutes":0,"action":"notify","message":"overdue"},
                                {"after_minutes":0,"action":"raise_priority","priority":"urgent"}]}
                """#
            )
            // Tasks created through both instances.
            var ids: [Int] = []
            for port in [a, b, a, b] {
                let body = try await post(port, "/v1/teams/support-emea/tasks", #"{"kind":"complaint","title":"late delivery"}"#)
                let task = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                #expect(task["sla_policy_id"] != nil, "the policy covers the task: \(body)")
                ids.append(try #require(task["id"] as? Int))
            }
            // Every clock a minute past due, every level due: both monitors now race for them.
            try await pool.query(
                """
                UPDATE sla_clocks SET started_at = started_at - interval '1 hour', running_since = running_since - interval '1 hour',
                                      at_risk_at = now() - interval '2 minutes', due_at = now() - interval '1 minute'
                """
            )
            try await pool.query("UPDATE sla_escalations SET fire_at = now() - interval '1 minute'")
            try await Task.sleep(for: .seconds(3))

            for id in ids {
                let counts = try #require(
                    try await pool.query(
                        """
                        SELECT count(*) FILTER (WHERE type = 'sla.breached') AS breached,
                               count(DISTINCT data->>'target') FILTER (WHERE type = 'sla.breached') AS targets,
                               count(*) FILTER (WHERE type = 'sla.escalated') AS escalated,
                               count(DISTINCT data->>'level') FILTER (WHERE type = 'sla.escalated') AS levels
                        FROM events WHERE entity_type = 'task' AND entity_id = $1
                        """,
                        [String(id)]
                    ).first
                )
                #expect(try counts.decode(Int.self, "breached") == 2, "task \(id): one breach per target")
                #expect(try counts.decode(Int.self, "targets") == 2)
                #expect(try counts.decode(Int.self, "escalated") == 2, "task \(id): each level once")
                #expect(try counts.decode(Int.self, "levels") == 2)
            }
            let urgent = try await pool.query("SELECT count(*) AS n FROM tasks WHERE priority = 0").first?.decode(Int.self, "n")
            #expect(urgent == ids.count)
            for server in servers {
                #expect(try await ServeEndToEndTests.stop(server) == 0)
            }
        }
    }
}
