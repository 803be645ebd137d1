import BatonCore
import Foundation
import Testing

// Every expected instant below is worked out by hand in UTC; the comment beside it gives the local wall time.
// Offsets used: Europe/Berlin CET +1 / CEST +2 (2026: spring forward 29 Mar 01:00Z, fall back 25 Oct 01:00Z),
// America/New_York EST -5 / EDT -4 (2026: 8 Mar 07:00Z, 1 Nov 06:00Z), America/Los_Angeles PDT -7,
// Asia/Kolkata IST +5:30, America/Havana CST -5 / CDT -4 (2026: 8 Mar 05:00Z at local midnight, 1 Nov 05:00Z).

@Suite("Text forms")
struct TextFormTests {
    @Test func localTimeParsesStrictHoursAndMinutes() throws {
        #expect(try #require(LocalTime(parsing: "09:00")).minutes == 540)
        #expect(try #require(LocalTime(parsing: "00:00")).minutes == 0)
        #expect(try #require(LocalTime(parsing: "24:00")).minutes == 1440)
        #expect(LocalTime(parsing: "13:30")?.description == "13:30")
        #expect(LocalTime(parsing: "24:00")?.description == "24:00")
        for text in ["24:30", "24:01", "23:60", "9:00", "09:0", "0900", "09-00", "ab:cd", "", " 9:00", "+9:00", "09:00 "] {
            #expect(LocalTime(parsing: text) == nil, "\"\(text)\" should not parse")
        }
    }

    @Test func localTimeRejectsMinutesOutsideTheDay() {
        #expect(LocalTime(minutes: -1) == nil)
        #expect(LocalTime(minutes: 1441) == nil)
        #expect(LocalTime(hour: 24, minute: 1) == nil)
        #expect(LocalTime(hour: 7, minute: 5)?.description == "07:05")
    }

    @Test func localDateAcceptsOnlyRealDates() throws {
        let christmas = try #require(LocalDate(parsing: "2026-12-25"))
        #expect(christmas.year == 2026 && christmas.month == 12 && christmas.day == 25)
        #expect(christmas.description == "2026-12-25")
        #expect(LocalDate(parsing: "2024-02-29") != nil)
        #expect(LocalDate(parsing: "2000-02-29") != nil)
        #expect(LocalDate(parsing: "0001-01-01")?.description == "0001-01-01")
        for text in [
            "2026-02-30", "2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00",
            "0000-01-01", "2026-1-01", "2026/01/01", "26-01-01", "2026-01-01T00:00",
        ] {
            #expect(LocalDate(parsing: text) == nil, "\"\(text)\" should not parse")
        }
    }

    @Test func localDateKnowsItsWeekday() throws {
        #expect(try #require(LocalDate(parsing: "1970-01-01")).weekday == .thursday)
        #expect(try #require(LocalDate(parsing: "1969-12-31")).weekday == .wednesday)
        #expect(try #require(LocalDate(parsing: "2000-02-29")).weekday == .tuesday)
        #expect(try #require(LocalDate(parsing: "2026-03-29")).weekday == .sunday)
        #expect(try #require(LocalDate(parsing: "2026-12-25")).weekday == .friday)
    }

    @Test func localDatesOrderChronologically() throws {
        let dates = try ["2027-01-01", "2026-12-25", "2026-02-28", "2026-12-24"].map { try #require(LocalDate(parsing: $0)) }
        #expect(dates.sorted().map(\.description) == ["2026-02-28", "2026-12-24", "2026-12-25", "2027-01-01"])
    }

    @Test func weekdaysUseISONumbersAndEnglishNames() {
        #expect(Weekday.monday.rawValue == 1)
        #expect(Weekday.sunday.rawValue == 7)
        #expect(Weekday.allCases.map(\.name) == ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
        #expect(Weekday(name: "friday") == .friday)
        #expect(Weekday(name: "Friday") == .friday)
        #expect(Weekday(name: "fri") == nil)
        #expect(Weekday(name: "") == nil)
    }

    @Test func workingIntervalParsesStartAndEnd() throws {
        let interval = try WorkingInterval(parsing: "09:00-12:30")
        #expect(interval.start.minutes == 540)
        #expect(interval.end.minutes == 750)
        #expect(interval.description == "09:00-12:30")
        #expect(try WorkingInterval(parsing: "13:30-24:00").end.minutes == 1440)
    }

    @Test(arguments: ["17:00-09:00", "09:00-09:00", "09:00", "09:00-24:30", "09:00–17:00", "09:00-17:00-18:00", "-"])
    func malformedIntervalIsRejected(text: String) {
        let error = #expect(throws: BusinessCalendarError.self) { try WorkingInterval(parsing: text) }
        #expect(error?.code == .invalidInterval)
    }

    @Test func intervalMustEndAfterItStarts() throws {
        let nine = try #require(LocalTime(parsing: "09:00"))
        let error = #expect(throws: BusinessCalendarError.self) { try WorkingInterval(start: nine, end: nine) }
        #expect(error?.code == .invalidInterval)
    }
}

@Suite("Validation")
struct ValidationTests {
    @Test(arguments: ["Mars/Olympus_Mons", "", "Europe/berlin", "Europe/Berlin ", "Etc/Unknown"])
    func unknownTimeZoneIsRejected(identifier: String) {
        let error = #expect(throws: BusinessCalendarError.self) {
            try makeCalendar(identifier, days: workWeek, intervals: ["09:00-17:00"])
        }
        #expect(error?.code == .unknownTimeZone)
    }

