import PostgresClient

/// The token use cases (admin only): list, create (the secret is shown once), revoke.
public struct TokenService: Sendable {
    let database: BatonDatabase

    public init(database: BatonDatabase) { self.database = database }

    public func list(by principal: Principal) async throws -> [TokenInfo] {
        try principal.authorize(.listTokens)
        return try await database.tokens.list()
    }

    /// Creates a token and returns it with its secret. The secret is shown once: a repeated
    /// `Idempotency-Key` is refused instead of replayed.
    public func create(_ token: NewToken, idempotencyKey: String? = nil, by principal: Principal) async throws -> (TokenInfo, secret: String) {
        try principal.authorize(.createToken)
        try token.validate()
        let tokens = database.tokens
        let write = IdempotentWrite(pool: database.pool)
        return try await database.pool.transaction { tx in
            if let idempotencyKey {
                try await write.refuseRepeat(key: idempotencyKey, by: principal, operation: "createToken", request: token, on: tx)
            }
            return try await tokens.create(token, createdBy: principal.actorID, on: tx)
        }
    }

    /// Revokes a token: refused everywhere within two seconds (at once in this server).
    public func revoke(id: Int, by principal: Principal) async throws -> TokenInfo {
        try principal.authorize(.revokeToken)
        guard let info = try await database.tokens.revoke(id: id) else { throw BatonError.notFound("no token \(id)") }
        return info
    }
}
