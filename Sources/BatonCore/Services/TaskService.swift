public import Foundation
import Metrics
import PostgresClient

/// The department queues' use cases: creating, claiming, working, handing off and reading
/// tasks, and a team's pause switch and stats. Each method is the one way to perform its
/// operation, whoever calls it (the API, `batonctl`, the SLA monitor, the demo): it checks the
/// caller against the access table, validates the input, runs one transaction that writes the
/// change with its events (and starts the SLA clocks of tasks a policy covers), and returns
/// domain values.
public struct TaskService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let sla: SLAService

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
        self.sla = SLAService(database: database, wakeups: wakeups)
    }

    private var desks: Desks { wakeups.desks }

    var store: TaskStore { TaskStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    // MARK: - Create

    /// Queues a task in a team. A live task of the team with the same dedupe key is returned
    /// instead (`isNew` false).
    public func create(
        _ task: NewTask,
        inTeam slug: String,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws -> TaskStore.Created {
        let team = try await self.team(slug, for: .createTask, by: principal)
        try task.validate()
        return try await create([task], in: team, operation: "createTask/\(team.slug)", idempotencyKey: idempotencyKey, by: principal)[0]
    }

    /// Queues up to 1000 tasks in a team in one transaction.
    public func createMany(
        _ tasks: [NewTask],
        inTeam slug: String,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws -> [TaskStore.Created] {
        let team = try await self.team(slug, for: .createTasks, by: principal)
        guard (1...1000).contains(tasks.count) else {
            throw BatonError(.ruleViolation, "a batch holds 1 to 1000 tasks", details: ["field": "tasks"])
        }
        for (index, task) in tasks.enumerated() { try task.validate(field: "tasks[\(index)].") }
        return try await create(tasks, in: team, operation: "createTasks/\(team.slug)", idempotencyKey: idempotencyKey, by: principal)
    }

    private func create(
        _ tasks: [NewTask],
        in team: Team,
        operation: String,
        idempotencyKey: String?,
        by principal: Principal
    ) async throws -> [TaskStore.Created] {
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        // Only tasks that a policy covers need a transaction for their clocks; the rest is one statement.
        let covered = catalog.covers(tasks, in: team)
        let created = try await write.run(
            key: idempotencyKey,
            by: principal,
            operation: operation,
            request: tasks,
            singleStatement: !covered
        ) { tx in
            try await create(tasks, in: team, by: principal, catalog: catalog, on: tx)
        }
        wakeups.queued(in: [team.slug])
        return created
    }

    /// Creates tasks on the caller's transaction and starts the clocks of those a policy covers:
    /// what every path that makes work (the API, escalations, the demo) goes through.
    func create(
        _ tasks: [NewTask],
        in team: Team,
        fromDepartment: Department? = nil,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> [TaskStore.Created] {
        var created = try await store.create(tasks, in: team, by: principal, on: tx)
        let fresh = created.filter(\.isNew).map(\.task)
        guard !fresh.isEmpty, !catalog.policies.isEmpty else { return created }
        var keep: Set<Int> = []
        for (index, item) in created.enumerated() where item.isNew && tasks[index].dueAt != nil { keep.insert(item.task.id) }
        let started = try await sla.startClocks(for: fresh, in: team, fromDepartment: fromDepartment, keepDueAt: keep, catalog: catalog, on: tx)
        let byID = Dictionary(started.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for index in created.indices where created[index].isNew {
            created[index].task = byID[created[index].task.id] ?? created[index].task
        }
        return created
    }

    // MARK: - Claim

    /// What a worker asks for when it claims.
    public struct ClaimRequest: Sendable {
        public var worker: String
        public var limit: Int
        public var leaseSeconds: Int?
        public var kinds: [String]?
        /// How long to wait for work when there is none (long poll).
        public var waitSeconds: Int

        public init(worker: String, limit: Int = 1, leaseSeconds: Int? = nil, kinds: [String]? = nil, waitSeconds: Int = 0) {
            self.worker = worker
            self.limit = limit
            self.leaseSeconds = leaseSeconds
            self.kinds = kinds
            self.waitSeconds = waitSeconds
        }

        func validate() throws(BatonError) {
            guard (1...100).contains(limit) else { throw .invalidArgument("limit must be between 1 and 100", field: "limit") }
            guard (0...30).contains(waitSeconds) else { throw .invalidArgument("wait_seconds must be between 0 and 30", field: "wait_seconds") }
            guard TextRules.hasLength(worker, in: 1...200) else { throw .invalidArgument("worker must be 1 to 200 characters", field: "worker") }
            if let kinds, kinds.isEmpty || kinds.count > 50 {
                throw .invalidArgument("kinds must list 1 to 50 kinds", field: "kinds")
            }
            if let leaseSeconds, !(5...86400).contains(leaseSeconds) {
                throw .invalidArgument("lease_seconds must be between 5 and 86400", field: "lease_seconds")
            }
        }
    }

    /// Claims up to `limit` tasks of a team with a lease. With `waitSeconds`, waits for work:
    /// a create in any instance wakes the team's desk at once, and the look is repeated every
    /// second in case a notification is lost or a scheduled task comes due.
    public func claim(_ request: ClaimRequest, inTeam slug: String, by principal: Principal) async throws -> [QueueTask] {
        let team = try await self.team(slug, for: .claimTasks, by: principal)
        try request.validate()
        let leaseSeconds = request.leaseSeconds ?? team.defaultLeaseSeconds
        let desk = desks.desk(for: team.slug)
        let deadline = ContinuousClock.now + .seconds(request.waitSeconds)
        while true {
            // Read the generation before looking, so a task committed after the look wakes us.
            let seen = desk.current
            let started = ContinuousClock.now
            let claimed = try await store.claim(
                team: team.slug,
                worker: request.worker,
                limit: request.limit,
                leaseSeconds: leaseSeconds,
                kinds: request.kinds,
                by: principal
            )
            let now = ContinuousClock.now
            Metrics.Timer(label: "baton_claim_duration_seconds", dimensions: [("team", team.slug)]).recordInterval(since: started, now: now)
            if !claimed.isEmpty {
                Counter(label: "baton_tasks_claimed_total", dimensions: [("team", team.slug)]).increment(by: claimed.count)
                wakeups.eventsWritten()
            }
            let remaining = deadline - now
            if !claimed.isEmpty || remaining <= .zero || Task.isCancelledOrShuttingDown || CancellationSignal.current?.isCancelled == true {
                return claimed
            }
            _ = await desk.wait(after: seen, timeout: min(remaining, .seconds(1)))
        }
    }

    // MARK: - Work on a claimed task

    /// Extends a lease. Fenced on the lease token: a stale token changes nothing (409).
    public func heartbeat(id: Int, leaseToken: UUID, leaseSeconds: Int?, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(.heartbeatTask)
        if let leaseSeconds, !(5...86400).contains(leaseSeconds) {
            throw BatonError.invalidArgument("lease_seconds must be between 5 and 86400", field: "lease_seconds")
        }
        return try fenced(try await store.heartbeat(id: id, leaseToken: leaseToken, leaseSeconds: leaseSeconds, scope: principal.scope))
    }

    /// Completes a claimed task, fenced on the lease token.
    public func complete(id: Int, leaseToken: UUID, resultJSON: String?, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(.completeTask)
        let task = try fenced(try await store.complete(id: id, leaseToken: leaseToken, resultJSON: resultJSON, by: principal))
        wakeups.eventsWritten()
        return task
    }

    /// What happened to one item of a batch completion.
    public enum CompletionOutcome: Sendable {
        case completed(QueueTask)
        case staleLease(QueueTask)
        /// No such task, or one outside the caller's scope.
        case notFound
    }

    /// Completes up to 1000 claimed tasks in one transaction, each on its own lease.
    public func completeMany(_ items: [TaskStore.CompletionItem], by principal: Principal) async throws -> [CompletionOutcome] {
        try principal.authorize(.completeTasks)
        guard (1...1000).contains(items.count) else {
            throw BatonError(.ruleViolation, "a batch holds 1 to 1000 items", details: ["field": "items"])
        }
        let outcomes = try await store.completeMany(items, by: principal)
        wakeups.eventsWritten()
        return outcomes.map { outcome in
            switch outcome {
            case .success(let task): .completed(task)
            case .failure(.staleLease(let task)): .staleLease(task)
            case .failure(.notFound): .notFound
            }
        }
    }

    /// Records a failed attempt: retried after an exponential, jittered backoff, or dead when
    /// the attempts are used up. Fenced on the lease token.
    public func fail(id: Int, leaseToken: UUID, error: String, retryInSeconds: Int?, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(.failTask)
        guard TextRules.hasLength(error, in: 1...10_000) else {
            throw BatonError.invalidArgument("error must be 1 to 10000 characters", field: "error")
        }
        if let retryInSeconds, !(0...604_800).contains(retryInSeconds) {
            throw BatonError.invalidArgument("retry_in_seconds must be between 0 and 604800", field: "retry_in_seconds")
        }
        let task = try fenced(
            try await store.fail(id: id, leaseToken: leaseToken, error: error, retryInSeconds: retryInSeconds, by: principal)
        )
        task.state == .queued ? wakeups.queued(in: [task.team]) : wakeups.eventsWritten()
        return task
    }

    /// Puts a claimed task back in the queue at once, without counting the attempt.
    public func release(id: Int, leaseToken: UUID, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(.releaseTask)
        let task = try fenced(try await store.release(id: id, leaseToken: leaseToken, by: principal))
        wakeups.queued(in: [task.team])
        return task
    }

    // MARK: - Change a task's state

    /// Puts a dead task (or, from the CLI, a cancelled one) back in the queue with its attempts reset.
    public func retry(id: Int, includingCancelled: Bool = false, reason: String? = nil, by principal: Principal) async throws -> QueueTask {
        let current = try await task(id, for: .retryTask, by: principal)
        let from: [TaskState] = includingCancelled ? [.dead, .cancelled] : [.dead]
        do {
            guard let task = try await store.transition(id: id, from: from, to: .queued, eventType: "task.retried", reason: reason, by: principal)
            else {
                throw BatonError(
                    .conflict,
                    includingCancelled ? "only a dead or cancelled task can be requeued" : "only a dead task can be retried",
                    details: ["state": current.state.rawValue]
                )
            }
            wakeups.queued(in: [task.team])
            return task
        } catch let error as PostgresError where error.isUniqueViolation {
            throw BatonError(.conflict, "a live task with the same dedupe_key exists", details: ["state": current.state.rawValue])
        }
    }

    /// Cancels a queued or claimed task.
    public func cancel(id: Int, reason: String?, by principal: Principal) async throws -> QueueTask {
        let current = try await task(id, for: .cancelTask, by: principal)
        guard
            let task = try await store.transition(
                id: id,
                from: [.queued, .claimed],
                to: .cancelled,
                eventType: "task.cancelled",
                reason: reason,
                by: principal
            )
        else {
            throw BatonError(.conflict, "only a queued or claimed task can be cancelled", details: ["state": current.state.rawValue])
        }
        wakeups.eventsWritten()
        return task
    }

    /// Cancels a queued or claimed task on the caller's transaction, for a write that makes it
    /// moot (a resolved case); `nil` when the task had already finished.
    func cancelIfLive(id: Int, reason: String, by principal: Principal, on tx: PostgresConnection) async throws -> QueueTask? {
        try await store.transition(
            id: id,
            from: [.queued, .claimed],
            to: .cancelled,
            eventType: "task.cancelled",
            reason: reason,
            by: principal,
            on: tx
        )
    }

    /// Hands a live task to another team in one transaction: the task becomes `handed_off`, a
    /// new task is queued in the target team on the same chain (its SLA clocks started, OLAs
    /// from the source department included), and the old team's clocks stop.
    public func handoff(
        id: Int,
        _ request: HandoffRequest,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws -> TaskStore.Handoff {
        try principal.authorize(.handoffTask)
        try request.validate()
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let result = try await write.run(key: idempotencyKey, by: principal, operation: "handoff/\(id)", request: request) { tx in
            try await self.handoff(id: id, request, by: principal, catalog: catalog, on: tx) { source in
                try principal.authorize(.handoffTask, team: source.team, region: source.region, notFound: "no task \(id)")
            }
        }
        wakeups.queued(in: [result.task.team])
        return result
    }

    /// A handoff on the caller's transaction, for the API and for SLA escalations (which take a
    /// claimed task away from its worker: `overridingLease`).
    func handoff(
        id: Int,
        _ request: HandoffRequest,
        by principal: Principal,
        overridingLease: Bool = false,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection,
        authorize: (QueueTask) throws -> Void
    ) async throws -> TaskStore.Handoff {
        var handoff = try await store.handoff(id: id, request, by: principal, on: tx, overridingLease: overridingLease, authorize: authorize)
        // The old team's clocks stopped with the handoff (trigger); the new team's start now.
        let teams = TeamStore(pool: database.pool)
        if !catalog.policies.isEmpty, let target = try await teams.find(handoff.task.team, on: tx) {
            let source = try await teams.find(handoff.handedOff.team, on: tx)
            handoff.task = try await sla.startClocks(
                for: [handoff.task],
                in: target,
                fromDepartment: source?.department,
                keepDueAt: request.dueAt == nil ? [] : [handoff.task.id],
                catalog: catalog,
                on: tx
            )[0]
        }
        return handoff
    }

    // MARK: - Read

    /// A task with its events, its handoff chain (steps outside the caller's scope shown as id,
    /// team and state only) and its SLA clocks.
    public struct Detail: Sendable {
        public var task: QueueTask
        public var events: [Event]
        public var chain: [ChainStep]
        /// `nil` when no policy covers the task.
        public var clocks: [SLAClock]?
        public var catalog: SLACatalog.Snapshot?
    }

    public func detail(id: Int, by principal: Principal) async throws -> Detail {
        let task = try await task(id, for: .getTask, by: principal)
        let events = try await EventStore(pool: database.pool).history(entityType: "task", entityID: String(task.id))
        let chain = try await store.chain(of: task).map { step -> ChainStep in
            principal.canSee(team: step.team, region: step.region) ? .visible(step) : .hidden(id: step.id, team: step.team, state: step.state)
        }
        var clocks: [SLAClock]?
        var catalog: SLACatalog.Snapshot?
        if task.slaPolicyID != nil {
            catalog = try await database.slaCatalog.snapshot(pool: database.pool)
            clocks = try await SLAClockStore(pool: database.pool).clocks(taskID: task.id)
        }
        return Detail(task: task, events: events, chain: chain, clocks: clocks, catalog: catalog)
    }

    /// Tasks the caller may see, in id order, a page at a time.
    public func list(_ filter: TaskStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<QueueTask> {
        try principal.authorize(.listTasks)
        return try await store.list(filter, scope: principal.scope, page: page)
    }

    /// A team's queue at a glance with its SLA figures over a window of minutes.
    public func stats(
        team slug: String,
        windowMinutes: Int,
        by principal: Principal
    ) async throws -> (
        stats: TeamStats, sla: SLAClockStore.Figures
    ) {
        let team = try await self.team(slug, for: .getTeamStats, by: principal)
        guard (1...525_600).contains(windowMinutes) else {
            throw BatonError.invalidArgument("window_minutes must be between 1 and 525600", field: "window_minutes")
        }
        return try await database.staleRead { pool in
            let stats = try await TaskStore(pool: pool).stats(team: team.slug)
            return (stats, try await SLAClockStore(pool: pool).figures(team: team.slug, windowMinutes: windowMinutes))
        }
    }

    /// Live work of every team, for the metrics endpoint (no caller: it reveals counts only).
    public func queueDepths() async throws -> [QueueDepth] {
        try await store.queueDepths()
    }

    // MARK: - Team switch

    /// Stops handing out a team's tasks (claims return nothing) or starts again.
    public func setPaused(team slug: String, _ paused: Bool, by principal: Principal) async throws -> Team {
        let team = try await self.team(slug, for: paused ? .pauseTeam : .resumeTeam, by: principal)
        let changed = try await database.teams.setPaused(team.slug, paused: paused, by: principal)
        // Resumed, its queued tasks are claimable again.
        paused ? wakeups.eventsWritten() : wakeups.queued(in: [team.slug])
        return changed
    }

    // MARK: - Access

    /// The team named by `slug`, when the caller may perform `useCase` on it: 403 for a role
    /// that may not do it anywhere (checked first, so it says nothing about the team), 404 for
    /// a team that does not exist or is out of scope.
    func team(_ slug: String, for useCase: UseCase, by principal: Principal) async throws -> Team {
        try principal.authorize(useCase)
        guard let team = try await database.teamDirectory.find(slug, pool: database.pool) else {
            throw BatonError.notFound("no team '\(slug)'")
        }
        try principal.authorize(useCase, team: team.slug, region: team.region, notFound: "no team '\(slug)'")
        return team
    }

    /// The task, when the caller may perform `useCase` on its team (403 first, then 404).
    func task(_ id: Int, for useCase: UseCase, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(useCase)
        guard let task = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no task \(id)") }
        return task
    }

    /// The task a lease-fenced change produced, or the error: 404 for a task that does not
    /// exist or is out of scope (the statement itself was scoped), 409 naming the state otherwise.
    private func fenced(_ result: Result<QueueTask, TaskStore.FenceFailure>) throws -> QueueTask {
        switch result {
        case .success(let task): return task
        case .failure(.notFound): throw BatonError.notFound("no such task")
        case .failure(.staleLease(let task)): throw BatonError.staleLease(task)
        }
    }
}

extension BatonError {
    /// The 409 for a lease-fenced change that did not happen, naming the task's current state.
    static func staleLease(_ task: QueueTask) -> BatonError {
        BatonError(
            .conflict,
            task.state == .claimed
                ? "the lease token is not the task's current lease (or the lease expired)"
                : "the task is \(task.state.rawValue), not claimed",
            details: ["state": task.state.rawValue, "id": String(task.id)]
        )
    }
}

extension Metrics.Timer {
    /// Records the time from `start` to `now`.
    func recordInterval(since start: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        let (seconds, attoseconds) = (now - start).components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
