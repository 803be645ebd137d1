/// CSAT per period over a span of days (UTC, both ends included).
public struct CSATReport: Sendable, Equatable {
    public var grain: CSATGrain
    public var from: LocalDate
    public var to: LocalDate
    public var periods: [CSATPeriod]
}
