import Hummingbird

/// Refuses request bodies over the configured size with 413, before a handler reads them:
/// at once when `Content-Length` says so, otherwise as soon as the streamed body passes it.
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBytes {
            throw tooLarge()
        }
        if request.method == .post || request.method == .put || request.method == .patch {
            do {
                _ = try await request.collectBody(upTo: maximumBytes)
            } catch let error as HTTPError where error.status == .contentTooLarge {
                throw tooLarge()
            }
        }
        return try await next(request, context)
    }

    private func tooLarge() -> APIError {
        APIError(
            status: .contentTooLarge,
            code: "payload_too_large",
            message: "the request body is larger than \(maximumBytes) bytes",
            details: ["limit_bytes": String(maximumBytes)]
        )
    }
}
