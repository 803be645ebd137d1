public import Foundation

/// A region's working week, holidays and time zone, with SLA arithmetic in business time.
///
/// Working intervals are wall-clock times on a local date in ``timeZone``; a holiday removes all working time of
/// its local date. To turn an interval into real time, each end is converted to an instant:
///
/// - A wall time that occurs once maps to that instant. An interval ending at 24:00 ends at 00:00 of the next
///   local date.
/// - A wall time that does not exist (the gap when clocks spring forward) maps to the first instant after the gap,
///   for starts and ends alike: 02:30 on 2026-03-08 in America/New_York is 03:00 EDT (07:00Z). An interval lying
///   wholly inside the gap is empty that day.
/// - A wall time that occurs twice (the hour repeated when clocks fall back) maps to its first occurrence when it
///   starts an interval and to its last occurrence when it ends one, so an interval that covers the repeated hour
///   counts it twice, as the real time that elapses. If that makes two intervals overlap in real time (a boundary
///   inside the repeated hour, or a repeated midnight between two days), the shared time counts once.
///
/// So 00:00-24:00 lasts 23 hours on a spring-forward day and 25 hours on a fall-back day, while 09:00-17:00 lasts
/// eight hours on both. Offsets come from `TimeZone.secondsFromGMT(for:)` alone; `Calendar.date(from:)` is not used
/// because it resolves gaps differently (it shifts 02:30 to 03:30).
///
/// Instants are handled to the millisecond and intervals are half-open: an interval's closing instant is not
/// working time. The arithmetic walks local dates one by one, so its cost grows with the number of days spanned,
/// not with the amount of time. Searches for working time give up after 3,660 consecutive days without any
/// (`no_working_time`) rather than looping. Resolving a wall time assumes the zone changes its UTC offset at most
/// once within a day either side of it; in Foundation's data for every zone from 1900 to 2100, no two changes are
/// even three days apart.
public struct BusinessCalendar: Sendable {
    /// The region's time zone, in which working hours and holidays are read.
    public let timeZone: TimeZone
    /// Working intervals per weekday, sorted, with touching intervals merged; a weekday without an entry has none.
    public let hours: [Weekday: [WorkingInterval]]
    /// Holidays sorted by date.
    public let holidays: [Holiday]

    /// `hours` indexed by `Weekday.rawValue - 1`, for the day-by-day walk.
    private let weeklyIntervals: [[WorkingInterval]]
    /// Holiday dates as days since 1970-01-01.
    private let holidayDays: Set<Int64>

    /// Creates a validated calendar.
    ///
    /// Throws `unknown_time_zone` unless `timeZoneIdentifier` is an IANA "Area/Location" name (such as
    /// "Europe/Berlin" or "Etc/UTC") or "UTC" that Foundation knows. Abbreviations and offsets such as "EST", "CET"
    /// or "GMT+2" are refused even though Foundation accepts them, because they silently drop the region's
    /// daylight-saving rules. Intervals may be given in any order; touching intervals are merged, overlapping ones
    /// throw `overlapping_intervals`. A date listed twice throws `duplicate_holiday`, and a week without any working
    /// interval throws `no_working_time`.
    public init(
        timeZoneIdentifier: String,
        hours: [Weekday: [WorkingInterval]],
        holidays: [Holiday] = []
    ) throws(BusinessCalendarError) {
        guard let timeZone = regionTimeZone(identifier: timeZoneIdentifier) else {
            throw BusinessCalendarError.unknownTimeZone("\"\(timeZoneIdentifier)\" is not an IANA time zone such as Europe/Berlin")
        }

        var normalizedHours: [Weekday: [WorkingInterval]] = [:]
        for weekday in Weekday.allCases {
            let intervals = try mergedIntervals(hours[weekday] ?? [], on: weekday)
            if !intervals.isEmpty {
                normalizedHours[weekday] = intervals
            }
        }
        guard !normalizedHours.isEmpty else {
            throw BusinessCalendarError.noWorkingTime("the calendar has no working hours on any weekday")
        }

        var holidaysByDate: [LocalDate: Holiday] = [:]
        for holiday in holidays {
            if let earlier = holidaysByDate[holiday.date] {
                throw BusinessCalendarError.duplicateHoliday(
                    "\(holiday.date) is listed twice (\"\(earlier.name)\" and \"\(holiday.name)\")"
                )
            }
            holidaysByDate[holiday.date] = holiday
        }

        self.timeZone = timeZone
        self.hours = normalizedHours
        self.holidays = holidaysByDate.values.sorted { $0.date < $1.date }
        self.weeklyIntervals = Weekday.allCases.map { normalizedHours[$0] ?? [] }
        self.holidayDays = Set(holidaysByDate.keys.map(\.daysSinceEpoch))
    }

