public import Foundation
import PostgresClient

extension MeetingService {
    /// The default export window: 90 days back, a year ahead.
    static func window(from: Date?, to: Date?) throws(BatonError) -> (Date, Date) {
        let now = Date()
        let from = from ?? now.addingTimeInterval(-90 * 86_400)
        let to = to ?? now.addingTimeInterval(365 * 86_400)
        guard to > from else { throw BatonError(.ruleViolation, "to is not after from", details: ["field": "to"]) }
        guard to.timeIntervalSince(from) <= 3 * 366 * 86_400 else {
            throw BatonError(.ruleViolation, "a calendar covers at most three years", details: ["field": "to"])
        }
        return (from, to)
    }

    /// A member's meetings and training sessions (cancelled ones as cancelled events) within the
    /// caller's regions, as an iCalendar document.
    public func calendar(memberID: Int, from: Date? = nil, to: Date? = nil, by principal: Principal) async throws -> String {
        try principal.authorize(.getMemberCalendar)
        let (from, to) = try Self.window(from: from, to: to)
        guard let member = try await MemberStore(pool: database.pool).find(id: memberID) else {
            throw BatonError.notFound("no member \(memberID)")
        }
        let meetings = try await store.meetings(
            MeetingStore.Filter(memberID: memberID, from: from, to: to, includeCancelled: true),
            scope: principal.scope,
            limit: 5000
        )
        let sessions = try await TrainingStore(pool: database.pool).calendarEvents(
            memberID: memberID,
            team: nil,
            from: from,
            to: to,
            scope: principal.scope
        )
        return ICalendar.document(name: member.name, events: Self.merged(meetings.map(Self.event), sessions))
    }

    /// The meetings and training sessions of a team's members, as an iCalendar document.
    public func calendar(team slug: String, from: Date? = nil, to: Date? = nil, by principal: Principal) async throws -> String {
        try principal.authorize(.getTeamCalendar)
        let (from, to) = try Self.window(from: from, to: to)
        guard let team = try await database.teamDirectory.find(slug, pool: database.pool) else {
            throw BatonError.notFound("no team '\(slug)'")
        }
        try principal.authorize(.getTeamCalendar, team: team.slug, region: team.region, notFound: "no team '\(slug)'")
        let meetings = try await store.meetings(
            MeetingStore.Filter(team: team.slug, from: from, to: to, includeCancelled: true),
            scope: principal.scope,
            limit: 5000
        )
        let sessions = try await TrainingStore(pool: database.pool).calendarEvents(
            memberID: nil,
            team: team.slug,
            from: from,
            to: to,
            scope: principal.scope
        )
        return ICalendar.document(name: team.name, events: Self.merged(meetings.map(Self.event), sessions))
    }

    /// Meetings and training sessions in start order.
    static func merged(_ meetings: [CalendarEvent], _ sessions: [CalendarEvent]) -> [CalendarEvent] {
        (meetings + sessions).sorted { ($0.startsAt, $0.uid) < ($1.startsAt, $1.uid) }
    }

    static func event(_ meeting: Meeting) -> CalendarEvent {
        func person(_ attendee: MeetingAttendee) -> CalendarEvent.Person {
            let address = attendee.email.map { "mailto:" + $0 } ?? "urn:baton:\(attendee.kind.rawValue):\(attendee.id)"
            return CalendarEvent.Person(name: attendee.name, address: address)
        }
        var description: [String] = []
        if let agenda = meeting.agenda { description.append("Agenda: " + agenda) }
        if let outcome = meeting.outcome { description.append("Outcome: " + outcome) }
        return CalendarEvent(
            uid: "meeting-\(meeting.id)@baton",
            stamp: meeting.updatedAt,
            startsAt: meeting.startsAt,
            endsAt: meeting.endsAt,
            summary: meeting.title,
            description: description.isEmpty ? nil : description.joined(separator: "\n"),
            location: meeting.location,
            organiser: meeting.attendees.first { $0.kind == .member && $0.id == meeting.organiserID }.map(person),
            attendees: meeting.attendees.map(person),
            cancelled: meeting.cancelledAt != nil,
            sequence: meeting.version - 1
        )
    }
}
