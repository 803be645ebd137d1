import Foundation
import PostgresClient

/// Marketing's side of the handoff: campaigns, the leads and deals they source, and their results.
public struct CampaignService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
    }

    var store: CampaignStore { CampaignStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    public func list(region: String?, page: PageRequest, by principal: Principal) async throws -> Page<Campaign> {
        try principal.authorize(.listCampaigns)
        return try await store.list(region: region, scope: principal.scope, page: page)
    }

    public func create(_ campaign: NewCampaign, idempotencyKey: String? = nil, by principal: Principal) async throws -> Campaign {
        try principal.authorize(.createCampaign)
        guard principal.scope.reaches(region: campaign.region) else {
            throw BatonError(.ruleViolation, "no region '\(campaign.region)' you may add campaigns to", details: ["field": "region"])
        }
        try campaign.validate()
        let store = self.store
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createCampaign", request: campaign) { tx in
            try await store.create(campaign, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return created
    }

    public func campaign(id: Int, by principal: Principal) async throws -> Campaign {
        try await reachable(id, for: .getCampaign, by: principal)
    }

    /// Edits a campaign if it is still at `version`; a stale version is 412.
    public func update(id: Int, version: Int, _ changes: CampaignChanges, by principal: Principal) async throws -> Campaign {
        _ = try await reachable(id, for: .updateCampaign, by: principal)
        try changes.validate()
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Campaign in
            guard let updated = try await store.update(id: id, version: version, changes, by: principal, on: tx) else {
                guard let current = try await store.version(id: id, on: tx) else { throw BatonError.notFound("no campaign \(id)") }
                throw BatonError.stale(version: current)
            }
            return updated
        }
        wakeups.eventsWritten()
        return updated
    }

    public func results(ofCampaign id: Int, by principal: Principal) async throws -> CampaignResults {
        let campaign = try await reachable(id, for: .getCampaignResults, by: principal)
        return try await store.results(of: campaign)
    }

    func reachable(_ id: Int, for useCase: UseCase, by principal: Principal) async throws -> Campaign {
        try principal.authorize(useCase)
        guard let campaign = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no campaign \(id)") }
        return campaign
    }
}
