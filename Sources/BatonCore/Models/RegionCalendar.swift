public import Foundation

/// A region's business calendar as stored: time zone, weekly hours and holidays.
public struct RegionCalendar: Sendable {
    public var region: String
    public var timeZone: String
    public var hours: [Weekday: [WorkingInterval]]
    public var holidays: [Holiday]
    /// The region has not set hours and works the standard week (Monday to Friday, 09:00-17:00).
    public var isDefault: Bool
    public var updatedAt: Date?

    /// The calendar for arithmetic.
    public func businessCalendar() throws(BusinessCalendarError) -> BusinessCalendar {
        try BusinessCalendar(timeZoneIdentifier: timeZone, hours: hours, holidays: holidays)
    }
}
