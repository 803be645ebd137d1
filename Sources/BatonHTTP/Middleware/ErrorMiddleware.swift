import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime

/// Turns every error into the JSON envelope, so no request ends in a bare 500, a stack trace
/// or SQL. An unknown path is 404; a known path with the wrong method is 405 with `Allow`.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError(error)
            if let routerError = error as? HTTPError, routerError.status == .notFound,
                let allowed = routes.allowedMethods(forPath: request.uri.path), !allowed.isEmpty
            {
                apiError = APIError(
                    status: .methodNotAllowed,
                    code: "method_not_allowed",
                    message: "\(request.method) is not allowed here; use \(allowed.joined(separator: ", "))"
                )
                apiError.headers[.allow] = allowed.joined(separator: ", ")
            }
            if apiError.status.code >= 500 {
                // The runtime's ServerError describes the whole request, headers included; log
                // only the operation and the underlying error so no bearer token reaches the log.
                var metadata: Logger.Metadata = ["status": "\(apiError.status.code)"]
                if let serverError = error as? ServerError {
                    metadata["operation"] = "\(serverError.operationID)"
                    metadata["error"] = "\(serverError.underlyingError)"
                } else {
                    metadata["error"] = "\(error)"
                }
                if apiError.status == .serviceUnavailable {
                    context.logger.notice("database unavailable", metadata: metadata)
                } else {
                    context.logger.error("request failed", metadata: metadata)
                }
            }
            return apiError.response()
        }
    }
}
