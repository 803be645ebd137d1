import BatonCore
import BatonTestSupport
import Foundation
import HTTPTypes
import PostgresClient
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension Trait where Self == ConditionTrait {
    /// Runs the test in `scripts/test.sh`'s pass with a standby (`BATON_TEST_STANDBY_URL`).
    static var requiresStandby: Self {
        .enabled(if: TestDatabase.standbyURL != nil, "needs BATON_TEST_STANDBY_URL (scripts/test.sh's pass with a standby)")
    }
}

/// Reads that may be a little stale on a real streaming-replication standby of the test
/// cluster (`pg_basebackup -R` in `scripts/lib.sh`): where each statement runs, and what
/// happens when the standby falls behind or stops. The suite is the standby's only user, so
/// it may pause and stop it.
@Suite(.requiresStandby, .serialized) struct StandbyTests {
    /// Waits until the standby has replayed everything the primary has written so far (the
    /// insert position: the test cluster commits asynchronously).
    static func caughtUp(_ database: BatonDatabase, _ standby: Standby) async throws {
        let written = try #require(try await database.pool.query("SELECT pg_current_wal_insert_lsn()::text AS lsn").first?.decode(String.self, "lsn"))
        for _ in 0..<200 {
            let replayed = try? await standby.pool.query("SELECT pg_last_wal_replay_lsn() >= \(written)::pg_lsn AS done").first
            if try replayed?.decode(Bool.self, "done") == true { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the standby did not replay \(written) within 10 s")
    }

    /// The last statement of each session on the database at `url` (the application's pools'
    /// sessions; this one, opened for the purpose, left out).
    static func lastStatements(at url: String) async throws -> [String] {
        let connection = try await PostgresConnection.connect(configuration: try PostgresConfiguration(url))
        let statements = try await connection.query(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).map { try $0.decode(String.self, "query") }
        await connection.close()
        return statements
    }

    static func queued(_ api: API) async throws -> Int? {
        let stats = try await api.call(.get, "/v1/teams/sales-emea/stats")
        try api.expect(.ok, stats)
        return try stats.json(AnyJSON.self)["counts"]?["queued"]?.int
    }

    static func createTask(_ api: API, _ title: String) async throws {
        try api.expect(.created, await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"call","title":"\#(title)"}"#))
    }

    @Test func staleReadsRunOnTheStandbyAndWritesOnThePrimary() async throws {
        try await withTestApplication(standbyLag: .seconds(5)) { api, database in
            let standby = try #require(database.standby)
            // Every write succeeds: the standby is read-only, so none of them ran there.
            try await api.seedReferenceData()
            for title in ["Call Acme", "Call Globex", "Call Initech"] { try await Self.createTask(api, title) }
            try api.expect(.ok, await api.call(.post, "/v1/teams/sales-emea/claim", json: #"{"worker":"w","lease_seconds":60}"#))
            try await Self.caughtUp(database, standby)
            await standby.check()
            #expect(standby.health.serving)
            #expect((0...5).contains(standby.health.lagSeconds ?? -1))
            let ready = try await api.call(.get, "/readyz").json(AnyJSON.self)
            #expect(ready["standby"]?["serving"]?.bool == true)
            #expect(ready["standby"]?["lag_seconds"]?.double != nil)

            let report = try await api.call(.get, "/v1/reports/kpis?period=2026-11&region=emea")
            try api.expect(.ok, report)
            let briefing = try await api.call(.get, "/v1/briefing?team=sales-emea")
            try api.expect(.ok, briefing)
            #expect(try briefing.json(AnyJSON.self)["queues"]?[0]?["queued"]?.int == 2, "\(briefing.text)")
            try api.expect(.ok, await api.call(.get, "/v1/customers?region=emea"))
            #expect(try await Self.queued(api) == 2)
            // The team's SLA figures (the stats' second statement) ran on the standby and
            // never on the primary.
            let marker = "make_interval(mins"
            let standbyURL = try #require(TestDatabase.standbyURL(for: api.url))
            #expect(try await Self.lastStatements(at: standbyURL).contains { $0.contains(marker) })
            #expect(try await !Self.lastStatements(at: api.url).contains { $0.contains(marker) })
        }
    }

    @Test func aLaggingOrStoppedStandbySendsReadsToThePrimaryWithoutAFailedRequest() async throws {
        let control = try #require(TestDatabase.standbyControl, "the run has no standby control script")
        try await withTestApplication(standbyLag: .seconds(1)) { api, database in
            let standby = try #require(database.standby)
            try await api.seedReferenceData()
            try await Self.createTask(api, "Call Acme")
            try await Self.caughtUp(database, standby)
            await standby.check()
            #expect(standby.health.serving)

            // Replay paused: the primary moves on and the standby falls more than 1 s behind.
            try await standby.pool.query("SELECT pg_wal_replay_pause()")
            do {
                try await Self.createTask(api, "Call Globex")
                try await Task.sleep(for: .milliseconds(1500))
                await standby.check()
                #expect(!standby.health.serving)
                #expect((standby.health.lagSeconds ?? 0) > 1)
                // The primary answers, with the task the standby has not replayed.
                #expect(try await Self.queued(api) == 2)
            }
            try await standby.pool.query("SELECT pg_wal_replay_resume()")
            try await Self.caughtUp(database, standby)
            await standby.check()
            #expect(standby.health.serving)
            #expect(try await Self.queued(api) == 2)

            // Stopped: the read fails on the standby and runs again on the primary.
            try Self.run(control, "stop")
            do {
                #expect(try await Self.queued(api) == 2)
                #expect(!standby.health.serving)
                #expect(try await Self.queued(api) == 2)
            }
            try Self.run(control, "start")
            for _ in 0..<100 where !standby.health.serving {
                await standby.check()
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(standby.health.serving)
        }
    }

    /// Runs the standby's control script (`stop` or `start`) and waits for it. Spawned and
    /// reaped here: Foundation's `Process` never noticed the end of a script whose `pg_ctl start`
    /// leaves a server running, and waited for ever.
    static func run(_ script: String, _ action: String) throws {
        let words: [String] = ["/bin/bash", script, action]
        let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) }
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, arguments + [nil], environ)
        try #require(spawned == 0, "could not run ctl.sh \(action)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        #expect(status == 0, "ctl.sh \(action) ended with status \(status)")
    }
}
