import Foundation
public import PostgresClient

/// The automation hook: business events become tasks in the department queues, as the active
/// handoff rules say, in the transaction of the write that emitted them.
///
/// A service calls it on its own transaction right after writing an event, and wakes the
/// teams it returns once the transaction has committed:
///
/// ```swift
/// let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
/// var woken: Set<String> = []
/// let order = try await database.pool.transaction { tx in
///     let order = try await store.confirm(id, by: principal, on: tx)   // writes `order.confirmed`
///     woken = try await rules.react(
///         to: [RuleEvent(type: "order.confirmed", entityType: "order", entityID: String(order.id), region: order.region,
///                        data: ["order_id": .integer(order.id), "number": .string(order.number), …])],
///         by: principal, catalog: catalog, on: tx)
///     return order
/// }
/// if woken.isEmpty { wakeups.eventsWritten() } else { wakeups.queued(in: woken) }
/// ```
///
/// Each matching rule creates its task through ``TaskService`` (so SLA clocks start) and is
/// recorded with the event's row id in `rule_firings`, so one rule makes at most one task per
/// event however often the hook runs for it. A rule whose team cannot be found (no team of
/// its department in the event's region) fails the write with 422 rather than drop the
/// handoff: add the team or deactivate the rule. A rolled-back write leaves no task.
public struct HandoffRules: Sendable {
    let database: BatonDatabase
    let tasks: TaskService

    public init(database: BatonDatabase, tasks: TaskService) {
        self.database = database
        self.tasks = tasks
    }

    var store: RuleStore { RuleStore(pool: database.pool) }

    /// Runs the active rules of `events` on `tx` and returns the slugs of the teams that got
    /// tasks (to wake after commit). Each event must already be written on `tx` (see
    /// ``RuleEvent``).
    public func react(
        to events: [RuleEvent],
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> Set<String> {
        Set(try await fire(events, by: principal, catalog: catalog, on: tx).map(\.task.team))
    }

    /// A task a rule created for an event.
    struct Firing: Sendable {
        var rule: Int
        var event: Int
        var task: QueueTask
    }

    /// ``react(to:by:catalog:on:)`` with the tasks it created, for a caller that links them.
    func fire(_ events: [RuleEvent], by principal: Principal, catalog: SLACatalog.Snapshot, on tx: PostgresConnection) async throws -> [Firing] {
        guard !events.isEmpty else { return [] }
        let rules = try await store.active(for: Array(Set(events.map(\.type))).sorted(), on: tx)
        guard !rules.isEmpty else { return [] }
        var fired: [Firing] = []
        for event in events {
            let holding = rules.filter { $0.on == event.type && $0.condition.holds(for: event.data) }
            guard !holding.isEmpty else { continue }
            guard let eventID = try await eventID(of: event, on: tx) else {
                throw BatonError(.internalError, "rules reacted to a \(event.type) event that this transaction did not write")
            }
            for rule in holding {
                guard try await store.recordFiring(rule: rule.id, event: eventID, on: tx) else { continue }
                let planned = try await plan(rule, for: event, on: tx)
                let created = try await tasks.create([planned.task.newTask], in: planned.team, by: principal, catalog: catalog, on: tx)[0]
                try await store.linkFiring(rule: rule.id, event: eventID, task: created.task.id, on: tx)
                fired.append(Firing(rule: rule.id, event: eventID, task: created.task))
            }
        }
        return fired
    }

    /// The event row of an occurrence: the one named, or the newest of its type and entity
    /// written by this transaction.
    private func eventID(of event: RuleEvent, on tx: PostgresConnection) async throws -> Int? {
        if let id = event.eventID { return id }
        return try await store.eventID(of: event, on: tx)
    }

    /// The task `rule` makes for `event` and the team it goes to; 422 when there is no such team.
    func plan(_ rule: Rule, for event: RuleEvent, on connection: PostgresConnection) async throws -> (task: RuleTask, team: Team) {
        let team = try await team(for: rule, event: event, on: connection)
        return (Self.task(rule, for: event, in: team.slug), team)
    }

    /// The rendered task: title, payload and subject from their templates over the event's data.
    static func task(_ rule: Rule, for event: RuleEvent, in team: String) -> RuleTask {
        let action = rule.action
        var title = RuleTemplate.render(action.title, with: event.data, limit: 500)
        // A title whose fields were all missing still says which rule made the task.
        if SearchText.fold(title).isEmpty { title = String(String.UnicodeScalarView(rule.name.unicodeScalars.prefix(500))) }
        let payload = action.payload.mapValues { RuleTemplate.render($0, with: event.data, limit: 4000) }
        var subject: TaskSubject?
        if let template = action.subject {
            let type = template.type.map { RuleTemplate.render($0, with: event.data, limit: 100) } ?? event.entityType ?? ""
            let id = template.id.map { RuleTemplate.render($0, with: event.data, limit: 200) } ?? event.entityID ?? ""
            if !type.isEmpty, !id.isEmpty { subject = TaskSubject(type: type, id: id) }
        }
        return RuleTask(team: team, kind: action.kind, priority: action.priority ?? .normal, title: title, payload: payload, subject: subject)
    }

    /// The team a rule sends to: the named one, or its department's team in the event's region.
    private func team(for rule: Rule, event: RuleEvent, on connection: PostgresConnection) async throws -> Team {
        let teams = TeamStore(pool: database.pool)
        let details = ["field": "region", "rule_id": String(rule.id)]
        if let slug = rule.action.team {
            guard let team = try await teams.find(slug, on: connection) else {
                throw BatonError(
                    .ruleViolation,
                    "rule \(rule.id) (\(rule.name)) sends its task to team '\(slug)', which does not exist",
                    details: details
                )
            }
            return team
        }
        let department = rule.action.department ?? .coordination
        guard let region = event.region else {
            throw BatonError(
                .ruleViolation,
                "rule \(rule.id) (\(rule.name)) sends its task to the \(department.rawValue) team of the event's region, and the event has none",
                details: details
            )
        }
        guard let team = try await teams.team(of: department, in: region, on: connection) else {
            throw BatonError(
                .ruleViolation,
                "region \(region) has no \(department.rawValue) team for rule \(rule.id) (\(rule.name)); add the team or deactivate the rule",
                details: details
            )
        }
        return team
    }
}