    // Foundation accepts all of these, but each silently drops a region's daylight-saving rules (EST is UTC-5 all
    // year) or is not a region at all.
    @Test(arguments: ["EST", "CET", "PST8PDT", "GMT+2", "UTC+1", "US/Eastern", "Factory", "SystemV/EST5"])
    func abbreviationsAndFixedOffsetsAreRejected(identifier: String) {
        #expect(TimeZone(identifier: identifier) != nil, "Foundation itself accepts \(identifier)")
        let error = #expect(throws: BusinessCalendarError.self) {
            try makeCalendar(identifier, days: workWeek, intervals: ["09:00-17:00"])
        }
        #expect(error?.code == .unknownTimeZone)
    }

    @Test(arguments: ["Europe/Berlin", "Asia/Kolkata", "Asia/Calcutta", "America/Argentina/Buenos_Aires", "Etc/UTC", "UTC"])
    func ianaNamesAreAccepted(identifier: String) throws {
        let calendar = try makeCalendar(identifier, days: workWeek, intervals: ["09:00-17:00"])
        #expect(
            calendar.timeZone.secondsFromGMT(for: utc("2026-06-01T00:00:00Z"))
                == TimeZone(identifier: identifier)?.secondsFromGMT(for: utc("2026-06-01T00:00:00Z"))
        )
    }

    @Test func overlappingIntervalsAreRejected() {
        let error = #expect(throws: BusinessCalendarError.self) {
            try makeCalendar("Europe/Berlin", days: [.monday], intervals: ["09:00-12:00", "11:00-13:00"])
        }
        #expect(error?.code == .overlappingIntervals)
        #expect(error?.message.contains("monday") == true)
    }

    @Test func repeatedIntervalIsAnOverlap() {
        let error = #expect(throws: BusinessCalendarError.self) {
            try makeCalendar("Europe/Berlin", days: [.monday], intervals: ["09:00-12:00", "09:00-12:00"])
        }
        #expect(error?.code == .overlappingIntervals)
    }

    @Test func touchingIntervalsAreSortedAndMerged() throws {
        let calendar = try makeCalendar("Europe/Berlin", days: [.monday], intervals: ["14:00-17:00", "09:00-12:00", "12:00-13:00"])
        #expect(calendar.hours[.monday]?.map(\.description) == ["09:00-13:00", "14:00-17:00"])
        #expect(calendar.hours[.tuesday] == nil)
    }

    @Test func duplicateHolidayIsRejected() throws {
        let christmas = try #require(LocalDate(parsing: "2026-12-25"))
        let error = #expect(throws: BusinessCalendarError.self) {
            try BusinessCalendar(
                timeZoneIdentifier: "Europe/Berlin",
                hours: [.friday: [WorkingInterval(parsing: "09:00-17:00")]],
                holidays: [Holiday(date: christmas, name: "Christmas Day"), Holiday(date: christmas, name: "Christmas")]
            )
        }
        #expect(error?.code == .duplicateHoliday)
        #expect(error?.message.contains("2026-12-25") == true)
    }

    @Test func holidaysAreKeptInDateOrder() throws {
        let calendar = try makeCalendar(
            "Europe/Berlin",
            days: workWeek,
            intervals: ["09:00-17:00"],
            holidays: ["2026-12-26": "Boxing Day", "2026-01-01": "New Year", "2026-12-25": "Christmas Day"]
        )
        #expect(calendar.holidays.map(\.date.description) == ["2026-01-01", "2026-12-25", "2026-12-26"])
        #expect(calendar.holidays.map(\.name) == ["New Year", "Christmas Day", "Boxing Day"])
    }

    @Test func weekWithoutWorkingHoursIsRejected() {
        let empty = #expect(throws: BusinessCalendarError.self) {
            try BusinessCalendar(timeZoneIdentifier: "Europe/Berlin", hours: [:])
        }
        #expect(empty?.code == .noWorkingTime)
        let onlyEmptyDays = #expect(throws: BusinessCalendarError.self) {
            try BusinessCalendar(timeZoneIdentifier: "Europe/Berlin", hours: [.monday: [], .friday: []])
        }
        #expect(onlyEmptyDays?.code == .noWorkingTime)
    }

    @Test func errorCodesAreStableStrings() {
        let codes: [BusinessCalendarError.Code] = [
            .unknownTimeZone, .invalidInterval, .overlappingIntervals, .duplicateHoliday, .noWorkingTime, .amountOutOfRange,
        ]
        #expect(
            codes.map(\.description) == [
                "unknown_time_zone", "invalid_interval", "overlapping_intervals", "duplicate_holiday", "no_working_time",
                "amount_out_of_range",
            ]
        )
    }

    @Test func errorDescriptionIsCodeAndMessage() {
        let error = #expect(throws: BusinessCalendarError.self) {
            try makeCalendar("EST", days: workWeek, intervals: ["09:00-17:00"])
        }
        #expect(error?.description == "unknown_time_zone: \"EST\" is not an IANA time zone such as Europe/Berlin")
    }

    @Test func amountsBeyondAHundredYearsAreRejected() throws {
        let calendar = try makeCalendar("UTC", days: Weekday.allCases, intervals: ["00:00-24:00"])
        let start = utc("2026-01-01T00:00:00Z")
        for seconds: Int64 in [3_155_760_001, -3_155_760_001, .max, .min] {
            let error = #expect(throws: BusinessCalendarError.self) { try calendar.adding(businessSeconds: seconds, to: start) }
            #expect(error?.code == .amountOutOfRange)
        }
        let minutes = #expect(throws: BusinessCalendarError.self) { try calendar.adding(businessMinutes: .max, to: start) }
        #expect(minutes?.code == .amountOutOfRange)
        // The limit itself still works: 100 Julian years of round-the-clock time, walked day by day.
        let end = try calendar.adding(businessSeconds: 3_155_760_000, to: start)
        #expect(end == start.addingTimeInterval(3_155_760_000))
    }
}

@Suite("Weekday hours in Europe/Berlin")
struct WeekdayHoursTests {
    // 09:00-17:00 Monday to Friday. June 2026 is CEST (+2): 09:00 is 07:00Z, 17:00 is 15:00Z; 1 June is a Monday.
    let calendar: BusinessCalendar

    init() throws {
        calendar = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-17:00"])
    }

    @Test func insideHoursCountsFromTheInstant() throws {
        // Monday 10:00 + 90 min = 11:30.
        #expect(try calendar.adding(businessMinutes: 90, to: utc("2026-06-01T08:00:00Z")) == utc("2026-06-01T09:30:00Z"))
    }

    @Test func beforeOpeningCountsFromTheOpening() throws {
        // Monday 07:00 + 30 min = 09:30.
        #expect(try calendar.adding(businessMinutes: 30, to: utc("2026-06-01T05:00:00Z")) == utc("2026-06-01T07:30:00Z"))
    }

    @Test func afterClosingCountsFromTheNextMorning() throws {
        // Monday 18:00 + 30 min = Tuesday 09:30.
        #expect(try calendar.adding(businessMinutes: 30, to: utc("2026-06-01T16:00:00Z")) == utc("2026-06-02T07:30:00Z"))
    }

    @Test func fridayAfternoonRollsOverTheWeekend() throws {
        // Friday 16:00 CEST + 120 min = Monday 10:00 CEST.
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-06-05T14:00:00Z")) == utc("2026-06-08T08:00:00Z"))
        // The same in winter, CET (+1): Friday 16:00 is 15:00Z, Monday 10:00 is 09:00Z.
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-01-09T15:00:00Z")) == utc("2026-01-12T09:00:00Z"))
    }

    @Test func amountEndingAtClosingReturnsTheClosing() throws {
        // Friday 15:00 + 120 min = Friday 17:00, not Monday 09:00.
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-06-05T13:00:00Z")) == utc("2026-06-05T15:00:00Z"))
    }

    @Test func zeroReturnsTheInstantUnchanged() throws {
        // Saturday, outside working time, with a sub-millisecond fraction that the arithmetic would otherwise round.
        let saturday = utc("2026-06-06T10:00:00Z").addingTimeInterval(0.0004)
        #expect(try calendar.adding(businessMinutes: 0, to: saturday) == saturday)
        #expect(try calendar.adding(businessSeconds: 0, to: saturday) == saturday)
    }

