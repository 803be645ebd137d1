import HTTPTypes
import Hummingbird

/// The coordinator's dashboard: one page, a style sheet and a script, compiled into the binary
/// (no build step, nothing to deploy beside `baton`). The page is public and holds no data or
/// secret; the script asks for a token, keeps it in the tab's session storage and calls the
/// public API with it, so the token's scope decides what the page shows.
enum Dashboard {
    /// Everything from this origin, nothing inline (no inline script or style, no `eval`), no
    /// framing, no plugins, no form posts elsewhere.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// Path, content type and bytes of each asset.
    static let assets: [(path: String, type: String, bytes: [UInt8])] = [
        ("/", "text/html; charset=utf-8", PackageResources.index_html),
        ("/dashboard.css", "text/css; charset=utf-8", PackageResources.dashboard_css),
        ("/dashboard.js", "text/javascript; charset=utf-8", PackageResources.dashboard_js),
    ]

    /// Adds `GET /` and the assets. They are outside `/v1`, so they need no token.
    static func register(on router: Router<BatonRequestContext>) {
        for asset in assets {
            let buffer = ByteBuffer(bytes: asset.bytes)
            router.get(RouterPath(asset.path)) { _, _ in
                Response(status: .ok, headers: headers(contentType: asset.type), body: .init(byteBuffer: buffer))
            }
        }
    }

    static func headers(contentType: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.cacheControl] = "no-cache"
        fields[HTTPField.Name("Content-Security-Policy")!] = contentSecurityPolicy
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return fields
    }
}
