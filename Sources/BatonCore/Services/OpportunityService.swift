import Foundation
import PostgresClient

/// The pipeline's use cases: opportunities moved through their region's stages, won, lost for
/// a listed reason and reopened, every move recorded; each region's stages and reasons; the
/// pipeline summary with its win rate.
public struct OpportunityService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let customers: CustomerService
    let rules: HandoffRules

    public init(database: BatonDatabase, wakeups: Wakeups, customers: CustomerService, rules: HandoffRules) {
        self.database = database
        self.wakeups = wakeups
        self.customers = customers
        self.rules = rules
    }

    var store: OpportunityStore { OpportunityStore(pool: database.pool) }
    var pipeline: PipelineStore { PipelineStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    // MARK: - Opportunities

    public func list(_ filter: OpportunityStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Opportunity> {
        try principal.authorize(.listOpportunities)
        for (value, field) in [(filter.customerID, "customer_id"), (filter.ownerID, "owner_id"), (filter.campaignID, "campaign_id")] {
            if let value, value < 1 { throw BatonError.invalidArgument("\(field) is not an id", field: field) }
        }
        if let stage = filter.stage, !PipelineSettings.isCode(stage) {
            throw BatonError.invalidArgument("stage must be lower-case letters, digits and _", field: "stage")
        }
        return try await store.list(filter, scope: principal.scope, page: page)
    }

    /// Opens an opportunity for a customer the caller may edit, in the customer's region.
    public func create(_ opportunity: NewOpportunity, idempotencyKey: String? = nil, by principal: Principal) async throws -> Opportunity {
        try principal.authorize(.createOpportunity)
        try opportunity.validate()
        if let stage = opportunity.stage, !PipelineSettings.isCode(stage) {
            throw BatonError.invalidArgument("stage must be lower-case letters, digits and _", field: "stage")
        }
        guard let customer = try await customers.store.find(id: opportunity.customerID, scope: principal.scope) else {
            throw BatonError(.ruleViolation, "no customer \(opportunity.customerID) you may add opportunities to", details: ["field": "customer_id"])
        }
        let store = self.store
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createOpportunity", request: opportunity) { tx in
            try await store.create(opportunity, for: customer, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return created
    }

    public func opportunity(id: Int, by principal: Principal) async throws -> Opportunity {
        try await reachable(id, for: .getOpportunity, by: principal)
    }

    /// Edits an opportunity if it is still at `version` (its ETag); a stale version is 412.
    public func update(id: Int, version: Int, _ changes: OpportunityChanges, by principal: Principal) async throws -> Opportunity {
        let current = try await reachable(id, for: .updateOpportunity, by: principal)
        try changes.validate()
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Opportunity in
            do {
                guard let updated = try await store.update(id: id, version: version, changes, by: principal, on: tx) else {
                    let now = try await store.find(id: id, scope: principal.scope, on: tx)
                    throw BatonError.stale(version: now?.version ?? current.version)
                }
                return updated
            } catch let error as PostgresError where error.sqlState == "23503" {
                throw BatonError(.ruleViolation, "no member \(changes.ownerID ?? 0) to own the opportunity", details: ["field": "owner_id"])
            }
        }
        wakeups.eventsWritten()
        return updated
    }

    public func delete(id: Int, by principal: Principal) async throws -> Opportunity {
        _ = try await reachable(id, for: .deleteOpportunity, by: principal)
        let store = self.store
        let deleted = try await database.pool.transaction { tx in try await store.delete(id: id, by: principal, on: tx) }
        guard let deleted else { throw BatonError.notFound("no opportunity \(id)") }
        wakeups.eventsWritten()
        return deleted
    }

    public func transitions(ofOpportunity id: Int, by principal: Principal) async throws -> [OpportunityTransition] {
        let opportunity = try await reachable(id, for: .listOpportunityTransitions, by: principal)
        return try await store.transitions(of: opportunity)
    }

    // MARK: - Moves

    /// Moves an open opportunity to another active stage of its region.
    public func move(id: Int, to stage: String, note: String?, by principal: Principal) async throws -> Opportunity {
        guard PipelineSettings.isCode(stage) else {
            throw BatonError.invalidArgument("stage must be lower-case letters, digits and _", field: "stage")
        }
        return try await change(id, for: .moveOpportunityStage, note: note, by: principal) { current, store, tx in
            try Self.requireOpen(current, to: "change its stage")
            guard current.stage != stage else {
                throw BatonError(.conflict, "opportunity \(id) is already in stage '\(stage)'", details: ["stage": stage])
            }
            guard try await store.isActiveStage(stage, region: current.region, on: tx) else {
                throw BatonError(.ruleViolation, "region \(current.region) has no stage '\(stage)'", details: ["field": "stage"])
            }
            return .init(action: "stage", event: "opportunity.stage_changed", stage: stage, outcome: .open, lostReason: nil, note: note)
        }
    }

    /// Wins an open opportunity; it keeps the stage it was won from.
    public func win(id: Int, note: String?, by principal: Principal) async throws -> Opportunity {
        try await change(id, for: .winOpportunity, note: note, by: principal) { current, _, _ in
            try Self.requireOpen(current, to: "win it")
            return .init(action: "won", event: "opportunity.won", stage: current.stage, outcome: .won, lostReason: nil, note: note)
        }
    }

    /// Loses an open opportunity for one of its region's lost reasons.
    public func lose(id: Int, reason: String, note: String?, by principal: Principal) async throws -> Opportunity {
        guard PipelineSettings.isCode(reason) else {
            throw BatonError.invalidArgument("reason must be one of the region's lost reasons", field: "reason")
        }
        return try await change(id, for: .loseOpportunity, note: note, by: principal) { current, store, tx in
            try Self.requireOpen(current, to: "lose it")
            guard try await store.isActiveLostReason(reason, region: current.region, on: tx) else {
                let reasons = try await PipelineStore(pool: database.pool).settings(region: current.region, on: tx).lostReasons.map(\.reason)
                throw BatonError(
                    .ruleViolation,
                    "'\(reason)' is not a lost reason of region \(current.region): one of \(reasons.joined(separator: ", "))",
                    details: ["field": "reason"]
                )
            }
            return .init(action: "lost", event: "opportunity.lost", stage: current.stage, outcome: .lost, lostReason: reason, note: note)
        }
    }

    /// Reopens a won or lost opportunity, in the stage it closed in or in `stage`.
    public func reopen(id: Int, stage: String?, note: String?, by principal: Principal) async throws -> Opportunity {
        if let stage, !PipelineSettings.isCode(stage) {
            throw BatonError.invalidArgument("stage must be lower-case letters, digits and _", field: "stage")
        }
        return try await change(id, for: .reopenOpportunity, note: note, by: principal) { current, store, tx in
            guard current.outcome != .open else {
                throw BatonError(.conflict, "opportunity \(id) is open; only a won or lost one reopens", details: ["outcome": "open"])
            }
            let target = stage ?? current.stage
            guard try await store.isActiveStage(target, region: current.region, on: tx) else {
                throw BatonError(
                    .ruleViolation,
                    "region \(current.region) has no stage '\(target)' any more; name the stage to reopen it in",
                    details: ["field": "stage"]
                )
            }
            return .init(action: "reopened", event: "opportunity.reopened", stage: target, outcome: .open, lostReason: nil, note: note)
        }
    }

    /// Locks the opportunity, lets `decide` check the move against its current state, and
    /// applies it, all in one transaction; a win runs the handoff rules of `opportunity.won`
    /// in it.
    private func change(
        _ id: Int,
        for useCase: UseCase,
        note: String?,
        by principal: Principal,
        decide: @escaping @Sendable (Opportunity, OpportunityStore, PostgresConnection) async throws -> OpportunityStore.Move
    ) async throws -> Opportunity {
        try principal.authorize(useCase)
        try RecordRules.check(note: note)
        let store = self.store
        let rules = self.rules
        // Only a win emits an event that rules react to.
        let catalog: SLACatalog.Snapshot?
        if useCase == .winOpportunity { catalog = try await database.slaCatalog.snapshot(pool: database.pool) } else { catalog = nil }
        var woken: Set<String> = []
        let moved = try await database.pool.transaction { tx -> Opportunity in
            guard let current = try await store.find(id: id, scope: principal.scope, forUpdate: true, on: tx) else {
                throw BatonError.notFound("no opportunity \(id)")
            }
            let move = try await decide(current, store, tx)
            let moved = try await store.apply(move, to: current, by: principal, on: tx)
            if move.event == "opportunity.won", let catalog {
                woken = try await rules.react(to: [try await wonEvent(moved, on: tx)], by: principal, catalog: catalog, on: tx)
            }
            return moved
        }
        if woken.isEmpty { wakeups.eventsWritten() } else { wakeups.queued(in: woken) }
        return moved
    }

    /// The `opportunity.won` event as handoff rules see it.
    private func wonEvent(_ won: Opportunity, on tx: PostgresConnection) async throws -> RuleEvent {
        let customer = try await customers.store.find(id: won.customerID, scope: .everything, on: tx)
        return RuleEvent(
            type: "opportunity.won",
            entityType: "opportunity",
            entityID: String(won.id),
            region: won.region,
            data: [
                "opportunity_id": .integer(won.id), "title": .string(won.title), "stage": .string(won.stage),
                "amount_minor": .integer(won.amountMinor), "currency": .string(won.currency), "region": .string(won.region),
                "owner_id": won.ownerID.map(JSONValue.integer) ?? .null, "customer_id": .integer(won.customerID),
                "customer_name": customer.map { JSONValue.string($0.name) } ?? .null,
            ]
        )
    }

    private static func requireOpen(_ opportunity: Opportunity, to action: String) throws(BatonError) {
        guard opportunity.outcome == .open else {
            throw BatonError(
                .conflict,
                "opportunity \(opportunity.id) is \(opportunity.outcome.rawValue); reopen it to \(action)",
                details: ["outcome": opportunity.outcome.rawValue]
            )
        }
    }

    // MARK: - Pipeline

    /// A region's stages and lost reasons.
    public func settings(region: String, by principal: Principal) async throws -> PipelineSettings {
        try principal.authorize(.getPipelineSettings, region: region, notFound: "no region '\(region)'")
        guard try await database.regions.exists(region) else { throw BatonError.notFound("no region '\(region)'") }
        return try await pipeline.settings(region: region)
    }

    /// Replaces a region's stages and lost reasons.
    public func setSettings(_ settings: PipelineSettings, by principal: Principal) async throws -> PipelineSettings {
        try principal.authorize(.setPipelineSettings, region: settings.region, notFound: "no region '\(settings.region)'")
        try settings.validate()
        guard try await database.regions.exists(settings.region) else { throw BatonError.notFound("no region '\(settings.region)'") }
        let pipeline = self.pipeline
        let stored = try await database.pool.transaction { tx in
            try await pipeline.replace(with: settings, by: principal, on: tx)
            return try await pipeline.settings(region: settings.region, on: tx)
        }
        wakeups.eventsWritten()
        return stored
    }

    /// The pipeline of each region the caller reaches (or of one), optionally of one owner.
    public func summary(region: String?, ownerID: Int?, windowDays: Int, by principal: Principal) async throws -> [PipelineSummary] {
        try principal.authorize(.getPipeline)
        guard (1...3_660).contains(windowDays) else { throw BatonError.invalidArgument("window_days must be 1 to 3660", field: "window_days") }
        if let ownerID, ownerID < 1 { throw BatonError.invalidArgument("owner_id is not a member id", field: "owner_id") }
        let regions: [String]
        if let region {
            guard principal.scope.reaches(region: region), try await database.regions.exists(region) else {
                throw BatonError.notFound("no region '\(region)'")
            }
            regions = [region]
        } else {
            regions = try await database.regions.codes().filter { principal.scope.reaches(region: $0) }
        }
        var summaries: [PipelineSummary] = []
        for region in regions {
            summaries.append(try await pipeline.summary(region: region, ownerID: ownerID, windowDays: windowDays))
        }
        return summaries
    }

    // MARK: - Helpers

    func reachable(_ id: Int, for useCase: UseCase, by principal: Principal) async throws -> Opportunity {
        try principal.authorize(useCase)
        guard let opportunity = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no opportunity \(id)") }
        return opportunity
    }
}