    @Test func saturdayInstantStartsCountingOnMonday() throws {
        // Saturday 12:00 + 60 min = Monday 10:00.
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-06-06T10:00:00Z")) == utc("2026-06-08T08:00:00Z"))
    }

    @Test func workingTimeIsHalfOpen() {
        #expect(calendar.isWorkingTime(utc("2026-06-01T07:00:00Z")))  // Monday 09:00
        #expect(!calendar.isWorkingTime(utc("2026-06-01T06:59:59Z")))
        #expect(calendar.isWorkingTime(utc("2026-06-01T14:59:59Z")))
        #expect(!calendar.isWorkingTime(utc("2026-06-01T15:00:00Z")))  // Monday 17:00
        #expect(!calendar.isWorkingTime(utc("2026-06-06T10:00:00Z")))  // Saturday
    }

    @Test func nextOpeningIsTheInstantItselfDuringWorkingTime() {
        let mondayMorning = utc("2026-06-01T08:00:00Z").addingTimeInterval(0.0004)
        #expect(calendar.nextOpening(atOrAfter: mondayMorning) == mondayMorning)
        #expect(calendar.nextOpening(atOrAfter: utc("2026-06-01T16:00:00Z")) == utc("2026-06-02T07:00:00Z"))
        #expect(calendar.nextOpening(atOrAfter: utc("2026-06-05T15:00:00Z")) == utc("2026-06-08T07:00:00Z"))
    }

    @Test func businessMinutesOverAWeekAreFiveWorkingDays() {
        #expect(calendar.businessMinutes(from: utc("2026-06-01T00:00:00Z"), to: utc("2026-06-08T00:00:00Z")) == 5 * 480)
        #expect(calendar.businessSeconds(from: utc("2026-06-01T07:00:00Z"), to: utc("2026-06-01T15:00:00Z")) == 8 * 3600)
    }

    @Test func businessTimeIsZeroWhenTheEndIsNotAfterTheStart() {
        let monday = utc("2026-06-01T10:00:00Z")
        #expect(calendar.businessSeconds(from: monday, to: monday) == 0)
        #expect(calendar.businessSeconds(from: monday, to: utc("2026-06-01T08:00:00Z")) == 0)
        #expect(calendar.businessMinutes(from: utc("2026-06-08T00:00:00Z"), to: utc("2026-06-01T00:00:00Z")) == 0)
    }

    @Test func businessTimeRoundsDownToWholeUnits() {
        let opening = utc("2026-06-01T07:00:00Z")
        #expect(calendar.businessSeconds(from: opening, to: opening.addingTimeInterval(59.9)) == 59)
        #expect(calendar.businessMinutes(from: opening, to: opening.addingTimeInterval(59.9)) == 0)
        #expect(calendar.businessMinutes(from: opening, to: opening.addingTimeInterval(119)) == 1)
    }

    @Test func subSecondStartIsKept() throws {
        let start = utc("2026-06-01T07:00:00Z").addingTimeInterval(0.25)
        #expect(try calendar.adding(businessSeconds: 60, to: start) == utc("2026-06-01T07:01:00Z").addingTimeInterval(0.25))
    }

    @Test func countingBackwardsStopsAtTheOpening() throws {
        // Monday 10:00 - 60 min = Monday 09:00, not Friday 17:00.
        #expect(try calendar.adding(businessMinutes: -60, to: utc("2026-06-08T08:00:00Z")) == utc("2026-06-08T07:00:00Z"))
        // Monday 10:00 - 120 min = Friday 16:00.
        #expect(try calendar.adding(businessMinutes: -120, to: utc("2026-06-08T08:00:00Z")) == utc("2026-06-05T14:00:00Z"))
        // Saturday 12:00 - 60 min = Friday 16:00.
        #expect(try calendar.adding(businessMinutes: -60, to: utc("2026-06-06T10:00:00Z")) == utc("2026-06-05T14:00:00Z"))
    }
}

@Suite("Split days")
struct SplitDayTests {
    // 09:00-12:30 and 13:30-18:00 Monday to Friday in Europe/Berlin, June 2026 (CEST, +2).
    let calendar: BusinessCalendar

    init() throws {
        calendar = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-12:30", "13:30-18:00"])
    }

    @Test func crossingTheLunchBreakSkipsIt() throws {
        // Monday 12:00 + 60 min = 30 min before the break, 30 after: 14:00.
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-06-01T10:00:00Z")) == utc("2026-06-01T12:00:00Z"))
    }

    @Test func startingInsideTheBreakCountsFromTheAfternoon() throws {
        // Monday 13:00 + 15 min = 13:45.
        #expect(try calendar.adding(businessMinutes: 15, to: utc("2026-06-01T11:00:00Z")) == utc("2026-06-01T11:45:00Z"))
        #expect(!calendar.isWorkingTime(utc("2026-06-01T11:00:00Z")))
        #expect(calendar.nextOpening(atOrAfter: utc("2026-06-01T11:00:00Z")) == utc("2026-06-01T11:30:00Z"))
    }

    @Test func runningOutAtTheBreakReturnsItsStart() throws {
        // Monday 12:00 + 30 min = 12:30, not 13:30.
        #expect(try calendar.adding(businessMinutes: 30, to: utc("2026-06-01T10:00:00Z")) == utc("2026-06-01T10:30:00Z"))
    }

    @Test func businessMinutesLeaveOutTheBreak() {
        // 12:00 to 14:00 is 30 + 30 minutes.
        #expect(calendar.businessMinutes(from: utc("2026-06-01T10:00:00Z"), to: utc("2026-06-01T12:00:00Z")) == 60)
        // The whole day, 09:00 to 18:00: 3.5 h + 4.5 h.
        #expect(calendar.businessMinutes(from: utc("2026-06-01T07:00:00Z"), to: utc("2026-06-01T16:00:00Z")) == 480)
        // Inside the break.
        #expect(calendar.businessMinutes(from: utc("2026-06-01T10:35:00Z"), to: utc("2026-06-01T11:25:00Z")) == 0)
    }
}

@Suite("Holidays")
struct HolidayTests {
    // 09:00-17:00 Monday to Friday in Europe/Berlin.

    @Test func weekdayHolidayIsSkipped() throws {
        // Ascension Day, Thursday 2026-05-14. Wednesday 16:00 CEST + 120 min = Friday 10:00 CEST.
        let calendar = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-17:00"], holidays: ["2026-05-14": "Ascension Day"])
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-05-13T14:00:00Z")) == utc("2026-05-15T08:00:00Z"))
        #expect(!calendar.isWorkingTime(utc("2026-05-14T08:00:00Z")))
        // Without the holiday it would be Thursday 10:00.
        let ordinary = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-17:00"])
        #expect(try ordinary.adding(businessMinutes: 120, to: utc("2026-05-13T14:00:00Z")) == utc("2026-05-14T08:00:00Z"))
    }

