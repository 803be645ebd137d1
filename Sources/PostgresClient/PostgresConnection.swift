import CPostgres
import Dispatch
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection, used by one task at a time (the pool's borrower).
///
/// The connection is in libpq's non-blocking mode: the calling task sends a statement without
/// blocking and suspends, and the process's ``SocketWatcher`` thread resumes it when the answer
/// is readable; the task then reads the result, which is already in libpq's buffer. A
/// statement therefore never occupies a thread of Swift's cooperative pool while it runs, and
/// costs one thread hop (the watcher resuming the task) rather than two. Only connecting, which
/// blocks in libpq, runs on a dispatch queue.
public final class PostgresConnection: @unchecked Sendable {
    /// Parameter values for a statement, in `$1`, `$2`, … order; `nil` is SQL `NULL`.
    public typealias Binds = [(any PostgresEncodable)?]

    // Touched only by the task that holds the connection (the watcher thread never calls libpq).
    private var handle: OpaquePointer?
    private var preparedNames: [String: String] = [:]
    private let socket: Int32
    /// Cancels the statement in flight from any thread (`PQcancel` is thread-safe).
    private let canceller: StatementCanceller

    /// The server's process id for this session, for `pg_terminate_backend` and notifications.
    public let backendPID: Int32
    let logger: Logger
    /// False behind a pooler that does not carry prepared statements between transactions:
    /// statements marked `prepared` then run unnamed.
    let usePreparedStatements: Bool
    /// Sent after `BEGIN` (see ``PostgresConfiguration/transactionSettings``).
    let transactionSettings: String

    private init(handle: OpaquePointer, configuration: PostgresConfiguration, logger: Logger, usePreparedStatements: Bool) {
        self.handle = handle
        self.usePreparedStatements = usePreparedStatements && !configuration.transactionPooler
        self.transactionSettings = configuration.transactionSettings
        self.backendPID = PQbackendPID(handle)
        self.socket = PQsocket(handle)
        self.canceller = StatementCanceller(key: PQgetCancel(handle))
        self.logger = logger
        PQsetnonblocking(handle, 1)
        SocketWatcher.shared.add(socket)
    }

    deinit {
        if let handle {
            SocketWatcher.shared.remove(socket)
            PQfinish(handle)
        }
    }

    /// Connecting blocks in libpq, so it runs here rather than on the cooperative pool.
    private static let connectQueue = DispatchQueue(label: "baton.postgres.connect", attributes: .concurrent)

    /// Opens a connection. The blocking connect runs on a dispatch queue.
    public static func connect(
        configuration: PostgresConfiguration,
        usePreparedStatements: Bool = true,
        logger: Logger = Logger(label: "baton.postgres")
    ) async throws -> PostgresConnection {
        let handle = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<OpaquePointer, any Error>) in
            connectQueue.async {
                continuation.resume(with: Result { try configuration.openHandle() })
            }
        }
        return PostgresConnection(handle: handle, configuration: configuration, logger: logger, usePreparedStatements: usePreparedStatements)
    }

    /// Runs a statement built by interpolation (see ``PostgresQuery``).
    @discardableResult
    public func query(_ query: PostgresQuery, prepared: Bool = false) async throws -> PostgresQueryResult {
        try await self.query(query.sql, query.binds, prepared: prepared)
    }

    /// Runs a parameterised statement. Set `prepared` for hot statements: the statement is
    /// prepared once per connection and executed by name afterwards.
    ///
    /// `binds` has no default on purpose: a string literal with interpolations and no binds
    /// must become a ``PostgresQuery`` (each value a parameter), never SQL text.
    ///
    /// A statement is cancelled on the server (`PQcancel`) when the calling task is cancelled
    /// or the current ``CancellationSignal`` fires; it then throws `CancellationError` and the
    /// connection is not reused.
    @discardableResult
    public func query(_ sql: String, _ binds: Binds, prepared: Bool = false) async throws -> PostgresQueryResult {
        try await cancellable {
            if prepared && self.usePreparedStatements {
                return try await self.executePrepared(sql: sql, binds: binds)
            }
            return try await self.execute { handle in
                try Self.withParameters(binds) { count, types, values in PQsendQueryParams(handle, sql, count, types, values, nil, nil, 0) }
            }
        }
    }

    /// Runs one or more statements without parameters (simple query protocol), as for
    /// migrations and `BEGIN`/`COMMIT`. Returns the last statement's result.
    @discardableResult
    public func simpleQuery(_ sql: String) async throws -> PostgresQueryResult {
        try await cancellable { try await self.execute { handle in PQsendQuery(handle, sql) } }
    }

    /// Like ``simpleQuery(_:)``, but not cancellable: ends a transaction whose work was cancelled.
    func uncancellableSimpleQuery(_ sql: String) async throws {
        _ = try await execute { handle in PQsendQuery(handle, sql) }
    }

    /// True when libpq has seen the connection break.
    public var isBroken: Bool {
        get async {
            guard let handle else { return true }
            return PQstatus(handle) != CONNECTION_OK
        }
    }

    /// Whether a connection that sat idle in the pool is still usable. An idle pooled session
    /// (which never LISTENs) receives nothing unprompted, so anything readable on its socket
    /// means the server is closing it: a terminated backend or a shutdown shows up here
    /// without a round trip, and the pool opens a fresh connection instead.
    func checkIdleHealth() async -> Bool {
        guard let handle, PQstatus(handle) == CONNECTION_OK, PQtransactionStatus(handle) == PQTRANS_IDLE else { return false }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) == 0
    }

    /// Whether the session is idle, outside any transaction.
    func isIdleOutsideTransaction() async -> Bool {
        guard let handle else { return false }
        return PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Whether the last statement left the connection usable and outside a transaction.
    var wasLeftReusable: Bool {
        guard let handle, !wasCancelled else { return false }
        return PQstatus(handle) == CONNECTION_OK && PQtransactionStatus(handle) == PQTRANS_IDLE
    }

    /// Whether a cancel request was sent on this session; such a connection is closed, not reused.
    private(set) var wasCancelled = false

    /// Closes the connection. Further calls fail with ``PostgresError/Code/connectionLost``.
    public func close() async {
        guard let handle else { return }
        SocketWatcher.shared.remove(socket)
        PQfinish(handle)
        self.handle = nil
    }

    // MARK: - Cancellation

    /// Runs `body` as a cancellable statement: task cancellation and the current
    /// ``CancellationSignal`` cancel it on the server.
    private func cancellable<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
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
        guard canceller.start(ticket) else {
            canceller.finish(ticket)
            throw CancellationError()
        }
        let result: Swift.Result<Result, any Error>
        do {
            result = .success(
                try await withTaskCancellationHandler {
                    try await body()
                } onCancel: { [canceller] in
                    canceller.cancel(ticket)
                }
            )
        } catch {
            result = .failure(error)
        }
        // After a cancel request the session is not reused: the request may still reach a later
        // statement. A statement we cancelled ends in an error that is ours, not the server's.
        if canceller.finish(ticket) {
            wasCancelled = true
            if case .failure = result { throw CancellationError() }
        }
        return try result.get()
    }

    // MARK: - Sending and receiving

    /// Sends a statement with `send` and returns its result (the last one, for several
    /// statements): the first error when any of them failed.
    private func execute(_ send: (OpaquePointer) throws -> Int32) async throws -> PostgresQueryResult {
        guard let handle else { throw PostgresError(code: .connectionLost, message: "the connection is closed") }
        // libpq copies the statement and its parameters into its buffer before `send` returns.
        guard try send(handle) == 1 else { throw Self.connectionError(handle) }
        try await flush(handle)
        var last: PostgresQueryResult?
        var firstError: (any Error)?
        while true {
            while PQisBusy(handle) == 1 {
                await readable()
                guard PQconsumeInput(handle) == 1 else { throw Self.connectionError(handle) }
            }
            guard let result = PQgetResult(handle) else { break }
            do {
                last = try collect(handle, result)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        guard let last else { throw Self.connectionError(handle) }
        return last
    }

    /// Runs `COPY … FROM STDIN` (`statement`) with `chunks` of text-format data (see
    /// ``PostgresCopyText``), the fast way to load many rows; returns how many it loaded.
    /// Cancellable like any statement.
    @discardableResult
    public func copyIn(_ statement: String, chunks: some Sequence<[UInt8]> & Sendable) async throws -> Int {
        try await cancellable {
            guard let handle = self.handle else { throw PostgresError(code: .connectionLost, message: "the connection is closed") }
            guard PQsendQuery(handle, statement) == 1 else { throw Self.connectionError(handle) }
            try await self.flush(handle)
            // The server answers COPY_IN, then takes the data.
            while PQisBusy(handle) == 1 {
                await self.readable()
                guard PQconsumeInput(handle) == 1 else { throw Self.connectionError(handle) }
            }
            guard let started = PQgetResult(handle) else { throw Self.connectionError(handle) }
            guard PQresultStatus(started) == PGRES_COPY_IN else {
                defer { PQclear(started) }
                _ = try self.collect(handle, started)
                throw PostgresError(code: .unexpectedResult, message: "the statement is not COPY FROM STDIN")
            }
            PQclear(started)
            for chunk in chunks where !chunk.isEmpty {
                while true {
                    let sent = chunk.withUnsafeBufferPointer { buffer in
                        buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
                    }
                    if sent == 1 { break }
                    guard sent == 0 else { throw Self.connectionError(handle) }
                    await self.writable()
                }
            }
            while true {
                let ended = PQputCopyEnd(handle, nil)
                if ended == 1 { break }
                guard ended == 0 else { throw Self.connectionError(handle) }
                await self.writable()
            }
            try await self.flush(handle)
            var loaded = 0
            var firstError: (any Error)?
            while true {
                while PQisBusy(handle) == 1 {
                    await self.readable()
                    guard PQconsumeInput(handle) == 1 else { throw Self.connectionError(handle) }
                }
                guard let result = PQgetResult(handle) else { break }
                do {
                    loaded = try self.collect(handle, result).affectedRows
                } catch {
                    if firstError == nil { firstError = error }
                }
            }
            if let firstError { throw firstError }
            return loaded
        }
    }

    /// Writes what libpq has buffered, waiting for the socket when it is full.
    private func flush(_ handle: OpaquePointer) async throws {
        while true {
            switch PQflush(handle) {
            case 0: return
            case 1: await writable()
            default: throw Self.connectionError(handle)
            }
        }
    }

    private func readable() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            SocketWatcher.shared.wait(for: socket) { continuation.resume() }
        }
    }

    private func writable() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            SocketWatcher.shared.wait(for: socket, writable: true) { continuation.resume() }
        }
    }

    private func executePrepared(sql: String, binds: Binds) async throws -> PostgresQueryResult {
        let name: String
        if let existing = preparedNames[sql] {
            name = existing
        } else {
            name = "baton_\(preparedNames.count + 1)"
            let types = binds.map { $0.map { type(of: $0).postgresTypeOID } ?? 0 }
            _ = try await execute { handle in PQsendPrepare(handle, name, sql, Int32(types.count), types) }
            preparedNames[sql] = name
        }
        do {
            return try await execute { handle in
                try Self.withParameters(binds) { count, _, values in PQsendQueryPrepared(handle, name, count, values, nil, nil, 0) }
            }
        } catch let error as PostgresError where error.sqlState == "26000" {
            // A pooler or `DISCARD ALL` dropped our statements: forget them and prepare again.
            preparedNames.removeAll()
            return try await executePrepared(sql: sql, binds: binds)
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
