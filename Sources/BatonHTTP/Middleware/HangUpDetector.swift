import NIOConcurrencyHelpers
import NIOCore
import PostgresClient
import Synchronization

/// Notices at once when a client goes away (its side of the connection closes or breaks) and
/// cancels the database work of the request it was waiting for: the statement is cancelled on
/// the server and its pooled connection is free again, instead of running to its end for
/// nobody. One per connection, in the channel pipeline after HTTP decoding.
///
/// A client that half-closes its side and still waits for the answer is treated the same way;
/// HTTP/1.1 clients do not do that.
final class HangUpDetector: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    let watch = HangUpWatch()

    func handlerAdded(context: ChannelHandlerContext) {
        HangUpWatch.register(watch, for: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        HangUpWatch.unregister(context.channel)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { watch.hangUp() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.hangUp()
        HangUpWatch.unregister(context.channel)
        context.fireChannelInactive()
    }
}

/// A connection's state as its requests see it: whether the client hung up, and the signal of
/// the request in progress.
final class HangUpWatch: Sendable {
    private let state = Mutex<(hungUp: Bool, current: CancellationSignal?)>((false, nil))

    /// Runs a request's work under a signal that fires if the client hangs up meanwhile.
    func during<Result>(_ body: () async throws -> Result) async rethrows -> Result {
        let signal = CancellationSignal()
        let hungUp = state.withLock { state in
            state.current = signal
            return state.hungUp
        }
        if hungUp { signal.cancel() }
        defer { state.withLock { $0.current = nil } }
        return try await CancellationSignal.$current.withValue(signal) { try await body() }
    }

    func hangUp() {
        let signal = state.withLock { state -> CancellationSignal? in
            state.hungUp = true
            return state.current
        }
        signal?.cancel()
    }

    // MARK: - By channel

    private static let watches = Mutex<[ObjectIdentifier: HangUpWatch]>([:])

    static func register(_ watch: HangUpWatch, for channel: any Channel) {
        watches.withLock { $0[ObjectIdentifier(channel)] = watch }
    }

    static func unregister(_ channel: any Channel) {
        _ = watches.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// The watch of a connection, when its pipeline has a ``HangUpDetector``.
    static func watch(for channel: any Channel) -> HangUpWatch? {
        watches.withLock { $0[ObjectIdentifier(channel)] }
    }
}
