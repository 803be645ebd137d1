import Foundation
public import PostgresClient

/// Training programmes, their sessions and attendance.
public struct TrainingStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let programmeColumns = """
        p.id, p.region, p.title, p.goal, array_to_json(p.audience_departments)::jsonb AS departments,
        array_to_json(p.audience_teams)::jsonb AS teams, array_to_json(p.audience_members)::jsonb AS members,
        array_to_json(p.competencies)::jsonb AS competencies,
        p.cadence_unit, p.cadence_every, p.duration_minutes, p.first_session_at, p.time_zone, p.horizon_months, p.owner_id, p.version,
        p.created_by, p.created_at, p.updated_at
        """

    static let sessionColumns = """
        s.id, s.programme_id, s.sequence, s.scheduled_at, s.starts_at, s.ends_at, s.cancelled_at, s.version,
        (SELECT count(*) FROM training_attendance a WHERE a.session_id = s.id AND a.status = 'invited') AS invited,
        (SELECT count(*) FROM training_attendance a WHERE a.session_id = s.id AND a.status = 'attended') AS attended,
        (SELECT count(*) FROM training_attendance a WHERE a.session_id = s.id AND a.status = 'excused') AS excused,
        (SELECT count(*) FROM training_attendance a WHERE a.session_id = s.id AND a.status = 'absent') AS absent
        """

    static func programme(_ row: PostgresRow, sessions: [TrainingSession]) throws -> TrainingProgramme {
        TrainingProgramme(
            id: try row.decode(Int.self, "id"),
            region: try row.decode(String.self, "region"),
            title: try row.decode(String.self, "title"),
            goal: try row.decode(String?.self, "goal"),
            audience: TrainingAudience(
                departments: try row.decodeJSON([String].self, "departments").compactMap(Department.init(rawValue:)),
                teams: try row.decodeJSON([String].self, "teams"),
                memberIDs: try row.decodeJSON([Int].self, "members")
            ),
            competencies: try row.decodeJSON([String].self, "competencies"),
            cadence: TrainingCadence(
                unit: TrainingCadence.Unit(rawValue: try row.decode(String.self, "cadence_unit")) ?? .month,
                every: try row.decode(Int.self, "cadence_every")
            ),
            durationMinutes: try row.decode(Int.self, "duration_minutes"),
            firstSessionAt: try row.decode(Date.self, "first_session_at"),
            timeZone: try row.decode(String.self, "time_zone"),
            horizonMonths: try row.decode(Int.self, "horizon_months"),
            ownerID: try row.decode(Int?.self, "owner_id"),
            version: try row.decode(Int.self, "version"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at"),
            sessions: sessions
        )
    }

    static func session(_ row: PostgresRow) throws -> TrainingSession {
        var counts: [AttendanceStatus: Int] = [:]
        for status in AttendanceStatus.allCases { counts[status] = try row.decode(Int.self, status.rawValue) }
        return TrainingSession(
            id: try row.decode(Int.self, "id"),
            programmeID: try row.decode(Int.self, "programme_id"),
            sequence: try row.decode(Int.self, "sequence"),
            scheduledAt: try row.decode(Date.self, "scheduled_at"),
            startsAt: try row.decode(Date.self, "starts_at"),
            endsAt: try row.decode(Date.self, "ends_at"),
            cancelledAt: try row.decode(Date?.self, "cancelled_at"),
            version: try row.decode(Int.self, "version"),
            counts: counts
        )
    }

    /// A programme of a region within `scope`, with its sessions, or `nil`.
    public func find(id: Int, scope: Scope, on connection: PostgresConnection? = nil) async throws -> TrainingProgramme? {
        guard
            let row = try await pool.query(
                "SELECT \(unescaped: Self.programmeColumns) FROM training_programmes p WHERE p.id = \(id) AND \(scope.regionCondition("p.region"))",
                on: connection
            ).first
        else { return nil }
        let sessions = try await pool.query(
            "SELECT \(unescaped: Self.sessionColumns) FROM training_sessions s WHERE s.programme_id = \(id) ORDER BY s.sequence",
            on: connection
        ).map(Self.session)
        return try Self.programme(row, sessions: sessions)
    }

    /// Programmes within `scope` (optionally of one region), newest first, without their sessions.
    public func list(region: String?, scope: Scope, page: PageRequest) async throws -> Page<TrainingProgramme> {
        var before = Int.max
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            before = value
        }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.programmeColumns) FROM training_programmes p
            WHERE p.id < \(before) AND \(scope.regionCondition("p.region")) AND (\(region)::text IS NULL OR p.region = \(region))
            ORDER BY p.id DESC LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map { try Self.programme($0, sessions: []) }) { String($0.id) }
    }

    func timeZone(region: String, on tx: PostgresConnection) async throws -> String? {
        try await tx.query("SELECT time_zone FROM regions WHERE code = \(region)").first?.decode(String.self, "time_zone")
    }

    /// Refuses competencies outside the catalogue.
    func checkCompetencies(_ codes: [String], field: String, on connection: PostgresConnection?) async throws {
        let known = try await pool.query("SELECT code FROM competencies WHERE code = ANY(\(codes)::text[])", on: connection)
            .map { try $0.decode(String.self, "code") }
        if let missing = codes.first(where: { !known.contains($0) }) {
            throw BatonError(.ruleViolation, "no competency '\(missing)'", details: ["field": field])
        }
    }

    /// Refuses audience teams and members that do not exist.
    func checkAudience(_ audience: TrainingAudience, on tx: PostgresConnection) async throws {
        let teams = try await tx.query("SELECT slug FROM teams WHERE slug = ANY(\(audience.teams)::text[])").map {
            try $0.decode(String.self, "slug")
        }
        if let missing = audience.teams.first(where: { !teams.contains($0) }) {
            throw BatonError(.ruleViolation, "no team '\(missing)'", details: ["field": "audience"])
        }
        let members = try await tx.query("SELECT id FROM members WHERE id = ANY(\(audience.memberIDs)::bigint[])").map {
            try $0.decode(Int.self, "id")
        }
        if let missing = audience.memberIDs.first(where: { !members.contains($0) }) {
            throw BatonError(.ruleViolation, "no member \(missing)", details: ["field": "audience"])
        }
    }

    /// Inserts the programme, its sessions (one per start) with the audience invited to each, and
    /// a `training.programme_created` event.
    func insert(
        _ programme: NewTrainingProgramme,
        timeZone: String,
        starts: [Date],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Int {
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH created AS (
                    INSERT INTO training_programmes (region, title, goal, audience_departments, audience_teams, audience_members, competencies,
                        cadence_unit, cadence_every, duration_minutes, first_session_at, time_zone, horizon_months, owner_id, created_by)
                    VALUES (\(programme.region), \(programme.title), \(programme.goal), \(programme.audience.departments.map(\.rawValue))::text[],
                        \(programme.audience.teams)::text[], \(programme.audience.memberIDs)::bigint[], \(programme.competencies)::text[], \(programme.cadence.unit.rawValue),
                        \(programme.cadence.every), \(programme.durationMinutes), \(programme.firstSessionAt), \(timeZone),
                        \(programme.horizonMonths), \(programme.ownerID), \(principal.actorID))
                    RETURNING *
                ),
                written AS (
                    \(EventStore.insert("training.programme_created", from: "created", entityType: "training_programme", entity: "created.id::text", region: "created.region", data: "jsonb_build_object('title', created.title)", by: principal))
                )
                SELECT id FROM created
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "no member \(programme.ownerID ?? 0) to own the programme", details: ["field": "owner_id"])
        }
        guard let id = try row?.decode(Int.self, "id") else { throw BatonError(.internalError, "programme not created") }
        try await tx.query(
            """
            INSERT INTO training_sessions (programme_id, sequence, scheduled_at, starts_at, ends_at)
            SELECT \(id), n.ordinality - 1, n.start, n.start, n.start + \(programme.durationMinutes) * interval '1 minute'
            FROM unnest(\(starts.map(\.postgresText))::text[]::timestamptz[]) WITH ORDINALITY AS n (start, ordinality)
            """
        )
        try await tx.query(
            """
            INSERT INTO training_attendance (session_id, member_id)
            SELECT s.id, m.id
            FROM training_sessions s JOIN training_programmes p ON p.id = s.programme_id
            JOIN members m ON m.active AND (
                m.id = ANY(p.audience_members)
                OR EXISTS (SELECT 1 FROM memberships ms JOIN teams t ON t.slug = ms.team WHERE ms.member_id = m.id
                           AND (t.slug = ANY(p.audience_teams) OR (t.region = p.region AND t.department = ANY(p.audience_departments)))))
            WHERE s.programme_id = \(id)
            """
        )
        return id
    }

    /// A session and its programme's region, locked, when the region is within `scope`.
    func lockSession(id: Int, scope: Scope, on tx: PostgresConnection) async throws -> (session: TrainingSession, region: String)? {
        guard
            let row = try await tx.query(
                """
                SELECT p.region FROM training_sessions s JOIN training_programmes p ON p.id = s.programme_id
                WHERE s.id = \(id) AND \(scope.regionCondition("p.region")) FOR UPDATE OF s
                """
            ).first
        else { return nil }
        guard let session = try await session(id: id, on: tx) else { return nil }
        return (session, try row.decode(String.self, "region"))
    }

    func session(id: Int, on connection: PostgresConnection? = nil) async throws -> TrainingSession? {
        try await pool.query("SELECT \(unescaped: Self.sessionColumns) FROM training_sessions s WHERE s.id = \(id)", on: connection)
            .first.map(Self.session)
    }

    /// Moves a session (its place in the cadence stays), or cancels it, with its event.
    func change(
        session id: Int,
        startsAt: Date?,
        endsAt: Date?,
        cancel: Bool,
        region: String,
        by principal: Principal,
        on tx: PostgresConnection
    )
        async throws
    {
        try await tx.query(
            """
            WITH changed AS (
                UPDATE training_sessions SET starts_at = coalesce(\(startsAt), starts_at), ends_at = coalesce(\(endsAt), ends_at),
                    cancelled_at = CASE WHEN \(cancel) THEN now() ELSE cancelled_at END, version = version + 1, updated_at = now()
                WHERE id = \(id)
                RETURNING *, \(region)::text AS region
            ),
            written AS (
                \(EventStore.insert(cancel ? "training.session_cancelled" : "training.session_moved", from: "changed", entityType: "training_session", entity: "changed.id::text", region: "changed.region", data: "jsonb_build_object('programme_id', changed.programme_id, 'starts_at', changed.starts_at)", by: principal))
            )
            SELECT id FROM changed
            """
        )
    }

    /// Sets members' attendance at a session (a member not invited is added), with an event.
    func record(
        _ attendance: [TrainingAttendance],
        session id: Int,
        region: String,
        by principal: Principal,
        on tx: PostgresConnection
    )
        async throws
    {
        do {
            try await tx.query(
                """
                WITH recorded AS (
                    INSERT INTO training_attendance (session_id, member_id, status)
                    SELECT \(id), r.member_id, r.status
                    FROM unnest(\(attendance.map(\.memberID))::bigint[], \(attendance.map(\.status.rawValue))::text[]) AS r (member_id, status)
                    ON CONFLICT (session_id, member_id) DO UPDATE SET status = excluded.status, updated_at = now()
                    RETURNING session_id, \(region)::text AS region
                ),
                one AS (SELECT DISTINCT session_id, region FROM recorded),
                written AS (
                    \(EventStore.insert("training.attendance_recorded", from: "one", entityType: "training_session", entity: "one.session_id::text", region: "one.region", data: "jsonb_build_object('members', \(attendance.count))", by: principal))
                )
                SELECT count(*) AS n FROM recorded
                """
            )
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "an attendee is not a member", details: ["field": "attendance"])
        }
    }

    /// Who was invited to a session and how they attended, by name.
    func attendance(session id: Int) async throws -> [TrainingAttendance] {
        try await pool.query(
            """
            SELECT a.member_id, m.name, a.status FROM training_attendance a JOIN members m ON m.id = a.member_id
            WHERE a.session_id = \(id) ORDER BY m.name, a.member_id
            """
        ).map {
            TrainingAttendance(
                memberID: try $0.decode(Int.self, "member_id"),
                name: try $0.decode(String.self, "name"),
                status: AttendanceStatus(rawValue: try $0.decode(String.self, "status")) ?? .invited
            )
        }
    }

    /// Per member of the team (or of every team in `scope`'s regions), over sessions that ended
    /// by `asOf` and were not cancelled, of programmes within `scope`.
    func compliance(team: String?, region: String?, asOf: Date, scope: Scope) async throws -> [TrainingComplianceEntry] {
        let rows = try await pool.query(
            """
            WITH due AS (
                SELECT a.member_id, a.status, s.starts_at, p.id AS programme_id, p.title
                FROM training_attendance a
                JOIN training_sessions s ON s.id = a.session_id AND s.cancelled_at IS NULL AND s.ends_at <= \(asOf)
                JOIN training_programmes p ON p.id = s.programme_id
                WHERE \(scope.regionCondition("p.region")) AND (\(region)::text IS NULL OR p.region = \(region))
                  AND (\(team)::text IS NULL OR a.member_id IN (SELECT member_id FROM memberships WHERE team = \(team)))
            ),
            missed AS (
                SELECT member_id, programme_id, title, count(*) AS sessions, max(starts_at) AS last_at
                FROM due WHERE status IN ('absent', 'invited') GROUP BY member_id, programme_id, title
            )
            SELECT m.id, m.name,
                   count(*) FILTER (WHERE d.status <> 'excused') AS due,
                   count(*) FILTER (WHERE d.status = 'attended') AS attended,
                   count(*) FILTER (WHERE d.status = 'excused') AS excused,
                   (SELECT coalesce(jsonb_agg(jsonb_build_object('programmeID', x.programme_id, 'title', x.title,
                        'missedSessions', x.sessions, 'lastMissedAt', extract(epoch FROM x.last_at)) ORDER BY x.programme_id), '[]')
                    FROM missed x WHERE x.member_id = m.id) AS missed
            FROM due d JOIN members m ON m.id = d.member_id
            GROUP BY m.id, m.name ORDER BY m.name, m.id
            """
        )
        struct Missed: Decodable {
            var programmeID: Int
            var title: String
            var missedSessions: Int
            var lastMissedAt: Double
        }
        return try rows.map { row in
            let due = try row.decode(Int.self, "due")
            let attended = try row.decode(Int.self, "attended")
            return TrainingComplianceEntry(
                memberID: try row.decode(Int.self, "id"),
                name: try row.decode(String.self, "name"),
                due: due,
                attended: attended,
                excused: try row.decode(Int.self, "excused"),
                completionRate: due == 0 ? nil : Double(attended) / Double(due),
                missed: try row.decodeJSON([Missed].self, "missed").map {
                    .init(
                        programmeID: $0.programmeID,
                        title: $0.title,
                        missedSessions: $0.missedSessions,
                        lastMissedAt: Date(timeIntervalSince1970: $0.lastMissedAt)
                    )
                }
            )
        }
    }

    /// Sessions (cancelled ones too) in `from..<to` of programmes within `scope` that the member,
    /// or a member of the team, is on the list of, as calendar events.
    func calendarEvents(memberID: Int?, team: String?, from: Date, to: Date, scope: Scope) async throws -> [CalendarEvent] {
        try await pool.query(
            """
            SELECT s.id, s.starts_at, s.ends_at, s.cancelled_at, s.version, s.updated_at, p.title, p.goal
            FROM training_sessions s JOIN training_programmes p ON p.id = s.programme_id
            WHERE \(scope.regionCondition("p.region")) AND s.ends_at > \(from) AND s.starts_at < \(to)
              AND EXISTS (
                SELECT 1 FROM training_attendance a WHERE a.session_id = s.id
                  AND (a.member_id = \(memberID) OR a.member_id IN (SELECT member_id FROM memberships WHERE team = \(team))))
            ORDER BY s.starts_at, s.id LIMIT 5000
            """
        ).map {
            CalendarEvent(
                uid: "training-session-\(try $0.decode(Int.self, "id"))@baton",
                stamp: try $0.decode(Date.self, "updated_at"),
                startsAt: try $0.decode(Date.self, "starts_at"),
                endsAt: try $0.decode(Date.self, "ends_at"),
                summary: "Training: " + (try $0.decode(String.self, "title")),
                description: try $0.decode(String?.self, "goal"),
                cancelled: try $0.decode(Date?.self, "cancelled_at") != nil,
                sequence: try $0.decode(Int.self, "version") - 1
            )
        }
    }
}
