import BatonCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    static let keepAliveInterval: Duration = .seconds(15)

    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let after = Int(input.query.after ?? 0)
        let events = try await services.events.feed(
            after: after,
            limit: input.query.limit ?? 100,
            filter: .init(types: Self.types(input.query.types), team: input.query.team),
            waitSeconds: input.query.waitSeconds ?? 0,
            by: try RequestPrincipal.require()
        )
        return .ok(
            .init(body: .json(.init(events: try events.map(Components.Schemas.Event.init), nextCursor: Int64(events.last?.id ?? after))))
        )
    }

    func streamEvents(_ input: Operations.StreamEvents.Input) async throws -> Operations.StreamEvents.Output {
        let principal = try RequestPrincipal.require()
        var after = Int(input.query.after ?? 0)
        if let lastEventID = input.headers.lastEventID {
            guard let id = Int(lastEventID.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw BatonError.invalidArgument("Last-Event-ID must be an event id", field: "Last-Event-ID")
            }
            after = id
        }
        let items = try await services.events.stream(
            after: after,
            filter: .init(types: Self.types(input.query.types), team: input.query.team),
            lifetime: settings.eventStreamLifetime,
            keepAliveInterval: Self.keepAliveInterval,
            cursorField: input.headers.lastEventID == nil ? "after" : "Last-Event-ID",
            by: principal
        )
        // Each event is one server-sent event: `id` the event id, `event` its type, `data` its JSON.
        let messages = items.map { item -> ArraySlice<UInt8> in
            switch item {
            case .event(let event):
                let data = try JSONBridge.text(try Components.Schemas.Event(event))
                return ArraySlice("id: \(event.id)\nevent: \(event.type)\ndata: \(data)\n\n".utf8)
            case .keepAlive:
                return ArraySlice(": keep-alive\n\n".utf8)
            }
        }
        let stream = AsyncThrowingStream<ArraySlice<UInt8>, any Error> { continuation in
            continuation.yield(ArraySlice("retry: 2000\n\n".utf8))
            let forward = Task {
                do {
                    for try await message in messages { continuation.yield(message) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in forward.cancel() }
        }
        return .ok(.init(body: .textEventStream(HTTPBody(stream, length: .unknown, iterationBehavior: .single))))
    }

    /// `types=a,b` as a list.
    private static func types(_ text: String?) -> [String]? {
        text.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    }
}
