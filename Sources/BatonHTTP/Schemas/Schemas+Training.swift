import BatonCore
import Foundation

extension Components.Schemas.TrainingProgramme {
    init(_ programme: TrainingProgramme) {
        let cadence: CadencePayload =
            switch (programme.cadence.unit, programme.cadence.every) {
            case (.month, 1): .monthly
            case (.month, 2): .everyTwoMonths
            case (.month, 3): .quarterly
            default: .custom
            }
        self.init(
            id: Int64(programme.id),
            region: programme.region,
            title: programme.title,
            goal: programme.goal,
            audience: .init(
                departments: programme.audience.departments.compactMap { .init(rawValue: $0.rawValue) },
                teams: programme.audience.teams,
                memberIds: programme.audience.memberIDs.map(Int64.init)
            ),
            competencies: programme.competencies,
            cadence: cadence,
            every: programme.cadence.every,
            unit: programme.cadence.unit == .week ? .week : .month,
            durationMinutes: programme.durationMinutes,
            firstSession: programme.firstSessionAt,
            timeZone: programme.timeZone,
            horizonMonths: programme.horizonMonths,
            ownerId: programme.ownerID.map(Int64.init),
            version: programme.version,
            createdBy: programme.createdBy,
            createdAt: programme.createdAt,
            updatedAt: programme.updatedAt,
            sessions: programme.sessions.map(Components.Schemas.TrainingSession.init)
        )
    }
}

extension Components.Schemas.TrainingSession {
    init(_ session: TrainingSession) {
        self.init(
            id: Int64(session.id),
            programmeId: Int64(session.programmeID),
            sequence: session.sequence,
            scheduledAt: session.scheduledAt,
            start: session.startsAt,
            end: session.endsAt,
            cancelled: session.cancelledAt != nil,
            cancelledAt: session.cancelledAt,
            version: session.version,
            invited: session.counts[.invited] ?? 0,
            attended: session.counts[.attended] ?? 0,
            excused: session.counts[.excused] ?? 0,
            absent: session.counts[.absent] ?? 0
        )
    }
}

extension Components.Schemas.TrainingComplianceEntry {
    init(_ entry: TrainingComplianceEntry) {
        self.init(
            memberId: Int64(entry.memberID),
            name: entry.name,
            due: entry.due,
            attended: entry.attended,
            excused: entry.excused,
            completionRate: entry.completionRate,
            missed: entry.missed.map {
                .init(programmeId: Int64($0.programmeID), title: $0.title, missedSessions: $0.missedSessions, lastMissedAt: $0.lastMissedAt)
            }
        )
    }
}

extension Components.Schemas.DevelopmentView {
    init(_ view: DevelopmentView) {
        self.init(
            memberId: Int64(view.memberID),
            role: view.role,
            competencies: view.entries.map {
                .init(
                    competency: $0.competency,
                    name: $0.name,
                    level: $0.level,
                    target: $0.target,
                    gap: $0.gap,
                    attendedSessions: $0.attendedSessions
                )
            }
        )
    }
}
