import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct SLACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "SLA and OLA policies and breaches.",
        subcommands: [List.self, Add.self, Disable.self, Enable.self, Breaches.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies, active first.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let policies = try await options.withServices { try await $0.sla.policies(by: cliPrincipal) }
                if options.json {
                    try printJSON(policies.map(PolicyOutput.init))
                } else {
                    printTable(
                        ["ID", "NAME", "KIND", "APPLIES TO", "CLAIM", "DONE", "LEVELS", "ACTIVE"],
                        policies.map { policy in
                            [
                                String(policy.id), policy.name, policy.kind.rawValue, scopeDescription(policy),
                                policy.claimWithinMinutes.map { "\($0)m" } ?? "-", policy.doneWithinMinutes.map { "\($0)m" } ?? "-",
                                String(policy.escalations.count), policy.active ? "yes" : "no",
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a policy. Targets are business minutes in the calendar of the task's region (or --calendar-region).",
            discussion: """
                Escalation levels, in order: --escalate BASIS+DELAY:ACTION[:ARGUMENT][:skip-if-updated], where BASIS is breach or
                at_risk, DELAY business time (30m, 2h), ACTION raise_priority[:PRIORITY], notify[:MESSAGE], handoff:TEAM or
                create_task[:TEAM]. Example: --escalate breach+0m:raise_priority:urgent --escalate breach+2h:create_task
                """
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Policy name.") var name: String
        @Option(help: "sla (customer-facing) or ola (between departments).") var kind = "sla"
        @Option(help: "Only this team.") var team: String?
        @Option(help: "Only this department.") var department: String?
        @Option(help: "Only tasks of this kind.") var taskKind: String?
        @Option(help: "Only tasks of this priority.") var priority: String?
        @Option(name: .customLong("tag"), help: "Only tasks with any of these tags (repeatable).") var tags: [String] = []
        @Option(help: "Only tasks handed off from this department (an OLA).") var fromDepartment: String?
        @Option(help: "First-response target: 30m, 4h or minutes.") var claimWithin: String?
        @Option(help: "Resolution target: 30m, 4h or minutes.") var doneWithin: String?
        @Option(help: "Count in this region's calendar instead of the task's.") var calendarRegion: String?
        @Option(name: .customLong("escalate"), help: "An escalation level (repeatable, in order).") var levels: [String] = []

        func run() async throws {
            try await reportingFailures {
                guard let kind = SLAKind(rawValue: kind) else { throw CommandFailure(message: "--kind must be sla or ola") }
                let policy = NewSLAPolicy(
                    name: name,
                    kind: kind,
                    team: team,
                    department: try department.map(parseDepartment),
                    taskKind: taskKind,
                    priority: try priority.map(parsePriority),
                    tags: tags,
                    fromDepartment: try fromDepartment.map(parseDepartment),
                    claimWithinMinutes: try claimWithin.map(parseMinutes),
                    doneWithinMinutes: try doneWithin.map(parseMinutes),
                    calendarRegion: calendarRegion,
                    escalations: try levels.map(parseLevel)
                )
                let created = try await options.withServices { try await $0.sla.createPolicy(policy, by: cliPrincipal) }
                if options.json { try printJSON(PolicyOutput(created)) } else { print("Added policy \(created.id): \(created.name).") }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop applying a policy to new tasks; running clocks keep going.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Policy id.") var id: Int

        func run() async throws {
            try await reportingFailures { try await setPolicy(id, active: false, options: options) }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply a disabled policy to new tasks again.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Policy id.") var id: Int

        func run() async throws {
            try await reportingFailures { try await setPolicy(id, active: true, options: options) }
        }
    }

    struct Breaches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List breached SLA clocks, oldest breach first.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this region.") var region: String?
        @Option(help: "Only this team.") var team: String?
        @Option(help: "Only breaches at or after this time (RFC 3339).") var since: String?
        @Option(help: "At most this many (1-200).") var limit = 100

        func run() async throws {
            try await reportingFailures {
                var sinceDate: Date?
                if let since {
                    guard let parsed = PostgresTimestamp.parse(since) else { throw CommandFailure(message: "--since must be an RFC 3339 time") }
                    sinceDate = parsed
                }
                let breaches = try await options.withServices { services in
                    try await services.sla.breaches(
                        team: team,
                        region: region,
                        since: sinceDate,
                        page: try PageRequest(limit: limit, after: nil),
                        by: cliPrincipal
                    ).page.items
                }
                if options.json {
                    try printJSON(breaches.map(BreachOutput.init))
                } else {
                    printTable(
                        ["TASK", "TEAM", "TARGET", "POLICY", "DUE", "BREACHED", "TASK STATE", "TITLE"],
                        breaches.map { breach in
                            [
                                String(breach.clock.taskID), breach.clock.team, breach.clock.target.rawValue, breach.clock.policyName,
                                PostgresTimestamp.formatRFC3339(breach.clock.dueAt).prefix(19) + "Z",
                                breach.clock.breachedAt.map { String(PostgresTimestamp.formatRFC3339($0).prefix(19)) + "Z" } ?? "-",
                                breach.state.rawValue, String(breach.title.prefix(50)),
                            ]
                        }
                    )
                }
            }
        }
    }
}
