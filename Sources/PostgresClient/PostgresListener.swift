import CPostgres
import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A notification sent with `NOTIFY channel, 'payload'` or `pg_notify`.
public struct PostgresNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var backendPID: Int32
}

/// What a subscription to a channel yields.
public enum ListenerEvent: Sendable, Equatable {
    /// A notification arrived.
    case notification(PostgresNotification)
    /// The listening connection was lost and has been re-established, and every channel is
    /// listened to again. Notifications sent in between are gone: re-check whatever they
    /// would have announced.
    case reconnected
}

/// A dedicated connection that `LISTEN`s and hands notifications to subscribers, per channel,
/// as `AsyncStream`s. When the connection breaks it reconnects with backoff and `LISTEN`s
/// again by itself, and tells subscribers with ``ListenerEvent/reconnected``.
///
/// The connection lives on a thread of its own that sleeps in `poll(2)` on the socket, so
/// waiting for notifications never takes a thread from Swift's cooperative pool.
public final class PostgresListener: Sendable {
    private struct Subscriber {
        let continuation: AsyncStream<ListenerEvent>.Continuation
    }

    private struct State {
        var subscribers: [String: [UUID: Subscriber]] = [:]
        /// Channels the current connection has executed `LISTEN` for.
        var listening: Set<String> = []
        /// Callers waiting until their channel is listened to (or the connection is down).
        var confirmations: [String: [CheckedContinuation<Void, Never>]] = [:]
        var connected = false
        /// The thread has tried to connect at least once.
        var attempted = false
        var stopped = false
        var started = false
        var reconnects = 0
        var backendPID: Int32 = 0
    }

    private let configuration: PostgresConfiguration
    private let logger: Logger
    private let maximumBackoff: Duration
    private let state = Mutex(State())
    private let wakeFDs: (read: Int32, write: Int32)
    private let finished = Mutex<[CheckedContinuation<Void, Never>]?>([])

    public init(
        configuration: PostgresConfiguration,
        maximumBackoff: Duration = .seconds(2),
        logger: Logger = Logger(label: "baton.postgres.listener")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.maximumBackoff = maximumBackoff
        var fds: [Int32] = [0, 0]
        if pipe(&fds) == 0 {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
            wakeFDs = (fds[0], fds[1])
        } else {
            wakeFDs = (-1, -1)
        }
    }

    deinit {
        if wakeFDs.read >= 0 {
            close(wakeFDs.read)
            close(wakeFDs.write)
        }
    }

    /// Starts the listening thread. Calling it again does nothing.
    public func start() {
        let shouldStart = state.withLock { state -> Bool in
            guard !state.started else { return false }
            state.started = true
            return true
        }
        guard shouldStart else { return }
        let thread = Thread { [self] in run() }
        thread.name = "baton.postgres.listener"
        thread.start()
    }

    /// Stops the thread, closes the connection and finishes every subscription.
    public func stop() async {
        let wasRunning = state.withLock { state -> Bool in
            let running = state.started && !state.stopped
            state.stopped = true
            return running
        }
        wake()
        guard wasRunning else {
            finishAll()
            return
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyDone = finished.withLock { waiting -> Bool in
                guard waiting != nil else { return true }
                waiting!.append(continuation)
                return false
            }
            if alreadyDone { continuation.resume() }
        }
    }

