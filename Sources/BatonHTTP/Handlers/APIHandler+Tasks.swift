import BatonCore
import Foundation
import Metrics
import PostgresClient
import ServiceLifecycle

extension APIHandler {
    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output {
        let principal = try RequestPrincipal.require()
        // Who may do this is settled before what was asked is checked.
        let team = try await team(input.path.team, .workQueue, for: principal)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let newTask = try NewTask(body)
        try newTask.validate()
        let tasks = self.tasks
        let clocks = slaClocks
        // Only a task that a policy covers needs the transaction its clocks are written in.
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let covered = catalog.covers([newTask], in: team)
        let (status, task) = try await idempotent(
            key: input.headers.idempotencyKey,
            operation: "createTask/\(team.slug)",
            request: body,
            singleStatement: !covered
        ) {
            tx in
            var created = try await tasks.create([newTask], in: team, by: principal, on: tx)[0]
            if covered, created.isNew {
                let keep: Set<Int> = newTask.dueAt == nil ? [] : [created.task.id]
                created.task = try await clocks.start(for: [created.task], in: team, keepDueAt: keep, catalog: catalog, on: tx)[0]
            }
            return (created.isNew ? 201 : 200, try Components.Schemas.Task(created.task))
        }
        return status == 201 ? .created(.init(body: .json(task))) : .ok(.init(body: .json(task)))
    }

    func createTasks(_ input: Operations.CreateTasks.Input) async throws -> Operations.CreateTasks.Output {
        let principal = try RequestPrincipal.require()
        let team = try await team(input.path.team, .workQueue, for: principal)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        guard (1...1000).contains(body.tasks.count) else {
            throw BatonError(.ruleViolation, "a batch holds 1 to 1000 tasks", details: ["field": "tasks"])
        }
        let newTasks = try body.tasks.map(NewTask.init)
        for (index, task) in newTasks.enumerated() { try task.validate(field: "tasks[\(index)].") }
        let tasks = self.tasks
        let clocks = slaClocks
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let covered = catalog.covers(newTasks, in: team)
        let (_, list) = try await idempotent(
            key: input.headers.idempotencyKey,
            operation: "createTasks/\(team.slug)",
            request: body,
            singleStatement: !covered
        ) {
            tx in
            var created = try await tasks.create(newTasks, in: team, by: principal, on: tx)
            if covered {
                var keep: Set<Int> = []
                for (index, item) in created.enumerated() where item.isNew && newTasks[index].dueAt != nil { keep.insert(item.task.id) }
                let started = try await clocks.start(
                    for: created.filter(\.isNew).map(\.task),
                    in: team,
                    keepDueAt: keep,
                    catalog: catalog,
                    on: tx
                )
                let byID = Dictionary(started.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                for index in created.indices where created[index].isNew {
                    created[index].task = byID[created[index].task.id] ?? created[index].task
                }
            }
            return (201, Components.Schemas.TaskList(tasks: try created.map { try Components.Schemas.Task($0.task) }))
        }
        return .created(.init(body: .json(list)))
    }

    func claimTasks(_ input: Operations.ClaimTasks.Input) async throws -> Operations.ClaimTasks.Output {
        let principal = try RequestPrincipal.require()
        let team = try await team(input.path.team, .workQueue, for: principal)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let limit = body.limit ?? 1
        let wait = body.waitSeconds ?? 0
        guard (1...100).contains(limit) else { throw BatonError.invalidArgument("limit must be between 1 and 100", field: "limit") }
        guard (0...30).contains(wait) else { throw BatonError.invalidArgument("wait_seconds must be between 0 and 30", field: "wait_seconds") }
        guard TextRules.hasLength(body.worker, in: 1...200) else {
            throw BatonError.invalidArgument("worker must be 1 to 200 characters", field: "worker")
        }
        if let kinds = body.kinds, kinds.isEmpty || kinds.count > 50 {
            throw BatonError.invalidArgument("kinds must list 1 to 50 kinds", field: "kinds")
        }
        let leaseSeconds = body.leaseSeconds ?? team.defaultLeaseSeconds
        guard (5...86400).contains(leaseSeconds) else {
            throw BatonError.invalidArgument("lease_seconds must be between 5 and 86400", field: "lease_seconds")
        }
        let desk = await desks.desk(for: team.slug)
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            // Read the generation before looking, so a task committed after the look wakes us.
            let seen = await desk.current
            let started = ContinuousClock.now
            let claimed = try await tasks.claim(
                team: team.slug,
                worker: body.worker,
                limit: limit,
                leaseSeconds: leaseSeconds,
                kinds: body.kinds,
                by: principal
            )
            let now = ContinuousClock.now
            Metrics.Timer(label: "baton_claim_duration_seconds", dimensions: [("team", team.slug)])
                .recordNanoseconds((now - started).nanoseconds)
            if !claimed.isEmpty { Counter(label: "baton_tasks_claimed_total", dimensions: [("team", team.slug)]).increment(by: claimed.count) }
            let remaining = deadline - now
            if !claimed.isEmpty || remaining <= .zero || Task.isCancelled || Task.isShuttingDownGracefully {
                let list = try claimed.map { try Components.Schemas.Task($0, includeLeaseToken: true) }
                return .ok(.init(body: .json(.init(tasks: list))))
            }
            // Notifications wake us at once; the one-second cap is the fallback poll that
            // covers a lost notification and tasks whose run_at arrives.
            _ = await desk.wait(after: seen, timeout: min(remaining, .seconds(1)))
        }
    }

