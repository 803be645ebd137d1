public import PostgresClient

/// What `batonctl doctor` reads from PostgreSQL's own views: the SQL behind each check.
public struct DiagnosticsStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// The server's version string.
    public func serverVersion() async throws -> String {
        try await pool.query("SELECT current_setting('server_version') AS v").first?.decode(String.self, "v") ?? "?"
    }

    /// The process id the session was given when it started (what a pooler hands out for
    /// cancelling) beside the id of the server process that runs its statements, the
    /// `statement_timeout` a statement outside a transaction runs under, and whether it may be
    /// JIT-compiled. The ids differ only when a pooler stands in between.
    public static func session(
        on connection: PostgresConnection
    ) async throws -> (reportedPID: Int, serverPID: Int, statementTimeout: String, jit: Bool) {
        let row = try await connection.query(
            "SELECT pg_backend_pid() AS pid, current_setting('statement_timeout') AS timeout, current_setting('jit') = 'on' AS jit"
        ).first
        return (
            Int(connection.backendPID), try row?.decode(Int.self, "pid") ?? 0, try row?.decode(String.self, "timeout") ?? "0",
            try row?.decode(Bool.self, "jit") ?? false
        )
    }

    /// How many regions and teams there are.
    public func referenceDataCounts() async throws -> (regions: Int, teams: Int) {
        let row = try await pool.query("SELECT (SELECT count(*) FROM regions) AS regions, (SELECT count(*) FROM teams) AS teams").first
        return (try row?.decode(Int.self, "regions") ?? 0, try row?.decode(Int.self, "teams") ?? 0)
    }

    /// Client connections in use, and how many the server allows ordinary users.
    public func connectionUsage() async throws -> (used: Int, available: Int) {
        let row = try await pool.query(
            """
            SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
                   current_setting('max_connections')::int AS maximum,
                   current_setting('superuser_reserved_connections')::int AS reserved
            """
        ).first
        let available = max(1, (try row?.decode(Int.self, "maximum") ?? 1) - (try row?.decode(Int.self, "reserved") ?? 0))
        return (try row?.decode(Int.self, "used") ?? 0, available)
    }

    /// A transaction open for a long time.
    public struct OpenTransaction: Sendable {
        public var pid: Int
        public var state: String?
        public var application: String
        public var seconds: Double
        /// It holds a transaction id: it has written, so it holds the event feed back.
        public var hasWritten: Bool
    }

    /// Transactions in this database (other than this session's) open longer than `seconds`,
    /// oldest first. Another database's transactions hold back neither its vacuum nor its feed.
    public func transactions(openLongerThan seconds: Double, limit: Int = 10) async throws -> [OpenTransaction] {
        try await pool.query(
            """
            SELECT pid, state, coalesce(nullif(application_name, ''), '-') AS application,
                   extract(epoch FROM now() - xact_start)::float8 AS seconds, backend_xid IS NOT NULL AS writing
            FROM pg_stat_activity
            WHERE datname = current_database() AND xact_start < now() - make_interval(secs => $1)
              AND pid <> pg_backend_pid()
            ORDER BY xact_start
            LIMIT $2
            """,
            [seconds, limit]
        ).map { row in
            OpenTransaction(
                pid: try row.decode(Int.self, "pid"),
                state: try row.decode(String?.self, "state"),
                application: try row.decode(String.self, "application"),
                seconds: try row.decode(Double.self, "seconds"),
                hasWritten: try row.decode(Bool.self, "writing")
            )
        }
    }

    /// `idle_in_transaction_session_timeout` as this session sees it, in milliseconds (0: off).
    public func idleTransactionTimeoutMilliseconds() async throws -> Int {
        try await pool.query("SELECT setting::bigint AS ms FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout'")
            .first?.decode(Int.self, "ms") ?? 0
    }

    /// Prepared transactions older than `seconds`, by gid.
    public func preparedTransactions(olderThan seconds: Double) async throws -> [String] {
        try await pool.query(
            "SELECT gid FROM pg_prepared_xacts WHERE prepared < now() - make_interval(secs => $1) ORDER BY prepared LIMIT 10",
            [seconds]
        ).map { try $0.decode(String.self, "gid") }
    }

    /// Inactive replication slots that hold back vacuum, by name.
    public func inactiveSlotsHoldingVacuum() async throws -> [String] {
        try await pool.query(
            "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND (xmin IS NOT NULL OR catalog_xmin IS NOT NULL) LIMIT 10"
        ).map { try $0.decode(String.self, "slot_name") }
    }

    /// The task table's live and dead rows, size with indexes, and seconds since its last vacuum.
    public func taskTable() async throws -> (live: Int, dead: Int, bytes: Int, secondsSinceVacuum: Double?) {
        let row = try await pool.query(
            """
            SELECT n_live_tup AS live, n_dead_tup AS dead,
                   pg_total_relation_size('tasks') AS bytes,
                   extract(epoch FROM now() - greatest(last_vacuum, last_autovacuum))::float8 AS since_vacuum
            FROM pg_stat_user_tables WHERE relid = 'tasks'::regclass
            """
        ).first
        return (
            try row?.decode(Int.self, "live") ?? 0, try row?.decode(Int.self, "dead") ?? 0, try row?.decode(Int.self, "bytes") ?? 0,
            try row?.decode(Double?.self, "since_vacuum")
        )
    }

    /// Claimed tasks whose lease ended more than `seconds` ago, and the age of the oldest end.
    public func expiredLeases(olderThan seconds: Double) async throws -> (count: Int, oldestSeconds: Double) {
        let row = try await pool.query(
            """
            SELECT count(*) AS n, extract(epoch FROM now() - min(lease_expires_at))::float8 AS oldest
            FROM tasks WHERE state = 'claimed' AND lease_expires_at < now() - make_interval(secs => $1)
            """,
            [seconds]
        ).first
        return (try row?.decode(Int.self, "n") ?? 0, try row?.decode(Double?.self, "oldest") ?? 0)
    }
}
