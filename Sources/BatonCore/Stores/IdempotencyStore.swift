import Crypto
public import Foundation
public import PostgresClient

/// `Idempotency-Key` records. The key is claimed by inserting it in the same transaction as
/// the effect: a concurrent request with the same key blocks on that insert until the first
/// commits, then finds the stored response, so fifty simultaneous duplicates make one effect.
public struct IdempotencyStore: Sendable {
    /// A result recorded for a key: the JSON of the domain value the first request returned.
    public struct Recorded: Sendable {
        public var bodyJSON: String
    }

    /// How long keys are kept.
    public static let retention: Duration = .seconds(24 * 3600)

    public init() {}

    /// The SHA-256 of what identifies a request: the operation and its canonical body.
    public static func fingerprint(_ parts: String...) -> Data {
        Data(SHA256.hash(data: Data(parts.joined(separator: "\u{1F}").utf8)))
    }

    /// Claims `key` for `principal` inside the caller's transaction. Returns `nil` when the
    /// key is new (the caller performs the effect and then ``record``s its response), or the
    /// response recorded the first time. A key reused with a different request is a conflict.
    public func claim(key: String, principal: String, fingerprint: Data, on tx: PostgresConnection) async throws -> Recorded? {
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
            throw BatonError.invalidArgument("Idempotency-Key must be 1 to 255 visible ASCII characters", field: "Idempotency-Key")
        }
        let inserted = try await tx.query(
            """
            INSERT INTO idempotency_keys (principal, key, request_hash) VALUES ($1, $2, $3)
            ON CONFLICT (principal, key) DO NOTHING
            """,
            [principal, key, fingerprint]
        )
        if inserted.affectedRows == 1 { return nil }
        guard
            let row = try await tx.query(
                """
                SELECT request_hash, status, response::text AS response, created_at > now() - interval '24 hours' AS fresh
                FROM idempotency_keys WHERE principal = $1 AND key = $2
                """,
                [principal, key]
            ).first
        else {
            throw BatonError(.conflict, "the Idempotency-Key is being used by another request; retry")
        }
        guard try row.decode(Data.self, "request_hash") == fingerprint else {
            throw BatonError(.conflict, "the Idempotency-Key was already used with a different request", details: ["field": "Idempotency-Key"])
        }
        guard try row.decode(Int?.self, "status") != nil, let body = try row.decode(String?.self, "response") else {
            throw BatonError(.conflict, "the Idempotency-Key's first request has not finished; retry")
        }
        return Recorded(bodyJSON: body)
    }

    /// Stores the result for a key claimed in this transaction. (`status` only marks the record
    /// as finished; the status a client sees follows from the result.)
    public func record(key: String, principal: String, bodyJSON: String, on tx: PostgresConnection) async throws {
        try await tx.query(
            "UPDATE idempotency_keys SET status = 0, response = $3::jsonb WHERE principal = $1 AND key = $2",
            [principal, key, PostgresJSONText(bodyJSON)]
        )
    }

    /// Deletes keys older than the retention period.
    @discardableResult
    public func purgeExpired(pool: ConnectionPool) async throws -> Int {
        try await pool.query("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'").affectedRows
    }
}
