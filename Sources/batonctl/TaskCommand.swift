import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Create, show and requeue tasks.",
        subcommands: [Create.self, Show.self, Requeue.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue a task in a team, as the API does: SLA clocks start when a policy covers it."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "The team, such as support-emea.") var team: String
        @Option(help: "What kind of work, such as handle_complaint.") var kind: String
        @Option(help: "A title for people.") var title: String
        @Option(help: "A JSON object for the worker.") var payload: String?
        @Option(help: "urgent, high, normal or low.") var priority: String?
        @Option(help: "A key that makes a repeat return the live task instead of a new one.") var dedupeKey: String?
        @Option(help: "A tag (repeatable).") var tag: [String] = []

        func run() async throws {
            try await reportingFailures {
                let priority = try priority.map { text -> TaskPriority in
                    guard let priority = TaskPriority(rawValue: text) else {
                        throw CommandFailure(message: "--priority takes urgent, high, normal or low")
                    }
                    return priority
                }
                let task = NewTask(
                    kind: kind,
                    title: title,
                    payloadJSON: payload,
                    priority: priority,
                    dedupeKey: dedupeKey,
                    tags: tag.isEmpty ? nil : tag
                )
                let created = try await options.withServices { try await $0.tasks.create(task, inTeam: team, by: cliPrincipal) }
                if options.json {
                    try printJSON(created.task)
                } else {
                    let due = created.task.dueAt.map { ", due \($0)" } ?? ""
                    print("\(created.isNew ? "Queued" : "Found the live") task \(created.task.id) in \(created.task.team)\(due).")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A task with its events and handoff chain.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int

        func run() async throws {
            try await reportingFailures {
                let detail = try await options.withServices { try await $0.tasks.detail(id: id, by: cliPrincipal) }
                let (task, events) = (detail.task, detail.events)
                let chain = detail.chain.compactMap { step -> QueueTask? in
                    if case .visible(let task) = step { return task }
                    return nil
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
                let task = try await options.withServices { services in
                    try await services.tasks.retry(id: id, includingCancelled: true, reason: "requeued from the CLI", by: cliPrincipal)
                }
                print("Requeued task \(task.id) in \(task.team).")
            }
        }
    }
}
