public import Foundation
import PostgresClient

/// The SLA use cases: business calendars and holidays, policies, the breach list, and holds
/// that pause a task's clocks; and starting a new task's clocks, which every path that makes
/// work goes through (``TaskService``). Changes to policies and calendars drop this process's
/// cached catalog at once and notify the other servers in their transaction.
public struct SLAService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
    }

    private var calendars: CalendarStore { CalendarStore(pool: database.pool) }
    private var policies: SLAPolicyStore { SLAPolicyStore(pool: database.pool) }
    private var clocks: SLAClockStore { SLAClockStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    /// Starts the clocks of the policy covering each task, on the caller's transaction.
    func startClocks(
        for tasks: [QueueTask],
        in team: Team,
        fromDepartment: Department? = nil,
        keepDueAt: Set<Int> = [],
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws -> [QueueTask] {
        try await clocks.start(for: tasks, in: team, fromDepartment: fromDepartment, keepDueAt: keepDueAt, catalog: catalog, on: tx)
    }

    // MARK: - Calendars

    /// A region's calendar (the standard week when it has set none).
    public func calendar(region: String, by principal: Principal) async throws -> RegionCalendar {
        try principal.authorize(.getCalendar)
        guard let calendar = try await calendars.calendar(region: region) else { throw BatonError.notFound("no region '\(region)'") }
        return calendar
    }

    /// Replaces a region's time zone (when given), weekly hours and (when given) holidays.
    public func setCalendar(
        region: String,
        timeZone: String?,
        hours: [Weekday: [WorkingInterval]],
        holidays: [Holiday]?,
        by principal: Principal
    ) async throws -> RegionCalendar {
        try principal.authorize(.setCalendar)
        let calendars = self.calendars
        let calendar = try await database.pool.transaction { tx in
            try await calendars.set(region: region, timeZone: timeZone, hours: hours, holidays: holidays, by: principal, on: tx)
        }
        database.slaCatalog.invalidate()
        wakeups.eventsWritten()
        return calendar
    }

    /// Adds a holiday to a region; a date that already is one is 409.
    public func addHoliday(region: String, _ holiday: Holiday, idempotencyKey: String? = nil, by principal: Principal) async throws -> Holiday {
        try principal.authorize(.addHoliday)
        guard TextRules.hasLength(holiday.name, in: 1...200) else {
            throw BatonError.invalidArgument("name must be 1 to 200 characters", field: "name")
        }
        let calendars = self.calendars
        let added = try await write.run(key: idempotencyKey, by: principal, operation: "addHoliday/\(region)", request: holiday) { tx in
            try await calendars.addHoliday(region: region, holiday, by: principal, on: tx)
        }
        database.slaCatalog.invalidate()
        wakeups.eventsWritten()
        return added
    }

    /// Removes a holiday from a region.
    public func removeHoliday(region: String, date: LocalDate, by principal: Principal) async throws {
        try principal.authorize(.removeHoliday)
        let calendars = self.calendars
        try await database.pool.transaction { tx in try await calendars.removeHoliday(region: region, date: date, by: principal, on: tx) }
        database.slaCatalog.invalidate()
        wakeups.eventsWritten()
    }

    // MARK: - Policies

    /// The policies that can cover the caller's teams: those naming no team, and those naming
    /// one of its teams.
    public func policies(by principal: Principal) async throws -> [SLAPolicy] {
        try principal.authorize(.listSLAPolicies)
        return try await policies.list(scope: principal.scope)
    }

    /// Creates a policy; it applies to tasks created from now on.
    public func createPolicy(_ policy: NewSLAPolicy, idempotencyKey: String? = nil, by principal: Principal) async throws -> SLAPolicy {
        try principal.authorize(.createSLAPolicy)
        try policy.validate()
        let policies = self.policies
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createSLAPolicy", request: policy) { tx in
            try await policies.create(policy, by: principal, on: tx)
        }
        database.slaCatalog.invalidate()
        wakeups.eventsWritten()
        return created
    }

    /// Turns a policy on or off; off, it stops applying to new tasks.
    public func setPolicy(id: Int, active: Bool, by principal: Principal) async throws -> SLAPolicy {
        try principal.authorize(active ? .enableSLAPolicy : .disableSLAPolicy)
        let policies = self.policies
        let policy = try await database.pool.transaction { tx in try await policies.setActive(id: id, active, by: principal, on: tx) }
        database.slaCatalog.invalidate()
        wakeups.eventsWritten()
        return policy
    }

    // MARK: - Breaches

    /// Breached clocks of the caller's teams in breach order, with the catalog to read them.
    public func breaches(
        team: String?,
        region: String?,
        since: Date?,
        page: PageRequest,
        by principal: Principal
    ) async throws -> (page: Page<SLAClockStore.Breach>, catalog: SLACatalog.Snapshot) {
        try principal.authorize(.listSLABreaches)
        let result = try await clocks.breaches(team: team, region: region, since: since, scope: principal.scope, page: page)
        return (result, try await database.slaCatalog.snapshot(pool: database.pool))
    }

    // MARK: - Holds

    /// Puts a live task on hold: its clocks pause, and a queued task is not claimable until it
    /// is resumed or `until` passes.
    public func hold(taskID: Int, reason: String, until: Date?, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(.holdTask)
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let clocks = self.clocks
        let task = try await database.pool.transaction { tx in
            try await clocks.hold(taskID: taskID, reason: reason, until: until, by: principal, catalog: catalog, on: tx) { task in
                try principal.authorize(.holdTask, team: task.team, region: task.region, notFound: "no task \(taskID)")
            }
        }
        wakeups.eventsWritten()
        return task
    }

    /// Resumes a held task: every deadline moves by the business time it was held.
    public func resume(taskID: Int, by principal: Principal) async throws -> QueueTask {
        try principal.authorize(.resumeTask)
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let clocks = self.clocks
        let task = try await database.pool.transaction { tx in
            try await clocks.resume(taskID: taskID, by: principal, catalog: catalog, on: tx) { task in
                try principal.authorize(.resumeTask, team: task.team, region: task.region, notFound: "no task \(taskID)")
            }
        }
        resumed(task)
        return task
    }

    /// Holds a task's clocks on the caller's transaction, for a write that pauses the record the
    /// task is about (a case waiting on the customer); the caller has authorized that write.
    func hold(
        taskID: Int,
        reason: String,
        by principal: Principal,
        catalog: SLACatalog.Snapshot,
        on tx: PostgresConnection
    ) async throws
        -> QueueTask
    {
        try await clocks.hold(taskID: taskID, reason: reason, until: nil, by: principal, catalog: catalog, on: tx) { _ in }
    }

    /// Resumes a held task on the caller's transaction (see ``hold(taskID:reason:by:catalog:on:)``).
    func resume(taskID: Int, by principal: Principal, catalog: SLACatalog.Snapshot, on tx: PostgresConnection) async throws -> QueueTask {
        try await clocks.resume(taskID: taskID, by: principal, catalog: catalog, on: tx) { _ in }
    }

    /// Resumes a task whose hold's `until` has passed, for the monitor: nothing happens (and
    /// `false` comes back) when another server or a person resumed it first.
    func resumeEndedHold(taskID: Int) async throws -> Bool {
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let clocks = self.clocks
        do {
            let task = try await database.pool.transaction { tx in
                try await clocks.resume(taskID: taskID, by: .system(), catalog: catalog, on: tx) { task in
                    guard let until = task.hold?.until, until <= Date() else {
                        throw BatonError(.conflict, "no longer due to resume")
                    }
                }
            }
            resumed(task)
            return true
        } catch let error as BatonError where error.kind == .conflict {
            return false
        }
    }

    /// A resumed task that is queued is claimable again.
    private func resumed(_ task: QueueTask) {
        task.state == .queued ? wakeups.queued(in: [task.team]) : wakeups.eventsWritten()
    }
}
