import BatonCore
import HTTPTypes
import OpenAPIRuntime

/// Enforces the access table (``UseCase``) for every operation of the document before its body
/// is decoded or its handler runs: a caller whose role may not perform the operation anywhere
/// is refused with 403, and an operation the table does not know is refused, never open. The
/// scope (404 for a team out of reach) is checked by the service, which knows the team.
struct AccessMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let useCase = UseCase(rawValue: operationID) else {
            throw APIError(status: .forbidden, code: "forbidden", message: "this operation has no declared access")
        }
        if useCase.access != .open {
            try RequestPrincipal.require().authorize(useCase)
        }
        return try await next(request, body, metadata)
    }
}