    @Test func christmasAndTheWeekendAreSkippedTogether() throws {
        // Thursday 24 to Saturday 26 December 2026, then Sunday. CET (+1).
        let calendar = try makeCalendar(
            "Europe/Berlin",
            days: workWeek,
            intervals: ["09:00-17:00"],
            holidays: ["2026-12-24": "Christmas Eve", "2026-12-25": "Christmas Day", "2026-12-26": "Boxing Day"]
        )
        // Wednesday 23rd 16:00 + 120 min = Monday 28th 10:00.
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-12-23T15:00:00Z")) == utc("2026-12-28T09:00:00Z"))
        #expect(try calendar.adding(businessMinutes: -120, to: utc("2026-12-28T09:00:00Z")) == utc("2026-12-23T15:00:00Z"))
        // Wednesday and Monday only.
        #expect(calendar.businessMinutes(from: utc("2026-12-23T00:00:00Z"), to: utc("2026-12-29T00:00:00Z")) == 960)
    }

    @Test func weekendHolidayChangesNothing() throws {
        // German Unity Day, Saturday 2026-10-03. Friday 16:00 CEST + 120 min = Monday 10:00 CEST.
        let calendar = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-17:00"], holidays: ["2026-10-03": "German Unity Day"])
        let ordinary = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-17:00"])
        let friday = utc("2026-10-02T14:00:00Z")
        #expect(try calendar.adding(businessMinutes: 120, to: friday) == utc("2026-10-05T08:00:00Z"))
        #expect(try ordinary.adding(businessMinutes: 120, to: friday) == utc("2026-10-05T08:00:00Z"))
        #expect(
            calendar.businessMinutes(from: utc("2026-09-28T00:00:00Z"), to: utc("2026-10-12T00:00:00Z"))
                == ordinary.businessMinutes(from: utc("2026-09-28T00:00:00Z"), to: utc("2026-10-12T00:00:00Z"))
        )
    }

    @Test func holidayCoversTheLocalDateNotTheUTCDate() throws {
        // Round the clock in Asia/Tokyo (+9, no DST); 2 June 2026 local is 2026-06-01T15:00Z to 2026-06-02T15:00Z.
        let calendar = try makeCalendar("Asia/Tokyo", days: Weekday.allCases, intervals: ["00:00-24:00"], holidays: ["2026-06-02": "Closed"])
        #expect(calendar.isWorkingTime(utc("2026-06-01T14:59:59Z")))
        #expect(!calendar.isWorkingTime(utc("2026-06-01T15:00:00Z")))
        #expect(!calendar.isWorkingTime(utc("2026-06-02T14:59:59Z")))
        #expect(calendar.isWorkingTime(utc("2026-06-02T15:00:00Z")))
        #expect(calendar.businessMinutes(from: utc("2026-06-01T00:00:00Z"), to: utc("2026-06-03T00:00:00Z")) == 24 * 60)
    }
}

@Suite("Days without working time")
struct DaysWithoutWorkingTimeTests {
    @Test func weekdayWithoutIntervalsIsSkipped() throws {
        // Monday to Thursday only. Thursday 16:00 CEST + 120 min = Monday 10:00 CEST.
        let calendar = try makeCalendar("Europe/Berlin", days: [.monday, .tuesday, .wednesday, .thursday], intervals: ["09:00-17:00"])
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-06-04T14:00:00Z")) == utc("2026-06-08T08:00:00Z"))
        #expect(!calendar.isWorkingTime(utc("2026-06-05T08:00:00Z")))
    }

    @Test func holidaysOnEveryWorkingDayForTenYearsThrow() throws {
        // Only Mondays are working days, and every Monday for 600 weeks (11.5 years) from 1 June 2026 is a holiday.
        let calendar = try makeCalendar(
            "Europe/Berlin",
            days: [.monday],
            intervals: ["09:00-17:00"],
            holidays: mondayHolidays(from: "2026-06-01", weeks: 600)
        )
        let saturday = utc("2026-05-30T00:00:00Z")
        let error = #expect(throws: BusinessCalendarError.self) { try calendar.adding(businessMinutes: 60, to: saturday) }
        #expect(error?.code == .noWorkingTime)
        #expect(calendar.nextOpening(atOrAfter: saturday) == nil)
        #expect(calendar.businessMinutes(from: saturday, to: utc("2028-06-01T00:00:00Z")) == 0)
        // Backwards there is working time: the Monday before, 25 May 2026, 16:00 CEST.
        #expect(try calendar.adding(businessMinutes: -60, to: saturday) == utc("2026-05-25T14:00:00Z"))
    }

    @Test func fiveYearsOfHolidaysAreWaitedOut() throws {
        // 260 Monday holidays from 1 June 2026; the first working Monday is 2031-05-26, 09:00 CEST.
        let calendar = try makeCalendar(
            "Europe/Berlin",
            days: [.monday],
            intervals: ["09:00-17:00"],
            holidays: mondayHolidays(from: "2026-06-01", weeks: 260)
        )
        #expect(calendar.nextOpening(atOrAfter: utc("2026-05-30T00:00:00Z")) == utc("2031-05-26T07:00:00Z"))
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-05-30T00:00:00Z")) == utc("2031-05-26T08:00:00Z"))
    }
}

@Suite("Daylight saving time in Europe/Berlin")
struct BerlinDaylightSavingTests {
    @Test func roundTheClockDayLastsTwentyThreeHoursWhenClocksSpringForward() throws {
        // Sunday 29 March 2026: 00:00 CET is 28 March 23:00Z, 24:00 is 30 March 00:00 CEST = 29 March 22:00Z.
        let sundays = try makeCalendar("Europe/Berlin", days: [.sunday], intervals: ["00:00-24:00"])
        #expect(sundays.businessMinutes(from: utc("2026-03-23T00:00:00Z"), to: utc("2026-03-30T00:00:00Z")) == 1380)
        #expect(sundays.nextOpening(atOrAfter: utc("2026-03-27T00:00:00Z")) == utc("2026-03-28T23:00:00Z"))
        #expect(try sundays.adding(businessMinutes: 1380, to: utc("2026-03-28T23:00:00Z")) == utc("2026-03-29T22:00:00Z"))
        // One more minute rolls to the next Sunday, 5 April 00:00 CEST = 4 April 22:00Z.
        #expect(try sundays.adding(businessMinutes: 1381, to: utc("2026-03-28T23:00:00Z")) == utc("2026-04-04T22:01:00Z"))
    }