    /// Whether `identifier` names a time zone a calendar accepts: "UTC" or an IANA "Area/Location" name.
    public static func isRegionTimeZone(_ identifier: String) -> Bool {
        regionTimeZone(identifier: identifier) != nil
    }

    /// Monday to Friday, 09:00-17:00, no holidays: the calendar of a region that has not set its own.
    public static func standardHours() -> [Weekday: [WorkingInterval]] {
        // 09:00 and 17:00 are valid local times and ordered, so neither can fail.
        let day = [try! WorkingInterval(start: LocalTime(hour: 9, minute: 0)!, end: LocalTime(hour: 17, minute: 0)!)]
        return [.monday: day, .tuesday: day, .wednesday: day, .thursday: day, .friday: day]
    }

    /// The instant reached after `businessSeconds` of working time counted from `instant`.
    ///
    /// Counting starts at `instant` if it is working time, otherwise at the next opening, and the earliest instant
    /// that completes the amount is returned: an amount that runs out exactly at a closing returns that closing
    /// (Friday 17:00, not Monday 09:00). Zero returns `instant` unchanged. A negative amount counts backwards and
    /// returns the latest instant from which that much working time leads up to `instant`: running out exactly at
    /// an opening returns that opening. Throws `no_working_time` if 3,660 consecutive days bring no working time,
    /// and `amount_out_of_range` beyond ±3,155,760,000 seconds (100 years).
    public func adding(businessSeconds: Int64, to instant: Date) throws(BusinessCalendarError) -> Date {
        guard businessSeconds != 0 else { return instant }
        guard businessSeconds.magnitude <= maximumAmountSeconds.magnitude else {
            throw BusinessCalendarError.amountOutOfRange(
                "\(businessSeconds) business seconds is beyond the supported ±\(maximumAmountSeconds) (100 years)"
            )
        }
        return try adding(businessMilliseconds: businessSeconds * 1000, to: instant)
    }

    /// Like `adding(businessSeconds:to:)`, to the millisecond.
    public func adding(businessMilliseconds: Int64, to instant: Date) throws(BusinessCalendarError) -> Date {
        guard businessMilliseconds != 0 else { return instant }
        guard businessMilliseconds.magnitude <= maximumAmountSeconds.magnitude * 1000 else {
            throw BusinessCalendarError.amountOutOfRange(
                "\(businessMilliseconds) business milliseconds is beyond the supported 100 years"
            )
        }
        let start = epochMilliseconds(instant)
        let amount = Int64(businessMilliseconds.magnitude)
        let result = try businessMilliseconds > 0 ? countForward(amount, from: start) : countBackward(amount, from: start)
        guard let result else {
            throw BusinessCalendarError.noWorkingTime(
                "no working time within \(searchHorizonDays) days \(businessMilliseconds > 0 ? "after" : "before") "
                    + instant.formatted(.iso8601)
            )
        }
        return date(epochMilliseconds: result)
    }

    /// The instant reached after `businessMinutes` of working time counted from `instant`; see `adding(businessSeconds:to:)`.
    public func adding(businessMinutes: Int, to instant: Date) throws(BusinessCalendarError) -> Date {
        let (seconds, overflow) = Int64(businessMinutes).multipliedReportingOverflow(by: 60)
        guard !overflow else {
            throw BusinessCalendarError.amountOutOfRange("\(businessMinutes) business minutes is beyond the supported 100 years")
        }
        return try adding(businessSeconds: seconds, to: instant)
    }

    /// The working time between two instants in whole seconds, rounded down; 0 when `end` is not after `start`.
    public func businessSeconds(from start: Date, to end: Date) -> Int64 {
        businessMilliseconds(from: start, to: end) / 1000
    }

