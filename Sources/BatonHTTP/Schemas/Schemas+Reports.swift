import BatonCore

extension Components.Schemas.Target {
    init(_ target: Target) {
        self.init(
            id: Int64(target.id),
            ownerKind: .init(rawValue: target.ownerKind.rawValue) ?? .company,
            memberId: target.memberID.map(Int64.init),
            team: target.team,
            region: target.region,
            metric: .init(rawValue: target.metric.rawValue) ?? .revenue,
            grain: .init(rawValue: target.period.grain.rawValue) ?? .month,
            period: target.period.description,
            periodStart: target.period.start.description,
            periodEnd: target.period.last.description,
            value: target.value,
            currency: target.currency,
            productCategory: target.productCategory,
            notes: target.notes,
            varianceNote: target.varianceNote,
            nextAction: target.nextAction,
            nextActionOwnerId: target.nextActionOwnerID.map(Int64.init),
            nextActionDue: target.nextActionDue,
            version: target.version,
            createdBy: target.createdBy,
            createdAt: target.createdAt,
            updatedAt: target.updatedAt
        )
    }
}

extension Components.Schemas.PlanReport {
    init(_ report: PlanReport) {
        self.init(
            from: report.from.description,
            to: report.to.description,
            grain: report.grain.flatMap { .init(rawValue: $0.rawValue) },
            rows: report.rows.map { row in
                .init(
                    target: .init(row.target),
                    actual: row.actual,
                    variance: row.variance,
                    variancePercent: row.variancePercent,
                    attainmentPercent: row.attainmentPercent,
                    elapsed: row.elapsed,
                    status: row.status.flatMap { .init(rawValue: $0.rawValue) }
                )
            }
        )
    }
}

extension Components.Schemas.Leaderboard {
    init(_ board: Leaderboard) {
        self.init(
            period: board.period.description,
            metric: .init(rawValue: board.metric.rawValue) ?? .revenue,
            entries: board.entries.map {
                .init(
                    rank: $0.rank,
                    memberId: Int64($0.memberID),
                    memberName: $0.memberName,
                    targetId: Int64($0.targetID),
                    target: $0.target,
                    actual: $0.actual,
                    attainmentPercent: $0.attainmentPercent
                )
            }
        )
    }
}

extension Components.Schemas.KPIReport {
    init(_ report: KPIReport) {
        self.init(
            period: report.period.description,
            previous: report.previous.description,
            yearAgo: report.yearAgo.description,
            region: report.region,
            currency: report.currency,
            figures: report.figures.map {
                .init(
                    name: $0.name,
                    value: $0.value,
                    previous: $0.previous,
                    yearAgo: $0.yearAgo,
                    growthPercent: $0.growthPercent,
                    growthNote: $0.growthNote,
                    yoyPercent: $0.yoyPercent,
                    yoyNote: $0.yoyNote
                )
            }
        )
    }
}

extension Components.Schemas.MarketSize {
    init(_ market: MarketSize) {
        self.init(
            region: market.region,
            period: market.period.description,
            sizeMinor: market.sizeMinor.map(Int64.init),
            currency: market.currency,
            sharePercent: market.sharePercent,
            source: market.source
        )
    }
}

extension Components.Schemas.ReportSettings {
    init(_ settings: ReportSettings) {
        self.init(
            region: settings.region,
            countOrdersAt: .init(rawValue: settings.countOrdersAt.rawValue) ?? .confirmed,
            currency: settings.currency,
            updatedAt: settings.updatedAt
        )
    }
}
