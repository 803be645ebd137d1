public import Foundation
public import PostgresClient

/// `baton serve --demo`: two regions, the four departments in each, members, and a few
/// hundred tasks in every state, so a newcomer can try the API at once. Seeds only an empty
/// database (no regions yet).
public struct DemoSeeder: Sendable {
    let database: BatonDatabase

    public init(database: BatonDatabase) { self.database = database }

    /// Seeds and returns true, or returns false when the database already has regions.
    @discardableResult
    public func seedIfEmpty() async throws -> Bool {
        let system = Principal.system(source: "system")
        let seeded = try await database.pool.transaction { tx -> Bool in
            try await tx.query("SELECT pg_advisory_xact_lock(7362520)")
            guard try await tx.query("SELECT 1 FROM regions LIMIT 1").rows.isEmpty else { return false }
            for (code, name, zone) in [("emea", "Europe, Middle East and Africa", "Europe/Berlin"), ("apac", "Asia-Pacific", "Asia/Kolkata")] {
                _ = try await database.regions.create(code: code, name: name, timeZone: zone, by: system, on: tx)
                for department in Department.allCases {
                    _ = try await database.teams.create(.init(department: department, region: code), by: system, on: tx)
                }
            }
            try await tx.query(
                """
                WITH people(name, email, team, role) AS (VALUES
                    ('Ada Lindqvist', 'ada@example.com', 'sales-emea', 'lead'),
                    ('Bruno Keller', 'bruno@example.com', 'logistics-emea', 'agent'),
                    ('Chandra Rao', 'chandra@example.com', 'logistics-apac', 'lead'),
                    ('Dewi Santoso', 'dewi@example.com', 'support-apac', 'agent'),
                    ('Emil Novak', 'emil@example.com', 'marketing-emea', 'agent'),
                    ('Farah Haddad', 'farah@example.com', 'support-emea', 'viewer')),
                inserted AS (INSERT INTO members (name, email) SELECT name, email FROM people RETURNING id, email)
                INSERT INTO memberships (member_id, team, role)
                SELECT inserted.id, people.team, people.role FROM inserted JOIN people USING (email)
                """
            )
            return true
        }
        guard seeded else { return false }
        try await seedTasks(by: system)
        return true
    }

    private func seedTasks(by system: Principal) async throws {
        let tasks = TaskStore(pool: database.pool)
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
                let choices = kinds[department] ?? []
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
                _ = try await database.pool.transaction { tx in try await tasks.create(batch, in: team, by: system, on: tx) }
                // Work some of them: done, failed into dead letters, and some left claimed.
                let claimed = try await tasks.claim(team: team.slug, worker: "demo-worker", limit: 14, leaseSeconds: 3600, kinds: nil, by: system)
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
            let sales = try await tasks.list(.init(teams: ["sales-\(region)"], state: .queued), page: try PageRequest(limit: 3, after: nil))
            for task in sales.items {
                _ = try await database.pool.transaction { tx in
                    try await tasks.handoff(
                        id: task.id,
                        HandoffRequest(toTeam: "logistics-\(other)", note: "Deal won; please ship", kind: "ship_order"),
                        by: system,
                        on: tx,
                        authorize: { _ in }
                    )
                }
            }
        }
    }
}
