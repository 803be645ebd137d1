import BatonCore
import BatonHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing
import Yams

@Suite(.requiresDatabase) struct MembersAndStreamTests {
    @Test func membersJoinTeamsAndDeactivationRevokesTheirTokens() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let created = try await api.call(.post, "/v1/members", json: #"{"name":"Ada Lindqvist","email":"ada@example.com"}"#)
            #expect(created.status == .created)
            let id = try #require(try created.json(AnyJSON.self)["id"]?.int)
            #expect(try await api.call(.post, "/v1/members", json: #"{"name":"Again","email":"ADA@example.com"}"#).status == .conflict)
            let joined = try await api.call(.post, "/v1/members/\(id)/memberships", json: #"{"team":"sales-emea","role":"lead"}"#)
            #expect(joined.status == .ok)
            #expect(try joined.json(AnyJSON.self)["memberships"]?[0]?["team"]?.string == "sales-emea")
            #expect(
                try await api.call(.post, "/v1/members/\(id)/memberships", json: #"{"team":"nope","role":"lead"}"#).status == .unprocessableContent
            )
            #expect(try await api.call(.post, "/v1/members", json: #"{"name":"X","email":"not-an-email"}"#).status == .badRequest)

            let (_, secret) = try await TokenStore(pool: database.pool).create(
                NewToken(name: "ada's", role: .lead, teams: ["sales-emea"], memberID: id),
                createdBy: "test"
            )
            #expect(try await api.call(.get, "/v1/teams/sales-emea/stats", token: .some(secret)).status == .ok)
            let listed = try await api.call(.get, "/v1/members", token: .some(secret)).json(AnyJSON.self)
            #expect(listed["members"]?.array.compactMap { $0["email"]?.string } == ["ada@example.com"])
            #expect(try await api.call(.post, "/v1/members/\(id)/deactivate", token: .some(secret)).status == .forbidden)
            let deactivated = try await api.call(.post, "/v1/members/\(id)/deactivate")
            #expect(try deactivated.json(AnyJSON.self)["active"] == .bool(false))
            #expect(try await api.call(.get, "/v1/teams/sales-emea/stats", token: .some(secret)).status == .unauthorized)
        }
    }

