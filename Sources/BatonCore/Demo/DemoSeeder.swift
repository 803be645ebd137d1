import Foundation
import PostgresClient

/// `baton serve --demo`: two regions with business calendars, the four departments and a
/// coordination team in each, members, SLA and OLA policies, a few hundred tasks in every
/// state (some of them at risk or breached), and customers (some with Chinese, Japanese and
/// Korean names) with contacts, interactions, campaigns and deals in every stage, won and lost,
/// meetings, and training programmes with attendance, so a newcomer can try the API at once. Seeds only
/// an empty database (no regions yet).
public struct DemoSeeder: Sendable {
    let services: BatonServices

    public init(services: BatonServices) { self.services = services }

    private var database: BatonDatabase { services.database }

    /// Seeds and returns true, or returns false when the database already has regions.
    @discardableResult
    public func seedIfEmpty() async throws -> Bool {
        let system = Principal.system(source: "system")
        let seeded = try await database.pool.transaction { tx -> Bool in
            // Servers started together with --demo seed once: the first takes the lock, the
            // others then find the regions it made.
            guard try await DemoStore().claimEmptyDatabase(on: tx) else { return false }
            for (code, name, zone) in [("emea", "Europe, Middle East and Africa", "Europe/Berlin"), ("apac", "Asia-Pacific", "Asia/Kolkata")] {
                _ = try await database.regions.create(code: code, name: name, timeZone: zone, by: system, on: tx)
                for department in Department.allCases {
                    _ = try await database.teams.create(.init(department: department, region: code), by: system, on: tx)
                }
            }
            let members = MemberStore(pool: database.pool)
            for (name, email, team, role) in [
                ("Ada Lindqvist", "ada@example.com", "sales-emea", Membership.Role.lead),
                ("Bruno Keller", "bruno@example.com", "logistics-emea", .agent),
                ("Chandra Rao", "chandra@example.com", "logistics-apac", .lead),
                ("Dewi Santoso", "dewi@example.com", "support-apac", .agent),
                ("Emil Novak", "emil@example.com", "marketing-emea", .agent),
                ("Farah Haddad", "farah@example.com", "support-emea", .viewer),
            ] {
                let member = try await members.create(name: name, email: email, by: system, on: tx)
                _ = try await members.setMembership(memberID: member.id, team: team, role: role, by: system, on: tx)
            }
            try await seedCalendarsAndPolicies(by: system, on: tx)
            return true
        }
        guard seeded else { return false }
        database.slaCatalog.invalidate()
        try await seedTasks(by: system)
        try await seedSLATasks(by: system)
        try await seedCustomers(by: system)
        try await seedMeetings(by: system)
        try await seedTraining(by: system)
        try await seedPlans(by: system)
        return true
    }

    private func seedCalendarsAndPolicies(by system: Principal, on tx: PostgresConnection) async throws {
        func interval(_ start: String, _ end: String) throws -> WorkingInterval {
            try WorkingInterval(parsing: "\(start)-\(end)")
        }
        func holiday(_ date: String, _ name: String) -> Holiday? {
            LocalDate(parsing: date).map { Holiday(date: $0, name: name) }
        }
        let calendars = CalendarStore(pool: database.pool)
        let berlinDay = [try interval("09:00", "12:30"), try interval("13:30", "18:00")]
        _ = try await calendars.set(
            region: "emea",
            timeZone: nil,
            hours: [.monday: berlinDay, .tuesday: berlinDay, .wednesday: berlinDay, .thursday: berlinDay, .friday: berlinDay],
            holidays: [
                holiday("2026-12-24", "Christmas Eve"), holiday("2026-12-25", "Christmas Day"), holiday("2026-12-26", "Boxing Day"),
                holiday("2027-01-01", "New Year's Day"), holiday("2027-04-02", "Good Friday"), holiday("2027-04-05", "Easter Monday"),
            ].compactMap { $0 },
            by: system,
            on: tx
        )
        let kolkataDay = [try interval("09:30", "18:30")]
        _ = try await calendars.set(
            region: "apac",
            timeZone: nil,
            hours: [
                .monday: kolkataDay, .tuesday: kolkataDay, .wednesday: kolkataDay, .thursday: kolkataDay, .friday: kolkataDay,
                .saturday: [try interval("10:00", "14:00")],
            ],
            holidays: [
                holiday("2027-01-26", "Republic Day"), holiday("2027-03-22", "Holi"), holiday("2027-08-15", "Independence Day"),
            ].compactMap { $0 },
            by: system,
            on: tx
        )
        let policies = SLAPolicyStore(pool: database.pool)
        for policy in [
            NewSLAPolicy(
                name: "Complaints: respond in 1 hour, resolve in 1 business day",
                kind: .sla,
                department: .support,
                taskKind: "handle_complaint",
                claimWithinMinutes: 60,
                doneWithinMinutes: 480,
                escalations: [
                    EscalationLevel(basis: .atRisk, afterMinutes: 0, action: .notify, message: "Complaint close to its deadline"),
                    EscalationLevel(afterMinutes: 0, action: .raisePriority, priority: .urgent),
                    EscalationLevel(afterMinutes: 60, action: .createTask, message: "Complaint overdue: call the customer"),
                ]
            ),
            NewSLAPolicy(
                name: "Inquiries: respond in 2 hours, answer in 2 business days",
                kind: .sla,
                department: .support,
                taskKind: "answer_inquiry",
                claimWithinMinutes: 120,
                doneWithinMinutes: 960,
                escalations: [EscalationLevel(afterMinutes: 0, action: .notify, message: "Inquiry overdue")]
            ),
            NewSLAPolicy(
                name: "VIP customers: respond in 30 minutes",
                kind: .sla,
                tags: ["vip"],
                claimWithinMinutes: 30,
                escalations: [EscalationLevel(afterMinutes: 15, action: .raisePriority, skipIfUpdated: true)]
            ),
            NewSLAPolicy(
                name: "Logistics confirms a ship date within 4 business hours of a won deal",
                kind: .ola,
                department: .logistics,
                fromDepartment: .sales,
                doneWithinMinutes: 240,
                escalations: [EscalationLevel(afterMinutes: 30, action: .createTask, message: "Ship date not confirmed")]
            ),
        ] {
            _ = try await policies.create(policy, by: system, on: tx)
        }
    }