    /// Subscribes to `channel`. Returns once the channel is listened to on the server, so a
    /// notification committed after this returns is delivered (or, if the connection is down
    /// right now, returns at once; ``ListenerEvent/reconnected`` follows when it is back).
    public func notifications(on channel: String) async -> AsyncStream<ListenerEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ListenerEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        continuation.onTermination = { [weak self] _ in
            self?.unsubscribe(channel: channel, id: id)
        }
        let needsConfirmation = state.withLock { state -> Bool in
            state.subscribers[channel, default: [:]][id] = Subscriber(continuation: continuation)
            return Self.mustWaitForListen(state, channel)
        }
        if needsConfirmation {
            await withCheckedContinuation { (waiting: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard Self.mustWaitForListen(state, channel) else { return true }
                    state.confirmations[channel, default: []].append(waiting)
                    return false
                }
                if resumeNow { waiting.resume() }
                wake()
            }
        }
        wake()
        return stream
    }

    /// A new subscriber waits while its channel is not listened to yet, unless the connection
    /// is known to be down (then it returns and hears ``ListenerEvent/reconnected`` later).
    private static func mustWaitForListen(_ state: State, _ channel: String) -> Bool {
        guard state.started, !state.stopped, !state.listening.contains(channel) else { return false }
        return state.connected || !state.attempted
    }

    /// Whether the listening connection is up right now.
    public var isConnected: Bool { state.withLock { $0.connected } }

    /// How many times the connection has been re-established.
    public var reconnectCount: Int { state.withLock { $0.reconnects } }

    /// The server process of the listening connection, while connected (for tests and
    /// diagnostics).
    public var backendPID: Int32? { state.withLock { $0.connected ? $0.backendPID : nil } }

    private func unsubscribe(channel: String, id: UUID) {
        state.withLock { state in
            state.subscribers[channel]?[id] = nil
            if state.subscribers[channel]?.isEmpty == true { state.subscribers[channel] = nil }
        }
        wake()
    }

    private func wake() {
        guard wakeFDs.write >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(wakeFDs.write, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeFDs.read, &buffer, buffer.count) > 0 {}
    }

    private func finishAll() {
        let (subscribers, confirmations) = state.withLock { state in
            let result = (state.subscribers, state.confirmations)
            state.subscribers.removeAll()
            state.confirmations.removeAll()
            return result
        }
        for (_, channelSubscribers) in subscribers {
            for (_, subscriber) in channelSubscribers { subscriber.continuation.finish() }
        }
        for (_, waiting) in confirmations {
            for item in waiting { item.resume() }
        }
    }

    // MARK: - The listening thread

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func run() {
        var handle: OpaquePointer?
        var backoff: Duration = .zero
        var everConnected = false
        while !isStopped {
            if handle == nil {
                do {
                    handle = try configuration.openHandle()
                    let isReconnect = everConnected
                    everConnected = true
                    backoff = .zero
                    state.withLock { state in
                        state.connected = true
                        state.attempted = true
                        state.backendPID = PQbackendPID(handle)
                        state.listening.removeAll()
                        if isReconnect { state.reconnects += 1 }
                    }
                    if isReconnect { logger.info("listener reconnected") }
                    guard reconcile(handle!) else {
                        dropConnection(&handle)
                        continue
                    }
                    if isReconnect { broadcast(.reconnected) }
                } catch {
                    dropConnection(&handle)
                    backoff = min(max(backoff * 2, .milliseconds(100)), maximumBackoff)
                    logger.debug("listener cannot connect", metadata: ["error": "\(error)"])
                    pollWake(socket: -1, timeout: backoff)
                    continue
                }
            }
            guard let connection = handle else { continue }
            guard reconcile(connection) else {
                dropConnection(&handle)
                continue
            }
            pollWake(socket: PQsocket(connection), timeout: .seconds(1))
            if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
                logger.warning("listener connection lost; reconnecting")
                dropConnection(&handle)
                continue
            }
            deliver(connection)
        }
        if let handle { PQfinish(handle) }
        state.withLock { $0.connected = false }
        finishAll()
        let waiting = finished.withLock { waiting -> [CheckedContinuation<Void, Never>] in
            let result = waiting ?? []
            waiting = nil
            return result
        }
        for item in waiting { item.resume() }
    }

    private func dropConnection(_ handle: inout OpaquePointer?) {
        if let connection = handle { PQfinish(connection) }
        handle = nil
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connected = false
            state.attempted = true
            state.listening.removeAll()
            let all = state.confirmations.values.flatMap { $0 }
            state.confirmations.removeAll()
            return all
        }
        for item in waiting { item.resume() }
    }

    /// Brings the server's LISTEN set in line with the subscribed channels.
    private func reconcile(_ connection: OpaquePointer) -> Bool {
        let (toListen, toUnlisten) = state.withLock { state in
            let wanted = Set(state.subscribers.keys)
            return (wanted.subtracting(state.listening), state.listening.subtracting(wanted))
        }
        for channel in toListen {
            guard execute(connection, "LISTEN", channel) else { return false }
            let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.listening.insert(channel)
                return state.confirmations.removeValue(forKey: channel) ?? []
            }
            for item in waiting { item.resume() }
        }
        for channel in toUnlisten {
            guard execute(connection, "UNLISTEN", channel) else { return false }
            _ = state.withLock { $0.listening.remove(channel) }
        }
        return true
    }

    private func execute(_ connection: OpaquePointer, _ command: String, _ channel: String) -> Bool {
        guard let quoted = PQescapeIdentifier(connection, channel, channel.utf8.count) else { return false }
        let sql = "\(command) \(String(cString: quoted))"
        PQfreemem(quoted)
        guard let result = PQexec(connection, sql) else { return false }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            logger.warning("\(command) failed", metadata: ["channel": "\(channel)"])
            return PQstatus(connection) == CONNECTION_OK
        }
        return true
    }

    private func deliver(_ connection: OpaquePointer) {
        while let notify = PQnotifies(connection) {
            let notification = PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                backendPID: notify.pointee.be_pid
            )
            PQfreemem(notify)
            let targets = state.withLock { state in
                state.subscribers[notification.channel].map { Array($0.values) } ?? []
            }
            for subscriber in targets { subscriber.continuation.yield(.notification(notification)) }
        }
    }

    private func broadcast(_ event: ListenerEvent) {
        let targets = state.withLock { state in state.subscribers.values.flatMap { $0.values } }
        for subscriber in targets { subscriber.continuation.yield(event) }
    }

    private func pollWake(socket: Int32, timeout: Duration) {
        var descriptors = [pollfd(fd: wakeFDs.read, events: Int16(POLLIN), revents: 0)]
        if socket >= 0 { descriptors.append(pollfd(fd: socket, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
        drainWakePipe()
    }
}
