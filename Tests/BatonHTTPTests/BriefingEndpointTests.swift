import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@testable import BatonCore

/// The coordinator's briefing and the dashboard page: every section against records shaped
/// with SQL (clocks, ages, stock levels, case states, times of the day), its order of urgency,
/// its links, and what a scoped token sees.
@Suite(.requiresDatabase) struct BriefingEndpointTests {
    /// What ``seed(_:_:)`` made, by name.
    struct Seeded {
        var handoffs: [String: Int] = [:]
        var dead: [String: Int] = [:]
        var slas: [String: Int] = [:]
        var cases: [String: Int] = [:]
        var meetings: [String: Int] = [:]
        var session = 0
        var target = 0
    }

    static func task(_ api: API, _ team: String, _ title: String, priority: String = "normal") async throws -> Int {
        let created = try await api.call(.post, "/v1/teams/\(team)/tasks", json: #"{"kind":"k","title":"\#(title)","priority":"\#(priority)"}"#)
        try api.expect(.created, created)
        return try #require(try created.json(AnyJSON.self)["id"]?.int)
    }

    /// Two regions of four teams, and in them:
    /// - handoffs: "emea" (sales-emea → logistics-emea, waiting 1 h) and "apac" (sales-emea →
    ///   logistics-apac, waiting 2 h);
    /// - dead letters in support-emea: "low" (dead 3 h) and "urgent" (dead 1 h);
    /// - SLA clocks in support-apac: "risk" (at risk, due in 10 min), "late" (due 30 min ago, not
    ///   marked yet), "breached" (marked, due 2 h ago) and "calm" (at risk in an hour);
    /// - stock in EMEA: P-2 at 3 of 30 and P-1 at 8 (10 on hand, 2 reserved) of 20 below their
    ///   points, P-4 empty but snoozed; P-3 in APAC above its point;
    /// - EMEA complaints: "old" (normal, new, 3 h), "urgent" (open, 1 h), and others that do not
    ///   count (pending on the customer, an inquiry, a resolved complaint);
    /// - today (UTC): EMEA meetings at 08:00 and 10:00, a cancelled one at 09:00, an APAC training
    ///   session at 09:00; yesterday's and tomorrow's meetings;
    /// - an EMEA orders target for this month with no orders yet (behind).
    static func seed(_ api: API, _ database: BatonDatabase) async throws -> Seeded {
        try await api.seedReferenceData()
        var seeded = Seeded()
        for (name, team, hours) in [("emea", "logistics-emea", 1), ("apac", "logistics-apac", 2)] {
            let id = try await task(api, "sales-emea", "Deal \(name)")
            let handoff = try await api.call(.post, "/v1/tasks/\(id)/handoff", json: #"{"to_team":"\#(team)","note":"ship it"}"#)
            try api.expect(.ok, handoff)
            let handed = try #require(try handoff.json(AnyJSON.self)["task"]?["id"]?.int)
            try await database.pool.query(
                "UPDATE tasks SET created_at = now() - make_interval(hours => \(hours)::int), run_at = now() - make_interval(hours => \(hours)::int) WHERE id = \(handed)"
            )
            seeded.handoffs[name] = handed
        }
        for (name, priority, hours) in [("low", "low", 3), ("urgent", "urgent", 1)] {
            let id = try await task(api, "support-emea", "Dead \(name)", priority: priority)
            try await database.pool.query(
                """
                UPDATE tasks SET state = 'dead', attempts = 1, last_error = 'carrier refused',
                       finished_at = now() - make_interval(hours => \(hours)::int)
                WHERE id = \(id)
                """
            )
            seeded.dead[name] = id
        }
        try api.expect(
            .created,
            await api.call(.post, "/v1/sla/policies", json: #"{"name":"complaints","kind":"sla","team":"support-apac","done_within_minutes":60}"#)
        )
        for (name, atRisk, due, breached) in [
            ("risk", -600, 600, false), ("late", -3_600, -1_800, false), ("breached", -10_800, -7_200, true), ("calm", 3_600, 7_200, false),
        ] {
            let id = try await task(api, "support-apac", "Complaint \(name)")
            try await database.pool.query(
                """
                UPDATE sla_clocks SET at_risk_at = now() + make_interval(secs => \(atRisk)::float8), due_at = now() + make_interval(secs => \(due)::float8),
                       breached_at = CASE WHEN \(breached) THEN now() + make_interval(secs => \(due)::float8) END
                WHERE task_id = \(id)
                """
            )
            seeded.slas[name] = id
        }
        try await database.pool.query(
            """
            INSERT INTO products (sku, name, unit_price_minor, currency)
            VALUES ('P-1', 'Pumps', 100, 'EUR'), ('P-2', 'Valves', 100, 'EUR'), ('P-3', 'Seals', 100, 'EUR'), ('P-4', 'Hoses', 100, 'EUR')
            """
        )
        try await database.pool.query(
            """
            INSERT INTO stock (product_id, region, on_hand, reserved, reorder_point, reorder_quantity, snoozed_until)
            SELECT p.id, s.region, s.on_hand, s.reserved, s.point, 50, s.snoozed
            FROM (VALUES ('P-1', 'emea', 10, 2, 20, NULL::timestamptz), ('P-2', 'emea', 3, 0, 30, NULL),
                         ('P-3', 'apac', 50, 0, 20, NULL), ('P-4', 'emea', 0, 0, 5, now() + interval '1 day'))
                 AS s (sku, region, on_hand, reserved, point, snoozed)
            JOIN products p ON p.sku = s.sku
            """
        )
        let customer = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Acme Pumps","force":true}"#)
        try api.expect(.created, customer)
        let customerID = try #require(try customer.json(AnyJSON.self)["customer"]?["id"]?.int)
        for (name, kind, priority, state, hours) in [
            ("old", "complaint", "normal", "new", 3), ("urgent", "complaint", "urgent", "open", 1),
            ("waiting", "complaint", "high", "pending_customer", 4),
            ("inquiry", "inquiry", "urgent", "new", 5), ("done", "complaint", "urgent", "resolved", 6),
        ] {
            let row = try await database.pool.query(
                """
                INSERT INTO cases (customer_id, region, kind, subject, priority, state, team, created_at)
                VALUES (\(customerID), 'emea', \(kind), \("Case " + name), \(priority), \(state), 'support-emea', now() - make_interval(hours => \(hours)::int))
                RETURNING id
                """
            ).first
            seeded.cases[name] = try #require(try row?.decode(Int.self, "id"))
        }
        let member = try await api.call(.post, "/v1/members", json: #"{"name":"Ada","email":"ada@example.com"}"#)
        try api.expect(.created, member)
        let ada = try #require(try member.json(AnyJSON.self)["id"]?.int)
        let dayStart = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        for (name, hour, cancelled) in [
            ("eight", 8, false), ("ten", 10, false), ("cancelled", 9, true), ("yesterday", -3, false), ("tomorrow", 25, false),
        ] {
            let starts = dayStart.addingTimeInterval(Double(hour * 3_600))
            let row = try await database.pool.query(
                """
                INSERT INTO meetings (region, title, starts_at, ends_at, time_zone, organiser_id, cancelled_at)
                VALUES ('emea', \("Meeting " + name), \(starts), \(starts.addingTimeInterval(1_800)), 'Europe/Berlin', \(ada),
                        CASE WHEN \(cancelled) THEN now() END)
                RETURNING id
                """
            ).first
            seeded.meetings[name] = try #require(try row?.decode(Int.self, "id"))
        }
        let nine = dayStart.addingTimeInterval(9 * 3_600)
        let session = try await database.pool.query(
            """
            WITH programme AS (
                INSERT INTO training_programmes (region, title, cadence_unit, cadence_every, duration_minutes, first_session_at, time_zone, horizon_months)
                VALUES ('apac', 'Complaint handling', 'month', 1, 60, \(nine), 'Asia/Kolkata', 1)
                RETURNING id)
            INSERT INTO training_sessions (programme_id, sequence, scheduled_at, starts_at, ends_at)
            SELECT id, 0, \(nine), \(nine), \(nine.addingTimeInterval(3_600)) FROM programme
            RETURNING id
            """
        ).first
        seeded.session = try #require(try session?.decode(Int.self, "id"))
        let month = ReportPeriod(grain: .month, containing: LocalDate.today).description
        let target = try await api.call(
            .post,
            "/v1/targets",
            json: #"{"owner_kind":"region","region":"emea","metric":"orders","period":"\#(month)","value":10}"#
        )
        try api.expect(.created, target)
        seeded.target = try #require(try target.json(AnyJSON.self)["id"]?.int)
        return seeded
    }

    static func briefing(_ api: API, _ query: String = "", token: String? = nil) async throws -> AnyJSON {
        let response =
            if let token { try await api.call(.get, "/v1/briefing\(query)", token: token) } else { try await api.call(.get, "/v1/briefing\(query)") }
        try api.expect(.ok, response)
        return try response.json(AnyJSON.self)
    }

    static func ids(_ section: AnyJSON?, _ key: String) -> [Int] {
        (section?["items"]?.array ?? []).compactMap { $0[key]?.int }
    }

    @Test func eachSectionListsTheMostUrgentFirstAndLinksToItsRecord() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api, database)
            let briefing = try await Self.briefing(api)

            let queues = briefing["queues"]?.array ?? []
            #expect(
                queues.compactMap { $0["team"]?.string } == [
                    "logistics-apac", "marketing-apac", "sales-apac", "support-apac",
                    "logistics-emea", "marketing-emea", "sales-emea", "support-emea",
                ]
            )
            let board = Dictionary(uniqueKeysWithValues: queues.map { ($0["team"]?.string ?? "", $0) })
            #expect(board["logistics-apac"]?["queued"]?.int == 1)
            #expect((board["logistics-apac"]?["oldest_age_seconds"]?.double ?? 0) >= 7_199)
            #expect(board["sales-emea"]?["queued"]?.int == 0)
            #expect(board["support-apac"]?["queued"]?.int == 4)
            #expect(board["support-emea"]?["dead"]?.int == 2)
            #expect(board["support-emea"]?["href"]?.string == "/v1/teams/support-emea/stats")

            // Breached first, the longest overdue first (marked or not), then at risk; the clock
            // that is not at risk yet is left out.
            let slas = briefing["slas"]
            #expect(slas?["total"]?.int == 3)
            #expect(Self.ids(slas, "task_id") == [seeded.slas["breached"], seeded.slas["late"], seeded.slas["risk"]].compactMap { $0 })
            #expect((slas?["items"]?.array ?? []).compactMap { $0["state"]?.string } == ["breached", "breached", "at_risk"])
            #expect(slas?["items"]?[2]?["href"]?.string == "/v1/tasks/\(seeded.slas["risk"] ?? 0)")

            let handoffs = briefing["handoffs"]
            #expect(Self.ids(handoffs, "task_id") == [seeded.handoffs["apac"], seeded.handoffs["emea"]].compactMap { $0 })
            #expect(handoffs?["items"]?[0]?["chain"]?.array.compactMap(\.string) == ["sales-emea", "logistics-apac"])
            #expect(handoffs?["items"]?[0]?["from_team"]?.string == "sales-emea")
            #expect(handoffs?["items"]?[0]?["note"]?.string == "ship it")
            #expect((handoffs?["items"]?[0]?["waiting_seconds"]?.double ?? 0) >= 7_199)

            let dead = briefing["dead_letters"]
            #expect(Self.ids(dead, "task_id") == [seeded.dead["urgent"], seeded.dead["low"]].compactMap { $0 })
            #expect(dead?["items"]?[0]?["last_error"]?.string == "carrier refused")

            // Available as a share of the reorder point: 3/30 before 8/20; snoozed and healthy stock left out.
            let stock = briefing["stock"]
            #expect(stock?["total"]?.int == 2)
            #expect((stock?["items"]?.array ?? []).compactMap { $0["sku"]?.string } == ["P-2", "P-1"])
            #expect(stock?["items"]?[1]?["available"]?.int == 8)
            #expect(stock?["items"]?[0]?["href"]?.string == "/v1/stock/emea/P-2")

            let complaints = briefing["complaints"]
            #expect(Self.ids(complaints, "case_id") == [seeded.cases["urgent"], seeded.cases["old"]].compactMap { $0 })
            #expect(complaints?["items"]?[0]?["href"]?.string == "/v1/cases/\(seeded.cases["urgent"] ?? 0)")

            let calendar = briefing["calendar"]
            #expect(
                (calendar?["items"]?.array ?? []).compactMap { $0["href"]?.string } == [
                    "/v1/meetings/\(seeded.meetings["eight"] ?? 0)", "/v1/training/sessions/\(seeded.session)",
                    "/v1/meetings/\(seeded.meetings["ten"] ?? 0)",
                ]
            )
            #expect(briefing["day"]?.string == LocalDate.today.description)

            let plan = briefing["plan"]
            #expect(plan?["total"]?.int == 1)
            #expect(plan?["items"]?[0]?["status"]?.string == "behind")
            #expect(plan?["items"]?[0]?["actual"]?.double == 0)
            #expect(plan?["items"]?[0]?["href"]?.string == "/v1/targets/\(seeded.target)")

            // The feed position: an event of the feed, at most the last one (transactions of other
            // tests in the cluster may hold it back, as they hold back the feed).
            let last = try #require(try await database.pool.query("SELECT max(id) AS id FROM events").first?.decode(Int.self, "id"))
            let cursor = try #require(briefing["event_cursor"]?.int)
            #expect(cursor > 0 && cursor <= last)
        }
    }

    @Test func aScopedTokenSeesOnlyWhatItReachesAndFiltersAreChecked() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api, database)

            // An agent of support-apac: its team's tasks, its region's records.
            let agent = try await Self.briefing(api, token: try await api.makeToken(role: "agent", teams: ["support-apac"]))
            #expect(agent["queues"]?.array.compactMap { $0["team"]?.string } == ["support-apac"])
            #expect(agent["slas"]?["total"]?.int == 3)
            #expect(agent["handoffs"]?["total"]?.int == 0)
            #expect(agent["dead_letters"]?["total"]?.int == 0)
            #expect(agent["stock"]?["total"]?.int == 0)
            #expect(agent["complaints"]?["total"]?.int == 0)
            #expect(Self.ids(agent["calendar"], "id") == [seeded.session])
            #expect(agent["plan"]?["total"]?.int == 0)

            // A coordinator of EMEA: the other half.
            let emea = try await Self.briefing(api, token: try await api.makeToken(role: "coordinator", regions: ["emea"]))
            #expect(emea["queues"]?.array.count == 4)
            #expect(emea["slas"]?["total"]?.int == 0)
            #expect(Self.ids(emea["handoffs"], "task_id") == [seeded.handoffs["emea"]].compactMap { $0 })
            #expect(emea["dead_letters"]?["total"]?.int == 2)
            #expect(emea["stock"]?["total"]?.int == 2)
            #expect(emea["complaints"]?["total"]?.int == 2)
            #expect(emea["calendar"]?["total"]?.int == 2)
            #expect(emea["plan"]?["total"]?.int == 1)

            // A team narrows tasks to it and region records to its region.
            let team = try await Self.briefing(api, "?team=support-apac")
            #expect(team["queues"]?.array.compactMap { $0["team"]?.string } == ["support-apac"])
            #expect(team["region"]?.string == "apac")
            #expect(team["slas"]?["total"]?.int == 3)
            #expect(team["stock"]?["total"]?.int == 0)
            #expect(Self.ids(team["calendar"], "id") == [seeded.session])
            let region = try await Self.briefing(api, "?region=emea")
            #expect(region["queues"]?.array.count == 4)
            #expect(region["handoffs"]?["total"]?.int == 1)

            let emeaToken = try await api.makeToken(role: "coordinator", regions: ["emea"])
            #expect(try await api.call(.get, "/v1/briefing?region=apac", token: emeaToken).status == .notFound)
            #expect(try await api.call(.get, "/v1/briefing?team=support-apac", token: emeaToken).status == .notFound)
            #expect(try await api.call(.get, "/v1/briefing?team=nosuch-team").status == .notFound)
            #expect(try await api.call(.get, "/v1/briefing?region=emea&team=support-apac").status == .unprocessableContent)
            #expect(try await api.call(.get, "/v1/briefing?team=\(String(repeating: "t", count: 64))").status == .badRequest)
            #expect(try await api.call(.get, "/v1/briefing?region=abcdefghijklmnopq").status == .badRequest)
            #expect(try await api.call(.get, "/v1/briefing", token: .some(nil)).status == .unauthorized)
        }
    }

    @Test func theDashboardIsPublicAndSentWithAStrictContentSecurityPolicy() async throws {
        try await withTestApplication { api, _ in
            let policy = HTTPField.Name("Content-Security-Policy")!
            for (path, type) in [("/", "text/html"), ("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")] {
                let response = try await api.call(.get, path, token: .some(nil))
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                let csp = response.headers[policy] ?? ""
                #expect(csp.contains("default-src 'self'"), "\(path)")
                #expect(csp.contains("script-src 'self';"), "\(path)")
                #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "\(path)")
                #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
            // No inline script or style, and no secret: the page only names its assets.
            let page = try await api.call(.get, "/", token: .some(nil)).text
            #expect(page.components(separatedBy: "<script").count == 2)
            #expect(page.contains(#"<script src="/dashboard.js" defer></script>"#))
            #expect(!page.contains("<style") && !page.contains("style=") && !page.contains("onclick=") && !page.contains("onload="))
            #expect(page.firstMatch(of: /bt_[A-Za-z0-9_-]{8,}/) == nil)
            // The page being public opens nothing else: the API still wants its token.
            #expect(try await api.call(.get, "/v1/briefing", token: .some(nil)).status == .unauthorized)
        }
    }
}
