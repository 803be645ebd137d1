import BatonCore
import BatonHTTP
import BatonTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Metrics
import PostgresClient
import Prometheus
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
/// The ``API`` it hands over sends an admin token unless told otherwise.
func withTestApplication(
    settings: ServerSettings = ServerSettings(),
    migrated: Bool = true,
    poolSize: Int = 8,
    acquireTimeout: Duration = .seconds(5),
    statementTimeout: Duration? = nil,
    lockTimeout: Duration? = nil,
    webhooks: WebhookSettings = WebhookSettings(),
    standbyLag: Duration? = nil,
    _ body: @escaping @Sendable (API, BatonDatabase) async throws -> Void
) async throws {
    try await TestDatabase.withEmptyDatabase { url in
        // With `standbyLag`, stale-tolerant reads go to the run's standby (scripts/test.sh).
        let standby = try standbyLag.map { lag in
            Standby(
                pool: ConnectionPool(
                    try PostgresConfiguration(try #require(TestDatabase.standbyURL(for: url), "the run has no standby")),
                    configuration: .init(size: 4, acquireTimeout: .seconds(2), maximumBackoff: .milliseconds(200))
                ),
                maximumLag: lag
            )
        }
        // In the run through a pooler, the application's statements go through PgBouncer in
        // transaction mode; LISTEN, migrations and the tests' own checks reach the cluster.
        var configuration = try PostgresConfiguration(TestDatabase.pooledURL(for: url) ?? url)
        configuration.transactionPooler = TestDatabase.poolerURL != nil
        let pool = ConnectionPool(
            configuration,
            configuration: .init(size: poolSize, acquireTimeout: acquireTimeout, statementTimeout: statementTimeout, lockTimeout: lockTimeout)
        )
        let database = BatonDatabase(
            pool: pool,
            direct: configuration.transactionPooler ? try PostgresConfiguration(url) : nil,
            standby: standby,
            logger: TestDatabase.quietLogger
        )
        var adminToken = ""
        if migrated {
            try await database.migrate()
            adminToken = try await TokenStore(pool: pool).bootstrapAdminToken() ?? ""
        }
        let token = adminToken
        let desks = Desks()
        let router = try BatonApplication.makeRouter(
            services: BatonServices(database: database, desks: desks, webhooks: webhooks),
            registry: testRegistry,
            settings: settings
        )
        let application = Application(router: router, logger: TestDatabase.quietLogger)
        let listener = PostgresListener(configuration: try PostgresConfiguration(url))
        let notifications = Task {
            try await NotificationRouter(listener: listener, desks: desks, catalog: database.slaCatalog, logger: TestDatabase.quietLogger).run()
        }
        do {
            try await application.test(.router) { client in
                try await body(API(client: client, token: token, url: url), database)
            }
            notifications.cancel()
            await listener.stop()
            await pool.close(timeout: .seconds(1))
            await standby?.pool.close(timeout: .seconds(1))
        } catch {
            notifications.cancel()
            await listener.stop()
            await pool.close(timeout: .seconds(1))
            await standby?.pool.close(timeout: .seconds(1))
            throw error
        }
    }
}

/// The router test client with a bearer token and JSON bodies.
struct API: Sendable {
    let client: any TestClientProtocol
    /// The bootstrap admin token's secret.
    let token: String
    /// The test database's URL.
    let url: String

    @discardableResult
    func call(
        _ method: HTTPRequest.Method,
        _ uri: String,
        json: String? = nil,
        token: String?? = .none,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = headers
        let bearer: String? = token ?? self.token
        if let bearer { fields[.authorization] = "Bearer \(bearer)" }
        if json != nil { fields[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) }) { $0 }
    }

    /// Creates a token with the admin token and returns its secret.
    func makeToken(role: String, teams: [String] = [], regions: [String] = []) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["name": "test \(role)", "role": role, "teams": teams, "regions": regions])
        let response = try await call(.post, "/v1/tokens", json: String(decoding: body, as: UTF8.self))
        guard response.status == .created else { throw TestFailure("token creation failed: \(response.text)") }
        return try response.json([String: AnyJSON].self)["secret"]?.string ?? ""
    }

    /// Two regions and the four departments in each.
    func seedReferenceData() async throws {
        for (code, zone) in [("emea", "Europe/Berlin"), ("apac", "Asia/Kolkata")] {
            try await expect(
                .created,
                call(.post, "/v1/regions", json: #"{"code":"\#(code)","name":"\#(code.uppercased())","time_zone":"\#(zone)"}"#)
            )
            for department in ["sales", "marketing", "logistics", "support"] {
                try await expect(.created, call(.post, "/v1/teams", json: #"{"department":"\#(department)","region":"\#(code)"}"#))
            }
        }
    }

    func expect(_ status: HTTPResponse.Status, _ response: TestResponse) throws {
        guard response.status == status else { throw TestFailure("expected \(status.code), got \(response.status.code): \(response.text)") }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Any JSON value, for reading responses loosely in tests.
enum AnyJSON: Decodable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case object([String: AnyJSON])
    case array([AnyJSON])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    subscript(key: String) -> AnyJSON? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    subscript(index: Int) -> AnyJSON? {
        if case .array(let array) = self, array.indices.contains(index) { return array[index] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .number(let value) = self { return Int(value) }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var double: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    var array: [AnyJSON] {
        if case .array(let value) = self { return value }
        return []
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

/// A blocking TCP connection to 127.0.0.1, for sending a request one byte at a time.
final class RawConnection: @unchecked Sendable {
    let descriptor: Int32

    init(port: Int) throws {
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw TestFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw TestFailure("connect() failed")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends one byte; false once the server has closed the connection.
    func send(byte: UInt8) -> Bool {
        var byte = byte
        #if canImport(Glibc)
        return Glibc.send(descriptor, &byte, 1, Int32(MSG_NOSIGNAL)) == 1
        #else
        return Darwin.send(descriptor, &byte, 1, 0) == 1
        #endif
    }

    /// Sends all of `bytes`; false when the connection broke.
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.allSatisfy { send(byte: $0) }
    }

    /// Whether the server has closed the connection (end of stream or reset).
    var isClosedByPeer: Bool {
        var buffer = [UInt8](repeating: 0, count: 512)
        let received = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if received == 0 { return true }
        if received < 0 { return errno == ECONNRESET }
        return false
    }

    deinit { close(descriptor) }
}
