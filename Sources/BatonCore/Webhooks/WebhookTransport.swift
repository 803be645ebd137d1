/// Sends one signed delivery. BatonCore knows no HTTP client: the server passes one in
/// (async-http-client in BatonHTTP), and tests may pass their own.
public protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` with `headers`, within `timeout`; returns the response's status.
    /// Throws when no response came (refused, reset, timed out).
    func post(url: String, headers: [(name: String, value: String)], body: [UInt8], timeout: Duration) async throws -> Int
}
