import Foundation

/// An error from the PostgreSQL client: a server error with its SQLSTATE, a lost or refused
/// connection, a pool that could not hand out a connection in time, or a value that could not
/// be decoded.
///
/// `description` names the kind and the server's message; it never contains the SQL text or
/// the connection string, so it is safe to log.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// The stable kind of a ``PostgresError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration
            case connectionFailed
            case authenticationFailed
            case connectionLost
            case server
            case poolTimeout
            case poolClosed
            case decoding
            case unexpectedResult
            case migration
            case embedded
            case invalidParameter
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The connection string or URL could not be parsed.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The server could not be reached or refused the connection.
        public static let connectionFailed = Code(.connectionFailed)
        /// The server rejected the credentials.
        public static let authenticationFailed = Code(.authenticationFailed)
        /// An established connection broke (server restart, terminated backend, network).
        public static let connectionLost = Code(.connectionLost)
        /// The server answered a statement with an error; see ``PostgresError/sqlState``.
        public static let server = Code(.server)
        /// No pooled connection became free within the acquire timeout.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool has been closed.
        public static let poolClosed = Code(.poolClosed)
        /// A column could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// The server answered with something the client did not expect.
        public static let unexpectedResult = Code(.unexpectedResult)
        /// A migration could not be applied or does not match what was applied before.
        public static let migration = Code(.migration)
        /// The embedded PostgreSQL cluster could not be prepared, started or stopped.
        public static let embedded = Code(.embedded)
        /// A parameter cannot be sent as text, such as one holding a NUL character.
        public static let invalidParameter = Code(.invalidParameter)

        public var description: String { base.rawValue }
    }

    /// The kind of error.
    public var code: Code
    /// The primary human-readable message.
    public var message: String
    /// The five-character SQLSTATE for server errors, such as `23505`.
    public var sqlState: String?
    /// The server's detail line, when it sent one.
    public var detail: String?
    /// The server's hint, when it sent one.
    public var hint: String?
    /// The constraint that was violated, for integrity errors.
    public var constraint: String?
    /// The table involved, when the server names one.
    public var table: String?
    /// The column involved, when the server names one.
    public var column: String?

    public init(
        code: Code,
        message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        constraint: String? = nil,
        table: String? = nil,
        column: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    /// The message on one line (libpq's connection errors span several), for CLI output and
    /// report rows.
    public var oneLineMessage: String {
        message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    public var description: String {
        if let sqlState {
            return "PostgresError(\(code), \(sqlState)): \(message)"
        }
        return "PostgresError(\(code)): \(message)"
    }

    /// A `unique_violation` (23505).
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// A `foreign_key_violation` (23503).
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// A `check_violation` (23514).
    public var isCheckViolation: Bool { sqlState == "23514" }
    /// A `serialization_failure` (40001).
    public var isSerializationFailure: Bool { sqlState == "40001" }
    /// A `deadlock_detected` (40P01).
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// A transaction that may succeed when run again: serialization failure or deadlock.
    public var isRetryable: Bool { isSerializationFailure || isDeadlock }
    /// The database cannot be used right now: the connection broke or could not be made, the
    /// server is shutting down or not accepting connections, or the pool is exhausted.
    public var isUnavailable: Bool {
        switch code {
        case .connectionFailed, .connectionLost, .poolTimeout, .poolClosed, .authenticationFailed:
            return true
        default:
            // Class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown,
            // cannot connect now), 53300 (too many connections).
            guard let sqlState else { return false }
            return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(sqlState)
        }
    }
    /// The connection this error happened on is no longer usable.
    public var isConnectionLoss: Bool {
        code == .connectionLost || code == .connectionFailed || (sqlState?.hasPrefix("08") ?? false)
            || sqlState == "57P01" || sqlState == "57P02"
    }
}
