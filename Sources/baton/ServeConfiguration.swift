import BatonCommandLine
import BatonCore
import BatonHTTP
import Logging
import PostgresClient

/// `baton serve`'s settings: flags over `BATON_*` environment variables over defaults, read once.
struct ServeConfiguration {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var settings: ServerSettings
    var database: DatabaseTarget
    var pool: ConnectionPool.Configuration
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var migrate: Bool
    var shutdownTimeout: Duration
    var slaInterval: Duration
    var webhooks: WebhookSettings
    var standby: StandbySettings?
    var retention: RetentionPolicy
    var pruneInterval: Duration

    /// The data directory when the embedded cluster is used.
    var embeddedDataDirectory: String? {
        if case .embedded(let directory) = database { return directory }
        return nil
    }

    init(_ flags: Serve, environment: [String: String]) throws {
        func value(_ flag: String?, _ name: String) -> String? {
            flag ?? environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        func number<Value: LosslessStringConvertible & Comparable>(
            _ flag: Value?,
            _ name: String,
            default fallback: Value,
            in range: ClosedRange<Value>
        ) throws -> Value {
            let result: Value
            if let flag {
                result = flag
            } else if let text = environment[name], !text.isEmpty {
                guard let parsed = Value(text) else { throw Invalid(description: "\(name) must be a number, not '\(text)'") }
                result = parsed
            } else {
                result = fallback
            }
            guard range.contains(result) else {
                throw Invalid(description: "\(name) must be between \(range.lowerBound) and \(range.upperBound)")
            }
            return result
        }

        let port = try number(flags.port, "BATON_PORT", default: 8080, in: 0...65535)
        let bodyBytes = try number(flags.maxBodyBytes, "BATON_MAX_BODY_BYTES", default: 1 << 20, in: 1024...(64 << 20))
        let idle = try number(flags.idleTimeout, "BATON_IDLE_TIMEOUT", default: 60, in: 0.1...3600)
        let fairUse = FairUseSettings(
            rate: try number(flags.rateLimit, "BATON_RATE_LIMIT", default: 200, in: 0...1_000_000),
            burst: try number(flags.rateBurst, "BATON_RATE_BURST", default: 400, in: 1...10_000_000),
            maximumHeld: try number(flags.maxHeldRequests, "BATON_MAX_HELD_REQUESTS", default: 100, in: 0...100_000)
        )
        settings = ServerSettings(
            host: value(flags.host, "BATON_HOST") ?? "127.0.0.1",
            port: port,
            maximumBodyBytes: bodyBytes,
            region: value(flags.region, "BATON_REGION"),
            idleTimeout: .milliseconds(Int(idle * 1000)),
            fairUse: fairUse
        )
        let acquire = try number(flags.poolAcquireTimeout, "BATON_POOL_ACQUIRE_TIMEOUT", default: 5, in: 0.01...600)
        do {
            database = try flags.database.target(environment: environment)
            if case .url(_, .transaction, nil) = database {
                throw Invalid(
                    description:
                        "--database-pooler transaction needs --direct-database-url (BATON_DIRECT_DATABASE_URL): LISTEN and migrations need PostgreSQL itself, which no transaction pooler passes through"
                )
            }
            pool = try flags.database.bounding(
                ConnectionPool.Configuration(
                    size: try number(flags.poolSize, "BATON_POOL_SIZE", default: 10, in: 1...1000),
                    acquireTimeout: .milliseconds(Int(acquire * 1000))
                ),
                environment: environment
            )
        } catch let error as DatabaseOptions.Invalid {
            throw Invalid(description: error.description)
        }
        let levelText = value(flags.logLevel, "BATON_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw Invalid(description: "log level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        logLevel = level
        let formatText = value(flags.logFormat, "BATON_LOG_FORMAT") ?? "text"
        guard let format = LogFormat(rawValue: formatText) else {
            throw Invalid(description: "log format must be text or json")
        }
        logFormat = format
        let noMigrateFromEnvironment = ["1", "true", "yes"].contains(environment["BATON_NO_MIGRATE"]?.lowercased() ?? "")
        migrate = !(flags.noMigrate || noMigrateFromEnvironment)
        let shutdown = try number(flags.shutdownTimeout, "BATON_SHUTDOWN_TIMEOUT", default: 30, in: 0.1...3600)
        shutdownTimeout = .milliseconds(Int(shutdown * 1000))
        let sla = try number(flags.slaInterval, "BATON_SLA_INTERVAL", default: 5, in: 0.1...3600)
        slaInterval = .milliseconds(Int(sla * 1000))
        let allowPrivate = ["1", "true", "yes"].contains(environment["BATON_WEBHOOKS_ALLOW_PRIVATE"]?.lowercased() ?? "")
        let webhookTimeout = try number(flags.webhooksTimeout, "BATON_WEBHOOKS_TIMEOUT", default: 10, in: 0.1...300)
        webhooks = WebhookSettings(
            allowPrivateAddresses: flags.webhooksAllowPrivate || allowPrivate,
            timeout: .milliseconds(Int(webhookTimeout * 1000))
        )
        let maximumLag = try number(flags.maxReplicaLag, "BATON_MAX_REPLICA_LAG", default: 5, in: 0...86400)
        standby = value(flags.readDatabaseURL, "BATON_READ_DATABASE_URL").map {
            StandbySettings(url: $0, maximumLag: .milliseconds(Int(maximumLag * 1000)))
        }
        do {
            retention = try flags.retention.policy(environment: environment)
        } catch {
            throw Invalid(description: error.description)
        }
        let prune = try number(flags.pruneInterval, "BATON_PRUNE_INTERVAL", default: 300, in: 1...86400)
        pruneInterval = .milliseconds(Int(prune * 1000))
    }
}