    @Test func roundTheClockDayLastsTwentyFiveHoursWhenClocksFallBack() throws {
        // Sunday 25 October 2026: 00:00 CEST is 24 October 22:00Z, 24:00 is 26 October 00:00 CET = 25 October 23:00Z.
        let sundays = try makeCalendar("Europe/Berlin", days: [.sunday], intervals: ["00:00-24:00"])
        #expect(sundays.businessMinutes(from: utc("2026-10-19T00:00:00Z"), to: utc("2026-10-26T00:00:00Z")) == 1500)
        #expect(try sundays.adding(businessMinutes: 1500, to: utc("2026-10-24T22:00:00Z")) == utc("2026-10-25T23:00:00Z"))
    }

    @Test func twentyFourBusinessHoursFromMidnightCrossTheTransition() throws {
        let always = try makeCalendar("Europe/Berlin", days: Weekday.allCases, intervals: ["00:00-24:00"])
        // From 29 March 00:00 CET (28 March 23:00Z): 24 real hours later it is 30 March 01:00 CEST.
        #expect(try always.adding(businessMinutes: 1440, to: utc("2026-03-28T23:00:00Z")) == utc("2026-03-29T23:00:00Z"))
        // From 25 October 00:00 CEST (24 October 22:00Z): 24 real hours later it is 25 October 23:00 CET.
        #expect(try always.adding(businessMinutes: 1440, to: utc("2026-10-24T22:00:00Z")) == utc("2026-10-25T22:00:00Z"))
    }

    @Test func officeHoursLastEightHoursOnBothTransitionSundays() throws {
        let sundays = try makeCalendar("Europe/Berlin", days: [.sunday], intervals: ["09:00-17:00"])
        #expect(sundays.businessMinutes(from: utc("2026-03-23T00:00:00Z"), to: utc("2026-03-30T00:00:00Z")) == 480)
        #expect(sundays.businessMinutes(from: utc("2026-10-19T00:00:00Z"), to: utc("2026-10-26T00:00:00Z")) == 480)
        // 09:00 CEST = 07:00Z in March, 09:00 CET = 08:00Z in October.
        #expect(sundays.nextOpening(atOrAfter: utc("2026-03-29T00:00:00Z")) == utc("2026-03-29T07:00:00Z"))
        #expect(sundays.nextOpening(atOrAfter: utc("2026-10-25T00:00:00Z")) == utc("2026-10-25T08:00:00Z"))
    }

    @Test func skippedHourIsEmptyAndRepeatedHourCountsTwice() throws {
        // 02:00-03:00 does not exist on 29 March; on 25 October it runs from 02:00 CEST (00:00Z) to 03:00 CET (02:00Z).
        let sundays = try makeCalendar("Europe/Berlin", days: [.sunday], intervals: ["02:00-03:00"])
        #expect(sundays.businessMinutes(from: utc("2026-03-23T00:00:00Z"), to: utc("2026-03-30T00:00:00Z")) == 0)
        #expect(sundays.businessMinutes(from: utc("2026-10-19T00:00:00Z"), to: utc("2026-10-26T00:00:00Z")) == 120)
        #expect(sundays.nextOpening(atOrAfter: utc("2026-10-24T12:00:00Z")) == utc("2026-10-25T00:00:00Z"))
    }

    @Test func intervalStartingInTheGapStartsWhenTheClockResumes() throws {
        // 02:30-04:00 on 29 March starts at 03:00 CEST (01:00Z) and ends at 04:00 CEST (02:00Z).
        let sundays = try makeCalendar("Europe/Berlin", days: [.sunday], intervals: ["02:30-04:00"])
        #expect(sundays.nextOpening(atOrAfter: utc("2026-03-29T00:30:00Z")) == utc("2026-03-29T01:00:00Z"))
        #expect(sundays.businessMinutes(from: utc("2026-03-29T00:00:00Z"), to: utc("2026-03-29T03:00:00Z")) == 60)
    }

    @Test func weekdayCalendarStraddlesTheTransitionWeekends() throws {
        let calendar = try makeCalendar("Europe/Berlin", days: workWeek, intervals: ["09:00-17:00"])
        // Friday 27 March 16:00 CET (15:00Z) + 120 min = Monday 30 March 10:00 CEST (08:00Z).
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-03-27T15:00:00Z")) == utc("2026-03-30T08:00:00Z"))
        #expect(try calendar.adding(businessMinutes: -120, to: utc("2026-03-30T08:00:00Z")) == utc("2026-03-27T15:00:00Z"))
        #expect(calendar.businessMinutes(from: utc("2026-03-27T15:00:00Z"), to: utc("2026-03-30T08:00:00Z")) == 120)
        // Friday 23 October 16:00 CEST (14:00Z) + 120 min = Monday 26 October 10:00 CET (09:00Z).
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-10-23T14:00:00Z")) == utc("2026-10-26T09:00:00Z"))
        #expect(calendar.businessMinutes(from: utc("2026-10-23T14:00:00Z"), to: utc("2026-10-26T09:00:00Z")) == 120)
    }
}

@Suite("Daylight saving time in America/New_York")
struct NewYorkDaylightSavingTests {
    @Test func roundTheClockTransitionDaysLastTwentyThreeAndTwentyFiveHours() throws {
        // 8 March: 00:00 EST (05:00Z) to 9 March 00:00 EDT (04:00Z). 1 November: 00:00 EDT (04:00Z) to 2 November 00:00 EST (05:00Z).
        let sundays = try makeCalendar("America/New_York", days: [.sunday], intervals: ["00:00-24:00"])
        #expect(sundays.businessMinutes(from: utc("2026-03-03T00:00:00Z"), to: utc("2026-03-10T00:00:00Z")) == 1380)
        #expect(sundays.businessMinutes(from: utc("2026-10-27T00:00:00Z"), to: utc("2026-11-03T00:00:00Z")) == 1500)
        let always = try makeCalendar("America/New_York", days: Weekday.allCases, intervals: ["00:00-24:00"])
        // 24 business hours from 8 March 00:00 EST end at 9 March 01:00 EDT.
        #expect(try always.adding(businessMinutes: 1440, to: utc("2026-03-08T05:00:00Z")) == utc("2026-03-09T05:00:00Z"))
    }

    @Test func oneToThreeIsOneRealHourInSpringAndThreeInAutumn() throws {
        let sundays = try makeCalendar("America/New_York", days: [.sunday], intervals: ["01:00-03:00"])
        // Spring: 01:00 EST (06:00Z) to 03:00 EDT (07:00Z).
        #expect(sundays.businessMinutes(from: utc("2026-03-08T00:00:00Z"), to: utc("2026-03-09T00:00:00Z")) == 60)
        #expect(try sundays.adding(businessMinutes: 60, to: utc("2026-03-08T00:00:00Z")) == utc("2026-03-08T07:00:00Z"))
        // Autumn: first 01:00 is EDT (05:00Z), 03:00 is EST (08:00Z).
        #expect(sundays.businessMinutes(from: utc("2026-11-01T00:00:00Z"), to: utc("2026-11-02T00:00:00Z")) == 180)
        #expect(sundays.nextOpening(atOrAfter: utc("2026-11-01T00:00:00Z")) == utc("2026-11-01T05:00:00Z"))
        #expect(try sundays.adding(businessMinutes: 180, to: utc("2026-11-01T00:00:00Z")) == utc("2026-11-01T08:00:00Z"))
        #expect(sundays.isWorkingTime(utc("2026-11-01T06:30:00Z")))  // 01:30 EST, the second time round
    }

