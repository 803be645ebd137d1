/// Roles, from most to least powerful. What each may do is ``Permission``'s table; where, the
/// token's ``Scope``.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Everything: tokens, reference data, every team.
    case admin
    /// All teams of its regions, with lead powers there.
    case coordinator
    /// Its own teams, plus pause/resume and retrying dead tasks.
    case lead
    /// Works its own teams' queues.
    case agent
    /// Reads only, within its scope.
    case viewer
}
