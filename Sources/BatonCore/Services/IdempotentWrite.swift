import Foundation
import PostgresClient

/// Runs a creating write at most once per `Idempotency-Key`: the key is claimed in the same
/// transaction as the effect, and a repeat with the same request gets the first result again
/// (a repeat with another request is 409). Without a key the write simply runs, in one
/// transaction, or, when it is one statement, as that statement alone (saving the BEGIN and
/// COMMIT round trips).
struct IdempotentWrite: Sendable {
    let pool: ConnectionPool

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func run<Output: Codable & Sendable>(
        key: String?,
        by principal: Principal,
        operation: String,
        request: some Encodable,
        singleStatement: Bool = false,
        _ body: (PostgresConnection) async throws -> Output
    ) async throws -> Output {
        guard let key else {
            return try await pool.withConnection { connection in
                guard singleStatement else { return try await connection.transaction(body) }
                return try await body(connection)
            }
        }
        let store = IdempotencyStore()
        let owner = String(principal.tokenID)
        let fingerprint = IdempotencyStore.fingerprint(operation, String(decoding: try Self.encoder.encode(request), as: UTF8.self))
        return try await pool.transaction { tx in
            if let recorded = try await store.claim(key: key, principal: owner, fingerprint: fingerprint, on: tx) {
                do {
                    return try JSONDecoder().decode(Output.self, from: Data(recorded.bodyJSON.utf8))
                } catch {
                    throw BatonError(
                        .conflict,
                        "the Idempotency-Key was used by an earlier version of Baton; use a new key",
                        details: ["field": "Idempotency-Key"]
                    )
                }
            }
            let output = try await body(tx)
            try await store.record(key: key, principal: owner, bodyJSON: String(decoding: try Self.encoder.encode(output), as: UTF8.self), on: tx)
            return output
        }
    }

    /// Claims `key` for a write whose result must never be shown twice (a token's secret): a
    /// repeat is refused instead of replayed.
    func refuseRepeat(key: String, by principal: Principal, operation: String, request: some Encodable, on tx: PostgresConnection) async throws {
        let store = IdempotencyStore()
        let owner = String(principal.tokenID)
        let fingerprint = IdempotencyStore.fingerprint(operation, String(decoding: try Self.encoder.encode(request), as: UTF8.self))
        if try await store.claim(key: key, principal: owner, fingerprint: fingerprint, on: tx) != nil {
            throw BatonError(.conflict, "this Idempotency-Key already created a token; its secret is not shown again")
        }
        try await store.record(key: key, principal: owner, bodyJSON: "{}", on: tx)
    }
}
