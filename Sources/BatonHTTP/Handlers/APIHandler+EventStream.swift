import BatonCore
import Foundation
import OpenAPIRuntime
import ServiceLifecycle

extension APIHandler {
    static let keepAliveInterval: Duration = .seconds(15)

    func streamEvents(_ input: Operations.StreamEvents.Input) async throws -> Operations.StreamEvents.Output {
        let principal = try RequestPrincipal.require()
        var after = Int(input.query.after ?? 0)
        if let lastEventID = input.headers.lastEventID {
            guard let id = Int(lastEventID.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw BatonError.invalidArgument("Last-Event-ID must be an event id", field: "Last-Event-ID")
            }
            after = id
        }
        guard after >= 0 else { throw BatonError.invalidArgument("after must not be negative", field: "after") }
        let types = input.query.types.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        var teams = try await visibleTeams(for: principal)
        if let team = input.query.team {
            teams = (teams == nil || teams!.contains(team)) ? [team] : []
        }
        let feed = events
        guard try await feed.isCursor(after) else {
            throw BatonError.invalidArgument(
                "the cursor is not the id of an event",
                field: input.headers.lastEventID == nil ? "after" : "Last-Event-ID"
            )
        }
        let signal = desks.events
        let filterTeams = teams
        let start = after
        let lifetime = settings.eventStreamLifetime
        let (stream, continuation) = AsyncThrowingStream<ArraySlice<UInt8>, any Error>.makeStream()
        let producer = Task {
            do {
                try await produce()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        @Sendable func produce() async throws {
            var cursor = start
            let end = ContinuousClock.now + lifetime
            var lastWrite = ContinuousClock.now
            continuation.yield(ArraySlice("retry: 2000\n\n".utf8))
            // The stream ends after `lifetime`; clients reconnect with Last-Event-ID and lose nothing.
            while !Task.isCancelled, !Task.isShuttingDownGracefully, ContinuousClock.now < end {
                let seen = await signal.current
                let page = try await feed.feed(after: cursor, limit: 200, types: types, teams: filterTeams)
                for event in page {
                    let data = try JSONBridge.text(try Components.Schemas.Event(event))
                    continuation.yield(ArraySlice("id: \(event.id)\nevent: \(event.type)\ndata: \(data)\n\n".utf8))
                    cursor = event.id
                    lastWrite = .now
                }
                if page.count == 200 { continue }
                if ContinuousClock.now - lastWrite >= Self.keepAliveInterval {
                    continuation.yield(ArraySlice(": keep-alive\n\n".utf8))
                    lastWrite = .now
                }
                _ = await signal.wait(after: seen, timeout: min(.seconds(1), max(end - ContinuousClock.now, .zero)))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in producer.cancel() }
        return .ok(.init(body: .textEventStream(HTTPBody(stream, length: .unknown, iterationBehavior: .single))))
    }
}
