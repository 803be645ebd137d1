import BatonTestSupport
import Foundation
import PostgresClient
import Testing

@testable import BatonCore

/// A case follows its task through handoffs by the chain's live step. That read must cost what
/// the chain costs, not what the history costs: asked by `chain_id` alone it had no index and
/// scanned every task. A plan is not a timing: the table's sequential-scan counter must not move.
@Suite(.requiresDatabase) struct HandoffChainPlanTests {
    @Test func theLiveStepOfAChainIsFoundWithoutScanningTheHistory() async throws {
        try await TestDatabase.withMigratedDatabase(poolSize: 1) { pool, _ in
            let team = try await QueueStoreTests.seed(pool)
            try await insertFinishedTasks(pool, team: team.slug, count: 5000)
            // A chain of three: the first two handed off, the last one queued; and a task never
            // handed off, queued, and one done.
            let ids = try await pool.query(
                """
                WITH first AS (SELECT nextval('tasks_id_seq') AS id),
                     second AS (SELECT nextval('tasks_id_seq') AS id),
                     third AS (SELECT nextval('tasks_id_seq') AS id),
                     alone AS (SELECT nextval('tasks_id_seq') AS id),
                     rows (id, chain_id, handed_off_from, state) AS (
                         SELECT (SELECT id FROM first), (SELECT id FROM first), NULL::bigint, 'handed_off'
                         UNION ALL SELECT (SELECT id FROM second), (SELECT id FROM first), (SELECT id FROM first), 'handed_off'
                         UNION ALL SELECT (SELECT id FROM third), (SELECT id FROM first), (SELECT id FROM second), 'queued'
                         UNION ALL SELECT (SELECT id FROM alone), (SELECT id FROM alone), NULL, 'queued'
                     )
                INSERT INTO tasks (id, chain_id, team, region, kind, title, state, max_attempts, created_by, handed_off_from,
                                   finished_at)
                SELECT id, chain_id, $1, 'emea', 'k', 'chain', state, 5, 'system', handed_off_from,
                       CASE WHEN state = 'handed_off' THEN now() END
                FROM rows
                RETURNING id
                """,
                [team.slug]
            ).map { try $0.decode(Int.self, "id") }.sorted()
            try #require(ids.count == 4)
            let (first, second, third, alone) = (ids[0], ids[1], ids[2], ids[3])
            let done = try #require(try await pool.query("SELECT min(id) AS id FROM tasks").first?.decode(Int.self, "id"))
            try await pool.query("ANALYZE tasks")

            let store = CaseStore(pool: pool)
            let before = try await sequentialScans(of: "tasks", pool)
            let found = try await pool.withConnection { connection in
                try await connection.query("SET plan_cache_mode = force_generic_plan")
                var found: [Int?] = []
                for id in [first, second, third, alone, done] { found.append(try await store.liveTask(inChainOf: id, on: connection)) }
                try await connection.query("RESET ALL")
                return found
            }
            #expect(found == [third, third, third, alone, nil])
            #expect(try await sequentialScans(of: "tasks", pool) == before, "the chain was read by scanning tasks")
        }
    }
}
