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
                let stats = try await options.withServices { services in
                    var slugs = team.map { [$0] } ?? []
                    if team == nil {
                        slugs = try await services.referenceData.teams(
                            page: try PageRequest(limit: 200, after: nil),
                            region: nil,
                            department: nil,
                            by: cliPrincipal
                        )
                        .items.map(\.slug)
                    }
                    var result: [TeamStats] = []
                    for slug in slugs { result.append(try await services.tasks.stats(team: slug, windowMinutes: 1440, by: cliPrincipal).stats) }
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
