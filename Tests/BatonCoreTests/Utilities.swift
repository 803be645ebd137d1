import BatonTestSupport
import PostgresClient
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test when a test cluster is configured (always under CI).
    static var requiresDatabase: Self {
        .enabled(if: TestDatabase.isEnabled, "needs BATON_TEST_DATABASE_URL (run scripts/test.sh)")
    }
}

/// History for plan tests: `count` tasks of `team` finished a day ago, each its own chain, so
/// the planner's estimates are not those of an empty table.
func insertFinishedTasks(_ pool: ConnectionPool, team: String, count: Int) async throws {
    try await pool.query(
        """
        INSERT INTO tasks (id, chain_id, team, region, kind, title, state, attempts, max_attempts, created_by,
                           claimed_at, finished_at)
        SELECT n.id, n.id, $1, 'emea', 'k', 'done ' || n.g, 'done', 1, 5, 'system',
               now() - interval '1 day', now() - interval '1 day'
        FROM (SELECT g, nextval('tasks_id_seq') AS id FROM generate_series(1, $2::int) AS g) AS n
        """,
        [team, count]
    )
}

/// How many sequential scans of `table` the server has counted, this session's included: a
/// plan test's proof that a read went through an index whatever the timing.
func sequentialScans(of table: String, _ pool: ConnectionPool) async throws -> Int {
    try await pool.query("SELECT pg_stat_force_next_flush()")
    try await pool.query("SELECT pg_stat_clear_snapshot()")
    return try #require(
        try await pool.query("SELECT seq_scan FROM pg_stat_user_tables WHERE relname = $1", [table]).first?.decode(Int.self, "seq_scan")
    )
}

/// How many rows of `table` the server has counted as read, by sequential scans and through
/// its indexes, this session's included.
func rowsRead(of table: String, _ pool: ConnectionPool) async throws -> Int {
    try await pool.query("SELECT pg_stat_force_next_flush()")
    try await pool.query("SELECT pg_stat_clear_snapshot()")
    return try #require(
        try await pool.query(
            """
            SELECT (SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE relname = $1)
                   + (SELECT coalesce(sum(idx_tup_read), 0) FROM pg_stat_user_indexes WHERE relname = $1)::int8 AS n
            """,
            [table]
        ).first?.decode(Int.self, "n")
    )
}
