import ArgumentParser
import BatonCommandLine
import BatonCore
import BatonHTTP
import Foundation
import Logging
import Metrics
import PostgresClient
import Prometheus
import ServiceLifecycle
import UnixSignals

/// `baton serve`: migrate, then serve the API until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the API. Without a database URL, runs an embedded PostgreSQL cluster under the data directory."
    )

    @Option(help: "Address to listen on. [env: BATON_HOST] (default: 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. [env: BATON_PORT] (default: 8080)")
    var port: Int?

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Database connections in the pool. [env: BATON_POOL_SIZE] (default: 10)")
    var poolSize: Int?

    @Option(help: "Seconds to wait for a free connection before answering 503. [env: BATON_POOL_ACQUIRE_TIMEOUT] (default: 5)")
    var poolAcquireTimeout: Double?

    @Option(
        help:
            "A streaming-replication standby for reads that may be a little stale: reports, team stats, timelines. [env: BATON_READ_DATABASE_URL] (default: none, everything on the primary)"
    )
    var readDatabaseURL: String?

    @Option(help: "Seconds of standby replay lag past which reads go to the primary. [env: BATON_MAX_REPLICA_LAG] (default: 5)")
    var maxReplicaLag: Double?

    @Option(help: "Region this instance serves for defaults and sweeps. [env: BATON_REGION]")
    var region: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [env: BATON_LOG_LEVEL] (default: info)")
    var logLevel: String?

    @Option(help: "text or json. [env: BATON_LOG_FORMAT] (default: text)")
    var logFormat: String?

    @Flag(help: "Do not apply migrations at start. [env: BATON_NO_MIGRATE=true]")
    var noMigrate = false

    @Option(help: "Largest request body in bytes; larger ones get 413. [env: BATON_MAX_BODY_BYTES] (default: 1048576)")
    var maxBodyBytes: Int?

    @Option(help: "Seconds to finish in-flight requests after SIGTERM/SIGINT. [env: BATON_SHUTDOWN_TIMEOUT] (default: 30)")
    var shutdownTimeout: Double?

    @Option(help: "Seconds between SLA monitor sweeps (at risk, breaches, escalations). [env: BATON_SLA_INTERVAL] (default: 5)")
    var slaInterval: Double?

    @Option(help: "Seconds a connection may sit without a request in progress before it is closed. [env: BATON_IDLE_TIMEOUT] (default: 60)")
    var idleTimeout: Double?

    @Option(
        help:
            "Requests a second each token (or address, without one) may make of this server; 0 for no limit. [env: BATON_RATE_LIMIT] (default: 200)"
    )
    var rateLimit: Double?

    @Option(help: "Requests a quiet token may make at once beyond the rate. [env: BATON_RATE_BURST] (default: 400)")
    var rateBurst: Double?

    @Option(
        help:
            "Long-poll claims, waiting event reads and event streams one token may hold open at once; 0 for no limit. [env: BATON_MAX_HELD_REQUESTS] (default: 100)"
    )
    var maxHeldRequests: Int?

    @Flag(
        help: "Let webhooks post to private, loopback and link-local addresses. [env: BATON_WEBHOOKS_ALLOW_PRIVATE=true]"
    )
    var webhooksAllowPrivate = false

    @Option(help: "Seconds one webhook delivery may take. [env: BATON_WEBHOOKS_TIMEOUT] (default: 10)")
    var webhooksTimeout: Double?

    @OptionGroup var retention: RetentionOptions

    @Option(help: "Seconds between the pruner's passes over history past retention. [env: BATON_PRUNE_INTERVAL] (default: 300)")
    var pruneInterval: Double?

    @Flag(help: "Seed an empty database with demo regions, teams, members, SLA policies and tasks.")
    var demo = false

    func run() async throws {
        let configuration: ServeConfiguration
        do {
            configuration = try ServeConfiguration(self, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.logFormat.bootstrap(level: configuration.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: "baton")
        logger.logLevel = configuration.logLevel
        if let region = configuration.settings.region { logger[metadataKey: "region"] = "\(region)" }

        let session: DatabaseSession
        do {
            session = try await configuration.database.open(
                poolConfiguration: configuration.pool,
                standby: configuration.standby,
                logger: logger
            )
        } catch {
            logger.critical("cannot open the database: \(error)")
            throw ExitCode.failure
        }
        do {
            try await serve(session: session, configuration: configuration, registry: registry, logger: logger)
        } catch {
            logger.critical("baton stopped: \(error)")
            await session.close()
            throw ExitCode.failure
        }
        await session.close()
        logger.info("baton stopped")
    }

    private func serve(
        session: DatabaseSession,
        configuration: ServeConfiguration,
        registry: PrometheusCollectorRegistry,
        logger: Logger
    ) async throws {
        if configuration.migrate {
            let applied = try await migrateWhenReachable(session.database, logger: logger)
            if !applied.isEmpty {
                logger.info("applied migrations", metadata: ["migrations": "\(applied.map(\.fileName))"])
            }
        }
        let services = BatonServices(database: session.database, webhooks: configuration.webhooks)
        if demo, try await DemoSeeder(services: services).seedIfEmpty() {
            logger.info("seeded demo data: regions emea and apac with calendars, ten teams, members, SLA policies and tasks")
        }
        if let secret = try await session.database.tokens.bootstrapAdminToken() {
            announceAdminToken(secret, dataDirectory: configuration.embeddedDataDirectory, logger: logger)
        }
        let application = try BatonApplication.make(
            services: services,
            registry: registry,
            settings: configuration.settings,
            logger: logger
        )
        let listener = PostgresListener(configuration: session.directConfiguration ?? session.connectionConfiguration, logger: logger)
        let transport = WebhookHTTPTransport()
        let standbyMonitor: [ServiceGroupConfiguration.ServiceConfiguration] =
            session.database.standby.map { [.init(service: StandbyMonitor(standby: $0, logger: logger))] } ?? []
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                // Shut down last (the group stops services in reverse order), once nothing uses it.
                .init(service: session.database.pool),
                .init(service: application),
                .init(
                    service: NotificationRouter(listener: listener, desks: services.desks, catalog: session.database.slaCatalog, logger: logger)
                ),
                .init(service: LeaseReaper(pool: session.database.pool, wakeups: services.wakeups, logger: logger)),
                .init(
                    service: SLAMonitor(
                        services: services,
                        region: configuration.settings.region,
                        interval: configuration.slaInterval,
                        logger: logger
                    )
                ),
                // The client stops after the worker that posts with it.
                .init(service: transport),
                .init(service: WebhookDispatcher(services: services, settings: configuration.webhooks, logger: logger)),
                .init(service: WebhookWorker(services: services, transport: transport, settings: configuration.webhooks, logger: logger)),
                .init(
                    service: HistoryPruner(
                        services: services,
                        policy: configuration.retention,
                        interval: configuration.pruneInterval,
                        logger: logger
                    )
                ),
            ] + standbyMonitor,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        logger.info(
            "baton \(BatonVersion.current) listening",
            metadata: [
                "address": "\(configuration.settings.host):\(configuration.settings.port)",
                "database": "\(session.connectionConfiguration)",
                "pooler": "\(session.connectionConfiguration.transactionPooler ? "transaction" : "none")",
            ]
        )
        try await ServiceGroup(configuration: groupConfiguration).run()
    }

    /// Prints the first admin token once; in embedded mode also writes it to
    /// `<data-dir>/admin-token` with mode 0600.
    private func announceAdminToken(_ secret: String, dataDirectory: String?, logger: Logger) {
        // Written straight to the descriptor so it is not stuck in a buffer when stdout is a file.
        FileHandle.standardOutput.write(Data("Created the first admin token (shown once): \(secret)\n".utf8))
        guard let dataDirectory else { return }
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent("admin-token").path
        if FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) {
            FileHandle.standardOutput.write(Data("It is also in \(path) (mode 0600).\n".utf8))
        } else {
            logger.warning("could not write the admin token file", metadata: ["path": "\(path)"])
        }
    }

    /// Migrates, waiting up to 30 seconds for a database that is still starting.
    private func migrateWhenReachable(_ database: BatonDatabase, logger: Logger) async throws -> [Migration] {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            do {
                return try await database.migrate()
            } catch let error as PostgresError where error.isUnavailable && ContinuousClock.now < deadline {
                logger.warning("database not reachable yet; retrying", metadata: ["error": "\(error.code)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
