public import Foundation
import PostgresClient

/// The coordinator's daily briefing: what needs attention now, across queues, SLAs, handoffs,
/// dead letters, stock, complaints, the day's calendar and the plan, in one answer.
public struct BriefingService: Sendable {
    let database: BatonDatabase
    let reports: ReportService

    public init(database: BatonDatabase, reports: ReportService) {
        self.database = database
        self.reports = reports
    }

    var store: BriefingStore { BriefingStore(pool: database.pool) }

    /// The briefing for the caller's scope, narrowed to `region` and/or `team` (each 404 when
    /// out of reach, as elsewhere). The sections are read in one read-only snapshot, so their
    /// counts agree with each other; the plan report (its own queries) runs alongside.
    public func briefing(region: String?, team: String?, by principal: Principal, now: Date = Date()) async throws -> Briefing {
        try principal.authorize(.getBriefing)
        if let region, !principal.scope.reaches(region: region) { throw BatonError.notFound("no region '\(region)'") }
        let recordsRegion = try await regionOfRecords(region: region, team: team, by: principal)
        let filter = BriefingStore.Filter(scope: principal.scope, region: recordsRegion, team: team)
        let day = LocalDate(daysSinceEpoch: Int64((now.timeIntervalSince1970 / 86_400).rounded(.down)))
        let dayStart = Date(timeIntervalSince1970: Double(day.daysSinceEpoch) * 86_400)

        async let plan = reports.plan(TargetStore.Filter(from: day, to: day, region: recordsRegion, team: team), by: principal, today: day)
        let store = self.store
        var briefing = try await database.staleRead { pool in
            try await Self.read(filter, day: day, dayStart: dayStart, region: recordsRegion, team: team, now: now, store: store, on: pool)
        }
        briefing.plan = try await plan
        briefing.plan.rows.sort { Self.urgency($0) < Self.urgency($1) }
        return briefing
    }

    /// The briefing's sections in one read-only snapshot on `pool` (the standby's or the primary's).
    private static func read(
        _ filter: BriefingStore.Filter,
        day: LocalDate,
        dayStart: Date,
        region recordsRegion: String?,
        team: String?,
        now: Date,
        store: BriefingStore,
        on pool: ConnectionPool
    ) async throws -> Briefing {
        try await pool.transaction(isolation: .repeatableRead) { tx -> Briefing in
            _ = try await tx.simpleQuery("SET TRANSACTION READ ONLY")
            return Briefing(
                generatedAt: now,
                eventCursor: try await store.eventCursor(on: tx),
                day: day,
                region: recordsRegion,
                team: team,
                queues: try await store.queues(filter, on: tx),
                slas: try await store.slas(filter, on: tx),
                handoffs: try await store.handoffs(filter, on: tx),
                deadLetters: try await store.deadLetters(filter, on: tx),
                stock: try await store.stock(filter, on: tx),
                complaints: try await store.complaints(filter, on: tx),
                calendar: try await store.calendar(filter, from: dayStart, to: dayStart.addingTimeInterval(86_400), on: tx),
                plan: PlanReport(from: day, to: day, grain: nil, rows: [])
            )
        }
    }

    /// The region whose records (stock, meetings, training) the briefing shows: `region`, or
    /// the region of `team`, which must be in reach and in `region` when both are given.
    private func regionOfRecords(region: String?, team: String?, by principal: Principal) async throws -> String? {
        guard let team else { return region }
        guard let found = try await database.teams.find(team), principal.canSee(team: found.slug, region: found.region) else {
            throw BatonError.notFound("no team '\(team)'")
        }
        if let region, region != found.region {
            throw BatonError(.ruleViolation, "team '\(team)' is in region '\(found.region)', not '\(region)'", details: ["field": "team"])
        }
        return found.region
    }

    /// Behind first, then on track, ahead, and rows without an actual; within each, the lowest
    /// attainment first.
    private static func urgency(_ row: PlanRow) -> (Int, Double, Int) {
        let rank =
            switch row.status {
            case .behind: 0
            case .onTrack: 1
            case .ahead: 2
            case nil: 3
            }
        return (rank, row.attainmentPercent ?? 0, row.target.id)
    }
}
