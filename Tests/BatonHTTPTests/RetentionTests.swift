import BatonCore
import BatonHTTP
import BatonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresClient
import Testing

/// Retention: each kind of history goes once older than its age, with what depends on it, and
/// nothing younger or still live; the feed says 410 rather than skip what was pruned.
@Suite(.requiresDatabase) struct RetentionTests {
    static let days90 = RetentionPolicy(finishedTasks: .seconds(90 * 86400), events: .seconds(30 * 86400), webhookDeliveries: .seconds(30 * 86400))

    /// Old and young history of every kind, written straight to the tables (ids from 1000 up so
    /// they do not meet the API's). Per kind, what a 90d / 30d / 30d policy must delete:
    /// tasks 12 (7 done, 2 dead, 1 cancelled, and a finished two-step chain), with 2 SLA clocks
    /// and 2 escalations; deliveries 3 (and their 3 tasks); events 16 (the customer's two stay).
    static func seedHistory(_ pool: ConnectionPool) async throws {
        try await pool.query(
            """
            INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at, finished_at)
            SELECT g, g, 'sales-emea', 'emea', 'k', 't', 5,
                   CASE WHEN g < 1007 THEN 'done' WHEN g < 1009 THEN 'dead' ELSE 'cancelled' END,
                   now() - interval '101 days', now() - interval '100 days'
            FROM generate_series(1000, 1009) g
            """
        )
        // Young finished tasks and old live ones stay; 999 is young with the smallest id (the old
        // ones came later, as history loaded or imported after the fact does).
        try await pool.query(
            """
            INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at, finished_at)
            SELECT g, g, 'sales-emea', 'emea', 'k', 't', 5, 'done', now() - interval '11 days', now() - interval '10 days'
            FROM (VALUES (999), (1010), (1011), (1012), (1013)) AS v (g)
            """
        )
        try await pool.query(
            """
            INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at)
            SELECT g, g, 'sales-emea', 'emea', 'k', 't', 5, 'queued', now() - interval '101 days'
            FROM generate_series(1014, 1016) g
            """
        )
        // Chain 1020: handed off and done, both long ago: goes whole. Chain 1030: its second
        // step is still queued, so its handed-off first step stays with it.
        try await pool.query(
            """
            INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at, finished_at, handed_off_from)
            VALUES (1020, 1020, 'sales-emea', 'emea', 'k', 't', 5, 'handed_off', now() - interval '120 days', now() - interval '119 days', NULL),
                   (1021, 1020, 'logistics-emea', 'emea', 'k', 't', 5, 'done', now() - interval '119 days', now() - interval '100 days', 1020),
                   (1030, 1030, 'sales-emea', 'emea', 'k', 't', 5, 'handed_off', now() - interval '120 days', now() - interval '119 days', NULL),
                   (1031, 1030, 'logistics-emea', 'emea', 'k', 't', 5, 'queued', now() - interval '119 days', NULL, 1030)
            """
        )
        try await pool.query(
            """
            WITH policy AS (
                INSERT INTO sla_policies (name, kind, team, done_within_minutes) VALUES ('old', 'sla', 'sales-emea', 60) RETURNING id
            ),
            clocks AS (
                INSERT INTO sla_clocks (task_id, policy_id, target, team, region, calendar_region, target_seconds, started_at,
                                        at_risk_at, due_at, stopped_at, settled)
                SELECT t, policy.id, 'done_within', 'sales-emea', 'emea', 'emea', 3600, now() - interval '101 days',
                       now() - interval '101 days', now() - interval '101 days', now() - interval '100 days', false
                FROM policy, (VALUES (1000), (1001)) AS t (t)
                RETURNING id
            )
            INSERT INTO sla_escalations (clock_id, level, basis, spec, fire_at, fired_at, outcome)
            SELECT id, 1, 'breach', '{}', now() - interval '101 days', now() - interval '101 days', 'done' FROM clocks
            """
        )
        // Deliveries: three delivered 40 days ago (their tasks finished 100 days ago: the task
        // age does not reach them), one delivered 5 days ago, one still retrying.
        try await pool.query(
            """
            WITH hook AS (
                INSERT INTO webhooks (url, event_types, secret) VALUES ('https://example.com/hook', '{*}', 'whsec_0123456789abcdef') RETURNING id
            ),
            queued AS (
                INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at, finished_at)
                SELECT g, g, 'baton.webhooks', 'emea', 'webhook', 'deliver', 5, CASE WHEN g = 1044 THEN 'queued' ELSE 'done' END,
                       now() - interval '101 days', CASE WHEN g <> 1044 THEN now() - interval '100 days' END
                FROM generate_series(1040, 1044) g
                RETURNING id
            )
            INSERT INTO webhook_deliveries (task_id, webhook_id, event_id, event_type, state, created_at, updated_at, delivered_at)
            SELECT q.id, hook.id, q.id, 'task.created',
                   CASE WHEN q.id = 1044 THEN 'retrying' ELSE 'delivered' END,
                   now() - interval '41 days',
                   CASE WHEN q.id = 1043 THEN now() - interval '5 days' ELSE now() - interval '40 days' END,
                   CASE WHEN q.id < 1043 THEN now() - interval '40 days' WHEN q.id = 1043 THEN now() - interval '5 days' END
            FROM queued q, hook
            """
        )
        // Events: the reference data's ten (two regions, eight teams) made 50 days old, then six
        // of tasks and two of a customer 40 days old, and three of today.
        try await pool.query("UPDATE events SET occurred_at = now() - interval '50 days'")
        // One statement each, so that feed order (xid, id) is age order, as it is when events
        // are written as things happen.
        try await pool.query(
            """
            INSERT INTO events (type, occurred_at, entity_type, entity_id)
            SELECT 'task.completed', now() - interval '40 days', 'task', g::text FROM generate_series(1, 6) g
            """
        )
        try await pool.query(
            """
            INSERT INTO events (type, occurred_at, entity_type, entity_id)
            SELECT 'customer.updated', now() - interval '40 days', 'customer', g::text FROM generate_series(1, 2) g
            """
        )
        try await pool.query(
            """
            INSERT INTO events (type, occurred_at, entity_type, entity_id)
            SELECT 'task.created', now(), 'task', g::text FROM generate_series(1, 3) g
            """
        )
    }

