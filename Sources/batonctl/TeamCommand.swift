import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct TeamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team",
        abstract: "Add, list, pause and resume teams.",
        subcommands: [Add.self, List.self, Pause.self, Resume.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a team (a department in a region).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "sales, marketing, logistics, support or coordination.") var department: String
        @Option(help: "Region code.") var region: String
        @Option(help: "Slug (default: department-region).") var slug: String?
        @Option(help: "Display name.") var name: String?

        func run() async throws {
            try await reportingFailures {
                guard let department = Department(rawValue: department) else {
                    throw CommandFailure(message: "department must be one of \(Department.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let team = try await options.withServices { services in
                    try await services.referenceData.createTeam(
                        .init(department: department, region: region, slug: slug, name: name),
                        by: cliPrincipal
                    )
                }
                if options.json { try printJSON(team) } else { print("Added team \(team.slug).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List teams.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this region.") var region: String?

        func run() async throws {
            try await reportingFailures {
                let teams = try await options.withServices { services in
                    try await services.referenceData.teams(
                        page: try PageRequest(limit: 200, after: nil),
                        region: region,
                        department: nil,
                        by: cliPrincipal
                    )
                    .items
                }
                if options.json {
                    try printJSON(teams)
                } else {
                    printTable(
                        ["SLUG", "DEPARTMENT", "REGION", "PAUSED", "NAME"],
                        teams.map { [$0.slug, $0.department.rawValue, $0.region, $0.paused ? "yes" : "no", $0.name] }
                    )
                }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop handing out a team's tasks.")
        @OptionGroup var options: GlobalOptions
        @Argument var slug: String

        func run() async throws {
            try await reportingFailures {
                let team = try await options.withServices { try await $0.tasks.setPaused(team: slug, true, by: cliPrincipal) }
                if options.json { try printJSON(team) } else { print("Paused \(team.slug).") }
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand out a team's tasks again.")
        @OptionGroup var options: GlobalOptions
        @Argument var slug: String

        func run() async throws {
            try await reportingFailures {
                let team = try await options.withServices { try await $0.tasks.setPaused(team: slug, false, by: cliPrincipal) }
                if options.json { try printJSON(team) } else { print("Resumed \(team.slug).") }
            }
        }
    }
}
