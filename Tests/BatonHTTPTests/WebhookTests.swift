import BatonCore
import BatonHTTP
import BatonTestSupport
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresClient
import Synchronization
import Testing

/// Signed webhooks end to end: a subscription through the API, an event from a stock receipt,
/// the dispatcher and the delivery worker as `baton serve` runs them, and a receiver on
/// 127.0.0.1 that checks the signature, answers 500 when told to, and sees redeliveries.
@Suite(.requiresDatabase) struct WebhookTests {
    static let ifMatch = HTTPField.Name("If-Match")!
    static let secret = "whsec_test-secret-0123456789"
    /// Quick retries, and private addresses allowed so the receiver on loopback can be reached.
    static let settings = WebhookSettings(allowPrivateAddresses: true, timeout: .seconds(10), backoffBaseSeconds: 1, pollInterval: .milliseconds(100))

    /// A request the receiver got.
    struct Received: Sendable {
        var headers: [String: String]
        var body: [UInt8]
    }

    /// An HTTP receiver on 127.0.0.1 (a port of its own) that records every request and
    /// answers with its recorder's script.
    struct Receiver: Sendable {
        let port: Int
        let recorder: Recorder
        private let server: Task<Void, any Error>

        static func start() async throws -> Receiver {
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let recorder = Recorder()
            let router = Router()
            router.post("hook") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                var headers: [String: String] = [:]
                // Names in lower case: HTTP header names are case-insensitive.
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                return Response(status: .init(code: recorder.record(Received(headers: headers, body: Array(buffer: body)))))
            }
            let application = Application(
                router: router,
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in
                    continuation.yield(channel.localAddress?.port ?? 0)
                    continuation.finish()
                },
                logger: Logger(label: "receiver", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let server = Task { try await application.run() }
            var port = 0
            for await bound in ports { port = bound }
            return Receiver(port: port, recorder: recorder, server: server)
        }

        func stop() { server.cancel() }
    }

    /// What the receiver got and will answer.
    final class Recorder: Sendable {
        private let state = Mutex<(received: [Received], script: [Int])>(([], []))

        var received: [Received] { state.withLock { $0.received } }
        func answer(_ statuses: [Int]) { state.withLock { $0.script = statuses } }

        func record(_ request: Received) -> Int {
            state.withLock { state in
                state.received.append(request)
                return state.script.isEmpty ? 200 : state.script.removeFirst()
            }
        }
    }