    /// The webhook dispatcher (not running in these tests) has passed every event so far.
    static func dispatchEverything(_ pool: ConnectionPool) async throws {
        try await pool.query(
            """
            UPDATE webhook_dispatch SET after_xid = last.xid, after_id = last.id
            FROM (SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1) last
            """
        )
    }

    static func ids(_ pool: ConnectionPool, _ sql: String) async throws -> [Int] {
        try await pool.query(sql, []).map { try $0.decode(Int.self, "id") }
    }

    static func count(_ pool: ConnectionPool, _ sql: String) async throws -> Int {
        try await pool.query(sql, []).first?.decode(Int.self, "n") ?? -1
    }

    /// Prunes until a pass deletes nothing more of `kind` (a running transaction elsewhere in
    /// the cluster holds events back from the pruner as from the feed) or `expected` went.
    static func prune(_ services: BatonServices, _ policy: RetentionPolicy, kind: RetentionPolicy.Kind, expected: Int) async throws -> Int {
        var total = 0
        for _ in 0..<50 where total < expected {
            total += try await services.retention.prune(policy, batchSize: 3).first { $0.kind == kind }?.deleted ?? 0
            if total < expected { try await Task.sleep(for: .milliseconds(100)) }
        }
        return total
    }

    @Test func eachKindGoesAtItsAgeWithItsDependentsAndNothingYoungOrLive() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let pool = database.pool
            try await Self.seedHistory(pool)
            let services = BatonServices(database: database)

            // The dispatcher has not passed the old events: their deliveries are not queued yet.
            let held = try await services.retention.preview(Self.days90)
            #expect(held.map(\.rows) == [12, 0, 3])
            try await Self.dispatchEverything(pool)
            let preview = try await services.retention.preview(Self.days90)
            #expect(preview.map(\.kind) == [.tasks, .events, .webhookDeliveries])
            #expect(preview.map(\.rows) == [12, 16, 3])
            let cutoff = try #require(preview[0].cutoff)
            #expect(abs(cutoff.timeIntervalSinceNow + 90 * 86400) < 60)

            let outcomes = try await services.retention.prune(Self.days90, batchSize: 4)
            #expect(outcomes.first { $0.kind == .tasks } == RetentionOutcome(kind: .tasks, deleted: 12, dependents: 4))
            #expect(outcomes.first { $0.kind == .webhookDeliveries } == RetentionOutcome(kind: .webhookDeliveries, deleted: 3, dependents: 3))
            let first = outcomes.first { $0.kind == .events }?.deleted ?? 0
            #expect(try await Self.prune(services, Self.days90, kind: .events, expected: 16 - first) + first == 16)

