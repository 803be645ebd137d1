import BatonCore
import Foundation
import PostgresClient

extension APIHandler {
    var slaClocks: SLAClockStore { SLAClockStore(pool: database.pool) }

    // MARK: - Calendars

    func getCalendar(_ input: Operations.GetCalendar.Input) async throws -> Operations.GetCalendar.Output {
        _ = try RequestPrincipal.require()
        guard let calendar = try await CalendarStore(pool: database.pool).calendar(region: input.path.code) else {
            throw BatonError.notFound("no region '\(input.path.code)'")
        }
        return .ok(.init(body: .json(.init(calendar))))
    }

    func setCalendar(_ input: Operations.SetCalendar.Input) async throws -> Operations.SetCalendar.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let hours = try Self.weeklyHours(body.hours)
        let holidays = try body.holidays.map { try $0.enumerated().map { try Self.holiday($0.element, field: "holidays[\($0.offset)]") } }
        let store = CalendarStore(pool: database.pool)
        let code = input.path.code
        let calendar = try await database.pool.transaction { tx in
            try await store.set(region: code, timeZone: body.timeZone, hours: hours, holidays: holidays, by: principal, on: tx)
        }
        database.slaCatalog.invalidate()
        return .ok(.init(body: .json(.init(calendar))))
    }

    func addHoliday(_ input: Operations.AddHoliday.Input) async throws -> Operations.AddHoliday.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let holiday = try Self.holiday(body, field: "")
        let store = CalendarStore(pool: database.pool)
        let code = input.path.code
        let (_, added) = try await idempotent(key: input.headers.idempotencyKey, operation: "addHoliday/\(code)", request: body) { tx in
            let added = try await store.addHoliday(region: code, holiday, by: principal, on: tx)
            return (201, Components.Schemas.Holiday(date: added.date.description, name: added.name))
        }
        database.slaCatalog.invalidate()
        return .created(.init(body: .json(added)))
    }

    func removeHoliday(_ input: Operations.RemoveHoliday.Input) async throws -> Operations.RemoveHoliday.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard let date = LocalDate(parsing: input.path.date) else {
            throw BatonError.invalidArgument("date must be a calendar date such as 2026-12-25", field: "date")
        }
        let store = CalendarStore(pool: database.pool)
        let code = input.path.code
        try await database.pool.transaction { tx in try await store.removeHoliday(region: code, date: date, by: principal, on: tx) }
        database.slaCatalog.invalidate()
        return .noContent(.init())
    }

    static func weeklyHours(_ hours: Components.Schemas.WeeklyHours) throws -> [Weekday: [WorkingInterval]] {
        let days: [(Weekday, [Components.Schemas.WorkingInterval]?)] = [
            (.monday, hours.monday), (.tuesday, hours.tuesday), (.wednesday, hours.wednesday), (.thursday, hours.thursday),
            (.friday, hours.friday), (.saturday, hours.saturday), (.sunday, hours.sunday),
        ]
        var result: [Weekday: [WorkingInterval]] = [:]
        for (weekday, intervals) in days {
            guard let intervals else { continue }
            result[weekday] = try intervals.enumerated().map { index, interval in
                let field = "hours.\(weekday.name)[\(index)]"
                guard let start = LocalTime(parsing: interval.start), start.minutes < 1440 else {
                    throw BatonError.invalidArgument("start must be a local time HH:MM from 00:00 to 23:59", field: "\(field).start")
                }
                guard let end = LocalTime(parsing: interval.end) else {
                    throw BatonError.invalidArgument("end must be a local time HH:MM up to 24:00", field: "\(field).end")
                }
                do {
                    return try WorkingInterval(start: start, end: end)
                } catch let error as BusinessCalendarError {
                    throw BatonError(.ruleViolation, error.message, details: ["field": field])
                }
            }
        }
        return result
    }

    static func holiday(_ holiday: Components.Schemas.Holiday, field: String) throws -> Holiday {
        let prefix = field.isEmpty ? "" : "\(field)."
        guard let date = LocalDate(parsing: holiday.date) else {
            throw BatonError.invalidArgument("date must be a calendar date such as 2026-12-25", field: "\(prefix)date")
        }
        guard TextRules.hasLength(holiday.name, in: 1...200) else {
            throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "\(prefix)name")
        }
        return Holiday(date: date, name: holiday.name)
    }

    // MARK: - Policies

    func listSLAPolicies(_ input: Operations.ListSLAPolicies.Input) async throws -> Operations.ListSLAPolicies.Output {
        let principal = try RequestPrincipal.require()
        var policies = try await SLAPolicyStore(pool: database.pool).list()
        if !principal.scope.isUnrestricted {
            // A scoped caller sees the policies that can cover its teams: those naming no team,
            // and those naming one of its teams.
            let visible = Set(try await visibleTeams(for: principal) ?? [])
            policies = policies.filter { $0.team.map(visible.contains) ?? true }
        }
        return .ok(.init(body: .json(.init(policies: policies.map(Components.Schemas.SLAPolicy.init)))))
    }

    func createSLAPolicy(_ input: Operations.CreateSLAPolicy.Input) async throws -> Operations.CreateSLAPolicy.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let policy = NewSLAPolicy(
            name: body.name,
            kind: SLAKind(rawValue: body.kind.rawValue) ?? .sla,
            team: body.team,
            department: body.department.flatMap { Department(rawValue: $0.rawValue) },
            taskKind: body.taskKind,
            priority: body.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            tags: body.tags ?? [],
            fromDepartment: body.fromDepartment.flatMap { Department(rawValue: $0.rawValue) },
            claimWithinMinutes: body.claimWithinMinutes,
            doneWithinMinutes: body.doneWithinMinutes,
            calendarRegion: body.calendarRegion,
            escalations: (body.escalations ?? []).map(EscalationLevel.init)
        )
        try policy.validate()
        let store = SLAPolicyStore(pool: database.pool)
        let (_, created) = try await idempotent(key: input.headers.idempotencyKey, operation: "createSLAPolicy", request: body) { tx in
            (201, Components.Schemas.SLAPolicy(try await store.create(policy, by: principal, on: tx)))
        }
        database.slaCatalog.invalidate()
        return .created(.init(body: .json(created)))
    }

    func disableSLAPolicy(_ input: Operations.DisableSLAPolicy.Input) async throws -> Operations.DisableSLAPolicy.Output {
        .ok(.init(body: .json(try await setPolicy(Int(input.path.id), active: false))))
    }

    func enableSLAPolicy(_ input: Operations.EnableSLAPolicy.Input) async throws -> Operations.EnableSLAPolicy.Output {
        .ok(.init(body: .json(try await setPolicy(Int(input.path.id), active: true))))
    }

    private func setPolicy(_ id: Int, active: Bool) async throws -> Components.Schemas.SLAPolicy {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        let store = SLAPolicyStore(pool: database.pool)
        let policy = try await database.pool.transaction { tx in try await store.setActive(id: id, active, by: principal, on: tx) }
        database.slaCatalog.invalidate()
        return .init(policy)
    }

    // MARK: - Breaches

    func listSLABreaches(_ input: Operations.ListSLABreaches.Input) async throws -> Operations.ListSLABreaches.Output {
        let principal = try RequestPrincipal.require()
        let page = try PageRequest(limit: input.query.limit, after: input.query.after)
        var teams = try await visibleTeams(for: principal)
        if let team = input.query.team {
            teams = (teams == nil || teams!.contains(team)) ? [team] : []
        }
        let result = try await slaClocks.breaches(teams: teams, region: input.query.region, since: input.query.since, page: page)
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let now = Date()
        let breaches = result.items.map { breach in
            Components.Schemas.SLABreach(
                clock: .init(breach.clock, catalog: catalog, now: now),
                taskId: Int64(breach.clock.taskID),
                title: breach.title,
                taskState: Components.Schemas.TaskState(rawValue: breach.state.rawValue) ?? .queued,
                priority: Components.Schemas.Priority(rawValue: breach.priority.rawValue) ?? .normal
            )
        }
        return .ok(.init(body: .json(.init(breaches: breaches, nextCursor: result.nextCursor))))
    }

    // MARK: - Holds

    func holdTask(_ input: Operations.HoldTask.Input) async throws -> Operations.HoldTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let id = Int(input.path.id)
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let clocks = slaClocks
        let task = try await database.pool.transaction { tx in
            try await clocks.hold(taskID: id, reason: body.reason, until: body.until, by: principal, catalog: catalog, on: tx) { task in
                guard principal.canSee(team: task.team, region: task.region) else { throw BatonError.notFound("no task \(id)") }
                RequestFacts.note(team: task.team)
            }
        }
        return .ok(.init(body: .json(try .init(task))))
    }

    func resumeTask(_ input: Operations.ResumeTask.Input) async throws -> Operations.ResumeTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        let id = Int(input.path.id)
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let clocks = slaClocks
        let task = try await database.pool.transaction { tx in
            try await clocks.resume(taskID: id, by: principal, catalog: catalog, on: tx) { task in
                guard principal.canSee(team: task.team, region: task.region) else { throw BatonError.notFound("no task \(id)") }
                RequestFacts.note(team: task.team)
            }
        }
        return .ok(.init(body: .json(try .init(task))))
    }
}