    @Test func startInTheGapMapsToTheFirstInstantAfterIt() throws {
        // 02:30 on 8 March does not exist: the interval starts at 03:00 EDT (07:00Z) and ends at 04:00 EDT (08:00Z).
        let sundays = try makeCalendar("America/New_York", days: [.sunday], intervals: ["02:30-04:00"])
        #expect(sundays.nextOpening(atOrAfter: utc("2026-03-08T06:30:00Z")) == utc("2026-03-08T07:00:00Z"))
        #expect(!sundays.isWorkingTime(utc("2026-03-08T06:59:59Z")))
        #expect(sundays.isWorkingTime(utc("2026-03-08T07:00:00Z")))
        #expect(sundays.businessMinutes(from: utc("2026-03-08T00:00:00Z"), to: utc("2026-03-09T00:00:00Z")) == 60)
    }

    @Test func endInTheRepeatedHourIsItsSecondOccurrence() throws {
        // 00:00-01:30 on 1 November: 00:00 EDT (04:00Z) to the second 01:30, EST (06:30Z).
        let sundays = try makeCalendar("America/New_York", days: [.sunday], intervals: ["00:00-01:30"])
        #expect(sundays.businessMinutes(from: utc("2026-11-01T00:00:00Z"), to: utc("2026-11-02T00:00:00Z")) == 150)
        #expect(try sundays.adding(businessMinutes: 150, to: utc("2026-11-01T00:00:00Z")) == utc("2026-11-01T06:30:00Z"))
    }

    @Test func startInTheRepeatedHourIsItsFirstOccurrence() throws {
        // 01:30-05:00 on 1 November: the first 01:30, EDT (05:30Z), to 05:00 EST (10:00Z).
        let sundays = try makeCalendar("America/New_York", days: [.sunday], intervals: ["01:30-05:00"])
        #expect(sundays.nextOpening(atOrAfter: utc("2026-11-01T00:00:00Z")) == utc("2026-11-01T05:30:00Z"))
        #expect(sundays.businessMinutes(from: utc("2026-11-01T00:00:00Z"), to: utc("2026-11-02T00:00:00Z")) == 270)
    }

    @Test func intervalsThatOverlapInTheRepeatedHourCountOnce() throws {
        // 00:00-01:15 runs to the second 01:15 (06:15Z); 01:45-03:00 starts at the first 01:45 (05:45Z). Together they
        // cover 04:00Z to 08:00Z once: four hours, the break swallowed by the repeated hour.
        let sundays = try makeCalendar("America/New_York", days: [.sunday], intervals: ["00:00-01:15", "01:45-03:00"])
        #expect(sundays.businessMinutes(from: utc("2026-11-01T00:00:00Z"), to: utc("2026-11-02T00:00:00Z")) == 240)
        #expect(sundays.isWorkingTime(utc("2026-11-01T06:30:00Z")))  // 01:30 EST
        #expect(try sundays.adding(businessMinutes: 240, to: utc("2026-11-01T00:00:00Z")) == utc("2026-11-01T08:00:00Z"))
        // In spring both are ordinary apart from the missing hour: 05:00Z-06:15Z and 06:45Z-07:00Z.
        #expect(sundays.businessMinutes(from: utc("2026-03-08T00:00:00Z"), to: utc("2026-03-09T00:00:00Z")) == 90)
    }

    @Test func weekdayCalendarStraddlesTheTransitionWeekends() throws {
        let calendar = try makeCalendar("America/New_York", days: workWeek, intervals: ["09:00-17:00"])
        // Friday 6 March 16:00 EST (21:00Z) + 120 min = Monday 9 March 10:00 EDT (14:00Z).
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-03-06T21:00:00Z")) == utc("2026-03-09T14:00:00Z"))
        // Friday 30 October 16:00 EDT (20:00Z) + 120 min = Monday 2 November 10:00 EST (15:00Z).
        #expect(try calendar.adding(businessMinutes: 120, to: utc("2026-10-30T20:00:00Z")) == utc("2026-11-02T15:00:00Z"))
    }
}

@Suite("Transitions at midnight in America/Havana")
struct MidnightTransitionTests {
    // Cuba moves its clocks at midnight: on 8 March 2026 00:00 CST (05:00Z) becomes 01:00 CDT, and on 1 November
    // 01:00 CDT (05:00Z) becomes 00:00 CST, so Sunday's midnight occurs twice.
    let calendar: BusinessCalendar

    init() throws {
        calendar = try BusinessCalendar(
            timeZoneIdentifier: "America/Havana",
            hours: [.saturday: [WorkingInterval(parsing: "20:00-24:00")], .sunday: [WorkingInterval(parsing: "00:00-02:00")]]
        )
    }

    @Test func repeatedMidnightBetweenTwoDaysCountsOnce() throws {
        // Saturday 20:00 CDT (1 November 00:00Z) runs to the second midnight (05:00Z); Sunday starts at the first
        // midnight (04:00Z) and ends at 02:00 CST (07:00Z). Together: 00:00Z to 07:00Z.
        #expect(calendar.businessMinutes(from: utc("2026-10-31T12:00:00Z"), to: utc("2026-11-01T12:00:00Z")) == 420)
        #expect(try calendar.adding(businessMinutes: 420, to: utc("2026-10-31T12:00:00Z")) == utc("2026-11-01T07:00:00Z"))
        #expect(try calendar.adding(businessMinutes: -420, to: utc("2026-11-01T12:00:00Z")) == utc("2026-11-01T00:00:00Z"))
        #expect(calendar.isWorkingTime(utc("2026-11-01T04:30:00Z")))
    }

    @Test func missingMidnightBetweenTwoDaysJoinsThem() throws {
        // Saturday 20:00 CST (8 March 01:00Z) to the missing midnight, which is 01:00 CDT (05:00Z); Sunday from then
        // to 02:00 CDT (06:00Z).
        #expect(calendar.businessMinutes(from: utc("2026-03-07T12:00:00Z"), to: utc("2026-03-08T12:00:00Z")) == 300)
        #expect(try calendar.adding(businessMinutes: 300, to: utc("2026-03-07T12:00:00Z")) == utc("2026-03-08T06:00:00Z"))
    }
}

