/// How a target stands against the share of its period that has elapsed.
public enum PlanStatus: String, Sendable, Codable, CaseIterable {
    case ahead
    case onTrack = "on_track"
    case behind
}

/// One target in the plan report: target, actual, variance and status, with the analysis.
public struct PlanRow: Sendable, Equatable, Codable {
    public var target: Target
    /// Nil for a CSAT target without responses.
    public var actual: Double?
    public var variance: Double?
    public var variancePercent: Double?
    /// Actual / target in percent.
    public var attainmentPercent: Double?
    /// The share of the period elapsed, 0 to 1.
    public var elapsed: Double
    public var status: PlanStatus?

    /// Builds a row. The rule: the expected value is the target times the elapsed share of the
    /// period (CSAT, a rate, is expected in full from the start); pace = actual / expected.
    /// Ahead at a pace of 110 % or more, on track from 95 %, behind below; a period that has
    /// not started is on track. No status without an actual.
    public init(target: Target, actual: Double?, elapsed: Double) {
        self.target = target
        self.actual = actual.map(Self.rounded)
        self.elapsed = (elapsed * 1000).rounded() / 1000
        guard let actual else { return }
        self.variance = Self.rounded(actual - target.value)
        self.variancePercent = Self.rounded((actual - target.value) * 100 / target.value)
        self.attainmentPercent = Self.rounded(actual * 100 / target.value)
        let expected = target.metric == .csat ? target.value : target.value * elapsed
        guard expected > 0 else {
            self.status = .onTrack
            return
        }
        let pace = actual / expected
        self.status = pace >= 1.1 ? .ahead : pace >= 0.95 ? .onTrack : .behind
    }

    /// Two decimals: split credit makes fractional orders and minor units.
    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}

/// Targets against actuals over a span of periods.
public struct PlanReport: Sendable, Equatable, Codable {
    public var from: LocalDate
    public var to: LocalDate
    public var grain: ReportGrain?
    public var rows: [PlanRow]
}

/// Members ranked by attainment of their targets of one metric in one period.
public struct Leaderboard: Sendable, Equatable, Codable {
    public struct Entry: Sendable, Equatable, Codable {
        public var rank: Int
        public var memberID: Int
        public var memberName: String
        public var targetID: Int
        public var target: Double
        public var actual: Double?
        public var attainmentPercent: Double?
    }

    public var period: ReportPeriod
    public var metric: TargetMetric
    public var entries: [Entry]
}
