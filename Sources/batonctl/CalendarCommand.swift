import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Show and set a region's business calendar.",
        subcommands: [Show.self, Set.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a region's time zone, working hours and holidays.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String

        func run() async throws {
            try await reportingFailures {
                let calendar = try await options.withServices { try await $0.sla.calendar(region: region, by: cliPrincipal) }
                printCalendar(calendar, json: options.json)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a region's working hours.",
            discussion: """
                Each --day gives weekdays and their intervals, e.g. --day mon-fri=09:00-12:30,13:30-18:00 --day sat=10:00-14:00.
                Weekdays not given have no working hours. Holidays are kept.
                """
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String
        @Option(name: .customLong("day"), help: "DAYS=INTERVALS, such as mon-fri=09:00-17:00.") var days: [String] = []
        @Option(help: "New IANA time zone for the region, such as Europe/Berlin.") var timeZone: String?

        func run() async throws {
            try await reportingFailures {
                let hours = try parseWeek(days)
                let calendar = try await options.withServices { services in
                    try await services.sla.setCalendar(region: region, timeZone: timeZone, hours: hours, holidays: nil, by: cliPrincipal)
                }
                printCalendar(calendar, json: options.json)
            }
        }
    }
}