@Suite("Offsets and dates that differ from UTC")
struct OffsetTests {
    @Test func halfHourOffsetInKolkata() throws {
        // 09:30-18:30 IST (+5:30) on weekdays: 04:00Z to 13:00Z. 1 June 2026 is a Monday.
        let calendar = try makeCalendar("Asia/Kolkata", days: workWeek, intervals: ["09:30-18:30"])
        #expect(!calendar.isWorkingTime(utc("2026-06-01T03:30:00Z")))  // 09:00 IST
        #expect(calendar.nextOpening(atOrAfter: utc("2026-06-01T03:30:00Z")) == utc("2026-06-01T04:00:00Z"))
        // 09:00 IST + 60 min = 10:30 IST.
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-06-01T03:30:00Z")) == utc("2026-06-01T05:00:00Z"))
        #expect(calendar.isWorkingTime(utc("2026-06-01T12:59:59Z")))
        #expect(!calendar.isWorkingTime(utc("2026-06-01T13:00:00Z")))  // 18:30 IST
        // Friday 18:00 IST (12:30Z) + 60 min = Monday 10:00 IST (04:30Z).
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-06-05T12:30:00Z")) == utc("2026-06-08T04:30:00Z"))
    }

    @Test func fridayEveningInLosAngelesIsSaturdayInUTC() throws {
        // 09:00-17:00 PDT (-7) on weekdays: 16:00Z to 00:00Z the next UTC day.
        let calendar = try makeCalendar("America/Los_Angeles", days: workWeek, intervals: ["09:00-17:00"])
        let fridayEvening = utc("2026-06-06T01:00:00Z")  // Friday 18:00 PDT
        #expect(!calendar.isWorkingTime(fridayEvening))
        #expect(calendar.nextOpening(atOrAfter: fridayEvening) == utc("2026-06-08T16:00:00Z"))
        #expect(try calendar.adding(businessMinutes: 30, to: fridayEvening) == utc("2026-06-08T16:30:00Z"))
        // Friday 16:30 PDT (23:30Z) + 60 min = Monday 09:30 PDT.
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-06-05T23:30:00Z")) == utc("2026-06-08T16:30:00Z"))
        // Monday 03:00Z is still Sunday 20:00 PDT.
        #expect(!calendar.isWorkingTime(utc("2026-06-08T03:00:00Z")))
        #expect(calendar.businessMinutes(from: utc("2026-06-08T03:00:00Z"), to: utc("2026-06-08T17:00:00Z")) == 60)
    }

    @Test func workingTimeOnSaturdayInUTCIsStillFridayLocally() throws {
        // 09:00-18:00 PDT: Friday 17:30 PDT is Saturday 00:30Z and inside working hours.
        let calendar = try makeCalendar("America/Los_Angeles", days: workWeek, intervals: ["09:00-18:00"])
        #expect(calendar.isWorkingTime(utc("2026-06-06T00:30:00Z")))
        // 30 minutes left on Friday, 30 on Monday from 09:00 PDT.
        #expect(try calendar.adding(businessMinutes: 60, to: utc("2026-06-06T00:30:00Z")) == utc("2026-06-08T16:30:00Z"))
    }
}

