public import ArgumentParser
public import BatonCore

/// How long each kind of history is kept: the options `baton serve` (its background pruner)
/// and `batonctl prune` share, so both read the same ages. Flags win over `BATON_RETAIN_*`
/// environment variables, which win over the defaults.
public struct RetentionOptions: ParsableArguments, Sendable {
    @Option(
        help:
            "How long tasks are kept once done, dead-lettered, cancelled or handed off, e.g. 90d or 36h; forever keeps them. [env: BATON_RETAIN_FINISHED_TASKS] (default: 90d)"
    )
    public var retainFinishedTasks: String?

    @Option(
        help:
            "How long events are kept (the feed answers 410 for older cursors; customers' own events stay); forever keeps them. [env: BATON_RETAIN_EVENTS] (default: forever)"
    )
    public var retainEvents: String?

    @Option(
        help:
            "How long finished webhook deliveries (delivered, dead, cancelled) are kept; forever keeps them. [env: BATON_RETAIN_WEBHOOK_DELIVERIES] (default: 30d)"
    )
    public var retainWebhookDeliveries: String?

    public init() {}

    /// A setting that cannot be used, with the reason.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// The ages these options name.
    public func policy(environment: [String: String]) throws(Invalid) -> RetentionPolicy {
        let defaults = RetentionPolicy.defaults
        return RetentionPolicy(
            finishedTasks: try Self.age(
                retainFinishedTasks,
                "--retain-finished-tasks",
                "BATON_RETAIN_FINISHED_TASKS",
                default: defaults.finishedTasks,
                environment
            ),
            events: try Self.age(retainEvents, "--retain-events", "BATON_RETAIN_EVENTS", default: defaults.events, environment),
            webhookDeliveries: try Self.age(
                retainWebhookDeliveries,
                "--retain-webhook-deliveries",
                "BATON_RETAIN_WEBHOOK_DELIVERIES",
                default: defaults.webhookDeliveries,
                environment
            )
        )
    }

    private static func age(
        _ flag: String?,
        _ flagName: String,
        _ name: String,
        default fallback: Duration?,
        _ environment: [String: String]
    ) throws(Invalid) -> Duration? {
        guard let text = flag ?? environment[name].flatMap({ $0.isEmpty ? nil : $0 }) else { return fallback }
        do {
            return try RetentionPolicy.parseAge(text)
        } catch {
            throw Invalid(description: "\(flag == nil ? name : flagName): \(error.description)")
        }
    }
}
