import BatonCore
import Foundation
import PostgresClient

extension APIHandler {
    // MARK: - Calendars

    func getCalendar(_ input: Operations.GetCalendar.Input) async throws -> Operations.GetCalendar.Output {
        let calendar = try await services.sla.calendar(region: input.path.code, by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(calendar))))
    }

    func setCalendar(_ input: Operations.SetCalendar.Input) async throws -> Operations.SetCalendar.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let hours = try Self.weeklyHours(body.hours)
        let holidays = try body.holidays.map { try $0.enumerated().map { try Self.holiday($0.element, field: "holidays[\($0.offset)]") } }
        let calendar = try await services.sla.setCalendar(
            region: input.path.code,
            timeZone: body.timeZone,
            hours: hours,
            holidays: holidays,
            by: principal
        )
        return .ok(.init(body: .json(.init(calendar))))
    }

    func addHoliday(_ input: Operations.AddHoliday.Input) async throws -> Operations.AddHoliday.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let added = try await services.sla.addHoliday(
            region: input.path.code,
            try Self.holiday(body, field: ""),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(date: added.date.description, name: added.name))))
    }

    func removeHoliday(_ input: Operations.RemoveHoliday.Input) async throws -> Operations.RemoveHoliday.Output {
        let principal = try RequestPrincipal.require()
        guard let date = LocalDate(parsing: input.path.date) else {
            throw BatonError.invalidArgument("date must be a calendar date such as 2026-12-25", field: "date")
        }
        try await services.sla.removeHoliday(region: input.path.code, date: date, by: principal)
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
        let policies = try await services.sla.policies(by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(policies: policies.map(Components.Schemas.SLAPolicy.init)))))
    }

    func createSLAPolicy(_ input: Operations.CreateSLAPolicy.Input) async throws -> Operations.CreateSLAPolicy.Output {
        let principal = try RequestPrincipal.require()
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
        let created = try await services.sla.createPolicy(
            policy,
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(created))))
    }

    func disableSLAPolicy(_ input: Operations.DisableSLAPolicy.Input) async throws -> Operations.DisableSLAPolicy.Output {
        .ok(.init(body: .json(.init(try await services.sla.setPolicy(id: Int(input.path.id), active: false, by: try RequestPrincipal.require())))))
    }

    func enableSLAPolicy(_ input: Operations.EnableSLAPolicy.Input) async throws -> Operations.EnableSLAPolicy.Output {
        .ok(.init(body: .json(.init(try await services.sla.setPolicy(id: Int(input.path.id), active: true, by: try RequestPrincipal.require())))))
    }

    // MARK: - Breaches

    func listSLABreaches(_ input: Operations.ListSLABreaches.Input) async throws -> Operations.ListSLABreaches.Output {
        let (result, catalog) = try await services.sla.breaches(
            team: input.query.team,
            region: input.query.region,
            since: input.query.since,
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
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
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let task = try await services.sla.hold(taskID: Int(input.path.id), reason: body.reason, until: body.until, by: principal)
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func resumeTask(_ input: Operations.ResumeTask.Input) async throws -> Operations.ResumeTask.Output {
        let task = try await services.sla.resume(taskID: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(try .init(noted(task)))))
    }
}
