import BatonCore
import Foundation

extension APIHandler {
    // MARK: - Opportunities

    func listOpportunities(_ input: Operations.ListOpportunities.Input) async throws -> Operations.ListOpportunities.Output {
        let query = input.query
        let page = try await services.opportunities.list(
            .init(
                region: query.region,
                customerID: query.customerId.map(Int.init),
                ownerID: query.ownerId.map(Int.init),
                stage: query.stage,
                outcome: query.outcome.flatMap { OpportunityOutcome(rawValue: $0.rawValue) },
                campaignID: query.campaignId.map(Int.init)
            ),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(
            .init(body: .json(.init(opportunities: page.items.map(Components.Schemas.Opportunity.init), nextCursor: page.nextCursor)))
        )
    }

    func createOpportunity(_ input: Operations.CreateOpportunity.Input) async throws -> Operations.CreateOpportunity.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let opportunity = try await services.opportunities.create(
            NewOpportunity(
                customerID: Int(body.customerId),
                title: body.title,
                amountMinor: Int(body.amountMinor),
                currency: body.currency,
                expectedClose: try Self.date(body.expectedClose, field: "expected_close"),
                ownerID: body.ownerId.map(Int.init),
                probability: body.probability,
                stage: body.stage,
                campaignID: body.campaignId.map(Int.init)
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(Self.opportunityResponse(opportunity))
    }

    func getOpportunity(_ input: Operations.GetOpportunity.Input) async throws -> Operations.GetOpportunity.Output {
        .ok(Self.opportunityResponse(try await services.opportunities.opportunity(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateOpportunity(_ input: Operations.UpdateOpportunity.Input) async throws -> Operations.UpdateOpportunity.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let opportunity = try await services.opportunities.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            OpportunityChanges(
                title: body.title,
                amountMinor: body.amountMinor.map(Int.init),
                currency: body.currency,
                expectedClose: body.expectedClose == "" ? nil : try Self.date(body.expectedClose, field: "expected_close"),
                clearExpectedClose: body.expectedClose == "",
                ownerID: body.ownerId.map(Int.init),
                probability: body.probability
            ),
            by: principal
        )
        return .ok(Self.opportunityResponse(opportunity))
    }

    func deleteOpportunity(_ input: Operations.DeleteOpportunity.Input) async throws -> Operations.DeleteOpportunity.Output {
        .ok(Self.opportunityResponse(try await services.opportunities.delete(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func moveOpportunityStage(_ input: Operations.MoveOpportunityStage.Input) async throws -> Operations.MoveOpportunityStage.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let moved = try await services.opportunities.move(id: Int(input.path.id), to: body.stage, note: body.note, by: principal)
        return .ok(Self.opportunityResponse(moved))
    }

    func winOpportunity(_ input: Operations.WinOpportunity.Input) async throws -> Operations.WinOpportunity.Output {
        let principal = try RequestPrincipal.require()
        var note: String?
        if case .json(let body) = input.body { note = body.note }
        return .ok(Self.opportunityResponse(try await services.opportunities.win(id: Int(input.path.id), note: note, by: principal)))
    }

    func loseOpportunity(_ input: Operations.LoseOpportunity.Input) async throws -> Operations.LoseOpportunity.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let lost = try await services.opportunities.lose(id: Int(input.path.id), reason: body.reason, note: body.note, by: principal)
        return .ok(Self.opportunityResponse(lost))
    }

    func reopenOpportunity(_ input: Operations.ReopenOpportunity.Input) async throws -> Operations.ReopenOpportunity.Output {
        let principal = try RequestPrincipal.require()
        var stage: String?
        var note: String?
        if case .json(let body) = input.body { (stage, note) = (body.stage, body.note) }
        let reopened = try await services.opportunities.reopen(id: Int(input.path.id), stage: stage, note: note, by: principal)
        return .ok(Self.opportunityResponse(reopened))
    }

    func listOpportunityTransitions(
        _ input: Operations.ListOpportunityTransitions.Input
    ) async throws -> Operations.ListOpportunityTransitions.Output {
        let transitions = try await services.opportunities.transitions(ofOpportunity: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(transitions: transitions.map(Components.Schemas.OpportunityTransition.init)))))
    }

    // MARK: - Pipeline

    func getPipeline(_ input: Operations.GetPipeline.Input) async throws -> Operations.GetPipeline.Output {
        let summaries = try await services.opportunities.summary(
            region: input.query.region,
            ownerID: input.query.ownerId.map(Int.init),
            windowDays: input.query.windowDays ?? 90,
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(regions: summaries.map(Components.Schemas.PipelineSummary.init)))))
    }

    func getPipelineSettings(_ input: Operations.GetPipelineSettings.Input) async throws -> Operations.GetPipelineSettings.Output {
        let settings = try await services.opportunities.settings(region: input.path.code, by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(settings))))
    }

