import Foundation
import PostgresClient

/// Meetings: scheduling with the double-booking check, edits, cancellation and calendar export.
public struct MeetingService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
    }

    var store: MeetingStore { MeetingStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    public func list(_ filter: MeetingStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Meeting> {
        try principal.authorize(.listMeetings)
        if let from = filter.from, let to = filter.to, to <= from {
            throw BatonError(.ruleViolation, "to is not after from", details: ["field": "to"])
        }
        return try await store.list(filter, scope: principal.scope, page: page)
    }

    /// Schedules a meeting in its region (given, or the organiser's team's); a member attendee
    /// (the organiser included) already in an overlapping meeting is 409 unless `allowConflict`.
    public func create(_ meeting: NewMeeting, idempotencyKey: String? = nil, by principal: Principal) async throws -> Meeting {
        try principal.authorize(.createMeeting)
        try meeting.validate()
        let store = self.store
        let id = try await write.run(key: idempotencyKey, by: principal, operation: "createMeeting", request: meeting) { tx -> Int in
            let region: String
            if let given = meeting.region {
                region = given
            } else {
                guard let found = try await store.organiserRegion(memberID: meeting.organiserID, on: tx) else {
                    throw BatonError(.ruleViolation, "the organiser is on no team: name the meeting's region", details: ["field": "region"])
                }
                region = found
            }
            guard principal.scope.reaches(region: region), let regionZone = try await store.timeZone(region: region, on: tx) else {
                throw BatonError(.ruleViolation, "no region '\(region)' you may schedule meetings in", details: ["field": "region"])
            }
            let members = Self.members(organiser: meeting.organiserID, meeting.memberIDs)
            try await store.lockMembers(members, on: tx)
            let customer = try await store.checkLinks(
                customerID: meeting.customerID,
                opportunityID: meeting.opportunityID,
                contactIDs: meeting.contactIDs,
                on: tx
            )
            if !meeting.allowConflict {
                try Self.refuse(
                    try await store.conflicts(memberIDs: members, startsAt: meeting.startsAt, endsAt: meeting.endsAt, excluding: nil, on: tx)
                )
            }
            return try await store.insert(
                meeting,
                region: region,
                timeZone: meeting.timeZone ?? regionZone,
                customerID: customer,
                memberIDs: members,
                by: principal,
                on: tx
            )
        }
        wakeups.eventsWritten()
        guard let created = try await store.find(id: id, scope: .everything) else { throw BatonError.notFound("no meeting \(id)") }
        return created
    }

    public func meeting(id: Int, by principal: Principal) async throws -> Meeting {
        try principal.authorize(.getMeeting)
        guard let meeting = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no meeting \(id)") }
        return meeting
    }

    /// Edits a meeting at `version` (else 412); moving it or changing who comes is checked for
    /// double bookings as scheduling is. A cancelled meeting is not edited (409).
    public func update(id: Int, version: Int, _ changes: MeetingChanges, by principal: Principal) async throws -> Meeting {
        try principal.authorize(.updateMeeting)
        try changes.validate()
        let store = self.store
        try await database.pool.transaction { tx in
            guard let current = try await store.lock(id: id, scope: principal.scope, on: tx) else {
                throw BatonError.notFound("no meeting \(id)")
            }
            guard current.version == version else { throw BatonError.stale(version: current.version) }
            guard current.cancelledAt == nil else { throw BatonError(.conflict, "meeting \(id) is cancelled") }
            let startsAt = changes.startsAt ?? current.startsAt
            let endsAt = changes.endsAt ?? current.endsAt
            try MeetingRules.check(startsAt: startsAt, endsAt: endsAt)
            let currentMembers = current.attendees.filter { $0.kind == .member }.map(\.id)
            let members = changes.memberIDs.map { Self.members(organiser: current.organiserID, $0) } ?? currentMembers
            if changes.movesBookings {
                try await store.lockMembers(members, on: tx)
                if !changes.allowConflict {
                    try Self.refuse(try await store.conflicts(memberIDs: members, startsAt: startsAt, endsAt: endsAt, excluding: id, on: tx))
                }
            }
            if let contactIDs = changes.contactIDs {
                _ = try await store.checkLinks(customerID: current.customerID, opportunityID: nil, contactIDs: contactIDs, on: tx)
            }
            try await store.update(current, changes, by: principal, on: tx)
            try await store.setAttendees(meetingID: id, memberIDs: changes.memberIDs == nil ? nil : members, contactIDs: changes.contactIDs, on: tx)
        }
        wakeups.eventsWritten()
        guard let updated = try await store.find(id: id, scope: .everything) else { throw BatonError.notFound("no meeting \(id)") }
        return updated
    }

    /// Cancels a meeting: it stays on record, frees its attendees and leaves the calendars
    /// (as a cancelled event). Cancelling twice is 409.
    public func cancel(id: Int, by principal: Principal) async throws -> Meeting {
        try principal.authorize(.cancelMeeting)
        let store = self.store
        try await database.pool.transaction { tx in
            guard try await store.lock(id: id, scope: principal.scope, on: tx) != nil else { throw BatonError.notFound("no meeting \(id)") }
            guard try await store.cancel(id: id, by: principal, on: tx) else { throw BatonError(.conflict, "meeting \(id) is already cancelled") }
        }
        wakeups.eventsWritten()
        guard let cancelled = try await store.find(id: id, scope: .everything) else { throw BatonError.notFound("no meeting \(id)") }
        return cancelled
    }

    /// The organiser first, then the others once each.
    static func members(organiser: Int, _ others: [Int]) -> [Int] {
        var seen: Set<Int> = [organiser]
        return [organiser] + others.filter { seen.insert($0).inserted }
    }

    /// 409 naming every member and the meetings and training sessions they are already in.
    static func refuse(_ conflicts: [MeetingConflict]) throws(BatonError) {
        guard !conflicts.isEmpty else { return }
        let named = conflicts.map { "member \($0.memberID) in \($0.kind.rawValue) \($0.id) '\($0.title)'" }
        func ids(_ values: some Sequence<Int>) -> String { Array(Set(values)).sorted().map(String.init).joined(separator: ",") }
        var details = ["member_ids": ids(conflicts.map(\.memberID))]
        for kind in [MeetingConflict.Kind.meeting, .trainingSession] {
            let found = conflicts.filter { $0.kind == kind }.map(\.id)
            if !found.isEmpty { details[kind == .meeting ? "meeting_ids" : "training_session_ids"] = ids(found) }
        }
        throw BatonError(.conflict, "double booking: \(named.joined(separator: ", ")); send allow_conflict to book anyway", details: details)
    }
}