@Suite("Consistency")
struct ConsistencyTests {
    /// Zones with DST at 02:00, at midnight, by half an hour, with a 45-minute offset, or with a skipped date.
    @Test(arguments: [
        ("Europe/Berlin", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("America/New_York", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("America/Havana", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("Australia/Lord_Howe", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("Pacific/Chatham", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("Asia/Kathmandu", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("Pacific/Apia", "2011-12-01T00:00:00Z", "2012-01-15T00:00:00Z"),
    ])
    func roundTheClockCalendarCountsElapsedTime(zone: String, from: String, to: String) throws {
        let always = try makeCalendar(zone, days: Weekday.allCases, intervals: ["00:00-24:00"])
        let start = utc(from)
        let end = utc(to)
        #expect(always.businessSeconds(from: start, to: end) == Int64(end.timeIntervalSince(start)))
        #expect(try always.adding(businessSeconds: Int64(end.timeIntervalSince(start)), to: start) == end)
    }

    @Test func samoaSkippedFridayHasNoWorkingTime() throws {
        // Samoa jumped from 29 December 2011 23:59:59 (-10) to 31 December 00:00 (+14): Friday the 30th never happened.
        let fridays = try makeCalendar("Pacific/Apia", days: [.friday], intervals: ["00:00-24:00"])
        #expect(fridays.businessMinutes(from: utc("2011-12-26T00:00:00Z"), to: utc("2012-01-02T00:00:00Z")) == 0)
        // The next Friday, 6 January 2012, starts at 00:00 +14 = 5 January 10:00Z.
        #expect(fridays.nextOpening(atOrAfter: utc("2011-12-26T00:00:00Z")) == utc("2012-01-05T10:00:00Z"))
    }

    /// `businessSeconds(from:to:)` undoes `adding(businessSeconds:to:)` both ways, and the result is the earliest
    /// (forwards) or latest (backwards) instant that works, for random instants across both DST seasons.
    @Test(arguments: PropertyFixture.allCases)
    func addingAndMeasuringAgree(fixture: PropertyFixture) throws {
        let calendar = try fixture.calendar()
        var generator = SplitMix64(seed: 0xBA70_2026 &+ UInt64(PropertyFixture.allCases.firstIndex(of: fixture) ?? 0))
        let windows = [
            (utc("2026-02-20T00:00:00Z"), utc("2026-04-10T00:00:00Z")),
            (utc("2026-10-10T00:00:00Z"), utc("2026-11-20T00:00:00Z")),
        ]
        for trial in 0..<300 {
            let window = windows[trial % 2]
            let milliseconds = Int64.random(
                in: Int64(window.0.timeIntervalSince1970 * 1000)..<Int64(window.1.timeIntervalSince1970 * 1000),
                using: &generator
            )
            // Whole minutes, whole seconds and milliseconds alike.
            let start = Date(timeIntervalSince1970: TimeInterval(trial % 3 == 0 ? milliseconds / 60_000 * 60 : milliseconds / 1000))
                .addingTimeInterval(trial % 3 == 2 ? TimeInterval(milliseconds % 1000) / 1000 : 0)
            let maximum: Int64 = [3_600, 3 * 86_400, 10 * 86_400][trial % 3]
            let amount = Int64.random(in: 0...maximum, using: &generator)
            let context: Comment = "start \(start.timeIntervalSince1970), amount \(amount)"

            let end = try calendar.adding(businessSeconds: amount, to: start)
            #expect(end >= start, context)
            #expect(calendar.businessSeconds(from: start, to: end) == amount, context)
            if amount > 0 {
                let justBefore = end.addingTimeInterval(-0.001)
                #expect(calendar.businessSeconds(from: start, to: justBefore) == amount - 1, context)
                #expect(calendar.isWorkingTime(justBefore), context)
                // Adding in two steps lands in the same place.
                let part = Int64.random(in: 0...amount, using: &generator)
                let halfway = try calendar.adding(businessSeconds: part, to: start)
                #expect(try calendar.adding(businessSeconds: amount - part, to: halfway) == end, context)
            }

            let begin = try calendar.adding(businessSeconds: -amount, to: start)
            #expect(begin <= start, context)
            #expect(calendar.businessSeconds(from: begin, to: start) == amount, context)
            if amount > 0 {
                #expect(calendar.isWorkingTime(begin), context)
                #expect(calendar.businessSeconds(from: begin.addingTimeInterval(0.001), to: start) == amount - 1, context)
            }
        }
    }

    /// Counts working minutes one by one with Foundation's own UTC-to-local conversion, which is unambiguous, and
    /// compares with the day-by-day walk. The fixtures' hours stay clear of 02:00-03:00, where the two would
    /// legitimately differ.
    @Test(arguments: [PropertyFixture.berlinSplitDays, .kolkata, .losAngeles])
    func minuteByMinuteCountAgrees(fixture: PropertyFixture) throws {
        let calendar = try fixture.calendar()
        var local = Calendar(identifier: .gregorian)
        local.timeZone = calendar.timeZone
        let holidays = Set(calendar.holidays.map(\.date))
        let windowStarts = [
            "2026-03-27T00:00:00Z", "2026-03-28T12:00:00Z", "2026-04-02T18:00:00Z", "2026-10-23T00:00:00Z",
            "2026-10-24T12:00:00Z", "2026-12-23T00:00:00Z", "2026-06-05T22:00:00Z", "2026-03-06T00:00:00Z",
        ]
        for windowStart in windowStarts {
            let start = utc(windowStart)
            let end = start.addingTimeInterval(3 * 86_400)
            var expected = 0
            for minute in 0..<(3 * 1440) {
                let instant = start.addingTimeInterval(TimeInterval(minute * 60))
                let parts = local.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: instant)
                let date = try #require(LocalDate(year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0))
                // Foundation numbers weekdays from Sunday = 1.
                let weekday = try #require(Weekday(rawValue: ((parts.weekday ?? 0) + 5) % 7 + 1))
                let time = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
                let working = calendar.hours[weekday]?.contains { $0.start.minutes <= time && time < $0.end.minutes } ?? false
                if working && !holidays.contains(date) {
                    expected += 1
                }
            }
            #expect(calendar.businessMinutes(from: start, to: end) == expected, "window from \(windowStart)")
        }
    }

    @Test func hundredThousandBusinessMinutesFinish() throws {
        let calendar = try PropertyFixture.berlinSplitDays.calendar()
        let start = utc("2026-06-01T07:00:00Z")
        let end = try calendar.adding(businessMinutes: 100_000, to: start)
        // 100,000 / 480 is about 208 working days: some 42 weeks, plus a few holidays.
        #expect(end > utc("2027-02-01T00:00:00Z") && end < utc("2027-05-01T00:00:00Z"))
        #expect(calendar.businessMinutes(from: start, to: end) == 100_000)
        #expect(try calendar.adding(businessMinutes: -100_000, to: end) == start)

        let always = try makeCalendar("Europe/Berlin", days: Weekday.allCases, intervals: ["00:00-24:00"])
        #expect(try always.adding(businessMinutes: 100_000, to: start) == start.addingTimeInterval(6_000_000))
    }

    @Test func aSparseCalendarRefusesResultsCenturiesAway() throws {
        // One working minute a week: ten years of business minutes would take 100,000 years.
        let sparse = try makeCalendar("Europe/Berlin", days: [.monday], intervals: ["09:00-09:01"])
        let start = utc("2026-06-01T07:00:00Z")
        #expect(throws: BusinessCalendarError.self) { try sparse.adding(businessMinutes: 5_256_000, to: start) }
        #expect(throws: BusinessCalendarError.self) { try sparse.adding(businessMinutes: -5_256_000, to: start) }
        #expect(try sparse.adding(businessMinutes: 52, to: start) > start)
    }
}

/// The calendars the property tests run against.
enum PropertyFixture: String, CaseIterable, Sendable {
    case berlinSplitDays
    case newYorkNights
    case kolkata
    case losAngeles

    func calendar() throws -> BusinessCalendar {
        switch self {
        case .berlinSplitDays:
            try makeCalendar(
                "Europe/Berlin",
                days: workWeek,
                intervals: ["09:00-12:30", "13:30-18:00"],
                holidays: [
                    "2026-04-03": "Good Friday", "2026-04-06": "Easter Monday", "2026-10-03": "German Unity Day",
                    "2026-12-25": "Christmas Day", "2026-12-26": "Boxing Day",
                ]
            )
        case .newYorkNights:
            // Every boundary that can land in a skipped or repeated hour, every day.
            try makeCalendar("America/New_York", days: Weekday.allCases, intervals: ["00:00-01:15", "01:45-03:00", "08:00-24:00"])
        case .kolkata:
            try makeCalendar(
                "Asia/Kolkata",
                days: [.monday, .tuesday, .wednesday, .thursday, .friday, .saturday],
                intervals: ["09:30-18:30"],
                holidays: ["2026-03-04": "Holi", "2026-11-09": "Diwali"]
            )
        case .losAngeles:
            try makeCalendar("America/Los_Angeles", days: workWeek, intervals: ["08:00-12:00", "13:00-17:30"])
        }
    }
}

private let workWeek: [Weekday] = [.monday, .tuesday, .wednesday, .thursday, .friday]

/// A literal UTC instant such as "2026-03-27T15:00:00Z".
private func utc(_ text: String) -> Date {
    // The literals are written by hand; a malformed one should stop the run loudly.
    try! Date(text, strategy: .iso8601)
}

/// Builds a calendar from the text forms a region's configuration uses, with the same intervals on each of `days`.
private func makeCalendar(
    _ zone: String,
    days: [Weekday],
    intervals: [String],
    holidays: [String: String] = [:]
) throws -> BusinessCalendar {
    let parsedIntervals = try intervals.map { try WorkingInterval(parsing: $0) }
    let parsedHolidays = try holidays.map { date, name in Holiday(date: try #require(LocalDate(parsing: date)), name: name) }
    return try BusinessCalendar(
        timeZoneIdentifier: zone,
        hours: Dictionary(uniqueKeysWithValues: days.map { ($0, parsedIntervals) }),
        holidays: parsedHolidays
    )
}

/// One holiday on each of `weeks` consecutive Mondays starting at `firstMonday`.
private func mondayHolidays(from firstMonday: String, weeks: Int) -> [String: String] {
    var gregorian = Calendar(identifier: .gregorian)
    gregorian.timeZone = TimeZone(identifier: "UTC") ?? .gmt
    let first = utc(firstMonday + "T12:00:00Z")
    var holidays: [String: String] = [:]
    for week in 0..<weeks {
        let day = first.addingTimeInterval(TimeInterval(week * 7 * 86_400))
        let parts = gregorian.dateComponents([.year, .month, .day], from: day)
        let text = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        holidays[text] = "Closed, week \(week)"
    }
    return holidays
}

/// A small seeded generator so the property tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
