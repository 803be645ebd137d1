import Foundation

/// The columns of a result: names and type OIDs, shared by all its rows.
public final class PostgresColumns: Sendable {
    public let names: [String]
    public let typeOIDs: [UInt32]
    private let indexByName: [String: Int]

    init(names: [String], typeOIDs: [UInt32]) {
        self.names = names
        self.typeOIDs = typeOIDs
        var indexByName: [String: Int] = [:]
        for (index, name) in names.enumerated() where indexByName[name] == nil {
            indexByName[name] = index
        }
        self.indexByName = indexByName
    }

    func index(of name: String) -> Int? { indexByName[name] }
}

/// One row of a result, with typed access by column name or index.
///
/// A `NULL` decodes into an optional as `nil`; into a non-optional it is a
/// ``PostgresError/Code/decoding`` error naming the column.
public struct PostgresRow: Sendable {
    public let columns: PostgresColumns
    /// The raw text of each column, `nil` for SQL `NULL`.
    public let values: [String?]

    init(columns: PostgresColumns, values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// Decodes a non-NULL column by name.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, _ column: String) throws -> Value {
        try decode(type, at: try index(of: column))
    }

    /// Decodes a non-NULL column by index.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, at index: Int) throws -> Value {
        guard let value = try decode(Value?.self, at: index) else {
            throw PostgresError(
                code: .decoding,
                message: "column '\(columns.names[index])' is NULL but \(Value.self) is not optional"
            )
        }
        return value
    }

    /// Decodes a column by name; `NULL` becomes `nil`.
    public func decode<Value: PostgresDecodable>(_ type: Value?.Type, _ column: String) throws -> Value? {
        try decode(type, at: try index(of: column))
    }

    /// Decodes a column by index; `NULL` becomes `nil`.
    public func decode<Value: PostgresDecodable>(_ type: Value?.Type, at index: Int) throws -> Value? {
        guard values.indices.contains(index) else {
            throw PostgresError(code: .decoding, message: "no column at index \(index) (row has \(values.count))")
        }
        guard let text = values[index] else { return nil }
        do {
            return try Value(postgresText: text, typeOID: columns.typeOIDs[index])
        } catch {
            throw PostgresError(
                code: .decoding,
                message: "column '\(columns.names[index])' cannot be decoded as \(Value.self): \(error.reason)"
            )
        }
    }

    /// Decodes a `json`/`jsonb` column by name into a `Decodable` value.
    public func decodeJSON<Value: Decodable>(_ type: Value.Type = Value.self, _ column: String) throws -> Value {
        let index = try index(of: column)
        guard let value = try decodeJSON(Value?.self, at: index) else {
            throw PostgresError(
                code: .decoding,
                message: "column '\(column)' is NULL but \(Value.self) is not optional"
            )
        }
        return value
    }

    /// Decodes a `json`/`jsonb` column by name; `NULL` becomes `nil`.
    public func decodeJSON<Value: Decodable>(_ type: Value?.Type, _ column: String) throws -> Value? {
        try decodeJSON(type, at: try index(of: column))
    }

    /// Decodes a `json`/`jsonb` column by index; `NULL` becomes `nil`.
    public func decodeJSON<Value: Decodable>(_ type: Value?.Type, at index: Int) throws -> Value? {
        guard values.indices.contains(index) else {
            throw PostgresError(code: .decoding, message: "no column at index \(index) (row has \(values.count))")
        }
        guard let text = values[index] else { return nil }
        do {
            return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw PostgresError(
                code: .decoding,
                message: "column '\(columns.names[index])' cannot be decoded as \(Value.self) from JSON"
            )
        }
    }

    /// The raw text of a column by name, `nil` for `NULL`.
    public subscript(column: String) -> String? {
        guard let index = columns.index(of: column) else { return nil }
        return values[index]
    }

    private func index(of column: String) throws -> Int {
        guard let index = columns.index(of: column) else {
            throw PostgresError(code: .decoding, message: "the result has no column '\(column)'")
        }
        return index
    }
}

/// The outcome of one statement: its rows and, for writes, how many rows it touched.
public struct PostgresQueryResult: Sendable {
    public let rows: [PostgresRow]
    /// The count from the command tag (`UPDATE 3` → 3); 0 when the statement reports none.
    public let affectedRows: Int

    public init(rows: [PostgresRow], affectedRows: Int) {
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The first row, if any.
    public var first: PostgresRow? { rows.first }
}

extension PostgresQueryResult: Sequence {
    public func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }
}
