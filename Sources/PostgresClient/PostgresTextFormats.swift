public import Foundation

/// `timestamptz` in PostgreSQL's ISO text format, with microsecond precision.
public enum PostgresTimestamp {
    /// Formats an instant as `YYYY-MM-DD HH:MM:SS.ffffff+00`.
    public static func format(_ date: Date) -> String {
        format(date, separator: UInt8(ascii: " "), zone: "+00")
    }

    /// Formats an instant as RFC 3339 in UTC with microseconds: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public static func formatRFC3339(_ date: Date) -> String {
        format(date, separator: UInt8(ascii: "T"), zone: "Z")
    }

    // Writes the digits straight into the string's storage: this runs for every timestamp of
    // every row and response, and string interpolation with padding cost several microseconds.
    private static func format(_ date: Date, separator: UInt8, zone: StaticString) -> String {
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let micros = Int64(totalMicros)
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilDate(fromDays: days)
        guard (0...9999).contains(year) else {
            return "\(year)-\(digits(month, 2))-\(digits(day, 2))\(Character(Unicode.Scalar(separator)))"
                + "\(digits(secondOfDay / 3600, 2)):\(digits(secondOfDay % 3600 / 60, 2)):\(digits(secondOfDay % 60, 2))"
                + ".\(digits(fraction, 6))\(zone)"
        }
        let length = 26 + zone.utf8CodeUnitCount
        return String(unsafeUninitializedCapacity: length) { buffer in
            var index = 0
            func put(_ value: Int64, _ width: Int) {
                var remaining = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    buffer[index + offset] = UInt8(truncatingIfNeeded: 48 + remaining % 10)
                    remaining /= 10
                }
                index += width
            }
            func put(byte: UInt8) {
                buffer[index] = byte
                index += 1
            }
            put(year, 4)
            put(byte: UInt8(ascii: "-"))
            put(month, 2)
            put(byte: UInt8(ascii: "-"))
            put(day, 2)
            put(byte: separator)
            put(secondOfDay / 3600, 2)
            put(byte: UInt8(ascii: ":"))
            put(secondOfDay % 3600 / 60, 2)
            put(byte: UInt8(ascii: ":"))
            put(secondOfDay % 60, 2)
            put(byte: UInt8(ascii: "."))
            put(fraction, 6)
            zone.withUTF8Buffer { zoneBytes in
                for byte in zoneBytes { put(byte: byte) }
            }
            return index
        }
    }

    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.f…][±HH[:MM[:SS]]|Z]`; a value without an offset is UTC.
    /// Instants from 0001-01-01T00:00:00Z to before 10000-01-01T00:00:00Z: what both RFC 3339
    /// and this type's four-digit, AD-only text can carry (PostgreSQL has no year 0; it writes
    /// 1 BC as `0001-… BC`, and year 10000 with five digits).
    public static let representable: Range<Date> =
        Date(timeIntervalSince1970: -62_135_596_800)..<Date(timeIntervalSince1970: 253_402_300_800)

    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ count: Int) -> Int64? {
            guard index + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for offset in 0..<count {
                let byte = bytes[index + offset]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += count
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")),
            let day = number(2)
        else { return nil }
        guard index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T") else {
            return nil
        }
        index += 1
        guard let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), expect(UInt8(ascii: ":")),
            let second = number(2)
        else { return nil }
        var micros: Int64 = 0
        if expect(UInt8(ascii: ".")) {
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            if bytes[index] == UInt8(ascii: "Z") {
                index += 1
            } else {
                let sign: Int64
                switch bytes[index] {
                case UInt8(ascii: "+"): sign = 1
                case UInt8(ascii: "-"): sign = -1
                default: return nil
                }
                index += 1
                guard let offsetHours = number(2) else { return nil }
                var offsetMinutes: Int64 = 0
                var offsetSecondsPart: Int64 = 0
                if expect(UInt8(ascii: ":")) {
                    guard let value = number(2) else { return nil }
                    offsetMinutes = value
                    if expect(UInt8(ascii: ":")) {
                        guard let value = number(2) else { return nil }
                        offsetSecondsPart = value
                    }
                }
                offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60 + offsetSecondsPart)
            }
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    // Howard Hinnant's days-from-civil and its inverse, exact for the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilDate(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func digits(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

/// `bytea` in PostgreSQL's hex text format (`\x0a1b…`).
public enum PostgresBytea {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    public static func hexText(_ data: Data) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        bytes.reserveCapacity(2 + data.count * 2)
        for byte in data {
            bytes.append(hexDigits[Int(byte >> 4)])
            bytes.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func parse(_ text: String) -> Data? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0
        else { return nil }
        var data = Data(capacity: (bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            data.append(high << 4 | low)
            index += 2
        }
        return data
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }
}

/// One-dimensional arrays in PostgreSQL's text format (`{1,2,"a b",NULL}`).
public enum PostgresArrayText {
    /// Formats elements with every element quoted, so no value needs special casing.
    public static func format(_ elements: [String]) -> String {
        format(elements.map { Optional($0) })
    }

    /// Formats elements, writing `nil` as an unquoted `NULL`.
    public static func format(_ elements: [String?]) -> String {
        // Byte-wise: quotes and backslashes are ASCII, so escaping never splits a character.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(2 + elements.reduce(0) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for (offset, element) in elements.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            guard let element else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses a one-dimensional array; unquoted `NULL` elements become `nil`.
    public static func parse(_ text: String) -> [String?]? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        var elements: [String?] = []
        var index = 1
        let end = scalars.count - 1
        if index == end { return [] }
        while index < end {
            var value = ""
            if scalars[index] == "\"" {
                index += 1
                while index < end, scalars[index] != "\"" {
                    if scalars[index] == "\\" { index += 1 }
                    guard index < end else { return nil }
                    value.unicodeScalars.append(scalars[index])
                    index += 1
                }
                guard index < end else { return nil }
                index += 1
                elements.append(value)
            } else {
                while index < end, scalars[index] != "," {
                    if scalars[index] == "{" { return nil }
                    value.unicodeScalars.append(scalars[index])
                    index += 1
                }
                elements.append(value == "NULL" ? nil : value)
            }
            if index < end {
                guard scalars[index] == "," else { return nil }
                index += 1
                if index == end { return nil }
            }
        }
        return elements
    }
}
