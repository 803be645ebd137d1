import Foundation
import PostgresClient

/// Customer cases (inquiries and complaints): opening one queues a task in the owning team
/// (and runs the handoff rules of `case.opened`: by default a complaint about an owned customer
/// tells the region's sales team the account is at risk), lifecycle
/// actions move it through its states with a transition each, waiting on the customer holds
/// the task's SLA clocks, resolving asks for feedback, and reopening is allowed within the
/// region's window. Cases belong to their customer's region: a caller reaches those of its
/// regions (and of its teams' regions).
public struct CaseService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let tasks: TaskService
    let rules: HandoffRules

    public init(database: BatonDatabase, wakeups: Wakeups, tasks: TaskService, rules: HandoffRules) {
        self.database = database
        self.wakeups = wakeups
        self.tasks = tasks
        self.rules = rules
    }

    var store: CaseStore { CaseStore(pool: database.pool) }
    var customers: CustomerStore { CustomerStore(pool: database.pool) }
    var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    // MARK: - Cases

    /// Cases the caller reaches, filtered.
    public func list(_ filter: CaseStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Case> {
        try principal.authorize(.listCases)
        if let customer = filter.customerID, customer < 1 {
            throw BatonError.invalidArgument("customer_id is not a customer id", field: "customer_id")
        }
        return try await store.list(filter, scope: principal.scope, page: page)
    }

    /// Opens a case about a customer the caller reaches, in state `new`, and queues its task in
    /// the owning team through the task service (so SLA policies apply), in one transaction with
    /// the handoff rules of its `case.opened` event (whose data says the case's kind and whether
    /// the customer has an owner).
    public func create(_ new: NewCase, idempotencyKey: String? = nil, by principal: Principal) async throws -> Case {
        try principal.authorize(.createCase)
        try new.validate()
        guard let customer = try await customers.find(id: new.customerID, scope: principal.scope) else {
            throw BatonError(.ruleViolation, "no customer \(new.customerID) you may open cases for", details: ["field": "customer_id"])
        }
        let store = self.store
        let rules = self.rules
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        var queuedIn: [String] = []
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createCase", request: new) { tx in
            if let contact = new.contactID { try await store.checkContact(contact, of: customer.id, on: tx) }
            let team = try await owningTeam(new.team, for: customer, on: tx)
            var record = try await store.create(new, for: customer, team: team.slug, by: principal, on: tx)
            let title = "Case \(record.id) (\(record.kind.rawValue)): \(record.subject)"
            record = try await queueCaseTask(for: record, title: title, in: team, by: principal, catalog: catalog, on: tx)
            let woken = try await rules.react(to: [Self.openedEvent(record, about: customer)], by: principal, catalog: catalog, on: tx)
            queuedIn = [team.slug] + woken.sorted()
            return record
        }
        // A replayed key ran no closure: nothing was queued then.
        if queuedIn.isEmpty { wakeups.eventsWritten() } else { wakeups.queued(in: queuedIn) }
        return created
    }

    /// One case the caller reaches.
    public func record(id: Int, by principal: Principal) async throws -> Case {
        try await reachable(id, for: .getCase, by: principal)
    }

    /// Edits a case's plain fields if it is still at `version` (its ETag); a stale version is
    /// 412 with the current one.
    public func update(id: Int, version: Int, _ changes: CaseChanges, by principal: Principal) async throws -> Case {
        let current = try await reachable(id, for: .updateCase, by: principal)
        try changes.validate()
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Case in
            if let contact = changes.contactID, contact != 0 { try await store.checkContact(contact, of: current.customerID, on: tx) }
            guard let updated = try await store.update(id: id, version: version, changes, by: principal, on: tx) else {
                let now = try await store.find(id: id, scope: principal.scope, on: tx)
                throw BatonError.stale(version: now?.version ?? current.version)
            }
            return updated
        }
        wakeups.eventsWritten()
        return updated
    }

    /// Deletes a case (admin): it is kept for the audit trail and no longer listed, and the
    /// unfinished tasks about it (subject `case:ID`, handed-off ones included) are cancelled.
    public func delete(id: Int, by principal: Principal) async throws -> Case {
        _ = try await reachable(id, for: .deleteCase, by: principal)
        let store = self.store
        let tasks = self.tasks
        let deleted = try await database.pool.transaction { tx -> Case? in
            guard let deleted = try await store.delete(id: id, by: principal, on: tx) else { return nil }
            for taskID in try await store.liveTasks(about: id, on: tx) {
                _ = try await tasks.cancelIfLive(id: taskID, reason: "case \(id) was deleted", by: principal, on: tx)
            }
            return deleted
        }
        guard let deleted else { throw BatonError.notFound("no case \(id)") }
        wakeups.eventsWritten()
        return deleted
    }

    /// A case's state changes, oldest first.
    public func transitions(ofCase id: Int, page: PageRequest, by principal: Principal) async throws -> Page<CaseTransition> {
        _ = try await reachable(id, for: .listCaseTransitions, by: principal)
        return try await store.transitions(of: id, page: page)
    }

    // MARK: - Lifecycle

    /// Moves a case by `action` in one transaction with its transition, event and task effects:
    /// waiting on the customer holds the case task's SLA clocks and leaving that state resumes
    /// them; resolving (a resolution is required) cancels the case task if it is unfinished and
    /// queues a task to ask for feedback; reopening (a reason is required) is allowed within the
    /// region's window after the resolution and queues a fresh task. An action the state does
    /// not allow is 409 naming the state.
    public func act(_ action: CaseAction, onCase id: Int, note: String?, by principal: Principal) async throws -> Case {
        try principal.authorize(Self.useCase(of: action))
        try CaseRules.check(note: note, field: Self.noteField(of: action), required: action == .resolve || action == .reopen)
        let store = self.store
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        var queuedIn: Set<String> = []
        let moved = try await database.pool.transaction { tx -> Case in
            guard let current = try await store.find(id: id, scope: principal.scope, lock: true, on: tx) else {
                throw BatonError.notFound("no case \(id)")
            }
            guard action.allowedFrom.contains(current.state) else {
                throw BatonError(
                    .conflict,
                    "case \(id) is \(current.state.rawValue); it cannot be \(action.participle)",
                    details: ["state": current.state.rawValue]
                )
            }
            if action == .reopen { try await checkReopenWindow(current, on: tx) }
            let resolution = action == .resolve ? note : nil
            var record = try await store.move(
                current,
                by: action,
                note: action == .resolve ? nil : note,
                resolution: resolution,
                by: principal,
                on: tx
            )
            if let taskID = current.taskID,
                let woken = try await applyToTask(taskID, of: current, action, note: note, by: principal, catalog: catalog, on: tx)
            {
                queuedIn.insert(woken)
            }
            guard action == .resolve || action == .reopen else { return record }
            guard let team = try await TeamStore(pool: database.pool).find(record.team, on: tx) else {
                throw BatonError(.internalError, "the case's team is gone")
            }
            if action == .resolve {
                let ask = NewTask(
                    kind: "ask_feedback",
                    title: Self.title("Ask for feedback on case \(id): \(record.subject)"),
                    payloadJSON: Self.payload(record),
                    subject: TaskSubject(type: "case", id: String(id))
                )
                _ = try await queue(ask, in: team, by: principal, catalog: catalog, on: tx)
            } else {
                let title = "Reopened case \(id): \(record.subject)"
                record = try await queueCaseTask(for: record, title: title, in: team, by: principal, catalog: catalog, on: tx)
            }
            queuedIn.insert(team.slug)
            return record
        }
        if queuedIn.isEmpty { wakeups.eventsWritten() } else { wakeups.queued(in: Array(queuedIn)) }
        return moved
    }

    // MARK: - Settings

    /// A region's case settings (14 days to reopen when it has set none).
    public func settings(region: String, by principal: Principal) async throws -> CaseSettings {
        try principal.authorize(.getCaseSettings, region: region, notFound: "no region '\(region)'")
        guard let settings = try await store.settings(region: region) else { throw BatonError.notFound("no region '\(region)'") }
        return settings
    }

    /// Replaces a region's case settings (admin).
    public func setSettings(_ settings: CaseSettings, by principal: Principal) async throws -> CaseSettings {
        try principal.authorize(.setCaseSettings, region: settings.region, notFound: "no region '\(settings.region)'")
        try settings.validate()
        let store = self.store
        let stored = try await database.pool.transaction { tx in try await store.setSettings(settings, by: principal, on: tx) }
        guard let stored else { throw BatonError.notFound("no region '\(settings.region)'") }
        wakeups.eventsWritten()
        return stored
    }

    // MARK: - Helpers

    /// The case, when the caller may perform `useCase` on it: 403 for the role first, then
    /// 404 for a case that does not exist, was deleted, or is in a region out of reach.
    func reachable(_ id: Int, for useCase: UseCase, by principal: Principal) async throws -> Case {
        try principal.authorize(useCase)
        guard let record = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no case \(id)") }
        return record
    }

    /// The team that owns a new case: the one given (422 when there is none such), else the
    /// support team of the customer's region.
    private func owningTeam(_ slug: String?, for customer: Customer, on tx: PostgresConnection) async throws -> Team {
        let teams = TeamStore(pool: database.pool)
        if let slug {
            guard let team = try await teams.find(slug, on: tx) else {
                throw BatonError(.ruleViolation, "no team '\(slug)' to own the case", details: ["field": "team"])
            }
            return team
        }
        guard let team = try await teams.team(of: .support, in: customer.region, on: tx) else {
            throw BatonError(.ruleViolation, "region \(customer.region) has no support team; name the team", details: ["field": "team"])
        }
        return team
    }

    /// What an action does to the case's task, or to the live task it was handed off to: leaving
    /// `pending_customer` resumes its clocks, waiting on the customer holds them, resolving
    /// cancels it. A task that has finished is left alone. Returns the team of a task that is
    /// claimable again.
    private func applyToTask(
        _ taskID: Int,
        of record: Case,
        _ action: CaseAction,
        note: String?,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> String? {
        guard let liveID = try await store.liveTask(inChainOf: taskID, on: tx),
            let task = try await TaskStore(pool: database.pool).lock(id: liveID, on: tx), task.state.isLive
        else { return nil }
        var woken: String?
        if record.state == .pendingCustomer, task.hold != nil {
            let resumed = try await tasks.sla.resume(taskID: task.id, by: principal, catalog: catalog, on: tx)
            if resumed.state == .queued { woken = resumed.team }
        }
        if action == .waitOnCustomer, task.hold == nil {
            let reason = Self.title("Case \(record.id) waits on the customer" + (note.map { ": \($0)" } ?? ""), limit: 1000)
            _ = try await tasks.sla.hold(taskID: task.id, reason: reason, by: principal, catalog: catalog, on: tx)
        }
        if action == .resolve {
            _ = try await tasks.cancelIfLive(id: task.id, reason: "case \(record.id) was resolved", by: principal, on: tx)
        }
        return woken
    }

    /// 409 when a resolved or closed case is past its region's reopen window.
    private func checkReopenWindow(_ record: Case, on tx: PostgresConnection) async throws {
        let window = try await store.reopenDeadline(of: record, on: tx)
        guard window.now <= window.deadline else {
            let deadline = PostgresTimestamp.formatRFC3339(window.deadline)
            throw BatonError(
                .conflict,
                "case \(record.id) is \(record.state.rawValue) and can no longer be reopened: the region's window of \(window.days) days after the resolution ended at \(deadline); open a new case",
                details: ["state": record.state.rawValue, "reopen_deadline": deadline]
            )
        }
    }

    /// Queues the owning team's task for a case (opened or reopened) and links it to the case.
    private func queueCaseTask(
        for record: Case,
        title: String,
        in team: Team,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> Case {
        let task = NewTask(
            kind: "case_\(record.kind.rawValue)",
            title: Self.title(title),
            payloadJSON: Self.payload(record),
            priority: record.priority,
            subject: TaskSubject(type: "case", id: String(record.id))
        )
        let queued = try await queue(task, in: team, by: principal, catalog: catalog, on: tx)
        return try await store.linkTask(case: record.id, task: queued.id, on: tx)
    }

    /// Queues one task on the caller's transaction through the task service.
    private func queue(
        _ task: NewTask,
        in team: Team,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws
        -> QueueTask
    {
        try await tasks.create([task], in: team, by: principal, catalog: catalog, on: tx)[0].task
    }

    /// The `case.opened` event as handoff rules see it.
    static func openedEvent(_ record: Case, about customer: Customer) -> RuleEvent {
        RuleEvent(
            type: "case.opened",
            entityType: "case",
            entityID: String(record.id),
            region: record.region,
            team: record.team,
            data: [
                "case_id": .integer(record.id), "kind": .string(record.kind.rawValue), "subject": .string(record.subject),
                "priority": .string(record.priority.rawValue), "channel": record.channel.map { JSONValue.string($0.rawValue) } ?? .null,
                "team": .string(record.team), "region": .string(record.region), "customer_id": .integer(customer.id),
                "customer": .object([
                    "id": .integer(customer.id), "name": .string(customer.name), "owned": .bool(customer.ownerID != nil),
                    "owner_id": customer.ownerID.map(JSONValue.integer) ?? .null,
                ]),
            ]
        )
    }

    static func payload(_ record: Case) -> String {
        PostgresJSON(["case_id": String(record.id), "customer_id": String(record.customerID)]).postgresText
    }

    /// A title cut to the column's length in code points (a Character prefix could exceed it).
    static func title(_ text: String, limit: Int = 500) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit)))
    }

    static func useCase(of action: CaseAction) -> UseCase {
        switch action {
        case .open: .openCase
        case .waitOnCustomer, .waitInternally: .setCasePending
        case .resolve: .resolveCase
        case .close: .closeCase
        case .reopen: .reopenCase
        }
    }

    static func noteField(of action: CaseAction) -> String {
        switch action {
        case .resolve: "resolution"
        case .reopen: "reason"
        default: "note"
        }
    }
}
