import Foundation
import PostgresClient

/// The demo seeder's own statement: whether the database is empty, decided once however many
/// servers start with `--demo` together.
struct DemoStore: Sendable {
    /// Takes the seeding lock for the caller's transaction; true when there are no regions yet.
    func claimEmptyDatabase(on tx: PostgresConnection) async throws -> Bool {
        try await tx.query("SELECT pg_advisory_xact_lock(7362520)")
        return try await tx.query("SELECT 1 FROM regions LIMIT 1").rows.isEmpty
    }

    /// Dates a demo order back to `placed`: confirmed a day later, shipped three, delivered six
    /// (each only if it got there), so that reports over past months have data.
    func backdate(order id: Int, to placed: Date, on pool: ConnectionPool) async throws {
        try await pool.query(
            """
            UPDATE orders SET created_at = \(placed), updated_at = \(placed) + interval '6 days',
                confirmed_at = CASE WHEN confirmed_at IS NOT NULL THEN \(placed) + interval '1 day' END,
                shipped_at = CASE WHEN shipped_at IS NOT NULL THEN \(placed) + interval '3 days' END,
                delivered_at = CASE WHEN delivered_at IS NOT NULL THEN \(placed) + interval '6 days' END,
                cancelled_at = CASE WHEN cancelled_at IS NOT NULL THEN \(placed) + interval '2 days' END
            WHERE id = \(id)
            """
        )
    }
}
