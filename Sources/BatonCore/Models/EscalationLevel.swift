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
