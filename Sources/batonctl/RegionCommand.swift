import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct RegionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region",
        abstract: "Add and list regions.",
        subcommands: [Add.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a region.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code, such as emea.") var code: String
        @Option(help: "Display name.") var name: String
        @Option(help: "IANA time zone.") var timeZone = "UTC"

        func run() async throws {
            try await reportingFailures {
                let region = try await options.withServices { services in
                    try await services.referenceData.createRegion(.init(code: code, name: name, timeZone: timeZone), by: cliPrincipal)
                }
                if options.json { try printJSON(region) } else { print("Added region \(region.code) (\(region.timeZone)).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List regions.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let regions = try await options.withServices { services in
                    try await services.referenceData.regions(page: try PageRequest(limit: 200, after: nil), by: cliPrincipal).items
                }
                if options.json {
                    try printJSON(regions)
                } else {
                    printTable(["CODE", "NAME", "TIME ZONE"], regions.map { [$0.code, $0.name, $0.timeZone] })
                }
            }
        }
    }
}
