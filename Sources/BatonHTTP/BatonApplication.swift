public import BatonCore
public import Hummingbird
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
public import Prometheus

/// The request context of every Baton request.
public struct BatonRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// Builds Baton's HTTP application: the OpenAPI operations on a Hummingbird router, behind
/// request ids, metrics, the error envelope and the body limit.
public enum BatonApplication {
    public static func makeRouter(
        database: BatonDatabase,
        registry: PrometheusCollectorRegistry,
        settings: ServerSettings,
        desks: Desks = Desks(),
        tokens: TokenStore? = nil
    ) throws -> Router<BatonRequestContext> {
        let tokens = tokens ?? TokenStore(pool: database.pool)
        let router = Router(context: BatonRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.add(middleware: BodyLimitMiddleware(maximumBytes: settings.maximumBodyBytes))
        router.add(middleware: AuthMiddleware(tokens: tokens))
        let handler = APIHandler(database: database, registry: registry, settings: settings, desks: desks, tokens: tokens)
        try handler.registerHandlers(
            on: RecordingTransport(router: router, table: routes),
            configuration: Configuration(
                dateTranscoder: RFC3339DateTranscoder(),
                jsonEncodingOptions: [.withoutEscapingSlashes]
            )
        )
        return router
    }

    /// The application, ready to run as a service.
    public static func make(
        database: BatonDatabase,
        registry: PrometheusCollectorRegistry,
        settings: ServerSettings,
        desks: Desks,
        logger: Logger
    ) throws -> some ApplicationProtocol {
        Application(
            router: try makeRouter(database: database, registry: registry, settings: settings, desks: desks),
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(settings.idleTimeout.nanoseconds))),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "baton"),
            logger: logger
        )
    }
}
