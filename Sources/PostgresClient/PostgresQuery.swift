/// A statement with its parameters, written as one string literal: every interpolated value
/// becomes the next `$n` placeholder, so placeholders and values cannot disagree however the
/// statement is composed.
///
/// ```swift
/// let query: PostgresQuery = "SELECT id FROM tasks WHERE team = \(team) AND \(scope.condition)"
/// ```
///
/// Interpolating another `PostgresQuery` splices it in with its placeholders renumbered;
/// `\(unescaped:)` splices trusted SQL text (column lists, fixed fragments), never a value.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL between the placeholders: `segments[0] $1 segments[1] $2 …`.
    private var segments: [String]
    /// The parameter values, in `$1`, `$2`, … order.
    public private(set) var binds: PostgresConnection.Binds
    /// The statement text, placeholders numbered.
    public let sql: String

    public init(stringLiteral value: String) {
        self.init(segments: [value], binds: [])
    }

    public init(stringInterpolation: Interpolation) {
        self.init(segments: stringInterpolation.segments, binds: stringInterpolation.binds)
    }

    private init(segments: [String], binds: PostgresConnection.Binds) {
        self.segments = segments
        self.binds = binds
        var sql = segments[0]
        for index in 1..<segments.count {
            sql += "$\(index)"
            sql += segments[index]
        }
        self.sql = sql
    }

    /// The SQL text with placeholders; values are never part of it.
    public var description: String { sql }

    /// The parts one after another, `separator` between them.
    public static func joined(_ parts: [PostgresQuery], separator: String) -> PostgresQuery {
        var interpolation = Interpolation(literalCapacity: 0, interpolationCount: 0)
        for (index, part) in parts.enumerated() {
            if index > 0 { interpolation.appendLiteral(separator) }
            interpolation.appendInterpolation(part)
        }
        return PostgresQuery(stringInterpolation: interpolation)
    }

    public struct Interpolation: StringInterpolationProtocol {
        var segments: [String] = [""]
        var binds: PostgresConnection.Binds = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(interpolationCount + 1)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            segments[segments.count - 1] += literal
        }

        /// A value: the next placeholder. `nil` is SQL `NULL`.
        public mutating func appendInterpolation(_ value: (any PostgresEncodable)?) {
            binds.append(value)
            segments.append("")
        }

        /// Another query's text and values, its placeholders numbered after ours.
        public mutating func appendInterpolation(_ fragment: PostgresQuery) {
            segments[segments.count - 1] += fragment.segments[0]
            for index in 0..<fragment.binds.count {
                binds.append(fragment.binds[index])
                segments.append(fragment.segments[index + 1])
            }
        }

        /// Trusted SQL text written in the code (a column list, an alias), never a value.
        public mutating func appendInterpolation(unescaped text: String) {
            segments[segments.count - 1] += text
        }
    }
}