    /// The working time between two instants in milliseconds; 0 when `end` is not after `start`.
    public func businessMilliseconds(from start: Date, to end: Date) -> Int64 {
        let from = epochMilliseconds(start)
        let to = epochMilliseconds(end)
        guard to > from else { return 0 }
        let firstDay = localDay(containing: from) - 1
        let lastDay = localDay(containing: to) + 1
        var walker = SpanWalker(calendar: self, firstDay: firstDay, forward: true)
        var total: Int64 = 0
        while let span = walker.next(maxEmptyDays: Int(clamping: lastDay - firstDay + 1)) {
            guard span.start < to else { break }
            let overlap = min(span.end, to) - max(span.start, from)
            if overlap > 0 {
                total += overlap
            }
        }
        return total
    }

    /// The working time between two instants in whole minutes, rounded down; 0 when `end` is not after `start`.
    public func businessMinutes(from start: Date, to end: Date) -> Int {
        Int(businessSeconds(from: start, to: end) / 60)
    }

    /// Whether `instant` lies inside a working interval; an interval's closing instant does not.
    public func isWorkingTime(_ instant: Date) -> Bool {
        let moment = epochMilliseconds(instant)
        let day = localDay(containing: moment)
        // Neighbouring dates too: a transition can move an interval's real time across a local midnight.
        return (day - 1...day + 1).contains { localDay in
            spans(onLocalDay: localDay).contains { $0.start <= moment && moment < $0.end }
        }
    }

    /// The earliest working instant at or after `instant` (`instant` itself during working time), or nil if
    /// 3,660 consecutive days bring no working time.
    public func nextOpening(atOrAfter instant: Date) -> Date? {
        let moment = epochMilliseconds(instant)
        var walker = SpanWalker(calendar: self, firstDay: localDay(containing: moment) - 1, forward: true)
        while let span = walker.next(maxEmptyDays: searchHorizonDays) {
            guard span.end > moment else { continue }
            return span.start <= moment ? instant : date(epochMilliseconds: span.start)
        }
        return nil
    }

    /// How far from its start a result may lie: a sparse calendar with a large amount would
    /// otherwise walk for centuries (and land past what PostgreSQL can store).
    private static let maximumReachMilliseconds: Int64 = 200 * 366 * 86_400_000

    private static func outOfReach() -> BusinessCalendarError {
        BusinessCalendarError.amountOutOfRange("the result would lie more than 200 years away in this calendar")
    }

    /// The earliest instant (ms) by which `amount` ms of working time have passed since `start`.
    private func countForward(_ amount: Int64, from start: Int64) throws(BusinessCalendarError) -> Int64? {
        var remaining = amount
        var walker = SpanWalker(calendar: self, firstDay: localDay(containing: start) - 1, forward: true)
        while let span = walker.next(maxEmptyDays: searchHorizonDays) {
            guard span.start - start <= Self.maximumReachMilliseconds else { throw Self.outOfReach() }
            let from = max(span.start, start)
            guard span.end > from else { continue }
            if remaining <= span.end - from {
                return from + remaining
            }
            remaining -= span.end - from
        }
        return nil
    }

    /// The latest instant (ms) from which `amount` ms of working time lead up to `end`.
    private func countBackward(_ amount: Int64, from end: Int64) throws(BusinessCalendarError) -> Int64? {
        var remaining = amount
        var walker = SpanWalker(calendar: self, firstDay: localDay(containing: end) + 1, forward: false)
        while let span = walker.next(maxEmptyDays: searchHorizonDays) {
            guard end - span.end <= Self.maximumReachMilliseconds else { throw Self.outOfReach() }
            let to = min(span.end, end)
            guard to > span.start else { continue }
            if remaining <= to - span.start {
                return to - remaining
            }
            remaining -= to - span.start
        }
        return nil
    }

    /// The working time of one local date (days since 1970-01-01) as disjoint, sorted spans in real time.
    fileprivate func spans(onLocalDay day: Int64) -> [Span] {
        guard !holidayDays.contains(day) else { return [] }
        let midnight = day * secondsPerDay
        var spans: [Span] = []
        for interval in weeklyIntervals[Weekday(daysSinceEpoch: day).rawValue - 1] {
            let start = instants(atWallClock: midnight + Int64(interval.start.minutes) * 60).first * 1000
            let end = instants(atWallClock: midnight + Int64(interval.end.minutes) * 60).last * 1000
            // A boundary inside a repeated hour can pull this start before the previous end: count that time once.
            let clippedStart = max(start, spans.last?.end ?? start)
            if end > clippedStart {
                spans.append(Span(start: clippedStart, end: end))
            }
        }
        return spans
    }