extension Components.Schemas.Calendar {
    init(_ calendar: RegionCalendar) {
        func day(_ weekday: Weekday) -> [Components.Schemas.WorkingInterval]? {
            calendar.hours[weekday].map { $0.map { .init(start: $0.start.description, end: $0.end.description) } }
        }
        self.init(
            region: calendar.region,
            timeZone: calendar.timeZone,
            hours: .init(
                monday: day(.monday),
                tuesday: day(.tuesday),
                wednesday: day(.wednesday),
                thursday: day(.thursday),
                friday: day(.friday),
                saturday: day(.saturday),
                sunday: day(.sunday)
            ),
            holidays: calendar.holidays.map { .init(date: $0.date.description, name: $0.name) },
            isDefault: calendar.isDefault,
            updatedAt: calendar.updatedAt
        )
    }
}

extension EscalationLevel {
    init(_ level: Components.Schemas.EscalationLevel) {
        self.init(
            basis: level.basis.flatMap { Basis(rawValue: $0.rawValue) } ?? .breach,
            target: level.target.flatMap { SLATarget(rawValue: $0.rawValue) },
            afterMinutes: level.afterMinutes,
            action: EscalationAction(rawValue: level.action.rawValue) ?? .notify,
            team: level.team,
            priority: level.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            message: level.message,
            skipIfUpdated: level.skipIfUpdated ?? false
        )
    }
}

