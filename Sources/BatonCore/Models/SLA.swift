public import Foundation

/// The two clocks a policy can run on a task.
public enum SLATarget: String, Sendable, Codable, CaseIterable {
    /// First response: the task is claimed.
    case claimWithin = "claim_within"
    /// Resolution: the task is done (or handed on).
    case doneWithin = "done_within"
}

/// A customer-facing service level or an internal one between departments.
public enum SLAKind: String, Sendable, Codable, CaseIterable {
    case sla
    case ola
}

/// What an escalation level does when it fires.
public enum EscalationAction: String, Sendable, Codable, CaseIterable {
    /// Raise the task's priority (to `priority`, or one step).
    case raisePriority = "raise_priority"
    /// Write an `sla.escalated` event for the feed (and its followers) to carry.
    case notify
    /// Hand the task to `team`.
    case handoff
    /// Create a task for the region's coordinators (or `team`).
    case createTask = "create_task"
}

/// One ordered level of a policy's escalation.
public struct EscalationLevel: Sendable, Equatable, Codable {
    /// What the delay counts from: the breach, or the at-risk point (80% of the target used).
    public enum Basis: String, Sendable, Codable {
        case breach
        case atRisk = "at_risk"
    }

    public var basis: Basis
    /// The clock the level watches; `nil` means resolution (`done_within`) when the policy sets
    /// it, otherwise first response.
    public var target: SLATarget?
    /// Business minutes after the basis.
    public var afterMinutes: Int
    public var action: EscalationAction
    /// The target team of `handoff` and `create_task`.
    public var team: String?
    /// The priority `raise_priority` raises to.
    public var priority: TaskPriority?
    public var message: String?
    /// Skip this level when the task was updated after the breach (or the last escalation).
    public var skipIfUpdated: Bool

    public init(
        basis: Basis = .breach,
        target: SLATarget? = nil,
        afterMinutes: Int,
        action: EscalationAction,
        team: String? = nil,
        priority: TaskPriority? = nil,
        message: String? = nil,
        skipIfUpdated: Bool = false
    ) {
        self.basis = basis
        self.target = target
        self.afterMinutes = afterMinutes
        self.action = action
        self.team = team
        self.priority = priority
        self.message = message
        self.skipIfUpdated = skipIfUpdated
    }

    enum CodingKeys: String, CodingKey {
        case basis
        case target
        case afterMinutes = "after_minutes"
        case action
        case team
        case priority
        case message
        case skipIfUpdated = "skip_if_updated"
    }
}

/// A stored policy: its definition with an id, a switch and timestamps. The definition's
/// fields read through (`policy.team`, `policy.claimWithinMinutes`).
@dynamicMemberLookup
public struct SLAPolicy: Sendable, Equatable {
    public var id: Int
    public var definition: NewSLAPolicy
    public var active: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int, definition: NewSLAPolicy, active: Bool = true, createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id
        self.definition = definition
        self.active = active
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public subscript<Value>(dynamicMember keyPath: KeyPath<NewSLAPolicy, Value>) -> Value {
        definition[keyPath: keyPath]
    }

    /// Whether the policy covers a task of `team` with these attributes; `nil` when it does not
    /// (or is disabled), otherwise how specific the match is.
    public func specificity(
        team: Team,
        kind: String,
        priority: TaskPriority,
        tags: [String],
        fromDepartment: Department?
    ) -> Int? {
        guard active else { return nil }
        return definition.specificity(team: team, kind: kind, priority: priority, tags: tags, fromDepartment: fromDepartment)
    }
}

/// What a policy covers and promises, in business minutes: a new policy as asked for, and
/// the definition of a stored one.
public struct NewSLAPolicy: Sendable, Equatable {
    public var name: String
    public var kind: SLAKind
    public var team: String?
    public var department: Department?
    public var taskKind: String?
    public var priority: TaskPriority?
    public var tags: [String]
    public var fromDepartment: Department?
    public var claimWithinMinutes: Int?
    public var doneWithinMinutes: Int?
    public var calendarRegion: String?
    public var escalations: [EscalationLevel]

    public init(
        name: String,
        kind: SLAKind,
        team: String? = nil,
        department: Department? = nil,
        taskKind: String? = nil,
        priority: TaskPriority? = nil,
        tags: [String] = [],
        fromDepartment: Department? = nil,
        claimWithinMinutes: Int? = nil,
        doneWithinMinutes: Int? = nil,
        calendarRegion: String? = nil,
        escalations: [EscalationLevel] = []
    ) {
        self.name = name
        self.kind = kind
        self.team = team
        self.department = department
        self.taskKind = taskKind
        self.priority = priority
        self.tags = tags
        self.fromDepartment = fromDepartment
        self.claimWithinMinutes = claimWithinMinutes
        self.doneWithinMinutes = doneWithinMinutes
        self.calendarRegion = calendarRegion
        self.escalations = escalations
    }

    /// The minutes of a target, if the policy sets it.
    public func minutes(for target: SLATarget) -> Int? {
        switch target {
        case .claimWithin: claimWithinMinutes
        case .doneWithin: doneWithinMinutes
        }
    }

