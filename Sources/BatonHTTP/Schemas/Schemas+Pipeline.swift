import BatonCore

extension Components.Schemas.Opportunity {
    init(_ opportunity: Opportunity) {
        self.init(
            id: Int64(opportunity.id),
            customerId: Int64(opportunity.customerID),
            region: opportunity.region,
            title: opportunity.title,
            amountMinor: Int64(opportunity.amountMinor),
            currency: opportunity.currency,
            expectedClose: opportunity.expectedClose,
            ownerId: opportunity.ownerID.map(Int64.init),
            probability: opportunity.probability,
            effectiveProbability: opportunity.effectiveProbability,
            stage: opportunity.stage,
            outcome: .init(rawValue: opportunity.outcome.rawValue) ?? .open,
            lostReason: opportunity.lostReason,
            campaignId: opportunity.campaignID.map(Int64.init),
            stageEnteredAt: opportunity.stageEnteredAt,
            daysInStage: opportunity.daysInStage,
            closedAt: opportunity.closedAt,
            daysToClose: opportunity.daysToClose,
            version: opportunity.version,
            createdBy: opportunity.createdBy,
            createdAt: opportunity.createdAt,
            updatedAt: opportunity.updatedAt
        )
    }
}

extension Components.Schemas.OpportunityTransition {
    init(_ transition: OpportunityTransition) {
        self.init(
            id: Int64(transition.id),
            opportunityId: Int64(transition.opportunityID),
            action: .init(rawValue: transition.action) ?? .stage,
            fromStage: transition.fromStage,
            toStage: transition.toStage,
            fromOutcome: transition.fromOutcome.flatMap { .init(rawValue: $0.rawValue) },
            toOutcome: .init(rawValue: transition.toOutcome.rawValue) ?? .open,
            reason: transition.reason,
            note: transition.note,
            actorId: transition.actorID,
            at: transition.at,
            secondsUntilNext: transition.secondsUntilNext.map(Int64.init)
        )
    }
}

extension Components.Schemas.PipelineSettings {
    init(_ settings: PipelineSettings) {
        self.init(
            region: settings.region,
            stages: settings.stages.map { .init(stage: $0.stage, name: $0.name, probability: $0.probability) },
            lostReasons: settings.lostReasons.map { .init(reason: $0.reason, name: $0.name) }
        )
    }
}

extension Components.Schemas.PipelineSummary {
    init(_ summary: PipelineSummary) {
        self.init(
            region: summary.region,
            stages: summary.stages.map { line in
                .init(
                    stage: line.stage,
                    name: line.name,
                    probability: line.probability,
                    count: line.count,
                    amounts: line.amounts.map {
                        .init(currency: $0.currency, amountMinor: Int64($0.amountMinor), weightedMinor: Int64($0.weightedMinor))
                    },
                    averageDaysInStage: line.averageDaysInStage
                )
            },
            winRate: .init(
                windowDays: summary.winRate.windowDays,
                won: summary.winRate.won,
                lost: summary.winRate.lost,
                rate: summary.winRate.rate,
                averageDaysToWin: summary.winRate.averageDaysToWin
            )
        )
    }
}

extension Components.Schemas.Campaign {
    init(_ campaign: Campaign) {
        self.init(
            id: Int64(campaign.id),
            region: campaign.region,
            name: campaign.name,
            channel: .init(rawValue: campaign.channel.rawValue) ?? .other,
            budgetMinor: Int64(campaign.budgetMinor),
            currency: campaign.currency,
            startsOn: campaign.startsOn,
            endsOn: campaign.endsOn,
            ownerId: campaign.ownerID.map(Int64.init),
            version: campaign.version,
            createdBy: campaign.createdBy,
            createdAt: campaign.createdAt,
            updatedAt: campaign.updatedAt
        )
    }
}

extension Components.Schemas.CampaignResults {
    init(_ results: CampaignResults) {
        self.init(
            campaign: .init(results.campaign),
            leads: results.leads,
            opportunities: results.opportunities,
            qualified: results.qualified,
            won: results.won,
            revenue: results.revenue.map { .init(currency: $0.currency, amountMinor: Int64($0.amountMinor)) },
            costPerLeadMinor: results.costPerLeadMinor.map(Int64.init),
            costPerWonMinor: results.costPerWonMinor.map(Int64.init)
        )
    }
}
