import PostgresClient

/// The demo seeder's own statement: whether the database is empty, decided once however many
/// servers start with `--demo` together.
struct DemoStore: Sendable {
    /// Takes the seeding lock for the caller's transaction; true when there are no regions yet.
    func claimEmptyDatabase(on tx: PostgresConnection) async throws -> Bool {
        try await tx.query("SELECT pg_advisory_xact_lock(7362520)")
        return try await tx.query("SELECT 1 FROM regions LIMIT 1").rows.isEmpty
    }
}