    /// Polls `condition` every 100 ms for up to `seconds` (a loaded machine is slow).
    static func eventually(within seconds: Int = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// A product and a subscription to `stock.*` at the receiver; returns the webhook's id.
    static func subscribe(_ api: API, receiver: Receiver, types: String = #"["stock.*"]"#) async throws -> Int {
        try await api.seedReferenceData()
        _ = try await StockEndpointTests.product(api)
        let created = try await api.call(
            .post,
            "/v1/webhooks",
            json: #"{"url":"http://127.0.0.1:\#(receiver.port)/hook","event_types":\#(types),"secret":"\#(secret)","description":"test"}"#
        )
        try api.expect(.created, created)
        let json = try created.json(AnyJSON.self)
        #expect(json["secret"]?.string == secret)
        return try #require(json["webhook"]?["id"]?.int)
    }

    /// The dispatcher and worker of `baton serve`, stepped by hand until `condition` holds.
    static func deliver(_ database: BatonDatabase, settings: WebhookSettings = settings, until condition: () async throws -> Bool) async throws {
        let services = BatonServices(database: database, webhooks: settings)
        let dispatcher = WebhookDispatcher(services: services, settings: settings, logger: TestDatabase.quietLogger)
        let transport = WebhookHTTPTransport()
        let worker = WebhookWorker(services: services, transport: transport, settings: settings, logger: TestDatabase.quietLogger)
        let done: Bool
        do {
            done = try await eventually {
                try await dispatcher.step()
                try await worker.step()
                return try await condition()
            }
        } catch {
            try await transport.shutdown()
            throw error
        }
        try await transport.shutdown()
        #expect(done, "deliveries did not reach the receiver in time")
    }

    static func deliveries(_ api: API, webhook: Int) async throws -> [AnyJSON] {
        try await api.call(.get, "/v1/webhooks/\(webhook)/deliveries").json(AnyJSON.self)["deliveries"]?.array ?? []
    }

    /// A receiver answering `statuses` (then 200), an application that may reach it, a
    /// subscription to `stock.*` (`prepare`d further), a stock receipt and its first delivery
    /// attempt; then `body` with the webhook's id.
    static func withFirstDelivery(
        answering statuses: [Int] = [],
        prepare: @escaping @Sendable (BatonDatabase, Int) async throws -> Void = { _, _ in },
        _ body: @escaping @Sendable (API, BatonDatabase, Receiver, Int) async throws -> Void
    ) async throws {
        let receiver = try await Receiver.start()
        defer { receiver.stop() }
        try await withTestApplication(webhooks: Self.settings) { api, database in
            let webhook = try await Self.subscribe(api, receiver: receiver)
            try await prepare(database, webhook)
            receiver.recorder.answer(statuses)
            try api.expect(.ok, await api.call(.post, "/v1/stock/emea/PUMP-200/receive", json: #"{"quantity":5}"#))
            try await Self.deliver(database) { !receiver.recorder.received.isEmpty }
            try await body(api, database, receiver, webhook)
        }
    }

    @Test func theReceiverVerifiesTheSignatureOfAStockEvent() async throws {
        try await Self.withFirstDelivery { api, _, receiver, webhook in

            let request = try #require(receiver.recorder.received.first)
            let signature = try #require(request.headers["baton-signature"])
            let parts = Dictionary(
                uniqueKeysWithValues: signature.split(separator: ",").map { part in
                    let pair = part.split(separator: "=", maxSplits: 1)
                    return (String(pair[0]), String(pair[1]))
                }
            )
            let timestamp = try #require(parts["t"])
            #expect(request.headers["baton-timestamp"] == timestamp)
            // The receiver's own check: HMAC-SHA256 over "<t>.<body>" with the secret, in hex.
            var signed = Array("\(timestamp).".utf8)
            signed += request.body
            let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(Self.secret.utf8)))
                .map { String(format: "%02x", $0) }.joined()
            #expect(parts["v1"] == expected)
            #expect(WebhookSignature.verify(header: signature, secret: Self.secret, body: request.body, now: Int(Date().timeIntervalSince1970)))
            #expect(
                !WebhookSignature.verify(
                    header: signature,
                    secret: "whsec_another-secret-000",
                    body: request.body,
                    now: Int(Date().timeIntervalSince1970)
                )
            )

            let event = try JSONDecoder().decode(AnyJSON.self, from: Data(request.body))
            #expect(event["type"]?.string == "stock.moved")
            #expect(event["region"]?.string == "emea")
            #expect(event["entity"]?["type"]?.string == "stock")
            #expect(event["occurred_at"]?.string != nil)
            #expect(request.headers["baton-event-id"] == event["id"]?.int.map(String.init))
            #expect(request.headers["content-type"] == "application/json")

            let log = try await Self.deliveries(api, webhook: webhook)
            #expect(log.count == 1)
            #expect(log.first?["state"]?.string == "delivered")
            #expect(log.first?["attempts"]?.int == 1)
            #expect(log.first?["last_status_code"]?.int == 200)
            #expect(log.first?["event_id"]?.int == event["id"]?.int)
            // The secret is shown once: no read returns it.
            let read = try await api.call(.get, "/v1/webhooks/\(webhook)")
            try api.expect(.ok, read)
            #expect(!read.text.contains(Self.secret))
            #expect(!(try await api.call(.get, "/v1/webhooks")).text.contains(Self.secret))
        }
    }

    @Test func aFailedDeliveryIsRetriedWithBackoffUntilTheReceiverTakesIt() async throws {
        try await Self.withFirstDelivery(answering: [500]) { api, database, receiver, webhook in
            let failed = try #require(try await Self.deliveries(api, webhook: webhook).first)
            #expect(failed["state"]?.string == "retrying")
            #expect(failed["last_status_code"]?.int == 500)
            #expect(failed["next_attempt_at"]?.string != nil)
            let afterFailure = try await api.call(.get, "/v1/webhooks/\(webhook)").json(AnyJSON.self)
            #expect(afterFailure["failing_since"]?.string != nil)

            try await Self.deliver(database) { receiver.recorder.received.count >= 2 }
            let received = receiver.recorder.received
            #expect(received.count == 2)
            #expect(received[0].headers["baton-event-id"] == received[1].headers["baton-event-id"], "the retry carries the same event")
            let delivered = try #require(try await Self.deliveries(api, webhook: webhook).first)
            #expect(delivered["state"]?.string == "delivered")
            #expect(delivered["attempts"]?.int == 2)
            #expect(delivered["last_status_code"]?.int == 200)
            let recovered = try await api.call(.get, "/v1/webhooks/\(webhook)").json(AnyJSON.self)
            #expect(recovered["failing_since"] == nil, "a success ends the failure streak")
        }
    }

