/// Where a customer stands with the company.
public enum CustomerStatus: String, Sendable, Codable, CaseIterable {
    case lead
    case prospect
    case active
    case churned
}
