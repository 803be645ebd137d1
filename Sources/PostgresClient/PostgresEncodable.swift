public import Foundation

/// A Swift value that can be sent as a statement parameter (`$1`, `$2`, …).
///
/// Parameters travel in PostgreSQL's text format, with the type OID when the Swift type
/// determines it so the server does not have to guess.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text representation.
    var postgresText: String { get }
    /// The parameter's type OID, or 0 to let the server infer it from context.
    static var postgresTypeOID: UInt32 { get }
}

extension PostgresEncodable {
    public static var postgresTypeOID: UInt32 { 0 }
}

/// Well-known type OIDs.
public enum PostgresTypeOID {
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let json: UInt32 = 114
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let textArray: UInt32 = 1009
    public static let int8Array: UInt32 = 1016
    public static let varchar: UInt32 = 1043
    public static let date: UInt32 = 1082
    public static let timestamp: UInt32 = 1114
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
}

extension String: PostgresEncodable {
    public var postgresText: String { self }
}

extension Substring: PostgresEncodable {
    public var postgresText: String { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String { String(self) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int8 }
}

extension Int64: PostgresEncodable {
    public var postgresText: String { String(self) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int8 }
}

extension Int32: PostgresEncodable {
    public var postgresText: String { String(self) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int4 }
}

extension Int16: PostgresEncodable {
    public var postgresText: String { String(self) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.int2 }
}

extension Bool: PostgresEncodable {
    public var postgresText: String { self ? "t" : "f" }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.bool }
}

extension Double: PostgresEncodable {
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return "\(self)"
    }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.float8 }
}

extension Decimal: PostgresEncodable {
    public var postgresText: String { "\(self)" }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.numeric }
}

extension UUID: PostgresEncodable {
    public var postgresText: String { uuidString.lowercased() }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.uuid }
}

extension Date: PostgresEncodable {
    public var postgresText: String { PostgresTimestamp.format(self) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.timestamptz }
}

extension Data: PostgresEncodable {
    public var postgresText: String { PostgresBytea.hexText(self) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.bytea }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
    public var postgresText: String { PostgresArrayText.format(map(\.postgresText)) }
    public static var postgresTypeOID: UInt32 { Element.postgresArrayTypeOID }
}

/// An element type whose arrays can be sent as parameters.
public protocol PostgresArrayElement: PostgresEncodable {
    static var postgresArrayTypeOID: UInt32 { get }
}

extension Int: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.int8Array }
}

extension Int64: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.int8Array }
}

extension String: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { PostgresTypeOID.textArray }
}

extension UUID: PostgresArrayElement {
    public static var postgresArrayTypeOID: UInt32 { 2951 }
}

/// A value sent as `jsonb`, encoded with `JSONEncoder`.
public struct PostgresJSON<Value: Encodable & Sendable>: PostgresEncodable {
    public var value: Value

    public init(_ value: Value) { self.value = value }

    public var postgresText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a value that is already in memory only fails for non-finite doubles;
        // JSON null is the honest fallback for those.
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    public static var postgresTypeOID: UInt32 { PostgresTypeOID.jsonb }
}

/// Raw JSON text sent as `jsonb`, for values that already are JSON.
public struct PostgresJSONText: PostgresEncodable {
    public var text: String

    public init(_ text: String) { self.text = text }

    public var postgresText: String { text }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.jsonb }
}

/// A `text[]` parameter whose elements may be `NULL`; cast it in SQL to the element type
/// needed (`$1::timestamptz[]`), as for `unnest` over a batch of rows.
public struct PostgresTextArray: PostgresEncodable {
    public var elements: [String?]

    public init(_ elements: [String?]) { self.elements = elements }

    public var postgresText: String { PostgresArrayText.format(elements) }
    public static var postgresTypeOID: UInt32 { PostgresTypeOID.textArray }
}
