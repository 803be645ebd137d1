/// A customer-facing service level or an internal one between departments.
public enum SLAKind: String, Sendable, Codable, CaseIterable {
    case sla
    case ola
}