    @Test func theEventStreamSendsServerSentEventsAndResumesAfterLastEventID() async throws {
        try await withTestApplication(settings: ServerSettings(eventStreamLifetime: .milliseconds(1500))) { api, _ in
            try await api.seedReferenceData()
            try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"t"}"#)
            // The feed hands out an event once every older transaction in the cluster has ended
            // (other tests run beside this one): wait until all eleven are visible.
            var visible = 0
            for _ in 0..<50 where visible < 11 {
                visible = try await api.call(.get, "/v1/events?limit=100").json(AnyJSON.self)["events"]?.array.count ?? 0
                if visible < 11 { try await Task.sleep(for: .milliseconds(100)) }
            }
            try #require(visible == 11)
            let all = try await api.call(.get, "/v1/events/stream")
            #expect(all.status == .ok)
            #expect(all.headers[.contentType]?.hasPrefix("text/event-stream") == true)
            let ids = all.text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int($0.dropFirst(4)) }
            try #require(ids.count == 11, "2 regions, 8 teams and 1 task: \(all.text.prefix(300))")
            #expect(all.text.contains("event: task.created\ndata: {"))
            let resumed = try await api.call(.get, "/v1/events/stream", headers: [HTTPField.Name("Last-Event-ID")!: String(ids[9])])
            let resumedIDs = resumed.text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int($0.dropFirst(4)) }
            #expect(resumedIDs == [ids[10]])
            let bad = try await api.call(.get, "/v1/events/stream", headers: [HTTPField.Name("Last-Event-ID")!: "abc"])
            #expect(bad.status == .badRequest)
        }
    }

    @Test func everyStreamMessageIsAServerSentEventAsTheDocumentDescribesIt() async throws {
        // The document's description of a message, read from the document itself.
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BatonHTTP/openapi.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let stream = try #require(
            (((((document["paths"] as? [String: Any])?["/v1/events/stream"] as? [String: Any])?["get"] as? [String: Any])?["responses"]
                as? [String: Any])?["200"] as? [String: Any])?["content"] as? [String: Any]
        )
        let item = try #require((stream["text/event-stream"] as? [String: Any])?["x-baton-item-schema"] as? [String: Any])
        #expect(item["$ref"] as? String == "#/components/schemas/ServerSentEvent")
        let message = try #require(schemas["ServerSentEvent"] as? [String: Any])
        let eventSchema = try #require(schemas["Event"] as? [String: Any])
        let messageFields = try #require(message["required"] as? [String])
        let eventFields = try #require(eventSchema["required"] as? [String])
        let eventProperties = try #require(eventSchema["properties"] as? [String: [String: Any]])
        let propertyTypes = eventProperties.compactMapValues { $0["type"] as? String }

        try await withTestApplication(settings: ServerSettings(eventStreamLifetime: .milliseconds(1500))) { api, _ in
            try await api.seedReferenceData()
            try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"t"}"#)
            var text = ""
            for _ in 0..<50 where !text.contains("event: task.created") {
                text = try await api.call(.get, "/v1/events/stream").text
            }
            let messages = text.components(separatedBy: "\n\n").filter { $0.contains("\nevent: ") }
            #expect(messages.count >= 11)
            for block in messages {
                var fields: [String: String] = [:]
                for line in block.split(separator: "\n") {
                    let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { continue }
                    fields[parts[0]] = parts[1].hasPrefix(" ") ? String(parts[1].dropFirst()) : parts[1]
                }
                #expect(Set(messageFields).isSubset(of: Set(fields.keys)), "\(block)")
                let id = try #require(fields["id"])
                let numeric = id.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
                #expect(numeric, "id \(id) matches ^[0-9]+$")
                let data = try #require(
                    try JSONSerialization.jsonObject(with: Data((fields["data"] ?? "").utf8)) as? [String: Any],
                    "data is the event as a JSON object: \(block)"
                )
                for field in eventFields { #expect(data[field] != nil, "the event has \(field): \(block)") }
                for (name, value) in data {
                    let type = try #require(propertyTypes[name], "\(name) is a documented member of Event")
                    switch type {
                    case "integer": #expect(value is Int, "\(name) is an integer")
                    case "string": #expect(value is String, "\(name) is a string")
                    case "object": #expect(value is [String: Any], "\(name) is an object")
                    default: Issue.record("unexpected type \(type) of \(name)")
                    }
                }
                #expect(String(describing: data["id"] ?? "") == id, "the id line is the event's id")
                #expect(data["type"] as? String == fields["event"], "the event line is the event's type")
            }
        }
    }

    @Test func theEventsEndpointLongPollsAndPagesWithTheCursor() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            // The feed hands out an event once every older transaction in the cluster has ended
            // (other tests run beside this one), so page with a short wait rather than once.
            var seen: [Int] = []
            var cursor = 0
            var pages = 0
            while seen.count < 10, pages < 20 {
                let page = try await api.call(.get, "/v1/events?after=\(cursor)&limit=4&wait_seconds=2").json(AnyJSON.self)
                let ids = page["events"]?.array.compactMap { $0["id"]?.int } ?? []
                #expect(ids.count <= 4)
                seen += ids
                cursor = try #require(page["next_cursor"]?.int)
                pages += 1
            }
            #expect(seen.count == 10, "2 regions and 8 teams")
            #expect(Set(seen).count == seen.count)
            let end = cursor
            let waiter = Task { try await api.call(.get, "/v1/events?after=\(end)&wait_seconds=10&types=task.created") }
            try await Task.sleep(for: .milliseconds(300))
            try await api.call(.post, "/v1/teams/support-apac/tasks", json: #"{"kind":"k","title":"wake the feed"}"#)
            let woke = try await waiter.value.json(AnyJSON.self)
            #expect(woke["events"]?.array.compactMap { $0["type"]?.string } == ["task.created"])
            // A cursor that is no event's id is refused, not read as "from the start".
            let bogus = try await api.call(.get, "/v1/events?after=999999")
            #expect(bogus.status == .badRequest)
            #expect(try bogus.errorEnvelope().error.details?["field"] == "after")
        }
    }

    /// Timed on a quiet cluster (`scripts/test.sh` runs it after the main pass): the feed's
    /// rule is the cluster's, so in the parallel suite other tests' open transactions hold the
    /// event for seconds whatever the follower does (0.5–2.1 s seen in CI).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BATON_TEST_QUIET_CLUSTER"] == "1", "timed on a quiet cluster (scripts/test.sh)"))
    func aFollowerHeldBackByAQuietTransactionGetsTheEventSoonAfterItEnds() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            var cursor = 0
            while true {
                let page = try await api.call(.get, "/v1/events?after=\(cursor)&limit=100&wait_seconds=1").json(AnyJSON.self)
                let next = try #require(page["next_cursor"]?.int)
                if next == cursor { break }
                cursor = next
            }
            // A transaction with an older transaction id, open, that will end writing no event
            // (so sending no notification): the new event waits behind it. The best of five
            // rounds decides: without the re-read each round waits for the fallback poll.
            var delays: [Duration] = []
            for round in 0..<5 {
                let holder = try await PostgresConnection.connect(configuration: try PostgresConfiguration(api.url))
                try await holder.simpleQuery("BEGIN")
                try await holder.query("SELECT pg_current_xact_id()")
                let end = cursor
                let waiter = Task { () -> (ContinuousClock.Instant, Int?) in
                    let page = try await api.call(.get, "/v1/events?after=\(end)&wait_seconds=10&types=task.created").json(AnyJSON.self)
                    return (ContinuousClock.now, page["next_cursor"]?.int)
                }
                try await Task.sleep(for: .milliseconds(200))
                try api.expect(
                    .created,
                    await api.call(.post, "/v1/teams/support-apac/tasks", json: #"{"kind":"k","title":"held back \#(round)"}"#)
                )
                // The follower woke for the event and found it held back; the fallback poll
                // would next read about a second later.
                try await Task.sleep(for: .milliseconds(100))
                try await holder.simpleQuery("COMMIT")
                let ended = ContinuousClock.now
                await holder.close()
                let (answered, next) = try await waiter.value
                delays.append(answered - ended)
                cursor = try #require(next)
            }
            #expect(try #require(delays.min()) < .milliseconds(500), "the follower had the event after the holder ended: \(delays)")
        }
    }
}
