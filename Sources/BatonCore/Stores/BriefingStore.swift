public import Foundation
public import PostgresClient

/// The reads behind the coordinator's briefing, one statement per section. Each section is
/// limited to a scope like every list, narrowed by the optional region and team, ordered most
/// urgent first, and counts its rows in all (`count(*) OVER ()` runs before the `LIMIT`).
/// ``BriefingService`` runs them in one read-only snapshot.
public struct BriefingStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// What a briefing covers: the caller's scope, narrowed to a region and/or a team. Records
    /// that belong to a region only (stock, complaints' customers, meetings, training) follow
    /// `region`; tasks and complaints also follow `team`.
    public struct Filter: Sendable {
        public var scope: Scope
        public var region: String?
        public var team: String?
        public var limit: Int

        public init(scope: Scope, region: String?, team: String?, limit: Int = Briefing.sectionLimit) {
            self.scope = scope
            self.region = region
            self.team = team
            self.limit = limit
        }

        /// Rows of teams in reach, narrowed by the filter, given the expressions that hold a
        /// row's team and region.
        func teamRows(team teamColumn: String, region regionColumn: String) -> PostgresQuery {
            """
            \(scope.condition(team: teamColumn, region: regionColumn)) \
            AND (\(region)::text IS NULL OR \(unescaped: regionColumn) = \(region)) \
            AND (\(team)::text IS NULL OR \(unescaped: teamColumn) = \(team))
            """
        }

        /// Records of regions in reach, narrowed to the filter's region; `column` holds the region.
        func regionRows(_ column: String) -> PostgresQuery {
            "\(scope.regionCondition(column)) AND (\(region)::text IS NULL OR \(unescaped: column) = \(region))"
        }
    }

    /// The board: every team in reach with its live queue. Counts come from the partial
    /// indexes of live states, so they cost what the queues hold, not the history: queued
    /// tasks are counted as the claimable ones (`tasks_claim_idx`) plus the held ones
    /// (`tasks_held_idx`), since no index holds both; counted as one, they were read through
    /// the team's whole history (1.1 s per briefing at 2,000,000 done tasks).
    public func queues(_ filter: Filter, on connection: PostgresConnection) async throws -> [Briefing.Queue] {
        let rows = try await pool.query(
            """
            SELECT t.slug, t.department, t.region, t.paused,
                   q.queued + h.held AS queued, q.oldest, c.claimed, d.dead
            FROM teams t
            CROSS JOIN LATERAL (
                SELECT count(*) AS queued,
                       extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now()))::float8 AS oldest
                FROM tasks WHERE team = t.slug AND state = 'queued' AND held_at IS NULL) q
            CROSS JOIN LATERAL (
                SELECT count(*) AS held FROM tasks WHERE team = t.slug AND state = 'queued' AND held_at IS NOT NULL) h
            CROSS JOIN LATERAL (SELECT count(*) AS claimed FROM tasks WHERE team = t.slug AND state = 'claimed') c
            CROSS JOIN LATERAL (SELECT count(*) AS dead FROM tasks WHERE team = t.slug AND state = 'dead') d
            WHERE \(filter.teamRows(team: "t.slug", region: "t.region"))
            ORDER BY t.region, t.department, t.slug
            """,
            on: connection
        )
        return try rows.map { row in
            Briefing.Queue(
                team: try row.decode(String.self, "slug"),
                department: try row.decode(String.self, "department"),
                region: try row.decode(String.self, "region"),
                paused: try row.decode(Bool.self, "paused"),
                queued: try row.decode(Int.self, "queued"),
                claimed: try row.decode(Int.self, "claimed"),
                dead: try row.decode(Int.self, "dead"),
                oldestAgeSeconds: try row.decode(Double?.self, "oldest")
            )
        }
    }

    /// Open SLA clocks past their at-risk point: breached first (the longest overdue first),
    /// then at risk by deadline. A clock the monitor has not marked yet counts by its deadline;
    /// a paused clock (its task on hold) is at risk or breached only as it was when paused.
    public func slas(_ filter: Filter, on connection: PostgresConnection) async throws -> Briefing.Section<Briefing.SLAItem> {
        let rows = try await pool.query(
            """
            SELECT c.id, c.task_id, k.title, c.team, c.region, k.priority, c.target, c.due_at, c.breached,
                   count(*) OVER () AS total
            FROM (SELECT id, task_id, team, region, target, due_at,
                         breached_at IS NOT NULL OR (paused_at IS NULL AND due_at <= now()) AS breached
                  FROM sla_clocks
                  WHERE stopped_at IS NULL AND NOT settled
                    AND (breached_at IS NOT NULL OR (paused_at IS NULL AND at_risk_at <= now()))) c
            JOIN tasks k ON k.id = c.task_id
            WHERE \(filter.teamRows(team: "c.team", region: "c.region"))
            ORDER BY c.breached DESC, c.due_at, c.id
            LIMIT \(filter.limit)
            """,
            on: connection
        )
        return try Self.section(rows) { row in
            Briefing.SLAItem(
                clockID: try row.decode(Int.self, "id"),
                taskID: try row.decode(Int.self, "task_id"),
                title: try row.decode(String.self, "title"),
                team: try row.decode(String.self, "team"),
                region: try row.decode(String.self, "region"),
                priority: TaskPriority(rank: try row.decode(Int.self, "priority")) ?? .normal,
                target: SLATarget(rawValue: try row.decode(String.self, "target")) ?? .doneWithin,
                state: try row.decode(Bool.self, "breached") ? .breached : .atRisk,
                dueAt: try row.decode(Date.self, "due_at")
            )
        }
    }

    /// Handed-off tasks still queued at the team they were handed to, the longest waiting first,
    /// each with its chain of teams (every step of a handed-off chain is in `tasks_chain_idx`).
    public func handoffs(_ filter: Filter, on connection: PostgresConnection) async throws -> Briefing.Section<Briefing.Handoff> {
        let rows = try await pool.query(
            """
            SELECT k.id, k.title, k.team, f.team AS from_team, k.handoff_note, k.chain_id, k.created_at,
                   extract(epoch FROM now() - k.created_at)::float8 AS waiting,
                   ARRAY(SELECT s.team FROM tasks s WHERE s.chain_id = k.chain_id AND \(unescaped: TaskStore.inChain("s"))
                         ORDER BY s.id) AS chain,
                   count(*) OVER () AS total
            FROM tasks k JOIN tasks f ON f.id = k.handed_off_from
            WHERE k.state = 'queued' AND k.handed_off_from IS NOT NULL AND \(filter.teamRows(team: "k.team", region: "k.region"))
            ORDER BY k.created_at, k.id
            LIMIT \(filter.limit)
            """,
            on: connection
        )
        return try Self.section(rows) { row in
            Briefing.Handoff(
                taskID: try row.decode(Int.self, "id"),
                title: try row.decode(String.self, "title"),
                team: try row.decode(String.self, "team"),
                fromTeam: try row.decode(String.self, "from_team"),
                note: try row.decode(String?.self, "handoff_note"),
                chainID: try row.decode(Int.self, "chain_id"),
                chain: try row.decode([String].self, "chain"),
                handedOffAt: try row.decode(Date.self, "created_at"),
                waitingSeconds: try row.decode(Double.self, "waiting")
            )
        }
    }

    /// Dead letters: the most urgent first, then the longest dead.
    public func deadLetters(_ filter: Filter, on connection: PostgresConnection) async throws -> Briefing.Section<Briefing.DeadLetter> {
        let rows = try await pool.query(
            """
            SELECT k.id, k.title, k.team, k.priority, k.attempts, k.last_error, k.finished_at, count(*) OVER () AS total
            FROM tasks k
            WHERE k.state = 'dead' AND \(filter.teamRows(team: "k.team", region: "k.region"))
            ORDER BY k.priority, k.finished_at NULLS FIRST, k.id
            LIMIT \(filter.limit)
            """,
            on: connection
        )
        return try Self.section(rows) { row in
            Briefing.DeadLetter(
                taskID: try row.decode(Int.self, "id"),
                title: try row.decode(String.self, "title"),
                team: try row.decode(String.self, "team"),
                priority: TaskPriority(rank: try row.decode(Int.self, "priority")) ?? .normal,
                attempts: try row.decode(Int.self, "attempts"),
                lastError: try row.decode(String?.self, "last_error"),
                diedAt: try row.decode(Date?.self, "finished_at")
            )
        }
    }

    /// Stock of active products at or below its reorder point, not snoozed: the emptiest
    /// (available stock as a share of the reorder point) first.
    public func stock(_ filter: Filter, on connection: PostgresConnection) async throws -> Briefing.Section<StockLevel> {
        let rows = try await pool.query(
            """
            SELECT \(unescaped: StockStore.columns), count(*) OVER () AS total
            FROM stock s JOIN products p ON p.id = s.product_id
            WHERE p.active AND s.reorder_point > 0 AND s.on_hand - s.reserved <= s.reorder_point
              AND (s.snoozed_until IS NULL OR s.snoozed_until <= now())
              AND \(filter.regionRows("s.region"))
            ORDER BY (s.on_hand - s.reserved)::float8 / s.reorder_point, s.region, p.sku
            LIMIT \(filter.limit)
            """,
            on: connection
        )
        return try Self.section(rows) { try StockStore.level($0) }
    }

    /// Complaints waiting on us (new, open, or pending on our side): urgent first, then the oldest.
    public func complaints(_ filter: Filter, on connection: PostgresConnection) async throws -> Briefing.Section<Briefing.Complaint> {
        let rows = try await pool.query(
            """
            SELECT id, subject, customer_id, region, team, priority, state, created_at, count(*) OVER () AS total
            FROM cases
            WHERE deleted_at IS NULL AND kind = 'complaint' AND state IN ('new', 'open', 'pending_internal')
              AND \(filter.regionRows("region")) AND (\(filter.team)::text IS NULL OR team = \(filter.team))
            ORDER BY array_position(ARRAY['urgent', 'high', 'normal', 'low'], priority), created_at, id
            LIMIT \(filter.limit)
            """,
            on: connection
        )
        return try Self.section(rows) { row in
            Briefing.Complaint(
                caseID: try row.decode(Int.self, "id"),
                subject: try row.decode(String.self, "subject"),
                customerID: try row.decode(Int.self, "customer_id"),
                region: try row.decode(String.self, "region"),
                team: try row.decode(String.self, "team"),
                priority: try row.decode(String.self, "priority"),
                state: try row.decode(String.self, "state"),
                openedAt: try row.decode(Date.self, "created_at")
            )
        }
    }

    /// Meetings and training sessions (neither cancelled) that overlap `from`..<`to`, in time order.
    public func calendar(
        _ filter: Filter,
        from: Date,
        to: Date,
        on connection: PostgresConnection
    ) async throws -> Briefing.Section<Briefing.CalendarEntry> {
        let rows = try await pool.query(
            """
            SELECT kind, id, title, region, starts_at, ends_at, count(*) OVER () AS total
            FROM (
                SELECT 'meeting' AS kind, m.id, m.title, m.region, m.starts_at, m.ends_at
                FROM meetings m
                WHERE m.cancelled_at IS NULL AND m.starts_at < \(to) AND m.ends_at > \(from) AND \(filter.regionRows("m.region"))
                UNION ALL
                SELECT 'training', s.id, p.title, p.region, s.starts_at, s.ends_at
                FROM training_sessions s JOIN training_programmes p ON p.id = s.programme_id
                WHERE s.cancelled_at IS NULL AND s.starts_at < \(to) AND s.ends_at > \(from) AND \(filter.regionRows("p.region"))
            ) entries
            ORDER BY starts_at, kind, id
            LIMIT \(filter.limit)
            """,
            on: connection
        )
        return try Self.section(rows) { row in
            Briefing.CalendarEntry(
                kind: Briefing.CalendarEntry.Kind(rawValue: try row.decode(String.self, "kind")) ?? .meeting,
                id: try row.decode(Int.self, "id"),
                title: try row.decode(String.self, "title"),
                region: try row.decode(String.self, "region"),
                startsAt: try row.decode(Date.self, "starts_at"),
                endsAt: try row.decode(Date.self, "ends_at")
            )
        }
    }

    /// The last event a feed follower can have read in this snapshot, in feed order (as
    /// ``EventStore/feed(after:limit:types:team:scope:)`` hands them out), 0 for an empty feed.
    /// A change the snapshot holds may come again after it; none the snapshot lacks is before it.
    public func eventCursor(on connection: PostgresConnection) async throws -> Int {
        let rows = try await pool.query(
            """
            SELECT id FROM events
            WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY xid DESC, id DESC
            LIMIT 1
            """,
            on: connection
        )
        return try rows.first?.decode(Int.self, "id") ?? 0
    }

    private static func section<Item>(
        _ rows: PostgresQueryResult,
        _ item: (PostgresRow) throws -> Item
    ) throws -> Briefing.Section<Item> {
        Briefing.Section(total: try rows.first?.decode(Int.self, "total") ?? 0, items: try rows.map(item))
    }
}
