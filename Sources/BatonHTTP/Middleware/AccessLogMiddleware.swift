import BatonCore
import Hummingbird
import Logging
import Synchronization

/// What the layers below learn about a request that its access-log line carries: the token
/// that authenticated it and the team it acted on.
final class RequestFacts: Sendable {
    @TaskLocal static var current: RequestFacts?

    private let state = Mutex<(tokenID: Int?, team: String?)>((nil, nil))

    var tokenID: Int? {
        get { state.withLock { $0.tokenID } }
        set { state.withLock { $0.tokenID = newValue } }
    }

    var team: String? {
        get { state.withLock { $0.team } }
        set { state.withLock { $0.team = newValue } }
    }

    /// Notes the team the current request acts on, when a request is being logged.
    static func note(team: String) { current?.team = team }
}

/// One structured line per request: method, path (never the query), status, duration, and the
/// request id, token id and team. Probes and metrics scrapes log at debug, the rest at info.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let facts = RequestFacts()
        let started = ContinuousClock.now
        do {
            let response = try await RequestFacts.$current.withValue(facts) { try await next(request, context) }
            log(request, status: Int(response.status.code), since: started, facts: facts, logger: context.logger)
            return response
        } catch {
            log(request, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: started, facts: facts, logger: context.logger)
            throw error
        }
    }

    private func log(_ request: Request, status: Int, since started: ContinuousClock.Instant, facts: RequestFacts, logger: Logger) {
        let path = request.uri.path
        let level: Logger.Level = path.hasPrefix("/v1/") ? .info : .debug
        guard logger.logLevel <= level else { return }
        let milliseconds = (ContinuousClock.now - started).inSeconds * 1000
        var metadata: Logger.Metadata = [
            "method": "\(request.method.rawValue)",
            "path": "\(path)",
            "status": "\(status)",
            "duration_ms": "\((milliseconds * 10).rounded() / 10)",
        ]
        if let tokenID = facts.tokenID { metadata["token_id"] = "\(tokenID)" }
        if let team = facts.team { metadata["team"] = "\(team)" }
        logger.log(level: level, "request", metadata: metadata)
    }
}