    func setPipelineSettings(_ input: Operations.SetPipelineSettings.Input) async throws -> Operations.SetPipelineSettings.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let settings = try await services.opportunities.setSettings(
            PipelineSettings(
                region: input.path.code,
                stages: body.stages.map { .init(stage: $0.stage, name: $0.name, probability: $0.probability) },
                lostReasons: body.lostReasons.map { .init(reason: $0.reason, name: $0.name) }
            ),
            by: principal
        )
        return .ok(.init(body: .json(.init(settings))))
    }

    // MARK: - Campaigns

    func listCampaigns(_ input: Operations.ListCampaigns.Input) async throws -> Operations.ListCampaigns.Output {
        let page = try await services.campaigns.list(
            region: input.query.region,
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(campaigns: page.items.map(Components.Schemas.Campaign.init), nextCursor: page.nextCursor))))
    }

    func createCampaign(_ input: Operations.CreateCampaign.Input) async throws -> Operations.CreateCampaign.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let campaign = try await services.campaigns.create(
            NewCampaign(
                region: body.region,
                name: body.name,
                channel: CampaignChannel(rawValue: body.channel.rawValue) ?? .other,
                budgetMinor: Int(body.budgetMinor ?? 0),
                currency: body.currency,
                startsOn: try Self.date(body.startsOn, field: "starts_on"),
                endsOn: try Self.date(body.endsOn, field: "ends_on"),
                ownerID: body.ownerId.map(Int.init)
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(Self.campaignResponse(campaign))
    }

    func getCampaign(_ input: Operations.GetCampaign.Input) async throws -> Operations.GetCampaign.Output {
        .ok(Self.campaignResponse(try await services.campaigns.campaign(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateCampaign(_ input: Operations.UpdateCampaign.Input) async throws -> Operations.UpdateCampaign.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let campaign = try await services.campaigns.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            CampaignChanges(
                name: body.name,
                channel: body.channel.flatMap { CampaignChannel(rawValue: $0.rawValue) },
                budgetMinor: body.budgetMinor.map(Int.init),
                startsOn: try Self.date(body.startsOn, field: "starts_on"),
                endsOn: try Self.date(body.endsOn, field: "ends_on"),
                ownerID: body.ownerId.map(Int.init)
            ),
            by: principal
        )
        return .ok(Self.campaignResponse(campaign))
    }

    func getCampaignResults(_ input: Operations.GetCampaignResults.Input) async throws -> Operations.GetCampaignResults.Output {
        let results = try await services.campaigns.results(ofCampaign: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(results))))
    }

    // MARK: - Helpers

    static func opportunityResponse(_ opportunity: Opportunity) -> Components.Responses.Opportunity {
        .init(headers: .init(eTag: etag(opportunity.version)), body: .json(.init(opportunity)))
    }

    static func campaignResponse(_ campaign: Campaign) -> Components.Responses.Campaign {
        .init(headers: .init(eTag: etag(campaign.version)), body: .json(.init(campaign)))
    }

    /// A `YYYY-MM-DD` date of a body, when given. A date that does not exist (2026-02-30) is
    /// a 422: its shape is what the document asks for.
    static func date(_ text: String?, field: String) throws -> LocalDate? {
        guard let text else { return nil }
        guard let day = LocalDate(parsing: text) else {
            throw BatonError(.ruleViolation, "\(field) must be a date that exists, such as 2026-12-07", details: ["field": field])
        }
        return day
    }
}
