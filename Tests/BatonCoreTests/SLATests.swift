import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Testing

/// SLA clocks against PostgreSQL. Calendars here work around the clock (00:00-24:00 every day)
/// unless a test is about calendars, so the outcome does not depend on when the suite runs.
@Suite(.requiresDatabase) struct SLATests {
    static let system = Principal.system()

    static func seed(_ database: BatonDatabase) async throws -> (support: Team, logistics: Team) {
        let pool = database.pool
        try await pool.query("INSERT INTO regions (code, name, time_zone) VALUES ('emea', 'EMEA', 'Europe/Berlin')")
        try await pool.query(
            """
            INSERT INTO teams (slug, department, region, name) VALUES
                ('support-emea', 'support', 'emea', 'Support'), ('sales-emea', 'sales', 'emea', 'Sales'),
                ('logistics-emea', 'logistics', 'emea', 'Logistics'), ('coordination-emea', 'coordination', 'emea', 'Coordination')
            """
        )
        let allDay = try WorkingInterval(parsing: "00:00-24:00")
        _ = try await pool.transaction { tx in
            try await CalendarStore(pool: pool).set(
                region: "emea",
                timeZone: nil,
                hours: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, [allDay]) }),
                holidays: [],
                by: system,
                on: tx
            )
        }
        return (
            try #require(try await TeamStore(pool: pool).find("support-emea")),
            try #require(try await TeamStore(pool: pool).find("logistics-emea"))
        )
    }

    static func policy(_ policy: NewSLAPolicy, _ database: BatonDatabase) async throws -> SLAPolicy {
        let created = try await database.pool.transaction { tx in try await SLAPolicyStore(pool: database.pool).create(policy, by: system, on: tx) }
        database.slaCatalog.invalidate()
        return created
    }

    /// Creates a task whose clocks started `age` ago.
    static func task(
        _ kind: String,
        in team: Team,
        startedAgo age: TimeInterval,
        _ database: BatonDatabase
    ) async throws -> QueueTask {
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let store = TaskStore(pool: database.pool)
        let id = try await database.pool.transaction { tx in
            let created = try await store.create([NewTask(kind: kind, title: "t")], in: team, by: system, on: tx)
            try await tx.query(
                "UPDATE tasks SET created_at = now() - make_interval(secs => $2), run_at = now() - make_interval(secs => $2) WHERE id = $1",
                [created[0].task.id, age]
            )
            return created[0].task.id
        }
        let task = try #require(try await store.find(id: id))
        return try await database.pool.transaction { tx in
            try await SLAClockStore(pool: database.pool).start(for: [task], in: team, catalog: catalog, on: tx)[0]
        }
    }

    static func count(_ type: String, task: Int, _ pool: ConnectionPool) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM events WHERE type = $1 AND entity_id = $2", [type, String(task)]).first?
            .decode(Int.self, "n") ?? -1
    }

    @Test func twoInstancesReportABreachOnceAndFireEachLevelOnce() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 6) { pool, url in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(
                NewSLAPolicy(
                    name: "complaints",
                    kind: .sla,
                    department: .support,
                    claimWithinMinutes: 5,
                    doneWithinMinutes: 10,
                    escalations: [
                        EscalationLevel(afterMinutes: 0, action: .notify, message: "overdue"),
                        EscalationLevel(afterMinutes: 0, action: .raisePriority, priority: .urgent),
                        EscalationLevel(afterMinutes: 1, action: .createTask),
                    ]
                ),
                database
            )
            let task = try await Self.task("complaint", in: support, startedAgo: 20 * 60, database)
            #expect(task.slaPolicyID != nil)
            #expect(task.dueAt != nil, "the policy set the resolution deadline")

            // A second instance: its own pool on the same database.
            let otherPool = ConnectionPool(try PostgresConfiguration(url), configuration: .init(size: 4))
            let other = BatonDatabase(pool: otherPool, logger: TestDatabase.quietLogger)
            let monitors = [
                SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger),
                SLAMonitor(services: BatonServices(database: other), logger: TestDatabase.quietLogger),
            ]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for monitor in monitors {
                    group.addTask { for _ in 0..<5 { _ = try await monitor.sweep() } }
                }
                try await group.waitForAll()
            }
            await otherPool.close(timeout: .seconds(1))

            #expect(try await Self.count("sla.breached", task: task.id, pool) == 2, "one breach per target")
            #expect(try await Self.count("sla.escalated", task: task.id, pool) == 3, "each level once")
            #expect(try await Self.count("sla.at_risk", task: task.id, pool) == 0, "a clock found past due reports no at-risk point after it")
            let targets = try await pool.query(
                "SELECT data->>'target' AS target FROM events WHERE type = 'sla.breached' AND entity_id = $1 ORDER BY 1",
                [String(task.id)]
            ).map { try $0.decode(String.self, "target") }
            #expect(targets == ["claim_within", "done_within"])
            let after = try #require(try await TaskStore(pool: pool).find(id: task.id))
            #expect(after.priority == .urgent)
            let coordination = try await pool.query(
                "SELECT count(*) AS n FROM tasks WHERE team = 'coordination-emea' AND kind = 'sla_escalation' AND subject_id = $1",
                [String(task.id)]
            ).first?.decode(Int.self, "n")
            #expect(coordination == 1)
            let outcomes = try await pool.query("SELECT outcome FROM sla_escalations ORDER BY level").map { try $0.decode(String?.self, "outcome") }
            #expect(outcomes == ["fired", "fired", "fired"])
        }
    }

    @Test func atRiskIsReportedOnceAtEightyPercentAndABreachIsSticky() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(NewSLAPolicy(name: "inquiries", kind: .sla, department: .support, doneWithinMinutes: 10), database)
            let monitor = SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger)
            // 8.5 of 10 minutes used: at risk, not breached.
            let task = try await Self.task("inquiry", in: support, startedAgo: 510, database)
            _ = try await monitor.sweep()
            _ = try await monitor.sweep()
            #expect(try await Self.count("sla.at_risk", task: task.id, pool) == 1)
            #expect(try await Self.count("sla.breached", task: task.id, pool) == 0)
            let clock = try #require(try await SLAClockStore(pool: pool).clocks(taskID: task.id).first)
            #expect(clock.state(at: Date()) == .running)

            // Past due: breached once; completing it afterwards does not undo the breach.
            try await pool.query("UPDATE sla_clocks SET due_at = now() - interval '1 second' WHERE task_id = $1", [task.id])
            _ = try await monitor.sweep()
            let claimed = try await TaskStore(pool: pool).claim(
                team: support.slug,
                worker: "w",
                limit: 1,
                leaseSeconds: 60,
                kinds: nil,
                by: Self.system
            )
            let lease = try #require(claimed.first?.lease?.token)
            _ = try await TaskStore(pool: pool).complete(id: task.id, leaseToken: lease, resultJSON: nil, by: Self.system)
            _ = try await monitor.sweep()
            #expect(try await Self.count("sla.breached", task: task.id, pool) == 1)
            let stopped = try #require(try await SLAClockStore(pool: pool).clocks(taskID: task.id).first)
            #expect(stopped.stoppedAt != nil)
            #expect(stopped.state(at: Date()) == .breached)
        }
    }

    @Test func claimingStopsTheClaimClockAndFinishingStopsTheRest() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(
                NewSLAPolicy(name: "both", kind: .sla, department: .support, claimWithinMinutes: 60, doneWithinMinutes: 600),
                database
            )
            let task = try await Self.task("inquiry", in: support, startedAgo: 60, database)
            let store = TaskStore(pool: pool)
            let claimed = try await store.claim(team: support.slug, worker: "w", limit: 1, leaseSeconds: 60, kinds: nil, by: Self.system)
            var clocks = try await SLAClockStore(pool: pool).clocks(taskID: task.id)
            #expect(clocks.map(\.target) == [.claimWithin, .doneWithin])
            #expect(clocks.first?.state(at: Date()) == .met)
            #expect(clocks.last?.state(at: Date()) == .running)
            _ = try await store.complete(id: task.id, leaseToken: try #require(claimed.first?.lease?.token), resultJSON: nil, by: Self.system)
            clocks = try await SLAClockStore(pool: pool).clocks(taskID: task.id)
            #expect(clocks.allSatisfy { $0.state(at: Date()) == .met })
            #expect(clocks.last?.stopReason == "done")
            let figures = try await SLAClockStore(pool: pool).figures(team: support.slug, windowMinutes: 60)
            #expect(figures.closed == 2)
            #expect(figures.met == 2)
            #expect(figures.metPercent == 100)
            #expect(figures.medianSecondsToClaim != nil)
        }
    }

    @Test func holdAndResumeMoveTheDeadlineByTheHeldTime() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(NewSLAPolicy(name: "inquiries", kind: .sla, department: .support, doneWithinMinutes: 120), database)
            let task = try await Self.task("inquiry", in: support, startedAgo: 0, database)
            let clocks = SLAClockStore(pool: pool)
            let before = try #require(try await clocks.clocks(taskID: task.id).first)
            let catalog = try await database.slaCatalog.snapshot(pool: pool)

            let held = try await pool.transaction { tx in
                try await clocks.hold(taskID: task.id, reason: "waiting for the customer", until: nil, by: Self.system, catalog: catalog, on: tx) {
                    _ in
                }
            }
            #expect(held.hold?.reason == "waiting for the customer")
            let paused = try #require(try await clocks.clocks(taskID: task.id).first)
            #expect(paused.state(at: Date()) == .paused)
            let nothing = try await TaskStore(pool: pool).claim(
                team: support.slug,
                worker: "w",
                limit: 1,
                leaseSeconds: 60,
                kinds: nil,
                by: Self.system
            )
            #expect(nothing.isEmpty, "a held task is not claimable")
            await #expect(throws: BatonError.self) {
                try await pool.transaction { tx in
                    try await clocks.hold(taskID: task.id, reason: "again", until: nil, by: Self.system, catalog: catalog, on: tx) { _ in }
                }
            }

            try await Task.sleep(for: .milliseconds(1500))
            let resumed = try await pool.transaction { tx in
                try await clocks.resume(taskID: task.id, by: Self.system, catalog: catalog, on: tx) { _ in }
            }
            #expect(resumed.hold == nil)
            let after = try #require(try await clocks.clocks(taskID: task.id).first)
            let heldFor = try #require(after.runningSince).timeIntervalSince(try #require(paused.pausedAt))
            #expect(heldFor >= 1.5)
            // Business seconds are whole seconds: the shift matches the held time to within one.
            let shift = after.dueAt.timeIntervalSince(before.dueAt)
            #expect(abs(shift - heldFor) < 1.0, "due moved by \(shift) s for \(heldFor) s held")
            #expect(resumed.dueAt == after.dueAt)
            let claimable = try await TaskStore(pool: pool).claim(
                team: support.slug,
                worker: "w",
                limit: 1,
                leaseSeconds: 60,
                kinds: nil,
                by: Self.system
            )
            #expect(claimable.map(\.id) == [task.id])
        }
    }

    @Test func aHoldPlacedAfterTheDeadlineStillRecordsTheBreach() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(NewSLAPolicy(name: "inquiries", kind: .sla, department: .support, doneWithinMinutes: 10), database)
            // Due a minute ago; no monitor has swept since.
            let task = try await Self.task("inquiry", in: support, startedAgo: 11 * 60, database)
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            _ = try await pool.transaction { tx in
                try await SLAClockStore(pool: pool).hold(
                    taskID: task.id,
                    reason: "customer away",
                    until: nil,
                    by: Self.system,
                    catalog: catalog,
                    on: tx
                ) { _ in }
            }
            #expect(try await Self.count("sla.breached", task: task.id, pool) == 1)
            let clock = try #require(try await SLAClockStore(pool: pool).clocks(taskID: task.id).first)
            #expect(clock.state(at: Date()) == .breached)
            _ = try await SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger).sweep()
            #expect(try await Self.count("sla.breached", task: task.id, pool) == 1, "still once")
        }
    }

    @Test func resumingMovesPendingEscalationsByTheHeldTime() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(
                NewSLAPolicy(
                    name: "inquiries",
                    kind: .sla,
                    department: .support,
                    doneWithinMinutes: 60,
                    escalations: [EscalationLevel(afterMinutes: 30, action: .notify)]
                ),
                database
            )
            let task = try await Self.task("inquiry", in: support, startedAgo: 0, database)
            let fireAt = { () async throws -> Date in
                try #require(try await pool.query("SELECT fire_at FROM sla_escalations").first?.decode(Date.self, "fire_at"))
            }
            let before = try await fireAt()
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            let clocks = SLAClockStore(pool: pool)
            _ = try await pool.transaction { tx in
                try await clocks.hold(taskID: task.id, reason: "wait", until: nil, by: Self.system, catalog: catalog, on: tx) { _ in }
            }
            try await Task.sleep(for: .milliseconds(1200))
            _ = try await pool.transaction { tx in try await clocks.resume(taskID: task.id, by: Self.system, catalog: catalog, on: tx) { _ in } }
            let after = try await fireAt()
            let clock = try #require(try await clocks.clocks(taskID: task.id).first)
            // The level stays 30 business minutes after the (moved) deadline.
            // (Business time is kept in whole seconds, so within one.)
            #expect(abs(after.timeIntervalSince(clock.dueAt) - 1800) <= 1.0)
            // And it moved by the time held (1.2 s or more), give or take the whole second.
            let shift = after.timeIntervalSince(before)
            #expect(shift > 0.19 && shift < 60, "moved by \(shift) s")
        }
    }

    @Test func aScheduledTaskStartsItsClocksWhenItBecomesClaimable() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(NewSLAPolicy(name: "inquiries", kind: .sla, department: .support, claimWithinMinutes: 60), database)
            let runAt = Date().addingTimeInterval(7 * 86400)
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            let task = try await pool.transaction { tx in
                let created = try await TaskStore(pool: pool).create(
                    [NewTask(kind: "inquiry", title: "call back next week", runAt: runAt)],
                    in: support,
                    by: Self.system,
                    on: tx
                )
                return try await SLAClockStore(pool: pool).start(for: created.map(\.task), in: support, catalog: catalog, on: tx)[0]
            }
            let clock = try #require(try await SLAClockStore(pool: pool).clocks(taskID: task.id).first)
            #expect(abs(clock.startedAt.timeIntervalSince(runAt)) < 0.001)
            #expect(abs(clock.dueAt.timeIntervalSince(runAt) - 3600) < 0.001)
        }
    }

    @Test func aHoldWithUntilIsResumedByTheMonitor() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            _ = try await Self.policy(NewSLAPolicy(name: "inquiries", kind: .sla, department: .support, doneWithinMinutes: 120), database)
            let task = try await Self.task("inquiry", in: support, startedAgo: 0, database)
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            _ = try await pool.transaction { tx in
                try await SLAClockStore(pool: pool).hold(
                    taskID: task.id,
                    reason: "parts on order",
                    until: Date().addingTimeInterval(0.5),
                    by: Self.system,
                    catalog: catalog,
                    on: tx
                ) { _ in }
            }
            try await Task.sleep(for: .milliseconds(800))
            let sweep = try await SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger).sweep()
            #expect(sweep.resumed == 1)
            #expect(try await TaskStore(pool: pool).find(id: task.id)?.hold == nil)
            #expect(try await Self.count("task.resumed", task: task.id, pool) == 1)
        }
    }

    @Test func theMostSpecificActivePolicyWins() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, _) = try await Self.seed(database)
            let general = try await Self.policy(NewSLAPolicy(name: "support", kind: .sla, department: .support, doneWithinMinutes: 600), database)
            let specific = try await Self.policy(
                NewSLAPolicy(name: "complaints", kind: .sla, department: .support, taskKind: "complaint", doneWithinMinutes: 60),
                database
            )
            let vip = try await Self.policy(
                NewSLAPolicy(name: "vip team", kind: .sla, team: "support-emea", tags: ["vip"], claimWithinMinutes: 5),
                database
            )
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            #expect(catalog.policy(for: support, kind: "complaint", priority: .normal, tags: [])?.id == specific.id)
            #expect(catalog.policy(for: support, kind: "inquiry", priority: .normal, tags: [])?.id == general.id)
            #expect(catalog.policy(for: support, kind: "complaint", priority: .normal, tags: ["vip"])?.id == vip.id)
            _ = try await pool.transaction { tx in try await SLAPolicyStore(pool: pool).setActive(id: vip.id, false, by: Self.system, on: tx) }
            database.slaCatalog.invalidate()
            let afterDisable = try await database.slaCatalog.snapshot(pool: pool)
            #expect(afterDisable.policy(for: support, kind: "complaint", priority: .normal, tags: ["vip"])?.id == specific.id)
        }
    }

    @Test func resumingMovesTheDeadlineByTheHeldBusinessTimeInABerlinWeek() throws {
        // Friday 2026-03-27 16:00 CET a four-hour clock starts; office hours 09:00-17:00.
        let day = try WorkingInterval(parsing: "09:00-17:00")
        let calendar = try BusinessCalendar(
            timeZoneIdentifier: "Europe/Berlin",
            hours: [.monday: [day], .tuesday: [day], .wednesday: [day], .thursday: [day], .friday: [day]]
        )
        func utc(_ text: String) throws -> Date { try #require(PostgresTimestamp.parse(text)) }
        let start = try utc("2026-03-27T15:00:00Z")
        let (_, due) = try SLAClockStore.deadlines(targetSeconds: 4 * 3600, consumed: 0, from: start, in: calendar)
        // One hour on Friday, three on Monday (CEST since Sunday): Monday 12:00 CEST.
        #expect(due == (try utc("2026-03-30T10:00:00Z")))
        // Held from Friday 16:30 CET to Monday 10:00 CEST: 30 + 60 business minutes.
        let holdStart = try utc("2026-03-27T15:30:00Z")
        let holdEnd = try utc("2026-03-30T08:00:00Z")
        let consumed = calendar.businessSeconds(from: start, to: holdStart)
        #expect(consumed == 1800)
        let (_, moved) = try SLAClockStore.deadlines(targetSeconds: 4 * 3600, consumed: consumed, from: holdEnd, in: calendar)
        let held = calendar.businessSeconds(from: holdStart, to: holdEnd)
        #expect(held == 90 * 60)
        #expect(moved == (try calendar.adding(businessSeconds: held, to: due)))
        #expect(moved == (try utc("2026-03-30T11:30:00Z")))
    }
}

