public import Foundation
public import PostgresClient

/// SLA clocks: started when a task is created or handed off, paused and resumed with holds,
/// stopped by the database trigger when the task is claimed or finishes, read back with the
/// business time they used.
public struct SLAClockStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        c.id, c.task_id, c.policy_id, p.name AS policy_name, p.kind AS policy_kind, c.target, c.team, c.region,
        c.calendar_region, c.target_seconds, c.started_at, c.running_since, c.consumed_seconds, c.paused_at,
        c.at_risk_at, c.due_at, c.at_risk_emitted_at, c.breached_at, c.stopped_at, c.stop_reason
        """

    /// The share of a target after which a clock is at risk.
    static let atRiskShare: Int64 = 80

    // MARK: - Start

    /// Starts the clocks of the policy covering each new task of `team`, on the caller's
    /// transaction: one clock per target the policy sets, with its escalation levels, and the
    /// task's `due_at` set to the resolution deadline unless the task was given one
    /// (`keepDueAt`). Returns the tasks as they now are.
    public func start(
        for tasks: [QueueTask],
        in team: Team,
        fromDepartment: Department? = nil,
        keepDueAt: Set<Int> = [],
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> [QueueTask] {
        var clockRows: [[String?]] = Array(repeating: [], count: 10)
        var levelRows: [[String?]] = Array(repeating: [], count: 6)
        var taskRows: [[String?]] = Array(repeating: [], count: 3)
        for task in tasks {
            guard
                let policy = catalog.policy(
                    for: team,
                    kind: task.kind,
                    priority: task.priority,
                    tags: task.tags,
                    fromDepartment: fromDepartment
                )
            else { continue }
            let calendarRegion = policy.calendarRegion ?? task.region
            let calendar = catalog.calendar(region: calendarRegion)
            // A task scheduled for later starts its clocks when it becomes claimable.
            let start = max(task.createdAt, task.runAt)
            var resolutionDue: Date?
            for target in SLATarget.allCases {
                guard let minutes = policy.definition.minutes(for: target) else { continue }
                let seconds = Int64(minutes) * 60
                let (atRisk, due) = try Self.deadlines(targetSeconds: seconds, consumed: 0, from: start, in: calendar)
                if target == .doneWithin || resolutionDue == nil { resolutionDue = due }
                for (index, value) in [
                    String(task.id), String(policy.id), target.rawValue, task.team, task.region, calendarRegion, String(seconds),
                    PostgresTimestamp.format(start), PostgresTimestamp.format(atRisk), PostgresTimestamp.format(due),
                ].enumerated() {
                    clockRows[index].append(value)
                }
                for (offset, level) in policy.escalations.enumerated() where policy.definition.target(of: level) == target {
                    let basis = level.basis == .breach ? due : atRisk
                    let fireAt = try Self.adding(Int64(level.afterMinutes) * 60, to: basis, in: calendar)
                    for (index, value) in [
                        String(task.id), target.rawValue, String(offset + 1), level.basis.rawValue,
                        PostgresJSON(level).postgresText, PostgresTimestamp.format(fireAt),
                    ].enumerated() {
                        levelRows[index].append(value)
                    }
                }
            }
            let keep = keepDueAt.contains(task.id) && task.dueAt != nil
            for (index, value) in [String(task.id), String(policy.id), keep ? nil : resolutionDue.map(PostgresTimestamp.format)]
                .enumerated()
            {
                taskRows[index].append(value)
            }
        }
        guard !taskRows[0].isEmpty else { return tasks }
        let updated = try await tx.query(
            """
            WITH clocks AS (
                INSERT INTO sla_clocks (task_id, policy_id, target, team, region, calendar_region, target_seconds,
                                        started_at, running_since, at_risk_at, due_at)
                SELECT k.task_id::bigint, k.policy_id::bigint, k.target, k.team, k.region, k.calendar_region,
                       k.target_seconds::bigint, k.started_at::timestamptz, k.started_at::timestamptz,
                       k.at_risk_at::timestamptz, k.due_at::timestamptz
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                            $9::text[], $10::text[])
                    AS k(task_id, policy_id, target, team, region, calendar_region, target_seconds, started_at, at_risk_at, due_at)
                RETURNING id, task_id, target
            ),
            levels AS (
                INSERT INTO sla_escalations (clock_id, level, basis, spec, fire_at)
                SELECT clocks.id, l.level::integer, l.basis, l.spec::jsonb, l.fire_at::timestamptz
                FROM unnest($11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
                    AS l(task_id, target, level, basis, spec, fire_at)
                JOIN clocks ON clocks.task_id = l.task_id::bigint AND clocks.target = l.target
            )
            UPDATE tasks SET sla_policy_id = t.policy_id::bigint, due_at = coalesce(t.due_at::timestamptz, tasks.due_at)
            FROM unnest($17::text[], $18::text[], $19::text[]) AS t(id, policy_id, due_at)
            WHERE tasks.id = t.id::bigint
            RETURNING \(TaskStore.columns(of: "tasks"))
            """,
            (clockRows + levelRows + taskRows).map { PostgresTextArray($0) }
        )
        var byID: [Int: QueueTask] = [:]
        for row in updated {
            let task = try TaskStore.task(row)
            byID[task.id] = task
        }
        return tasks.map { byID[$0.id] ?? $0 }
    }

    /// When a clock with `consumed` of `targetSeconds` used, running from `start`, reaches
    /// its at-risk point and its due time.
    public static func deadlines(
        targetSeconds: Int64,
        consumed: Int64,
        from start: Date,
        in calendar: BusinessCalendar
    ) throws -> (
        atRisk: Date, due: Date
    ) {
        let riskSeconds = max(0, targetSeconds * atRiskShare / 100 - consumed)
        let dueSeconds = max(0, targetSeconds - consumed)
        return (try adding(riskSeconds, to: start, in: calendar), try adding(dueSeconds, to: start, in: calendar))
    }

    static func adding(_ seconds: Int64, to start: Date, in calendar: BusinessCalendar) throws -> Date {
        do {
            return try calendar.adding(businessSeconds: seconds, to: start)
        } catch {
            throw CalendarStore.ruleViolation(error)
        }
    }

    // MARK: - Breaches and at-risk points

    /// What ``mark(_:region:taskID:on:)`` records.
    public enum Mark: Sendable {
        case breached
        case atRisk
    }

    /// Clocks marked per statement.
    static let markBatch = 500

    /// Marks clocks that are past due (or past their at-risk point) and writes one event per
    /// clock in the same statement. Rows are taken with SKIP LOCKED and re-checked under the
    /// lock, so however many instances run this at once, each clock is marked (and reported)
    /// once. A breach also marks the at-risk point, so a clock found late never reports at risk
    /// after it breached. Returns how many clocks it marked.
    public func mark(_ mark: Mark, region: String?, taskID: Int?, on connection: PostgresConnection) async throws -> Int {
        let (condition, order, set, type) =
            switch mark {
            case .breached:
                (
                    "breached_at IS NULL AND NOT settled AND due_at <= now() AND paused_at IS NULL", "due_at",
                    "breached_at = now(), at_risk_emitted_at = coalesce(c.at_risk_emitted_at, now())", "sla.breached"
                )
            case .atRisk:
                (
                    """
                    at_risk_emitted_at IS NULL AND NOT settled AND at_risk_at <= now() AND due_at > now() AND paused_at IS NULL
                      AND stopped_at IS NULL
                    """,
                    "at_risk_at", "at_risk_emitted_at = now()", "sla.at_risk"
                )
            }
        let rows = try await connection.query(
            """
            WITH due AS (
                SELECT id FROM sla_clocks
                WHERE \(condition) AND ($1::text IS NULL OR region = $1) AND ($2::bigint IS NULL OR task_id = $2)
                ORDER BY \(order)
                LIMIT \(Self.markBatch)
                FOR UPDATE SKIP LOCKED
            ),
            marked AS (
                UPDATE sla_clocks c SET \(set)
                FROM due WHERE c.id = due.id
                RETURNING c.*
            ),
            written AS (
                INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
                SELECT '\(type)', 'system', 'system', 'sla-monitor', 'task', m.task_id::text, m.team, m.region,
                       jsonb_build_object('target', m.target, 'policy_id', m.policy_id, 'policy', p.name, 'kind', p.kind,
                                          'clock_id', m.id, 'due_at', m.due_at, 'at_risk_at', m.at_risk_at)
                FROM marked m JOIN sla_policies p ON p.id = m.policy_id
                ORDER BY m.id
            )
            SELECT count(*) AS marked FROM marked
            """,
            [region, taskID]
        )
        return try rows.first?.decode(Int.self, "marked") ?? 0
    }

    // MARK: - Hold and resume

    /// Puts a live task on hold: its running clocks pause (the business time used so far is
    /// kept) and a queued task is not claimable until it is resumed or `until` passes.
    public func hold(
        taskID: Int,
        reason: String,
        until: Date?,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection,
        authorize: (QueueTask) throws -> Void
    ) async throws -> QueueTask {
        let task = try await lockedTask(taskID, on: tx)
        try authorize(task)
        guard task.state.isLive else {
            throw BatonError(.conflict, "a \(task.state.rawValue) task cannot be put on hold", details: ["state": task.state.rawValue])
        }
        guard task.hold == nil else { throw BatonError(.conflict, "the task is already on hold", details: ["state": "held"]) }
        guard TextRules.hasLength(reason, in: 1...1000) else {
            throw BatonError.invalidArgument("reason must be 1 to 1000 characters", field: "reason")
        }
        let now = try await transactionTime(on: tx)
        if let until, until <= now { throw BatonError(.ruleViolation, "until must be in the future", details: ["field": "until"]) }
        // A deadline that passed before the monitor's next sweep is recorded now: a hold must
        // not hide a breach that already happened.
        _ = try await mark(.breached, region: nil, taskID: taskID, on: tx)
        var pausedSeconds: [String: Int64] = [:]
        for clock in try await clocks(taskID: taskID, on: tx, lock: true) where clock.stoppedAt == nil && clock.pausedAt == nil {
            let calendar = catalog.calendar(region: clock.calendarRegion)
            let consumed = clock.elapsedSeconds(at: now, in: calendar)
            pausedSeconds[clock.target.rawValue] = consumed
            try await tx.query(
                "UPDATE sla_clocks SET consumed_seconds = $2, running_since = NULL, paused_at = $3 WHERE id = $1",
                [clock.id, consumed, now]
            )
        }
        let rows = try await tx.query(
            """
            UPDATE tasks SET held_at = $2, hold_until = $3, hold_reason = $4, updated_at = $2
            WHERE id = $1
            RETURNING \(TaskStore.columns)
            """,
            [taskID, now, until, reason]
        )
        guard let held = try rows.first.map(TaskStore.task) else { throw BatonError.notFound("no such task") }
        var data: [String: String] = ["reason": reason]
        if let until { data["until"] = PostgresTimestamp.formatRFC3339(until) }
        for (target, seconds) in pausedSeconds { data["\(target)_used_seconds"] = String(seconds) }
        try await event("task.held", held, data: data, by: principal, on: tx)
        return held
    }

    /// Resumes a held task: paused clocks run again from now with the business time they had
    /// left, so every deadline moves by exactly the business time the task was held.
    public func resume(
        taskID: Int,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection,
        authorize: (QueueTask) throws -> Void
    ) async throws -> QueueTask {
        let task = try await lockedTask(taskID, on: tx)
        try authorize(task)
        guard let hold = task.hold, task.state.isLive else {
            throw BatonError(.conflict, "the task is not on hold", details: ["state": task.state.rawValue])
        }
        let now = try await transactionTime(on: tx)
        var heldSeconds: Int64 = 0
        for clock in try await clocks(taskID: taskID, on: tx, lock: true) where clock.stoppedAt == nil && clock.pausedAt != nil {
            let calendar = catalog.calendar(region: clock.calendarRegion)
            let pausedAt = clock.pausedAt ?? now
            heldSeconds = max(heldSeconds, calendar.businessSeconds(from: pausedAt, to: now))
            if clock.breachedAt != nil {
                // A breach stands; its deadline is history. The clock only runs on for escalation.
                try await tx.query("UPDATE sla_clocks SET running_since = $2, paused_at = NULL WHERE id = $1", [clock.id, now])
            } else {
                let (atRisk, due) = try Self.deadlines(targetSeconds: clock.targetSeconds, consumed: clock.consumedSeconds, from: now, in: calendar)
                try await tx.query(
                    "UPDATE sla_clocks SET running_since = $2, paused_at = NULL, at_risk_at = $3, due_at = $4 WHERE id = $1",
                    [clock.id, now, atRisk, due]
                )
                // Only a due_at the policy set moves; one the caller gave stays theirs.
                try await tx.query("UPDATE tasks SET due_at = $2 WHERE id = $1 AND due_at = $3", [taskID, due, clock.dueAt])
            }
            // Pending levels move by the business time held: what was left until each level
            // when the clock paused is what is left from now.
            let pending = try await tx.query(
                "SELECT level, fire_at FROM sla_escalations WHERE clock_id = $1 AND fired_at IS NULL",
                [clock.id]
            )
            for row in pending {
                let fireAt = try row.decode(Date.self, "fire_at")
                let left = calendar.businessMilliseconds(from: pausedAt, to: fireAt)
                let moved: Date
                do {
                    moved = try calendar.adding(businessMilliseconds: left, to: now)
                } catch {
                    throw CalendarStore.ruleViolation(error)
                }
                try await tx.query(
                    "UPDATE sla_escalations SET fire_at = $3 WHERE clock_id = $1 AND level = $2",
                    [clock.id, try row.decode(Int.self, "level"), moved]
                )
            }
        }
        let rows = try await tx.query(
            """
            UPDATE tasks SET held_at = NULL, hold_until = NULL, hold_reason = NULL, updated_at = $2
            WHERE id = $1
            RETURNING \(TaskStore.columns)
            """,
            [taskID, now]
        )
        guard let resumed = try rows.first.map(TaskStore.task) else { throw BatonError.notFound("no such task") }
        try await event(
            "task.resumed",
            resumed,
            data: ["held_since": PostgresTimestamp.formatRFC3339(hold.since), "held_business_seconds": String(heldSeconds)],
            by: principal,
            on: tx
        )
        return resumed
    }

    private func lockedTask(_ id: Int, on tx: PostgresConnection) async throws -> QueueTask {
        guard let task = try await tx.query("SELECT \(TaskStore.columns) FROM tasks WHERE id = $1 FOR UPDATE", [id]).first.map(TaskStore.task)
        else {
            throw BatonError.notFound("no task \(id)")
        }
        return task
    }

    private func transactionTime(on tx: PostgresConnection) async throws -> Date {
        guard let row = try await tx.query("SELECT now() AS now").first else { throw BatonError(.internalError, "no time") }
        return try row.decode(Date.self, "now")
    }

    private func event(
        _ type: String,
        _ task: QueueTask,
        data: [String: String],
        by principal: Principal,
        on tx: PostgresConnection
    )
        async throws
    {
        try await EventStore(pool: pool).append(
            type: type,
            entityType: "task",
            entityID: String(task.id),
            team: task.team,
            region: task.region,
            dataJSON: PostgresJSON(data).postgresText,
            by: principal,
            on: tx
        )
    }

    // MARK: - Read

    /// A task's clocks, claim clock first.
    public func clocks(taskID: Int) async throws -> [SLAClock] {
        try await pool.withConnection { try await clocks(taskID: taskID, on: $0, lock: false) }
    }

    func clocks(taskID: Int, on connection: PostgresConnection, lock: Bool) async throws -> [SLAClock] {
        try await connection.query(
            """
            SELECT \(Self.columns) FROM sla_clocks c JOIN sla_policies p ON p.id = c.policy_id
            WHERE c.task_id = $1 ORDER BY c.target
            \(lock ? "FOR UPDATE OF c" : "")
            """,
            [taskID]
        ).map(Self.clock)
    }

    /// A breached clock with the task it belongs to.
    public struct Breach: Sendable {
        public var clock: SLAClock
        public var title: String
        public var state: TaskState
        public var priority: TaskPriority
    }

    /// Breached clocks of teams within `scope` in breach order, optionally of one team, one
    /// region, since a time.
    public func breaches(team: String?, region: String?, since: Date?, scope: Scope, page: PageRequest) async throws -> Page<Breach> {
        // The cursor is the last breach's time and clock id: "<RFC 3339>/<id>".
        var afterTime = Date(timeIntervalSince1970: 0)
        var afterID = 0
        if let cursor = page.after {
            let parts = cursor.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let time = PostgresTimestamp.parse(String(parts[0])), PostgresTimestamp.representable.contains(time),
                let id = TextRules.integerCursor(String(parts[1]))
            else {
                throw BatonError.invalidArgument("after is not a cursor", field: "after")
            }
            (afterTime, afterID) = (time, id)
        }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns), t.title, t.state, t.priority
            FROM sla_clocks c JOIN sla_policies p ON p.id = c.policy_id JOIN tasks t ON t.id = c.task_id
            WHERE c.breached_at IS NOT NULL AND (c.breached_at, c.id) > (\(afterTime)::timestamptz, \(afterID)::bigint)
              AND \(scope.condition(team: "c.team", region: "c.region"))
              AND (\(team)::text IS NULL OR c.team = \(team))
              AND (\(region)::text IS NULL OR c.region = \(region))
              AND (\(since)::timestamptz IS NULL OR c.breached_at >= \(since))
            ORDER BY c.breached_at, c.id
            LIMIT \(page.limit + 1)
            """
        )
        let breaches = try rows.map { row in
            Breach(
                clock: try Self.clock(row),
                title: try row.decode(String.self, "title"),
                state: TaskState(rawValue: try row.decode(String.self, "state")) ?? .queued,
                priority: TaskPriority(rank: try row.decode(Int.self, "priority")) ?? .normal
            )
        }
        return page.page(breaches) { breach in
            "\(PostgresTimestamp.formatRFC3339(breach.clock.breachedAt ?? .distantPast))/\(breach.clock.id)"
        }
    }

    /// SLA figures of a team over a window ending now.
    public struct Figures: Sendable, Equatable {
        public var windowMinutes: Int
        /// Clocks that stopped in the window.
        public var closed: Int
        /// Of those, stopped in time.
        public var met: Int
        /// Clocks breached in the window (stopped or still running).
        public var breached: Int
        public var medianSecondsToClaim: Double?
        public var medianSecondsToDone: Double?

        public var metPercent: Double? { closed == 0 ? nil : (Double(met) * 1000 / Double(closed)).rounded() / 10 }
    }

    public func figures(team: String, windowMinutes: Int) async throws -> Figures {
        let rows = try await pool.query(
            """
            SELECT
                (SELECT count(*) FROM sla_clocks
                 WHERE team = $1 AND stopped_at >= now() - make_interval(mins => $2::integer)
                   AND stop_reason IN ('claimed', 'done', 'handed_off')) AS closed,
                (SELECT count(*) FROM sla_clocks
                 WHERE team = $1 AND stopped_at >= now() - make_interval(mins => $2::integer) AND settled
                   AND stop_reason IN ('claimed', 'done', 'handed_off')) AS met,
                (SELECT count(*) FROM sla_clocks
                 WHERE team = $1 AND breached_at >= now() - make_interval(mins => $2::integer)) AS breached,
                (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stopped_at - started_at))
                 FROM sla_clocks
                 WHERE team = $1 AND stopped_at >= now() - make_interval(mins => $2::integer)
                   AND target = 'claim_within' AND stop_reason = 'claimed') AS median_claim,
                (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM stopped_at - started_at))
                 FROM sla_clocks
                 WHERE team = $1 AND stopped_at >= now() - make_interval(mins => $2::integer)
                   AND target = 'done_within' AND stop_reason IN ('done', 'handed_off')) AS median_done
            """,
            [team, windowMinutes]
        )
        guard let row = rows.first else { throw BatonError(.internalError, "no figures") }
        return Figures(
            windowMinutes: windowMinutes,
            closed: try row.decode(Int.self, "closed"),
            met: try row.decode(Int.self, "met"),
            breached: try row.decode(Int.self, "breached"),
            medianSecondsToClaim: try row.decode(Double?.self, "median_claim"),
            medianSecondsToDone: try row.decode(Double?.self, "median_done")
        )
    }

    static func clock(_ row: PostgresRow) throws -> SLAClock {
        SLAClock(
            id: try row.decode(Int.self, "id"),
            taskID: try row.decode(Int.self, "task_id"),
            policyID: try row.decode(Int.self, "policy_id"),
            policyName: try row.decode(String.self, "policy_name"),
            kind: SLAKind(rawValue: try row.decode(String.self, "policy_kind")) ?? .sla,
            target: SLATarget(rawValue: try row.decode(String.self, "target")) ?? .doneWithin,
            team: try row.decode(String.self, "team"),
            region: try row.decode(String.self, "region"),
            calendarRegion: try row.decode(String.self, "calendar_region"),
            targetSeconds: Int64(try row.decode(Int.self, "target_seconds")),
            startedAt: try row.decode(Date.self, "started_at"),
            runningSince: try row.decode(Date?.self, "running_since"),
            consumedSeconds: Int64(try row.decode(Int.self, "consumed_seconds")),
            pausedAt: try row.decode(Date?.self, "paused_at"),
            atRiskAt: try row.decode(Date.self, "at_risk_at"),
            dueAt: try row.decode(Date.self, "due_at"),
            atRiskEmittedAt: try row.decode(Date?.self, "at_risk_emitted_at"),
            breachedAt: try row.decode(Date?.self, "breached_at"),
            stoppedAt: try row.decode(Date?.self, "stopped_at"),
            stopReason: try row.decode(String?.self, "stop_reason")
        )
    }
}
