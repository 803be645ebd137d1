import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

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
                let tasks = try await options.withServices { services in
                    try await services.tasks.list(.init(team: team, state: .dead), page: try PageRequest(limit: 200, after: nil), by: cliPrincipal)
                        .items
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
                let retried = try await options.withServices { services in
                    var targets = ids
                    if all {
                        targets = try await services.tasks.list(
                            .init(team: team, state: .dead),
                            page: try PageRequest(limit: 200, after: nil),
                            by: cliPrincipal
                        )
                        .items.map(\.id)
                    }
                    var count = 0
                    for id in targets {
                        do {
                            _ = try await services.tasks.retry(id: id, reason: "retried from the CLI", by: cliPrincipal)
                            count += 1
                        } catch let error as BatonError where error.kind == .conflict || error.kind == .notFound {
                            continue
                        }
                    }
                    return count
                }
                print("Retried \(retried) task(s).")
            }
        }
    }
}
