import BatonCore
import BatonHTTP
import BatonTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a careless or malicious client sends: oversized, deeply nested, mis-encoded or
/// overflowing bodies, SQL-looking text, forged headers and traversal in paths. Each answer is
/// the right 4xx in the error envelope, never a 500, and nothing is written.
@Suite(.requiresDatabase) struct HostileInputTests {
    static func count(_ table: String, in database: BatonDatabase) async throws -> Int {
        try #require(try await database.pool.query("SELECT count(*) AS n FROM \(unescaped: table)").first?.decode(Int.self, "n"))
    }

    /// Sends raw bytes as a JSON body, for bodies a Swift string cannot hold.
    static func post(_ api: API, _ uri: String, bytes: [UInt8], headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.authorization] = "Bearer \(api.token)"
        fields[.contentType] = "application/json"
        return try await api.client.execute(uri: uri, method: .post, headers: fields, body: ByteBuffer(bytes: bytes)) { $0 }
    }

    @Test func bodiesOverTheLimitAre413AndStoreNothing() async throws {
        try await withTestApplication(settings: ServerSettings(maximumBodyBytes: 4096)) { api, database in
            try await api.seedReferenceData()
            let title = String(repeating: "x", count: 400)
            let big = #"{"kind":"k","title":"\#(title)","payload":{"filler":"\#(String(repeating: "y", count: 8000))"}}"#
            let single = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: big)
            #expect(single.status == .contentTooLarge)
            #expect(try single.errorEnvelope().error.code == "payload_too_large")
            #expect(try single.errorEnvelope().error.details?["limit_bytes"] == "4096")

            let tasks = Array(repeating: #"{"kind":"k","title":"\#(title)"}"#, count: 20).joined(separator: ",")
            let batch = try await api.call(.post, "/v1/teams/sales-emea/tasks/batch", json: #"{"tasks":[\#(tasks)]}"#)
            #expect(batch.status == .contentTooLarge)
            #expect(try batch.errorEnvelope().error.code == "payload_too_large")

            // The limit is on bytes received, not on what Content-Length claims.
            let lying = try await api.call(
                .post,
                "/v1/teams/sales-emea/tasks",
                json: big,
                headers: [.contentLength: "10"]
            )
            #expect([413, 400].contains(lying.status.code))
            #expect(try await Self.count("tasks", in: database) == 0)
        }
    }

    @Test func tenThousandNestedArraysAre400AndTheServerStaysUp() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let depth = 10_000
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            for body in [
                #"{"kind":"k","title":"t","payload":{"deep":\#(nested)}}"#,
                #"{"kind":\#(nested),"title":"t"}"#,
                String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth),
            ] {
                let response = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: body)
                #expect(response.status == .badRequest, "\(response.text.prefix(200))")
                #expect(try response.errorEnvelope().error.code == "bad_request")
            }
            #expect(try await Self.count("tasks", in: database) == 0)
            #expect(try await api.call(.get, "/healthz").status == .ok)
        }
    }

    @Test func invalidUTF8InAJSONBodyIs400() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let sequences: [[UInt8]] = [
                [0xFF, 0xFE],  // never valid in UTF-8
                [0xC3],  // a lead byte with no continuation
                [0xED, 0xA0, 0x80],  // an encoded surrogate (U+D800)
                [0xC0, 0xAF],  // an overlong "/"
            ]
            for bad in sequences {
                let bytes = Array(#"{"kind":"k","title":"a"#.utf8) + bad + Array(#"b"}"#.utf8)
                let response = try await Self.post(api, "/v1/teams/sales-emea/tasks", bytes: bytes)
                #expect(response.status == .badRequest, "\(bad): \(response.text)")
                #expect(try response.errorEnvelope().error.code == "bad_request")
            }
            // Valid JSON whose escapes name a lone surrogate is refused too.
            let lone = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"\ud800"}"#)
            #expect(lone.status == .badRequest)
            #expect(try await Self.count("tasks", in: database) == 0)
        }
    }

    @Test func hugeNumbersAre400NotA500() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            for number in ["1e400", "-1e400", "18446744073709551616", "9223372036854775808", "-9223372036854775809", "1.5"] {
                let response = try await api.call(
                    .post,
                    "/v1/teams/sales-emea/tasks",
                    json: #"{"kind":"k","title":"t","max_attempts":\#(number)}"#
                )
                #expect(response.status == .badRequest, "max_attempts \(number): \(response.text)")
                #expect(try response.errorEnvelope().error.code == "bad_request" || response.errorEnvelope().error.code == "invalid_argument")
            }
            // In free-form JSON, a number no double can hold is refused rather than stored as infinity.
            let payload = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"t","payload":{"n":1e400}}"#)
            #expect(payload.status == .badRequest, "\(payload.text)")
            let claim = try await api.call(.post, "/v1/teams/sales-emea/claim", json: #"{"worker":"w","limit":18446744073709551616}"#)
            #expect(claim.status == .badRequest)
            let events = try await api.call(.get, "/v1/events?after=18446744073709551616")
            #expect(events.status == .badRequest)
            #expect(try events.errorEnvelope().error.code == "bad_request")
            #expect(try await Self.count("tasks", in: database) == 0)
        }
    }

    @Test func sqlLookingTextIsStoredVerbatimAndReadBackEqual() async throws {
        let hostile = [
            "'; DROP TABLE tasks; --",
            "$$; SELECT pg_sleep(10); $$",
            #"Robert'); DELETE FROM members WHERE ''=''; --"#,
            #"back\slash \' \" quote ''"#,
            "%_* LIKE wildcards %",
            "E'\\x41' || chr(65)",
        ]
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            func json(_ object: [String: Any]) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            }
            for (index, text) in hostile.enumerated() {
                let code = "zz\(index)"
                let region = try await api.call(.post, "/v1/regions", json: try json(["code": code, "name": text, "time_zone": "UTC"]))
                #expect(region.status == .created, "\(region.text)")
                #expect(try region.json(AnyJSON.self)["name"]?.string == text)

                let team = try await api.call(.post, "/v1/teams", json: try json(["department": "sales", "region": code, "name": text]))
                #expect(team.status == .created, "\(team.text)")
                #expect(try team.json(AnyJSON.self)["name"]?.string == text)

                let email = "o'brien+\(index)--@example.com"
                let member = try await api.call(.post, "/v1/members", json: try json(["name": text, "email": email]))
                #expect(member.status == .created, "\(member.text)")
                #expect(try member.json(AnyJSON.self)["name"]?.string == text)
                #expect(try member.json(AnyJSON.self)["email"]?.string == email)

                let task = try await api.call(
                    .post,
                    "/v1/teams/sales-\(code)/tasks",
                    json: try json([
                        "kind": text, "title": text, "dedupe_key": text, "tags": [text],
                        "subject": ["type": text, "id": text], "payload": [text: text],
                    ])
                )
                #expect(task.status == .created, "\(task.text)")
                let id = try #require(try task.json(AnyJSON.self)["id"]?.int)
                let read = try await api.call(.get, "/v1/tasks/\(id)").json(AnyJSON.self)["task"]
                #expect(read?["kind"]?.string == text)
                #expect(read?["title"]?.string == text)
                #expect(read?["dedupe_key"]?.string == text)
                #expect(read?["tags"]?[0]?.string == text)
                #expect(read?["subject"]?["type"]?.string == text)
                #expect(read?["subject"]?["id"]?.string == text)
                #expect(read?["payload"]?[text]?.string == text)
            }
            let regions = try await api.call(.get, "/v1/regions").json(AnyJSON.self)["regions"]?.array ?? []
            let names = Set(regions.compactMap { region in region["name"]?.string })
            #expect(names.isSuperset(of: hostile))
            // Filters bind the text as a value: a wildcard matches itself, not everything.
            let filtered = try await api.call(.get, "/v1/tasks?kind=%25_*%20LIKE%20wildcards%20%25").json(AnyJSON.self)
            #expect(filtered["tasks"]?.array.count == 1)
            let percent = try await api.call(.get, "/v1/tasks?kind=%25").json(AnyJSON.self)
            #expect(percent["tasks"]?.array.isEmpty == true)
            #expect(try await Self.count("tasks", in: database) == hostile.count)
            #expect(try await Self.count("members", in: database) == hostile.count)
        }
    }

    @Test func forgedIdempotencyKeysAre400AndNeverReflected() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let keys = [
                "abc\r\nX-Injected: yes",
                "abc\nSet-Cookie: session=stolen",
                String(repeating: "k", count: 256),
                String(repeating: "k", count: 100_000),
                "ключ-идемпотентности",
                "key with spaces",
                "tab\tkey",
            ]
            for key in keys {
                let response = try await api.call(
                    .post,
                    "/v1/teams/sales-emea/tasks",
                    json: #"{"kind":"k","title":"t"}"#,
                    headers: [HTTPField.Name("Idempotency-Key")!: key]
                )
                #expect(response.status == .badRequest, "\(key.prefix(40)): \(response.text)")
                let envelope = try response.errorEnvelope()
                #expect(envelope.error.code == "invalid_argument")
                #expect(envelope.error.details?["field"] == "Idempotency-Key")
                for field in response.headers {
                    #expect(!["X-Injected", "Set-Cookie", "Idempotency-Key"].contains(field.name.rawName))
                    // The key itself, or its injected parts (a random request id may hold "abc").
                    #expect(
                        !field.value.contains(key) && !field.value.contains("Injected") && !field.value.contains("stolen"),
                        "a response header repeats the key: \(field)"
                    )
                }
                #expect(!response.text.contains("Set-Cookie") && !response.text.contains("X-Injected"))
            }
            #expect(try await Self.count("tasks", in: database) == 0)
            #expect(try await Self.count("idempotency_keys", in: database) == 0)
        }
    }

    @Test func traversalAndNULsInPathIDsAre400Or404() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let requests: [(HTTPRequest.Method, String)] = [
                (.get, "/v1/tasks/..%2F..%2Fetc%2Fpasswd"),
                (.get, "/v1/tasks/1%00"),
                (.get, "/v1/tasks/%00"),
                (.get, "/v1/tasks/1;DROP%20TABLE%20tasks"),
                (.post, "/v1/teams/%2e%2e/tasks"),
                (.post, "/v1/teams/..%2F..%2Fsales-emea/tasks"),
                (.post, "/v1/teams/sales-emea%00/tasks"),
                (.get, "/v1/regions/..%2f..%2fetc/calendar"),
                (.get, "/v1/regions/%2e%2e/calendar"),
                (.post, "/v1/tokens/1%2F..%2F2/revoke"),
            ]
            for (method, path) in requests {
                let response = try await api.call(method, path, json: method == .post ? #"{"kind":"k","title":"t"}"# : nil)
                #expect([400, 404].contains(response.status.code), "\(method) \(path): \(response.status) \(response.text)")
                let envelope = try response.errorEnvelope()
                let expected: Set<String> = response.status == .notFound ? ["not_found"] : ["bad_request", "invalid_argument"]
                #expect(expected.contains(envelope.error.code), "\(path): \(envelope.error.code)")
                #expect(!response.text.contains("/etc/passwd"))
            }
            #expect(try await Self.count("tasks", in: database) == 0)
            #expect(try await Self.count("api_tokens WHERE revoked_at IS NOT NULL", in: database) == 0)
        }
    }

    /// JSON Schema counts `2.0` and `1e1` as integers, so a client (or schemathesis) may send
    /// them for an integer parameter; they read as the integer, while `1.5` stays a 400.
    @Test func integralDecimalsInIntegerParametersReadAsIntegers() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            for title in ["a", "b", "c"] {
                let created = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"\#(title)"}"#)
                #expect(created.status == .created)
            }
            let listed = try await api.call(.get, "/v1/tasks?team=sales-emea&limit=2.0")
            #expect(listed.status == .ok, "\(listed.text)")
            let id = try #require((try JSONSerialization.jsonObject(with: Data(listed.text.utf8)) as? [String: Any])?["tasks"] as? [[String: Any]])
            #expect(id.count == 2)
            let first = try #require(id.first?["id"] as? Int)
            let byDecimal = try await api.call(.get, "/v1/tasks/\(first).0")
            #expect(byDecimal.status == .ok, "\(byDecimal.text)")
            #expect(try await api.call(.get, "/v1/tasks/\(first)e0").status == .ok)
            let fraction = try await api.call(.get, "/v1/tasks?team=sales-emea&limit=1.5")
            #expect(fraction.status == .badRequest)
            #expect(try fraction.errorEnvelope().error.code == "bad_request")
            #expect(try await api.call(.get, "/v1/meetings?member_id=1.0").status == .ok)
        }
    }
}

