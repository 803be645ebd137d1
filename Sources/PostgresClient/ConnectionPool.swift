public import Logging
public import ServiceLifecycle

/// A bounded pool of ``PostgresConnection``s.
///
/// Connections open lazily, up to `size`. A caller that finds none free waits up to
/// `acquireTimeout` and then gets ``PostgresError/Code/poolTimeout`` (the API answers 503).
/// A connection that broke is discarded when it comes back; one the server closed while it sat
/// idle is noticed before it is handed out. When the server cannot be reached, new connection
/// attempts back off exponentially and callers in between fail fast with the last error.
///
/// As a `Service` it closes itself on graceful shutdown; list it first in a service group so
/// that everything using it has stopped by then.
public actor ConnectionPool: Service {
    public struct Configuration: Sendable {
        /// Most connections open at once.
        public var size: Int
        /// How long a caller waits for a free connection.
        public var acquireTimeout: Duration
        /// The longest pause between failed connection attempts.
        public var maximumBackoff: Duration
        /// Prepare statements marked `prepared` once per connection. Turn off behind a
        /// transaction-mode pooler that does not track prepared statements.
        public var usePreparedStatements: Bool
        /// The longest a statement may run (`statement_timeout`); `nil` for no limit.
        public var statementTimeout: Duration?
        /// The longest a statement may wait for a lock (`lock_timeout`); `nil` for no limit.
        public var lockTimeout: Duration?

        public init(
            size: Int = 10,
            acquireTimeout: Duration = .seconds(5),
            maximumBackoff: Duration = .seconds(2),
            usePreparedStatements: Bool = true,
            statementTimeout: Duration? = nil,
            lockTimeout: Duration? = nil
        ) {
            self.size = max(1, size)
            self.acquireTimeout = acquireTimeout
            self.maximumBackoff = maximumBackoff
            self.usePreparedStatements = usePreparedStatements
            self.statementTimeout = statementTimeout
            self.lockTimeout = lockTimeout
        }

        /// The session settings these limits need.
        var sessionSettings: [(name: String, value: String)] {
            func milliseconds(_ duration: Duration) -> String {
                let (seconds, attoseconds) = duration.components
                return "\(max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000))ms"
            }
            var settings: [(name: String, value: String)] = []
            if let statementTimeout { settings.append(("statement_timeout", milliseconds(statementTimeout))) }
            if let lockTimeout { settings.append(("lock_timeout", milliseconds(lockTimeout))) }
            return settings
        }
    }

    /// A snapshot of the pool for metrics and `/readyz`.
    public struct Statistics: Sendable, Equatable {
        public var open: Int
        public var idle: Int
        public var inUse: Int
        public var waiters: Int
        public var size: Int
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<PostgresConnection, any Error>
    }

    public nonisolated let configuration: Configuration
    public nonisolated let connectionConfiguration: PostgresConfiguration
    private let logger: Logger

    private var idle: [(connection: PostgresConnection, since: ContinuousClock.Instant)] = []
    /// A connection idle at least this long is checked before it is handed out; in a busy
    /// pool connections cycle faster than this, so the check costs nothing on the hot path.
    static let healthCheckAfterIdle: Duration = .seconds(1)
    /// Connections open or being opened, idle or in use.
    private var openCount = 0
    private var inUseCount = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0
    private var isClosed = false
    private var backoff: Duration = .zero
    private var nextConnectAttempt: ContinuousClock.Instant = .now
    private var lastConnectError: PostgresError?

    public init(
        _ connectionConfiguration: PostgresConfiguration,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "baton.postgres.pool")
    ) {
        var connectionConfiguration = connectionConfiguration
        connectionConfiguration.sessionSettings += configuration.sessionSettings
        self.connectionConfiguration = connectionConfiguration
        self.configuration = configuration
        self.logger = logger
    }

    /// Waits for graceful shutdown, then closes the pool.
    public nonisolated func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Runs `body` with a connection and returns the connection to the pool afterwards.
    public nonisolated func withConnection<Result>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs one statement built by interpolation on any free connection, outside an explicit transaction.
    @discardableResult
    public nonisolated func query(_ query: PostgresQuery, prepared: Bool = false) async throws -> PostgresQueryResult {
        try await withConnection { connection in
            try await connection.query(query, prepared: prepared)
        }
    }

    /// Runs one statement on `connection` when there is one (inside the caller's transaction),
    /// otherwise on any free connection.
    @discardableResult
    public nonisolated func query(_ query: PostgresQuery, on connection: PostgresConnection?) async throws -> PostgresQueryResult {
        if let connection { return try await connection.query(query) }
        return try await self.query(query)
    }

    /// Runs one statement on `connection` when there is one, otherwise on any free connection.
    @discardableResult
    public nonisolated func query(
        _ sql: String,
        _ binds: PostgresConnection.Binds,
        on connection: PostgresConnection?
    ) async throws -> PostgresQueryResult {
        if let connection { return try await connection.query(sql, binds) }
        return try await self.query(sql, binds)
    }

    /// Runs one statement on any free connection, outside an explicit transaction.
    @discardableResult
    public nonisolated func query(
        _ sql: String,
        _ binds: PostgresConnection.Binds,
        prepared: Bool = false
    ) async throws -> PostgresQueryResult {
        try await withConnection { connection in
            try await connection.query(sql, binds, prepared: prepared)
        }
    }

    public func statistics() -> Statistics {
        Statistics(
            open: openCount,
            idle: idle.count,
            inUse: inUseCount,
            waiters: waiters.count,
            size: configuration.size
        )
    }

    /// Stops handing out connections, fails every waiter, closes idle connections and waits
    /// (up to `timeout`) for borrowed ones to come back, closing each as it returns.
    public func close(timeout: Duration = .seconds(10)) async {
        if !isClosed {
            isClosed = true
            let pending = waiters
            waiters.removeAll()
            for waiter in pending {
                waiter.continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the pool is closed"))
            }
            let toClose = idle.map(\.connection)
            idle.removeAll()
            openCount -= toClose.count
            for connection in toClose { await connection.close() }
        }
        guard inUseCount > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUntilReturned() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private var returnWaiters: [Int: CheckedContinuation<Void, Never>] = [:]

    /// Returns when no connection is borrowed any more, or the task is cancelled.
    private func waitUntilReturned() async {
        nextWaiterID += 1
        let id = nextWaiterID
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if inUseCount == 0 || Task.isCancelled {
                    continuation.resume()
                } else {
                    returnWaiters[id] = continuation
                }
            }
        } onCancel: {
            Task { await self.stopWaitingForReturns(id) }
        }
    }

    private func stopWaitingForReturns(_ id: Int) {
        returnWaiters.removeValue(forKey: id)?.resume()
    }

    // MARK: - Acquire and release

    func acquire() async throws -> PostgresConnection {
        guard !isClosed else { throw PostgresError(code: .poolClosed, message: "the pool is closed") }
        while let (connection, since) = idle.popLast() {
            inUseCount += 1
            if ContinuousClock.now - since < Self.healthCheckAfterIdle { return connection }
            if await connection.checkIdleHealth() { return connection }
            inUseCount -= 1
            openCount -= 1
            logger.debug("discarding a pooled connection the server closed", metadata: ["pid": "\(connection.backendPID)"])
            await connection.close()
        }
        if openCount < configuration.size {
            openCount += 1
            inUseCount += 1
            do {
                return try await openConnection()
            } catch {
                openCount -= 1
                inUseCount -= 1
                throw error
            }
        }
        return try await waitForConnection()
    }

    private func waitForConnection() async throws -> PostgresConnection {
        nextWaiterID += 1
        let id = nextWaiterID
        let timeout = configuration.acquireTimeout
        let timer = Task { [weak self] in
            try await Task.sleep(for: timeout)
            await self?.expireWaiter(id)
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append(Waiter(id: id, continuation: continuation))
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func expireWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.continuation.resume(
            throwing: PostgresError(
                code: .poolTimeout,
                message: "no database connection became free within \(configuration.acquireTimeout)"
            )
        )
    }

    private func cancelWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    func release(_ connection: PostgresConnection) async {
        var reusable = connection.wasLeftReusable
        if !reusable, !connection.wasCancelled, !(await connection.isBroken) {
            // A body that threw inside a transaction left it open; end it rather than lose the connection.
            try? await connection.uncancellableSimpleQuery("ROLLBACK")
            reusable = await connection.isIdleOutsideTransaction()
        }
        inUseCount -= 1
        guard reusable, !isClosed else {
            openCount -= 1
            await connection.close()
            replenishForWaiters()
            if isClosed, inUseCount == 0 {
                for (_, waiter) in returnWaiters { waiter.resume() }
                returnWaiters.removeAll()
            }
            return
        }
        if !waiters.isEmpty {
            inUseCount += 1
            waiters.removeFirst().continuation.resume(returning: connection)
        } else {
            idle.append((connection, .now))
        }
    }

    /// A discarded connection leaves room: open a new one for the first waiter.
    private func replenishForWaiters() {
        guard !isClosed, !waiters.isEmpty, openCount < configuration.size else { return }
        openCount += 1
        inUseCount += 1
        let waiter = waiters.removeFirst()
        Task {
            do {
                waiter.continuation.resume(returning: try await self.openConnection())
            } catch {
                self.connectFailed()
                waiter.continuation.resume(throwing: error)
            }
        }
    }

    private func connectFailed() {
        openCount -= 1
        inUseCount -= 1
    }

    private func openConnection() async throws -> PostgresConnection {
        if let lastConnectError, ContinuousClock.now < nextConnectAttempt {
            throw lastConnectError
        }
        do {
            let connection = try await PostgresConnection.connect(
                configuration: connectionConfiguration,
                usePreparedStatements: configuration.usePreparedStatements,
                logger: logger
            )
            if lastConnectError != nil {
                logger.info("database connection restored")
            }
            backoff = .zero
            lastConnectError = nil
            return connection
        } catch let error as PostgresError {
            backoff = min(max(backoff * 2, .milliseconds(100)), configuration.maximumBackoff)
            nextConnectAttempt = .now + backoff
            if lastConnectError == nil {
                logger.warning("cannot connect to the database", metadata: ["error": "\(error)"])
            }
            lastConnectError = error
            throw error
        }
    }
}