            #expect(
                try await Self.ids(pool, "SELECT id FROM tasks WHERE id >= 999 ORDER BY id")
                    == [999, 1010, 1011, 1012, 1013, 1014, 1015, 1016, 1030, 1031, 1043, 1044]
            )
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM sla_clocks") == 0)
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM sla_escalations") == 0)
            #expect(try await Self.ids(pool, "SELECT task_id AS id FROM webhook_deliveries ORDER BY task_id") == [1043, 1044])
            #expect(
                try await Self.count(pool, "SELECT count(*) AS n FROM events WHERE occurred_at < now() - interval '30 days'") == 2,
                "the customer's two events stay: they are its timeline"
            )
            #expect(
                try await Self.count(pool, "SELECT pruned_rows AS n FROM retention_marks WHERE kind = 'tasks'") == 12
            )
            let metrics = try await api.call(.get, "/metrics", token: .some(nil)).text
            #expect(metrics.contains(#"baton_pruned_rows_total{kind="tasks"}"#))
            #expect(metrics.contains(#"baton_pruned_rows_total{kind="webhook_deliveries"}"#))
            // Nothing older is left: a second pass deletes nothing.
            let again = try await services.retention.prune(Self.days90)
            #expect(again.map(\.deleted) == [0, 0, 0])
        }
    }

    @Test func twoPrunersAtOnceDeleteEachRowOnceAndBothFinish() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let pool = database.pool
            try await pool.query(
                """
                INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at, finished_at)
                SELECT g, g, 'sales-emea', 'emea', 'k', 't', 5, 'done', now() - interval '101 days', now() - interval '100 days'
                FROM generate_series(1000, 5999) g
                """
            )
            let policy = RetentionPolicy(finishedTasks: .seconds(90 * 86400), events: nil, webhookDeliveries: nil)
            let first = BatonServices(database: database)
            let second = BatonServices(database: database)
            async let one = first.retention.prune(policy, batchSize: 250, pause: .milliseconds(1))
            async let two = second.retention.prune(policy, batchSize: 250, pause: .milliseconds(1))
            let (a, b) = try await (one, two)
            #expect(a[0].deleted + b[0].deleted == 5000)
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM tasks WHERE id >= 1000") == 0)
            #expect(try await Self.count(pool, "SELECT pruned_rows AS n FROM retention_marks WHERE kind = 'tasks'") == 5000)
        }
    }

    @Test func aCursorBeforeThePrunedHorizonGets410NamingTheOldestCursor() async throws {
        try await withTestApplication(settings: ServerSettings(eventStreamLifetime: .milliseconds(500))) { api, database in
            try await api.seedReferenceData()
            for title in ["a", "b", "c", "d"] {
                try await api.expect(.created, api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"\#(title)"}"#))
            }
            let pool = database.pool
            // 2 regions, 8 teams and 4 tasks: 14 events, visible once older transactions end.
            var ids: [Int] = []
            for _ in 0..<50 where ids.count < 14 {
                ids = try await api.call(.get, "/v1/events?limit=100").json(AnyJSON.self)["events"]?.array.compactMap { $0["id"]?.int } ?? []
                if ids.count < 14 { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(ids.count == 14)
            // Everything up to the second task's event is 40 days old.
            try await pool.query("UPDATE events SET occurred_at = now() - interval '40 days' WHERE id <= $1", [ids[11]])
            try await Self.dispatchEverything(pool)
            let services = BatonServices(database: database)
            let policy = RetentionPolicy(finishedTasks: nil, events: .seconds(30 * 86400), webhookDeliveries: nil)
            #expect(try await Self.prune(services, policy, kind: .events, expected: 12) == 12)

            let gone = try await api.call(.get, "/v1/events?after=\(ids[3])")
            #expect(gone.status == .gone)
            let error = try gone.errorEnvelope().error
            #expect(error.code == "gone")
            #expect(error.details?["field"] == "after")
            #expect(error.details?["oldest_cursor"] == String(ids[11]))
            #expect(error.details?["oldest_event_id"] == String(ids[12]))

            // The oldest cursor and 0 both continue with the oldest event kept.
            let resumed = try await api.call(.get, "/v1/events?after=\(ids[11])").json(AnyJSON.self)
            #expect(resumed["events"]?.array.compactMap { $0["id"]?.int } == [ids[12], ids[13]])
            let start = try await api.call(.get, "/v1/events").json(AnyJSON.self)
            #expect(start["events"]?.array.compactMap { $0["id"]?.int } == [ids[12], ids[13]])
            #expect(try await api.call(.get, "/v1/events?after=\(ids[12])").status == .ok)
            // An id never handed out is still a bad cursor, not a pruned one.
            #expect(try await api.call(.get, "/v1/events?after=\(ids[13] + 1000)").status == .badRequest)

            let stream = try await api.call(.get, "/v1/events/stream", headers: [HTTPField.Name("Last-Event-ID")!: String(ids[0])])
            #expect(stream.status == .gone)
            #expect(try stream.errorEnvelope().error.details?["field"] == "Last-Event-ID")
        }
    }

    @Test func batonctlPruneSaysWhatWouldGoThenPrunesIt() async throws {
        try await TestDatabase.withMigratedDatabase { pool, url in
            try await pool.query("INSERT INTO regions (code, name) VALUES ('emea', 'EMEA')")
            try await pool.query("INSERT INTO teams (slug, department, region, name) VALUES ('sales-emea', 'sales', 'emea', 'Sales EMEA')")
            try await pool.query(
                """
                INSERT INTO tasks (id, chain_id, team, region, kind, title, max_attempts, state, created_at, finished_at)
                SELECT n, n, 'sales-emea', 'emea', 'k', 't', 5, 'done', now() - make_interval(days => d + 1), now() - make_interval(days => d)
                FROM unnest(ARRAY[100, 60, 45, 31, 31, 20, 1]) WITH ORDINALITY AS a (d, n)
                """
            )
            func rows(_ output: String) -> [String: [String]] {
                var table: [String: [String]] = [:]
                for line in output.split(separator: "\n") {
                    let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                    if let kind = cells.first { table[kind] = Array(cells.dropFirst()) }
                }
                return table
            }

            let dry = try CLIEndToEndTests.batonctl(["prune", "--dry-run", "--retain-finished-tasks", "30d"], url: url)
            #expect(dry.status == 0, "\(dry.error)")
            let preview = rows(dry.output)
            #expect(preview["KIND"] == ["KEEP", "CUTOFF", "WOULD", "DELETE"])
            #expect(preview["tasks"]?.first == "30d")
            #expect(preview["tasks"]?.last == "5", "finished 100, 60, 45 and 31 (twice) days ago, not 20 or 1: \(dry.output)")
            #expect(preview["events"] == ["forever", "-", "0"])
            #expect(preview["webhook_deliveries"]?.first == "30d")
            #expect(try await Self.count(pool, "SELECT count(*) AS n FROM tasks") == 7, "a dry run deletes nothing")

            let pruned = try CLIEndToEndTests.batonctl(["prune", "--retain-finished-tasks", "30d", "--batch-size", "2"], url: url)
            #expect(pruned.status == 0, "\(pruned.error)")
            #expect(rows(pruned.output)["tasks"] == ["30d", "5", "0"])
            #expect(rows(pruned.output)["events"] == ["forever", "-", "-"])
            #expect(try await Self.ids(pool, "SELECT id FROM tasks ORDER BY id") == [6, 7])

            let bad = try CLIEndToEndTests.batonctl(["prune", "--dry-run", "--retain-events", "10x"], url: url)
            #expect(bad.status == 1)
            #expect(bad.error.hasPrefix("batonctl: --retain-events: '10x' is not an age"))
        }
    }

    @Test func recordsKeepTheTasksTheyPointAtAndCustomersKeepTheirTimeline() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let pool = database.pool
            let created = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Acme Pumps"}"#)
            try api.expect(.created, created)
            let customer = try #require(try created.json(AnyJSON.self)["customer"]?["id"]?.int)
            let logged = try await api.call(
                .post,
                "/v1/customers/\(customer)/interactions",
                json: #"{"kind":"call","summary":"Asked for a quote","follow_up_on":"2030-03-04"}"#
            )
            try api.expect(.created, logged)
            let followUp = try #require(try logged.json(AnyJSON.self)["follow_up_task_id"]?.int)
            let plain = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"plain"}"#)
            try api.expect(.created, plain)
            let plainID = try #require(try plain.json(AnyJSON.self)["id"]?.int)
            // Both finished 100 days ago; everything that happened is 100 days old.
            try await pool.query(
                "UPDATE tasks SET state = 'done', finished_at = now() - interval '100 days' WHERE id IN ($1, $2)",
                [followUp, plainID]
            )
            try await pool.query("UPDATE events SET occurred_at = now() - interval '100 days'")
            try await Self.dispatchEverything(pool)
            func timelineEvents() async throws -> [String] {
                let page = try await api.call(.get, "/v1/customers/\(customer)/timeline?limit=200").json(AnyJSON.self)
                return page["entries"]?.array.filter { $0["kind"]?.string == "event" }.compactMap { $0["type"]?.string } ?? []
            }
            let before = try await timelineEvents()
            try #require(before.contains("customer.created"))

            let services = BatonServices(database: database)
            let policy = RetentionPolicy(finishedTasks: .seconds(90 * 86400), events: .seconds(30 * 86400), webhookDeliveries: nil)
            let all = try await Self.count(pool, "SELECT count(*) AS n FROM events WHERE entity_type IS DISTINCT FROM 'customer'")
            #expect(try await Self.prune(services, policy, kind: .events, expected: all) == all)

            #expect(try await api.call(.get, "/v1/tasks/\(followUp)").status == .ok, "the interaction still points at it")
            #expect(try await api.call(.get, "/v1/tasks/\(plainID)").status == .notFound)
            #expect(try await timelineEvents() == before, "the customer's events are its timeline")
            // The feed starts after the horizon: the kept customer events are not handed out again.
            let feed = try await api.call(.get, "/v1/events").json(AnyJSON.self)
            #expect(feed["events"]?.array.isEmpty == true)
        }
    }
}
