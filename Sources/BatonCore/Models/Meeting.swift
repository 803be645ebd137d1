public import Foundation

/// Someone at a meeting: a member, or a contact of a customer.
public struct MeetingAttendee: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case member, contact }

    public var kind: Kind
    public var id: Int
    public var name: String
    public var email: String?
}

/// A meeting: when, who (the organiser is always among the member attendees), what it is about.
public struct Meeting: Sendable, Equatable, Codable {
    public var id: Int
    public var region: String
    public var title: String
    public var startsAt: Date
    public var endsAt: Date
    /// The IANA time zone it was planned in.
    public var timeZone: String
    public var organiserID: Int
    public var customerID: Int?
    public var opportunityID: Int?
    public var location: String?
    public var agenda: String?
    public var notes: String?
    public var outcome: String?
    public var attendees: [MeetingAttendee]
    public var cancelledAt: Date?
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
}

/// What scheduling a meeting needs. `region` defaults to the organiser's team's region and
/// `timeZone` to the region's.
public struct NewMeeting: Sendable, Equatable, Codable {
    public var title: String
    public var startsAt: Date
    public var endsAt: Date
    public var timeZone: String?
    public var region: String?
    public var organiserID: Int
    public var memberIDs: [Int]
    public var contactIDs: [Int]
    public var customerID: Int?
    public var opportunityID: Int?
    public var location: String?
    public var agenda: String?
    /// Schedule it even when it double-books a member.
    public var allowConflict: Bool

    public init(
        title: String,
        startsAt: Date,
        endsAt: Date,
        timeZone: String? = nil,
        region: String? = nil,
        organiserID: Int,
        memberIDs: [Int] = [],
        contactIDs: [Int] = [],
        customerID: Int? = nil,
        opportunityID: Int? = nil,
        location: String? = nil,
        agenda: String? = nil,
        allowConflict: Bool = false
    ) {
        self.title = title
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.region = region
        self.organiserID = organiserID
        self.memberIDs = memberIDs
        self.contactIDs = contactIDs
        self.customerID = customerID
        self.opportunityID = opportunityID
        self.location = location
        self.agenda = agenda
        self.allowConflict = allowConflict
    }

    public func validate() throws(BatonError) {
        try RecordRules.check(title: title, field: "title", max: 200)
        if organiserID < 1 { throw .invalidArgument("organiser_id is not a member id", field: "organiser_id") }
        try MeetingRules.check(startsAt: startsAt, endsAt: endsAt)
        if let timeZone { try MeetingRules.check(timeZone: timeZone) }
        try MeetingRules.check(memberIDs: memberIDs, contactIDs: contactIDs)
        try MeetingRules.check(text: location, field: "location", max: 500)
        try MeetingRules.check(text: agenda, field: "agenda", max: 10_000)
    }
}

/// An edit of a meeting: the fields given change; `memberIDs` and `contactIDs` replace the
/// attendees (the organiser stays). Moving it or changing who comes is checked for double bookings.
public struct MeetingChanges: Sendable, Equatable, Codable {
    public var title: String?
    public var startsAt: Date?
    public var endsAt: Date?
    public var timeZone: String?
    public var memberIDs: [Int]?
    public var contactIDs: [Int]?
    public var location: String?
    public var agenda: String?
    public var notes: String?
    public var outcome: String?
    public var allowConflict: Bool

    public init(
        title: String? = nil,
        startsAt: Date? = nil,
        endsAt: Date? = nil,
        timeZone: String? = nil,
        memberIDs: [Int]? = nil,
        contactIDs: [Int]? = nil,
        location: String? = nil,
        agenda: String? = nil,
        notes: String? = nil,
        outcome: String? = nil,
        allowConflict: Bool = false
    ) {
        self.title = title
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.timeZone = timeZone
        self.memberIDs = memberIDs
        self.contactIDs = contactIDs
        self.location = location
        self.agenda = agenda
        self.notes = notes
        self.outcome = outcome
        self.allowConflict = allowConflict
    }

    /// Whether the edit can change who is booked when.
    var movesBookings: Bool { startsAt != nil || endsAt != nil || memberIDs != nil }

    public func validate() throws(BatonError) {
        if let title { try RecordRules.check(title: title, field: "title", max: 200) }
        if let timeZone { try MeetingRules.check(timeZone: timeZone) }
        try MeetingRules.check(memberIDs: memberIDs ?? [], contactIDs: contactIDs ?? [])
        try MeetingRules.check(text: location, field: "location", max: 500)
        try MeetingRules.check(text: agenda, field: "agenda", max: 10_000)
        try MeetingRules.check(text: notes, field: "notes", max: 10_000)
        try MeetingRules.check(text: outcome, field: "outcome", max: 10_000)
    }
}

/// A member already booked at the time: the meeting they attend, or the training session they
/// are due at (invited or attending, not excused).
public struct MeetingConflict: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case meeting
        case trainingSession = "training session"
    }

    public var memberID: Int
    public var kind: Kind
    /// The meeting's or the training session's id.
    public var id: Int
    public var title: String
    public var startsAt: Date
    public var endsAt: Date
}

/// Checks the meeting operations share.
enum MeetingRules {
    /// A meeting lasts at most a week.
    static func check(startsAt: Date, endsAt: Date) throws(BatonError) {
        guard endsAt > startsAt else { throw BatonError(.ruleViolation, "end is not after start", details: ["field": "end"]) }
        guard endsAt.timeIntervalSince(startsAt) <= 7 * 86_400 else {
            throw BatonError(.ruleViolation, "a meeting lasts at most 7 days", details: ["field": "end"])
        }
    }

    static func check(timeZone: String) throws(BatonError) {
        guard TimeZone(identifier: timeZone) != nil else {
            throw BatonError(.ruleViolation, "'\(timeZone)' is not a time zone such as Europe/Berlin", details: ["field": "time_zone"])
        }
    }

    static func check(memberIDs: [Int], contactIDs: [Int]) throws(BatonError) {
        if memberIDs.contains(where: { $0 < 1 }) { throw .invalidArgument("member_ids must be member ids", field: "member_ids") }
        if contactIDs.contains(where: { $0 < 1 }) { throw .invalidArgument("contact_ids must be contact ids", field: "contact_ids") }
        if memberIDs.count > 100 || contactIDs.count > 100 { throw .invalidArgument("at most 100 attendees of each kind", field: "member_ids") }
    }

    static func check(text: String?, field: String, max: Int) throws(BatonError) {
        guard let text else { return }
        if text.count > max { throw .invalidArgument("\(field) is longer than \(max) characters", field: field) }
    }
}
