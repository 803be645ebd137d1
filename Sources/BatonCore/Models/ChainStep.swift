/// A step of a handoff chain as a caller may see it: full for teams in scope, and only id,
/// team and state for the others.
public enum ChainStep: Sendable, Equatable {
    case visible(QueueTask)
    case hidden(id: Int, team: String, state: TaskState)
}
