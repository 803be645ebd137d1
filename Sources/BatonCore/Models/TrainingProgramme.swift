public import Foundation

/// Who a member was at a training session.
public enum AttendanceStatus: String, Sendable, Codable, CaseIterable {
    case invited, attended, excused, absent
}

/// Who a programme is for: departments (of the programme's region), teams, members.
public struct TrainingAudience: Sendable, Equatable, Codable {
    public var departments: [Department]
    public var teams: [String]
    public var memberIDs: [Int]

    public init(departments: [Department] = [], teams: [String] = [], memberIDs: [Int] = []) {
        self.departments = departments
        self.teams = teams
        self.memberIDs = memberIDs
    }

    var isEmpty: Bool { departments.isEmpty && teams.isEmpty && memberIDs.isEmpty }
}

/// One session of a programme: where the cadence put it (`scheduledAt`) and where it is.
public struct TrainingSession: Sendable, Equatable, Codable {
    public var id: Int
    public var programmeID: Int
    /// Its place in the cadence; 0 is the first session.
    public var sequence: Int
    public var scheduledAt: Date
    public var startsAt: Date
    public var endsAt: Date
    public var cancelledAt: Date?
    public var version: Int
    /// Members by attendance status.
    public var counts: [AttendanceStatus: Int]
}

/// A training programme with its sessions.
public struct TrainingProgramme: Sendable, Equatable, Codable {
    public var id: Int
    public var region: String
    public var title: String
    public var goal: String?
    public var audience: TrainingAudience
    /// Codes of the competencies it builds.
    public var competencies: [String]
    public var cadence: TrainingCadence
    public var durationMinutes: Int
    public var firstSessionAt: Date
    public var timeZone: String
    public var horizonMonths: Int
    public var ownerID: Int?
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var sessions: [TrainingSession]
}

/// What starting a programme needs; sessions are generated from `firstSessionAt` for
/// `horizonMonths`, and the audience's members are invited to each.
public struct NewTrainingProgramme: Sendable, Equatable, Codable {
    public var region: String
    public var title: String
    public var goal: String?
    public var audience: TrainingAudience
    public var competencies: [String]
    public var cadence: TrainingCadence
    public var durationMinutes: Int
    public var firstSessionAt: Date
    public var timeZone: String?
    public var horizonMonths: Int
    public var ownerID: Int?

    public init(
        region: String,
        title: String,
        goal: String? = nil,
        audience: TrainingAudience,
        competencies: [String] = [],
        cadence: TrainingCadence,
        durationMinutes: Int,
        firstSessionAt: Date,
        timeZone: String? = nil,
        horizonMonths: Int = 6,
        ownerID: Int? = nil
    ) {
        self.region = region
        self.title = title
        self.goal = goal
        self.audience = audience
        self.competencies = competencies
        self.cadence = cadence
        self.durationMinutes = durationMinutes
        self.firstSessionAt = firstSessionAt
        self.timeZone = timeZone
        self.horizonMonths = horizonMonths
        self.ownerID = ownerID
    }

    public func validate() throws(BatonError) {
        try RecordRules.check(title: title, field: "title", max: 200)
        try MeetingRules.check(text: goal, field: "goal", max: 2000)
        guard (1...24).contains(cadence.every) else { throw .invalidArgument("every must be 1 to 24", field: "every") }
        guard (5...1440).contains(durationMinutes) else { throw .invalidArgument("duration_minutes must be 5 to 1440", field: "duration_minutes") }
        guard (1...24).contains(horizonMonths) else { throw .invalidArgument("horizon_months must be 1 to 24", field: "horizon_months") }
        if let timeZone { try MeetingRules.check(timeZone: timeZone) }
        if let ownerID, ownerID < 1 { throw .invalidArgument("owner_id is not a member id", field: "owner_id") }
        if audience.memberIDs.contains(where: { $0 < 1 }) { throw .invalidArgument("audience members must be member ids", field: "audience") }
        // Sessions are generated from the first one: keep them within dates every client reads.
        guard (946_684_800.0...4_102_444_800.0).contains(firstSessionAt.timeIntervalSince1970) else {
            throw BatonError(.ruleViolation, "first_session must be between 2000 and 2100", details: ["field": "first_session"])
        }
        if competencies.count > 20 { throw .invalidArgument("at most 20 competencies", field: "competencies") }
        if audience.isEmpty {
            throw BatonError(.ruleViolation, "name the audience: departments, teams or members", details: ["field": "audience"])
        }
    }
}

/// A member's attendance at a session.
public struct TrainingAttendance: Sendable, Equatable, Codable {
    public var memberID: Int
    public var name: String
    public var status: AttendanceStatus

    public init(memberID: Int, name: String = "", status: AttendanceStatus) {
        self.memberID = memberID
        self.name = name
        self.status = status
    }
}

/// A member's record over the sessions that have ended: completion rate is attended over the
/// sessions they were due at (invited, attended or absent; excused ones do not count), and the
/// programmes where they missed a session (absent, or never marked).
public struct TrainingComplianceEntry: Sendable, Equatable, Codable {
    public struct Missed: Sendable, Equatable, Codable {
        public var programmeID: Int
        public var title: String
        public var missedSessions: Int
        public var lastMissedAt: Date
    }

    public var memberID: Int
    public var name: String
    public var due: Int
    public var attended: Int
    public var excused: Int
    /// Attended / due, nil when nothing was due.
    public var completionRate: Double?
    public var missed: [Missed]
}

/// A competency at a level: a member's current one, or what a role asks for.
public struct CompetencyLevel: Sendable, Equatable, Codable {
    public var competency: String
    public var level: Int

    public init(competency: String, level: Int) {
        self.competency = competency
        self.level = level
    }
}

/// A member's development against a target role: per competency of the catalogue, the current
/// level, the role's target (nil without a role or when the role does not ask for it), the gap,
/// and the training sessions attended of programmes that build it.
public struct DevelopmentView: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var competency: String
        public var name: String
        public var level: Int
        public var target: Int?
        /// Target minus level when positive, else 0; nil without a target.
        public var gap: Int?
        public var attendedSessions: Int
    }

    public var memberID: Int
    public var role: String?
    public var entries: [Entry]
}
