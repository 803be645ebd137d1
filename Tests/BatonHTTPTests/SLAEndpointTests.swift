import BatonCore
import BatonTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// SLAs through the API: region calendars and holidays, policies, the clocks of the tasks they
/// cover, holds, breaches, team figures and escalation. Tests whose clocks must run put their
/// regions on a round-the-clock calendar, so the outcome does not depend on when the suite
/// runs; a breach is made by moving a clock back in time and running one monitor sweep.
@Suite(.requiresDatabase) struct SLAEndpointTests {
    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// Working hours 00:00-24:00 on every day of the week.
    static let roundTheClock =
        #"{"hours":{"# + weekdays.map { #""\#($0)":[{"start":"00:00","end":"24:00"}]"# }.joined(separator: ",") + "}}"

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    /// The fixture of every test here: an application on its own database with two regions and
    /// their teams (``API/seedReferenceData()``), the listed regions working round the clock.
    static func withRegions(
        workingRoundTheClock regions: [String] = [],
        _ body: @escaping @Sendable (API, BatonDatabase) async throws -> Void
    ) async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            for region in regions { try await workRoundTheClock(api, region) }
            try await body(api, database)
        }
    }

    static func workRoundTheClock(_ api: API, _ regions: String...) async throws {
        for region in regions {
            try await api.expect(.ok, api.call(.put, "/v1/regions/\(region)/calendar", json: roundTheClock))
        }
    }

    /// Creates a policy as the admin and returns its id.
    static func createPolicy(_ api: API, _ json: String) async throws -> Int {
        let response = try await api.call(.post, "/v1/sla/policies", json: json)
        try api.expect(.created, response)
        return try #require(try response.json(AnyJSON.self)["id"]?.int)
    }

    /// Creates a task as the admin and returns it as the API shows it.
    static func createTask(_ api: API, in team: String, _ json: String = #"{"kind":"k","title":"t"}"#) async throws -> AnyJSON {
        let response = try await api.call(.post, "/v1/teams/\(team)/tasks", json: json)
        try api.expect(.created, response)
        return try response.json(AnyJSON.self)
    }

    static func taskID(_ api: API, in team: String, _ json: String = #"{"kind":"k","title":"t"}"#) async throws -> Int {
        try #require(try await createTask(api, in: team, json)["id"]?.int)
    }

    /// GET /v1/tasks/{id}: the task, its events, its chain and its clocks.
    static func detail(_ api: API, _ id: Int) async throws -> AnyJSON {
        let response = try await api.call(.get, "/v1/tasks/\(id)")
        try api.expect(.ok, response)
        return try response.json(AnyJSON.self)
    }

    /// Claims the team's next task and returns its id and lease token.
    static func claim(_ api: API, team: String) async throws -> (id: Int, token: String) {
        let claimed = try await api.call(.post, "/v1/teams/\(team)/claim", json: #"{"worker":"w1"}"#).json(AnyJSON.self)
        let task = try #require(claimed["tasks"]?[0])
        return (try #require(task["id"]?.int), try #require(task["lease"]?["token"]?.string))
    }

    /// Moves a task's running clocks back so that their targets ran out a minute ago (in a
    /// round-the-clock calendar, business time is real time).
    static func expireClocks(of task: Int, _ database: BatonDatabase) async throws {
        try await database.pool.query(
            """
            UPDATE sla_clocks
            SET started_at = started_at - (due_at - now() + interval '1 minute'),
                running_since = running_since - (due_at - now() + interval '1 minute'),
                at_risk_at = at_risk_at - (due_at - now() + interval '1 minute'),
                due_at = now() - interval '1 minute'
            WHERE task_id = $1
            """,
            [task]
        )
    }

    /// Makes one escalation level of a task's clocks due now.
    static func makeLevelDue(_ level: Int, of task: Int, _ database: BatonDatabase) async throws {
        try await database.pool.query(
            """
            UPDATE sla_escalations SET fire_at = now() - interval '1 second'
            WHERE level = $2 AND clock_id IN (SELECT id FROM sla_clocks WHERE task_id = $1)
            """,
            [task, level]
        )
    }

    @discardableResult
    static func sweep(_ database: BatonDatabase) async throws -> SLAMonitor.Sweep {
        try await SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger).sweep()
    }

    static func count(_ type: String, task: Int, _ database: BatonDatabase) async throws -> Int {
        try await database.pool.query("SELECT count(*) AS n FROM events WHERE type = $1 AND entity_id = $2", [type, String(task)]).first?
            .decode(Int.self, "n") ?? -1
    }

    /// The data of a task's `sla.escalated` events, oldest first.
    static func escalations(of task: Int, _ database: BatonDatabase) async throws -> [[String: String]] {
        try await database.pool.query(
            "SELECT data::text AS data FROM events WHERE type = 'sla.escalated' AND entity_id = $1 ORDER BY id",
            [String(task)]
        ).map { try JSONDecoder().decode([String: String].self, from: Data(try $0.decode(String.self, "data").utf8)) }
    }

    static func date(_ json: AnyJSON?) -> Date? {
        json?.string.flatMap(PostgresTimestamp.parse)
    }

    // MARK: - Calendars

    @Test func aRegionWithoutACalendarWorksMondayToFridayNineToFive() async throws {
        try await Self.withRegions { api, _ in
            let response = try await api.call(.get, "/v1/regions/emea/calendar")
            #expect(response.status == .ok)
            let calendar = try response.json(AnyJSON.self)
            #expect(calendar["region"]?.string == "emea")
            #expect(calendar["time_zone"]?.string == "Europe/Berlin")
            #expect(calendar["is_default"] == .bool(true))
            let nineToFive = AnyJSON.array([.object(["start": .string("09:00"), "end": .string("17:00")])])
            for day in Self.weekdays.prefix(5) {
                #expect(calendar["hours"]?[day] == nineToFive, "\(day)")
            }
            #expect(calendar["hours"]?["saturday"] == nil)
            #expect(calendar["hours"]?["sunday"] == nil)
            #expect(calendar["holidays"]?.array.isEmpty == true)
        }
    }

    @Test func aCalendarWithSplitDaysAndHolidaysReadsBackAsWritten() async throws {
        try await Self.withRegions { api, _ in
            let split = #"[{"start":"09:00","end":"12:30"},{"start":"13:30","end":"18:00"}]"#
            let put = try await api.call(
                .put,
                "/v1/regions/emea/calendar",
                json: #"""
                    {"hours":{"monday":\#(split),"wednesday":\#(split),"saturday":[{"start":"10:00","end":"14:00"}]},
                     "holidays":[{"date":"2026-10-03","name":"German Unity Day"},{"date":"2026-12-25","name":"Christmas Day"}]}
                    """#
            )
            #expect(put.status == .ok, "\(put.text)")
            let written = try put.json(AnyJSON.self)
            let read = try await api.call(.get, "/v1/regions/emea/calendar").json(AnyJSON.self)
            for calendar in [written, read] {
                #expect(calendar["is_default"] == .bool(false))
                #expect(calendar["updated_at"]?.string != nil)
                #expect(calendar["time_zone"]?.string == "Europe/Berlin", "a calendar without time_zone keeps the region's")
                let monday = calendar["hours"]?["monday"]?.array ?? []
                #expect(monday.map { "\($0["start"]?.string ?? "")-\($0["end"]?.string ?? "")" } == ["09:00-12:30", "13:30-18:00"])
                #expect(calendar["hours"]?["wednesday"] == calendar["hours"]?["monday"])
                #expect(calendar["hours"]?["saturday"]?[0]?["end"]?.string == "14:00")
                #expect(calendar["hours"]?["tuesday"] == nil, "a weekday left out has no working hours")
                #expect(calendar["holidays"]?.array.compactMap { $0["date"]?.string } == ["2026-10-03", "2026-12-25"])
                #expect(calendar["holidays"]?[1]?["name"]?.string == "Christmas Day")
            }

            // A PUT without holidays keeps them; with a time zone it moves the region.
            let moved = try await api.call(
                .put,
                "/v1/regions/emea/calendar",
                json: #"{"time_zone":"Europe/London","hours":{"monday":[{"start":"08:00","end":"16:00"}]}}"#
            )
            #expect(moved.status == .ok)
            let now = try moved.json(AnyJSON.self)
            #expect(now["time_zone"]?.string == "Europe/London")
            #expect(now["holidays"]?.array.count == 2)
            #expect(now["hours"]?["wednesday"] == nil)
            let region = try await api.call(.get, "/v1/regions").json(AnyJSON.self)["regions"]?.array.first { $0["code"]?.string == "emea" }
            #expect(region?["time_zone"]?.string == "Europe/London")
        }
    }

    @Test func badCalendarsAreRefusedNamingTheFieldAndChangeNothing() async throws {
        try await Self.withRegions { api, _ in
            // Each refused calendar: its body, the status, the field the error names and, for a
            // rule of the calendar itself, the reason.
            let refusals: [(body: String, status: HTTPResponse.Status, field: String, reason: String?)] = [
                (
                    #"{"hours":{"monday":[{"start":"09:00","end":"13:00"},{"start":"12:00","end":"18:00"}]}}"#,
                    .unprocessableContent, "hours", "overlapping_intervals"
                ),
                (#"{"hours":{"tuesday":[{"start":"17:00","end":"09:00"}]}}"#, .unprocessableContent, "hours.tuesday[0]", nil),
                (#"{"hours":{"monday":[{"start":"09:00","end":"25:00"}]}}"#, .badRequest, "hours.monday[0].end", nil),
                (#"{"hours":{"monday":[{"start":"24:00","end":"24:00"}]}}"#, .badRequest, "hours.monday[0].start", nil),
                (
                    #"{"time_zone":"Mars/Olympus","hours":{"monday":[{"start":"09:00","end":"17:00"}]}}"#,
                    .unprocessableContent, "time_zone", "unknown_time_zone"
                ),
                (
                    #"{"time_zone":"EST","hours":{"monday":[{"start":"09:00","end":"17:00"}]}}"#,
                    .unprocessableContent, "time_zone", "unknown_time_zone"
                ),
            ]
            for refusal in refusals {
                let response = try await api.call(.put, "/v1/regions/emea/calendar", json: refusal.body)
                #expect(response.status == refusal.status, "\(refusal.body)")
                let details = try response.errorEnvelope().error.details
                #expect(details?["field"] == refusal.field, "\(refusal.body)")
                if let reason = refusal.reason { #expect(details?["reason"] == reason, "\(refusal.body)") }
            }

            let noHours = try await api.call(.put, "/v1/regions/emea/calendar", json: #"{"hours":{}}"#)
            #expect(noHours.status == .unprocessableContent, "a week without working time is refused")

            let duplicateHoliday = try await api.call(
                .put,
                "/v1/regions/emea/calendar",
                json: #"""
                    {"hours":{"monday":[{"start":"09:00","end":"17:00"}]},
                     "holidays":[{"date":"2026-12-25","name":"Christmas"},{"date":"2026-12-25","name":"Xmas"}]}
                    """#
            )
            #expect(duplicateHoliday.status == .unprocessableContent)
            #expect(try duplicateHoliday.errorEnvelope().error.details?["field"] == "holidays")

            #expect(try await api.call(.put, "/v1/regions/mars/calendar", json: Self.roundTheClock).status == .notFound)
            #expect(try await api.call(.get, "/v1/regions/mars/calendar").status == .notFound)

            let unchanged = try await api.call(.get, "/v1/regions/emea/calendar").json(AnyJSON.self)
            #expect(unchanged["is_default"] == .bool(true))
            #expect(unchanged["time_zone"]?.string == "Europe/Berlin")
        }
    }

    @Test func onlyAnAdminChangesACalendarButAnyoneReadsIt() async throws {
        try await Self.withRegions { api, _ in
            let viewer = try await api.makeToken(role: "viewer", regions: ["emea"])
            let agent = try await api.makeToken(role: "agent", teams: ["support-emea"])
            let coordinator = try await api.makeToken(role: "coordinator", regions: ["emea"])
            for (name, token) in [("viewer", viewer), ("agent", agent), ("coordinator", coordinator)] {
                let put = try await api.call(.put, "/v1/regions/emea/calendar", json: Self.roundTheClock, token: .some(token))
                #expect(put.status == .forbidden, "\(name)")
                let holiday = try await api.call(
                    .post,
                    "/v1/regions/emea/holidays",
                    json: #"{"date":"2026-12-25","name":"Christmas Day"}"#,
                    token: .some(token)
                )
                #expect(holiday.status == .forbidden, "\(name)")
                let removal = try await api.call(.delete, "/v1/regions/emea/holidays/2026-12-25", token: .some(token))
                #expect(removal.status == .forbidden, "\(name)")
                #expect(try await api.call(.get, "/v1/regions/emea/calendar", token: .some(token)).status == .ok, "\(name)")
            }
            #expect(try await api.call(.get, "/v1/regions/emea/calendar", token: .some(nil)).status == .unauthorized)
            #expect(try await api.call(.get, "/v1/regions/emea/calendar").json(AnyJSON.self)["is_default"] == .bool(true))
        }
    }

    // MARK: - Holidays

    @Test func aHolidayIsAddedOnceAndRemovedOnce() async throws {
        try await Self.withRegions { api, database in
            let added = try await api.call(.post, "/v1/regions/emea/holidays", json: #"{"date":"2026-10-03","name":"German Unity Day"}"#)
            #expect(added.status == .created)
            let holiday = try added.json(AnyJSON.self)
            #expect(holiday["date"]?.string == "2026-10-03")
            #expect(holiday["name"]?.string == "German Unity Day")

            let calendar = try await api.call(.get, "/v1/regions/emea/calendar").json(AnyJSON.self)
            #expect(calendar["holidays"]?.array == [holiday])
            #expect(calendar["is_default"] == .bool(true), "a holiday leaves the weekly hours alone")

            let twice = try await api.call(.post, "/v1/regions/emea/holidays", json: #"{"date":"2026-10-03","name":"Again"}"#)
            #expect(twice.status == .conflict)
            #expect(try twice.errorEnvelope().error.details?["field"] == "date")

            let impossible = try await api.call(.post, "/v1/regions/emea/holidays", json: #"{"date":"2026-02-30","name":"Never"}"#)
            #expect(impossible.status == .badRequest)
            #expect(try impossible.errorEnvelope().error.details?["field"] == "date")
            let unnamed = try await api.call(.post, "/v1/regions/emea/holidays", json: #"{"date":"2026-11-01","name":""}"#)
            #expect(unnamed.status == .badRequest)
            let nowhere = try await api.call(.post, "/v1/regions/mars/holidays", json: #"{"date":"2026-11-01","name":"Landing Day"}"#)
            #expect(nowhere.status == .notFound)

            #expect(try await api.call(.delete, "/v1/regions/emea/holidays/2026-10-03").status == .noContent)
            #expect(try await api.call(.delete, "/v1/regions/emea/holidays/2026-10-03").status == .notFound)
            #expect(try await api.call(.delete, "/v1/regions/emea/holidays/2026-02-30").status == .badRequest)
            let after = try await api.call(.get, "/v1/regions/emea/calendar").json(AnyJSON.self)
            #expect(after["holidays"]?.array.isEmpty == true)

            let types = try await database.pool.query(
                "SELECT type FROM events WHERE entity_type = 'region' AND entity_id = 'emea' AND type LIKE 'calendar.%' ORDER BY id"
            ).map { try $0.decode(String.self, "type") }
            #expect(types == ["calendar.holiday_added", "calendar.holiday_removed"])
        }
    }

    @Test func aRepeatedHolidayPostWithTheSameIdempotencyKeyGetsTheFirstResponse() async throws {
        try await Self.withRegions { api, database in
            let body = #"{"date":"2026-12-25","name":"Christmas Day"}"#
            let first = try await api.call(.post, "/v1/regions/emea/holidays", json: body, headers: [Self.idempotencyKey: "xmas"])
            let second = try await api.call(.post, "/v1/regions/emea/holidays", json: body, headers: [Self.idempotencyKey: "xmas"])
            #expect(first.status == .created)
            #expect(second.status == .created, "a replay is not a duplicate: \(second.text)")
            #expect(try second.json(AnyJSON.self) == first.json(AnyJSON.self))
            let other = try await api.call(
                .post,
                "/v1/regions/emea/holidays",
                json: #"{"date":"2026-12-26","name":"Boxing Day"}"#,
                headers: [Self.idempotencyKey: "xmas"]
            )
            #expect(other.status == .conflict, "the same key with another request")
            let rows = try await database.pool.query("SELECT count(*) AS n FROM region_holidays WHERE region = 'emea'")
            #expect(try rows.first?.decode(Int.self, "n") == 1)
        }
    }

    // MARK: - Policies

    @Test func aPolicyIsCreatedWithItsLevelsAndListed() async throws {
        try await Self.withRegions { api, _ in
            let response = try await api.call(
                .post,
                "/v1/sla/policies",
                json: #"""
                    {"name":"VIP complaints","kind":"sla","department":"support","task_kind":"complaint","priority":"high",
                     "tags":["vip"],"claim_within_minutes":30,"done_within_minutes":480,"calendar_region":"emea",
                     "escalations":[{"after_minutes":0,"action":"notify","message":"overdue"},
                                    {"basis":"at_risk","target":"claim_within","after_minutes":5,"action":"raise_priority",
                                     "priority":"urgent","skip_if_updated":true}]}
                    """#
            )
            #expect(response.status == .created, "\(response.text)")
            let policy = try response.json(AnyJSON.self)
            #expect(policy["id"]?.int != nil)
            #expect(policy["name"]?.string == "VIP complaints")
            #expect(policy["kind"]?.string == "sla")
            #expect(policy["department"]?.string == "support")
            #expect(policy["team"] == nil)
            #expect(policy["task_kind"]?.string == "complaint")
            #expect(policy["priority"]?.string == "high")
            #expect(policy["tags"] == .array([.string("vip")]))
            #expect(policy["claim_within_minutes"]?.int == 30)
            #expect(policy["done_within_minutes"]?.int == 480)
            #expect(policy["calendar_region"]?.string == "emea")
            #expect(policy["active"] == .bool(true))
            let levels = policy["escalations"]?.array ?? []
            try #require(levels.count == 2)
            #expect(levels[0]["basis"]?.string == "breach", "a level counts from the breach unless told")
            #expect(levels[0]["action"]?.string == "notify")
            #expect(levels[0]["message"]?.string == "overdue")
            #expect(levels[0]["skip_if_updated"] == .bool(false))
            #expect(levels[1]["basis"]?.string == "at_risk")
            #expect(levels[1]["target"]?.string == "claim_within")
            #expect(levels[1]["after_minutes"]?.int == 5)
            #expect(levels[1]["priority"]?.string == "urgent")
            #expect(levels[1]["skip_if_updated"] == .bool(true))

            let listed = try await api.call(.get, "/v1/sla/policies").json(AnyJSON.self)["policies"]?.array ?? []
            #expect(listed == [policy])
            let viewer = try await api.makeToken(role: "viewer", teams: ["support-emea"])
            #expect(try await api.call(.get, "/v1/sla/policies", token: .some(viewer)).status == .ok)
        }
    }

    @Test func incoherentPoliciesAreRefusedAndNothingIsStored() async throws {
        try await Self.withRegions { api, _ in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":60}"#)

            let cases: [(String, String, HTTPResponse.Status, String?)] = [
                ("no target", #"{"name":"A","kind":"sla","department":"support"}"#, .unprocessableContent, "done_within_minutes"),
                (
                    "team and department", #"{"name":"B","kind":"sla","team":"support-emea","department":"support","done_within_minutes":60}"#,
                    .unprocessableContent, "department"
                ),
                (
                    "handoff without team",
                    #"{"name":"C","kind":"sla","department":"support","done_within_minutes":60,"escalations":[{"after_minutes":0,"action":"handoff"}]}"#,
                    .unprocessableContent, "escalations[0].team"
                ),
                ("unknown team", #"{"name":"D","kind":"sla","team":"support-mars","done_within_minutes":60}"#, .unprocessableContent, "team"),
                (
                    "unknown escalation team",
                    #"{"name":"E","kind":"sla","department":"support","done_within_minutes":60,"escalations":[{"after_minutes":0,"action":"handoff","team":"nowhere"}]}"#,
                    .unprocessableContent, "escalations[0].team"
                ),
                (
                    "unknown calendar", #"{"name":"F","kind":"sla","department":"support","done_within_minutes":60,"calendar_region":"mars"}"#,
                    .unprocessableContent, "calendar_region"
                ),
                (
                    "level on a target the policy lacks",
                    #"{"name":"G","kind":"sla","department":"support","done_within_minutes":60,"escalations":[{"target":"claim_within","after_minutes":0,"action":"notify"}]}"#,
                    .unprocessableContent, "escalations[0].target"
                ),
                ("zero minutes", #"{"name":"H","kind":"sla","department":"support","claim_within_minutes":0}"#, .badRequest, "claim_within_minutes"),
                ("empty name", #"{"name":"","kind":"sla","department":"support","done_within_minutes":60}"#, .badRequest, "name"),
                ("duplicate name", #"{"name":"Support","kind":"ola","department":"logistics","done_within_minutes":60}"#, .conflict, "name"),
            ]
            for (name, json, status, field) in cases {
                let response = try await api.call(.post, "/v1/sla/policies", json: json)
                #expect(response.status == status, "\(name): \(response.text)")
                #expect(try response.errorEnvelope().error.details?["field"] == field, "\(name)")
            }

            let coordinator = try await api.makeToken(role: "coordinator", regions: ["emea"])
            let forbidden = try await api.call(
                .post,
                "/v1/sla/policies",
                json: #"{"name":"Mine","kind":"sla","team":"support-emea","done_within_minutes":60}"#,
                token: .some(coordinator)
            )
            #expect(forbidden.status == .forbidden)

            let listed = try await api.call(.get, "/v1/sla/policies").json(AnyJSON.self)["policies"]?.array ?? []
            #expect(listed.compactMap { $0["name"]?.string } == ["Support"])
        }
    }

    @Test func aDisabledPolicyStartsNoClocksUntilItIsEnabledAgain() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            let policy = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","team":"support-emea","done_within_minutes":60}"#)
            let before = try await Self.taskID(api, in: "support-emea")

            let disabled = try await api.call(.post, "/v1/sla/policies/\(policy)/disable")
            #expect(disabled.status == .ok)
            #expect(try disabled.json(AnyJSON.self)["active"] == .bool(false))
            let listed = try await api.call(.get, "/v1/sla/policies").json(AnyJSON.self)["policies"]?.array ?? []
            #expect(listed.first?["active"] == .bool(false))

            let uncovered = try await Self.createTask(api, in: "support-emea")
            #expect(uncovered["sla_policy_id"] == nil)
            #expect(uncovered["due_at"] == nil)
            let uncoveredID = try #require(uncovered["id"]?.int)
            #expect((try await Self.detail(api, uncoveredID)["sla"]?.array ?? []).isEmpty)
            let running = try await Self.detail(api, before)["sla"]?.array ?? []
            #expect(running.map { $0["state"]?.string } == ["running"], "clocks already running keep going")

            let enabled = try await api.call(.post, "/v1/sla/policies/\(policy)/enable")
            #expect(enabled.status == .ok)
            #expect(try enabled.json(AnyJSON.self)["active"] == .bool(true))
            #expect(try await Self.createTask(api, in: "support-emea")["sla_policy_id"]?.int == policy)

            #expect(try await api.call(.post, "/v1/sla/policies/999999/disable").status == .notFound)
            let lead = try await api.makeToken(role: "lead", teams: ["support-emea"])
            #expect(try await api.call(.post, "/v1/sla/policies/\(policy)/disable", token: .some(lead)).status == .forbidden)
        }
    }

    @Test func theMostSpecificActivePolicyCoversATask() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            let department = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":480}"#)
            let team = try await Self.createPolicy(api, #"{"name":"Support EMEA","kind":"sla","team":"support-emea","done_within_minutes":240}"#)
            let complaints = try await Self.createPolicy(
                api,
                #"{"name":"EMEA complaints","kind":"sla","team":"support-emea","task_kind":"complaint","done_within_minutes":60}"#
            )
            let vip = try await Self.createPolicy(api, #"{"name":"VIP","kind":"sla","department":"support","tags":["vip"],"done_within_minutes":30}"#)

            #expect(try await Self.createTask(api, in: "support-apac")["sla_policy_id"]?.int == department)
            #expect(try await Self.createTask(api, in: "support-emea")["sla_policy_id"]?.int == team)
            #expect(try await Self.createTask(api, in: "support-emea", #"{"kind":"complaint","title":"t"}"#)["sla_policy_id"]?.int == complaints)
            #expect(try await Self.createTask(api, in: "support-apac", #"{"kind":"k","title":"t","tags":["vip"]}"#)["sla_policy_id"]?.int == vip)
            #expect(try await Self.createTask(api, in: "sales-emea")["sla_policy_id"] == nil)

            // Equally specific: the older policy wins.
            let older = try await Self.createPolicy(api, #"{"name":"Sales A","kind":"sla","department":"sales","done_within_minutes":60}"#)
            _ = try await Self.createPolicy(api, #"{"name":"Sales B","kind":"sla","department":"sales","done_within_minutes":30}"#)
            #expect(try await Self.createTask(api, in: "sales-emea")["sla_policy_id"]?.int == older)
        }
    }

    // MARK: - Clocks of new tasks

    @Test func aCoveredTaskGetsItsPolicyAndDeadlineAndTwoRunningClocks() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            let policy = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30,"done_within_minutes":240}"#
            )
            let task = try await Self.createTask(api, in: "support-emea", #"{"kind":"question","title":"Where is my parcel?"}"#)
            let id = try #require(task["id"]?.int)
            #expect(task["sla_policy_id"]?.int == policy)
            let created = try #require(Self.date(task["created_at"]))
            let due = try #require(Self.date(task["due_at"]), "the resolution deadline becomes the task's due_at")
            // Round the clock, four business hours are four hours.
            #expect(abs(due.timeIntervalSince(created) - 4 * 3600) < 0.01)

            let detail = try await Self.detail(api, id)
            let clocks = detail["sla"]?.array ?? []
            try #require(clocks.count == 2)
            #expect(clocks.map { $0["target"]?.string } == ["claim_within", "done_within"], "first response before resolution")
            for (clock, minutes) in zip(clocks, [30.0, 240.0]) {
                #expect(clock["policy_id"]?.int == policy)
                #expect(clock["policy"]?.string == "Support")
                #expect(clock["kind"]?.string == "sla")
                #expect(clock["team"]?.string == "support-emea")
                #expect(clock["calendar_region"]?.string == "emea")
                #expect(clock["state"]?.string == "running")
                #expect(clock["paused"] == .bool(false))
                #expect(clock["target_minutes"]?.double == minutes)
                let remaining = try #require(clock["remaining_minutes"]?.double)
                #expect(remaining <= minutes && remaining > minutes - 1, "\(remaining) of \(minutes)")
                #expect((clock["elapsed_minutes"]?.double ?? -1) >= 0)
                #expect(clock["breached_at"] == nil)
                #expect(clock["stopped_at"] == nil)
                #expect(Self.date(clock["started_at"]) == created)
            }
            #expect(Self.date(clocks[1]["due_at"]) == due)
            let atRisk = try #require(Self.date(clocks[1]["at_risk_at"]))
            #expect(abs(atRisk.timeIntervalSince(created) - 0.8 * 4 * 3600) < 0.01, "at risk when 80% is used")
        }
    }

    @Test func aTaskGivenADueAtKeepsItWhileItsClocksRun() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            let policy = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":240}"#)
            let task = try await Self.createTask(api, in: "support-emea", #"{"kind":"k","title":"t","due_at":"2030-01-02T03:04:05Z"}"#)
            #expect(task["sla_policy_id"]?.int == policy)
            #expect(Self.date(task["due_at"]) == PostgresTimestamp.parse("2030-01-02T03:04:05Z"))
            let id = try #require(task["id"]?.int)
            let detail = try await Self.detail(api, id)
            #expect(Self.date(detail["task"]?["due_at"]) == PostgresTimestamp.parse("2030-01-02T03:04:05Z"))
            #expect(detail["sla"]?.array.map { $0["state"]?.string } == ["running"])
        }
    }

    @Test func aTaskNoPolicyCoversHasNoPolicyAndNoClocks() async throws {
        try await Self.withRegions { api, database in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":240}"#)
            let task = try await Self.createTask(api, in: "marketing-emea")
            #expect(task["sla_policy_id"] == nil)
            #expect(task["due_at"] == nil)
            let id = try #require(task["id"]?.int)
            #expect((try await Self.detail(api, id)["sla"]?.array ?? []).isEmpty)
            let clocks = try await database.pool.query("SELECT count(*) AS n FROM sla_clocks WHERE task_id = $1", [id])
            #expect(try clocks.first?.decode(Int.self, "n") == 0)
        }
    }

    @Test func aBatchStartsClocksForTheTasksAPolicyCovers() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            let policy = try await Self.createPolicy(
                api,
                #"{"name":"Complaints","kind":"sla","department":"support","task_kind":"complaint","claim_within_minutes":15,"done_within_minutes":120}"#
            )
            let response = try await api.call(
                .post,
                "/v1/teams/support-emea/tasks/batch",
                json: #"""
                    {"tasks":[{"kind":"complaint","title":"Broken"},{"kind":"question","title":"How?"},
                              {"kind":"complaint","title":"Late","due_at":"2030-01-02T03:04:05Z"}]}
                    """#
            )
            #expect(response.status == .created)
            let tasks = try response.json(AnyJSON.self)["tasks"]?.array ?? []
            try #require(tasks.count == 3)
            #expect(tasks.map { $0["sla_policy_id"]?.int } == [policy, nil, policy])
            #expect(tasks[0]["due_at"] != nil)
            #expect(tasks[1]["due_at"] == nil)
            #expect(Self.date(tasks[2]["due_at"]) == PostgresTimestamp.parse("2030-01-02T03:04:05Z"))
            let first = try #require(tasks[0]["id"]?.int)
            #expect(try await Self.detail(api, first)["sla"]?.array.count == 2)
        }
    }

    @Test func holidaysStopTheClockInThePolicysCalendar() async throws {
        try await Self.withRegions(workingRoundTheClock: ["apac"]) { api, _ in
            // Round the clock in Berlin, except four holidays from yesterday on: however close to
            // midnight the task is created, its clock starts at 00:00 three days from today.
            var berlin = Calendar(identifier: .gregorian)
            berlin.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
            let today = berlin.startOfDay(for: Date())
            let holidays = try (-1...2).map { offset in
                let day = berlin.dateComponents([.year, .month, .day], from: try #require(berlin.date(byAdding: .day, value: offset, to: today)))
                let date = String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
                return #"{"date":"\#(date)","name":"Day \#(offset + 2)"}"#
            }
            let hours = Self.roundTheClock.dropLast()
            try await api.expect(
                .ok,
                api.call(.put, "/v1/regions/emea/calendar", json: #"\#(hours),"holidays":[\#(holidays.joined(separator: ","))]}"#)
            )
            let due = try #require(berlin.date(byAdding: .day, value: 3, to: today)).addingTimeInterval(30 * 60)
            func isDue(_ task: AnyJSON, at expected: Date) -> Bool {
                guard let due = Self.date(task["due_at"]) else { return false }
                return abs(due.timeIntervalSince(expected)) < 0.01
            }
            let policy = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":30}"#)
            let borrowed = try await Self.createPolicy(
                api,
                #"{"name":"APAC on Berlin time","kind":"sla","team":"support-apac","done_within_minutes":30,"calendar_region":"emea"}"#
            )

            let emea = try await Self.createTask(api, in: "support-emea")
            #expect(emea["sla_policy_id"]?.int == policy)
            #expect(isDue(emea, at: due), "\(emea)")
            let apac = try await Self.createTask(api, in: "support-apac")
            #expect(apac["sla_policy_id"]?.int == borrowed)
            #expect(isDue(apac, at: due), "counted in the policy's calendar, not the task's")
            let apacID = try #require(apac["id"]?.int)
            let clock = try await Self.detail(api, apacID)["sla"]?[0]
            #expect(clock?["calendar_region"]?.string == "emea")
            #expect(clock?["elapsed_minutes"]?.double == 0, "no business time passes on a holiday")
            #expect(clock?["remaining_minutes"]?.double == 30)

            // A new calendar applies to clocks started afterwards; deadlines already computed stay.
            try await api.expect(.ok, api.call(.put, "/v1/regions/emea/calendar", json: #"\#(hours),"holidays":[]}"#))
            let emeaID = try #require(emea["id"]?.int)
            #expect(isDue(try #require(try await Self.detail(api, emeaID)["task"]), at: due))
            let later = try await Self.createTask(api, in: "support-emea")
            let created = try #require(Self.date(later["created_at"]))
            #expect(isDue(later, at: created.addingTimeInterval(30 * 60)))
        }
    }

    @Test func aDedupedCreateStartsNoSecondClocks() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30}"#)
            let body = #"{"kind":"k","title":"t","dedupe_key":"ticket-1"}"#
            let first = try await api.call(.post, "/v1/teams/support-emea/tasks", json: body)
            let second = try await api.call(.post, "/v1/teams/support-emea/tasks", json: body)
            #expect(first.status == .created)
            #expect(second.status == .ok)
            let id = try #require(try first.json(AnyJSON.self)["id"]?.int)
            #expect(try second.json(AnyJSON.self)["sla_policy_id"] == first.json(AnyJSON.self)["sla_policy_id"])
            let clocks = try await database.pool.query("SELECT count(*) AS n FROM sla_clocks WHERE task_id = $1", [id])
            #expect(try clocks.first?.decode(Int.self, "n") == 1)
        }
    }

    // MARK: - Handoffs

    @Test func aHandoffMeetsTheSourceClocksAndStartsTheOLAOfTheReceivingDepartment() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            let sales = try await Self.createPolicy(api, #"{"name":"Deals","kind":"sla","department":"sales","done_within_minutes":480}"#)
            let ola = try await Self.createPolicy(
                api,
                #"{"name":"Sales to logistics","kind":"ola","department":"logistics","from_department":"sales","done_within_minutes":240}"#
            )
            let deal = try await Self.createTask(api, in: "sales-emea", #"{"kind":"deal_won","title":"ACME deal"}"#)
            let dealID = try #require(deal["id"]?.int)
            #expect(deal["sla_policy_id"]?.int == sales)

            let handoff = try await api.call(.post, "/v1/tasks/\(dealID)/handoff", json: #"{"to_team":"logistics-emea","note":"ship it"}"#)
            #expect(handoff.status == .ok, "\(handoff.text)")
            let result = try handoff.json(AnyJSON.self)
            let shipID = try #require(result["task"]?["id"]?.int)
            #expect(result["task"]?["sla_policy_id"]?.int == ola)
            #expect(result["task"]?["due_at"] != nil)
            let handedOffAt = try #require(Self.date(result["handed_off"]?["finished_at"]))

            let source = try await Self.detail(api, dealID)
            let sourceClocks = source["sla"]?.array ?? []
            #expect(sourceClocks.count == 1)
            #expect(sourceClocks.allSatisfy { $0["state"]?.string == "met" && $0["stopped_at"] != nil }, "\(sourceClocks)")
            #expect(source["chain"]?.array.compactMap { $0["id"]?.int } == [dealID, shipID])

            let target = try await Self.detail(api, shipID)
            let clocks = target["sla"]?.array ?? []
            try #require(clocks.count == 1)
            #expect(clocks[0]["policy_id"]?.int == ola)
            #expect(clocks[0]["kind"]?.string == "ola")
            #expect(clocks[0]["team"]?.string == "logistics-emea")
            #expect(clocks[0]["target"]?.string == "done_within")
            #expect(clocks[0]["state"]?.string == "running")
            #expect(clocks[0]["target_minutes"]?.double == 240)
            #expect((clocks[0]["remaining_minutes"]?.double ?? 0) > 239)
            let started = try #require(Self.date(clocks[0]["started_at"]))
            #expect(started >= handedOffAt, "the OLA counts from the handoff, not from the deal")
            #expect(target["chain"]?.array.compactMap { $0["team"]?.string } == ["sales-emea", "logistics-emea"])
        }
    }

    @Test func anOLAFromSalesDoesNotCoverWorkFromOtherDepartments() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Sales to logistics","kind":"ola","department":"logistics","from_department":"sales","done_within_minutes":240}"#
            )
            let ticket = try await Self.taskID(api, in: "support-emea")
            let handoff = try await api.call(.post, "/v1/tasks/\(ticket)/handoff", json: #"{"to_team":"logistics-emea","note":"replacement"}"#)
            #expect(handoff.status == .ok)
            let shipment = try handoff.json(AnyJSON.self)["task"]
            #expect(shipment?["sla_policy_id"] == nil)
            let shipmentID = try #require(shipment?["id"]?.int)
            #expect((try await Self.detail(api, shipmentID)["sla"]?.array ?? []).isEmpty)
            #expect(try await Self.createTask(api, in: "logistics-emea")["sla_policy_id"] == nil, "nor work created in logistics itself")
        }
    }

    // MARK: - Holds

    @Test func aHeldTaskPausesItsClocksAndIsNotClaimedUntilResumed() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30,"done_within_minutes":120}"#
            )
            let id = try await Self.taskID(api, in: "support-emea")

            let held = try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"waiting for the customer"}"#)
            #expect(held.status == .ok, "\(held.text)")
            let heldTask = try held.json(AnyJSON.self)
            #expect(heldTask["state"]?.string == "queued")
            #expect(heldTask["hold"]?["reason"]?.string == "waiting for the customer")
            #expect(heldTask["hold"]?["since"] != nil)
            #expect(heldTask["hold"]?["until"] == nil)
            let paused = try await Self.detail(api, id)["sla"]?.array ?? []
            #expect(paused.count == 2)
            #expect(paused.allSatisfy { $0["state"]?.string == "paused" && $0["paused"] == .bool(true) }, "\(paused)")

            let nothing = try await api.call(.post, "/v1/teams/support-emea/claim", json: #"{"worker":"w1"}"#).json(AnyJSON.self)
            #expect(nothing["tasks"]?.array.isEmpty == true, "a held task is not handed out")
            let again = try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"still waiting"}"#)
            #expect(again.status == .conflict)

            let resumed = try await api.call(.post, "/v1/tasks/\(id)/resume")
            #expect(resumed.status == .ok)
            #expect(try resumed.json(AnyJSON.self)["hold"] == nil)
            let running = try await Self.detail(api, id)["sla"]?.array ?? []
            #expect(running.map { $0["state"]?.string } == ["running", "running"])
            #expect(running.allSatisfy { $0["paused"] == .bool(false) })

            #expect(try await Self.claim(api, team: "support-emea").id == id)
            #expect(try await Self.count("task.held", task: id, database) == 1)
            #expect(try await Self.count("task.resumed", task: id, database) == 1)
        }
    }

    @Test func holdAndResumeRefuseWhatTheyCannotDo() async throws {
        try await Self.withRegions { api, _ in
            let done = try await Self.taskID(api, in: "support-emea")
            let claim = try await Self.claim(api, team: "support-emea")
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(done)/complete", json: #"{"lease_token":"\#(claim.token)"}"#))
            let id = try await Self.taskID(api, in: "support-emea")

            let finished = try await api.call(.post, "/v1/tasks/\(done)/hold", json: #"{"reason":"too late"}"#)
            #expect(finished.status == .conflict)
            #expect(try finished.errorEnvelope().error.details?["state"] == "done")
            #expect(try await api.call(.post, "/v1/tasks/\(id)/resume").status == .conflict, "not on hold")

            let past = try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"r","until":"2020-01-01T00:00:00Z"}"#)
            #expect(past.status == .unprocessableContent)
            #expect(try past.errorEnvelope().error.details?["field"] == "until")
            let noReason = try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":""}"#)
            #expect(noReason.status == .badRequest)
            #expect(try await api.call(.post, "/v1/tasks/999999/hold", json: #"{"reason":"r"}"#).status == .notFound)

            let viewer = try await api.makeToken(role: "viewer", teams: ["support-emea"])
            #expect(try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"r"}"#, token: .some(viewer)).status == .forbidden)
            let elsewhere = try await api.makeToken(role: "agent", regions: ["apac"])
            #expect(try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"r"}"#, token: .some(elsewhere)).status == .notFound)

            let agent = try await api.makeToken(role: "agent", teams: ["support-emea"])
            let held = try await api.call(
                .post,
                "/v1/tasks/\(id)/hold",
                json: #"{"reason":"parts on order","until":"2099-01-01T00:00:00Z"}"#,
                token: .some(agent)
            )
            #expect(held.status == .ok, "an agent of the team may hold its task")
            #expect(try Self.date(held.json(AnyJSON.self)["hold"]?["until"]) == PostgresTimestamp.parse("2099-01-01T00:00:00Z"))
            #expect(try await api.call(.post, "/v1/tasks/\(id)/resume", token: .some(viewer)).status == .forbidden)
            #expect(try await api.call(.post, "/v1/tasks/\(id)/resume", token: .some(elsewhere)).status == .notFound)
            #expect(try await api.call(.post, "/v1/tasks/\(id)/resume", token: .some(agent)).status == .ok)
        }
    }

    @Test func resumingMovesEveryDeadlineByTheBusinessTimeHeld() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"""
                {"name":"Support","kind":"sla","department":"support","claim_within_minutes":60,"done_within_minutes":120,
                 "escalations":[{"after_minutes":30,"action":"notify"}]}
                """#
            )
            let id = try await Self.taskID(api, in: "support-emea")
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"waiting for parts"}"#))
            // As if the task had been held for the last hour.
            try await database.pool.query(
                """
                UPDATE sla_clocks SET started_at = started_at - interval '1 hour', paused_at = paused_at - interval '1 hour',
                                      at_risk_at = at_risk_at - interval '1 hour', due_at = due_at - interval '1 hour'
                WHERE task_id = $1
                """,
                [id]
            )
            try await database.pool.query(
                "UPDATE sla_escalations SET fire_at = fire_at - interval '1 hour' WHERE clock_id IN (SELECT id FROM sla_clocks WHERE task_id = $1)",
                [id]
            )
            try await database.pool.query(
                """
                UPDATE tasks SET created_at = created_at - interval '1 hour', held_at = held_at - interval '1 hour',
                                 due_at = due_at - interval '1 hour'
                WHERE id = $1
                """,
                [id]
            )
            func deadlines() async throws -> (claim: Date, done: Date, task: Date, level: Date) {
                let detail = try await Self.detail(api, id)
                let level = try await database.pool.query(
                    "SELECT fire_at FROM sla_escalations WHERE clock_id IN (SELECT id FROM sla_clocks WHERE task_id = $1)",
                    [id]
                ).first?.decode(Date.self, "fire_at")
                return (
                    try #require(Self.date(detail["sla"]?[0]?["due_at"])), try #require(Self.date(detail["sla"]?[1]?["due_at"])),
                    try #require(Self.date(detail["task"]?["due_at"])), try #require(level)
                )
            }
            let before = try await deadlines()
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(id)/resume"))
            let after = try await deadlines()

            for (name, shift) in [
                ("claim", after.claim.timeIntervalSince(before.claim)), ("done", after.done.timeIntervalSince(before.done)),
                ("task", after.task.timeIntervalSince(before.task)), ("level", after.level.timeIntervalSince(before.level)),
            ] {
                // An hour set back, plus the real seconds the test took between hold and resume
                // (over ten on a loaded machine running the whole suite).
                #expect(shift >= 3599.9 && shift < 3660, "\(name) moved by \(shift) s")
            }
            #expect(after.task == after.done, "the task's due_at follows the resolution clock")
            let held = try await database.pool.query(
                "SELECT data->>'held_business_seconds' AS seconds FROM events WHERE type = 'task.resumed' AND entity_id = $1",
                [String(id)]
            ).first?.decode(String.self, "seconds")
            let seconds = try #require(held.flatMap { Int($0) })
            #expect(seconds >= 3600 && seconds < 3660)
        }
    }

    @Test func aHoldEndsByItselfWhenItsUntilPassesAndAPausedClockNeverBreaches() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30,"done_within_minutes":120}"#
            )
            let id = try await Self.taskID(api, in: "support-emea")
            try await api.expect(
                .ok,
                api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"call back tomorrow","until":"2099-01-01T00:00:00Z"}"#)
            )
            try await Self.expireClocks(of: id, database)
            let held = try await Self.sweep(database)
            #expect(held.breached == 0, "a paused clock does not run out")
            #expect(held.resumed == 0)

            try await database.pool.query("UPDATE tasks SET hold_until = now() - interval '1 second' WHERE id = $1", [id])
            let ended = try await Self.sweep(database)
            #expect(ended.resumed == 1)
            #expect(ended.breached == 0, "resumed with the time it had left")
            let detail = try await Self.detail(api, id)
            #expect(detail["task"]?["hold"] == nil)
            #expect(detail["sla"]?.array.map { $0["state"]?.string } == ["running", "running"])
            #expect(try await Self.count("task.resumed", task: id, database) == 1)
            #expect(try await Self.claim(api, team: "support-emea").id == id)
        }
    }

    @Test func aHoldEndsWithTheTaskSoTheMonitorNeverResumesAFinishedTask() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":120}"#)
            let hold = #"{"reason":"waiting","until":"2099-01-01T00:00:00Z"}"#
            // A claimed task on hold is finished by its worker; a queued one on hold is handed off.
            let done = try await Self.taskID(api, in: "support-emea")
            let claim = try await Self.claim(api, team: "support-emea")
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(done)/hold", json: hold))
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(done)/complete", json: #"{"lease_token":"\#(claim.token)"}"#))
            let passed = try await Self.taskID(api, in: "support-emea")
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(passed)/hold", json: hold))
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(passed)/handoff", json: #"{"to_team":"logistics-emea","note":"yours"}"#))

            for id in [done, passed] {
                let task = try await Self.detail(api, id)["task"]
                #expect(task?["state"]?.string != "queued" && task?["state"]?.string != "claimed")
                #expect(task?["hold"] == nil, "task \(id) is \(task?["state"]?.string ?? "?") yet shows a hold")
            }
            // When the until they were held to passes, there is nothing left to resume.
            try await database.pool.query("UPDATE tasks SET hold_until = now() - interval '1 second' WHERE hold_until IS NOT NULL")
            #expect(try await Self.sweep(database).resumed == 0)
            #expect(try await Self.count("task.resumed", task: done, database) == 0)
            #expect(try await Self.count("task.resumed", task: passed, database) == 0)
        }
    }

    @Test func resumingATaskThatWasGivenItsOwnDueAtKeepsIt() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, _ in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":240}"#)
            let own = try #require(PostgresTimestamp.parse("2030-01-02T03:04:05Z"))
            let task = try await Self.createTask(api, in: "support-emea", #"{"kind":"k","title":"t","due_at":"2030-01-02T03:04:05Z"}"#)
            let id = try #require(task["id"]?.int)
            #expect(Self.date(task["due_at"]) == own)
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"waiting"}"#))
            let resumed = try await api.call(.post, "/v1/tasks/\(id)/resume")
            #expect(resumed.status == .ok)
            // The caller's deadline may move by the moment it was held; it must not become the SLA's.
            let due = try #require(try Self.date(resumed.json(AnyJSON.self)["due_at"]))
            #expect(abs(due.timeIntervalSince(own)) < 60, "due_at became \(due)")
        }
    }

    // MARK: - Breaches

    @Test func breachesAreListedWithinTheirFiltersAndTheCallersScope() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea", "apac"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30,"done_within_minutes":120}"#
            )
            let emea = try await Self.taskID(api, in: "support-emea", #"{"kind":"k","title":"Printer on fire"}"#)
            let apac = try await Self.taskID(api, in: "support-apac", #"{"kind":"k","title":"Router down"}"#)
            let fine = try await Self.taskID(api, in: "support-emea", #"{"kind":"k","title":"On time"}"#)
            try await Self.expireClocks(of: emea, database)
            try await Self.expireClocks(of: apac, database)
            #expect(try await Self.sweep(database).breached == 4)

            let all = try await api.call(.get, "/v1/sla/breaches")
            #expect(all.status == .ok)
            let breaches = try all.json(AnyJSON.self)["breaches"]?.array ?? []
            #expect(breaches.count == 4)
            #expect(Set(breaches.compactMap { $0["task_id"]?.int }) == [emea, apac], "not \(fine), which is on time")
            let first = try #require(breaches.first { $0["task_id"]?.int == emea })
            #expect(first["title"]?.string == "Printer on fire")
            #expect(first["task_state"]?.string == "queued")
            #expect(first["priority"]?.string == "normal")
            #expect(first["clock"]?["state"]?.string == "breached")
            #expect(first["clock"]?["breached_at"] != nil)
            #expect((first["clock"]?["remaining_minutes"]?.double ?? 0) <= -0.9, "negative once breached: a minute over")

            func listed(_ query: String, token: String? = nil) async throws -> [Int] {
                let response = try await api.call(.get, "/v1/sla/breaches\(query)", token: token.map { Optional($0) })
                try api.expect(.ok, response)
                return try response.json(AnyJSON.self)["breaches"]?.array.compactMap { $0["task_id"]?.int } ?? []
            }
            #expect(try await listed("?region=apac") == [apac, apac])
            #expect(try await listed("?region=emea") == [emea, emea])
            #expect(try await listed("?team=support-emea") == [emea, emea])
            #expect(try await listed("?since=2099-01-01T00:00:00Z").isEmpty)
            #expect(try await listed("?since=2000-01-01T00:00:00Z").count == 4)

            let apacViewer = try await api.makeToken(role: "viewer", regions: ["apac"])
            #expect(try await listed("", token: apacViewer) == [apac, apac], "an APAC token does not see EMEA breaches")
            #expect(try await listed("?team=support-emea", token: apacViewer).isEmpty)
            #expect(try await listed("?region=emea", token: apacViewer).isEmpty)

            let page = try await api.call(.get, "/v1/sla/breaches?limit=3").json(AnyJSON.self)
            #expect(page["breaches"]?.array.count == 3)
            let cursor = try #require(page["next_cursor"]?.string)
            let rest = try await api.call(.get, "/v1/sla/breaches?limit=3&after=\(cursor)").json(AnyJSON.self)
            #expect(rest["breaches"]?.array.count == 1)
            #expect(rest["next_cursor"] == nil)

            let badCursor = try await api.call(.get, "/v1/sla/breaches?after=abc")
            #expect(badCursor.status == .badRequest)
            #expect(try badCursor.errorEnvelope().error.details?["field"] == "after")
            #expect(try await api.call(.get, "/v1/sla/breaches?since=yesterday").status == .badRequest)
        }
    }

    @Test func breachesAreListedInTheOrderTheyHappened() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":120}"#)
            let older = try await Self.taskID(api, in: "support-emea", #"{"kind":"k","title":"older task, later breach"}"#)
            let newer = try await Self.taskID(api, in: "support-emea", #"{"kind":"k","title":"newer task, earlier breach"}"#)
            try await Self.expireClocks(of: newer, database)
            #expect(try await Self.sweep(database).breached == 1)
            try await Self.expireClocks(of: older, database)
            #expect(try await Self.sweep(database).breached == 1)

            let breaches = try await api.call(.get, "/v1/sla/breaches").json(AnyJSON.self)["breaches"]?.array ?? []
            #expect(breaches.compactMap { $0["task_id"]?.int } == [newer, older])
            let first = try await api.call(.get, "/v1/sla/breaches?limit=1").json(AnyJSON.self)
            #expect(first["breaches"]?[0]?["task_id"]?.int == newer)
            let cursor = try #require(first["next_cursor"]?.string)
            let second = try await api.call(.get, "/v1/sla/breaches?limit=1&after=\(cursor)").json(AnyJSON.self)
            #expect(second["breaches"]?.array.compactMap { $0["task_id"]?.int } == [older], "paging follows the same order")
        }
    }

    @Test func aBreachIsReportedOncePerTargetHoweverOftenTheMonitorSweeps() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30,"done_within_minutes":120}"#
            )
            let id = try await Self.taskID(api, in: "support-emea")
            try await Self.expireClocks(of: id, database)
            #expect(try await Self.sweep(database).breached == 2)
            #expect(try await Self.sweep(database).breached == 0)

            #expect(try await Self.count("sla.breached", task: id, database) == 2)
            #expect(try await Self.count("sla.at_risk", task: id, database) == 0, "a clock found past due is not reported at risk after it")
            let targets = try await database.pool.query(
                "SELECT data->>'target' AS target FROM events WHERE type = 'sla.breached' AND entity_id = $1 ORDER BY 1",
                [String(id)]
            ).map { try $0.decode(String.self, "target") }
            #expect(targets == ["claim_within", "done_within"])
            let clocks = try await Self.detail(api, id)["sla"]?.array ?? []
            #expect(clocks.map { $0["state"]?.string } == ["breached", "breached"])
        }
    }

    @Test func aClockPastEightyPercentIsReportedAtRiskOnce() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(api, #"{"name":"Support","kind":"sla","department":"support","done_within_minutes":120}"#)
            let id = try await Self.taskID(api, in: "support-emea")
            try await database.pool.query("UPDATE sla_clocks SET at_risk_at = now() - interval '1 second' WHERE task_id = $1", [id])
            let sweep = try await Self.sweep(database)
            #expect(sweep.atRisk == 1)
            #expect(sweep.breached == 0)
            #expect(try await Self.sweep(database).atRisk == 0)
            #expect(try await Self.count("sla.at_risk", task: id, database) == 1)
            #expect(try await Self.count("sla.breached", task: id, database) == 0)
        }
    }

    // MARK: - Team figures

    @Test func teamStatsCountTheClocksMetAndBreachedInTheWindow() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","department":"support","claim_within_minutes":30,"done_within_minutes":120}"#
            )
            let empty = try await api.call(.get, "/v1/teams/support-emea/stats")
            #expect(empty.status == .ok)
            let before = try #require(try empty.json(AnyJSON.self)["sla"])
            #expect(before["window_minutes"]?.int == 1440, "a day by default")
            #expect(before["closed"]?.int == 0)
            #expect(before["met"]?.int == 0)
            #expect(before["breached"]?.int == 0)
            #expect(before["met_percent"] == nil, "absent when nothing closed")

            let id = try await Self.taskID(api, in: "support-emea")
            let claim = try await Self.claim(api, team: "support-emea")
            #expect(claim.id == id)
            try await api.expect(.ok, api.call(.post, "/v1/tasks/\(id)/complete", json: #"{"lease_token":"\#(claim.token)"}"#))
            let late = try await Self.taskID(api, in: "support-emea")
            try await Self.expireClocks(of: late, database)
            try await Self.sweep(database)

            let after = try #require(try await api.call(.get, "/v1/teams/support-emea/stats").json(AnyJSON.self)["sla"])
            #expect(after["closed"]?.int == 2, "the claim clock and the resolution clock")
            #expect(after["met"]?.int == 2)
            #expect(after["met_percent"]?.double == 100)
            #expect(after["breached"]?.int == 2, "the late task's two clocks")
            #expect(after["median_seconds_to_claim"]?.double != nil)
            #expect(after["median_seconds_to_done"]?.double != nil)
            let hour = try #require(try await api.call(.get, "/v1/teams/support-emea/stats?window_minutes=60").json(AnyJSON.self)["sla"])
            #expect(hour["window_minutes"]?.int == 60)
            #expect(hour["closed"]?.int == 2)
            let elsewhere = try #require(try await api.call(.get, "/v1/teams/support-apac/stats").json(AnyJSON.self)["sla"])
            #expect(elsewhere["closed"]?.int == 0)

            for window in ["0", "525601", "-5"] {
                let response = try await api.call(.get, "/v1/teams/support-emea/stats?window_minutes=\(window)")
                #expect(response.status == .badRequest, "\(window)")
            }
            let zero = try await api.call(.get, "/v1/teams/support-emea/stats?window_minutes=0")
            #expect(try zero.errorEnvelope().error.details?["field"] == "window_minutes")
        }
    }

    // MARK: - Escalation

    @Test func escalationLevelsFireInTurnEachOnce() async throws {
        try await Self.withRegions { api, database in
            try await api.expect(.created, api.call(.post, "/v1/teams", json: #"{"department":"coordination","region":"emea"}"#))
            try await Self.workRoundTheClock(api, "emea")
            _ = try await Self.createPolicy(
                api,
                #"""
                {"name":"Support resolution","kind":"sla","team":"support-emea","done_within_minutes":60,"escalations":[
                  {"after_minutes":0,"action":"raise_priority","priority":"urgent"},
                  {"after_minutes":30,"action":"create_task","message":"chase the customer"},
                  {"after_minutes":60,"action":"handoff","team":"logistics-emea","message":"logistics takes over"}]}
                """#
            )
            let id = try await Self.taskID(api, in: "support-emea", #"{"kind":"complaint","title":"Parcel lost"}"#)
            try await Self.expireClocks(of: id, database)
            try await Self.makeLevelDue(1, of: id, database)
            let first = try await Self.sweep(database)
            #expect(first.breached == 1)
            #expect(first.escalations == 1, "only the level that is due")
            #expect(try await Self.detail(api, id)["task"]?["priority"]?.string == "urgent")

            try await Self.makeLevelDue(2, of: id, database)
            #expect(try await Self.sweep(database).escalations == 1)
            let coordination = try await api.call(.get, "/v1/tasks?team=coordination-emea").json(AnyJSON.self)["tasks"]?.array ?? []
            try #require(coordination.count == 1)
            #expect(coordination[0]["kind"]?.string == "sla_escalation")
            #expect(coordination[0]["subject"]?["id"]?.string == String(id))
            #expect(coordination[0]["payload"]?["message"]?.string == "chase the customer")

            try await Self.makeLevelDue(3, of: id, database)
            #expect(try await Self.sweep(database).escalations == 1)
            let detail = try await Self.detail(api, id)
            #expect(detail["task"]?["state"]?.string == "handed_off")
            let chain = detail["chain"]?.array ?? []
            try #require(chain.count == 2)
            #expect(chain[1]["team"]?.string == "logistics-emea")
            #expect(chain[1]["state"]?.string == "queued")

            let quiet = try await Self.sweep(database)
            #expect(quiet.escalations == 0)
            #expect(quiet.breached == 0)
            let events = try await Self.escalations(of: id, database)
            #expect(events.map { $0["level"] } == ["1", "2", "3"])
            #expect(events.map { $0["action"] } == ["raise_priority", "create_task", "handoff"])
            #expect(events.map { $0["outcome"] } == ["fired", "fired", "fired"])
            #expect(events.first?["to_priority"] == "urgent")
            #expect(events.last?["to_team"] == "logistics-emea")
            #expect(events.last?["to_task"] == chain[1]["id"]?.int.map(String.init))
            #expect(try await Self.count("sla.breached", task: id, database) == 1)
        }
    }

    @Test func aLevelThatCannotActIsRecordedAsFailedAndNotRetried() async throws {
        try await withTestApplication { api, database in
            // No coordination-emea team: the coordinators' task has nowhere to go.
            try await api.seedReferenceData()
            try await Self.workRoundTheClock(api, "emea")
            _ = try await Self.createPolicy(
                api,
                #"{"name":"Support","kind":"sla","team":"support-emea","done_within_minutes":60,"escalations":[{"after_minutes":0,"action":"create_task"}]}"#
            )
            let id = try await Self.taskID(api, in: "support-emea")
            try await Self.expireClocks(of: id, database)
            try await Self.makeLevelDue(1, of: id, database)
            #expect(try await Self.sweep(database).escalations == 1)
            #expect(try await Self.sweep(database).escalations == 0)
            let events = try await Self.escalations(of: id, database)
            try #require(events.count == 1)
            #expect(events[0]["outcome"] == "failed")
            #expect(events[0]["reason"]?.contains("coordination-emea") == true, "\(events[0])")
            #expect(try await Self.detail(api, id)["task"]?["state"]?.string == "queued", "the task itself is untouched")
        }
    }

    @Test func aLevelThatSkipsIfUpdatedIsSkippedForATaskTouchedAfterItsBreach() async throws {
        try await Self.withRegions(workingRoundTheClock: ["emea"]) { api, database in
            _ = try await Self.createPolicy(
                api,
                #"""
                {"name":"Marketing","kind":"sla","team":"marketing-emea","done_within_minutes":60,
                 "escalations":[{"after_minutes":0,"action":"notify","message":"overdue","skip_if_updated":true}]}
                """#
            )
            let touched = try await Self.taskID(api, in: "marketing-emea", #"{"kind":"k","title":"touched","priority":"high"}"#)
            let untouched = try await Self.taskID(api, in: "marketing-emea", #"{"kind":"k","title":"untouched"}"#)
            try await Self.expireClocks(of: touched, database)
            try await Self.expireClocks(of: untouched, database)
            #expect(try await Self.sweep(database).breached == 2)

            // Someone picks the touched task up after the breach.
            #expect(try await Self.claim(api, team: "marketing-emea").id == touched)
            try await Self.makeLevelDue(1, of: touched, database)
            try await Self.makeLevelDue(1, of: untouched, database)
            #expect(try await Self.sweep(database).escalations == 2)

            let skipped = try await Self.escalations(of: touched, database)
            try #require(skipped.count == 1)
            #expect(skipped[0]["outcome"] == "skipped")
            #expect(skipped[0]["reason"]?.contains("breach") == true, "\(skipped[0])")
            let fired = try await Self.escalations(of: untouched, database)
            #expect(fired.map { $0["outcome"] } == ["fired"])
            #expect(fired.first?["message"] == "overdue")
            let outcomes = try await database.pool.query(
                "SELECT c.task_id, e.outcome FROM sla_escalations e JOIN sla_clocks c ON c.id = e.clock_id ORDER BY c.task_id"
            ).map { try ($0.decode(Int.self, "task_id"), $0.decode(String?.self, "outcome")) }
            #expect(outcomes.map(\.1) == ["skipped", "fired"])
        }
    }
}

extension SLAEndpointTests {
    @Test func textWithANulCharacterIsRefusedNotCutShort() async throws {
        try await Self.withRegions { api, database in
            let bad = try await api.call(.post, "/v1/teams/support-emea/tasks", json: #"{"kind":"k","title":"before\u0000after"}"#)
            #expect(bad.status == .badRequest)
            #expect(try bad.errorEnvelope().error.code == "invalid_argument")
            let created = try await api.call(.post, "/v1/teams/support-emea/tasks", json: #"{"kind":"k","title":"fine"}"#).json(AnyJSON.self)
            let id = try #require(created["id"]?.int)
            let hold = try await api.call(.post, "/v1/tasks/\(id)/hold", json: #"{"reason":"x\u0000y"}"#)
            #expect(hold.status == .badRequest)
            let payload = try await api.call(
                .post,
                "/v1/teams/support-emea/tasks",
                json: #"{"kind":"k","title":"t","payload":{"note":"a\u0000b"}}"#
            )
            #expect(payload.status == .badRequest)
            let tasks = try await database.pool.query("SELECT count(*) AS n FROM tasks").first?.decode(Int.self, "n")
            #expect(tasks == 1, "nothing half-written")
        }
    }
}
