/// A domain error with a stable code. BatonHTTP maps each kind to a status; the message is
/// written for the API's caller and never contains SQL or secrets.
public struct BatonError: Error, Sendable, CustomStringConvertible {
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidArgument = "invalid_argument"
            case notFound = "not_found"
            case conflict
            case preconditionFailed = "precondition_failed"
            case gone
            case ruleViolation = "rule_violation"
            case unauthenticated
            case forbidden
            case unavailable
            case internalError = "internal"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The request is malformed (400).
        public static let invalidArgument = Kind(.invalidArgument)
        /// The record does not exist or is outside the caller's scope (404).
        public static let notFound = Kind(.notFound)
        /// The record's state does not allow this (409).
        public static let conflict = Kind(.conflict)
        /// The record changed since the caller read it: its If-Match names an old version (412).
        public static let preconditionFailed = Kind(.preconditionFailed)
        /// What the request asks for existed once and was pruned past retention (410).
        public static let gone = Kind(.gone)
        /// Valid input that breaks a business rule (422).
        public static let ruleViolation = Kind(.ruleViolation)
        /// No or an invalid credential (401).
        public static let unauthenticated = Kind(.unauthenticated)
        /// The credential does not allow this (403).
        public static let forbidden = Kind(.forbidden)
        /// The database cannot be reached right now (503).
        public static let unavailable = Kind(.unavailable)
        /// Something unexpected; details are logged, not returned (500).
        public static let internalError = Kind(.internalError)

        /// The stable code sent to clients, such as `not_found`.
        public var code: String { base.rawValue }
        public var description: String { base.rawValue }
    }

    public var kind: Kind
    public var message: String
    /// Extra machine-readable facts for the client (the field that failed, the current state).
    public var details: [String: String]

    public init(_ kind: Kind, _ message: String, details: [String: String] = [:]) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public var description: String { "\(kind): \(message)" }

    public static func invalidArgument(_ message: String, field: String? = nil) -> BatonError {
        BatonError(.invalidArgument, message, details: field.map { ["field": $0] } ?? [:])
    }

    public static func notFound(_ message: String) -> BatonError {
        BatonError(.notFound, message)
    }

    /// 410: the feed was asked to continue after a cursor whose following events were pruned.
    public static func pruned(cursor: Int, field: String, oldestCursor: Int, oldestEvent: Int?) -> BatonError {
        var details = ["field": field, "oldest_cursor": String(oldestCursor)]
        if let oldestEvent { details["oldest_event_id"] = String(oldestEvent) }
        return BatonError(
            .gone,
            "events after \(cursor) are past retention and were pruned; the feed now starts after \(oldestCursor) "
                + "(use \(oldestCursor) or 0 to continue with the oldest event kept, and expect a gap)",
            details: details
        )
    }

    /// 412: an edit under `If-Match` named a version the record has moved on from.
    public static func stale(version: Int) -> BatonError {
        BatonError(
            .preconditionFailed,
            "the record changed since you read it: it is at version \(version)",
            details: ["version": String(version)]
        )
    }
}
