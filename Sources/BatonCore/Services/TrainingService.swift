public import Foundation
import PostgresClient

/// Training: programmes with a cadence, their sessions, attendance, and who missed what.
public struct TrainingService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
    }

    var store: TrainingStore { TrainingStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    public func list(region: String?, page: PageRequest, by principal: Principal) async throws -> Page<TrainingProgramme> {
        try principal.authorize(.listTrainingProgrammes)
        return try await store.list(region: region, scope: principal.scope, page: page)
    }

    /// Starts a programme and generates its sessions from the first one for `horizonMonths`,
    /// inviting the audience's active members to each.
    public func create(
        _ programme: NewTrainingProgramme,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws
        -> TrainingProgramme
    {
        try principal.authorize(.createTrainingProgramme)
        try programme.validate()
        guard principal.scope.reaches(region: programme.region) else {
            throw BatonError(.ruleViolation, "no region '\(programme.region)' you may plan training in", details: ["field": "region"])
        }
        let store = self.store
        let id = try await write.run(key: idempotencyKey, by: principal, operation: "createTrainingProgramme", request: programme) { tx -> Int in
            guard let regionZone = try await store.timeZone(region: programme.region, on: tx) else {
                throw BatonError(.ruleViolation, "no region '\(programme.region)'", details: ["field": "region"])
            }
            try await store.checkAudience(programme.audience, on: tx)
            try await store.checkCompetencies(programme.competencies, field: "competencies", on: tx)
            let zoneName = programme.timeZone ?? regionZone
            guard let zone = TimeZone(identifier: zoneName) else {
                throw BatonError(.ruleViolation, "'\(zoneName)' is not a time zone", details: ["field": "time_zone"])
            }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            guard let horizon = calendar.date(byAdding: .month, value: programme.horizonMonths, to: programme.firstSessionAt) else {
                throw BatonError(.ruleViolation, "the horizon is out of range", details: ["field": "horizon_months"])
            }
            let starts = programme.cadence.starts(first: programme.firstSessionAt, timeZone: zone, through: horizon)
            return try await store.insert(programme, timeZone: zoneName, starts: starts, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        guard let created = try await store.find(id: id, scope: .everything) else { throw BatonError.notFound("no programme \(id)") }
        return created
    }

    public func programme(id: Int, by principal: Principal) async throws -> TrainingProgramme {
        try principal.authorize(.getTrainingProgramme)
        guard let programme = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no programme \(id)") }
        return programme
    }

    /// A session with its attendance.
    public func session(id: Int, by principal: Principal) async throws -> (TrainingSession, [TrainingAttendance]) {
        try principal.authorize(.getTrainingSession)
        let store = self.store
        let session = try await database.pool.transaction { tx in
            guard let found = try await store.lockSession(id: id, scope: principal.scope, on: tx) else {
                throw BatonError.notFound("no training session \(id)")
            }
            return found.session
        }
        return (session, try await store.attendance(session: id))
    }

    /// Moves one session (`If-Match` its version); the others keep their dates.
    public func move(session id: Int, version: Int, startsAt: Date, endsAt: Date?, by principal: Principal) async throws -> TrainingSession {
        try principal.authorize(.moveTrainingSession)
        let store = self.store
        try await database.pool.transaction { tx in
            guard let (session, region) = try await store.lockSession(id: id, scope: principal.scope, on: tx) else {
                throw BatonError.notFound("no training session \(id)")
            }
            guard session.version == version else { throw BatonError.stale(version: session.version) }
            guard session.cancelledAt == nil else { throw BatonError(.conflict, "training session \(id) is cancelled") }
            let end = endsAt ?? startsAt.addingTimeInterval(session.endsAt.timeIntervalSince(session.startsAt))
            try MeetingRules.check(startsAt: startsAt, endsAt: end)
            try await store.change(session: id, startsAt: startsAt, endsAt: end, cancel: false, region: region, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        guard let moved = try await store.session(id: id) else { throw BatonError.notFound("no training session \(id)") }
        return moved
    }

    /// Cancels one session; cancelling twice is 409.
    public func cancel(session id: Int, by principal: Principal) async throws -> TrainingSession {
        try principal.authorize(.cancelTrainingSession)
        let store = self.store
        try await database.pool.transaction { tx in
            guard let (session, region) = try await store.lockSession(id: id, scope: principal.scope, on: tx) else {
                throw BatonError.notFound("no training session \(id)")
            }
            guard session.cancelledAt == nil else { throw BatonError(.conflict, "training session \(id) is already cancelled") }
            try await store.change(session: id, startsAt: nil, endsAt: nil, cancel: true, region: region, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        guard let cancelled = try await store.session(id: id) else { throw BatonError.notFound("no training session \(id)") }
        return cancelled
    }

    /// Records attendance; a cancelled session takes none (409).
    public func record(_ attendance: [TrainingAttendance], session id: Int, by principal: Principal) async throws -> [TrainingAttendance] {
        try principal.authorize(.recordTrainingAttendance)
        guard !attendance.isEmpty, attendance.count <= 500 else {
            throw BatonError.invalidArgument("attendance must list 1 to 500 members", field: "attendance")
        }
        guard Set(attendance.map(\.memberID)).count == attendance.count else {
            throw BatonError(.ruleViolation, "a member is listed twice", details: ["field": "attendance"])
        }
        if attendance.contains(where: { $0.memberID < 1 }) { throw BatonError.invalidArgument("member_id is not a member id", field: "member_id") }
        let store = self.store
        try await database.pool.transaction { tx in
            guard let (session, region) = try await store.lockSession(id: id, scope: principal.scope, on: tx) else {
                throw BatonError.notFound("no training session \(id)")
            }
            guard session.cancelledAt == nil else { throw BatonError(.conflict, "training session \(id) is cancelled") }
            try await store.record(attendance, session: id, region: region, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return try await store.attendance(session: id)
    }

    /// Members (of `team`, or all in reach) with their completion rate and the programmes where
    /// they missed a session that has ended by `asOf` (default now).
    public func compliance(team: String?, region: String?, asOf: Date? = nil, by principal: Principal) async throws -> [TrainingComplianceEntry] {
        try principal.authorize(.getTrainingCompliance)
        if let team {
            guard let found = try await database.teamDirectory.find(team, pool: database.pool) else { throw BatonError.notFound("no team '\(team)'") }
            try principal.authorize(.getTrainingCompliance, team: found.slug, region: found.region, notFound: "no team '\(team)'")
        }
        return try await store.compliance(team: team, region: region, asOf: asOf ?? Date(), scope: principal.scope)
    }
}
