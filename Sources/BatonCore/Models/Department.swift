/// The four departments a sales coordinator conducts, and the coordinators' own team.
public enum Department: String, Sendable, Codable, CaseIterable {
    case sales
    case marketing
    case logistics
    case support
    /// The region's sales coordinators; escalations can create work for them.
    case coordination
}
