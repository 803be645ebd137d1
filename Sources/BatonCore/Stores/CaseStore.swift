import Foundation
public import PostgresClient

/// Customer cases: the SQL that reads and writes them, their transitions and the regions' case
/// settings.
public struct CaseStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        id, customer_id, contact_id, region, kind, channel, subject, description, priority, state, team, resolution, task_id,
        resolved_at, closed_at, reopen_count, version, created_by, created_at, updated_at, deleted_at
        """

    static func record(_ row: PostgresRow) throws -> Case {
        Case(
            id: try row.decode(Int.self, "id"),
            customerID: try row.decode(Int.self, "customer_id"),
            contactID: try row.decode(Int?.self, "contact_id"),
            region: try row.decode(String.self, "region"),
            kind: CaseKind(rawValue: try row.decode(String.self, "kind")) ?? .inquiry,
            channel: try row.decode(String?.self, "channel").flatMap(CaseChannel.init),
            subject: try row.decode(String.self, "subject"),
            description: try row.decode(String?.self, "description"),
            priority: TaskPriority(rawValue: try row.decode(String.self, "priority")) ?? .normal,
            state: CaseState(rawValue: try row.decode(String.self, "state")) ?? .new,
            team: try row.decode(String.self, "team"),
            resolution: try row.decode(String?.self, "resolution"),
            taskID: try row.decode(Int?.self, "task_id"),
            resolvedAt: try row.decode(Date?.self, "resolved_at"),
            closedAt: try row.decode(Date?.self, "closed_at"),
            reopenCount: try row.decode(Int.self, "reopen_count"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at"),
            deletedAt: try row.decode(Date?.self, "deleted_at")
        )
    }

    // MARK: - Read

    /// A case (not deleted) whose region is within `scope`, or `nil`; with `lock`, locked for
    /// the caller's transaction.
    public func find(id: Int, scope: Scope, lock: Bool = false, on connection: PostgresConnection? = nil) async throws -> Case? {
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.columns) FROM cases
            WHERE id = \(id) AND deleted_at IS NULL AND \(scope.regionCondition("region"))
            \(unescaped: lock ? "FOR UPDATE" : "")
            """
        let rows = try await pool.query(query, on: connection)
        return try rows.first.map(Self.record)
    }

    /// What a case list may be narrowed to.
    public struct Filter: Sendable {
        public var region: String?
        public var state: CaseState?
        public var kind: CaseKind?
        public var customerID: Int?
        public var team: String?

        public init(region: String? = nil, state: CaseState? = nil, kind: CaseKind? = nil, customerID: Int? = nil, team: String? = nil) {
            self.region = region
            self.state = state
            self.kind = kind
            self.customerID = customerID
            self.team = team
        }
    }

    /// Cases within `scope` in id order, a page at a time.
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<Case> {
        let after = try page.afterID()
        var conditions: [PostgresQuery] = ["id > \(after)", "deleted_at IS NULL", scope.regionCondition("region")]
        if let region = filter.region { conditions.append("region = \(region)") }
        if let state = filter.state { conditions.append("state = \(state.rawValue)") }
        if let kind = filter.kind { conditions.append("kind = \(kind.rawValue)") }
        if let customer = filter.customerID { conditions.append("customer_id = \(customer)") }
        if let team = filter.team { conditions.append("team = \(team)") }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM cases
            WHERE \(PostgresQuery.joined(conditions, separator: " AND "))
            ORDER BY id
            LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.record)) { String($0.id) }
    }

    /// Refuses (422) a contact that is not one of the customer's.
    public func checkContact(_ contactID: Int, of customerID: Int, on tx: PostgresConnection) async throws {
        let found = try await tx.query(
            "SELECT 1 FROM contacts WHERE id = \(contactID) AND customer_id = \(customerID) AND deleted_at IS NULL"
        )
        guard found.first != nil else {
            throw BatonError(.ruleViolation, "customer \(customerID) has no contact \(contactID)", details: ["field": "contact_id"])
        }
    }

    /// The live (queued or claimed) task of the handoff chain `taskID` is on, newest first: a
    /// case's task handed to another team is followed there. A chain is its first task (whose id
    /// is the chain's) and the steps handed on from it, which the partial index `tasks_chain_idx`
    /// holds; asked by `chain_id` alone, the read scanned the whole table.
    public func liveTask(inChainOf taskID: Int, on tx: PostgresConnection) async throws -> Int? {
        try await tx.query(
            """
            WITH chain AS MATERIALIZED (SELECT chain_id FROM tasks WHERE id = \(taskID))
            SELECT id FROM (
                SELECT t.id, t.state FROM tasks t, chain c WHERE t.id = c.chain_id
                UNION ALL
                SELECT t.id, t.state FROM tasks t, chain c WHERE t.chain_id = c.chain_id AND \(unescaped: TaskStore.inChain("t"))
            ) AS steps
            WHERE state IN ('queued', 'claimed')
            ORDER BY id DESC LIMIT 1
            """
        ).first?.decode(Int.self, "id")
    }

    /// The live (queued or claimed) tasks about a case, by their subject.
    public func liveTasks(about caseID: Int, on tx: PostgresConnection) async throws -> [Int] {
        try await tx.query(
            """
            SELECT id FROM tasks
            WHERE subject_type = 'case' AND subject_id = \(String(caseID)) AND state IN ('queued', 'claimed')
            ORDER BY id
            """
        ).map { try $0.decode(Int.self, "id") }
    }

    // MARK: - Write

    /// Opens a case in state `new`, owned by `team`, with its first transition and its event,
    /// on the caller's transaction. The task is linked afterwards with ``linkTask(case:task:on:)``.
    public func create(
        _ new: NewCase,
        for customer: Customer,
        team: String,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws
        -> Case
    {
        guard
            let row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO cases (customer_id, contact_id, region, kind, channel, subject, description, priority, team, created_by)
                    VALUES (\(customer.id), \(new.contactID)::bigint, \(customer.region), \(new.kind.rawValue), \(new.channel?.rawValue)::text,
                            \(new.subject), nullif(\(new.description)::text, ''), coalesce(\(new.priority?.rawValue)::text, 'normal'),
                            \(team), \(principal.actorID))
                    RETURNING *
                ),
                moved AS (
                    INSERT INTO case_transitions (case_id, from_state, to_state, actor)
                    SELECT created.id, NULL, created.state, \(principal.actorID) FROM created
                ),
                written AS (
                    \(EventStore.insert(
                        "case.opened", from: "created", entityType: "case", entity: "created.id::text", region: "created.region",
                        data: "jsonb_build_object('customer_id', created.customer_id, 'kind', created.kind, 'team', created.team, 'subject', created.subject)",
                        by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM created
                """
            ).first
        else { throw BatonError(.internalError, "case not stored") }
        return try Self.record(row)
    }

    /// Records the owning team's current task for a case.
    public func linkTask(case id: Int, task taskID: Int, on tx: PostgresConnection) async throws -> Case {
        guard
            let row = try await tx.query(
                "UPDATE cases SET task_id = \(taskID) WHERE id = \(id) RETURNING \(unescaped: Self.columns)"
            ).first
        else { throw BatonError(.internalError, "case not found") }
        return try Self.record(row)
    }

    /// Applies an edit if the case is still at `version`; with an event. `nil` when the
    /// version is stale (the caller reads the current one for the 412).
    public func update(id: Int, version: Int, _ changes: CaseChanges, by principal: Principal, on tx: PostgresConnection) async throws -> Case? {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE cases SET
                    subject = coalesce(\(changes.subject)::text, subject),
                    description = CASE WHEN \(changes.description)::text IS NULL THEN description ELSE nullif(\(changes.description)::text, '') END,
                    priority = coalesce(\(changes.priority?.rawValue)::text, priority),
                    channel = coalesce(\(changes.channel?.rawValue)::text, channel),
                    contact_id = CASE WHEN \(changes.contactID)::bigint IS NULL THEN contact_id ELSE nullif(\(changes.contactID)::bigint, 0) END,
                    version = version + 1, updated_at = now()
                WHERE id = \(id) AND version = \(version) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(EventStore.insert(
                    "case.updated", from: "changed", entityType: "case", entity: "changed.id::text", region: "changed.region",
                    data: "jsonb_build_object('version', changed.version)", by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM changed
            """
        ).first.map(Self.record)
    }

    /// Moves a locked case by `action` with its transition and event: a resolution is stored
    /// on resolving and cleared (with the resolution time) on reopening.
    public func move(
        _ current: Case,
        by action: CaseAction,
        note: String?,
        resolution: String?,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Case {
        let resolving = action == .resolve
        let reopening = action == .reopen
        let closing = action == .close
        guard
            let row = try await tx.query(
                """
                WITH changed AS (
                    UPDATE cases SET
                        state = \(action.target.rawValue),
                        resolution = CASE WHEN \(resolving)::boolean THEN \(resolution)::text
                                          WHEN \(reopening)::boolean THEN NULL ELSE resolution END,
                        resolved_at = CASE WHEN \(resolving)::boolean THEN now() WHEN \(reopening)::boolean THEN NULL ELSE resolved_at END,
                        closed_at = CASE WHEN \(closing)::boolean THEN now() WHEN \(reopening)::boolean THEN NULL ELSE closed_at END,
                        reopen_count = reopen_count + CASE WHEN \(reopening)::boolean THEN 1 ELSE 0 END,
                        version = version + 1, updated_at = now()
                    WHERE id = \(current.id) AND state = \(current.state.rawValue)
                    RETURNING *
                ),
                moved AS (
                    INSERT INTO case_transitions (case_id, from_state, to_state, actor, note)
                    SELECT changed.id, \(current.state.rawValue), changed.state, \(principal.actorID), nullif(\(note)::text, '') FROM changed
                    RETURNING case_id, from_state, to_state
                ),
                written AS (
                    \(EventStore.insert(
                        action.eventType, from: "moved JOIN changed ON changed.id = moved.case_id", entityType: "case", entity: "changed.id::text",
                        region: "changed.region",
                        data: "jsonb_build_object('from', moved.from_state, 'to', moved.to_state, 'version', changed.version)",
                        by: principal))
                )
                SELECT \(unescaped: Self.columns) FROM changed
                """
            ).first
        else { throw BatonError(.conflict, "the case changed meanwhile", details: ["state": current.state.rawValue]) }
        return try Self.record(row)
    }

    /// Until when a resolved or closed case may be reopened: its resolution time plus the
    /// region's window; and the transaction's time to compare it with.
    func reopenDeadline(of record: Case, on tx: PostgresConnection) async throws -> (deadline: Date, now: Date, days: Int) {
        guard
            let row = try await tx.query(
                """
                SELECT w.days, coalesce(c.resolved_at, c.updated_at) + make_interval(days => w.days) AS deadline, now() AS now
                FROM cases c,
                     LATERAL (SELECT coalesce((SELECT reopen_window_days FROM case_settings WHERE region = c.region),
                                              \(CaseSettings.defaultReopenWindowDays)::integer)::integer AS days) w
                WHERE c.id = \(record.id)
                """
            ).first
        else { throw BatonError.notFound("no case \(record.id)") }
        return (try row.decode(Date.self, "deadline"), try row.decode(Date.self, "now"), try row.decode(Int.self, "days"))
    }

    /// Marks a case deleted (kept for the audit trail), with an event.
    public func delete(id: Int, by principal: Principal, on tx: PostgresConnection) async throws -> Case? {
        try await tx.query(
            """
            WITH gone AS (
                UPDATE cases SET deleted_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(id) AND deleted_at IS NULL
                RETURNING *
            ),
            written AS (
                \(EventStore.insert("case.deleted", from: "gone", entityType: "case", entity: "gone.id::text", region: "gone.region", data: "'{}'::jsonb", by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM gone
            """
        ).first.map(Self.record)
    }

    // MARK: - Transitions

    /// A case's transitions, oldest first, a page at a time (cursor: the last id).
    public func transitions(of caseID: Int, page: PageRequest) async throws -> Page<CaseTransition> {
        let after = try page.afterID()
        let rows = try await pool.query(
            """
            SELECT id, case_id, from_state, to_state, actor, note, at FROM case_transitions
            WHERE case_id = \(caseID) AND id > \(after)
            ORDER BY id LIMIT \(page.limit + 1)
            """
        )
        let transitions = try rows.map { row in
            CaseTransition(
                id: try row.decode(Int.self, "id"),
                caseID: try row.decode(Int.self, "case_id"),
                from: try row.decode(String?.self, "from_state").flatMap(CaseState.init),
                to: CaseState(rawValue: try row.decode(String.self, "to_state")) ?? .new,
                actor: try row.decode(String?.self, "actor"),
                note: try row.decode(String?.self, "note"),
                at: try row.decode(Date.self, "at")
            )
        }
        return page.page(transitions) { String($0.id) }
    }

    // MARK: - Settings

    /// A region's case settings (the defaults when it has set none); `nil` for no such region.
    public func settings(region: String) async throws -> CaseSettings? {
        try await pool.query(
            """
            SELECT r.code, coalesce(s.reopen_window_days, \(CaseSettings.defaultReopenWindowDays)) AS days
            FROM regions r LEFT JOIN case_settings s ON s.region = r.code
            WHERE r.code = \(region)
            """
        ).first.map { CaseSettings(region: try $0.decode(String.self, "code"), reopenWindowDays: try $0.decode(Int.self, "days")) }
    }

    /// Replaces a region's case settings, with an event; `nil` for no such region.
    public func setSettings(_ settings: CaseSettings, by principal: Principal, on tx: PostgresConnection) async throws -> CaseSettings? {
        try await tx.query(
            """
            WITH stored AS (
                INSERT INTO case_settings (region, reopen_window_days, updated_by)
                SELECT code, \(settings.reopenWindowDays), \(principal.actorID) FROM regions WHERE code = \(settings.region)
                ON CONFLICT (region) DO UPDATE
                SET reopen_window_days = excluded.reopen_window_days, updated_by = excluded.updated_by, updated_at = now()
                RETURNING *
            ),
            written AS (
                \(EventStore.insert(
                    "case_settings.updated", from: "stored", entityType: "region", entity: "stored.region", region: "stored.region",
                    data: "jsonb_build_object('reopen_window_days', stored.reopen_window_days)", by: principal))
            )
            SELECT region, reopen_window_days FROM stored
            """
        ).first.map { CaseSettings(region: try $0.decode(String.self, "region"), reopenWindowDays: try $0.decode(Int.self, "reopen_window_days")) }
    }
}
