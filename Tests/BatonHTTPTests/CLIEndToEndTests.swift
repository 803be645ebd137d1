import BatonCore
import BatonTestSupport
import Foundation
import HTTPTypes
import PostgresClient
import Testing

/// Runs the real `batonctl` against a test database, as ops staff would.
@Suite(.requiresDatabase) struct CLIEndToEndTests {
    struct Run {
        let status: Int32
        let output: String
        let error: String
    }

    static func batonctl(_ arguments: [String], url: String) throws -> Run {
        let process = Process()
        process.executableURL = ServeEndToEndTests.binary.deletingLastPathComponent().appendingPathComponent("batonctl")
        process.arguments = arguments + ["--database-url", url]
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            output: String(decoding: outputData, as: UTF8.self),
            error: String(decoding: errorData, as: UTF8.self)
        )
    }

    @Test func opsStaffSetCalendarsHolidaysAndPolicies() async throws {
        try await TestDatabase.withMigratedDatabase { pool, url in
            func run(_ arguments: String...) throws -> Run {
                let result = try Self.batonctl(arguments, url: url)
                #expect(result.status == 0, "batonctl \(arguments.joined(separator: " ")): \(result.error)")
                return result
            }
            _ = try run("region", "add", "emea", "--name", "EMEA", "--time-zone", "Europe/Berlin")
            _ = try run("team", "add", "--department", "support", "--region", "emea")
            _ = try run("team", "add", "--department", "coordination", "--region", "emea")

            _ = try run("calendar", "set", "emea", "--day", "mon-fri=09:00-12:30,13:30-18:00", "--day", "sat=10:00-14:00")
            let shown = try run("calendar", "show", "emea", "--json")
            let calendar = try #require(try JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any])
            let hours = try #require(calendar["hours"] as? [String: [String]])
            #expect(hours["wednesday"] == ["09:00-12:30", "13:30-18:00"])
            #expect(hours["saturday"] == ["10:00-14:00"])
            #expect(hours["sunday"] == [])
            #expect(calendar["time_zone"] as? String == "Europe/Berlin")

            _ = try run("holiday", "add", "emea", "2026-12-25", "Christmas Day")
            let again = try Self.batonctl(["holiday", "add", "emea", "2026-12-25", "Christmas Day"], url: url)
            #expect(again.status == 1)
            #expect(again.error.hasPrefix("batonctl: 2026-12-25 is already a holiday"))
            let text = try run("calendar", "show", "emea")
            #expect(text.output.contains("2026-12-25  Christmas Day"))

            _ = try run(
                "sla",
                "add",
                "Complaints",
                "--department",
                "support",
                "--task-kind",
                "complaint",
                "--claim-within",
                "1h",
                "--done-within",
                "8h",
                "--escalate",
                "breach+0m:raise_priority:urgent",
                "--escalate",
                "breach+1h:create_task"
            )
            let listed = try run("sla", "list", "--json")
            let policies = try #require(try JSONSerialization.jsonObject(with: Data(listed.output.utf8)) as? [[String: Any]])
            try #require(policies.count == 1)
            #expect(policies[0]["claim_within_minutes"] as? Int == 60)
            #expect(policies[0]["done_within_minutes"] as? Int == 480)
            #expect((policies[0]["escalations"] as? [[String: Any]])?.count == 2)
            let id = try #require(policies[0]["id"] as? Int)
            _ = try run("sla", "disable", String(id))
            let rows = try await pool.query("SELECT active FROM sla_policies WHERE id = $1", [id])
            #expect(try rows.first?.decode(Bool.self, "active") == false)

            let breaches = try run("sla", "breaches", "--region", "emea", "--json")
            let list = try JSONSerialization.jsonObject(with: Data(breaches.output.utf8)) as? [Any]
            #expect(list?.isEmpty == true)
        }
    }

    @Test func theCLIAndTheAPIStartACoveredTasksClocksThroughTheSameService() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            try api.expect(
                .created,
                await api.call(
                    .post,
                    "/v1/sla/policies",
                    json:
                        #"{"name":"Complaints","kind":"sla","department":"support","task_kind":"handle_complaint","claim_within_minutes":60,"done_within_minutes":480}"#
                )
            )
            let viaAPI = try await api.call(.post, "/v1/teams/support-emea/tasks", json: #"{"kind":"handle_complaint","title":"via the API"}"#)
            try api.expect(.created, viaAPI)
            let apiTask = try viaAPI.json(AnyJSON.self)
            let run = try Self.batonctl(
                ["task", "create", "--team", "support-emea", "--kind", "handle_complaint", "--title", "via the CLI", "--json"],
                url: api.url
            )
            #expect(run.status == 0, "\(run.error)")
            let cliTask = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
            let apiID = try #require(apiTask["id"]?.int)
            let cliID = try #require(cliTask["id"] as? Int)
            // Both got the policy, a resolution deadline and the same two clocks.
            #expect(apiTask["sla_policy_id"]?.int != nil)
            #expect(cliTask["sla_policy_id"] as? Int == apiTask["sla_policy_id"]?.int)
            #expect(apiTask["due_at"]?.string != nil)
            #expect(cliTask["due_at"] != nil)
            let clocks = try await database.pool.query(
                "SELECT task_id, array_agg(target ORDER BY target)::text AS targets FROM sla_clocks WHERE task_id = ANY($1) GROUP BY task_id",
                [[apiID, cliID]]
            )
            #expect(clocks.rows.count == 2)
            #expect(try clocks.map { try $0.decode(String.self, "targets") } == ["{claim_within,done_within}", "{claim_within,done_within}"])
            let shown = try await api.call(.get, "/v1/tasks/\(cliID)").json(AnyJSON.self)
            #expect(shown["sla"]?.array.count == 2)
            // The event says where the task came from.
            let source = try await database.pool.query(
                "SELECT source FROM events WHERE type = 'task.created' AND entity_id = $1",
                [String(cliID)]
            )
            #expect(try source.first?.decode(String.self, "source") == "cli")
        }
    }

    @Test func doctorFindsALongTransactionAndAnExpiredLeaseAndSaysWhatToDo() async throws {
        try await TestDatabase.withMigratedDatabase { pool, url in
            let healthy = try Self.batonctl(["doctor"], url: url)
            #expect(healthy.status == 0, "\(healthy.output)\(healthy.error)")
            /// The RESULT column of each CHECK row.
            func results(_ output: String) -> [String: String] {
                var results: [String: String] = [:]
                for line in output.split(separator: "\n") {
                    let cells = line.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
                    if cells.count >= 3 { results[cells[0]] = cells[1] }
                }
                return results
            }
            #expect(results(healthy.output)["schema"] == "ok", "\(healthy.output)")
            #expect(results(healthy.output)["expired leases"] == "ok", "\(healthy.output)")
            #expect(healthy.output.contains("version \(BatonDatabase.migrations.count), nothing pending"))

            try await pool.query("INSERT INTO regions (code, name, time_zone) VALUES ('emea', 'EMEA', 'Europe/Berlin')")
            try await pool.query("INSERT INTO teams (slug, department, region, name) VALUES ('sales-emea', 'sales', 'emea', 'Sales')")
            try await pool.query(
                """
                INSERT INTO tasks (team, region, kind, title, state, max_attempts, lease_worker, lease_token, lease_expires_at, chain_id)
                VALUES ('sales-emea', 'emea', 'k', 'stuck', 'claimed', 3, 'w', gen_random_uuid(), now() - interval '5 minutes', 1)
                """
            )
            // Two transactions left open: one that has written (it has a transaction id and holds
            // the event feed back) and a read-only one (it holds back vacuum only).
            try await pool.withConnection { connection in
                try await connection.query("BEGIN")
                let pid = try await connection.query("SELECT pg_backend_pid() AS pid, txid_current()").first?.decode(Int.self, "pid")
                let (reader, sick) = try await pool.withConnection { reader in
                    try await reader.query("BEGIN")
                    let readerPID = try await reader.query("SELECT pg_backend_pid() AS pid").first?.decode(Int.self, "pid")
                    try await Task.sleep(for: .milliseconds(1500))
                    let sick = try Self.batonctl(["doctor", "--long-transaction-seconds", "1"], url: url)
                    try await reader.query("ROLLBACK")
                    return (readerPID, sick)
                }
                try await connection.query("ROLLBACK")
                #expect(sick.status == 0, "warnings are not failures: \(sick.error)")
                let lines = sick.output.split(separator: "\n").map(String.init)
                let long = lines.first { $0.hasPrefix("long transactions ") } ?? ""
                #expect(long.contains("WARNING") && long.contains("pid \(pid ?? -1) "), "\(sick.output)")
                #expect(long.contains("has written: holds the event feed back"), "\(sick.output)")
                #expect(long.contains("pid \(reader ?? -1) ") && long.contains("read-only"), "\(sick.output)")
                let leases = lines.first { $0.hasPrefix("expired leases ") } ?? ""
                #expect(leases.contains("WARNING") && leases.contains("1 claimed task(s)"), "\(sick.output)")
                #expect(lines.contains { $0.hasPrefix("long transactions: ") && $0.contains("pg_terminate_backend") })
                #expect(lines.contains { $0.hasPrefix("expired leases: ") && $0.contains("lease reaper") })
            }

            let json = try Self.batonctl(["doctor", "--json"], url: url)
            let checks = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
            let outcomes = Dictionary(
                uniqueKeysWithValues: checks.compactMap { check in
                    (check["name"] as? String).map { ($0, check["outcome"] as? String ?? "") }
                }
            )
            #expect(outcomes["connectivity"] == "ok")
            #expect(outcomes["expired leases"] == "warning")

            // The idle-transaction timeout, off and then set for the database (new sessions see it).
            let name = try #require(try await pool.query("SELECT current_database() AS name").first?.decode(String.self, "name"))
            try await pool.query("ALTER DATABASE \"\(unescaped: name)\" SET idle_in_transaction_session_timeout = 0")
            let off = try Self.batonctl(["doctor"], url: url)
            #expect(results(off.output)["idle transaction timeout"] == "WARNING", "\(off.output)")
            #expect(off.output.contains("idle transaction timeout: Set it for the database"), "\(off.output)")
            try await pool.query("ALTER DATABASE \"\(unescaped: name)\" SET idle_in_transaction_session_timeout = '5min'")
            let on = try Self.batonctl(["doctor"], url: url)
            #expect(results(on.output)["idle transaction timeout"] == "ok", "\(on.output)")
            #expect(on.output.contains("sessions idle in a transaction for 5 min are ended"), "\(on.output)")

            let unreachable = try Self.batonctl(["doctor"], url: "postgres://nobody@127.0.0.1:1/none")
            #expect(unreachable.status == 1)
            #expect(results(unreachable.output)["connectivity"] == "FAILED", "\(unreachable.output)")
        }
    }

    @Test func reportSettingsAreShownAndChangedFromTheCommandLine() async throws {
        try await TestDatabase.withMigratedDatabase { pool, url in
            func run(_ arguments: String...) throws -> Run {
                let result = try Self.batonctl(arguments, url: url)
                #expect(result.status == 0, "batonctl \(arguments.joined(separator: " ")): \(result.error)")
                return result
            }
            _ = try run("region", "add", "emea", "--name", "EMEA", "--time-zone", "Europe/Berlin")
            let defaults = try run("report", "settings", "--region", "emea", "--format", "csv")
            #expect(defaults.output == "region,count_orders_at,currency\r\nemea,confirmed,\r\n")
            _ = try run("report", "settings", "--region", "emea", "--count-orders-at", "delivered", "--currency", "EUR")
            // Only what is given changes.
            _ = try run("report", "settings", "--region", "emea", "--count-orders-at", "confirmed")
            let row = try await pool.query("SELECT count_orders_at, currency FROM report_settings WHERE region = 'emea'").first
            #expect(try row?.decode(String.self, "count_orders_at") == "confirmed")
            #expect(try row?.decode(String?.self, "currency") == "EUR")
            let cleared = try run("report", "settings", "--region", "emea", "--clear-currency", "--format", "json")
            #expect(cleared.output.contains("confirmed"))
            #expect(!cleared.output.contains("EUR"))
            // A moment that is not one is a usage error; a bad currency or region, a failure.
            #expect(try Self.batonctl(["report", "settings", "--region", "emea", "--count-orders-at", "shipped"], url: url).status != 0)
            for arguments in [
                ["report", "settings", "--region", "emea", "--currency", "eur"],
                ["report", "settings", "--region", "nowhere"],
            ] {
                let result = try Self.batonctl(arguments, url: url)
                #expect(result.status == 1, "\(arguments): \(result.status) \(result.error)")
                #expect(result.error.hasPrefix("batonctl: "), "\(arguments): \(result.error)")
            }
        }
    }

    @Test func badInputIsOneLineAndExitCodeOne() async throws {
        try await TestDatabase.withMigratedDatabase { _, url in
            _ = try Self.batonctl(["region", "add", "emea", "--name", "EMEA", "--time-zone", "Europe/Berlin"], url: url)
            for arguments in [
                ["calendar", "set", "emea", "--day", "someday=09:00-17:00"],
                ["calendar", "set", "emea", "--day", "mon=17:00-09:00"],
                ["calendar", "set", "emea", "--day", "mon=09:00-12:00,11:00-13:00"],
                ["calendar", "set", "nowhere", "--day", "mon=09:00-17:00"],
                ["holiday", "add", "emea", "2026-02-30", "Nope"],
                ["sla", "add", "No targets"],
                ["sla", "add", "Bad level", "--done-within", "1h", "--escalate", "breach+1h:teleport"],
                ["sla", "disable", "999"],
            ] {
                let result = try Self.batonctl(arguments, url: url)
                #expect(result.status == 1, "\(arguments): \(result.status) \(result.error)")
                #expect(result.error.hasPrefix("batonctl: "), "\(arguments): \(result.error)")
                #expect(result.error.split(separator: "\n").count == 1, "\(arguments): \(result.error)")
            }
        }
    }
}
