import Foundation

/// Reads RFC 4180 CSV a piece at a time: comma-separated fields, fields in double quotes may
/// hold commas, line breaks and doubled quotes; CRLF, LF or CR line ends; a UTF-8 byte order
/// mark is skipped; a blank line is skipped. Each record comes with the line it starts on, for
/// error reports. Feed it bytes as they are read (`read(_:)`) and call `finish()` at the end.
public struct CSVReader: Sendable {
    /// One record and the line (1-based) where it starts.
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]

        public init(line: Int, fields: [String]) {
            self.line = line
            self.fields = fields
        }
    }

    /// Why a file is not CSV.
    public struct Malformed: Error, Sendable, Equatable {
        public var line: Int
        public var reason: String

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    private var fields: [String] = []
    private var field: [UInt8] = []
    private var line = 1
    private var recordLine = 1
    private var quoted = false
    private var fieldWasQuoted = false
    /// A CR ended the last piece: an LF starting the next one belongs to it.
    private var afterCR = false
    /// The last byte closed a quoted field: a quote now is a doubled one, part of the text.
    private var closedQuote = false
    /// How much of a leading UTF-8 byte order mark has been read; nil once past it.
    private var byteOrderMark: Int? = 0
    private var records: [Record] = []

    public init() {}

    /// Every record of a whole file.
    public static func records(_ bytes: [UInt8]) throws(Malformed) -> [Record] {
        var reader = CSVReader()
        var records = try reader.read(bytes)
        records += try reader.finish()
        return records
    }

    /// The records completed by `bytes`, the next piece of the file.
    public mutating func read(_ bytes: some Collection<UInt8>) throws(Malformed) -> [Record] {
        for byte in bytes { try take(byte) }
        defer { records.removeAll(keepingCapacity: true) }
        return records
    }

    /// The last record, when the file does not end with a line end.
    public mutating func finish() throws(Malformed) -> [Record] {
        guard !quoted else { throw Malformed(line: recordLine, reason: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { try endRecord() }
        defer { records.removeAll() }
        return records
    }

    private static let byteOrderMarkBytes: [UInt8] = [0xEF, 0xBB, 0xBF]

    private mutating func take(_ byte: UInt8) throws(Malformed) {
        if let read = byteOrderMark {
            if byte == Self.byteOrderMarkBytes[read] {
                byteOrderMark = read + 1 == 3 ? nil : read + 1
                return
            }
            // Not a byte order mark after all: what looked like one is text.
            byteOrderMark = nil
            for earlier in Self.byteOrderMarkBytes[..<read] { try take(earlier) }
        }
        if afterCR {
            afterCR = false
            if byte == 0x0A { return }
        }
        if quoted {
            if byte == 0x22 {
                quoted = false
                closedQuote = true
                return
            }
            if byte == 0x0A { line += 1 }
            field.append(byte)
            return
        }
        let doubledQuote = closedQuote && byte == 0x22
        closedQuote = false
        switch byte {
        case 0x22 where doubledQuote:
            field.append(0x22)
            quoted = true
        case 0x22:
            guard field.isEmpty, !fieldWasQuoted else { throw Malformed(line: line, reason: "a quote inside an unquoted field") }
            quoted = true
            fieldWasQuoted = true
        case 0x2C:
            try endField()
        case 0x0D:
            try endRecord()
            afterCR = true
            line += 1
            recordLine = line
        case 0x0A:
            try endRecord()
            line += 1
            recordLine = line
        default:
            guard !fieldWasQuoted else { throw Malformed(line: line, reason: "text after a closing quote") }
            field.append(byte)
        }
    }

    private mutating func endField() throws(Malformed) {
        guard let text = String(validating: field, as: UTF8.self) else {
            throw Malformed(line: line, reason: "not UTF-8 text")
        }
        fields.append(text)
        field.removeAll(keepingCapacity: true)
        fieldWasQuoted = false
    }

    private mutating func endRecord() throws(Malformed) {
        try endField()
        if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
        fields.removeAll(keepingCapacity: true)
    }

    /// `fields` as one CSV line (without its line end), quoting where needed.
    public static func line(_ fields: [String]) -> String {
        fields.map { field in
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) || field.hasPrefix(" ") || field.hasSuffix(" ")
            else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",")
    }
}
