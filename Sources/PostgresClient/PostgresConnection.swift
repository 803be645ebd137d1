import CPostgres
import Dispatch
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection, confined to its own serial dispatch queue.
///
/// libpq calls block. Every call on the `PGconn` runs on `queue`, a serial queue that targets
/// Dispatch's overcommitting pool, so a connection waiting on the server never occupies a
/// thread of Swift's cooperative pool; callers suspend on a continuation until it finishes.
/// The `PGconn` pointer is touched only on that queue.
public final class PostgresConnection: @unchecked Sendable {
    /// Parameter values for a statement, in `$1`, `$2`, … order; `nil` is SQL `NULL`.
    public typealias Binds = [(any PostgresEncodable)?]

    private let queue: DispatchQueue
    // Only touched on `queue`.
    private var handle: OpaquePointer?
    private var preparedNames: [String: String] = [:]
    private var closed = false
    /// Cancels the statement in flight from any thread (`PQcancel` is thread-safe).
    private let canceller: StatementCanceller

    /// The server's process id for this session, for `pg_terminate_backend` and notifications.
    public let backendPID: Int32
    let logger: Logger
    /// False behind a pooler that does not carry prepared statements between transactions:
    /// statements marked `prepared` then run unnamed.
    let usePreparedStatements: Bool

