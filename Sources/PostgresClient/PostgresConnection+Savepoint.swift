extension PostgresConnection {
    /// Runs `body` inside a savepoint of the current transaction: when it throws, its statements
    /// are rolled back and the transaction goes on (the error is rethrown).
    public func withSavepoint<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await simpleQuery("SAVEPOINT baton_savepoint")
        do {
            let result = try await body(self)
            try await simpleQuery("RELEASE SAVEPOINT baton_savepoint")
            return result
        } catch {
            try await simpleQuery("ROLLBACK TO SAVEPOINT baton_savepoint")
            throw error
        }
    }
}
