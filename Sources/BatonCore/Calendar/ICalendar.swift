public import Foundation

/// One event of an iCalendar export (a meeting or a training session).
public struct CalendarEvent: Sendable, Equatable {
    public struct Person: Sendable, Equatable {
        public var name: String
        /// A `mailto:` address when known, else another URI that names the person.
        public var address: String

        public init(name: String, address: String) {
            self.name = name
            self.address = address
        }
    }

    public var uid: String
    public var stamp: Date
    public var startsAt: Date
    public var endsAt: Date
    public var summary: String
    public var description: String?
    public var location: String?
    public var organiser: Person?
    public var attendees: [Person]
    public var cancelled: Bool
    /// Goes up with each change, so clients replace their copy.
    public var sequence: Int

    public init(
        uid: String,
        stamp: Date,
        startsAt: Date,
        endsAt: Date,
        summary: String,
        description: String? = nil,
        location: String? = nil,
        organiser: Person? = nil,
        attendees: [Person] = [],
        cancelled: Bool = false,
        sequence: Int = 0
    ) {
        self.uid = uid
        self.stamp = stamp
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.summary = summary
        self.description = description
        self.location = location
        self.organiser = organiser
        self.attendees = attendees
        self.cancelled = cancelled
        self.sequence = sequence
    }
}

/// Writes iCalendar (RFC 5545): CRLF line ends, lines folded at 75 octets, TEXT values escaped,
/// times in UTC (so no VTIMEZONE is needed).
public enum ICalendar {
    public static func document(name: String, events: [CalendarEvent]) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Baton//Baton calendar//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
        lines.append("X-WR-CALNAME:" + text(name))
        for event in events {
            lines.append("BEGIN:VEVENT")
            lines.append("UID:" + text(event.uid))
            lines.append("DTSTAMP:" + utc(event.stamp))
            lines.append("DTSTART:" + utc(event.startsAt))
            lines.append("DTEND:" + utc(event.endsAt))
            lines.append("SEQUENCE:\(event.sequence)")
            lines.append("SUMMARY:" + text(event.summary))
            if let description = event.description, !description.isEmpty { lines.append("DESCRIPTION:" + text(description)) }
            if let location = event.location, !location.isEmpty { lines.append("LOCATION:" + text(location)) }
            lines.append("STATUS:" + (event.cancelled ? "CANCELLED" : "CONFIRMED"))
            if let organiser = event.organiser { lines.append("ORGANIZER;CN=" + parameter(organiser.name) + ":" + organiser.address) }
            for attendee in event.attendees {
                lines.append("ATTENDEE;CN=" + parameter(attendee.name) + ";ROLE=REQ-PARTICIPANT:" + attendee.address)
            }
            lines.append("END:VEVENT")
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// A TEXT value: backslash, semicolon and comma escaped, line breaks as `\n`.
    static func text(_ value: String) -> String {
        var escaped = ""
        var previousWasCR = false
        for scalar in value.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": escaped += "\\\\"
            case ";": escaped += "\\;"
            case ",": escaped += "\\,"
            case "\r": escaped += "\\n"
            case "\n": if !previousWasCR { escaped += "\\n" }
            case let control where control.value < 0x20 || control.value == 0x7F: continue
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// A parameter value, always quoted; a quote or control character cannot appear in one.
    static func parameter(_ value: String) -> String {
        "\"" + String(String.UnicodeScalarView(value.unicodeScalars.filter { $0 != "\"" && $0.value >= 0x20 && $0.value != 0x7F })) + "\""
    }

    /// `YYYYMMDDTHHMMSSZ`.
    static func utc(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(parts.year, 4) + pad(parts.month, 2) + pad(parts.day, 2) + "T" + pad(parts.hour, 2) + pad(parts.minute, 2)
            + pad(parts.second, 2) + "Z"
    }

    /// Folds a content line into lines of at most 75 octets, each continuation starting with a
    /// space, never splitting a UTF-8 sequence.
    static func fold(_ line: String) -> String {
        var folded: [String] = []
        var current = ""
        var octets = 0
        for scalar in line.unicodeScalars {
            let size = String(scalar).utf8.count
            if octets + size > 75 {
                folded.append(current)
                current = " "
                octets = 1
            }
            current.unicodeScalars.append(scalar)
            octets += size
        }
        folded.append(current)
        return folded.joined(separator: "\r\n")
    }
}
