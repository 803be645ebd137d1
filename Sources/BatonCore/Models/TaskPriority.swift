/// Claim order: urgent first.
public enum TaskPriority: String, Sendable, Codable, CaseIterable {
    case urgent
    case high
    case normal
    case low

    /// The stored rank; ascending rank is claim order.
    public var rank: Int {
        switch self {
        case .urgent: 0
        case .high: 1
        case .normal: 2
        case .low: 3
        }
    }

    public init?(rank: Int) {
        guard let priority = Self.allCases.first(where: { $0.rank == rank }) else { return nil }
        self = priority
    }
}
