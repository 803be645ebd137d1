import Foundation
public import PostgresClient

extension TaskStore {
    /// The two sides of a handoff.
    public struct Handoff: Sendable, Codable {
        public var handedOff: QueueTask
        public var task: QueueTask
        /// The task went back to the team it came from.
        public var rejected: Bool
    }

    /// Hands a live task to another team in one transaction: the task becomes `handed_off`,
    /// a new task is queued in the target team on the same chain, and events are written for
    /// both. A claimed task can only be handed off by the holder of its lease, unless
    /// `overridingLease` (an SLA escalation taking the task away).
    public func handoff(
        id: Int,
        _ request: HandoffRequest,
        by principal: Principal,
        on tx: PostgresConnection,
        overridingLease: Bool = false,
        authorize: (QueueTask) throws -> Void
    ) async throws -> Handoff {
        guard let source = try await tx.query("SELECT \(Self.columns) FROM tasks WHERE id = $1 FOR UPDATE", [id]).first.map(Self.task)
        else {
            throw BatonError.notFound("no such task")
        }
        try authorize(source)
        guard source.state.isLive else {
            throw BatonError(.conflict, "a \(source.state.rawValue) task cannot be handed off", details: ["state": source.state.rawValue])
        }
        if source.state == .claimed, !overridingLease {
            guard let token = request.leaseToken, token == source.lease?.token, let lease = source.lease, lease.expiresAt > Date()
            else {
                throw BatonError(
                    .conflict,
                    "the task is claimed; hand it off with its current lease_token",
                    details: ["state": source.state.rawValue]
                )
            }
        }
        guard request.toTeam != source.team else {
            throw BatonError(.ruleViolation, "a task cannot be handed off to its own team", details: ["field": "to_team"])
        }
        guard let target = try await tx.query("SELECT slug, region FROM teams WHERE slug = $1", [request.toTeam]).first else {
            throw BatonError(.ruleViolation, "no team '\(request.toTeam)' to hand off to", details: ["field": "to_team"])
        }
        let targetRegion = try target.decode(String.self, "region")
        var previousTeam: String?
        if let from = source.handedOffFrom {
            previousTeam = try await tx.query("SELECT team FROM tasks WHERE id = $1", [from]).first?.decode(String.self, "team")
        }
        let rejected = previousTeam == request.toTeam

        let handedOff = try await tx.query(
            """
            WITH handed AS (
                UPDATE tasks SET state = 'handed_off', lease_token = NULL, lease_expires_at = NULL, finished_at = now(),
                                 updated_at = now()
                WHERE id = $1
                RETURNING *
            ),
            counted AS (\(Self.countFinished(from: "handed", state: "'handed_off'")))
            SELECT \(Self.columns) FROM handed
            """,
            [id]
        )
        guard let handedOffTask = try handedOff.first.map(Self.task) else { throw BatonError.notFound("no such task") }
        let created: PostgresQueryResult
        do {
            created = try await tx.query(
                """
                    INSERT INTO tasks (team, region, kind, title, payload, priority, due_at, max_attempts, dedupe_key,
                                   subject_type, subject_id, tags, created_by, handed_off_from, handoff_note, chain_id)
                SELECT t.slug, t.region, coalesce($2, s.kind), coalesce($3, s.title), coalesce($4::jsonb, s.payload),
                       coalesce($5::smallint, s.priority), $6, t.default_max_attempts, s.dedupe_key, s.subject_type,
                       s.subject_id, s.tags, $7, s.id, $8, s.chain_id
                FROM tasks s, teams t
                WHERE s.id = $1 AND t.slug = $9
                RETURNING \(Self.columns)
                """,
                [
                    id, request.kind, request.title, request.payloadJSON.map(PostgresJSONText.init), request.priority?.rank,
                    request.dueAt, principal.actorID, request.note, request.toTeam,
                ]
            )
        } catch let error as PostgresError where error.isUniqueViolation {
            // The task's dedupe key travels with it; the target team already has live work under it.
            throw BatonError(
                .conflict,
                "\(request.toTeam) already has a live task with dedupe key '\(source.dedupeKey ?? "")'",
                details: ["field": "to_team", "state": source.state.rawValue]
            )
        }
        guard let newTask = try created.first.map(Self.task) else { throw BatonError(.internalError, "handoff target not created") }
        var events: [(String, QueueTask, String)] = [
            (
                "task.handed_off", handedOffTask,
                PostgresJSON(["to_team": request.toTeam, "to_task": String(newTask.id), "note": request.note]).postgresText
            ),
            (
                "task.created", newTask,
                PostgresJSON(["from_team": source.team, "from_task": String(source.id), "note": request.note]).postgresText
            ),
        ]
        if rejected {
            events.append(
                (
                    "task.handoff_rejected", handedOffTask,
                    PostgresJSON(["returned_to": request.toTeam, "reason": request.note, "to_task": String(newTask.id)])
                        .postgresText
                )
            )
        }
        try await tx.query(
            """
            INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
            SELECT e.type, $5, 'principal', $6, 'task', e.entity_id, e.team, e.region, e.data::jsonb
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $7::text[]) AS e(type, entity_id, team, region, data)
            """,
            [
                events.map(\.0), events.map { String($0.1.id) }, events.map(\.1.team), events.map(\.1.region),
                principal.source, principal.actorID, events.map(\.2),
            ]
        )
        _ = targetRegion
        return Handoff(handedOff: handedOffTask, task: newTask, rejected: rejected)
    }
}