    /// The first and last instants (seconds since 1970) at which the wall clock reads `wall` (seconds since
    /// 1970-01-01T00:00 on the wall clock); in a spring-forward gap, both are the first instant after the gap.
    private func instants(atWallClock wall: Int64) -> (first: Int64, last: Int64) {
        // The instant lies within 14 hours of `wall`, so the offsets a day either side are the only candidates
        // when the zone changes offset at most once around it.
        let offsetBefore = utcOffset(atSecond: wall - secondsPerDay)
        let offsetAfter = utcOffset(atSecond: wall + secondsPerDay)
        let matches = Set([offsetBefore, offsetAfter]).map { wall - $0 }.filter { wall - utcOffset(atSecond: $0) == $0 }
        if let first = matches.min(), let last = matches.max() {
            return (first, last)
        }

        // A gap: the transition is the first instant whose wall clock reads `wall` or later. Below `low` the clock
        // reads earlier than `wall`, from `high` on it reads later, and the clock is monotonic between them.
        var low = wall - max(offsetBefore, offsetAfter)
        var high = wall - min(offsetBefore, offsetAfter)
        guard low < high else {
            // Two transitions within two days cancelling out; not in the tz database, but never loop or trap.
            let fallback = wall - utcOffset(atSecond: wall - offsetBefore)
            return (fallback, fallback)
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + utcOffset(atSecond: middle) >= wall {
                high = middle
            } else {
                low = middle
            }
        }
        return (high, high)
    }

    /// The zone's offset from UTC in seconds at `second` (seconds since 1970).
    private func utcOffset(atSecond second: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(second))))
    }

    /// The local date (days since 1970-01-01 on the wall calendar) that contains `milliseconds` since 1970.
    private func localDay(containing milliseconds: Int64) -> Int64 {
        let second = floorDivide(milliseconds, 1000)
        return floorDivide(second + utcOffset(atSecond: second), secondsPerDay)
    }
}

/// An error from building or querying a ``BusinessCalendar``; `description` is "code: message" and safe to show.
public struct BusinessCalendarError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable kind of a ``BusinessCalendarError``; its description is the wire code, such as `unknown_time_zone`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case unknownTimeZone = "unknown_time_zone"
            case invalidInterval = "invalid_interval"
            case overlappingIntervals = "overlapping_intervals"
            case duplicateHoliday = "duplicate_holiday"
            case noWorkingTime = "no_working_time"
            case amountOutOfRange = "amount_out_of_range"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The time zone is not an IANA "Area/Location" name that Foundation knows.
        public static let unknownTimeZone = Code(.unknownTimeZone)
        /// An interval does not end after it starts, or its text is not "HH:MM-HH:MM".
        public static let invalidInterval = Code(.invalidInterval)
        /// Two intervals of the same weekday overlap.
        public static let overlappingIntervals = Code(.overlappingIntervals)
        /// A date is listed as a holiday twice.
        public static let duplicateHoliday = Code(.duplicateHoliday)
        /// The week has no working hours, or a search found none within its horizon.
        public static let noWorkingTime = Code(.noWorkingTime)
        /// An amount of business time is beyond the supported range.
        public static let amountOutOfRange = Code(.amountOutOfRange)

        public var description: String { base.rawValue }
    }

    /// The kind of error.
    public let code: Code
    /// What was wrong, for the person who wrote the configuration or made the request.
    public let message: String

    public var description: String { "\(code): \(message)" }

    static func unknownTimeZone(_ message: String) -> BusinessCalendarError { .init(code: .unknownTimeZone, message: message) }
    static func invalidInterval(_ message: String) -> BusinessCalendarError { .init(code: .invalidInterval, message: message) }
    static func overlappingIntervals(_ message: String) -> BusinessCalendarError { .init(code: .overlappingIntervals, message: message) }
    static func duplicateHoliday(_ message: String) -> BusinessCalendarError { .init(code: .duplicateHoliday, message: message) }
    static func noWorkingTime(_ message: String) -> BusinessCalendarError { .init(code: .noWorkingTime, message: message) }
    static func amountOutOfRange(_ message: String) -> BusinessCalendarError { .init(code: .amountOutOfRange, message: message) }
}

