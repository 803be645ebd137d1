import Foundation
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime

/// Serves Baton's `GET /healthz` and task create on a bare Hummingbird router (`bare`) or through
/// handlers generated from `openapi.yaml` (`openapi`), with none of Baton's middleware, storage
/// or logging: the floor that `scripts/bench.sh` sets Baton's CPU per request beside.
///
///     request-baseline bare|openapi PORT
@main
struct RequestBaseline {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count == 2, let mode = Mode(rawValue: arguments.first!), let port = Int(arguments.last!) else {
            print("usage: request-baseline bare|openapi PORT")
            exit(2)
        }
        let router = Router()
        switch mode {
        case .bare:
            BareRoutes.register(on: router)
        case .openapi:
            // Compact JSON, as Baton configures it (the runtime's default pretty-prints).
            try BaselineAPI().registerHandlers(
                on: router,
                configuration: Configuration(jsonEncodingOptions: [.withoutEscapingSlashes])
            )
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "request-baseline-\(mode)")
        )
        try await app.runService()
    }

    enum Mode: String {
        case bare, openapi
    }
}
