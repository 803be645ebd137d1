import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The authenticated caller of the current request, set by ``AuthMiddleware``.
enum RequestPrincipal {
    @TaskLocal static var current: Principal?

    /// The caller, or 401 when the request carried no valid token.
    static func require() throws -> Principal {
        guard let current else {
            throw APIError(status: .unauthorized, code: "unauthenticated", message: "a bearer token is required")
        }
        return current
    }
}

/// Authenticates `Authorization: Bearer bt_…` for everything under `/v1`. No token or an
/// unknown, revoked or expired one is 401; what the token may do is checked by each handler.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: TokenStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") || request.uri.path == "/v1" else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw unauthenticated("a bearer token is required")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw unauthenticated("use Authorization: Bearer <token>")
        }
        // Trimmed without Foundation's NSString bridge: this runs on every request.
        var secret = parts[1]
        while let first = secret.first, first == " " || first == "\t" { secret = secret.dropFirst() }
        while let last = secret.last, last == " " || last == "\t" { secret = secret.dropLast() }
        guard let principal = try await tokens.authenticate(secret: String(secret)) else {
            throw unauthenticated("the token is unknown, revoked or expired")
        }
        var context = context
        context.logger[metadataKey: "token_id"] = "\(principal.tokenID)"
        RequestFacts.current?.tokenID = principal.tokenID
        return try await RequestPrincipal.$current.withValue(principal) {
            try await next(request, context)
        }
    }

    private func unauthenticated(_ message: String) -> APIError {
        var error = APIError(status: .unauthorized, code: "unauthenticated", message: message)
        error.headers[.wwwAuthenticate] = "Bearer"
        return error
    }
}
