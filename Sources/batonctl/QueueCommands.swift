import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Look at team queues.",
        subcommands: [Stats.self]
    )

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts, oldest queued age and recent throughput.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this team.") var team: String?

        func run() async throws {
            try await reportingFailures {
                let stats = try await options.withDatabase { database in
                    var slugs = team.map { [$0] } ?? []
                    if team == nil {
                        slugs = try await database.teams.list(try PageRequest(limit: 200, after: nil)).items.map(\.slug)
                    }
                    var result: [TeamStats] = []
                    for slug in slugs { result.append(try await TaskStore(pool: database.pool).stats(team: slug)) }
                    return result
                }
                if options.json {
                    try printJSON(stats)
                } else {
                    printTable(
                        ["TEAM", "QUEUED", "CLAIMED", "DEAD", "DONE 5M", "DONE 60M", "OLDEST", "PAUSED"],
                        stats.map { stat in
                            [
                                stat.team, String(stat.counts["queued"] ?? 0), String(stat.counts["claimed"] ?? 0), String(stat.dead),
                                String(stat.completedLast5Minutes), String(stat.completedLast60Minutes),
                                stat.oldestQueuedAgeSeconds.map { String(format: "%.0fs", $0) } ?? "-", stat.paused ? "yes" : "no",
                            ]
                        }
                    )
                }
            }
        }
    }
}

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Show and requeue tasks.",
        subcommands: [Show.self, Requeue.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task with its events and handoff chain.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int

        func run() async throws {
            try await reportingFailures {
                let (task, chain, events) = try await options.withDatabase { database in
                    let store = TaskStore(pool: database.pool)
                    guard let task = try await store.find(id: id) else { throw CommandFailure(message: "no task \(id)") }
                    return (
                        task, try await store.chain(id: task.chainID),
                        try await EventStore(pool: database.pool).history(entityType: "task", entityID: String(id))
                    )
                }
                print("Task \(task.id): \(task.title)")
                printTable(
                    ["FIELD", "VALUE"],
                    [
                        ["team", task.team], ["kind", task.kind], ["state", task.state.rawValue], ["priority", task.priority.rawValue],
                        ["attempts", "\(task.attempts) of \(task.maxAttempts)"],
                        ["lease", task.lease.map { "\($0.worker) until \($0.expiresAt)" } ?? "-"],
                        ["last error", task.lastError ?? "-"], ["payload", task.payloadJSON],
                    ]
                )
                print("\nChain:")
                printTable(["ID", "TEAM", "STATE", "NOTE"], chain.map { [String($0.id), $0.team, $0.state.rawValue, $0.handoffNote ?? ""] })
                print("\nEvents:")
                printTable(["ID", "TYPE", "AT", "ACTOR"], events.map { [String($0.id), $0.type, "\($0.occurredAt)", $0.actorID ?? ""] })
            }
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put a dead or cancelled task back in its queue.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int

        func run() async throws {
            try await reportingFailures {
                let task = try await options.withDatabase { database in
                    try await TaskStore(pool: database.pool).transition(
                        id: id,
                        from: [.dead, .cancelled],
                        to: .queued,
                        eventType: "task.retried",
                        reason: "requeued from the CLI",
                        by: cliPrincipal
                    )
                }
                guard let task else { throw CommandFailure(message: "task \(id) is not dead or cancelled (or does not exist)") }
                print("Requeued task \(task.id) in \(task.team).")
            }
        }
    }
}

struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letter",
        abstract: "List and retry dead tasks.",
        subcommands: [List.self, Retry.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dead tasks, oldest first.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this team.") var team: String?

        func run() async throws {
            try await reportingFailures {
                let tasks = try await options.withDatabase { database in
                    try await TaskStore(pool: database.pool).list(
                        .init(teams: team.map { [$0] }, state: .dead),
                        page: try PageRequest(limit: 200, after: nil)
                    ).items
                }
                if options.json {
                    try printJSON(tasks.map { ["id": String($0.id), "team": $0.team, "kind": $0.kind, "last_error": $0.lastError ?? ""] })
                } else {
                    printTable(
                        ["ID", "TEAM", "KIND", "ATTEMPTS", "LAST ERROR"],
                        tasks.map { [String($0.id), $0.team, $0.kind, String($0.attempts), $0.lastError ?? ""] }
                    )
                }
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put dead tasks back in their queues.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this team.") var team: String?
        @Flag(help: "Retry every dead task (of the team, if given).") var all = false
        @Argument(help: "Task ids.") var ids: [Int] = []

        func run() async throws {
            try await reportingFailures {
                guard all || !ids.isEmpty else { throw CommandFailure(message: "name task ids or pass --all") }
                let retried = try await options.withDatabase { database in
                    let store = TaskStore(pool: database.pool)
                    var targets = ids
                    if all {
                        targets = try await store.list(.init(teams: team.map { [$0] }, state: .dead), page: try PageRequest(limit: 200, after: nil))
                            .items.map(\.id)
                    }
                    var count = 0
                    for id in targets
                    where try await store.transition(
                        id: id,
                        from: [.dead],
                        to: .queued,
                        eventType: "task.retried",
                        reason: "retried from the CLI",
                        by: cliPrincipal
                    ) != nil {
                        count += 1
                    }
                    return count
                }
                print("Retried \(retried) task(s).")
            }
        }
    }
}
