import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct QueueStoreTests {
    static let system = Principal.system(source: "system")

    static func seed(_ pool: ConnectionPool) async throws -> Team {
        try await pool.query("INSERT INTO regions (code, name, time_zone) VALUES ('emea', 'EMEA', 'Europe/Berlin')")
        try await pool.query("INSERT INTO teams (slug, department, region, name) VALUES ('logistics-emea', 'logistics', 'emea', 'Logistics')")
        return try #require(try await TeamStore(pool: pool).find("logistics-emea"))
    }

    @Test func eightWorkersDrainTwoThousandTasksEachExactlyOnce() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 10) { pool, _ in
            let team = try await Self.seed(pool)
            let store = TaskStore(pool: pool)
            for batch in 0..<2 {
                let tasks = (0..<1000).map { NewTask(kind: "ship", title: "task \(batch * 1000 + $0)") }
                try await pool.transaction { tx in _ = try await store.create(tasks, in: team, by: Self.system, on: tx) }
            }
            let completedPerWorker = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [Int] = []
                        while true {
                            let claimed = try await store.claim(
                                team: team.slug,
                                worker: "w\(worker)",
                                limit: 10,
                                leaseSeconds: 60,
                                kinds: nil,
                                by: Self.system
                            )
                            if claimed.isEmpty { return mine }
                            let outcomes = try await store.completeMany(
                                claimed.map { .init(id: $0.id, leaseToken: $0.lease!.token!, resultJSON: nil) },
                                by: Self.system
                            )
                            for outcome in outcomes {
                                if case .success(let task) = outcome { mine.append(task.id) }
                            }
                        }
                    }
                }
                var all: [[Int]] = []
                for try await ids in group { all.append(ids) }
                return all
            }
            let completed = completedPerWorker.flatMap { $0 }
            #expect(completed.count == 2000)
            #expect(Set(completed).count == 2000, "no task completed twice")
            #expect(completedPerWorker.filter { !$0.isEmpty }.count > 1, "the work was shared")
            let counts = try #require(
                try await pool.query(
                    """
                    SELECT (SELECT count(*) FROM tasks WHERE state = 'done') AS done,
                           (SELECT count(*) FROM events WHERE type = 'task.completed') AS completed_events,
                           (SELECT count(DISTINCT entity_id) FROM events WHERE type = 'task.completed') AS distinct_tasks
                    """
                ).first
            )
            #expect(try counts.decode(Int.self, "done") == 2000)
            #expect(try counts.decode(Int.self, "completed_events") == 2000)
            #expect(try counts.decode(Int.self, "distinct_tasks") == 2000)
            try await store.foldCounters()
            let stats = try await store.stats(team: team.slug)
            #expect(stats.counts["done"] == 2000)
            #expect(stats.counts["queued"] == 0)
            #expect(stats.completedLast5Minutes == 2000)
        }
    }

    @Test func aWorkerThatStopsHeartbeatingLosesTheLeaseToAnother() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let team = try await Self.seed(pool)
            let store = TaskStore(pool: pool)
            _ = try await pool.transaction { tx in
                try await store.create([NewTask(kind: "ship", title: "one", maxAttempts: 3)], in: team, by: Self.system, on: tx)
            }
            let first = try #require(
                try await store.claim(team: team.slug, worker: "slow", limit: 1, leaseSeconds: 5, kinds: nil, by: Self.system).first
            )
            // Still leased: nobody else gets it, and the reaper leaves it alone. (A lease of 5 s:
            // with the whole suite running, these two looks took over a second.)
            #expect(try await store.claim(team: team.slug, worker: "fast", limit: 1, leaseSeconds: 30, kinds: nil, by: Self.system).isEmpty)
            #expect(try await store.reapExpiredLeases().isEmpty)
            try await Task.sleep(for: .milliseconds(5200))
            let reaped = try await store.reapExpiredLeases()
            #expect(reaped.map(\.id) == [first.id])
            #expect(reaped.first?.state == .queued)
            let second = try #require(
                try await store.claim(team: team.slug, worker: "fast", limit: 1, leaseSeconds: 30, kinds: nil, by: Self.system).first
            )
            #expect(second.id == first.id)
            #expect(second.attempts == 2, "the expired attempt counts")
            guard
                case .failure(.staleLease(let current)) = try await store.complete(
                    id: first.id,
                    leaseToken: first.lease!.token!,
                    resultJSON: nil,
                    by: Self.system
                )
            else {
                Issue.record("the late complete must be refused")
                return
            }
            #expect(current.state == .claimed)
            #expect(current.lease?.worker == "fast")
            guard
                case .success(let done) = try await store.complete(
                    id: second.id,
                    leaseToken: second.lease!.token!,
                    resultJSON: #"{"ok":1}"#,
                    by: Self.system
                )
            else {
                Issue.record("the new holder completes")
                return
            }
            #expect(done.state == .done)
            let expired = try await pool.query("SELECT count(*) AS n FROM events WHERE type = 'task.lease_expired'")
            #expect(try expired.first?.decode(Int.self, "n") == 1)
        }
    }

    @Test func releaseReturnsTheTaskWithoutCountingTheAttempt() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let team = try await Self.seed(pool)
            let store = TaskStore(pool: pool)
            _ = try await pool.transaction { tx in try await store.create([NewTask(kind: "k", title: "t")], in: team, by: Self.system, on: tx) }
            let claimed = try #require(
                try await store.claim(team: team.slug, worker: "w", limit: 1, leaseSeconds: 30, kinds: nil, by: Self.system).first
            )
            guard case .success(let released) = try await store.release(id: claimed.id, leaseToken: claimed.lease!.token!, by: Self.system) else {
                Issue.record("release failed")
                return
            }
            #expect(released.state == .queued)
            #expect(released.attempts == 0)
        }
    }

    @Test func claimOrderIsPriorityThenRunAtThenIDAndHonoursKindsAndRunAt() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            let team = try await Self.seed(pool)
            let store = TaskStore(pool: pool)
            let now = Date()
            _ = try await pool.transaction { tx in
                try await store.create(
                    [
                        NewTask(kind: "a", title: "low", priority: .low),
                        NewTask(kind: "a", title: "normal-late", priority: .normal, runAt: now.addingTimeInterval(-10)),
                        NewTask(kind: "a", title: "normal-early", priority: .normal, runAt: now.addingTimeInterval(-20)),
                        NewTask(kind: "b", title: "urgent-b", priority: .urgent),
                        NewTask(kind: "a", title: "future", priority: .urgent, runAt: now.addingTimeInterval(3600)),
                    ],
                    in: team,
                    by: Self.system,
                    on: tx
                )
            }
            let onlyA = try await store.claim(team: team.slug, worker: "w", limit: 10, leaseSeconds: 30, kinds: ["a"], by: Self.system)
            #expect(onlyA.map(\.title) == ["normal-early", "normal-late", "low"])
            let rest = try await store.claim(team: team.slug, worker: "w", limit: 10, leaseSeconds: 30, kinds: nil, by: Self.system)
            #expect(rest.map(\.title) == ["urgent-b"])
        }
    }
}