    private init(handle: OpaquePointer, queue: DispatchQueue, logger: Logger, usePreparedStatements: Bool) {
        self.handle = handle
        self.queue = queue
        self.canceller = StatementCanceller(key: PQgetCancel(handle))
        self.usePreparedStatements = usePreparedStatements
        self.backendPID = PQbackendPID(handle)
        self.logger = logger
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Opens a connection. Blocking work happens on the new connection's own queue.
    public static func connect(
        configuration: PostgresConfiguration,
        usePreparedStatements: Bool = true,
        logger: Logger = Logger(label: "baton.postgres")
    ) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "baton.postgres.connection")
        let handle = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<OpaquePointer, any Error>) in
            queue.async {
                continuation.resume(with: Result { try configuration.openHandle() })
            }
        }
        return PostgresConnection(handle: handle, queue: queue, logger: logger, usePreparedStatements: usePreparedStatements)
    }

    /// Runs a statement built by interpolation (see ``PostgresQuery``).
    @discardableResult
    public func query(_ query: PostgresQuery, prepared: Bool = false) async throws -> PostgresQueryResult {
        try await self.query(query.sql, query.binds, prepared: prepared)
    }

    /// Runs a parameterised statement. Set `prepared` for hot statements: the statement is
    /// prepared once per connection and executed by name afterwards.
    ///
    /// A statement is cancelled on the server (`PQcancel`) when the calling task is cancelled
    /// or the current ``CancellationSignal`` fires; it then throws `CancellationError` and the
    /// connection is not reused.
    @discardableResult
    public func query(_ sql: String, _ binds: Binds = [], prepared: Bool = false) async throws -> PostgresQueryResult {
        try await onQueue { handle in
            if prepared && self.usePreparedStatements {
                return try self.executePrepared(handle, sql: sql, binds: binds)
            }
            return try Self.withParameters(binds) { count, types, values in
                try self.collect(handle, PQexecParams(handle, sql, count, types, values, nil, nil, 0))
            }
        }
    }

    /// Runs one or more statements without parameters (simple query protocol), as for
    /// migrations and `BEGIN`/`COMMIT`. Returns the last statement's result.
    @discardableResult
    public func simpleQuery(_ sql: String) async throws -> PostgresQueryResult {
        try await onQueue { handle in try self.collect(handle, PQexec(handle, sql)) }
    }

    /// Like ``simpleQuery(_:)``, but not cancellable: ends a transaction whose work was cancelled.
    func uncancellableSimpleQuery(_ sql: String) async throws {
        _ = try await enqueue(ticket: nil) { handle in try self.collect(handle, PQexec(handle, sql)) }
    }

    /// True when libpq has seen the connection break.
    public var isBroken: Bool {
        get async {
            (try? await enqueue(ticket: nil) { handle in PQstatus(handle) != CONNECTION_OK }) ?? true
        }
    }

    /// Whether a connection that sat idle in the pool is still usable. An idle pooled session
    /// (which never LISTENs) receives nothing unprompted, so anything readable on its socket
    /// means the server is closing it: a terminated backend or a shutdown shows up here
    /// without a round trip, and the pool opens a fresh connection instead.
    func checkIdleHealth() async -> Bool {
        (try? await enqueue(ticket: nil) { handle -> Bool in
            guard PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE else { return false }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, 0) == 0
        }) ?? false
    }

    /// Whether the session is idle, outside any transaction.
    func isIdleOutsideTransaction() async -> Bool {
        (try? await enqueue(ticket: nil) { handle in PQtransactionStatus(handle) == PQTRANS_IDLE }) ?? false
    }

    /// Whether the last call left the connection usable and outside a transaction; read
    /// without a trip to the connection's queue.
    var wasLeftReusable: Bool { reusable.withLock { $0 } }

    private let reusable = Mutex(true)

    /// Closes the connection. Further calls fail with ``PostgresError/Code/connectionLost``.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle { PQfinish(handle) }
                self.handle = nil
                self.closed = true
                continuation.resume()
            }
        }
    }

    // MARK: - Confinement

    /// Runs `body` on the connection's queue as a cancellable statement: task cancellation and
    /// the current ``CancellationSignal`` cancel it on the server.
    func onQueue<Result: Sendable>(
        _ body: @escaping @Sendable (OpaquePointer) throws -> Result
    ) async throws -> Result {
        let ticket = canceller.issueTicket()
        let signal = CancellationSignal.current
        var registration: Int?
        if let signal {
            guard let id = signal.register({ [canceller] in canceller.cancel(ticket) }) else {
                canceller.finish(ticket)
                throw CancellationError()
            }
            registration = id
        }
        defer {
            if let registration { signal?.deregister(registration) }
        }
        return try await withTaskCancellationHandler {
            try await enqueue(ticket: ticket, body)
        } onCancel: { [canceller] in
            canceller.cancel(ticket)
        }
    }

    /// Runs `body` on the connection's queue; with a ticket, as the statement that ticket names.
    private func enqueue<Result: Sendable>(
        ticket: Int?,
        _ body: @escaping @Sendable (OpaquePointer) throws -> Result
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            queue.async {
                guard let handle = self.handle else {
                    if let ticket { self.canceller.finish(ticket) }
                    continuation.resume(throwing: PostgresError(code: .connectionLost, message: "the connection is closed"))
                    return
                }
                var result: Swift.Result<Result, any Error>
                var spoiled = false
                if let ticket {
                    if self.canceller.start(ticket) {
                        result = Swift.Result { try body(handle) }
                        spoiled = self.canceller.finish(ticket)
                        // A statement we cancelled ends in an error that is ours, not the server's.
                        if spoiled, case .failure = result { result = .failure(CancellationError()) }
                    } else {
                        result = .failure(CancellationError())
                    }
                } else {
                    result = Swift.Result { try body(handle) }
                }
                // Remember how the session was left, so the pool can decide whether to reuse
                // the connection without another trip to this queue. After a cancel request the
                // session is not reused: the request may still reach a later statement.
                if spoiled { self.spoiled.withLock { $0 = true } }
                let reusable =
                    PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
                    && !self.spoiled.withLock { $0 }
                self.reusable.withLock { $0 = reusable }
                continuation.resume(with: result)
            }
        }
    }

    private let spoiled = Mutex(false)

    /// Whether a cancel request was sent on this session; such a connection is closed, not reused.
    var wasCancelled: Bool { spoiled.withLock { $0 } }

    // MARK: - On the queue only

    private func executePrepared(_ handle: OpaquePointer, sql: String, binds: Binds) throws -> PostgresQueryResult {
        let name: String
        if let existing = preparedNames[sql] {
            name = existing
        } else {
            name = "baton_\(preparedNames.count + 1)"
            let types = binds.map { $0.map { type(of: $0).postgresTypeOID } ?? 0 }
            _ = try collect(handle, PQprepare(handle, name, sql, Int32(types.count), types))
            preparedNames[sql] = name
        }
        do {
            return try Self.withParameters(binds) { count, _, values in
                try self.collect(handle, PQexecPrepared(handle, name, count, values, nil, nil, 0))
            }
        } catch let error as PostgresError where error.sqlState == "26000" {
            // A pooler or `DISCARD ALL` dropped our statements: forget them and prepare again.
            preparedNames.removeAll()
            return try executePrepared(handle, sql: sql, binds: binds)
        }
    }

    /// Lays out parameters as libpq wants them: C strings that live for the call only.
    private static func withParameters<Result>(
        _ binds: Binds,
        _ body: (Int32, [UInt32], [UnsafePointer<CChar>?]) throws -> Result
    ) throws -> Result {
        let types = binds.map { $0.map { type(of: $0).postgresTypeOID } ?? 0 }
        let texts = binds.map { $0?.postgresText }
        // libpq takes C strings: a NUL would silently cut the value short.
        if texts.contains(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(code: .invalidParameter, message: "a text parameter contains a NUL character")
        }
        let strings: [UnsafeMutablePointer<CChar>?] = texts.map { text in text.map { strdup($0) } }
        defer { for item in strings { free(item) } }
        return try body(Int32(binds.count), types, strings.map { $0.map { UnsafePointer($0) } })
    }

    /// Turns a `PGresult` into rows or an error, and frees it.
    private func collect(_ handle: OpaquePointer, _ result: OpaquePointer?) throws -> PostgresQueryResult {
        guard let result else {
            throw Self.connectionError(handle)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return Self.rows(of: result)
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresQueryResult(rows: [], affectedRows: Self.affectedRows(of: result))
        default:
            throw Self.error(from: result, handle: handle)
        }
    }

    private static func rows(of result: OpaquePointer) -> PostgresQueryResult {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var names: [String] = []
        var types: [UInt32] = []
        names.reserveCapacity(columnCount)
        for column in 0..<Int32(columnCount) {
            names.append(String(cString: PQfname(result, column)))
            types.append(PQftype(result, column))
        }
        let columns = PostgresColumns(names: names, typeOIDs: types)
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return PostgresQueryResult(rows: rows, affectedRows: affectedRows(of: result, fallback: rowCount))
    }

    private static func affectedRows(of result: OpaquePointer, fallback: Int = 0) -> Int {
        guard let tuples = PQcmdTuples(result) else { return fallback }
        return Int(String(cString: tuples)) ?? fallback
    }

    static func error(from result: OpaquePointer, handle: OpaquePointer) -> PostgresError {
        // libpq's PG_DIAG_* codes are character constants, which Swift does not import.
        func field(_ code: Unicode.Scalar) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.value)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let message = field("M") ?? String(cString: PQresultErrorMessage(result))
        let connectionDead = PQstatus(handle) != CONNECTION_OK
        return PostgresError(
            code: connectionDead && sqlState == nil ? .connectionLost : .server,
            message: message.trimmingTrailingNewlines(),
            sqlState: sqlState ?? (connectionDead ? "08006" : nil),
            detail: field("D"),
            hint: field("H"),
            constraint: field("n"),
            table: field("t"),
            column: field("c")
        )
    }

    static func connectionError(_ handle: OpaquePointer) -> PostgresError {
        let message = String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines()
        return PostgresError(
            code: .connectionLost,
            message: message.isEmpty ? "the connection to the server was lost" : message,
            sqlState: "08006"
        )
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while let last = text.last, last.isNewline || last == " " { text.removeLast() }
        return text
    }
}
