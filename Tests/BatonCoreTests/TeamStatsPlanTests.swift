import BatonTestSupport
import Foundation
import PostgresClient
import Testing

@testable import BatonCore

/// Team stats must cost what the live queue costs, not what the history costs: every read of
/// `tasks` goes through a partial index whose size is the queue. A plan is not a timing, so this
/// holds on any machine; `scripts/bench.sh` (history section) measures the latency itself.
@Suite(.requiresDatabase) struct TeamStatsPlanTests {
    static let system = Principal.system(source: "system")

    /// Indexes whose entries are live or dead tasks, or a time range of finished ones.
    static let queueSizedIndexes: Set<String> = [
        "tasks_claim_idx", "tasks_held_idx", "tasks_lease_idx", "tasks_dead_idx", "tasks_done_idx",
    ]

    @Test func queuedCountsHeldTasksAndTheOldestAgeIsTheOldestClaimableOne() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 4) { pool, _ in
            let database = BatonDatabase(pool: pool, logger: TestDatabase.quietLogger)
            let team = try await QueueStoreTests.seed(pool)
            let store = TaskStore(pool: pool)
            let now = Date()
            let created = try await pool.transaction { tx in
                try await store.create(
                    [
                        NewTask(kind: "k", title: "held, oldest", priority: .low, runAt: now.addingTimeInterval(-7200)),
                        NewTask(kind: "k", title: "urgent", priority: .urgent, runAt: now.addingTimeInterval(-600)),
                        NewTask(kind: "k", title: "normal", priority: .normal, runAt: now.addingTimeInterval(-1200)),
                        NewTask(kind: "k", title: "later", priority: .urgent, runAt: now.addingTimeInterval(3600)),
                    ],
                    in: team,
                    by: Self.system,
                    on: tx
                )
            }
            let catalog = try await database.slaCatalog.snapshot(pool: pool)
            _ = try await pool.transaction { tx in
                try await SLAClockStore(pool: pool).hold(
                    taskID: created[0].task.id,
                    reason: "waiting for the customer",
                    until: nil,
                    by: Self.system,
                    catalog: catalog,
                    on: tx
                ) { _ in }
            }

            let stats = try await store.stats(team: team.slug)
            #expect(stats.counts["queued"] == 4)
            let oldest = try #require(stats.oldestQueuedAgeSeconds)
            #expect(oldest >= 1200 && oldest < 1800, "the normal task (due 20 minutes ago), not the held one: \(oldest)")
        }
    }

    @Test func everyReadOfTasksGoesThroughAPartialIndex() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 2) { pool, _ in
            let team = try await QueueStoreTests.seed(pool)
            // Some history so the planner's estimates are not those of an empty table.
            try await insertFinishedTasks(pool, team: team.slug, count: 2000)
            try await pool.query("ANALYZE tasks")

            let indexes = try await pool.withConnection { connection in
                // With sequential scans priced out, a plan that still reads `tasks` in some other
                // way has no partial index it can use.
                try await connection.query("SET enable_seqscan = off")
                try await connection.query("SET plan_cache_mode = force_generic_plan")
                try await connection.simpleQuery("PREPARE team_stats (text) AS \(TaskStore.statsSQL)")
                let plan = try #require(
                    try await connection.simpleQuery("EXPLAIN (FORMAT JSON) EXECUTE team_stats ('\(team.slug)')").first
                )
                let json = try JSONSerialization.jsonObject(with: Data(try plan.decode(String.self, "QUERY PLAN").utf8))
                try await connection.query("DEALLOCATE team_stats")
                try await connection.query("RESET ALL")
                return Self.reads(of: "tasks", in: json)
            }
            #expect(indexes.count == 7, "seven subqueries read tasks: \(indexes)")
            for index in indexes {
                #expect(index.map(Self.queueSizedIndexes.contains) == true, "tasks read through \(index ?? "a scan without an index")")
            }
        }
    }

    /// The briefing's board counts each team's live queue and its handoffs show each chain; on
    /// a table with history neither may read it, by any path: the board read the team's whole
    /// history through `tasks_team_idx` (1.1 s at 2,000,000 done tasks), and a chain was looked
    /// up by `chain_id`, which only the partial index of handed-off chains holds.
    @Test func theBriefingsBoardAndHandoffsReadNoHistory() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 1) { pool, _ in
            let team = try await QueueStoreTests.seed(pool)
            try await insertFinishedTasks(pool, team: team.slug, count: 3000)
            // A chain handed on within the team, its last step queued; and a queued task on hold.
            try await pool.query(
                """
                WITH head AS MATERIALIZED (SELECT nextval('tasks_id_seq') AS id)
                INSERT INTO tasks (id, chain_id, team, region, kind, title, state, max_attempts, created_by, handed_off_from,
                                   finished_at, held_at)
                SELECT id, id, $1, 'emea', 'k', 'handed', 'handed_off', 5, 'system', NULL::bigint, now(), NULL::timestamptz FROM head
                UNION ALL
                SELECT nextval('tasks_id_seq'), id, $1, 'emea', 'k', 'handed on', 'queued', 5, 'system', id, NULL, NULL FROM head
                UNION ALL
                SELECT nextval('tasks_id_seq'), currval('tasks_id_seq'), $1, 'emea', 'k', 'on hold', 'queued', 5, 'system', NULL, NULL,
                       now()
                """,
                [team.slug]
            )
            try await pool.query("ANALYZE tasks")
            let store = BriefingStore(pool: pool)
            let filter = BriefingStore.Filter(scope: .everything, region: nil, team: nil)
            let read = try await rowsRead(of: "tasks", pool)
            let (board, handoffs) = try await pool.withConnection { connection in
                // With sequential scans priced out, a read with no queue-sized index to use
                // falls to the team index.
                try await connection.query("SET enable_seqscan = off")
                let board = try await store.queues(filter, on: connection)
                let handoffs = try await store.handoffs(filter, on: connection)
                try await connection.query("RESET ALL")
                return (board, handoffs)
            }
            #expect(board.map(\.queued) == [2], "the handed-on task and the held one")
            #expect(handoffs.items.map(\.chain) == [[team.slug, team.slug]])
            let history = try await rowsRead(of: "tasks", pool) - read
            #expect(history < 100, "\(history) rows of tasks read for a queue of three")
        }
    }

    /// Listing a live state reads the live tasks, not the history before them in id order.
    @Test func listingALiveStateReadsNoHistory() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 1) { pool, _ in
            let team = try await QueueStoreTests.seed(pool)
            try await insertFinishedTasks(pool, team: team.slug, count: 3000)
            let ids = try await pool.query(
                """
                INSERT INTO tasks (id, chain_id, team, region, kind, title, state, max_attempts, created_by, held_at,
                                   lease_worker, lease_token, lease_expires_at, attempts, finished_at)
                SELECT n.id, n.id, $1, 'emea', 'k', n.state, n.state, 5, 'system',
                       CASE WHEN n.held THEN now() END,
                       CASE WHEN n.state = 'claimed' THEN 'w' END, CASE WHEN n.state = 'claimed' THEN gen_random_uuid() END,
                       CASE WHEN n.state = 'claimed' THEN now() + interval '1 minute' END,
                       CASE WHEN n.state = 'queued' THEN 0 ELSE 1 END, CASE WHEN n.state = 'dead' THEN now() END
                FROM (SELECT nextval('tasks_id_seq') AS id, s.state, s.held
                      FROM (VALUES ('queued', false), ('queued', true), ('claimed', false), ('dead', false)) AS s (state, held)) AS n
                RETURNING id, state
                """,
                [team.slug]
            ).map { (try $0.decode(Int.self, "id"), try $0.decode(String.self, "state")) }
            try await pool.query("ANALYZE tasks")
            let store = TaskStore(pool: pool)
            for (state, filterTeam) in [(TaskState.queued, nil), (.queued, team.slug), (.claimed, nil), (.dead, team.slug)] {
                let read = try await rowsRead(of: "tasks", pool)
                let page = try await store.list(
                    TaskStore.Filter(team: filterTeam, state: state),
                    scope: .everything,
                    page: try PageRequest(limit: 50, after: nil)
                )
                #expect(page.items.map(\.id) == ids.filter { $0.1 == state.rawValue }.map(\.0), "\(state)")
                let history = try await rowsRead(of: "tasks", pool) - read
                #expect(history < 100, "\(history) rows of tasks read to list the \(state) ones")
            }
        }
    }

    /// The index each plan node that reads `relation` uses (nil for a node without one).
    static func reads(of relation: String, in plan: Any) -> [String?] {
        if let nodes = plan as? [Any] { return nodes.flatMap { reads(of: relation, in: $0) } }
        guard let node = plan as? [String: Any] else { return [] }
        var found: [String?] = []
        if node["Relation Name"] as? String == relation { found.append(node["Index Name"] as? String) }
        for (key, value) in node where key == "Plan" || key == "Plans" { found += reads(of: relation, in: value) }
        return found
    }
}
