import BatonCore
import Foundation

extension APIHandler {
    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let created = try await services.tasks.create(
            try NewTask(body),
            inTeam: input.path.team,
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        RequestFacts.note(team: created.task.team)
        let task = try Components.Schemas.Task(created.task)
        return created.isNew ? .created(.init(body: .json(task))) : .ok(.init(body: .json(task)))
    }

    func createTasks(_ input: Operations.CreateTasks.Input) async throws -> Operations.CreateTasks.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let created = try await services.tasks.createMany(
            try body.tasks.map(NewTask.init),
            inTeam: input.path.team,
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        RequestFacts.note(team: input.path.team)
        return .created(.init(body: .json(.init(tasks: try created.map { try Components.Schemas.Task($0.task) }))))
    }

    func claimTasks(_ input: Operations.ClaimTasks.Input) async throws -> Operations.ClaimTasks.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let request = TaskService.ClaimRequest(
            worker: body.worker,
            limit: body.limit ?? 1,
            leaseSeconds: body.leaseSeconds,
            kinds: body.kinds,
            waitSeconds: body.waitSeconds ?? 0
        )
        let claimed = try await services.tasks.claim(request, inTeam: input.path.team, by: principal)
        RequestFacts.note(team: input.path.team)
        return .ok(.init(body: .json(.init(tasks: try claimed.map { try Components.Schemas.Task($0, includeLeaseToken: true) }))))
    }

    func heartbeatTask(_ input: Operations.HeartbeatTask.Input) async throws -> Operations.HeartbeatTask.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let task = try await services.tasks.heartbeat(
            id: Int(input.path.id),
            leaseToken: try leaseToken(body.leaseToken),
            leaseSeconds: body.leaseSeconds,
            by: principal
        )
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func completeTask(_ input: Operations.CompleteTask.Input) async throws -> Operations.CompleteTask.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let task = try await services.tasks.complete(
            id: Int(input.path.id),
            leaseToken: try leaseToken(body.leaseToken),
            resultJSON: try body.result.map { try JSONBridge.text($0) },
            by: principal
        )
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func completeTasks(_ input: Operations.CompleteTasks.Input) async throws -> Operations.CompleteTasks.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let items = try body.items.enumerated().map { index, item in
            TaskStore.CompletionItem(
                id: Int(item.id),
                leaseToken: try leaseToken(item.leaseToken, field: "items[\(index)].lease_token"),
                resultJSON: try item.result.map { try JSONBridge.text($0) }
            )
        }
        let outcomes = try await services.tasks.completeMany(items, by: principal)
        let results = zip(items, outcomes).map { item, outcome -> Operations.CompleteTasks.Output.Ok.Body.JsonPayload.ItemsPayloadPayload in
            switch outcome {
            case .completed(let task): .init(id: Int64(item.id), outcome: .completed, state: .init(rawValue: task.state.rawValue))
            case .staleLease(let task): .init(id: Int64(item.id), outcome: .staleLease, state: .init(rawValue: task.state.rawValue))
            case .notFound: .init(id: Int64(item.id), outcome: .notFound)
            }
        }
        return .ok(.init(body: .json(.init(items: results))))
    }

    func failTask(_ input: Operations.FailTask.Input) async throws -> Operations.FailTask.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let task = try await services.tasks.fail(
            id: Int(input.path.id),
            leaseToken: try leaseToken(body.leaseToken),
            error: body.error,
            retryInSeconds: body.retryInSeconds,
            by: principal
        )
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func releaseTask(_ input: Operations.ReleaseTask.Input) async throws -> Operations.ReleaseTask.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let task = try await services.tasks.release(id: Int(input.path.id), leaseToken: try leaseToken(body.leaseToken), by: principal)
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func retryTask(_ input: Operations.RetryTask.Input) async throws -> Operations.RetryTask.Output {
        let task = try await services.tasks.retry(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func cancelTask(_ input: Operations.CancelTask.Input) async throws -> Operations.CancelTask.Output {
        let principal = try RequestPrincipal.require()
        var reason: String?
        if case .json(let body) = input.body { reason = body.reason }
        let task = try await services.tasks.cancel(id: Int(input.path.id), reason: reason, by: principal)
        return .ok(.init(body: .json(try .init(noted(task)))))
    }

    func handoffTask(_ input: Operations.HandoffTask.Input) async throws -> Operations.HandoffTask.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let request = HandoffRequest(
            toTeam: body.toTeam,
            note: body.note,
            kind: body.kind,
            title: body.title,
            payloadJSON: try body.payload.map { try JSONBridge.text($0) },
            priority: body.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            dueAt: body.dueAt,
            leaseToken: try body.leaseToken.map { try leaseToken($0) }
        )
        let handoff = try await services.tasks.handoff(
            id: Int(input.path.id),
            request,
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        RequestFacts.note(team: handoff.handedOff.team)
        return .ok(.init(body: .json(.init(handedOff: try .init(handoff.handedOff), task: try .init(handoff.task)))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        let detail = try await services.tasks.detail(id: Int(input.path.id), by: try RequestPrincipal.require())
        let chain = try detail.chain.map { step -> Components.Schemas.ChainStep in
            switch step {
            case .visible(let task):
                return .init(id: Int64(task.id), team: task.team, state: .init(task.state), task: try .init(task))
            case .hidden(let id, let team, let state):
                return .init(id: Int64(id), team: team, state: .init(state))
            }
        }
        let now = Date()
        let sla = detail.catalog.flatMap { catalog in detail.clocks?.map { Components.Schemas.SLAClock($0, catalog: catalog, now: now) } }
        let task = try Components.Schemas.Task(noted(detail.task))
        return .ok(.init(body: .json(.init(task: task, events: try detail.events.map(Components.Schemas.Event.init), chain: chain, sla: sla))))
    }

    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        let principal = try RequestPrincipal.require()
        let page = try PageRequest(limit: input.query.limit, after: input.query.after)
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
            team: input.query.team,
            state: input.query.state.flatMap { TaskState(rawValue: $0.rawValue) },
            kind: input.query.kind,
            subject: subject,
            tag: input.query.tag,
            createdAfter: input.query.createdAfter,
            createdBefore: input.query.createdBefore
        )
        let result = try await services.tasks.list(filter, page: page, by: principal)
        return .ok(.init(body: .json(.init(tasks: try result.items.map { try .init($0) }, nextCursor: result.nextCursor))))
    }

    func getTeamStats(_ input: Operations.GetTeamStats.Input) async throws -> Operations.GetTeamStats.Output {
        let principal = try RequestPrincipal.require()
        let (stats, figures) = try await services.tasks.stats(team: input.path.team, windowMinutes: input.query.windowMinutes ?? 1440, by: principal)
        RequestFacts.note(team: stats.team)
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
        let team = try await services.tasks.setPaused(team: input.path.team, true, by: try RequestPrincipal.require())
        RequestFacts.note(team: team.slug)
        return .ok(.init(body: .json(.init(team))))
    }

    func resumeTeam(_ input: Operations.ResumeTeam.Input) async throws -> Operations.ResumeTeam.Output {
        let team = try await services.tasks.setPaused(team: input.path.team, false, by: try RequestPrincipal.require())
        RequestFacts.note(team: team.slug)
        return .ok(.init(body: .json(.init(team))))
    }

    /// A lease token from the body; 400 naming the field when it is not one.
    func leaseToken(_ text: String, field: String = "lease_token") throws -> UUID {
        guard let token = UUID(uuidString: text) else { throw BatonError.invalidArgument("\(field) is not a lease token", field: field) }
        return token
    }

    /// The task, with its team noted for the access log.
    func noted(_ task: QueueTask) -> QueueTask {
        RequestFacts.note(team: task.team)
        return task
    }
}
