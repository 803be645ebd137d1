public import BatonCore
public import Hummingbird
public import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
public import Prometheus

/// The request context of every Baton request.
public struct BatonRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection's hang-up watch (none in router tests, which have no connection).
    let hangUp: HangUpWatch?
    /// The client's IP address, for counting requests that carry no token.
    let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.hangUp = HangUpWatch.watch(for: source.channel)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// Cancels a request's database work when its client hangs up (see ``HangUpDetector``).
struct HangUpMiddleware: RouterMiddleware {
    func handle(
        _ request: Request,
        context: BatonRequestContext,
        next: (Request, BatonRequestContext) async throws -> Response
    ) async throws -> Response {
        guard let watch = context.hangUp else { return try await next(request, context) }
        return try await watch.during { try await next(request, context) }
    }
}

/// Builds Baton's HTTP application: the OpenAPI operations on a Hummingbird router, behind
/// request ids, metrics, the error envelope and the body limit.
public enum BatonApplication {
    public static func makeRouter(
        services: BatonServices,
        registry: PrometheusCollectorRegistry,
        settings: ServerSettings
    ) throws -> Router<BatonRequestContext> {
        let router = Router(context: BatonRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: AccessLogMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.add(middleware: BodyLimitMiddleware(maximumBytes: settings.maximumBodyBytes))
        let limits = FairUseLimits(settings: settings.fairUse)
        router.add(middleware: FairUseMiddleware(limits: limits, stage: .address))
        router.add(middleware: AuthMiddleware(tokens: services.database.tokens))
        router.add(middleware: FairUseMiddleware(limits: limits, stage: .token))
        router.add(middleware: HangUpMiddleware())
        let handler = APIHandler(services: services, registry: registry, settings: settings)
        try handler.registerHandlers(
            on: RecordingTransport(router: router, table: routes),
            configuration: Configuration(
                dateTranscoder: RFC3339DateTranscoder(),
                jsonEncodingOptions: [.withoutEscapingSlashes]
            ),
            middlewares: [AccessMiddleware()]
        )
        Dashboard.register(on: router)
        return router
    }

    /// The application, ready to run as a service.
    public static func make(
        services: BatonServices,
        registry: PrometheusCollectorRegistry,
        settings: ServerSettings,
        logger: Logger
    ) throws -> some ApplicationProtocol {
        Application(
            router: try makeRouter(services: services, registry: registry, settings: settings),
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [HangUpDetector()],
                    idleTimeout: .nanoseconds(settings.idleTimeout.nanoseconds)
                )
            ),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "baton"),
            logger: logger
        )
    }
}
