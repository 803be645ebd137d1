import Foundation
import PostgresClient

/// The customer file's use cases: customers with their contacts and interactions, search,
/// duplicate detection, edits under If-Match, and each customer's timeline. Records belong to
/// a region: a caller reaches those of its regions (and of its teams' regions).
public struct CustomerService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups
    let tasks: TaskService

    public init(database: BatonDatabase, wakeups: Wakeups, tasks: TaskService) {
        self.database = database
        self.wakeups = wakeups
        self.tasks = tasks
    }

    var store: CustomerStore { CustomerStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    /// A customer with its contacts, as created.
    public struct Created: Sendable, Codable {
        public var customer: Customer
        public var contacts: [Contact]
    }

    // MARK: - Customers

    /// Customers the caller reaches, optionally found by any part of the name and filtered.
    public func list(_ filter: CustomerStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Customer> {
        try principal.authorize(.listCustomers)
        if let query = filter.query, !TextRules.hasLength(query, in: 1...200) {
            throw BatonError.invalidArgument("q must be 1 to 200 characters", field: "q")
        }
        if let tag = filter.tag, !TextRules.hasLength(tag, in: 1...100) {
            throw BatonError.invalidArgument("tag must be 1 to 100 characters", field: "tag")
        }
        if let owner = filter.ownerID, owner < 1 { throw BatonError.invalidArgument("owner_id is not a member id", field: "owner_id") }
        return try await database.staleRead { pool in try await CustomerStore(pool: pool).list(filter, scope: principal.scope, page: page) }
    }

    /// Creates a customer (with contacts) in a region the caller reaches. A likely duplicate (the
    /// same name, or a contact's e-mail, in the region) is 409 naming it, unless `force`.
    public func create(_ customer: NewCustomer, idempotencyKey: String? = nil, by principal: Principal) async throws -> Created {
        try principal.authorize(.createCustomer)
        guard principal.scope.reaches(region: customer.region) else {
            throw BatonError(.ruleViolation, "no region '\(customer.region)' you may add customers to", details: ["field": "region"])
        }
        try customer.validate()
        let store = self.store
        let catalog = customer.campaignID == nil ? nil : try await database.slaCatalog.snapshot(pool: database.pool)
        var leadTeam: String?
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createCustomer", request: customer) { tx in
            let (created, contacts) = try await store.create(customer, by: principal, on: tx)
            if let campaign = created.campaignID, let catalog {
                // A lead a campaign brought in lands in the region's sales queue.
                leadTeam = try await queueTask(
                    about: created,
                    kind: "campaign_lead",
                    title: "New lead from campaign \(campaign): \(created.name)",
                    payload: ["customer_id": String(created.id), "campaign_id": String(campaign)],
                    runAt: nil,
                    dedupeKey: "campaign-lead-\(created.id)",
                    field: "campaign_id",
                    catalog: catalog,
                    by: principal,
                    on: tx
                ).team
            }
            return Created(customer: created, contacts: contacts)
        }
        if let leadTeam { wakeups.queued(in: [leadTeam]) } else { wakeups.eventsWritten() }
        return created
    }

    /// One customer the caller reaches.
    public func customer(id: Int, by principal: Principal) async throws -> Customer {
        try await reachable(id, for: .getCustomer, by: principal)
    }

    /// Edits a customer if it is still at `version` (its ETag); a stale version is 412 with
    /// the current one.
    public func update(id: Int, version: Int, _ changes: CustomerChanges, by principal: Principal) async throws -> Customer {
        let current = try await reachable(id, for: .updateCustomer, by: principal)
        try changes.validate()
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Customer in
            do {
                guard let updated = try await store.update(id: id, version: version, changes, by: principal, on: tx) else {
                    let now = try await store.find(id: id, scope: principal.scope, on: tx)
                    throw BatonError.stale(version: now?.version ?? current.version)
                }
                return updated
            } catch let error as PostgresError where error.sqlState == "23503" {
                throw BatonError(.ruleViolation, "no member \(changes.ownerID ?? 0) to own the customer", details: ["field": "owner_id"])
            }
        }
        wakeups.eventsWritten()
        return updated
    }

    /// Deletes a customer (admin): it is kept for the audit trail and no longer listed.
    public func delete(id: Int, by principal: Principal) async throws -> Customer {
        _ = try await reachable(id, for: .deleteCustomer, by: principal)
        let store = self.store
        let deleted = try await database.pool.transaction { tx in try await store.delete(id: id, by: principal, on: tx) }
        guard let deleted else { throw BatonError.notFound("no customer \(id)") }
        wakeups.eventsWritten()
        return deleted
    }

    // MARK: - Contacts

    public func contacts(ofCustomer id: Int, by principal: Principal) async throws -> [Contact] {
        _ = try await reachable(id, for: .listContacts, by: principal)
        return try await store.contacts(of: id)
    }

    public func addContact(
        _ contact: NewContact,
        toCustomer id: Int,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws
        -> Contact
    {
        let customer = try await reachable(id, for: .addContact, by: principal)
        try contact.validate()
        let store = self.store
        let added = try await write.run(key: idempotencyKey, by: principal, operation: "addContact/\(id)", request: contact) { tx in
            try await store.addContact(contact, to: customer, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return added
    }

    /// Edits a contact if it is still at `version`; a stale version is 412 with the current one.
    public func updateContact(
        id contactID: Int,
        ofCustomer id: Int,
        version: Int,
        _ changes: ContactChanges,
        by principal: Principal
    ) async throws -> Contact {
        let customer = try await reachable(id, for: .updateContact, by: principal)
        try changes.validate()
        let store = self.store
        let updated = try await database.pool.transaction { tx -> Contact in
            if let updated = try await store.updateContact(id: contactID, of: customer, version: version, changes, by: principal, on: tx) {
                return updated
            }
            guard let current = try await store.contactVersion(id: contactID, customerID: id, on: tx) else {
                throw BatonError.notFound("customer \(id) has no contact \(contactID)")
            }
            throw BatonError.stale(version: current)
        }
        wakeups.eventsWritten()
        return updated
    }

    // MARK: - Interactions

    public func interactions(ofCustomer id: Int, page: PageRequest, by principal: Principal) async throws -> Page<Interaction> {
        _ = try await reachable(id, for: .listInteractions, by: principal)
        return try await store.interactions(of: id, page: page)
    }

    /// Logs an interaction. A follow-up date queues a task for that day in the owner's team,
    /// through the task service (so SLA policies apply), in the same transaction.
    public func logInteraction(
        _ interaction: NewInteraction,
        forCustomer id: Int,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws -> Interaction {
        let customer = try await reachable(id, for: .logInteraction, by: principal)
        try interaction.validate()
        let store = self.store
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        let zone = try await database.regions.timeZone(of: customer.region)
        var followUpTeam: String?
        let logged = try await write.run(key: idempotencyKey, by: principal, operation: "logInteraction/\(id)", request: interaction) { tx in
            var logged = try await store.logInteraction(interaction, for: customer, by: principal, on: tx)
            guard let day = interaction.followUpOn else { return logged }
            let queued = try await queueTask(
                about: customer,
                kind: "customer_follow_up",
                title: "Follow up with \(customer.name): \(interaction.summary)",
                payload: ["customer_id": String(customer.id), "interaction_id": String(logged.id)],
                runAt: Self.startOfDay(day, in: zone),
                dedupeKey: "follow-up-interaction-\(logged.id)",
                field: "follow_up_on",
                catalog: catalog,
                by: principal,
                on: tx
            )
            logged = try await store.linkFollowUp(interaction: logged.id, task: queued.taskID, on: tx)
            followUpTeam = queued.team
            return logged
        }
        if let followUpTeam { wakeups.queued(in: [followUpTeam]) } else { wakeups.eventsWritten() }
        return logged
    }

    /// Queues a task about `customer` in the team its follow-ups go to (the owner's sales team,
    /// else the region's), through the task service so SLA policies apply, on the caller's
    /// transaction. A region without such a team is a 422 on `field`.
    func queueTask(
        about customer: Customer,
        kind: String,
        title: String,
        payload: [String: String],
        runAt: Date?,
        dedupeKey: String,
        field: String,
        catalog: SLACatalog.Snapshot,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> (taskID: Int, team: String) {
        guard let team = try await store.followUpTeam(for: customer, on: tx) else {
            throw BatonError(.ruleViolation, "region \(customer.region) has no sales team to hand this to", details: ["field": field])
        }
        let task = NewTask(
            kind: kind,
            // The column counts code points, which a Character prefix could exceed.
            title: String(String.UnicodeScalarView(title.unicodeScalars.prefix(500))),
            payloadJSON: PostgresJSON(payload).postgresText,
            runAt: runAt,
            dedupeKey: dedupeKey,
            subject: TaskSubject(type: "customer", id: String(customer.id))
        )
        let created = try await tasks.create([task], in: team, by: principal, catalog: catalog, on: tx)
        return (created[0].task.id, team.slug)
    }

    // MARK: - Timeline

    public func timeline(ofCustomer id: Int, page: PageRequest, by principal: Principal) async throws -> Page<TimelineEntry> {
        let customer = try await reachable(id, for: .getCustomerTimeline, by: principal)
        return try await database.staleRead { pool in try await CustomerStore(pool: pool).timeline(of: customer, page: page) }
    }

    // MARK: - Helpers

    /// The customer, when the caller may perform `useCase` on it: 403 for the role first, then
    /// 404 for a customer that does not exist, was deleted, or is in a region out of reach.
    func reachable(_ id: Int, for useCase: UseCase, by principal: Principal) async throws -> Customer {
        try principal.authorize(useCase)
        guard let customer = try await store.find(id: id, scope: principal.scope) else { throw BatonError.notFound("no customer \(id)") }
        return customer
    }

    /// Midnight of a local date in a time zone, as an instant.
    static func startOfDay(_ day: LocalDate, in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)) ?? Date()
    }
}
