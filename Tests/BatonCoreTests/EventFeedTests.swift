import BatonTestSupport
import Foundation
import PostgresClient
import Synchronization
import Testing

@testable import BatonCore

@Suite(.requiresDatabase) struct EventFeedTests {
    /// Eight writers, each committing `count` one-event transactions.
    static func write(_ pool: ConnectionPool, phase: Int, count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    for sequence in 0..<count {
                        try await pool.transaction { tx in
                            try await tx.query(
                                "INSERT INTO events (type, data) VALUES ('written', jsonb_build_object('phase', $1::int, 'writer', $2::int, 'n', $3::int))",
                                [phase, writer, sequence]
                            )
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func theFeedDeliversEveryEventOnceInOrderDespiteAnOpenTransaction() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 12) { pool, url in
            let feed = EventStore(pool: pool)
            let delivered = Mutex<[Int]>([])
            let stop = Mutex(false)
            // A follower pages through the feed the whole time, as a client would.
            let follower = Task {
                var cursor = 0
                while !stop.withLock({ $0 }) {
                    let page = try await feed.feed(after: cursor, limit: 37, types: nil, team: nil, scope: .everything)
                    delivered.withLock { $0 += page.map(\.id) }
                    cursor = page.last?.id ?? cursor
                    if page.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                }
            }

            // A transaction takes a small event id and stays open while others commit after it.
            let holder = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url))
            try await holder.simpleQuery("BEGIN")
            try await holder.query("INSERT INTO events (type, data) VALUES ('held', '{}')")
            let heldID = try #require(try await holder.query("SELECT max(id) AS id FROM events").first?.decode(Int.self, "id"))
            try await Self.write(pool, phase: 1, count: 25)
            try await Task.sleep(for: .milliseconds(100))
            // 200 events are committed, but none may be handed out past the open transaction.
            #expect(delivered.withLock { $0 }.isEmpty)
            try await holder.simpleQuery("COMMIT")
            await holder.close()

            // Then writers and the follower run concurrently with nothing held.
            try await Self.write(pool, phase: 2, count: 25)
            let deadline = ContinuousClock.now + .seconds(20)
            while delivered.withLock({ $0.count }) < 401, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            stop.withLock { $0 = true }
            try await follower.value

            let seen = delivered.withLock { $0 }
            #expect(seen.count == 401)
            #expect(Set(seen).count == seen.count, "no event delivered twice")
            #expect(seen.first == heldID, "the late-committing event comes first, not skipped")
            let all = try await pool.query("SELECT id FROM events ORDER BY id").map { try $0.decode(Int.self, "id") }
            #expect(Set(all) == Set(seen))
            // Each writer's own events arrive in the order it committed them.
            let order = try await pool.query(
                "SELECT id, (data->>'phase')::int * 1000 + (data->>'writer')::int AS w, (data->>'n')::int AS n FROM events WHERE type = 'written'"
            )
            var byID: [Int: (Int, Int)] = [:]
            for row in order { byID[try row.decode(Int.self, "id")] = (try row.decode(Int.self, "w"), try row.decode(Int.self, "n")) }
            var last: [Int: Int] = [:]
            for id in seen {
                guard let (writer, n) = byID[id] else { continue }
                #expect((last[writer] ?? -1) < n)
                last[writer] = n
            }
        }
    }

    /// What a woken follower asks after an empty read: are there events for it after its cursor,
    /// held back or freed since? An event freed between the read and the question still counts
    /// (the read missed it, and its holder may never notify); other teams' events do not.
    @Test func pendingEventsCountTheHeldAndTheFreedOfTheFollowersOwnTeams() async throws {
        try await TestDatabase.withMigratedDatabase { pool, url in
            let feed = EventStore(pool: pool)
            let apac = Scope(teams: ["support-apac"])
            try await pool.query("INSERT INTO events (type, team, region) VALUES ('seen', 'support-apac', 'apac')")
            // The feed's rule is the cluster's: other tests' open transactions may hold an event
            // back for a while, so reads that expect one wait for it.
            func read(after: Int, types: [String]? = nil) async throws -> [Event] {
                let deadline = ContinuousClock.now + .seconds(20)
                while true {
                    let page = try await feed.feed(after: after, limit: 10, types: types, team: nil, scope: apac)
                    if !page.isEmpty || ContinuousClock.now > deadline { return page }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let cursor = try #require(try await read(after: 0).last?.id)
            #expect(try await feed.hasPendingEvents(after: cursor, types: nil, team: nil, scope: apac) == false)

            let holder = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url))
            try await holder.simpleQuery("BEGIN")
            try await holder.query("SELECT pg_current_xact_id()")
            try await pool.query("INSERT INTO events (type, team, region) VALUES ('other', 'sales-emea', 'emea')")
            #expect(try await feed.hasPendingEvents(after: cursor, types: nil, team: nil, scope: apac) == false, "another team's event")
            try await pool.query("INSERT INTO events (type, team, region) VALUES ('mine', 'support-apac', 'apac')")
            // Held back: the read finds nothing, the question says to read again soon.
            #expect(try await feed.feed(after: cursor, limit: 10, types: nil, team: nil, scope: apac).isEmpty)
            #expect(try await feed.hasPendingEvents(after: cursor, types: nil, team: nil, scope: apac))
            #expect(try await feed.hasPendingEvents(after: cursor, types: ["seen"], team: nil, scope: apac) == false, "a type not followed")
            // Freed after a read that found nothing: still pending until it is read.
            try await holder.simpleQuery("COMMIT")
            await holder.close()
            #expect(try await feed.hasPendingEvents(after: cursor, types: nil, team: nil, scope: apac))
            let page = try await read(after: cursor)
            #expect(page.map(\.type) == ["mine"])
            #expect(try await feed.hasPendingEvents(after: try #require(page.last?.id), types: nil, team: nil, scope: apac) == false)
        }
    }

    /// A woken follower whose events stay held reads again after 2, 4, 8, 16, then every 20 ms.
    @Test func heldPausesStartShortAndDoubleToTwentyMilliseconds() {
        var pauses: [Duration] = []
        var pause = Duration.seconds(1)
        for _ in 0..<7 {
            pause = EventService.FollowerPace.heldPause(after: pause)
            pauses.append(pause)
        }
        #expect(pauses == [2, 4, 8, 16, 20, 20, 20].map { .milliseconds($0) })
    }

    /// The question walks the feed index from the cursor, never the whole log: under a generic
    /// plan an `EXISTS` form scanned every event (2 s per question at 10,000,000 events in the
    /// retention bench). A plan is not a timing: the table's sequential-scan counter must not move.
    @Test func pendingEventsAreFoundThroughTheFeedIndexUnderAGenericPlan() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 1) { pool, _ in
            let feed = EventStore(pool: pool)
            try await pool.query(
                """
                INSERT INTO events (type, team, region, entity_type, entity_id)
                SELECT 'task.created', 'sales-emea', 'emea', 'task', g::text FROM generate_series(1, 100000) AS g
                """
            )
            try await pool.query("ANALYZE events")
            let cursor = try #require(try await pool.query("SELECT max(id) AS id FROM events").first?.decode(Int.self, "id"))
            try await pool.query("SET plan_cache_mode = force_generic_plan")
            let before = try await sequentialScans(of: "events", pool)
            for _ in 0..<3 {
                #expect(try await feed.hasPendingEvents(after: cursor, types: ["task.created"], team: "marketing-emea", scope: .everything) == false)
            }
            #expect(try await sequentialScans(of: "events", pool) == before)
        }
    }
}
