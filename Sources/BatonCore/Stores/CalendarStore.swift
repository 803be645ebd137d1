import Foundation
public import PostgresClient

/// Region calendars and holidays: the SQL that reads and writes them.
public struct CalendarStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The calendar of a region, or `nil` when the region does not exist.
    public func calendar(region: String, on connection: PostgresConnection? = nil) async throws -> RegionCalendar? {
        let query = """
            SELECT r.code, r.time_zone, c.hours::text AS hours, c.updated_at,
                   coalesce((SELECT jsonb_agg(jsonb_build_object('date', h.day::text, 'name', h.name) ORDER BY h.day)
                             FROM region_holidays h WHERE h.region = r.code), '[]')::text AS holidays
            FROM regions r LEFT JOIN region_calendars c ON c.region = r.code
            WHERE r.code = $1
            """
        let rows = try await pool.query(query, [region], on: connection)
        return try rows.first.map(Self.calendar)
    }

    /// Every region's calendar, by region code.
    public func all() async throws -> [String: RegionCalendar] {
        let rows = try await pool.query(
            """
            SELECT r.code, r.time_zone, c.hours::text AS hours, c.updated_at,
                   coalesce((SELECT jsonb_agg(jsonb_build_object('date', h.day::text, 'name', h.name) ORDER BY h.day)
                             FROM region_holidays h WHERE h.region = r.code), '[]')::text AS holidays
            FROM regions r LEFT JOIN region_calendars c ON c.region = r.code
            """
        )
        var result: [String: RegionCalendar] = [:]
        for row in rows {
            let calendar = try Self.calendar(row)
            result[calendar.region] = calendar
        }
        return result
    }

    /// Replaces a region's working hours (and its time zone and holidays when given), on the
    /// caller's transaction. The calendar is validated as a whole first.
    public func set(
        region: String,
        timeZone: String?,
        hours: [Weekday: [WorkingInterval]],
        holidays: [Holiday]?,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> RegionCalendar {
        guard let current = try await calendar(region: region, on: tx) else { throw BatonError.notFound("no region '\(region)'") }
        let zone = timeZone ?? current.timeZone
        do {
            _ = try BusinessCalendar(timeZoneIdentifier: zone, hours: hours, holidays: holidays ?? current.holidays)
        } catch {
            throw Self.ruleViolation(error)
        }
        try await tx.query(
            """
            INSERT INTO region_calendars (region, hours) VALUES ($1, $2::jsonb)
            ON CONFLICT (region) DO UPDATE SET hours = EXCLUDED.hours, updated_at = now()
            """,
            [region, PostgresJSONText(Self.hoursJSON(hours))]
        )
        if let timeZone, timeZone != current.timeZone {
            try await tx.query("UPDATE regions SET time_zone = $2 WHERE code = $1", [region, timeZone])
        }
        if let holidays {
            try await tx.query("DELETE FROM region_holidays WHERE region = $1", [region])
            try await tx.query(
                "INSERT INTO region_holidays (region, day, name) SELECT $1, d::date, n FROM unnest($2::text[], $3::text[]) AS h(d, n)",
                [region, holidays.map(\.date.description), holidays.map(\.name)]
            )
        }
        try await recordChange("calendar.updated", region: region, data: ["time_zone": zone], by: principal, on: tx)
        guard let updated = try await calendar(region: region, on: tx) else { throw BatonError.notFound("no region '\(region)'") }
        return updated
    }

    /// Adds a holiday; a date that is already a holiday is 409.
    public func addHoliday(region: String, _ holiday: Holiday, by principal: Principal, on tx: PostgresConnection) async throws -> Holiday {
        guard TextRules.hasLength(holiday.name, in: 1...200) else {
            throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "name")
        }
        guard try await tx.query("SELECT 1 FROM regions WHERE code = $1", [region]).first != nil else {
            throw BatonError.notFound("no region '\(region)'")
        }
        let inserted = try await tx.query(
            "INSERT INTO region_holidays (region, day, name) VALUES ($1, $2::date, $3) ON CONFLICT DO NOTHING RETURNING day",
            [region, holiday.date.description, holiday.name]
        )
        guard !inserted.rows.isEmpty else {
            throw BatonError(.conflict, "\(holiday.date) is already a holiday in \(region)", details: ["field": "date"])
        }
        try await recordChange(
            "calendar.holiday_added",
            region: region,
            data: ["date": holiday.date.description, "name": holiday.name],
            by: principal,
            on: tx
        )
        return holiday
    }

    /// Removes a holiday; 404 when the date is not one.
    public func removeHoliday(region: String, date: LocalDate, by principal: Principal, on tx: PostgresConnection) async throws {
        let deleted = try await tx.query(
            "DELETE FROM region_holidays WHERE region = $1 AND day = $2::date RETURNING day",
            [region, date.description]
        )
        guard !deleted.rows.isEmpty else { throw BatonError.notFound("\(date) is not a holiday in \(region)") }
        try await recordChange("calendar.holiday_removed", region: region, data: ["date": date.description], by: principal, on: tx)
    }

    /// Tells every instance's SLA catalog and writes the change's event, on the changing transaction.
    private func recordChange(
        _ type: String,
        region: String,
        data: [String: String],
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws {
        try await SLACatalog.announceChange(on: tx)
        try await EventStore(pool: pool).append(
            type: type,
            entityType: "region",
            entityID: region,
            team: nil,
            region: region,
            dataJSON: PostgresJSON(data).postgresText,
            by: principal,
            on: tx
        )
    }

    // MARK: - Text forms

    private struct StoredInterval: Codable {
        var start: String
        var end: String
    }

    private struct StoredHoliday: Codable {
        var date: String
        var name: String
    }

    static func hoursJSON(_ hours: [Weekday: [WorkingInterval]]) -> String {
        var stored: [String: [StoredInterval]] = [:]
        for (weekday, intervals) in hours {
            stored[weekday.name] = intervals.map { StoredInterval(start: $0.start.description, end: $0.end.description) }
        }
        return PostgresJSON(stored).postgresText
    }

    private static func calendar(_ row: PostgresRow) throws -> RegionCalendar {
        let hoursText = try row.decode(String?.self, "hours")
        var hours = BusinessCalendar.standardHours()
        if let hoursText {
            let stored = try JSONDecoder().decode([String: [StoredInterval]].self, from: Data(hoursText.utf8))
            hours = [:]
            for (name, intervals) in stored {
                guard let weekday = Weekday(name: name) else { continue }
                hours[weekday] = try intervals.map { interval in
                    guard let start = LocalTime(parsing: interval.start), let end = LocalTime(parsing: interval.end) else {
                        throw BatonError(.internalError, "stored working hours are malformed")
                    }
                    return try WorkingInterval(start: start, end: end)
                }
            }
        }
        let holidays = try JSONDecoder().decode([StoredHoliday].self, from: Data(try row.decode(String.self, "holidays").utf8))
            .compactMap { stored in LocalDate(parsing: stored.date).map { Holiday(date: $0, name: stored.name) } }
        return RegionCalendar(
            region: try row.decode(String.self, "code"),
            timeZone: try row.decode(String.self, "time_zone"),
            hours: hours,
            holidays: holidays,
            isDefault: hoursText == nil,
            updatedAt: try row.decode(Date?.self, "updated_at")
        )
    }

    static func ruleViolation(_ error: BusinessCalendarError) -> BatonError {
        let field =
            switch error.code {
            case .unknownTimeZone: "time_zone"
            case .duplicateHoliday: "holidays"
            default: "hours"
            }
        return BatonError(.ruleViolation, error.message, details: ["field": field, "reason": error.code.description])
    }
}
