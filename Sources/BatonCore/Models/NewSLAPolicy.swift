/// What a policy covers and promises, in business minutes: a new policy as asked for, and
/// the definition of a stored one.
public struct NewSLAPolicy: Sendable, Equatable, Codable {
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