extension SLATests {
    @Test func aLevelWhoseActionFailsInTheDatabaseIsRecordedAndTheNextLevelStillFires() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let (support, logistics) = try await Self.seed(database)
            _ = try await Self.policy(
                NewSLAPolicy(
                    name: "complaints",
                    kind: .sla,
                    department: .support,
                    doneWithinMinutes: 10,
                    escalations: [
                        EscalationLevel(afterMinutes: 0, action: .handoff, team: logistics.slug),
                        EscalationLevel(afterMinutes: 0, action: .notify),
                    ]
                ),
                database
            )
            // The handoff will collide with live work under the same dedupe key in logistics.
            let store = TaskStore(pool: pool)
            let id = try await pool.transaction { tx in
                _ = try await store.create([NewTask(kind: "k", title: "t", dedupeKey: "order-9")], in: logistics, by: Self.system, on: tx)
                let created = try await store.create(
                    [NewTask(kind: "complaint", title: "t", dedupeKey: "order-9")],
                    in: support,
                    by: Self.system,
                    on: tx
                )
                try await tx.query(
                    "UPDATE tasks SET created_at = now() - interval '20 minutes', run_at = now() - interval '20 minutes' WHERE id = $1",
                    [created[0].task.id]
                )
                return created[0].task.id
            }
            let task = try #require(try await store.find(id: id))
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            _ = try await pool.transaction { tx in try await SLAClockStore(pool: pool).start(for: [task], in: support, catalog: catalog, on: tx) }
            let monitor = SLAMonitor(services: BatonServices(database: database), logger: TestDatabase.quietLogger)
            _ = try await monitor.sweep()
            _ = try await monitor.sweep()
            let outcomes = try await pool.query("SELECT level, outcome FROM sla_escalations ORDER BY level").map {
                try $0.decode(String?.self, "outcome")
            }
            #expect(outcomes == ["failed", "fired"])
            #expect(try await Self.count("sla.escalated", task: id, pool) == 2)
            #expect(try await store.find(id: id)?.state == .queued, "the failed handoff left nothing behind")
        }
    }
}
