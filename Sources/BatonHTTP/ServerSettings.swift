/// What the HTTP server needs to know, read once from flags and environment in `main`.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// The largest request body accepted; larger ones are answered 413.
    public var maximumBodyBytes: Int
    /// The region this instance serves for defaults and sweeps, if any.
    public var region: String?

    /// How long one `/v1/events/stream` response stays open before the client reconnects.
    public var eventStreamLifetime: Duration

    /// How long a connection may sit without a request in progress (idle keep-alive, or a
    /// request head that has not arrived in full) before the server closes it. Bounds what a
    /// slow-loris client can hold; a response being produced (a long poll, an event stream)
    /// is not cut off.
    public var idleTimeout: Duration

    /// What one token or address may ask of this server (``FairUseSettings``).
    public var fairUse: FairUseSettings

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maximumBodyBytes: Int = 1 << 20,
        region: String? = nil,
        eventStreamLifetime: Duration = .seconds(300),
        idleTimeout: Duration = .seconds(60),
        fairUse: FairUseSettings = .off
    ) {
        self.host = host
        self.port = port
        self.maximumBodyBytes = maximumBodyBytes
        self.region = region
        self.eventStreamLifetime = eventStreamLifetime
        self.idleTimeout = idleTimeout
        self.fairUse = fairUse
    }
}
