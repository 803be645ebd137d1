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