    func heartbeatTask(_ input: Operations.HeartbeatTask.Input) async throws -> Operations.HeartbeatTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let token = try leaseToken(body.leaseToken)
        if let seconds = body.leaseSeconds, !(5...86400).contains(seconds) {
            throw BatonError.invalidArgument("lease_seconds must be between 5 and 86400", field: "lease_seconds")
        }
        let task = try fenced(
            for: principal,
            try await tasks.heartbeat(id: Int(input.path.id), leaseToken: token, leaseSeconds: body.leaseSeconds, scope: principal.scope)
        )
        return .ok(.init(body: .json(try .init(task))))
    }

    func completeTask(_ input: Operations.CompleteTask.Input) async throws -> Operations.CompleteTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let token = try leaseToken(body.leaseToken)
        let result = try body.result.map { try JSONBridge.text($0) }
        let task = try fenced(
            for: principal,
            try await tasks.complete(id: Int(input.path.id), leaseToken: token, resultJSON: result, by: principal)
        )
        return .ok(.init(body: .json(try .init(task))))
    }

    func completeTasks(_ input: Operations.CompleteTasks.Input) async throws -> Operations.CompleteTasks.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        guard (1...1000).contains(body.items.count) else {
            throw BatonError(.ruleViolation, "a batch holds 1 to 1000 items", details: ["field": "items"])
        }
        let items = try body.items.enumerated().map { index, item in
            TaskStore.CompletionItem(
                id: Int(item.id),
                leaseToken: try leaseToken(item.leaseToken, field: "items[\(index)].lease_token"),
                resultJSON: try item.result.map { try JSONBridge.text($0) }
            )
        }
        // Items of teams outside the caller's scope are reported as not found, and not touched.
        let visible: Set<Int>
        if principal.scope.isUnrestricted {
            visible = Set(items.map(\.id))
        } else {
            let rows = try await database.pool.query(
                "SELECT id, team, region FROM tasks WHERE id = ANY($1)",
                [items.map(\.id)]
            )
            visible = Set(
                try rows.filter { principal.canSee(team: try $0.decode(String.self, "team"), region: try $0.decode(String.self, "region")) }
                    .map { try $0.decode(Int.self, "id") }
            )
        }
        let outcomes = try await tasks.completeMany(items.filter { visible.contains($0.id) }, by: principal)
        var outcomeByPosition = outcomes.makeIterator()
        let results: [Operations.CompleteTasks.Output.Ok.Body.JsonPayload.ItemsPayloadPayload] = items.map { item in
            guard visible.contains(item.id), let outcome = outcomeByPosition.next() else {
                return .init(id: Int64(item.id), outcome: .notFound)
            }
            switch outcome {
            case .success(let task): return .init(id: Int64(item.id), outcome: .completed, state: .init(rawValue: task.state.rawValue))
            case .failure(.staleLease(let task)):
                return .init(id: Int64(item.id), outcome: .staleLease, state: .init(rawValue: task.state.rawValue))
            case .failure(.notFound): return .init(id: Int64(item.id), outcome: .notFound)
            }
        }
        return .ok(.init(body: .json(.init(items: results))))
    }

    func failTask(_ input: Operations.FailTask.Input) async throws -> Operations.FailTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let token = try leaseToken(body.leaseToken)
        guard TextRules.hasLength(body.error, in: 1...10_000) else {
            throw BatonError.invalidArgument("error must be 1 to 10000 characters", field: "error")
        }
        if let retry = body.retryInSeconds, !(0...604_800).contains(retry) {
            throw BatonError.invalidArgument("retry_in_seconds must be between 0 and 604800", field: "retry_in_seconds")
        }
        let task = try fenced(
            for: principal,
            try await tasks.fail(
                id: Int(input.path.id),
                leaseToken: token,
                error: body.error,
                retryInSeconds: body.retryInSeconds,
                by: principal
            )
        )
        return .ok(.init(body: .json(try .init(task))))
    }

    func releaseTask(_ input: Operations.ReleaseTask.Input) async throws -> Operations.ReleaseTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let token = try leaseToken(body.leaseToken)
        let task = try fenced(for: principal, try await tasks.release(id: Int(input.path.id), leaseToken: token, by: principal))
        return .ok(.init(body: .json(try .init(task))))
    }

    func retryTask(_ input: Operations.RetryTask.Input) async throws -> Operations.RetryTask.Output {
        let principal = try RequestPrincipal.require()
        let current = try await task(input.path.id, .manageQueue, for: principal)
        do {
            guard
                let task = try await tasks.transition(
                    id: current.id,
                    from: [.dead],
                    to: .queued,
                    eventType: "task.retried",
                    reason: nil,
                    by: principal
                )
            else {
                throw BatonError(.conflict, "only a dead task can be retried", details: ["state": current.state.rawValue])
            }
            return .ok(.init(body: .json(try .init(task))))
        } catch let error as PostgresError where error.isUniqueViolation {
            throw BatonError(.conflict, "a live task with the same dedupe_key exists", details: ["state": current.state.rawValue])
        }
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        let principal = try RequestPrincipal.require()
        var reason: String?
        if case .json(let body) = input.body { reason = body.reason }
        let current = try await task(input.path.id, .workQueue, for: principal)
        guard
            let task = try await tasks.transition(
                id: current.id,
                from: [.queued, .claimed],
                to: .cancelled,
                eventType: "task.cancelled",
                reason: reason,
                by: principal
            )
        else {
            throw BatonError(.conflict, "only a queued or claimed task can be cancelled", details: ["state": current.state.rawValue])
        }
        return .ok(.init(body: .json(try .init(task))))
    }

    func handoffTask(_ input: Operations.HandoffTask.Input) async throws -> Operations.HandoffTask.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.workQueue)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        var draft = HandoffRequest(
            toTeam: body.toTeam,
            note: body.note,
            kind: body.kind,
            title: body.title,
            payloadJSON: try body.payload.map { try JSONBridge.text($0) },
            priority: body.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            dueAt: body.dueAt
        )
        try draft.validate()
        draft.leaseToken = try body.leaseToken.map { try leaseToken($0) }
        let request = draft
        let tasks = self.tasks
        let clocks = slaClocks
        let id = Int(input.path.id)
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let pool = database.pool
        let (_, result) = try await idempotent(key: input.headers.idempotencyKey, operation: "handoff/\(id)", request: body) { tx in
            var handoff = try await tasks.handoff(id: id, request, by: principal, on: tx) { source in
                guard principal.canSee(team: source.team, region: source.region) else { throw BatonError.notFound("no task \(id)") }
                RequestFacts.note(team: source.team)
            }
            // The old team's clocks stopped with the handoff (trigger); the new team's start now.
            let teams = TeamStore(pool: pool)
            if !catalog.policies.isEmpty, let target = try await teams.find(handoff.task.team, on: tx) {
                let source = try await teams.find(handoff.handedOff.team, on: tx)
                handoff.task = try await clocks.start(
                    for: [handoff.task],
                    in: target,
                    fromDepartment: source?.department,
                    keepDueAt: request.dueAt == nil ? [] : [handoff.task.id],
                    catalog: catalog,
                    on: tx
                )[0]
            }
            return (
                200,
                Operations.HandoffTask.Output.Ok.Body.JsonPayload(
                    handedOff: try .init(handoff.handedOff),
                    task: try .init(handoff.task)
                )
            )
        }
        return .ok(.init(body: .json(result)))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        let principal = try RequestPrincipal.require()
        let task = try await task(input.path.id, .readQueue, for: principal)
        let history = try await events.history(entityType: "task", entityID: String(task.id))
        let chain = try await tasks.chain(id: task.chainID).map { step -> Components.Schemas.ChainStep in
            let state = Components.Schemas.TaskState(rawValue: step.state.rawValue) ?? .queued
            guard principal.canSee(team: step.team, region: step.region) else {
                return .init(id: Int64(step.id), team: step.team, state: state)
            }
            return .init(id: Int64(step.id), team: step.team, state: state, task: try .init(step))
        }
        var sla: [Components.Schemas.SLAClock]?
        if task.slaPolicyID != nil {
            let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
            let now = Date()
            sla = try await slaClocks.clocks(taskID: task.id).map { .init($0, catalog: catalog, now: now) }
        }
        return .ok(
            .init(
                body: .json(.init(task: try .init(task), events: try history.map(Components.Schemas.Event.init), chain: chain, sla: sla))
            )
        )
    }

    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let principal = try RequestPrincipal.require()
        let page = try PageRequest(limit: input.query.limit, after: input.query.after)
        var teams = try await visibleTeams(for: principal)
        if let team = input.query.team {
            teams = (teams == nil || teams!.contains(team)) ? [team] : []
        }
        var subject: TaskSubject?
        if let text = input.query.subject {
            // `^[^:]+:[\s\S]+$`: the type is up to the first colon, the id is the rest.
            let scalars = text.unicodeScalars
            guard let colon = scalars.firstIndex(of: ":"), colon != scalars.startIndex, scalars.index(after: colon) != scalars.endIndex
            else {
                throw BatonError.invalidArgument("subject must be type:id", field: "subject")
            }
            subject = TaskSubject(
                type: String(String.UnicodeScalarView(scalars[..<colon])),
                id: String(String.UnicodeScalarView(scalars[scalars.index(after: colon)...]))
            )
        }
        let filter = TaskStore.Filter(
            teams: teams,
            state: input.query.state.flatMap { TaskState(rawValue: $0.rawValue) },
            kind: input.query.kind,
            subject: subject,
            tag: input.query.tag,
            createdAfter: input.query.createdAfter,
            createdBefore: input.query.createdBefore
        )
        let result = try await tasks.list(filter, page: page)
        return .ok(.init(body: .json(.init(tasks: try result.items.map { try .init($0) }, nextCursor: result.nextCursor))))
    }

    func getTeamStats(_ input: Operations.GetTeamStats.Input) async throws -> Operations.GetTeamStats.Output {
        let principal = try RequestPrincipal.require()
        let team = try await team(input.path.team, .readQueue, for: principal)
        let stats = try await tasks.stats(team: team.slug)
        let window = input.query.windowMinutes ?? 1440
        guard (1...525_600).contains(window) else {
            throw BatonError.invalidArgument("window_minutes must be between 1 and 525600", field: "window_minutes")
        }
        let figures = try await slaClocks.figures(team: team.slug, windowMinutes: window)
        return .ok(
            .init(
                body: .json(
                    .init(
                        team: stats.team,
                        paused: stats.paused,
                        counts: .init(additionalProperties: stats.counts),
                        oldestQueuedAgeSeconds: stats.oldestQueuedAgeSeconds,
                        completedLast5Minutes: stats.completedLast5Minutes,
                        completedLast60Minutes: stats.completedLast60Minutes,
                        dead: stats.dead,
                        sla: .init(
                            windowMinutes: figures.windowMinutes,
                            closed: figures.closed,
                            met: figures.met,
                            metPercent: figures.metPercent,
                            breached: figures.breached,
                            medianSecondsToClaim: figures.medianSecondsToClaim,
                            medianSecondsToDone: figures.medianSecondsToDone
                        )
                    )
                )
            )
        )
    }

    func pauseTeam(_ input: Operations.PauseTeam.Input) async throws -> Operations.PauseTeam.Output {
        let principal = try RequestPrincipal.require()
        let team = try await team(input.path.team, .manageQueue, for: principal)
        return .ok(.init(body: .json(.init(try await database.teams.setPaused(team.slug, paused: true, by: principal)))))
    }

    func resumeTeam(_ input: Operations.ResumeTeam.Input) async throws -> Operations.ResumeTeam.Output {
        let principal = try RequestPrincipal.require()
        let team = try await team(input.path.team, .manageQueue, for: principal)
        return .ok(.init(body: .json(.init(try await database.teams.setPaused(team.slug, paused: false, by: principal)))))
    }

    private func leaseToken(_ text: String, field: String = "lease_token") throws -> UUID {
        guard let token = UUID(uuidString: text) else { throw BatonError.invalidArgument("\(field) is not a lease token", field: field) }
        return token
    }

    /// The task a lease-fenced change produced, or the right error: 404 for a task that does
    /// not exist or is outside the caller's scope (the statement itself was scoped), 409 with
    /// the current state otherwise.
    private func fenced(for principal: Principal, _ result: Result<QueueTask, TaskStore.FenceFailure>) throws -> QueueTask {
        switch result {
        case .success(let task):
            RequestFacts.note(team: task.team)
            return task
        case .failure(.notFound): throw BatonError.notFound("no such task")
        case .failure(.staleLease(let task)):
            guard principal.canSee(team: task.team, region: task.region) else { throw BatonError.notFound("no such task") }
            throw BatonError.staleLease(task)
        }
    }
}
