import CPostgres
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where and how to connect: a `postgres://` URL or a libpq keyword string
/// (`host=… dbname=…`). Anything left out falls back to libpq's `PG*` environment variables
/// and defaults, exactly as `psql` does.
public struct PostgresConfiguration: Sendable, CustomStringConvertible {
    /// The URL or keyword string as given. Never logged: it may hold a password.
    public let connectionString: String
    /// Seconds libpq waits for a connection before giving up.
    public var connectTimeoutSeconds: Int
    /// Reported in `pg_stat_activity.application_name`.
    public var applicationName: String
    /// Server settings for every session (`-c name=value` at connection start), such as
    /// `statement_timeout`. Names and values are written by the code, never by a user.
    public var sessionSettings: [(name: String, value: String)] = []
    /// The connection goes through a pooler that hands a server session to a client for one
    /// transaction at a time (PgBouncer's `pool_mode = transaction`). Nothing may then rest on
    /// session state: no startup `options` (PgBouncer refuses them), no named prepared
    /// statements, and ``sessionSettings`` are set with `SET LOCAL` in every transaction.
    public var transactionPooler = false

    /// Parses and validates the connection string; a malformed one is an
    /// ``PostgresError/Code/invalidConfiguration`` error with libpq's reason.
    public init(_ connectionString: String, connectTimeoutSeconds: Int = 5, applicationName: String = "baton") throws {
        var message: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(connectionString, &message) {
            PQconninfoFree(options)
        } else {
            let reason = message.map { String(cString: $0).trimmingTrailingNewlines() } ?? "unparseable"
            if let message { PQfreemem(message) }
            throw PostgresError(code: .invalidConfiguration, message: "invalid database URL: \(reason)")
        }
        self.connectionString = connectionString
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.applicationName = applicationName
    }

    /// A keyword string from parts; values are quoted as libpq requires.
    public static func keywords(_ pairs: [(String, String)]) -> String {
        pairs.map { key, value in
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }

    /// The connection target without credentials, for logs and errors.
    public var description: String {
        var options: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(connectionString, &options) else { return "postgres" }
        defer { PQconninfoFree(parsed) }
        var host = ""
        var port = ""
        var dbname = ""
        var user = ""
        var cursor = parsed
        while let keyword = cursor.pointee.keyword {
            let value = cursor.pointee.val.map { String(cString: $0) } ?? ""
            switch String(cString: keyword) {
            case "host": host = value
            case "port": port = value
            case "dbname": dbname = value
            case "user": user = value
            default: break
            }
            cursor += 1
        }
        return "postgres(host: \(host.isEmpty ? "default" : host), port: \(port.isEmpty ? "default" : port), "
            + "database: \(dbname.isEmpty ? "default" : dbname), user: \(user.isEmpty ? "default" : user))"
    }

    /// Opens a blocking libpq connection. Runs on the connection's own queue.
    func openHandle() throws -> OpaquePointer {
        // Our settings come first so that anything in the caller's string overrides them
        // (`expand_dbname` applies the string where `dbname` appears).
        var pairs: [(String, String)] = [
            ("connect_timeout", String(connectTimeoutSeconds)),
            ("application_name", applicationName),
            ("client_encoding", "UTF8"),
        ]
        if !transactionPooler {
            // Generic plans for prepared statements: Baton's hot statements are index lookups
            // whose plan does not depend on the values, and re-planning them per call (the
            // default for the first executions and often after) costs more than running them.
            // No JIT: a generic plan estimates a parameter's LIMIT at a tenth of the table, so
            // on a large table a statement that reads a handful of rows is costed past
            // jit_above_cost and compiled at every execution (the webhook dispatcher's step took
            // 450 ms of compiling at 10,000,000 events, holding the event feed back meanwhile).
            pairs.append(
                (
                    "options",
                    "-c DateStyle=ISO,YMD -c IntervalStyle=postgres -c extra_float_digits=3 -c plan_cache_mode=force_generic_plan"
                        + " -c jit=off" + sessionSettings.map { " -c \($0.name)=\($0.value)" }.joined()
                )
            )
        }
        pairs.append(("dbname", connectionString))
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            for item in keywords { free(item) }
            for item in values { free(item) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines()
            PQfinish(handle)
            throw Self.classifyConnectFailure(message)
        }
        // Server notices (such as "relation already exists, skipping") are not errors;
        // libpq would print them to stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        if transactionPooler, let problem = Self.unreadableFormats(handle) {
            PQfinish(handle)
            throw PostgresError(code: .invalidConfiguration, message: problem)
        }
        return handle
    }

    /// Behind a transaction pooler the session takes the server's (or the role's) date and
    /// interval styles, which the text decoders must be able to read: ISO dates and
    /// `postgres` intervals. The server reports both when the session starts.
    private static func unreadableFormats(_ handle: OpaquePointer) -> String? {
        let dateStyle = PQparameterStatus(handle, "DateStyle").map { String(cString: $0) } ?? ""
        let intervalStyle = PQparameterStatus(handle, "IntervalStyle").map { String(cString: $0) } ?? "postgres"
        guard dateStyle.uppercased().hasPrefix("ISO") else {
            return "the server's DateStyle is '\(dateStyle)'; behind a transaction pooler Baton needs ISO dates "
                + "(ALTER ROLE <baton's role> SET DateStyle = 'ISO, YMD')"
        }
        guard intervalStyle == "postgres" else {
            return "the server's IntervalStyle is '\(intervalStyle)'; behind a transaction pooler Baton needs 'postgres' "
                + "(ALTER ROLE <baton's role> SET IntervalStyle = 'postgres')"
        }
        return nil
    }

    /// What follows `BEGIN`: behind a transaction pooler, the session settings for this
    /// transaction only, sent in the same round trip; otherwise nothing.
    var transactionSettings: String {
        guard transactionPooler else { return "" }
        return sessionSettings.map { "; SET LOCAL \($0.name) = '\($0.value)'" }.joined()
    }

    static func classifyConnectFailure(_ message: String) -> PostgresError {
        let lowered = message.lowercased()
        if lowered.contains("password authentication failed") || lowered.contains("authentication failed")
            || lowered.contains("no password supplied") || lowered.contains("no pg_hba.conf entry")
            || (lowered.contains("role") && lowered.contains("does not exist"))
        {
            return PostgresError(code: .authenticationFailed, message: message, sqlState: "28P01")
        }
        if lowered.contains("does not exist") && lowered.contains("database") {
            return PostgresError(code: .connectionFailed, message: message, sqlState: "3D000")
        }
        if lowered.contains("the database system is starting up") || lowered.contains("shutting down") {
            return PostgresError(code: .connectionFailed, message: message, sqlState: "57P03")
        }
        return PostgresError(code: .connectionFailed, message: message, sqlState: "08001")
    }
}
