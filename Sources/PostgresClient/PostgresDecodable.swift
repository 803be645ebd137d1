public import Foundation

/// A Swift type that a column in PostgreSQL's text format can be decoded into.
public protocol PostgresDecodable: Sendable {
    /// Decodes the text of a non-NULL value of the column type `typeOID`.
    init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure)
}

/// Why a value could not be decoded; turned into a ``PostgresError`` naming the column.
public struct PostgresDecodingFailure: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

extension String: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) { self = text }
}

extension Int: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Int(text) else { throw PostgresDecodingFailure("'\(text)' is not an integer") }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Int64(text) else { throw PostgresDecodingFailure("'\(text)' is not an integer") }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Int32(text) else {
            throw PostgresDecodingFailure("'\(text)' is not a 32-bit integer")
        }
        self = value
    }
}

extension Int16: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Int16(text) else {
            throw PostgresDecodingFailure("'\(text)' is not a 16-bit integer")
        }
        self = value
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure("'\(text)' is not a boolean")
        }
    }
}

extension Double: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Double(text) else { throw PostgresDecodingFailure("'\(text)' is not a number") }
        self = value
    }
}

extension Decimal: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), !value.isNaN
        else {
            throw PostgresDecodingFailure("'\(text)' is not a finite decimal")
        }
        self = value
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = UUID(uuidString: text) else { throw PostgresDecodingFailure("'\(text)' is not a UUID") }
        self = value
    }
}

extension Date: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = PostgresTimestamp.parse(text) else {
            throw PostgresDecodingFailure("'\(text)' is not a timestamp with time zone")
        }
        self = value
    }
}

extension Data: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let value = PostgresBytea.parse(text) else { throw PostgresDecodingFailure("not a hex bytea value") }
        self = value
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public init(postgresText text: String, typeOID: UInt32) throws(PostgresDecodingFailure) {
        guard let items = PostgresArrayText.parse(text) else {
            throw PostgresDecodingFailure("'\(text)' is not a one-dimensional array")
        }
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let item else { throw PostgresDecodingFailure("the array holds NULL") }
            result.append(try Element(postgresText: item, typeOID: 0))
        }
        self = result
    }
}