    @Test func aRedeliveryPostsTheEventAgain() async throws {
        try await Self.withFirstDelivery { api, database, receiver, webhook in
            let eventID = try #require(try await Self.deliveries(api, webhook: webhook).first?["event_id"]?.int)

            let redelivery = try await api.call(.post, "/v1/webhooks/\(webhook)/redeliver/\(eventID)")
            try api.expect(.accepted, redelivery)
            #expect(try redelivery.json(AnyJSON.self)["redelivery"]?.bool == true)
            try await Self.deliver(database) { receiver.recorder.received.count >= 2 }
            #expect(receiver.recorder.received.map { $0.headers["baton-event-id"] } == [String(eventID), String(eventID)])
            let log = try await Self.deliveries(api, webhook: webhook)
            #expect(log.count == 2)
            #expect(log.allSatisfy { $0["state"]?.string == "delivered" })
            try api.expect(.notFound, await api.call(.post, "/v1/webhooks/\(webhook)/redeliver/999999999"))
            // The dispatcher queued the event once, however often it ran.
            try await Self.deliver(database) { true }
            #expect(try await Self.deliveries(api, webhook: webhook).count == 2)
        }
    }

    @Test func batonctlListsSubscriptionsWithoutTheirSecretAndTheirDeliveries() async throws {
        try await Self.withFirstDelivery { api, _, receiver, webhook in
            let list = try CLIEndToEndTests.batonctl(["webhooks", "list"], url: api.url)
            #expect(list.status == 0, "\(list.error)")
            #expect(list.output.contains("127.0.0.1:\(receiver.port)"), "\(list.output)")
            #expect(list.output.contains("stock.*"))
            #expect(!list.output.contains(Self.secret), "never the secret")
            let json = try CLIEndToEndTests.batonctl(["webhooks", "deliveries", String(webhook), "--json"], url: api.url)
            #expect(json.status == 0, "\(json.error)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["state"] as? String == "delivered", "\(json.output)")
            let unknown = try CLIEndToEndTests.batonctl(["webhooks", "deliveries", "999999"], url: api.url)
            #expect(unknown.status == 1)
        }
    }

    @Test func aSubscriptionFailingForADayIsDisabledWithAnEvent() async throws {
        let failingForADay: @Sendable (BatonDatabase, Int) async throws -> Void = { database, webhook in
            try await database.pool.query("UPDATE webhooks SET failing_since = now() - interval '25 hours' WHERE id = $1", [webhook])
        }
        try await Self.withFirstDelivery(answering: [503], prepare: failingForADay) { api, _, _, webhook in
            let read = try await api.call(.get, "/v1/webhooks/\(webhook)").json(AnyJSON.self)
            #expect(read["active"]?.bool == false)
            #expect(read["disabled_at"]?.string != nil)
            let events = try await api.call(.get, "/v1/events?types=webhook.disabled&wait_seconds=20").json(AnyJSON.self)["events"]?.array ?? []
            #expect(events.count == 1)
            #expect(try await Self.deliveries(api, webhook: webhook).first?["state"]?.string == "cancelled")
            try api.expect(.conflict, await api.call(.post, "/v1/webhooks/\(webhook)/redeliver/1"))
        }
    }

