public import Foundation
public import PostgresClient

/// Meetings and who attends them.
public struct MeetingStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = """
        m.id, m.region, m.title, m.starts_at, m.ends_at, m.time_zone, m.organiser_id, m.customer_id, m.opportunity_id, m.location,
        m.agenda, m.notes, m.outcome, m.cancelled_at, m.version, m.created_by, m.created_at, m.updated_at,
        (SELECT coalesce(jsonb_agg(x.attendee ORDER BY x.kind DESC, x.id), '[]') FROM (
            SELECT 'member' AS kind, p.id, jsonb_build_object('kind', 'member', 'id', p.id, 'name', p.name, 'email', p.email) AS attendee
            FROM meeting_attendees a JOIN members p ON p.id = a.member_id WHERE a.meeting_id = m.id
            UNION ALL
            SELECT 'contact', c.id, jsonb_build_object('kind', 'contact', 'id', c.id, 'name', c.name, 'email', c.email)
            FROM meeting_attendees a JOIN contacts c ON c.id = a.contact_id WHERE a.meeting_id = m.id
        ) x) AS attendees
        """

    static func meeting(_ row: PostgresRow) throws -> Meeting {
        Meeting(
            id: try row.decode(Int.self, "id"),
            region: try row.decode(String.self, "region"),
            title: try row.decode(String.self, "title"),
            startsAt: try row.decode(Date.self, "starts_at"),
            endsAt: try row.decode(Date.self, "ends_at"),
            timeZone: try row.decode(String.self, "time_zone"),
            organiserID: try row.decode(Int.self, "organiser_id"),
            customerID: try row.decode(Int?.self, "customer_id"),
            opportunityID: try row.decode(Int?.self, "opportunity_id"),
            location: try row.decode(String?.self, "location"),
            agenda: try row.decode(String?.self, "agenda"),
            notes: try row.decode(String?.self, "notes"),
            outcome: try row.decode(String?.self, "outcome"),
            attendees: try row.decodeJSON([MeetingAttendee].self, "attendees"),
            cancelledAt: try row.decode(Date?.self, "cancelled_at"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }

    static func event(_ type: String, from source: String, data: PostgresQuery, by principal: Principal) -> PostgresQuery {
        EventStore.insert(
            type,
            from: source,
            entityType: "meeting",
            entity: "\(source).id::text",
            region: "\(source).region",
            data: data,
            by: principal
        )
    }

    /// A meeting of a region within `scope`, or `nil`.
    public func find(id: Int, scope: Scope, on connection: PostgresConnection? = nil) async throws -> Meeting? {
        try await pool.query(
            "SELECT \(unescaped: Self.columns) FROM meetings m WHERE m.id = \(id) AND \(scope.regionCondition("m.region"))",
            on: connection
        ).first.map(Self.meeting)
    }

    /// Which meetings to list: all filters are optional.
    public struct Filter: Sendable, Equatable {
        public var region: String?
        /// Meetings this member attends.
        public var memberID: Int?
        /// Meetings of any member of this team.
        public var team: String?
        public var customerID: Int?
        /// Meetings that end after `from` and start before `to`.
        public var from: Date?
        public var to: Date?
        public var includeCancelled: Bool

        public init(
            region: String? = nil,
            memberID: Int? = nil,
            team: String? = nil,
            customerID: Int? = nil,
            from: Date? = nil,
            to: Date? = nil,
            includeCancelled: Bool = false
        ) {
            self.region = region
            self.memberID = memberID
            self.team = team
            self.customerID = customerID
            self.from = from
            self.to = to
            self.includeCancelled = includeCancelled
        }
    }

    /// Meetings within `scope` matching `filter`, by start time then id, a page at a time.
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<Meeting> {
        // The cursor is the last start (microseconds since 1970) and id: exact, unlike a Double.
        var after: (Int?, Int) = (nil, 0)
        if let cursor = page.after {
            let parts = cursor.split(separator: "_")
            guard parts.count == 2, let micros = Int(parts[0]), abs(micros) < 200_000_000_000_000_000, let id = Int(parts[1]) else {
                throw BatonError.invalidArgument("after is not a cursor", field: "after")
            }
            after = (micros, id)
        }
        let rows = try await meetings(filter, scope: scope, after: after, limit: page.limit + 1)
        return page.page(rows) { "\(Int(($0.startsAt.timeIntervalSince1970 * 1_000_000).rounded()))_\($0.id)" }
    }

    /// Meetings matching `filter` in start order after `after` (microseconds since 1970, id).
    func meetings(_ filter: Filter, scope: Scope, after: (Int?, Int) = (nil, 0), limit: Int) async throws -> [Meeting] {
        try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM meetings m
            WHERE \(scope.regionCondition("m.region"))
              AND (\(after.0)::bigint IS NULL OR (m.starts_at, m.id) > (timestamptz 'epoch' + \(after.0) * interval '1 microsecond', \(after.1)))
              AND (\(filter.region)::text IS NULL OR m.region = \(filter.region))
              AND (\(filter.customerID)::bigint IS NULL OR m.customer_id = \(filter.customerID))
              AND (\(filter.from)::timestamptz IS NULL OR m.ends_at > \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR m.starts_at < \(filter.to))
              AND (\(filter.includeCancelled) OR m.cancelled_at IS NULL)
              AND (\(filter.memberID)::bigint IS NULL OR EXISTS (
                    SELECT 1 FROM meeting_attendees a WHERE a.meeting_id = m.id AND a.member_id = \(filter.memberID)))
              AND (\(filter.team)::text IS NULL OR EXISTS (
                    SELECT 1 FROM meeting_attendees a JOIN memberships s ON s.member_id = a.member_id
                    WHERE a.meeting_id = m.id AND s.team = \(filter.team)))
            ORDER BY m.starts_at, m.id LIMIT \(limit)
            """
        ).map(Self.meeting)
    }

    /// The region of the organiser's first team (by slug), and its time zone.
    public func organiserRegion(memberID: Int, on tx: PostgresConnection) async throws -> String? {
        try await tx.query(
            """
            SELECT t.region FROM memberships s JOIN teams t ON t.slug = s.team
            WHERE s.member_id = \(memberID) ORDER BY t.slug LIMIT 1
            """
        ).first?.decode(String.self, "region")
    }

    public func timeZone(region: String, on tx: PostgresConnection) async throws -> String? {
        try await tx.query("SELECT time_zone FROM regions WHERE code = \(region)").first?.decode(String.self, "time_zone")
    }

    /// Locks the members' rows in id order, so that two bookings of one member wait for each
    /// other and the second sees the first's meeting; refuses members that do not exist or left.
    func lockMembers(_ ids: [Int], on tx: PostgresConnection) async throws {
        // NO KEY UPDATE: bookings serialise per member, while foreign-key checks (KEY SHARE)
        // of other writes that name the member do not wait.
        let rows = try await tx.query(
            "SELECT id, active FROM members WHERE id = ANY(\(ids)) ORDER BY id FOR NO KEY UPDATE"
        )
        var found: [Int: Bool] = [:]
        for row in rows { found[try row.decode(Int.self, "id")] = try row.decode(Bool.self, "active") }
        for id in ids.sorted() {
            guard let active = found[id] else {
                throw BatonError(.ruleViolation, "no member \(id)", details: ["field": "member_ids"])
            }
            guard active else { throw BatonError(.ruleViolation, "member \(id) is no longer active", details: ["field": "member_ids"]) }
        }
    }

    /// Meetings (not cancelled, other than `excluding`) and training sessions (not cancelled,
    /// the member not excused) that overlap `start..<end` and that one of `memberIDs` is in.
    func conflicts(
        memberIDs: [Int],
        startsAt: Date,
        endsAt: Date,
        excluding meetingID: Int?,
        on tx: PostgresConnection
    ) async throws -> [MeetingConflict] {
        try await tx.query(
            """
            SELECT a.member_id, 'meeting' AS kind, m.id, m.title, m.starts_at, m.ends_at
            FROM meeting_attendees a JOIN meetings m ON m.id = a.meeting_id
            WHERE a.member_id = ANY(\(memberIDs)) AND m.cancelled_at IS NULL
              AND m.id <> coalesce(\(meetingID)::bigint, 0)
              AND m.starts_at < \(endsAt) AND m.ends_at > \(startsAt)
            UNION ALL
            SELECT t.member_id, 'training session', s.id, p.title, s.starts_at, s.ends_at
            FROM training_attendance t JOIN training_sessions s ON s.id = t.session_id
                 JOIN training_programmes p ON p.id = s.programme_id
            WHERE t.member_id = ANY(\(memberIDs)) AND t.status <> 'excused' AND s.cancelled_at IS NULL
              AND s.starts_at < \(endsAt) AND s.ends_at > \(startsAt)
            ORDER BY member_id, starts_at, kind, id
            """
        ).map {
            MeetingConflict(
                memberID: try $0.decode(Int.self, "member_id"),
                kind: MeetingConflict.Kind(rawValue: try $0.decode(String.self, "kind")) ?? .meeting,
                id: try $0.decode(Int.self, "id"),
                title: try $0.decode(String.self, "title"),
                startsAt: try $0.decode(Date.self, "starts_at"),
                endsAt: try $0.decode(Date.self, "ends_at")
            )
        }
    }

    /// Refuses contacts that are not the customer's, and an opportunity of another customer;
    /// returns the customer (the opportunity's when none is given).
    func checkLinks(customerID: Int?, opportunityID: Int?, contactIDs: [Int], on tx: PostgresConnection) async throws -> Int? {
        var customer = customerID
        if let opportunityID {
            guard
                let row = try await tx.query(
                    "SELECT customer_id FROM opportunities WHERE id = \(opportunityID) AND deleted_at IS NULL"
                ).first
            else { throw BatonError(.ruleViolation, "no opportunity \(opportunityID)", details: ["field": "opportunity_id"]) }
            let owner = try row.decode(Int.self, "customer_id")
            if let customer, customer != owner {
                throw BatonError(.ruleViolation, "opportunity \(opportunityID) is not customer \(customer)'s", details: ["field": "opportunity_id"])
            }
            customer = owner
        }
        if let customer {
            guard try await tx.query("SELECT 1 AS one FROM customers WHERE id = \(customer) AND deleted_at IS NULL").first != nil else {
                throw BatonError(.ruleViolation, "no customer \(customer)", details: ["field": "customer_id"])
            }
        }
        if !contactIDs.isEmpty {
            guard let customer else {
                throw BatonError(.ruleViolation, "contact_ids need the meeting's customer_id", details: ["field": "contact_ids"])
            }
            let known = try await tx.query("SELECT id FROM contacts WHERE id = ANY(\(contactIDs)) AND customer_id = \(customer)")
                .map { try $0.decode(Int.self, "id") }
            if let missing = contactIDs.first(where: { !known.contains($0) }) {
                throw BatonError(.ruleViolation, "contact \(missing) is not a contact of customer \(customer)", details: ["field": "contact_ids"])
            }
        }
        return customer
    }

    /// Inserts the meeting, its attendees and its event.
    func insert(
        _ meeting: NewMeeting,
        region: String,
        timeZone: String,
        customerID: Int?,
        memberIDs: [Int],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Int {
        guard
            let id = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO meetings (region, title, starts_at, ends_at, time_zone, organiser_id, customer_id, opportunity_id,
                                          location, agenda, created_by)
                    VALUES (\(region), \(meeting.title), \(meeting.startsAt), \(meeting.endsAt), \(timeZone), \(meeting.organiserID),
                            \(customerID), \(meeting.opportunityID), \(meeting.location), \(meeting.agenda), \(principal.actorID))
                    RETURNING *
                ),
                written AS (
                    \(Self.event("meeting.created", from: "created", data: "jsonb_build_object('title', created.title, 'starts_at', created.starts_at, 'ends_at', created.ends_at)", by: principal))
                )
                SELECT id FROM created
                """
            ).first?.decode(Int.self, "id")
        else { throw BatonError(.internalError, "meeting not created") }
        try await setAttendees(meetingID: id, memberIDs: memberIDs, contactIDs: meeting.contactIDs, on: tx)
        return id
    }

    func setAttendees(meetingID: Int, memberIDs: [Int]?, contactIDs: [Int]?, on tx: PostgresConnection) async throws {
        if let memberIDs {
            try await tx.query("DELETE FROM meeting_attendees WHERE meeting_id = \(meetingID) AND member_id IS NOT NULL")
            try await tx.query(
                "INSERT INTO meeting_attendees (meeting_id, member_id) SELECT \(meetingID), unnest(\(memberIDs)::bigint[])"
            )
        }
        if let contactIDs {
            try await tx.query("DELETE FROM meeting_attendees WHERE meeting_id = \(meetingID) AND contact_id IS NOT NULL")
            try await tx.query(
                "INSERT INTO meeting_attendees (meeting_id, contact_id) SELECT \(meetingID), unnest(\(contactIDs)::bigint[])"
            )
        }
    }

    /// The meeting locked for an edit, within `scope`.
    func lock(id: Int, scope: Scope, on tx: PostgresConnection) async throws -> Meeting? {
        guard
            try await tx.query("SELECT id FROM meetings m WHERE m.id = \(id) AND \(scope.regionCondition("m.region")) FOR UPDATE").first
                != nil
        else { return nil }
        return try await find(id: id, scope: scope, on: tx)
    }

    /// Writes an edit (the meeting is locked and at the version the caller named) and its event.
    func update(
        _ current: Meeting,
        _ changes: MeetingChanges,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE meetings SET
                    title = coalesce(\(changes.title), title),
                    starts_at = coalesce(\(changes.startsAt), starts_at),
                    ends_at = coalesce(\(changes.endsAt), ends_at),
                    time_zone = coalesce(\(changes.timeZone), time_zone),
                    location = coalesce(\(changes.location), location),
                    agenda = coalesce(\(changes.agenda), agenda),
                    notes = coalesce(\(changes.notes), notes),
                    outcome = coalesce(\(changes.outcome), outcome),
                    version = version + 1, updated_at = now()
                WHERE id = \(current.id)
                RETURNING *
            ),
            written AS (
                \(Self.event("meeting.updated", from: "changed", data: "jsonb_build_object('version', changed.version, 'starts_at', changed.starts_at, 'ends_at', changed.ends_at)", by: principal))
            )
            SELECT id FROM changed
            """
        )
    }

    /// Cancels a meeting that is not cancelled yet; `false` when it already was.
    func cancel(id: Int, by principal: Principal, on tx: PostgresConnection) async throws -> Bool {
        try await tx.query(
            """
            WITH cancelled AS (
                UPDATE meetings SET cancelled_at = now(), version = version + 1, updated_at = now()
                WHERE id = \(id) AND cancelled_at IS NULL
                RETURNING *
            ),
            written AS (
                \(Self.event("meeting.cancelled", from: "cancelled", data: "jsonb_build_object('title', cancelled.title)", by: principal))
            )
            SELECT id FROM cancelled
            """
        ).first != nil
    }
}