    /// The clock a level watches.
    public func target(of level: EscalationLevel) -> SLATarget {
        level.target ?? (doneWithinMinutes != nil ? .doneWithin : .claimWithin)
    }

    /// How specifically the policy covers a task of `team` with these attributes, or `nil` when
    /// it does not: a team beats a department beats any team; each other filter adds.
    public func specificity(
        team: Team,
        kind: String,
        priority: TaskPriority,
        tags: [String],
        fromDepartment: Department?
    ) -> Int? {
        var score = 0
        if let policyTeam = self.team {
            guard policyTeam == team.slug else { return nil }
            score += 16
        }
        if let department {
            guard department == team.department else { return nil }
            score += 8
        }
        if let taskKind {
            guard taskKind == kind else { return nil }
            score += 4
        }
        if let policyPriority = self.priority {
            guard policyPriority == priority else { return nil }
            score += 2
        }
        if !self.tags.isEmpty {
            guard self.tags.contains(where: tags.contains) else { return nil }
            score += 1
        }
        if let from = self.fromDepartment {
            guard from == fromDepartment else { return nil }
            score += 4
        }
        return score
    }

    /// Checks what the schema cannot: at least one target, sane ranges, coherent levels.
    public func validate() throws(BatonError) {
        guard TextRules.hasLength(name, in: 1...200) else { throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "name") }
        guard claimWithinMinutes != nil || doneWithinMinutes != nil else {
            throw BatonError(
                .ruleViolation,
                "a policy needs claim_within_minutes, done_within_minutes or both",
                details: ["field": "done_within_minutes"]
            )
        }
        for (field, value) in [("claim_within_minutes", claimWithinMinutes), ("done_within_minutes", doneWithinMinutes)] {
            if let value, !(1...5_256_000).contains(value) {
                throw BatonError.invalidArgument("\(field) must be between 1 and 5256000 (ten years)", field: field)
            }
        }
        guard team == nil || department == nil else {
            throw BatonError(.ruleViolation, "a policy names a team or a department, not both", details: ["field": "department"])
        }
        if let taskKind, !TextRules.hasLength(taskKind, in: 1...100) {
            throw BatonError.invalidArgument("task_kind must be 1 to 100 characters", field: "task_kind")
        }
        guard escalations.count <= 10 else {
            throw BatonError.invalidArgument("a policy has at most 10 escalation levels", field: "escalations")
        }
        for (index, level) in escalations.enumerated() {
            let field = "escalations[\(index)]"
            guard (0...5_256_000).contains(level.afterMinutes) else {
                throw BatonError.invalidArgument("after_minutes must be between 0 and 5256000", field: "\(field).after_minutes")
            }
            if let target = level.target, minutes(for: target) == nil {
                throw BatonError(.ruleViolation, "the policy sets no \(target.rawValue) target", details: ["field": "\(field).target"])
            }
            if level.action == .handoff, level.team == nil {
                throw BatonError(.ruleViolation, "a handoff level names its team", details: ["field": "\(field).team"])
            }
            if let message = level.message, TextRules.length(message) > 1000 {
                throw BatonError.invalidArgument("message must be at most 1000 characters", field: "\(field).message")
            }
        }
    }
}

/// A task's clock for one target, as read back.
public struct SLAClock: Sendable, Equatable {
    /// Where the clock stands.
    public enum State: String, Sendable, Codable {
        case running
        case paused
        case met
        case breached
        /// Stopped because the task was cancelled or died, before its due time.
        case stopped
    }

    public var id: Int
    public var taskID: Int
    public var policyID: Int
    public var policyName: String
    public var kind: SLAKind
    public var target: SLATarget
    public var team: String
    public var region: String
    public var calendarRegion: String
    public var targetSeconds: Int64
    public var startedAt: Date
    public var runningSince: Date?
    public var consumedSeconds: Int64
    public var pausedAt: Date?
    public var atRiskAt: Date
    public var dueAt: Date
    public var atRiskEmittedAt: Date?
    public var breachedAt: Date?
    public var stoppedAt: Date?
    public var stopReason: String?

    /// Business seconds used up to `now` (or to the stop), in `calendar`.
    public func elapsedSeconds(at now: Date, in calendar: BusinessCalendar) -> Int64 {
        guard let runningSince else { return consumedSeconds }
        let end = stoppedAt ?? now
        return consumedSeconds + calendar.businessSeconds(from: runningSince, to: max(end, runningSince))
    }

    /// The state at `now`: a breach is sticky; a running clock past its due time is breached
    /// even before the monitor has recorded it.
    public func state(at now: Date) -> State {
        if breachedAt != nil { return .breached }
        if let stoppedAt {
            if pausedAt == nil, stoppedAt > dueAt { return .breached }
            return ["cancelled", "dead"].contains(stopReason ?? "") ? .stopped : .met
        }
        if pausedAt != nil { return .paused }
        return now >= dueAt ? .breached : .running
    }
}