    @Test func outboundURLsAreCheckedWhenSubscribingAndAgainBeforeEachDelivery() async throws {
        try await withTestApplication { api, database in
            func subscribe(_ url: String) async throws -> TestResponse {
                try await api.call(.post, "/v1/webhooks", json: #"{"url":"\#(url)","event_types":["*"]}"#)
            }
            for url in [
                "ftp://127.0.0.1/hook", "http://user:password@203.0.113.9/hook", "http://127.0.0.1:9/hook", "http://10.1.2.3/hook",
                "http://169.254.169.254/latest", "http://[::1]/hook", "http://192.168.1.1/", "https://receiver.invalid/hook", "not a url",
            ] {
                let response = try await subscribe(url)
                #expect(response.status == .unprocessableContent, "\(url): \(response.text)")
                #expect(try response.errorEnvelope().error.details?["field"] == "url", "\(url)")
            }
            let badPattern = try await api.call(.post, "/v1/webhooks", json: #"{"url":"https://receiver.invalid/","event_types":["Order.*"]}"#)
            #expect(badPattern.status == .badRequest)
            let noTypes = try await api.call(.post, "/v1/webhooks", json: #"{"url":"https://receiver.invalid/","event_types":[]}"#)
            #expect(noTypes.status == .badRequest)

            // A URL allowed when the subscription was made is checked again when it is used.
            let receiver = try await Receiver.start()
            defer { receiver.stop() }
            let strict = WebhookSettings(backoffBaseSeconds: 1, pollInterval: .milliseconds(100))
            let services = BatonServices(database: database, webhooks: Self.settings)
            let (created, _) = try await services.webhooks.create(
                NewWebhook(url: "http://127.0.0.1:\(receiver.port)/hook", eventTypes: ["*"]),
                by: .system()
            )
            try await api.seedReferenceData()
            try await Self.deliver(database, settings: strict) {
                try await Self.deliveries(api, webhook: created.id).contains { $0["state"]?.string == "retrying" }
            }
            let refused = try #require(try await Self.deliveries(api, webhook: created.id).first { $0["state"]?.string == "retrying" })
            #expect(refused["last_error"]?.string?.hasPrefix("refused") == true)
            #expect(receiver.recorder.received.isEmpty)
            let patch = try await api.call(
                .patch,
                "/v1/webhooks/\(created.id)",
                json: #"{"url":"http://127.0.0.1:1/other"}"#,
                headers: [Self.ifMatch: #""1""#]
            )
            #expect(patch.status == .unprocessableContent)
        }
    }

    @Test func onlyAdminsWithEveryRegionManageWebhooks() async throws {
        try await withTestApplication(webhooks: Self.settings) { api, _ in
            try await api.seedReferenceData()
            let created = try await api.call(
                .post,
                "/v1/webhooks",
                json: #"{"url":"http://127.0.0.1:9/hook","event_types":["order.*","stock.below_reorder"]}"#
            )
            try api.expect(.created, created)
            let json = try created.json(AnyJSON.self)
            let id = try #require(json["webhook"]?["id"]?.int)
            #expect(json["secret"]?.string?.hasPrefix("whsec_") == true)

            for token in [
                try await api.makeToken(role: "viewer", regions: ["emea"]), try await api.makeToken(role: "coordinator", regions: ["emea"]),
                try await api.makeToken(role: "lead", teams: ["sales-emea"]), try await api.makeToken(role: "agent", teams: ["sales-emea"]),
                try await api.makeToken(role: "admin", regions: ["emea"]),
            ] {
                try api.expect(.forbidden, await api.call(.get, "/v1/webhooks", token: .some(token)))
                try api.expect(.forbidden, await api.call(.get, "/v1/webhooks/\(id)/deliveries", token: .some(token)))
                try api.expect(
                    .forbidden,
                    await api.call(.post, "/v1/webhooks", json: #"{"url":"http://127.0.0.1:9/","event_types":["*"]}"#, token: .some(token))
                )
            }
            try api.expect(.unauthorized, await api.call(.get, "/v1/webhooks", token: .some(nil)))

            // Edits name the version; a stale one is 412.
            let edited = try await api.call(
                .patch,
                "/v1/webhooks/\(id)",
                json: #"{"active":false,"description":"paused"}"#,
                headers: [Self.ifMatch: #""1""#]
            )
            try api.expect(.ok, edited)
            #expect(edited.headers[.eTag] == #""2""#)
            try api.expect(
                .preconditionFailed,
                await api.call(.patch, "/v1/webhooks/\(id)", json: #"{"active":true}"#, headers: [Self.ifMatch: #""1""#])
            )
            try api.expect(.ok, await api.call(.delete, "/v1/webhooks/\(id)"))
            try api.expect(.notFound, await api.call(.get, "/v1/webhooks/\(id)"))
        }
    }
}
