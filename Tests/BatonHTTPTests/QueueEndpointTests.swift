import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct QueueEndpointTests {
    @Test func aTaskGoesThroughCreateClaimCompleteWithEvents() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let created = try await api.call(
                .post,
                "/v1/teams/sales-emea/tasks",
                json: #"{"kind":"qualify_lead","title":"Call ACME","payload":{"lead":"acme"},"priority":"high","tags":["vip"]}"#
            )
            #expect(created.status == .created)
            let task = try created.json(AnyJSON.self)
            let id = try #require(task["id"]?.int)
            #expect(task["state"]?.string == "queued")
            #expect(task["priority"]?.string == "high")
            #expect(task["payload"]?["lead"]?.string == "acme")

            let claimed = try await api.call(.post, "/v1/teams/sales-emea/claim", json: #"{"worker":"w1","limit":5,"lease_seconds":30}"#)
            #expect(claimed.status == .ok)
            let claim = try claimed.json(AnyJSON.self)["tasks"]?[0]
            #expect(claim?["id"]?.int == id)
            #expect(claim?["attempts"]?.int == 1)
            let token = try #require(claim?["lease"]?["token"]?.string)

            let done = try await api.call(.post, "/v1/tasks/\(id)/complete", json: #"{"lease_token":"\#(token)","result":{"ok":true}}"#)
            #expect(done.status == .ok)
            #expect(try done.json(AnyJSON.self)["state"]?.string == "done")
            // A second complete with the same token is a stale lease: 409 with the state, nothing changes.
            let again = try await api.call(.post, "/v1/tasks/\(id)/complete", json: #"{"lease_token":"\#(token)"}"#)
            #expect(again.status == .conflict)
            #expect(try again.errorEnvelope().error.details?["state"] == "done")

            let detail = try await api.call(.get, "/v1/tasks/\(id)").json(AnyJSON.self)
            #expect(detail["events"]?.array.compactMap { $0["type"]?.string } == ["task.created", "task.claimed", "task.completed"])
            #expect(detail["task"]?["lease"] == nil)
        }
    }

    /// Each filter of the task list narrows it, alone and together, in id order.
    @Test func theTaskListFiltersByTeamStateKindSubjectTagAndCreationTime() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            func create(_ team: String, _ body: String) async throws -> Int {
                let created = try await api.call(.post, "/v1/teams/\(team)/tasks", json: body)
                try api.expect(.created, created)
                return try #require(try created.json(AnyJSON.self)["id"]?.int)
            }
            let vip = try await create("sales-emea", #"{"kind":"call","title":"VIP","tags":["vip","emea"]}"#)
            let order = try await create("sales-emea", #"{"kind":"call","title":"About SO-1","subject":{"type":"order","id":"SO-1"}}"#)
            let ship = try await create(
                "logistics-emea",
                #"{"kind":"ship","title":"Ship SO-1","subject":{"type":"order","id":"SO-1"},"tags":["vip"]}"#
            )
            let claimed = try await api.call(.post, "/v1/teams/logistics-emea/claim", json: #"{"worker":"w1","limit":1,"lease_seconds":30}"#)
            try api.expect(.ok, claimed)
            let createdAt = try #require(try await api.call(.get, "/v1/tasks/\(order)").json(AnyJSON.self)["task"]?["created_at"]?.string)
            let encodedAt = try #require(createdAt.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            func listed(_ query: String) async throws -> [Int] {
                let response = try await api.call(.get, "/v1/tasks?\(query)")
                try api.expect(.ok, response)
                return try response.json(AnyJSON.self)["tasks"]?.array.compactMap { $0["id"]?.int } ?? []
            }
            #expect(try await listed("team=sales-emea") == [vip, order])
            #expect(try await listed("state=queued") == [vip, order])
            #expect(try await listed("state=claimed") == [ship])
            #expect(try await listed("state=claimed&team=sales-emea") == [])
            #expect(try await listed("kind=call") == [vip, order])
            #expect(try await listed("subject=order:SO-1") == [order, ship])
            #expect(try await listed("subject=order:SO-1&team=logistics-emea") == [ship])
            #expect(try await listed("tag=vip") == [vip, ship])
            #expect(try await listed("tag=emea&kind=call") == [vip])
            #expect(try await listed("created_after=\(encodedAt)") == [order, ship])
            #expect(try await listed("created_before=\(encodedAt)") == [vip])
            #expect(try await listed("state=dead") == [])
        }
    }

    @Test func dedupeKeysReturnTheLiveTask() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let body = #"{"kind":"ship_order","title":"Ship SO-1","dedupe_key":"SO-1"}"#
            let first = try await api.call(.post, "/v1/teams/logistics-emea/tasks", json: body)
            let second = try await api.call(.post, "/v1/teams/logistics-emea/tasks", json: body)
            #expect(first.status == .created)
            #expect(second.status == .ok)
            #expect(try first.json(AnyJSON.self)["id"]?.int == second.json(AnyJSON.self)["id"]?.int)
        }
    }

    @Test func idempotencyKeyMakesFiftyConcurrentRequestsOneEffect() async throws {
        // Duplicates wait for the first on its key's row, each holding a pooled connection, and
        // the rest queue for one: on a machine loaded by every other suite that wait can pass the
        // usual 5 s and turn into a 503, which says nothing about idempotency. So a long one here.
        try await withTestApplication(poolSize: 20, acquireTimeout: .seconds(60)) { api, database in
            try await api.seedReferenceData()
            let body = #"{"kind":"follow_up","title":"Call back"}"#
            let statuses = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await api.call(
                            .post,
                            "/v1/teams/support-emea/tasks",
                            json: body,
                            headers: [HTTPField.Name("Idempotency-Key")!: "key-1"]
                        )
                        return (Int(response.status.code), try? response.json(AnyJSON.self)["id"]?.int)
                    }
                }
                var results: [(Int, Int?)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(statuses.allSatisfy { $0.0 == 201 }, "every duplicate gets the first response: \(statuses.map(\.0))")
            #expect(Set(statuses.compactMap(\.1)).count == 1)
            let count = try await database.pool.query("SELECT count(*) AS n FROM tasks WHERE team = 'support-emea'")
            #expect(try count.first?.decode(Int.self, "n") == 1)
            let conflict = try await api.call(
                .post,
                "/v1/teams/support-emea/tasks",
                json: #"{"kind":"other","title":"Different"}"#,
                headers: [HTTPField.Name("Idempotency-Key")!: "key-1"]
            )
            #expect(conflict.status == .conflict)
        }
    }

    @Test func failuresBackOffThenDieAndRetryRevives() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let created = try await api.call(.post, "/v1/teams/logistics-apac/tasks", json: #"{"kind":"pick","title":"Pick","max_attempts":3}"#)
            let id = try #require(try created.json(AnyJSON.self)["id"]?.int)
            for attempt in 1...3 {
                try await database.pool.query("UPDATE tasks SET run_at = now() WHERE id = $1", [id])
                let claim = try await api.call(.post, "/v1/teams/logistics-apac/claim", json: #"{"worker":"w","lease_seconds":30}"#)
                let token = try #require(try claim.json(AnyJSON.self)["tasks"]?[0]?["lease"]?["token"]?.string)
                let started = Date()
                let failed = try await api.call(.post, "/v1/tasks/\(id)/fail", json: #"{"lease_token":"\#(token)","error":"scanner offline"}"#)
                let answered = Date()
                #expect(failed.status == .ok)
                let task = try failed.json(AnyJSON.self)
                #expect(task["attempts"]?.int == attempt)
                if attempt < 3 {
                    #expect(task["state"]?.string == "queued")
                    // Base 10 s doubled per attempt, jittered by ±25 %, counted from the moment the
                    // server handled the request: somewhere between sending it and its answer.
                    let row = try #require(try await database.pool.query("SELECT run_at FROM tasks WHERE id = $1", [id]).first)
                    let runAt = try row.decode(Date.self, "run_at")
                    let base = 10.0 * pow(2, Double(attempt - 1))
                    let earliest = started.addingTimeInterval(base * 0.75 - 0.01)
                    let latest = answered.addingTimeInterval(base * 1.25 + 0.01)
                    #expect(runAt >= earliest && runAt <= latest, "attempt \(attempt) waits until \(runAt), not within \(earliest)...\(latest)")
                } else {
                    #expect(task["state"]?.string == "dead")
                    #expect(task["last_error"]?.string == "scanner offline")
                }
            }
            let types = try await database.pool.query(
                "SELECT type FROM events WHERE entity_id = $1 AND type IN ('task.failed','task.retry_scheduled','task.dead') ORDER BY id",
                [String(id)]
            ).map { try $0.decode(String.self, "type") }
            #expect(types == ["task.failed", "task.retry_scheduled", "task.failed", "task.retry_scheduled", "task.failed", "task.dead"])
            let stats = try await api.call(.get, "/v1/teams/logistics-apac/stats").json(AnyJSON.self)
            #expect(stats["dead"]?.int == 1)
            let retried = try await api.call(.post, "/v1/tasks/\(id)/retry")
            #expect(retried.status == .ok)
            #expect(try retried.json(AnyJSON.self)["state"]?.string == "queued")
            #expect(try await api.call(.post, "/v1/tasks/\(id)/retry").status == .conflict)
        }
    }

    @Test func handoffIsAtomicAndTheChainReadsBackInOrder() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let won = try await api.call(
                .post,
                "/v1/teams/sales-emea/tasks",
                json: #"{"kind":"deal_won","title":"ACME deal","payload":{"order":"SO-7"}}"#
            )
            let salesID = try #require(try won.json(AnyJSON.self)["id"]?.int)
            let claim = try await api.call(.post, "/v1/teams/sales-emea/claim", json: #"{"worker":"s1"}"#)
            let token = try #require(try claim.json(AnyJSON.self)["tasks"]?[0]?["lease"]?["token"]?.string)
            // Without the lease token a claimed task cannot be handed off.
            let refused = try await api.call(.post, "/v1/tasks/\(salesID)/handoff", json: #"{"to_team":"logistics-apac","note":"ship it"}"#)
            #expect(refused.status == .conflict)

            let handoff = try await api.call(
                .post,
                "/v1/tasks/\(salesID)/handoff",
                json: #"{"to_team":"logistics-apac","note":"ship it","kind":"ship_order","lease_token":"\#(token)"}"#
            )
            #expect(handoff.status == .ok)
            let result = try handoff.json(AnyJSON.self)
            #expect(result["handed_off"]?["state"]?.string == "handed_off")
            let logisticsID = try #require(result["task"]?["id"]?.int)
            #expect(result["task"]?["team"]?.string == "logistics-apac")
            #expect(result["task"]?["region"]?.string == "apac")
            #expect(result["task"]?["payload"]?["order"]?.string == "SO-7")
            #expect(result["task"]?["handed_off_from"]?.int == salesID)

            // Logistics sends it back with a reason: a rejected handoff.
            let back = try await api.call(.post, "/v1/tasks/\(logisticsID)/handoff", json: #"{"to_team":"sales-emea","note":"address missing"}"#)
            #expect(back.status == .ok)
            let returnedID = try #require(try back.json(AnyJSON.self)["task"]?["id"]?.int)

            let detail = try await api.call(.get, "/v1/tasks/\(logisticsID)").json(AnyJSON.self)
            #expect(detail["chain"]?.array.compactMap { $0["id"]?.int } == [salesID, logisticsID, returnedID])
            #expect(detail["chain"]?.array.compactMap { $0["team"]?.string } == ["sales-emea", "logistics-apac", "sales-emea"])
            let events = detail["events"]?.array.compactMap { $0["type"]?.string } ?? []
            #expect(events.contains("task.handed_off"))
            #expect(events.contains("task.handoff_rejected"))

            #expect(
                try await api.call(.post, "/v1/tasks/\(returnedID)/handoff", json: #"{"to_team":"sales-emea","note":"x"}"#).status
                    == .unprocessableContent
            )
            #expect(try await api.call(.post, "/v1/tasks/\(salesID)/handoff", json: #"{"to_team":"support-emea","note":"x"}"#).status == .conflict)
            let live = try await database.pool.query(
                "SELECT count(*) AS n FROM tasks WHERE chain_id = $1 AND state IN ('queued','claimed')",
                [salesID]
            )
            #expect(try live.first?.decode(Int.self, "n") == 1, "exactly one live task per chain")
        }
    }

    @Test func aLongPollClaimWakesPromptlyWhenATaskIsCommitted() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            var wakeDelays: [Duration] = []
            // Best of ten: the suite runs in parallel on two cores, and one slow scheduling
            // round must not decide; a notification that did not arrive would show in every one.
            for round in 0..<10 {
                let waiter = Task {
                    let response = try await api.call(.post, "/v1/teams/marketing-emea/claim", json: #"{"worker":"lp","wait_seconds":10}"#)
                    return (ContinuousClock.now, try response.json(AnyJSON.self)["tasks"]?.array.count ?? 0)
                }
                try await Task.sleep(for: .milliseconds(300))
                try api.expect(.created, await api.call(.post, "/v1/teams/marketing-emea/tasks", json: #"{"kind":"k","title":"round \#(round)"}"#))
                let committed = ContinuousClock.now
                let (woke, count) = try await waiter.value
                #expect(count == 1)
                wakeDelays.append(woke - committed)
            }
            // The fallback poll would wake a waiter anywhere within a second (half a second in the
            // median); a notification takes milliseconds. The median, not the slowest round, so one
            // round stalled by the parallel suite does not decide. (The fastest round does not tell
            // the two apart: the best of ten poll wake-ups is about 90 ms; with the whole suite
            // running, a notified one was seen at 107 ms.)
            let sorted = wakeDelays.sorted()
            #expect(sorted[sorted.count / 2] < .milliseconds(300), "wake delays: \(wakeDelays)")
        }
    }

    @Test func aPausedTeamHandsOutNothingUntilResumed() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            try await api.call(.post, "/v1/teams/support-apac/tasks", json: #"{"kind":"k","title":"t"}"#)
            #expect(try await api.call(.post, "/v1/teams/support-apac/pause").status == .ok)
            let none = try await api.call(.post, "/v1/teams/support-apac/claim", json: #"{"worker":"w"}"#).json(AnyJSON.self)
            #expect(none["tasks"]?.array.isEmpty == true)
            #expect(try await api.call(.post, "/v1/teams/support-apac/resume").status == .ok)
            let one = try await api.call(.post, "/v1/teams/support-apac/claim", json: #"{"worker":"w"}"#).json(AnyJSON.self)
            #expect(one["tasks"]?.array.count == 1)
        }
    }

    @Test func malformedBodiesAndBadFieldsAreClear400s() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let malformed = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind": "x", "title": "#)
            #expect(malformed.status == .badRequest)
            #expect(try malformed.errorEnvelope().error.message.contains("not valid"))
            let wrongType = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind": 5, "title": "t"}"#)
            #expect(wrongType.status == .badRequest)
            #expect(try wrongType.errorEnvelope().error.message.contains("kind"))
            let missing = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"title": "t"}"#)
            #expect(missing.status == .badRequest)
            let bigPayload = String(repeating: "x", count: 70_000)
            let tooBig = try await api.call(
                .post,
                "/v1/teams/sales-emea/tasks",
                json: #"{"kind":"k","title":"t","payload":{"blob":"\#(bigPayload)"}}"#
            )
            #expect(tooBig.status == .unprocessableContent)
            let sqlish = #"Robert'); DROP TABLE tasks;--"#
            let stored = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"\#(sqlish)"}"#)
            #expect(stored.status == .created)
            #expect(try stored.json(AnyJSON.self)["title"]?.string == sqlish)
            let storedID = try #require(try stored.json(AnyJSON.self)["id"]?.int)
            let badToken = try await api.call(.post, "/v1/tasks/\(storedID)/complete", json: #"{"lease_token":"nope"}"#)
            #expect(badToken.status == .badRequest)
            #expect(try badToken.errorEnvelope().error.details?["field"] == "lease_token")
        }
    }
}

extension QueueEndpointTests {
    @Test func aHandoffIntoATeamThatHasTheSameDedupeKeyLiveIs409AndChangesNothing() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let source = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"t","dedupe_key":"order-7"}"#)
                .json(AnyJSON.self)
            let sourceID = try #require(source["id"]?.int)
            try await api.expect(
                .created,
                api.call(.post, "/v1/teams/logistics-emea/tasks", json: #"{"kind":"k","title":"t","dedupe_key":"order-7"}"#)
            )
            let response = try await api.call(.post, "/v1/tasks/\(sourceID)/handoff", json: #"{"to_team":"logistics-emea","note":"n"}"#)
            #expect(response.status == .conflict)
            #expect(try response.errorEnvelope().error.code == "conflict")
            let state = try await database.pool.query("SELECT state FROM tasks WHERE id = $1", [sourceID]).first?.decode(String.self, "state")
            #expect(state == "queued", "the source is untouched")
        }
    }
}
