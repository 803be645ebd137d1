public import Logging
import Metrics
public import PostgresClient
public import ServiceLifecycle
import Synchronization

/// A streaming-replication standby that serves reads which may be a little stale (reports,
/// team stats, timelines). It serves while it answered its last check and its replay lag was
/// within `maximumLag`; otherwise, and when a read on it fails for want of a connection, reads
/// go to the primary. Writes, and reads that must see their own writes, never come here.
public final class Standby: Sendable {
    /// What the last check found.
    public struct Health: Sendable, Equatable {
        /// Seconds the standby's replay is behind, `nil` when it did not answer.
        public var lagSeconds: Double?
        /// Whether reads go to it now.
        public var serving: Bool
    }

    public let pool: ConnectionPool
    public let maximumLag: Duration
    private let state = Mutex(Health(lagSeconds: nil, serving: false))

    public init(pool: ConnectionPool, maximumLag: Duration) {
        self.pool = pool
        self.maximumLag = maximumLag
    }

    public var health: Health { state.withLock { $0 } }

    /// Measures the replay lag. Caught up when everything received is replayed (an idle
    /// primary sends nothing new, so the last replayed transaction's age would only grow),
    /// otherwise the age of the last transaction replayed. A server that is not in recovery
    /// (the URL names a primary) has no lag.
    public func check() async {
        do {
            let lag = try await pool.query(
                """
                SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8 AS lag
                """
            ).first?.decode(Double.self, "lag")
            let lagSeconds = max(0, lag ?? 0)
            state.withLock { $0 = Health(lagSeconds: lagSeconds, serving: lagSeconds <= maximumLag.inSeconds) }
        } catch {
            unreachable()
        }
    }

    /// Stops reads going here until the next check finds the standby again.
    func unreachable() {
        state.withLock { $0 = Health(lagSeconds: nil, serving: false) }
    }
}

extension BatonDatabase {
    /// Runs a read that may be a little stale on the standby while it serves, else on the
    /// primary. A read the standby cannot answer for want of a connection (it stopped since the
    /// last check) runs again on the primary, so the caller never sees the standby fail.
    public func staleRead<Result>(_ body: (ConnectionPool) async throws -> Result) async throws -> Result {
        guard let standby, standby.health.serving else { return try await body(pool) }
        do {
            let result = try await body(standby.pool)
            Counter(label: "baton_standby_reads_total", dimensions: [("served_by", "standby")]).increment()
            return result
        } catch let error as PostgresError where error.isUnavailable || error.sqlState == "40001" || error.sqlState?.hasPrefix("57P") == true {
            // Unreachable, shut down, or a read cancelled by a conflict with recovery.
            standby.unreachable()
            Counter(label: "baton_standby_reads_total", dimensions: [("served_by", "primary_after_failure")]).increment()
            return try await body(pool)
        }
    }
}

/// Checks the standby's lag every `interval` and publishes it (`baton_standby_lag_seconds`,
/// `baton_standby_serving`).
public struct StandbyMonitor: Service {
    let standby: Standby
    let interval: Duration
    let logger: Logger

    public init(standby: Standby, interval: Duration = .seconds(1), logger: Logger) {
        self.standby = standby
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var wasServing: Bool?
        while !Task.isCancelledOrShuttingDown {
            await standby.check()
            let health = standby.health
            Gauge(label: "baton_standby_lag_seconds").record(health.lagSeconds ?? -1)
            Gauge(label: "baton_standby_serving").record(health.serving ? 1 : 0)
            if wasServing != health.serving {
                logger.notice(
                    health.serving ? "reads go to the standby" : "reads go to the primary: the standby is unreachable or behind",
                    metadata: ["lag_seconds": "\(health.lagSeconds.map { String($0) } ?? "unknown")"]
                )
                wasServing = health.serving
            }
            try? await Task.sleep(for: interval)
        }
    }
}
