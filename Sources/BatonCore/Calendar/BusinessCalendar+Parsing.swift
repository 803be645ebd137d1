// The calendar's small value types and their text forms: "09:00", "09:00-17:00", "2026-12-25", "monday".
// Parsing is strict on purpose: these come from region configuration, and a typo should fail loudly at load
// time rather than shift a deadline.

/// A wall-clock time of day in whole minutes, from 00:00 to 24:00; 24:00 only ever ends an interval.
public struct LocalTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Minutes since local midnight, 0...1440.
    public let minutes: Int

    /// Creates a time from minutes since midnight; nil outside 0...1440.
    public init?(minutes: Int) {
        guard (0...1440).contains(minutes) else { return nil }
        self.minutes = minutes
    }

    /// Creates a time from an hour and a minute; 24:00 is the only time with hour 24.
    public init?(hour: Int, minute: Int) {
        guard (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0 else { return nil }
        self.minutes = hour * 60 + minute
    }

    /// Parses "HH:MM" with exactly two digits each, from "00:00" to "24:00".
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":"),
            let hour = twoDigitNumber(bytes[0], bytes[1]),
            let minute = twoDigitNumber(bytes[3], bytes[4])
        else { return nil }
        self.init(hour: hour, minute: minute)
    }

    /// "HH:MM", such as "09:00" or "24:00".
    public var description: String {
        zeroPadded(minutes / 60, width: 2) + ":" + zeroPadded(minutes % 60, width: 2)
    }

    public static func < (lhs: LocalTime, rhs: LocalTime) -> Bool {
        lhs.minutes < rhs.minutes
    }
}

/// A date on a region's wall calendar (proleptic Gregorian), years 1...9999.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date; nil unless it exists (30 February does not, 29 February only in leap years).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysInMonth(month, of: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses "YYYY-MM-DD" with exactly four, two and two digits.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let century = twoDigitNumber(bytes[0], bytes[1]),
            let yearOfCentury = twoDigitNumber(bytes[2], bytes[3]),
            let month = twoDigitNumber(bytes[5], bytes[6]),
            let day = twoDigitNumber(bytes[8], bytes[9])
        else { return nil }
        self.init(year: century * 100 + yearOfCentury, month: month, day: day)
    }

    /// Creates the date that lies `days` days after 1970-01-01 (negative: before it).
    init(daysSinceEpoch days: Int64) {
        // Howard Hinnant's civil_from_days, in 400-year eras of 146,097 days starting on 1 March.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        self.year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        self.month = Int(month)
        self.day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
    }

    /// Days from 1970-01-01 to this date.
    var daysSinceEpoch: Int64 {
        // Howard Hinnant's days_from_civil; the inverse of `init(daysSinceEpoch:)`.
        let year = Int64(month <= 2 ? self.year - 1 : self.year)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let monthFromMarch = Int64((month + 9) % 12)
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day of the week this date falls on.
    public var weekday: Weekday {
        Weekday(daysSinceEpoch: daysSinceEpoch)
    }

    /// "YYYY-MM-DD", such as "2026-12-25".
    public var description: String {
        zeroPadded(year, width: 4) + "-" + zeroPadded(month, width: 2) + "-" + zeroPadded(day, width: 2)
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// A day of the week, numbered as in ISO 8601: Monday is 1, Sunday is 7.
public enum Weekday: Int, Sendable, CaseIterable {
    case monday = 1
    case tuesday
    case wednesday
    case thursday
    case friday
    case saturday
    case sunday

    /// The lowercased English name, such as "monday", as written in region configuration.
    public var name: String {
        switch self {
        case .monday: "monday"
        case .tuesday: "tuesday"
        case .wednesday: "wednesday"
        case .thursday: "thursday"
        case .friday: "friday"
        case .saturday: "saturday"
        case .sunday: "sunday"
        }
    }

    /// Looks a weekday up by its English name, ignoring case ("Monday", "monday").
    public init?(name: String) {
        let lowercased = name.lowercased()
        guard let weekday = Weekday.allCases.first(where: { $0.name == lowercased }) else { return nil }
        self = weekday
    }

    /// The weekday of the date `days` days after 1970-01-01, which was a Thursday.
    init(daysSinceEpoch days: Int64) {
        let offsetFromMonday = ((days + 3) % 7 + 7) % 7
        // Provably safe: `offsetFromMonday` is in 0...6, so the raw value is in 1...7.
        self = Weekday(rawValue: Int(offsetFromMonday) + 1)!
    }
}

/// A stretch of working time on a weekday, from `start` up to (not including) `end`, in wall-clock time.
public struct WorkingInterval: Sendable, Hashable, CustomStringConvertible {
    public let start: LocalTime
    public let end: LocalTime

    /// Creates an interval; throws `invalid_interval` unless `start` is before `end`.
    public init(start: LocalTime, end: LocalTime) throws(BusinessCalendarError) {
        guard start < end else {
            throw BusinessCalendarError.invalidInterval("\(start)-\(end) does not end after it starts")
        }
        self.start = start
        self.end = end
    }

    /// Parses "HH:MM-HH:MM", such as "09:00-12:30"; throws `invalid_interval` for anything else.
    public init(parsing text: String) throws(BusinessCalendarError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = LocalTime(parsing: String(parts[0])), let end = LocalTime(parsing: String(parts[1])) else {
            throw BusinessCalendarError.invalidInterval("\"\(text)\" is not of the form HH:MM-HH:MM between 00:00 and 24:00")
        }
        try self.init(start: start, end: end)
    }

    /// Joins two intervals that are already known to be valid and touching.
    init(uncheckedStart start: LocalTime, end: LocalTime) {
        self.start = start
        self.end = end
    }

    /// "HH:MM-HH:MM", the form `init(parsing:)` reads.
    public var description: String {
        "\(start)-\(end)"
    }
}

/// A named local date on which a region does no work at all.
public struct Holiday: Sendable, Hashable {
    public let date: LocalDate
    public let name: String

    /// Creates a holiday; the name is for people and plays no part in the arithmetic.
    public init(date: LocalDate, name: String) {
        self.date = date
        self.name = name
    }
}

/// The value of two ASCII digits, or nil if either byte is not a digit.
private func twoDigitNumber(_ tens: UInt8, _ ones: UInt8) -> Int? {
    let zero = UInt8(ascii: "0")
    let nine = UInt8(ascii: "9")
    guard (zero...nine).contains(tens), (zero...nine).contains(ones) else { return nil }
    return Int(tens - zero) * 10 + Int(ones - zero)
}

/// `value` in decimal with leading zeros up to `width` digits; `value` is never negative here.
private func zeroPadded(_ value: Int, width: Int) -> String {
    let digits = String(value)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

private func daysInMonth(_ month: Int, of year: Int) -> Int {
    switch month {
    case 2:
        let isLeapYear = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return isLeapYear ? 29 : 28
    case 4, 6, 9, 11:
        return 30
    default:
        return 31
    }
}

extension Holiday: Codable {
    private enum CodingKeys: String, CodingKey {
        case date
        case name
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .date)
        guard let date = LocalDate(parsing: text) else {
            throw DecodingError.dataCorruptedError(forKey: .date, in: container, debugDescription: "not a date: \(text)")
        }
        self.init(date: date, name: try container.decode(String.self, forKey: .name))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(date.description, forKey: .date)
        try container.encode(name, forKey: .name)
    }
}

extension LocalDate: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LocalDate(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a date: \(text)")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
