import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime
import Synchronization

/// The operations the OpenAPI document registers, by path template, so that a request for a
/// known path with the wrong method can be answered 405 with an `Allow` header.
final class RouteTable: Sendable {
    private let routes = Mutex<[(segments: [Substring], method: String)]>([])

    func add(path: String, method: HTTPRequest.Method) {
        let segments = path.split(separator: "/")
        routes.withLock { $0.append((segments, method.rawValue)) }
    }

    /// The methods registered for the template that matches `path`, or `nil` when none does.
    func allowedMethods(forPath path: String) -> [String]? {
        let requested = path.split(separator: "/")
        let methods = routes.withLock { routes in
            var matching = routes.filter { route in
                route.segments.count == requested.count
                    && zip(route.segments, requested).allSatisfy { template, actual in
                        Self.isParameter(template) || template == actual
                    }
            }
            // The router prefers a literal segment to a parameter, segment by segment: the
            // methods of `/v1/tasks/complete` are not those of `/v1/tasks/{id}`.
            for index in requested.indices {
                let literal = matching.filter { !Self.isParameter($0.segments[index]) }
                if !literal.isEmpty { matching = literal }
            }
            return matching.map(\.method)
        }
        guard !methods.isEmpty else { return nil }
        var allowed = Set(methods)
        if allowed.contains("GET") { allowed.insert("HEAD") }
        return allowed.sorted()
    }

    private static func isParameter(_ segment: Substring) -> Bool {
        segment.hasPrefix("{") || segment.hasPrefix(":")
    }
}

/// Registers the generated handlers on the Hummingbird router and records each route.
struct RecordingTransport<Context: RequestContext>: ServerTransport {
    let router: Router<Context>
    let table: RouteTable

    func register(
        _ handler: @escaping @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?),
        method: HTTPRequest.Method,
        path: String
    ) throws {
        table.add(path: path, method: method)
        let gate = RequestBodyGate(method: method, path: path)
        let integers = IntegerParameterGate(method: method, path: path)
        router.register(
            { request, body, metadata in
                let (request, metadata) = integers.settle(request, metadata)
                let body = try await gate.body(for: request, body)
                var (response, responseBody) = try await RawRequestHeaders.$idempotencyKey.withValue(
                    request.headerFields[RawRequestHeaders.idempotencyKeyName]
                ) {
                    try await handler(request, body, metadata)
                }
                // The runtime percent-encodes header values; an ETag is a quoted string as sent.
                if let etag = response.headerFields[.eTag], etag.contains("%") {
                    response.headerFields[.eTag] = etag.removingPercentEncoding ?? etag
                }
                return (response, responseBody)
            },
            method: method,
            path: path
        )
    }
}
