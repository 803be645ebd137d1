import BatonCore

extension Components.Schemas.Rule {
    init(_ rule: Rule) throws {
        self.init(
            id: Int64(rule.id),
            name: rule.name,
            on: rule.on,
            condition: try JSONBridge.value(from: rule.condition.json.text),
            action: .init(rule.action),
            active: rule.active,
            version: rule.version,
            createdBy: rule.createdBy,
            createdAt: rule.createdAt,
            updatedAt: rule.updatedAt
        )
    }
}

extension Components.Schemas.RuleAction {
    init(_ action: RuleAction) {
        self.init(
            department: action.department.flatMap { Components.Schemas.Department(rawValue: $0.rawValue) },
            team: action.team,
            kind: action.kind,
            priority: action.priority.flatMap { Components.Schemas.Priority(rawValue: $0.rawValue) },
            title: action.title,
            payload: .init(additionalProperties: action.payload),
            subject: action.subject.map { .init(_type: $0.type, id: $0.id) }
        )
    }
}

extension Components.Schemas.RuleTrial {
    init(_ trial: RuleTrial) {
        self.init(
            matches: trial.matches,
            reason: trial.reason,
            task: trial.task.map { task in
                .init(
                    team: task.team,
                    kind: task.kind,
                    priority: Components.Schemas.Priority(rawValue: task.priority.rawValue) ?? .normal,
                    title: task.title,
                    payload: .init(additionalProperties: task.payload),
                    subject: task.subject.map { .init(_type: $0.type, id: $0.id) }
                )
            }
        )
    }
}
