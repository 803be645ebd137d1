/// Transaction isolation levels.
public enum IsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PostgresConnection {
    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    public func transaction<Result>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await simpleQuery(
            (isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)") + transactionSettings
        )
        let result: Result
        do {
            result = try await body(self)
        } catch {
            // Not cancellable: a cancelled body still ends its transaction.
            try? await uncancellableSimpleQuery("ROLLBACK")
            throw error
        }
        try await simpleQuery("COMMIT")
        return result
    }
}

extension ConnectionPool {
    /// Runs `body` in a transaction on a pooled connection: commits when it returns, rolls
    /// back when it throws.
    public nonisolated func transaction<Result>(
        isolation: IsolationLevel = .readCommitted,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.transaction(isolation: isolation, body)
        }
    }

    /// Like ``transaction(isolation:_:)``, but runs the whole transaction again when it fails
    /// with a serialization failure or deadlock, up to `maxAttempts` times in all.
    public nonisolated func retryingTransaction<Result>(
        isolation: IsolationLevel = .readCommitted,
        maxAttempts: Int = 5,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await transaction(isolation: isolation, body)
            } catch let error as PostgresError where error.isRetryable && attempt < maxAttempts {
                attempt += 1
                // A little jittered pause lets the transaction we collided with finish first.
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            }
        }
    }
}
