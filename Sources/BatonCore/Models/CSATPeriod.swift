/// How CSAT figures are grouped.
public enum CSATGrain: String, Sendable, Codable, CaseIterable {
    case week
    case month
    case quarter
}

/// The CSAT of one period: the share of 4 and 5 scores among the responses.
public struct CSATPeriod: Sendable, Equatable, Codable {
    /// The period's first and last day (UTC, `YYYY-MM-DD`).
    public var start: String
    public var end: String
    public var responses: Int
    public var satisfied: Int

    /// Percent satisfied, one decimal; `nil` without responses.
    public var csat: Double? {
        guard responses > 0 else { return nil }
        return (Double(satisfied) * 1000 / Double(responses)).rounded() / 10
    }
}
