import BatonCore
import BatonHTTP
import BatonTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import PostgresClient
import Prometheus
import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test when a test cluster is configured (always under CI).
    static var requiresDatabase: Self {
        .enabled(if: TestDatabase.isEnabled, "needs BATON_TEST_DATABASE_URL (run scripts/test.sh)")
    }
}

/// One Prometheus registry for the test process; swift-metrics can be bootstrapped only once.
let testRegistry: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()

/// An application on a fresh, migrated database, tested through Hummingbird's router tester.
func withTestApplication(
    settings: ServerSettings = ServerSettings(),
    migrated: Bool = true,
    _ body: @escaping @Sendable (any TestClientProtocol, BatonDatabase) async throws -> Void
) async throws {
    try await TestDatabase.withEmptyDatabase { url in
        let pool = ConnectionPool(try PostgresConfiguration(url), configuration: .init(size: 4, acquireTimeout: .seconds(2)))
        let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
        if migrated { try await database.migrate() }
        let router = try BatonApplication.makeRouter(database: database, registry: testRegistry, settings: settings)
        let application = Application(router: router, logger: TestDatabase.quietLogger)
        do {
            try await application.test(.router) { client in try await body(client, database) }
            await pool.close(timeout: .seconds(1))
        } catch {
            await pool.close(timeout: .seconds(1))
            throw error
        }
    }
}

/// The parsed error envelope of a response.
struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        var code: String
        var message: String
        var details: [String: String]?
    }
    var error: Body
}

extension TestResponse {
    func json<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(body.readableBytesView))
    }

    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }

    func errorEnvelope() throws -> ErrorEnvelope { try json(ErrorEnvelope.self) }
}
