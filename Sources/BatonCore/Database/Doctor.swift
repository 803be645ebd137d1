import Foundation
import PostgresClient

/// `batonctl doctor`: the checks an operator runs when a queue misbehaves, each with what it
/// found and what to do about it.
public struct Doctor: Sendable {
    /// How a check came out.
    public enum Outcome: String, Sendable, Codable, Comparable {
        case ok, warning, failure

        private var rank: Int {
            switch self {
            case .ok: 0
            case .warning: 1
            case .failure: 2
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
    }

    /// One check: what it looked at, what it found, and (unless it is fine) what to do.
    public struct Check: Sendable, Codable, Equatable {
        public var name: String
        public var outcome: Outcome
        public var finding: String
        public var advice: String?

        public init(_ name: String, _ outcome: Outcome, _ finding: String, advice: String? = nil) {
            self.name = name
            self.outcome = outcome
            self.finding = finding
            self.advice = advice
        }
    }

    /// Thresholds, so tests and unusual deployments can move them.
    public struct Limits: Sendable {
        /// A transaction open longer than this holds back vacuum and the event feed.
        public var longTransaction: Duration = .seconds(60)
        /// Claimed tasks whose lease ended longer ago than this mean no reaper is running.
        public var reaperGrace: Duration = .seconds(60)
        /// Dead tuples above this share of the task table (and `minimumDeadRows`) is bloat.
        public var deadRowShare = 0.2
        public var minimumDeadRows = 10_000
        /// Connections in use above this share of `max_connections`.
        public var connectionShare = 0.8

        public init() {}
    }

    public let database: BatonDatabase
    public var limits: Limits
    private var diagnostics: DiagnosticsStore { DiagnosticsStore(pool: database.pool) }

    public init(database: BatonDatabase, limits: Limits = Limits()) {
        self.database = database
        self.limits = limits
    }

    /// Runs every check. A failure to connect is a check of its own, not an error.
    public func run() async -> [Check] {
        let started = ContinuousClock.now
        let version: String
        do {
            version = try await diagnostics.serverVersion()
        } catch let error as PostgresError where Self.isPoolerRefusal(error) {
            return [
                Check(
                    "connectivity",
                    .failure,
                    "a pooler stands in between and refuses the session options Baton sends without --database-pooler: \(Self.describe(error))",
                    advice:
                        "If it pools by transaction (PgBouncer's pool_mode = transaction), set --database-pooler transaction (BATON_DATABASE_POOLER) and --direct-database-url to PostgreSQL itself."
                )
            ]
        } catch {
            return [
                Check(
                    "connectivity",
                    .failure,
                    "cannot reach PostgreSQL: \(Self.describe(error))",
                    advice: "Check BATON_DATABASE_URL (or --database-url), that the server runs and accepts this host and user."
                )
            ]
        }
        let elapsed = ContinuousClock.now - started
        var checks = [Check("connectivity", .ok, "PostgreSQL \(version), first query answered in \(Self.milliseconds(elapsed)) ms")]
        var steps = [pooler, schema, connections, longTransactions, idleTransactionTimeout, preparedTransactions, replicationSlots]
        if (try? await database.migrator.status(database.pool).currentVersion) ?? 0 >= 2 {
            steps += [taskTableBloat, expiredLeases]
        }
        for check in steps {
            do {
                checks.append(try await check())
            } catch {
                checks.append(Check("query", .failure, "a check could not run: \(Self.describe(error))"))
            }
        }
        return checks
    }

    private func schema() async throws -> Check {
        let status = try await database.status()
        if !status.changedMigrations.isEmpty {
            return Check(
                "schema",
                .failure,
                "applied migrations differ from this build's: \(status.changedMigrations.joined(separator: ", "))",
                advice: "A migration file was edited after it was applied; restore it from the release that applied it."
            )
        }
        if !status.pendingMigrations.isEmpty {
            return Check(
                "schema",
                .warning,
                "version \(status.schemaVersion) of \(status.latestVersion); pending: \(status.pendingMigrations.joined(separator: ", "))",
                advice: "Run `batonctl migrate` (servers started without --no-migrate apply them at start)."
            )
        }
        if status.schemaVersion > status.latestVersion {
            return Check(
                "schema",
                .warning,
                "version \(status.schemaVersion) is newer than this build knows (\(status.latestVersion))",
                advice: "Upgrade this batonctl to the release the servers run."
            )
        }
        return Check("schema", .ok, "version \(status.schemaVersion), nothing pending")
    }

    private func connections() async throws -> Check {
        let (used, available) = try await diagnostics.connectionUsage()
        let finding = "\(used) of \(available) connections in use"
        guard Double(used) <= limits.connectionShare * Double(available) else {
            return Check(
                "connections",
                .warning,
                finding,
                advice: "Each baton server holds up to BATON_POOL_SIZE connections; lower it, add a pooler, or raise max_connections."
            )
        }
        return Check("connections", .ok, finding)
    }

    private func longTransactions() async throws -> Check {
        let open = try await diagnostics.transactions(openLongerThan: limits.longTransaction.inSeconds)
        guard !open.isEmpty else {
            return Check("long transactions", .ok, "none open longer than \(Int(limits.longTransaction.inSeconds)) s")
        }
        // The feed hands out an event once every transaction with an id older than its own has
        // ended, so only a transaction that has written (holds an id) stalls it; any open
        // transaction holds back vacuum.
        var stallsFeed = false
        let listed = open.map { transaction in
            stallsFeed = stallsFeed || transaction.hasWritten
            return "pid \(transaction.pid) \(transaction.state ?? "?") for \(Int(transaction.seconds)) s (\(transaction.application), "
                + (transaction.hasWritten ? "has written: holds the event feed back)" : "read-only)")
        }
        return Check(
            "long transactions",
            .warning,
            listed.joined(separator: "; "),
            advice: (stallsFeed
                ? "A transaction that has written holds the event feed back (followers see nothing newer until it ends), and every open transaction holds back vacuum (dead task rows pile up, claims slow down)."
                : "They hold back vacuum (dead task rows pile up, claims slow down); read-only, they do not hold the event feed.")
                + " Finish them, or end one with SELECT pg_terminate_backend(pid)."
        )
    }

    /// Whether a pooler stands between Baton and PostgreSQL, and whether `--database-pooler`
    /// says so. A pooler answers the connection's start itself, with a process id of its own
    /// for cancelling, so that id and the server's `pg_backend_pid()` differ only behind one.
    /// PgBouncer does not say which mode it pools in: the advice names both.
    private func pooler() async throws -> Check {
        let session = try await database.pool.withConnection { connection in try await DiagnosticsStore.session(on: connection) }
        let behindPooler = session.reportedPID != session.serverPID
        let setting = database.pool.connectionConfiguration.transactionPooler
        switch (behindPooler, setting) {
        case (false, false):
            return Check("pooler", .ok, "connected to PostgreSQL itself, no pooler in between; --database-pooler none")
        case (false, true):
            return Check(
                "pooler",
                .warning,
                "--database-pooler transaction, but no pooler stands in between: statements run unprepared for nothing",
                advice: "Set --database-pooler none (BATON_DATABASE_POOLER=none) when Baton talks to PostgreSQL directly."
            )
        case (true, false):
            return Check(
                "pooler",
                .warning,
                "a pooler stands in between (the session's process id \(session.reportedPID) is not the server's \(session.serverPID)); --database-pooler none",
                advice:
                    "Fine if it pools by session. If it pools by transaction (PgBouncer's pool_mode = transaction), set --database-pooler transaction and --direct-database-url: prepared statements and LISTEN do not survive it."
            )
        case (true, true):
            guard let direct = database.direct else {
                return Check(
                    "pooler",
                    .warning,
                    "behind a transaction pooler, with --database-pooler transaction, but no --direct-database-url: the server and migrations need it",
                    advice: "Give PostgreSQL's own URL with --direct-database-url (BATON_DIRECT_DATABASE_URL)."
                )
            }
            let directIsPooled: Bool
            do {
                let connection = try await PostgresConnection.connect(configuration: direct)
                let directSession = try await DiagnosticsStore.session(on: connection)
                await connection.close()
                directIsPooled = directSession.reportedPID != directSession.serverPID
            } catch let error as PostgresError where Self.isPoolerRefusal(error) {
                directIsPooled = true
            }
            guard !directIsPooled else {
                return Check(
                    "pooler",
                    .failure,
                    "--direct-database-url goes through a pooler too: LISTEN and migrations need PostgreSQL itself",
                    advice: "Point --direct-database-url (BATON_DIRECT_DATABASE_URL) at PostgreSQL's own host and port."
                )
            }
            guard session.statementTimeout != "0" else {
                return Check(
                    "pooler",
                    .warning,
                    "behind a transaction pooler, with --database-pooler transaction; statements outside a transaction run without a statement_timeout",
                    advice:
                        "Baton sets its timeouts in each transaction it opens; for single statements set them on the role, e.g. ALTER ROLE baton SET statement_timeout = '30s'."
                )
            }
            guard !session.jit else {
                return Check(
                    "pooler",
                    .warning,
                    "behind a transaction pooler, with --database-pooler transaction; the sessions may JIT-compile statements",
                    advice:
                        "Direct sessions start with jit = off; behind a pooler that is the role's: ALTER ROLE baton SET jit = off. A statement over a large table can otherwise be compiled at every execution."
                )
            }
            return Check(
                "pooler",
                .ok,
                "behind a transaction pooler, with --database-pooler transaction; single statements run under the role's statement_timeout of \(session.statementTimeout), without JIT"
            )
        }
    }

    /// PgBouncer's answer to a connection that sends startup `options` it was not told to ignore.
    static func isPoolerRefusal(_ error: PostgresError) -> Bool {
        error.message.contains("unsupported startup parameter")
    }

    /// Whether PostgreSQL ends a session that leaves a transaction open and idle: the usual
    /// long transaction is a forgotten `BEGIN` in a console, and without the timeout it holds
    /// vacuum back (and the event feed, once it has written) until somebody notices. Read as this connection sees it, which
    /// is what Baton's own connections (same URL) get.
    private func idleTransactionTimeout() async throws -> Check {
        let milliseconds = try await diagnostics.idleTransactionTimeoutMilliseconds()
        guard milliseconds > 0 else {
            return Check(
                "idle transaction timeout",
                .warning,
                "idle_in_transaction_session_timeout is off: a session left idle in a transaction holds vacuum back, and the event feed once it has written, until it ends",
                advice:
                    "Set it for the database, e.g. ALTER DATABASE baton SET idle_in_transaction_session_timeout = '5min' (Baton never leaves a transaction idle that long); reports belong on a replica."
            )
        }
        return Check("idle transaction timeout", .ok, "sessions idle in a transaction for \(Self.duration(milliseconds)) are ended")
    }

    /// "300 s", "2 min", "1 h" for a setting in milliseconds.
    static func duration(_ milliseconds: Int) -> String {
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000) h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000) min" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000) s" }
        return "\(milliseconds) ms"
    }

    private func preparedTransactions() async throws -> Check {
        holdersOfVacuum(
            "prepared transactions",
            try await diagnostics.preparedTransactions(olderThan: limits.longTransaction.inSeconds),
            fine: "none forgotten",
            found: "prepared transaction(s) left open",
            advice: "They hold back vacuum like a long transaction; COMMIT PREPARED or ROLLBACK PREPARED each gid."
        )
    }

    private func replicationSlots() async throws -> Check {
        holdersOfVacuum(
            "replication slots",
            try await diagnostics.inactiveSlotsHoldingVacuum(),
            fine: "no inactive slot holds back vacuum",
            found: "inactive slot(s) holding back vacuum",
            advice: "Reconnect the replica that uses it, or drop it with SELECT pg_drop_replication_slot(name)."
        )
    }

    /// A warning naming `names`, or `fine` when there are none.
    private func holdersOfVacuum(_ check: String, _ names: [String], fine: String, found: String, advice: String) -> Check {
        guard !names.isEmpty else { return Check(check, .ok, fine) }
        return Check(check, .warning, "\(names.count) \(found): \(names.joined(separator: ", "))", advice: advice)
    }

    private func taskTableBloat() async throws -> Check {
        let (live, dead, bytes, sinceVacuum) = try await diagnostics.taskTable()
        let megabytes = Double(bytes) / 1_048_576
        let vacuumed = sinceVacuum.map { "last vacuumed \(Int($0)) s ago" } ?? "not vacuumed since statistics were reset"
        let finding = "\(live) live and \(dead) dead rows, \(String(format: "%.1f", megabytes)) MiB with indexes, \(vacuumed)"
        let share = Double(dead) / Double(max(1, live + dead))
        guard dead < limits.minimumDeadRows || share < limits.deadRowShare else {
            return Check(
                "task table bloat",
                .warning,
                finding,
                advice:
                    "Run VACUUM (ANALYZE) tasks; if dead rows come back, look for long transactions and make autovacuum more eager for tasks (autovacuum_vacuum_scale_factor)."
            )
        }
        return Check("task table bloat", .ok, finding)
    }

    private func expiredLeases() async throws -> Check {
        let (count, oldestSeconds) = try await diagnostics.expiredLeases(olderThan: limits.reaperGrace.inSeconds)
        guard count > 0 else { return Check("expired leases", .ok, "every claimed task's lease is current or being reaped") }
        let oldest = Int(oldestSeconds)
        return Check(
            "expired leases",
            .warning,
            "\(count) claimed task(s) whose lease ended over \(Int(limits.reaperGrace.inSeconds)) s ago (oldest \(oldest) s)",
            advice: "No lease reaper is running: every `baton serve` runs one, so start a server (or check its log for database errors)."
        )
    }

    static func milliseconds(_ duration: Duration) -> String { String(format: "%.1f", duration.inSeconds * 1000) }

    static func describe(_ error: any Error) -> String {
        (error as? PostgresError)?.oneLineMessage ?? "\(error)"
    }
}
