import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// Gives every request an id: the caller's `X-Request-Id` when it is a sane token, otherwise
/// Hummingbird's own. The id is in every log line of the request and in the response header.
struct RequestIDMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id: String
        if let given = request.headers[.requestID], Self.isAcceptable(given) {
            id = given
        } else {
            id = context.id
        }
        // One id per log line: ours replaces Hummingbird's own key (which would differ when the
        // caller sent an id). Nothing reads `context.id` after this point.
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = "\(id)"
        var response = try await next(request, context)
        response.headers[.requestID] = id
        return response
    }

    /// Letters, digits, `-`, `_` and `.`, at most 128: nothing that could forge a header or a log line.
    static func isAcceptable(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45 || byte == 95
                    || byte == 46
            }
    }
}
