public import Foundation

/// A stored policy: its definition with an id, a switch and timestamps. The definition's
/// fields read through (`policy.team`, `policy.claimWithinMinutes`).
@dynamicMemberLookup
public struct SLAPolicy: Sendable, Equatable, Codable {
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