extension Components.Schemas.EscalationLevel {
    init(_ level: EscalationLevel) {
        self.init(
            basis: .init(rawValue: level.basis.rawValue),
            target: level.target.flatMap { .init(rawValue: $0.rawValue) },
            afterMinutes: level.afterMinutes,
            action: .init(rawValue: level.action.rawValue) ?? .notify,
            team: level.team,
            priority: level.priority.flatMap { .init(rawValue: $0.rawValue) },
            message: level.message,
            skipIfUpdated: level.skipIfUpdated
        )
    }
}

extension Components.Schemas.SLAPolicy {
    init(_ policy: SLAPolicy) {
        self.init(
            id: Int64(policy.id),
            name: policy.name,
            kind: .init(rawValue: policy.kind.rawValue) ?? .sla,
            team: policy.team,
            department: policy.department.flatMap { .init(rawValue: $0.rawValue) },
            taskKind: policy.taskKind,
            priority: policy.priority.flatMap { .init(rawValue: $0.rawValue) },
            tags: policy.tags,
            fromDepartment: policy.fromDepartment.flatMap { .init(rawValue: $0.rawValue) },
            claimWithinMinutes: policy.claimWithinMinutes,
            doneWithinMinutes: policy.doneWithinMinutes,
            calendarRegion: policy.calendarRegion,
            escalations: policy.escalations.map(Components.Schemas.EscalationLevel.init),
            active: policy.active,
            createdAt: policy.createdAt,
            updatedAt: policy.updatedAt
        )
    }
}

extension Components.Schemas.SLAClock {
    init(_ clock: SLAClock, catalog: SLACatalog.Snapshot, now: Date) {
        let elapsed = clock.elapsedSeconds(at: now, in: catalog.calendar(region: clock.calendarRegion))
        self.init(
            policyId: Int64(clock.policyID),
            policy: clock.policyName,
            kind: .init(rawValue: clock.kind.rawValue) ?? .sla,
            target: .init(rawValue: clock.target.rawValue) ?? .doneWithin,
            team: clock.team,
            calendarRegion: clock.calendarRegion,
            targetMinutes: Double(clock.targetSeconds) / 60,
            startedAt: clock.startedAt,
            dueAt: clock.dueAt,
            atRiskAt: clock.atRiskAt,
            elapsedMinutes: (Double(elapsed) / 6).rounded() / 10,
            remainingMinutes: (Double(clock.targetSeconds - elapsed) / 6).rounded() / 10,
            paused: clock.pausedAt != nil && clock.stoppedAt == nil,
            state: .init(rawValue: clock.state(at: now).rawValue) ?? .running,
            breachedAt: clock.breachedAt,
            stoppedAt: clock.stoppedAt
        )
    }
}
