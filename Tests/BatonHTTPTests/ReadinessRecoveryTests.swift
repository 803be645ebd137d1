import BatonCore
import BatonHTTP
import BatonTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Runs against an embedded cluster of its own, so stopping it disturbs no other test.
@Suite(.requiresDatabase) struct ReadinessRecoveryTests {
    @Test func readyzTurns503WhenTheDatabaseStopsAnd200WhenItIsBack() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-ready-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let embedded = EmbeddedPostgres(
            options: .init(dataDirectory: directory.path, disableFsync: true),
            logger: TestDatabase.quietLogger
        )
        let running = try await embedded.start()
        #expect(running.startedHere)
        // A second start finds the cluster running and reuses it.
        let reused = try await embedded.start()
        #expect(!reused.startedHere)
        #expect(reused.connectionString == running.connectionString)

        let pool = ConnectionPool(
            try PostgresConfiguration(running.connectionString),
            configuration: .init(size: 2, acquireTimeout: .seconds(1), maximumBackoff: .milliseconds(200)),
            logger: TestDatabase.quietLogger
        )
        let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
        try await database.migrate()
        let router = try BatonApplication.makeRouter(services: BatonServices(database: database), registry: testRegistry, settings: ServerSettings())
        let application = Application(router: router, logger: TestDatabase.quietLogger)
        do {
            try await application.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }

                try await embedded.stop()
                #expect(try await embedded.isRunning() == false)
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.text.contains("database unreachable"))
                }
                // Requests that need the database get 503 in the envelope, never 500.
                try await client.execute(uri: "/v1/regions", method: .get, headers: [.authorization: "Bearer bt_unknown"]) { response in
                    #expect(response.status == .serviceUnavailable)
                    let envelope = try response.errorEnvelope()
                    #expect(envelope.error.code == "unavailable")
                }

                _ = try await embedded.start()
                var status: HTTPResponse.Status = .serviceUnavailable
                let deadline = ContinuousClock.now + .seconds(15)
                while status != .ok, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await client.execute(uri: "/readyz", method: .get) { $0.status }
                }
                #expect(status == .ok)
            }
        } catch {
            await pool.close(timeout: .seconds(1))
            try? await embedded.stop()
            throw error
        }
        await pool.close(timeout: .seconds(1))
        try await embedded.stop()
    }
}
