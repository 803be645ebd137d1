import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct HolidayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holiday",
        abstract: "Add and remove a region's holidays.",
        subcommands: [Add.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a holiday: no working time on that local date.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String
        @Argument(help: "Date, YYYY-MM-DD.") var date: String
        @Argument(help: "Name, such as \"Christmas Day\".") var name: String

        func run() async throws {
            try await reportingFailures {
                guard let day = LocalDate(parsing: date) else { throw CommandFailure(message: "'\(date)' is not a date (YYYY-MM-DD)") }
                let holiday = try await options.withServices { services in
                    try await services.sla.addHoliday(region: region, Holiday(date: day, name: name), by: cliPrincipal)
                }
                if options.json {
                    try printJSON(["region": region, "date": holiday.date.description, "name": holiday.name])
                } else {
                    print("Added holiday \(holiday.date) (\(holiday.name)) to \(region).")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a holiday.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String
        @Argument(help: "Date, YYYY-MM-DD.") var date: String

        func run() async throws {
            try await reportingFailures {
                guard let day = LocalDate(parsing: date) else { throw CommandFailure(message: "'\(date)' is not a date (YYYY-MM-DD)") }
                try await options.withServices { try await $0.sla.removeHoliday(region: region, date: day, by: cliPrincipal) }
                print("Removed holiday \(day) from \(region).")
            }
        }
    }
}
