import HTTPTypes
import Hummingbird
import Logging

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
            if apiError.status == .serviceUnavailable {
                context.logger.notice("database unavailable", metadata: ["error": "\(error)"])
            } else if apiError.status.code >= 500 {
                context.logger.error(
                    "request failed",
                    metadata: ["error": "\(String(reflecting: error))", "status": "\(apiError.status.code)"]
                )
            }
            return apiError.response()
        }
    }
}
