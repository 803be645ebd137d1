import Foundation
public import PostgresClient

/// The event log: appends inside the writer's transaction, and the gap-free feed.
///
/// Identity values are assigned at insert, not at commit, so a transaction can commit an
/// event with a smaller id after a reader has already seen larger ones. The feed therefore
/// orders by the writing transaction (`xid`) and then id, and hands out only events whose
/// transaction has ended: those with `xid` below the oldest transaction still running. Any
/// event that becomes visible later belongs to a transaction at or above that horizon, so it
/// sorts after everything already handed out and is never skipped.
public struct EventStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    private static let columnList = [
        "id", "type", "occurred_at", "source", "actor_type", "actor_id", "entity_type", "entity_id", "team", "region",
        "data::text AS data",
    ]

    static let columns = columnList.joined(separator: ", ")

    static func columns(of alias: String) -> String {
        columnList.map { "\(alias).\($0)" }.joined(separator: ", ")
    }

    static func event(_ row: PostgresRow) throws -> Event {
        Event(
            id: try row.decode(Int.self, "id"),
            type: try row.decode(String.self, "type"),
            occurredAt: try row.decode(Date.self, "occurred_at"),
            source: try row.decode(String.self, "source"),
            actorType: try row.decode(String?.self, "actor_type"),
            actorID: try row.decode(String?.self, "actor_id"),
            entityType: try row.decode(String?.self, "entity_type"),
            entityID: try row.decode(String?.self, "entity_id"),
            team: try row.decode(String?.self, "team"),
            region: try row.decode(String?.self, "region"),
            dataJSON: try row.decode(String.self, "data")
        )
    }

    /// Appends one event on `connection` (inside the caller's transaction).
    public func append(
        type: String,
        entityType: String?,
        entityID: String?,
        team: String?,
        region: String?,
        dataJSON: String = "{}",
        by principal: Principal,
        on connection: PostgresConnection
    ) async throws {
        try await connection.query(
            """
            INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, team, region, data)
            VALUES ($1, $2, 'principal', $3, $4, $5, $6, $7, $8::jsonb)
            """,
            [type, principal.source, principal.actorID, entityType, entityID, team, region, PostgresJSONText(dataJSON)]
        )
    }

    /// Events after the event `after` (0 for the beginning) in feed order, up to `limit`,
    /// optionally only of some types and of one team, within `scope`, whose transactions have
    /// ended (see ``following(_:types:team:scope:)``).
    public func feed(after: Int, limit: Int, types: [String]?, team: String?, scope: Scope) async throws -> [Event] {
        try await pool.query(
            """
            SELECT \(unescaped: Self.columns(of: "e")) FROM events e
            WHERE \(Self.following(after, types: types, team: team, scope: scope))
              AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY e.xid, e.id
            LIMIT \(limit)
            """,
            prepared: true
        ).map(Self.event)
    }

    /// Whether the feed has events after `after` for this follower that a read found nothing of
    /// moments ago: held back behind a transaction with an older id that is still open, or
    /// handed out since that transaction ended. Either way the transaction may have ended
    /// without writing an event, and so without a notification: a waiting follower reads again
    /// soon instead of at the next notification or the one-second fallback. Asked in a snapshot
    /// of its own, so an event held back at the read and free by now still counts.
    /// Asked as the feed's read is, in feed order with a limit, so that it walks the feed index
    /// from the cursor: as `EXISTS`, a generic plan scanned the whole table (2 s per question at
    /// 10,000,000 events).
    public func hasPendingEvents(after: Int, types: [String]?, team: String?, scope: Scope) async throws -> Bool {
        try await pool.query(
            """
            SELECT e.id FROM events e WHERE \(Self.following(after, types: types, team: team, scope: scope))
            ORDER BY e.xid, e.id
            LIMIT 1
            """,
            prepared: true
        ).first != nil
    }

    /// The events after the cursor `after` that a follower with these filters and `scope` may
    /// read, in feed order, whether or not their transactions have ended: a scoped caller sees the
    /// events of its teams (events of no team, such as a new member, only with every region).
    /// The cursor is a scalar in the row comparison so that it bounds the index scan; joined as
    /// a row it was only a filter, and each call read the feed index from the start of history.
    /// The feed starts after the retention horizon: 0 (and the horizon's own id) mean the oldest
    /// kept event; a cursor at or before the horizon yields nothing (``cursorStatus(_:)`` says why).
    private static func following(_ after: Int, types: [String]?, team: String?, scope: Scope) -> PostgresQuery {
        // A team's events reach the callers of its team or region; an event of a region's
        // records (a customer's, without a team) those of the region; one of neither, everyone
        // with every region.
        let visible: PostgresQuery =
            scope.allRegions
            ? "TRUE"
            : """
            CASE WHEN e.team IS NOT NULL THEN \(scope.condition(team: "e.team", region: "e.region"))
                 ELSE e.region IS NOT NULL AND \(scope.regionCondition("e.region")) END
            """
        return """
            (e.xid, e.id) > (CASE WHEN \(after) IN (0, \(unescaped: horizonID)) THEN \(unescaped: horizonXID)
                                  ELSE (SELECT xid FROM events WHERE id = \(after)) END,
                             CASE WHEN \(after) IN (0, \(unescaped: horizonID)) THEN \(unescaped: horizonID) ELSE \(after) END)
              AND (\(after) IN (0, \(unescaped: horizonID))
                   OR ((SELECT xid FROM events WHERE id = \(after)), \(after)) > (\(unescaped: horizonXID), \(unescaped: horizonID)))
              AND (\(types)::text[] IS NULL OR e.type = ANY(\(types)))
              AND (\(team)::text IS NULL OR e.team = \(team))
              AND \(visible)
            """
    }

    /// The last event pruned in feed order (0 while none has been): the feed starts after it.
    private static let horizonID = "(SELECT after_id FROM retention_marks WHERE kind = 'events')"
    private static let horizonXID = "(SELECT after_xid FROM retention_marks WHERE kind = 'events')"

    /// What a cursor is worth to the feed.
    public enum CursorStatus: Sendable, Equatable {
        /// The feed continues after it: 0, the horizon, or an event after the horizon.
        case valid
        /// It never named an event.
        case unknown
        /// History after it was pruned. `oldestCursor` is the horizon (a cursor the feed accepts:
        /// it continues with the oldest kept event, `oldestEvent`, if there is one).
        case gone(oldestCursor: Int, oldestEvent: Int?)
    }

    /// Whether the feed can continue after `id`. A cursor that names no event yields no events,
    /// nor does one at or before the retention horizon, so callers check it when a page comes back empty.
    public func cursorStatus(_ id: Int) async throws -> CursorStatus {
        guard id != 0 else { return .valid }
        let row = try await pool.query(
            """
            SELECT m.after_id, m.max_id,
                   (SELECT (e.xid, e.id) > (m.after_xid, m.after_id) FROM events e WHERE e.id = $1) AS ahead,
                   (SELECT e.id FROM events e WHERE (e.xid, e.id) > (m.after_xid, m.after_id) ORDER BY e.xid, e.id LIMIT 1) AS oldest
            FROM retention_marks m WHERE m.kind = 'events'
            """,
            [id],
            prepared: true
        ).first
        guard let row else { return .unknown }
        let horizon = try row.decode(Int.self, "after_id")
        let gone = CursorStatus.gone(oldestCursor: horizon, oldestEvent: try row.decode(Int?.self, "oldest"))
        if id == horizon { return .valid }
        switch try row.decode(Bool?.self, "ahead") {
        case true?: return .valid
        case false?: return gone
        case nil: return id <= (try row.decode(Int.self, "max_id")) ? gone : .unknown
        }
    }

    /// The events of one entity in order.
    public func history(entityType: String, entityID: String) async throws -> [Event] {
        try await pool.query(
            "SELECT \(Self.columns) FROM events WHERE entity_type = $1 AND entity_id = $2 ORDER BY id",
            [entityType, entityID]
        ).map(Self.event)
    }
}
