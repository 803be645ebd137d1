public import Foundation

/// How often a training programme meets: every n months (monthly, every two months,
/// quarterly) or every n weeks.
public struct TrainingCadence: Sendable, Equatable, Codable {
    public enum Unit: String, Sendable, Codable { case month, week }

    public var unit: Unit
    public var every: Int

    public init(unit: Unit, every: Int) {
        self.unit = unit
        self.every = every
    }

    public static let monthly = TrainingCadence(unit: .month, every: 1)
    public static let everyTwoMonths = TrainingCadence(unit: .month, every: 2)
    public static let quarterly = TrainingCadence(unit: .month, every: 3)

    /// The `index`-th session's date (0 is the first), always counted from the first date: n
    /// months on, on the first date's day or the month's last day when it has fewer (quarterly
    /// from 31 January: 30 April, 31 July, 31 October); n weeks on, the same weekday.
    public func date(_ index: Int, from first: LocalDate) -> LocalDate {
        switch unit {
        case .week:
            return LocalDate(daysSinceEpoch: first.daysSinceEpoch + Int64(7 * every * index))
        case .month:
            let months = first.year * 12 + (first.month - 1) + every * index
            let year = months / 12
            let month = months % 12 + 1
            for day in stride(from: first.day, through: 1, by: -1) {
                if let date = LocalDate(year: year, month: month, day: day) { return date }
            }
            return LocalDate(year: year, month: month, day: 28) ?? first
        }
    }

    /// Session starts from `first` (a wall-clock start in `timeZone`) up to and including
    /// `through`, at most `limit` of them. Each is the same wall-clock time on its date; a time
    /// that does not exist that day (a DST gap) moves forward by the gap.
    public func starts(first: Date, timeZone: TimeZone, through: Date, limit: Int = 500) -> [Date] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: first)
        guard let year = parts.year, let month = parts.month, let day = parts.day, let firstDate = LocalDate(year: year, month: month, day: day)
        else { return [] }
        var starts: [Date] = []
        for index in 0..<limit {
            let date = self.date(index, from: firstDate)
            let wall = DateComponents(
                year: date.year,
                month: date.month,
                day: date.day,
                hour: parts.hour,
                minute: parts.minute,
                second: parts.second
            )
            guard let start = calendar.date(from: wall), start <= through else { break }
            starts.append(start)
        }
        return starts
    }
}
