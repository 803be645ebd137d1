/// How long a target's or a report's period is.
public enum ReportGrain: String, Sendable, Codable, CaseIterable {
    case week, month, quarter, year
}

/// One calendar period: an ISO 8601 week (Monday to Sunday), a month, a quarter or a year. Its
/// days are wall-calendar days; reports turn them into instants in each record's region's time
/// zone.
public struct ReportPeriod: Sendable, Hashable, CustomStringConvertible {
    public let grain: ReportGrain
    /// The first day.
    public let start: LocalDate

    /// The period of `grain` that starts on `start`; nil when no period starts on that day.
    public init?(grain: ReportGrain, start: LocalDate) {
        guard ReportPeriod(grain: grain, containing: start).start == start else { return nil }
        self.grain = grain
        self.start = start
    }

    /// The period of `grain` holding `day`.
    public init(grain: ReportGrain, containing day: LocalDate) {
        self.grain = grain
        switch grain {
        case .week:
            self.start = LocalDate(daysSinceEpoch: day.daysSinceEpoch - Int64(Self.isoWeekday(day) - 1))
        case .month:
            self.start = LocalDate(year: day.year, month: day.month, day: 1) ?? day
        case .quarter:
            self.start = LocalDate(year: day.year, month: (day.month - 1) / 3 * 3 + 1, day: 1) ?? day
        case .year:
            self.start = LocalDate(year: day.year, month: 1, day: 1) ?? day
        }
    }

    /// Reads a period label: `2026` (year), `2026-Q4`, `2026-11`, `2026-W48` (ISO week).
    public init?(parsing text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, first.count == 4, first.allSatisfy(\.isASCIIDigit), let year = Int(first), year >= 1 else { return nil }
        if parts.count == 1 {
            guard let start = LocalDate(year: year, month: 1, day: 1) else { return nil }
            self.init(uncheckedGrain: .year, start: start)
            return
        }
        guard parts.count == 2 else { return nil }
        let rest = parts[1]
        if rest.count == 2, rest.allSatisfy(\.isASCIIDigit), let month = Int(rest), let start = LocalDate(year: year, month: month, day: 1) {
            self.init(uncheckedGrain: .month, start: start)
        } else if rest.count == 2, rest.first == "Q", let quarter = Int(rest.dropFirst()), (1...4).contains(quarter),
            let start = LocalDate(year: year, month: quarter * 3 - 2, day: 1)
        {
            self.init(uncheckedGrain: .quarter, start: start)
        } else if rest.count == 3, rest.first == "W", rest.dropFirst().allSatisfy(\.isASCIIDigit), let week = Int(rest.dropFirst()), week >= 1,
            let january4 = LocalDate(year: year, month: 1, day: 4)
        {
            let firstMonday = january4.daysSinceEpoch - Int64(Self.isoWeekday(january4) - 1)
            let period = ReportPeriod(uncheckedGrain: .week, start: LocalDate(daysSinceEpoch: firstMonday + Int64(week - 1) * 7))
            // Week 53 exists only in long ISO years.
            guard period.description == text else { return nil }
            self = period
        } else {
            return nil
        }
    }

    private init(uncheckedGrain grain: ReportGrain, start: LocalDate) {
        self.grain = grain
        self.start = start
    }

    /// The day after the last day.
    public var end: LocalDate {
        switch grain {
        case .week: LocalDate(daysSinceEpoch: start.daysSinceEpoch + 7)
        case .month: Self.monthsLater(start, 1)
        case .quarter: Self.monthsLater(start, 3)
        case .year: Self.monthsLater(start, 12)
        }
    }

    /// The last day.
    public var last: LocalDate { LocalDate(daysSinceEpoch: end.daysSinceEpoch - 1) }

    /// The period before this one.
    public var previous: ReportPeriod {
        ReportPeriod(uncheckedGrain: grain, start: ReportPeriod(grain: grain, containing: LocalDate(daysSinceEpoch: start.daysSinceEpoch - 1)).start)
    }

    /// The same period a year earlier: the same month or quarter, or for a week the week 52
    /// weeks earlier (the same ISO week number except after a week 53).
    public var yearAgo: ReportPeriod {
        switch grain {
        case .week: ReportPeriod(uncheckedGrain: .week, start: LocalDate(daysSinceEpoch: start.daysSinceEpoch - 364))
        default: ReportPeriod(uncheckedGrain: grain, start: Self.monthsLater(start, -12))
        }
    }

    /// The period's label, the form ``init(parsing:)`` reads.
    public var description: String {
        let year = Self.fourDigits(start.year)
        switch grain {
        case .year: return year
        case .quarter: return "\(year)-Q\((start.month - 1) / 3 + 1)"
        case .month: return start.month < 10 ? "\(year)-0\(start.month)" : "\(year)-\(start.month)"
        case .week:
            // The ISO year and week number are those of the week's Thursday.
            let thursday = LocalDate(daysSinceEpoch: start.daysSinceEpoch + 3)
            let january1 = LocalDate(year: thursday.year, month: 1, day: 1) ?? thursday
            let week = Int(thursday.daysSinceEpoch - january1.daysSinceEpoch) / 7 + 1
            return "\(Self.fourDigits(thursday.year))-W\(week < 10 ? "0" : "")\(week)"
        }
    }

    /// A year as labels write it, zero-padded to four digits (`0914`), so that every label
    /// reads back as the period it names.
    private static func fourDigits(_ year: Int) -> String {
        let digits = String(year)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The share of the period that lies before `today` (whole days; today counts as half
    /// elapsed), from 0 to 1.
    public func elapsedShare(today: LocalDate) -> Double {
        let days = Double(end.daysSinceEpoch - start.daysSinceEpoch)
        let elapsed = Double(today.daysSinceEpoch - start.daysSinceEpoch) + 0.5
        return min(max(elapsed / days, 0), 1)
    }

    /// Monday 1 ... Sunday 7; 1970-01-01 was a Thursday.
    static func isoWeekday(_ day: LocalDate) -> Int {
        Int(((day.daysSinceEpoch + 3) % 7 + 7) % 7) + 1
    }

    private static func monthsLater(_ day: LocalDate, _ months: Int) -> LocalDate {
        let index = day.year * 12 + (day.month - 1) + months
        return LocalDate(year: index / 12, month: index % 12 + 1, day: 1) ?? day
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
