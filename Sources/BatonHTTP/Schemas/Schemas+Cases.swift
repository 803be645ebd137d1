import BatonCore

extension Components.Schemas.Case {
    init(_ record: Case) {
        self.init(
            id: Int64(record.id),
            customerId: Int64(record.customerID),
            contactId: record.contactID.map(Int64.init),
            region: record.region,
            kind: .init(rawValue: record.kind.rawValue) ?? .inquiry,
            channel: record.channel.flatMap { .init(rawValue: $0.rawValue) },
            subject: record.subject,
            description: record.description,
            priority: .init(rawValue: record.priority.rawValue) ?? .normal,
            state: .init(rawValue: record.state.rawValue) ?? .new,
            team: record.team,
            resolution: record.resolution,
            taskId: record.taskID.map(Int64.init),
            resolvedAt: record.resolvedAt,
            closedAt: record.closedAt,
            reopenCount: record.reopenCount,
            version: record.version,
            createdBy: record.createdBy,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.CaseTransition {
    init(_ transition: CaseTransition) {
        self.init(
            id: Int64(transition.id),
            caseId: Int64(transition.caseID),
            from: transition.from.flatMap { .init(rawValue: $0.rawValue) },
            to: .init(rawValue: transition.to.rawValue) ?? .new,
            actor: transition.actor,
            note: transition.note,
            at: transition.at
        )
    }
}

extension Components.Schemas.CaseSettings {
    init(_ settings: CaseSettings) {
        self.init(region: settings.region, reopenWindowDays: Int32(settings.reopenWindowDays))
    }
}

extension Components.Schemas.Feedback {
    init(_ feedback: Feedback) {
        self.init(
            id: Int64(feedback.id),
            customerId: Int64(feedback.customerID),
            caseId: feedback.caseID.map(Int64.init),
            orderId: feedback.orderID.map(Int64.init),
            region: feedback.region,
            team: feedback.team,
            score: Int32(feedback.score),
            comment: feedback.comment,
            createdBy: feedback.createdBy,
            createdAt: feedback.createdAt
        )
    }
}

extension Components.Schemas.CSATPeriod {
    init(_ period: CSATPeriod) {
        self.init(start: period.start, end: period.end, responses: period.responses, satisfied: period.satisfied, csat: period.csat)
    }
}

extension Components.Schemas.CSATReport {
    init(_ report: CSATReport) {
        self.init(
            grain: .init(rawValue: report.grain.rawValue) ?? .month,
            from: report.from.description,
            to: report.to.description,
            periods: report.periods.map(Components.Schemas.CSATPeriod.init)
        )
    }
}

extension NewCase {
    init(_ body: Components.Schemas.NewCase) {
        self.init(
            customerID: Int(body.customerId),
            contactID: body.contactId.map(Int.init),
            kind: CaseKind(rawValue: body.kind.rawValue) ?? .inquiry,
            channel: body.channel.flatMap { CaseChannel(rawValue: $0.rawValue) },
            subject: body.subject,
            description: body.description,
            priority: body.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            team: body.team
        )
    }
}
