public import Foundation
public import PostgresClient

/// Tasks: the SQL of the queue. Every statement that changes a task writes its events in the
/// same statement or transaction, so the log and the table never disagree.
public struct TaskStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    private static let columnList = [
        "id", "team", "region", "kind", "title", "payload::text AS payload", "priority", "state", "run_at", "due_at",
        "attempts", "max_attempts", "lease_worker", "lease_token", "lease_expires_at", "result::text AS result",
        "last_error", "dedupe_key", "subject_type", "subject_id", "tags", "created_by", "handed_off_from",
        "handoff_note", "chain_id", "created_at", "updated_at", "claimed_at", "finished_at", "held_at", "hold_until",
        "hold_reason", "sla_policy_id",
    ]

    /// The columns every task read returns, in the shape ``task(_:)`` decodes.
    static let columns = columnList.joined(separator: ", ")

    /// The same columns, qualified by a table or CTE name.
    static func columns(of alias: String) -> String {
        columnList.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    /// An `INSERT INTO events` over the rows of CTE `source`, for use inside a `WITH`: one event
    /// per row and entry of `events` (in that order, one INSERT, so their ids follow it), by
    /// `principal`. `type` and `data` are SQL expressions over those rows; an event whose type
    /// yields NULL is left out.
    static func eventInsert(from source: String, events: [(type: String, data: String)], by principal: Principal) -> PostgresQuery {
        let values = events.enumerated().map { "(\($0.offset), \($0.element.type), \($0.element.data))" }.joined(separator: ", ")
        return """
            INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
            SELECT e.type, \(principal.source), 'principal', \(principal.actorID), 'task', \(unescaped: source).id::text,
                   \(unescaped: source).team, \(unescaped: source).region, e.data
            FROM \(unescaped: source) CROSS JOIN LATERAL (VALUES \(unescaped: values)) AS e(ord, type, data)
            WHERE e.type IS NOT NULL
            ORDER BY \(unescaped: source).id, e.ord
            """
    }

    /// ``eventInsert(from:events:by:)`` with one event per row, without the lateral join.
    static func eventInsert(from source: String, type: String, data: String, by principal: Principal) -> PostgresQuery {
        """
        INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
        SELECT \(unescaped: type), \(principal.source), 'principal', \(principal.actorID), 'task', \(unescaped: source).id::text,
               \(unescaped: source).team, \(unescaped: source).region, \(unescaped: data)
        FROM \(unescaped: source)
        ORDER BY \(unescaped: source).id
        """
    }

    static func task(_ row: PostgresRow) throws -> QueueTask {
        let leaseWorker = try row.decode(String?.self, "lease_worker")
        let leaseExpires = try row.decode(Date?.self, "lease_expires_at")
        let leaseToken = try row.decode(UUID?.self, "lease_token")
        let subjectType = try row.decode(String?.self, "subject_type")
        let subjectID = try row.decode(String?.self, "subject_id")
        let stateText = try row.decode(String.self, "state")
        guard let state = TaskState(rawValue: stateText),
            let priority = TaskPriority(rank: try row.decode(Int.self, "priority"))
        else {
            throw PostgresError(code: .decoding, message: "unknown task state or priority")
        }
        var lease: Lease?
        if state == .claimed, let leaseWorker, let leaseExpires {
            lease = Lease(worker: leaseWorker, token: leaseToken, expiresAt: leaseExpires)
        }
        return QueueTask(
            id: try row.decode(Int.self, "id"),
            team: try row.decode(String.self, "team"),
            region: try row.decode(String.self, "region"),
            kind: try row.decode(String.self, "kind"),
            title: try row.decode(String.self, "title"),
            payloadJSON: try row.decode(String.self, "payload"),
            priority: priority,
            state: state,
            runAt: try row.decode(Date.self, "run_at"),
            dueAt: try row.decode(Date?.self, "due_at"),
            attempts: try row.decode(Int.self, "attempts"),
            maxAttempts: try row.decode(Int.self, "max_attempts"),
            lease: lease,
            resultJSON: try row.decode(String?.self, "result"),
            lastError: try row.decode(String?.self, "last_error"),
            dedupeKey: try row.decode(String?.self, "dedupe_key"),
            subject: subjectType.flatMap { type in subjectID.map { TaskSubject(type: type, id: $0) } },
            tags: try row.decode([String].self, "tags"),
            createdBy: try row.decode(String?.self, "created_by"),
            handedOffFrom: try row.decode(Int?.self, "handed_off_from"),
            handoffNote: try row.decode(String?.self, "handoff_note"),
            chainID: try row.decode(Int.self, "chain_id"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at"),
            claimedAt: try row.decode(Date?.self, "claimed_at"),
            finishedAt: try row.decode(Date?.self, "finished_at"),
            // A hold ends with the task: a finished task is not on hold, whatever the row says.
            hold: try row.decode(Date?.self, "held_at").flatMap { since in
                guard state.isLive else { return nil }
                return
                    TaskHold(since: since, until: try row.decode(Date?.self, "hold_until"), reason: try row.decode(String?.self, "hold_reason") ?? "")
            },
            slaPolicyID: try row.decode(Int?.self, "sla_policy_id")
        )
    }

    // MARK: - Create

    /// The outcome of creating one task of a batch.
    public struct Created: Sendable, Codable {
        public var task: QueueTask
        /// False when a live task with the same dedupe key already existed and is returned instead.
        public var isNew: Bool
    }

    /// Creates tasks in `team` in one statement; a task whose dedupe key matches a live task
    /// of the team returns that task instead. Runs on `connection` so it can share a
    /// transaction with an idempotency record.
    public func create(
        _ tasks: [NewTask],
        in team: Team,
        by principal: Principal,
        on connection: PostgresConnection
    ) async throws -> [Created] {
        guard !tasks.isEmpty else { return [] }
        if tasks.count == 1 { return [try await createOne(tasks[0], in: team, by: principal, on: connection)] }
        func column(_ value: (NewTask) -> String?) -> PostgresTextArray { PostgresTextArray(tasks.map(value)) }
        let statement: PostgresQuery = """
            WITH input AS (
                SELECT * FROM unnest(\(column(\.kind))::text[], \(column(\.title))::text[], \(column(\.payloadJSON))::text[],
                                     \(column { $0.priority.map { String($0.rank) } })::text[],
                                     \(column { $0.runAt.map(PostgresTimestamp.format) })::text[],
                                     \(column { $0.dueAt.map(PostgresTimestamp.format) })::text[],
                                     \(column { $0.maxAttempts.map(String.init) })::text[],
                                     \(column { $0.backoffBaseSeconds.map(String.init) })::text[],
                                     \(column(\.dedupeKey))::text[], \(column { $0.subject?.type })::text[],
                                     \(column { $0.subject?.id })::text[],
                                     \(column { task in task.tags.map { PostgresJSON($0).postgresText } })::text[])
                    WITH ORDINALITY AS i(kind, title, payload, priority, run_at, due_at, max_attempts, backoff,
                                         dedupe_key, subject_type, subject_id, tags, ord)
            ),
            numbered AS MATERIALIZED (
                SELECT nextval('tasks_id_seq') AS id, input.* FROM input
            ),
            inserted AS (
                INSERT INTO tasks (id, chain_id, team, region, kind, title, payload, priority, run_at, due_at,
                                   max_attempts, backoff_base_seconds, dedupe_key, subject_type, subject_id, tags,
                                   created_by)
                SELECT n.id, n.id, t.slug, t.region, n.kind, n.title, coalesce(n.payload::jsonb, '{}'::jsonb),
                       coalesce(n.priority::smallint, 2), coalesce(n.run_at::timestamptz, now()),
                       n.due_at::timestamptz, coalesce(n.max_attempts::integer, t.default_max_attempts),
                       n.backoff::integer, n.dedupe_key, n.subject_type, n.subject_id,
                       coalesce(ARRAY(SELECT jsonb_array_elements_text(n.tags::jsonb)), '{}'), \(principal.actorID)
                FROM numbered n CROSS JOIN teams t
                WHERE t.slug = \(team.slug)
                ORDER BY n.ord
                ON CONFLICT (team, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'claimed')
                DO NOTHING
                RETURNING *
            ),
            created_events AS (
                \(Self.eventInsert(
                    from: "inserted", type: "'task.created'",
                    data: "jsonb_build_object('kind', inserted.kind, 'chain_id', inserted.chain_id, 'priority', inserted.priority)",
                    by: principal))
            )
            SELECT numbered.ord, \(unescaped: Self.columns(of: "inserted"))
            FROM inserted JOIN numbered USING (id)
            """
        let rows = try await connection.query(statement, prepared: true)
        var byOrdinal: [Int: QueueTask] = [:]
        for row in rows {
            byOrdinal[try row.decode(Int.self, "ord")] = try Self.task(row)
        }
        var results: [Created] = []
        results.reserveCapacity(tasks.count)
        var missingKeys: [String] = []
        for (offset, task) in tasks.enumerated() where byOrdinal[offset + 1] == nil {
            guard let key = task.dedupeKey else {
                throw BatonError(.internalError, "a task without a dedupe key was not inserted")
            }
            missingKeys.append(key)
        }
        var existing: [String: QueueTask] = [:]
        if !missingKeys.isEmpty {
            let found = try await connection.query(
                """
                SELECT \(Self.columns) FROM tasks
                WHERE team = $1 AND dedupe_key = ANY($2) AND state IN ('queued', 'claimed')
                """,
                [team.slug, missingKeys]
            )
            for row in found {
                let task = try Self.task(row)
                if let key = task.dedupeKey { existing[key] = task }
            }
        }
        for (offset, task) in tasks.enumerated() {
            if let inserted = byOrdinal[offset + 1] {
                results.append(Created(task: inserted, isNew: true))
            } else if let key = task.dedupeKey, let found = existing[key] {
                results.append(Created(task: found, isNew: false))
            } else {
                // The live duplicate finished between the insert and the lookup; retrying is safe.
                throw BatonError(.conflict, "a task with dedupe key '\(task.dedupeKey ?? "")' changed concurrently; retry")
            }
        }
        return results
    }

    /// One task: the API's usual create, as one plain INSERT with its event (a batch goes
    /// through the arrays above). The dedupe arbiter is named only when there is a key, since
    /// `ON CONFLICT` makes every insert speculative.
    private func createOne(_ task: NewTask, in team: Team, by principal: Principal, on connection: PostgresConnection) async throws -> Created {
        let onConflict =
            task.dedupeKey == nil ? "" : "ON CONFLICT (team, dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'claimed') DO NOTHING"
        let rows = try await connection.query(
            """
            WITH inserted AS (
                INSERT INTO tasks (id, chain_id, team, region, kind, title, payload, priority, run_at, due_at,
                                   max_attempts, backoff_base_seconds, dedupe_key, subject_type, subject_id, tags, created_by)
                SELECT n.id, n.id, t.slug, t.region, \(task.kind), \(task.title), coalesce(\(task.payloadJSON.map(PostgresJSONText.init))::jsonb, '{}'),
                       coalesce(\(task.priority?.rank)::smallint, 2), coalesce(\(task.runAt)::timestamptz, now()), \(task.dueAt)::timestamptz,
                       coalesce(\(task.maxAttempts)::integer, t.default_max_attempts), \(task.backoffBaseSeconds)::integer,
                       \(task.dedupeKey)::text, \(task.subject?.type)::text, \(task.subject?.id)::text, coalesce(\(task.tags)::text[], '{}'),
                       \(principal.actorID)
                FROM teams t, (SELECT nextval('tasks_id_seq') AS id) n
                WHERE t.slug = \(team.slug)
                \(unescaped: onConflict)
                RETURNING *
            ),
            created_events AS (
                \(Self.eventInsert(
                    from: "inserted", type: "'task.created'",
                    data: "jsonb_build_object('kind', inserted.kind, 'chain_id', inserted.chain_id, 'priority', inserted.priority)",
                    by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM inserted
            """,
            prepared: true
        )
        if let row = rows.first { return Created(task: try Self.task(row), isNew: true) }
        guard let key = task.dedupeKey else { throw BatonError.notFound("no team '\(team.slug)'") }
        let found = try await connection.query(
            "SELECT \(Self.columns) FROM tasks WHERE team = $1 AND dedupe_key = $2 AND state IN ('queued', 'claimed')",
            [team.slug, key]
        )
        guard let existing = try found.first.map(Self.task) else {
            // The live duplicate finished between the insert and the lookup; retrying is safe.
            throw BatonError(.conflict, "a task with dedupe key '\(key)' changed concurrently; retry")
        }
        return Created(task: existing, isNew: false)
    }

    // MARK: - Read

    /// One task, or `nil`.
    public func find(id: Int) async throws -> QueueTask? {
        try await pool.query("SELECT \(Self.columns) FROM tasks WHERE id = $1", [id], prepared: true).first.map(Self.task)
    }

    /// One task within `scope`, or `nil` (also for a task of a team out of scope).
    public func find(id: Int, scope: Scope) async throws -> QueueTask? {
        try await pool.query(
            "SELECT \(unescaped: Self.columns) FROM tasks WHERE id = \(id) AND \(scope.condition(team: "team", region: "region"))",
            prepared: true
        ).first.map(Self.task)
    }

    /// Locks a task for the caller's transaction; `nil` when it does not exist, or (with
    /// `skipLocked`) another transaction holds it.
    public func lock(id: Int, skipLocked: Bool = false, on tx: PostgresConnection) async throws -> QueueTask? {
        try await tx.query(
            "SELECT \(Self.columns) FROM tasks WHERE id = $1 FOR UPDATE\(skipLocked ? " SKIP LOCKED" : "")",
            [id]
        ).first.map(Self.task)
    }

    /// Whether the task row `alias` is a step of a handoff chain of more than one (the first
    /// step is handed off, every later one has `handed_off_from`): the predicate of the partial
    /// index `tasks_chain_idx` (migration 0008), written once so every read of chains matches it.
    static func inChain(_ alias: String) -> String {
        "(\(alias).handed_off_from IS NOT NULL OR \(alias).state = 'handed_off')"
    }

    /// Every task of `task`'s handoff chain, oldest first. A task never handed off is a chain of
    /// one; longer chains are read through their partial index (migration 0008).
    public func chain(of task: QueueTask) async throws -> [QueueTask] {
        guard task.handedOffFrom != nil || task.state == .handedOff else { return [task] }
        return try await pool.query(
            """
            SELECT \(Self.columns) FROM tasks
            WHERE chain_id = $1 AND \(Self.inChain("tasks"))
            ORDER BY id
            """,
            [task.chainID]
        ).map(Self.task)
    }

    /// A state as a condition a partial index can answer: the constant itself (a closed set of
    /// names, never the caller's text). Queued tasks are in two indexes, the claimable and the
    /// held, so both halves are spelled out for the planner to read them together.
    static func stateCondition(_ state: TaskState) -> PostgresQuery {
        switch state {
        case .queued: "state = 'queued' AND (held_at IS NULL OR held_at IS NOT NULL)"
        default: "state = '\(unescaped: state.rawValue)'"
        }
    }

    /// Filters for listing tasks.
    public struct Filter: Sendable {
        public var team: String?
        public var state: TaskState?
        public var kind: String?
        public var subject: TaskSubject?
        public var tag: String?
        public var createdAfter: Date?
        public var createdBefore: Date?

        public init(
            team: String? = nil,
            state: TaskState? = nil,
            kind: String? = nil,
            subject: TaskSubject? = nil,
            tag: String? = nil,
            createdAfter: Date? = nil,
            createdBefore: Date? = nil
        ) {
            self.team = team
            self.state = state
            self.kind = kind
            self.subject = subject
            self.tag = tag
            self.createdAfter = createdAfter
            self.createdBefore = createdBefore
        }
    }

    /// Tasks within `scope` in id order, a page at a time. Only the filters given become
    /// conditions, and a state is written as a constant: a generic plan can then read a live
    /// state through its partial index and a team through its index, where the catch-all form
    /// (`$1 IS NULL OR state = $1`) walked the whole history in id order (0.4-0.5 s for
    /// `state=queued` at 2,000,000 done tasks).
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<QueueTask> {
        var after = 0
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            after = value
        }
        var conditions: [PostgresQuery] = ["id > \(after)", scope.condition(team: "team", region: "region")]
        if let team = filter.team { conditions.append("team = \(team)") }
        if let state = filter.state { conditions.append(Self.stateCondition(state)) }
        if let kind = filter.kind { conditions.append("kind = \(kind)") }
        if let subject = filter.subject { conditions.append("subject_type = \(subject.type) AND subject_id = \(subject.id)") }
        if let tag = filter.tag { conditions.append("tags <> '{}' AND tags @> ARRAY[\(tag)::text]") }
        if let createdAfter = filter.createdAfter { conditions.append("created_at >= \(createdAfter)") }
        if let createdBefore = filter.createdBefore { conditions.append("created_at < \(createdBefore)") }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM tasks
            WHERE \(PostgresQuery.joined(conditions, separator: " AND "))
            ORDER BY id
            LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.task)) { String($0.id) }
    }
}
