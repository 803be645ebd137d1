public import AsyncHTTPClient
public import BatonCore
import NIOCore
import NIOHTTP1
public import ServiceLifecycle

/// Posts webhook deliveries with async-http-client. Redirects are not followed (a redirect
/// could lead past the URL checks to a private address); the receiver's answer is the status.
/// As a service it shuts its client down once the group stops, after the worker that uses it.
public final class WebhookHTTPTransport: WebhookTransport, Service {
    private let client: HTTPClient

    public init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func post(url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
        // The body is read (bounded) and dropped so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}
