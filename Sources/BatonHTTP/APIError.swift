import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIRuntime
import PostgresClient

/// An error on its way to the client: status, stable code, message and details, rendered as
/// `{"error": {"code", "message", "details"}}`. Every error a request can end in passes through
/// ``APIError/init(_:)``, which never lets SQL, stack traces or secrets out.
struct APIError: Error, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var details: [String: String]
    var headers: HTTPFields = [:]

    init(status: HTTPResponse.Status, code: String, message: String, details: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    /// Maps any error thrown while serving a request.
    init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as BatonError:
            self.init(status: Self.status(for: error.kind), code: error.kind.code, message: error.message, details: error.details)
        case let error as PostgresError:
            self.init(postgres: error)
        case let error as ServerError:
            self.init(server: error)
        case let error as HTTPError:
            self.init(status: error.status, code: Self.code(for: error.status), message: error.body ?? Self.message(for: error.status))
        case let error as any HTTPResponseError:
            self.init(status: error.status, code: Self.code(for: error.status), message: Self.message(for: error.status))
        case is CancellationError:
            self.init(status: .serviceUnavailable, code: "unavailable", message: "the request was cancelled")
        default:
            self.init(status: .internalServerError, code: "internal", message: "an internal error occurred")
        }
    }

    private init(postgres error: PostgresError) {
        if error.isUnavailable {
            self.init(status: .serviceUnavailable, code: "unavailable", message: "the database is unavailable; try again shortly")
            headers[.retryAfter] = "1"
        } else if error.isRetryable {
            self.init(status: .serviceUnavailable, code: "unavailable", message: "the database was busy; try again")
            headers[.retryAfter] = "1"
        } else if error.code == .invalidParameter || error.sqlState == "22P05" || error.sqlState == "22021" {
            // Text PostgreSQL cannot store: a NUL character (U+0000), raw or as \u0000 in JSON.
            self.init(status: .badRequest, code: "invalid_argument", message: "text must not contain NUL characters (U+0000)")
        } else if error.sqlState == "57014" {
            // Our own cancellations end as CancellationError; this is statement_timeout.
            self.init(status: .serviceUnavailable, code: "timeout", message: "the database work took longer than the statement timeout allows")
            headers[.retryAfter] = "1"
        } else if error.sqlState == "55P03" {
            self.init(status: .serviceUnavailable, code: "timeout", message: "the database work waited longer than the lock timeout allows")
            headers[.retryAfter] = "1"
        } else {
            self.init(status: .internalServerError, code: "internal", message: "an internal error occurred")
        }
    }

    private init(server error: ServerError) {
        if error.underlyingError is APIError || error.underlyingError is BatonError || error.underlyingError is PostgresError
            || error.underlyingError is CancellationError
        {
            self.init(error.underlyingError)
            return
        }
        let status = error.httpStatus
        if status.kind == .clientError {
            // The runtime's own parsing errors: name what was wrong, not how the server works.
            self.init(status: status, code: Self.code(for: status), message: Self.describe(parsing: error))
        } else {
            self.init(status: .internalServerError, code: "internal", message: "an internal error occurred")
        }
    }

    private static func describe(parsing error: ServerError) -> String {
        var underlying: any Error = error.underlyingError
        // RuntimeError.failedToParseRequest wraps the decoder's error; reach for it.
        if let wrapped = Mirror(reflecting: underlying).children.first?.value as? any Error {
            underlying = wrapped
        }
        if let decoding = underlying as? DecodingError {
            let hasJSONBody = error.request.headerFields[.contentType]?.contains("json") ?? false
            guard hasJSONBody else {
                return "a path or query parameter has an invalid value (\(context(of: decoding).debugDescription))"
            }
            return "the request body is not valid: \(describe(decoding))"
        }
        let text = String(describing: error.underlyingError)
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            return keys.isEmpty ? "the body" : "'" + keys.joined(separator: ".") + "'"
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "malformed JSON" }
            return "\(path(context)) has an invalid value"
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "'\(key.stringValue)' is required\(parent)"
        case .typeMismatch(let type, let context):
            return "\(path(context)) must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) must be \(typeName(type)), not null"
        @unknown default:
            return "malformed request"
        }
    }

    private static func context(of error: DecodingError) -> DecodingError.Context {
        switch error {
        case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context),
            .valueNotFound(_, let context):
            return context
        @unknown default:
            return DecodingError.Context(codingPath: [], debugDescription: "malformed")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "String": return "a string"
        case "Int", "Int64", "Int32", "Double": return "a number"
        case "Bool": return "true or false"
        default: return name.contains("Array") ? "an array" : "an object"
        }
    }

    static func status(for kind: BatonError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidArgument: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .preconditionFailed: .preconditionFailed
        case .gone: .gone
        case .ruleViolation: .unprocessableContent
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthenticated"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 406: "not_acceptable"
        case 409: "conflict"
        case 410: "gone"
        case 412: "precondition_failed"
        case 413: "payload_too_large"
        case 415: "unsupported_media_type"
        case 422: "rule_violation"
        case 429: "too_many_requests"
        case 503: "unavailable"
        default: status.kind == .clientError ? "bad_request" : "internal"
        }
    }

    static func message(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "no such resource"
        case 413: "the request body is too large"
        default: status.reasonPhrase.lowercased()
        }
    }

    /// The response in the standard envelope.
    func response() -> Response {
        struct Envelope: Encodable {
            struct Body: Encodable {
                var code: String
                var message: String
                var details: [String: String]?
            }
            var error: Body
        }
        let envelope = Envelope(error: .init(code: code, message: message, details: details.isEmpty ? nil : details))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(envelope)) ?? Data(#"{"error":{"code":"internal","message":"error"}}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