/// A stretch of working time in real time: milliseconds since 1970, half-open.
private struct Span {
    var start: Int64
    var end: Int64
}

/// Yields a calendar's working spans in order, walking local dates forwards or backwards.
///
/// A repeated midnight can make the last span of one date overlap the first of the next; the walker trims such
/// overlaps so that the spans it yields are disjoint and sorted in the walking direction.
private struct SpanWalker {
    private let calendar: BusinessCalendar
    private let forward: Bool
    private var day: Int64
    /// The current date's spans still to yield, the next one last.
    private var queued: [Span] = []
    /// Forwards, the latest end yielded so far; backwards, the earliest start.
    private var frontier: Int64?

    init(calendar: BusinessCalendar, firstDay: Int64, forward: Bool) {
        self.calendar = calendar
        self.day = firstDay
        self.forward = forward
    }

    /// The next span, or nil once `maxEmptyDays` consecutive dates have brought no working time.
    mutating func next(maxEmptyDays: Int) -> Span? {
        var emptyDays = 0
        while queued.isEmpty {
            guard emptyDays < maxEmptyDays else { return nil }
            let daySpans = calendar.spans(onLocalDay: day)
            var kept: [Span] = []
            for var span in forward ? daySpans : daySpans.reversed() {
                // Trim time that a span of the previous date already covered.
                if let frontier {
                    if forward {
                        span.start = max(span.start, frontier)
                    } else {
                        span.end = min(span.end, frontier)
                    }
                }
                if span.end > span.start {
                    kept.append(span)
                    frontier = forward ? span.end : span.start
                }
            }
            day += forward ? 1 : -1
            queued = kept.reversed()
            if kept.isEmpty {
                emptyDays += 1
            }
        }
        return queued.popLast()
    }
}

/// How many consecutive local dates without working time a search walks before giving up: just over ten years.
private let searchHorizonDays = 3_660
/// The largest amount of business time `adding` accepts: 100 Julian years, in seconds.
private let maximumAmountSeconds: Int64 = 3_155_760_000
private let secondsPerDay: Int64 = 86_400
/// The IANA areas a region's zone may come from; "Etc" holds UTC and the fixed-offset zones.
private let ianaAreas: Set<Substring> = [
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific", "Etc",
]

/// The time zone for a region's configured identifier, or nil unless it is "UTC" or an IANA "Area/Location" name.
private func regionTimeZone(identifier: String) -> TimeZone? {
    let area = identifier.split(separator: "/", maxSplits: 1).first ?? ""
    guard identifier == "UTC" || (identifier.contains("/") && ianaAreas.contains(area)) else { return nil }
    return TimeZone(identifier: identifier)
}

/// Sorts a weekday's intervals and merges touching ones; throws if any overlap.
private func mergedIntervals(_ intervals: [WorkingInterval], on weekday: Weekday) throws(BusinessCalendarError) -> [WorkingInterval] {
    var merged: [WorkingInterval] = []
    for interval in intervals.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
        guard let previous = merged.last, interval.start <= previous.end else {
            merged.append(interval)
            continue
        }
        guard interval.start == previous.end else {
            throw BusinessCalendarError.overlappingIntervals("\(weekday.name): \(previous) overlaps \(interval)")
        }
        merged[merged.count - 1] = WorkingInterval(uncheckedStart: previous.start, end: interval.end)
    }
    return merged
}

/// `date` in whole milliseconds since 1970, clamped to about ±31,000 years so that no input can trap.
private func epochMilliseconds(_ date: Date) -> Int64 {
    let limit = 1e15
    let milliseconds = (date.timeIntervalSince1970 * 1000).rounded()
    guard milliseconds.isFinite else { return milliseconds > 0 ? Int64(limit) : -Int64(limit) }
    return Int64(min(max(milliseconds, -limit), limit))
}

private func date(epochMilliseconds milliseconds: Int64) -> Date {
    Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
}

/// Division rounding towards negative infinity, for instants and dates before 1970.
private func floorDivide(_ dividend: Int64, _ divisor: Int64) -> Int64 {
    let quotient = dividend / divisor
    return dividend % divisor < 0 ? quotient - 1 : quotient
}
