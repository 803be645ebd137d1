import Foundation
import PostgresClient

/// Handoff rules as reference data: listing, creating and editing them (admin), and a dry run
/// of one against a sample event that shows the task it would create and writes nothing.
/// Firing them is ``HandoffRules``' job, inside the writes that emit events.
public struct RuleService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let rules: HandoffRules

    public init(database: BatonDatabase, wakeups: Wakeups, rules: HandoffRules) {
        self.database = database
        self.wakeups = wakeups
        self.rules = rules
    }

    var store: RuleStore { RuleStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    /// Rules in id order, optionally of one event type or only the active ones.
    public func list(on eventType: String?, activeOnly: Bool, page: PageRequest, by principal: Principal) async throws -> Page<Rule> {
        try principal.authorize(.listRules)
        if let eventType { try RuleRules.check(eventType: eventType) }
        return try await store.list(on: eventType, activeOnly: activeOnly, page: page)
    }

    public func rule(id: Int, by principal: Principal) async throws -> Rule {
        try principal.authorize(.getRule)
        guard let rule = try await store.find(id: id) else { throw BatonError.notFound("no rule \(id)") }
        return rule
    }

    public func create(_ rule: NewRule, idempotencyKey: String? = nil, by principal: Principal) async throws -> Rule {
        try principal.authorize(.createRule)
        let condition = try rule.validate()
        let store = self.store
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createRule", request: rule) { tx in
            try await checkTeam(of: rule.action, on: tx)
            return try await store.create(rule, condition: condition, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return created
    }

    /// Edits a rule if it is still at `version`; a stale version is 412.
    public func update(id: Int, version: Int, _ changes: RuleChanges, by principal: Principal) async throws -> Rule {
        try principal.authorize(.updateRule)
        let condition = try changes.validate()
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Rule in
            if let action = changes.action { try await checkTeam(of: action, on: tx) }
            if let updated = try await store.update(id: id, version: version, changes, condition: condition, by: principal, on: tx) {
                return updated
            }
            guard let current = try await store.find(id: id, on: tx) else { throw BatonError.notFound("no rule \(id)") }
            throw BatonError.stale(version: current.version)
        }
        wakeups.eventsWritten()
        return updated
    }

    /// A dry run: whether the rule holds for `event` (its type defaults to the rule's) and the
    /// task it would create, with its team resolved as a real event's would be (422 when there
    /// is none). Nothing is written.
    public func test(id: Int, event: RuleEvent?, by principal: Principal) async throws -> RuleTrial {
        try principal.authorize(.testRule)
        guard let rule = try await store.find(id: id) else { throw BatonError.notFound("no rule \(id)") }
        var event = event ?? RuleEvent(type: rule.on, entityType: nil, entityID: nil, region: nil, data: [:])
        if event.type.isEmpty { event.type = rule.on }
        guard event.type == rule.on else {
            return RuleTrial(matches: false, reason: "the rule reacts to \(rule.on), not \(event.type)", task: nil)
        }
        if let failing = rule.condition.firstFailing(for: event.data) {
            return RuleTrial(matches: false, reason: "the condition on \(failing) does not hold", task: nil)
        }
        if let region = event.region, !(try await database.regions.exists(region)) {
            throw BatonError(.ruleViolation, "no region '\(region)'", details: ["field": "region"])
        }
        let rules = self.rules
        let sample = event
        let planned = try await database.pool.withConnection { connection in try await rules.plan(rule, for: sample, on: connection) }
        return RuleTrial(matches: true, reason: nil, task: planned.task)
    }

    /// `^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,3}$`: an event type such as `order.confirmed`.
    public static func isEventType(_ text: String) -> Bool { RuleRules.isEventType(text) }

    /// 422 for an action naming a team that does not exist.
    private func checkTeam(of action: RuleAction, on tx: PostgresConnection) async throws {
        guard let slug = action.team else { return }
        guard try await TeamStore(pool: database.pool).find(slug, on: tx) != nil else {
            throw BatonError(.ruleViolation, "no team '\(slug)'", details: ["field": "action.team"])
        }
    }
}