/// Slow-loris: clients that send their request head a byte at a time hold a connection each.
/// The idle timeout closes them while the server keeps answering everyone else.
@Suite(.requiresDatabase) struct SlowClientTests {
    @Test func fiftySlowClientsAreDroppedAfterTheIdleTimeoutWhileOthersAreServed() async throws {
        try await TestDatabase.withEmptyDatabase { url in
            let pool = ConnectionPool(try PostgresConfiguration(url), configuration: .init(size: 4, acquireTimeout: .seconds(5)))
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            try await database.migrate()
            let settings = ServerSettings(port: 0, idleTimeout: .seconds(8))
            let application = try BatonApplication.make(
                services: BatonServices(database: database),
                registry: testRegistry,
                settings: settings,
                logger: TestDatabase.quietLogger
            )
            try await application.test(.live) { client in
                let port = try #require(client.port)
                let slow = try (0..<50).map { _ in try RawConnection(port: port) }
                let head = Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
                let started = ContinuousClock.now
                var sent = 0
                var answered: [Duration] = []
                var connected = slow
                // Trickle one byte per client per second until the server has cut every slow client
                // off (the head is 40 bytes, so none ever completes it); meanwhile others are served
                // at once. The bytes keep arriving, so only a bound on reading the request cuts them.
                // The deadline is generous for a loaded machine; on a quiet one they go at about 8 s.
                while !connected.isEmpty, ContinuousClock.now - started < .seconds(30), sent < head.count {
                    for connection in connected { _ = connection.send(byte: head[sent]) }
                    sent += 1
                    let before = ContinuousClock.now
                    try await client.execute(uri: "/healthz", method: .get) { response in
                        #expect(response.status == .ok)
                    }
                    answered.append(ContinuousClock.now - before)
                    try await Task.sleep(for: .seconds(1))
                    connected = connected.filter { !$0.isClosedByPeer }
                }
                // Nobody waits for a slow client to be dropped: every answer comes well before the
                // 8 s idle timeout (loose, because the whole suite shares two cores; a request held
                // up in a full run took 4.1 s against the 4 s timeout this test used to have).
                #expect(!answered.isEmpty && answered.allSatisfy { $0 < .seconds(6) }, "\(answered)")
                #expect(connected.count == 0, "slow clients still connected after \(sent) bytes each")
                #expect(sent < head.count, "a slow client sent its whole head")
            }
            await pool.close(timeout: .seconds(1))
        }
    }
}
