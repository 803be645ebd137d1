import Foundation
public import Logging
import Metrics
import PostgresClient
public import ServiceLifecycle

/// Watches SLA clocks: emits `sla.at_risk` when 80% of a target is used and `sla.breached`
/// when it is missed, fires escalation levels as they come due, and resumes holds whose
/// `until` passed. Safe in every instance at once: each event is written by the statement that
/// marks its clock (rows taken with SKIP LOCKED and re-checked under the lock), and each
/// escalation level is locked, acted on and marked in one transaction, so every event and
/// every level happens once. With `region` it sweeps only that region's clocks.
public struct SLAMonitor: Service {
    let services: BatonServices
    let region: String?
    let interval: Duration
    let logger: Logger

    public init(services: BatonServices, region: String? = nil, interval: Duration = .seconds(5), logger: Logger) {
        self.services = services
        self.region = region
        self.interval = interval
        self.logger = logger
    }

    private var database: BatonDatabase { services.database }

    /// What one sweep did.
    public struct Sweep: Sendable, Equatable {
        public var resumed = 0
        public var breached = 0
        public var atRisk = 0
        public var escalations = 0
    }

    public func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do {
                let sweep = try await self.sweep()
                if sweep != Sweep() {
                    logger.info(
                        "SLA sweep",
                        metadata: [
                            "breached": "\(sweep.breached)", "at_risk": "\(sweep.atRisk)", "escalations": "\(sweep.escalations)",
                            "resumed": "\(sweep.resumed)",
                        ]
                    )
                }
            } catch let error as PostgresError where error.isUnavailable {
                logger.debug("SLA monitor waiting for the database", metadata: ["error": "\(error.code)"])
            } catch {
                logger.warning("SLA sweep failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// One pass: holds due to end, breaches, at-risk points, escalations, in that order (a
    /// breach marks the at-risk point too, so a clock found late never reports at risk after it
    /// breached; escalations see the breaches of this pass).
    public func sweep() async throws -> Sweep {
        var sweep = Sweep()
        sweep.resumed = try await resumeEndedHolds()
        sweep.breached = try await mark(.breached)
        sweep.atRisk = try await mark(.atRisk)
        sweep.escalations = try await fireEscalations()
        if sweep != Sweep() { services.wakeups.eventsWritten() }
        if sweep.breached > 0 { Counter(label: "baton_sla_events_total", dimensions: [("type", "breached")]).increment(by: sweep.breached) }
        if sweep.atRisk > 0 { Counter(label: "baton_sla_events_total", dimensions: [("type", "at_risk")]).increment(by: sweep.atRisk) }
        if sweep.escalations > 0 {
            Counter(label: "baton_sla_events_total", dimensions: [("type", "escalated")]).increment(by: sweep.escalations)
        }
        return sweep
    }

    // MARK: - Breaches and at-risk points

    private func mark(_ mark: SLAClockStore.Mark) async throws -> Int {
        let clocks = SLAClockStore(pool: database.pool)
        var total = 0
        while true {
            let count = try await database.pool.withConnection { try await clocks.mark(mark, region: region, taskID: nil, on: $0) }
            total += count
            if count < SLAClockStore.markBatch { return total }
        }
    }

    // MARK: - Holds

    private func resumeEndedHolds() async throws -> Int {
        var resumed = 0
        for id in try await services.tasks.store.endedHolds(region: region, limit: 100) {
            do {
                if try await services.sla.resumeEndedHold(taskID: id) { resumed += 1 }
            } catch let error as PostgresError where error.isUnavailable {
                throw error
            } catch {
                // One task that cannot be resumed must not stop the sweep's breaches and escalations.
                logger.warning("could not resume a held task", metadata: ["task": "\(id)", "error": "\(error)"])
            }
        }
        return resumed
    }

    // MARK: - Escalation

    private func fireEscalations() async throws -> Int {
        var fired = 0
        var busy: [Int] = []
        // One level per transaction: lock its task, then the level, act, mark it. A bound keeps
        // one sweep short.
        for _ in 0..<200 {
            let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
            let result = try await database.pool.transaction { tx in try await self.fireNextEscalation(skipping: busy, catalog: catalog, on: tx) }
            switch result {
            case .none: return fired
            case .fired(let queuedIn):
                fired += 1
                if let queuedIn { services.wakeups.queued(in: [queuedIn]) }
            case .busy(let taskID): busy.append(taskID)
            }
        }
        return fired
    }

    private enum Firing {
        case none
        /// With the team a task was created or handed off to, if any.
        case fired(queuedIn: String?)
        /// Another transaction holds the task; try it on a later sweep.
        case busy(taskID: Int)
    }

    private func fireNextEscalation(skipping busy: [Int], catalog: SLACatalog.Snapshot, on tx: PostgresConnection) async throws -> Firing {
        let escalations = EscalationStore()
        guard let taskID = try await escalations.nextDueTask(region: region, skipping: busy, on: tx) else { return .none }
        // The task is locked before its escalation rows, the order every task change takes
        // (its trigger updates them), so a monitor and a worker never wait on each other in a
        // cycle; the level is then re-checked under both locks.
        guard let task = try await services.tasks.store.lock(id: taskID, skipLocked: true, on: tx),
            let due = try await escalations.lockNextDueLevel(taskID: taskID, on: tx)
        else { return .busy(taskID: taskID) }
        let level = due.spec
        let basisAt = level.basis == .breach ? due.breachedAt : due.atRiskEmittedAt
        var outcome = "fired"
        var data: [String: String] = [
            "target": due.target, "policy_id": String(due.policyID), "level": String(due.level), "action": level.action.rawValue,
            "basis": level.basis.rawValue,
        ]
        if let message = level.message { data["message"] = message }
        let since = [basisAt, due.lastFired].compactMap { $0 }.max()
        // Marked before acting: a handoff stops the clock, and the trigger closes the clock's
        // pending levels, this one included.
        try await escalations.record(clockID: due.clockID, level: due.level, outcome: outcome, on: tx)
        if level.skipIfUpdated, let since, task.updatedAt > since {
            outcome = "skipped"
            data["reason"] =
                "the task was updated after the \(due.lastFired.map { $0 >= (basisAt ?? .distantPast) } == true ? "last escalation" : level.basis == .breach ? "breach" : "at-risk point")"
        } else {
            // A failing action leaves nothing behind and does not block the levels after it:
            // its statements roll back to the savepoint and the level is recorded as failed.
            do {
                try await tx.withSavepoint { tx in
                    try await act(level, on: task, clockID: due.clockID, levelNumber: due.level, data: &data, catalog: catalog, tx: tx)
                }
            } catch {
                outcome = "failed"
                data["reason"] = (error as? BatonError)?.message ?? "the action failed in the database"
                logger.warning("SLA escalation failed", metadata: ["task": "\(task.id)", "level": "\(due.level)", "error": "\(error)"])
            }
        }
        data["outcome"] = outcome
        try await escalations.record(clockID: due.clockID, level: due.level, outcome: outcome, on: tx)
        try await EventStore(pool: database.pool).append(
            type: "sla.escalated",
            entityType: "task",
            entityID: String(task.id),
            team: task.team,
            region: task.region,
            dataJSON: PostgresJSON(data).postgresText,
            by: .system(),
            on: tx
        )
        return .fired(queuedIn: outcome == "fired" ? data["to_team"] : nil)
    }

    private func act(
        _ level: EscalationLevel,
        on task: QueueTask,
        clockID: Int,
        levelNumber: Int,
        data: inout [String: String],
        catalog: SLACatalog.Snapshot,
        tx: PostgresConnection
    ) async throws {
        let system = Principal.system()
        let teams = TeamStore(pool: database.pool)
        guard task.state.isLive else { throw BatonError(.conflict, "the task is \(task.state.rawValue)") }
        switch level.action {
        case .notify:
            break
        case .raisePriority:
            let rank = level.priority?.rank ?? max(0, task.priority.rank - 1)
            try await services.tasks.store.raisePriority(id: task.id, to: rank, on: tx)
            data["from_priority"] = task.priority.rawValue
            data["to_priority"] = (TaskPriority(rank: min(rank, task.priority.rank)) ?? task.priority).rawValue
        case .handoff:
            guard let slug = level.team, try await teams.find(slug, on: tx) != nil else {
                throw BatonError(.ruleViolation, "no team '\(level.team ?? "")' to hand off to")
            }
            let handoff = try await services.tasks.handoff(
                id: task.id,
                HandoffRequest(toTeam: slug, note: level.message ?? "SLA escalation level \(levelNumber)"),
                by: system,
                overridingLease: true,
                catalog: catalog,
                on: tx,
                authorize: { _ in }
            )
            data["to_team"] = slug
            data["to_task"] = String(handoff.task.id)
        case .createTask:
            let slug = level.team ?? "\(Department.coordination.rawValue)-\(task.region)"
            guard let team = try await teams.find(slug, on: tx) else {
                throw BatonError(.ruleViolation, "no team '\(slug)' for the coordinators")
            }
            let payload = PostgresJSON([
                "task_id": String(task.id), "team": task.team, "title": task.title, "level": String(levelNumber),
                "message": level.message ?? "",
            ])
            let created = try await services.tasks.create(
                [
                    NewTask(
                        kind: "sla_escalation",
                        // The column counts code points, which a Character prefix could exceed.
                        title: String(String.UnicodeScalarView("Escalation: \(task.title)".unicodeScalars.prefix(500))),
                        payloadJSON: payload.postgresText,
                        priority: .high,
                        dedupeKey: "sla-escalation-\(clockID)-\(levelNumber)",
                        subject: TaskSubject(type: "task", id: String(task.id)),
                        tags: ["escalation"]
                    )
                ],
                in: team,
                by: system,
                catalog: catalog,
                on: tx
            )
            data["created_task"] = created.first.map { String($0.task.id) } ?? ""
            data["to_team"] = slug
        }
    }
}