    /// Complaints whose clocks started long enough ago (in business time) to be breached, and
    /// some at 90% of their target, so the monitor reports them as soon as the server runs.
    private func seedSLATasks(by system: Principal) async throws {
        let tasks = services.tasks
        let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
        for region in ["emea", "apac"] {
            guard let team = try await database.teams.find("support-\(region)") else { continue }
            let calendar = catalog.calendar(region: region)
            let now = Date()
            // Resolution target 480 business minutes: 150% used is breached, 90% at risk.
            let ages: [(String, Int64)] = [
                ("breached", 480 * 90), ("breached", 480 * 60 * 2), ("at risk", 480 * 54), ("at risk", 480 * 54),
            ]
            for (index, (label, seconds)) in ages.enumerated() {
                let start = try calendar.adding(businessSeconds: -seconds, to: now)
                _ = try await database.pool.transaction { tx in
                    // Created without clocks, aged, then given the clocks a task of that age has.
                    let created = try await tasks.store.create(
                        [
                            NewTask(
                                kind: "handle_complaint",
                                title: "Complaint: late delivery (\(label)) #\(index + 1)",
                                payloadJSON: #"{"customer":"CUST-\#(200 + index)","channel":"email"}"#,
                                subject: TaskSubject(type: "customer", id: "CUST-\(200 + index)")
                            )
                        ],
                        in: team,
                        by: system,
                        on: tx
                    )
                    let aged = try await tasks.store.backdate(id: created[0].task.id, to: start, on: tx)
                    return try await services.sla.startClocks(for: [aged], in: team, catalog: catalog, on: tx)
                }
            }
        }
    }

    private func seedTasks(by system: Principal) async throws {
        let tasks = services.tasks
        let kinds: [Department: [(String, String)]] = [
            .sales: [("qualify_lead", "Qualify lead"), ("send_quote", "Send quote"), ("close_deal", "Close deal")],
            .marketing: [("campaign_brief", "Write campaign brief"), ("event_followup", "Follow up event leads")],
            .logistics: [("ship_order", "Ship order"), ("confirm_ship_date", "Confirm ship date"), ("restock", "Restock item")],
            .support: [("answer_inquiry", "Answer inquiry"), ("handle_complaint", "Handle complaint"), ("csat_followup", "CSAT follow-up")],
        ]
        let priorities: [TaskPriority] = [.normal, .normal, .high, .low, .urgent]
        for region in ["emea", "apac"] {
            for department in Department.allCases {
                guard let team = try await database.teams.find("\(department.rawValue)-\(region)") else { continue }
                guard let choices = kinds[department], !choices.isEmpty else { continue }
                let catalog = try await database.slaCatalog.snapshot(pool: database.pool)
                let batch = (0..<30).map { index -> NewTask in
                    let (kind, title) = choices[index % choices.count]
                    return NewTask(
                        kind: kind,
                        title: "\(title) #\(index + 1)",
                        payloadJSON: #"{"customer":"CUST-\#(100 + index)","region":"\#(region)"}"#,
                        priority: priorities[index % priorities.count],
                        maxAttempts: index % 5 == 4 ? 1 : nil,
                        subject: TaskSubject(type: "customer", id: "CUST-\(100 + index)"),
                        tags: index % 4 == 0 ? ["vip"] : []
                    )
                }
                _ = try await database.pool.transaction { tx in
                    try await tasks.create(batch, in: team, by: system, catalog: catalog, on: tx)
                }
                // Work some of them: done, failed into dead letters, and some left claimed.
                let claimed = try await tasks.claim(.init(worker: "demo-worker", limit: 14, leaseSeconds: 3600), inTeam: team.slug, by: system)
                for (index, task) in claimed.enumerated() {
                    guard let token = task.lease?.token else { continue }
                    if task.maxAttempts == 1 {
                        // Single-attempt tasks that fail become dead letters to look at.
                        _ = try await tasks.fail(
                            id: task.id,
                            leaseToken: token,
                            error: "carrier API rejected the booking",
                            retryInSeconds: nil,
                            by: system
                        )
                        continue
                    }
                    switch index % 7 {
                    case 0...3: _ = try await tasks.complete(id: task.id, leaseToken: token, resultJSON: #"{"outcome":"ok"}"#, by: system)
                    case 4: _ = try await tasks.fail(id: task.id, leaseToken: token, error: "customer unreachable", retryInSeconds: 600, by: system)
                    default: break
                    }
                }
            }
            // Won deals handed from sales to logistics in the other region: the cross-department path.
            let other = region == "emea" ? "apac" : "emea"
            let sales = try await tasks.list(.init(team: "sales-\(region)", state: .queued), page: try PageRequest(limit: 3, after: nil), by: system)
            for task in sales.items {
                _ = try await tasks.handoff(
                    id: task.id,
                    HandoffRequest(toTeam: "logistics-\(other)", note: "Deal won; please confirm a ship date", kind: "confirm_ship_date"),
                    by: system
                )
            }
        }
    }
}
