import BatonCore
import Foundation

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
