/// How webhooks are checked and delivered, read once in `main` (`BATON_WEBHOOKS_*`).
public struct WebhookSettings: Sendable {
    /// Whether a subscription may point at a private, loopback or link-local address. Off in
    /// production; tests and a receiver on the same network turn it on.
    public var allowPrivateAddresses: Bool
    /// How long one delivery may take, connecting included.
    public var timeout: Duration
    /// Attempts per delivery before it is dead.
    public var maxAttempts: Int
    /// The first retry's delay; each later one doubles, up to ``backoffMaxSeconds``.
    public var backoffBaseSeconds: Int
    public var backoffMaxSeconds: Int
    /// A subscription whose deliveries have failed for this long without one success is turned off.
    public var disableAfter: Duration
    /// How often an idle worker looks for due deliveries.
    public var pollInterval: Duration
    /// Deliveries one worker sends at once.
    public var concurrency: Int

    /// The defaults retry a delivery 16 times over about a day (30 s doubling to 2 h), so an
    /// event outlives the day after which its subscription is disabled.
    public init(
        allowPrivateAddresses: Bool = false,
        timeout: Duration = .seconds(10),
        maxAttempts: Int = 16,
        backoffBaseSeconds: Int = 30,
        backoffMaxSeconds: Int = 7200,
        disableAfter: Duration = .seconds(86_400),
        pollInterval: Duration = .seconds(1),
        concurrency: Int = 8
    ) {
        self.allowPrivateAddresses = allowPrivateAddresses
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.backoffBaseSeconds = backoffBaseSeconds
        self.backoffMaxSeconds = backoffMaxSeconds
        self.disableAfter = disableAfter
        self.pollInterval = pollInterval
        self.concurrency = concurrency
    }

    /// A delivery's lease: its timeout and room to record the outcome.
    var leaseSeconds: Int { Int(timeout.components.seconds) + 30 }
}
