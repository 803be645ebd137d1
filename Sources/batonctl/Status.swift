import ArgumentParser
import BatonCore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show versions, pending migrations and reference-data counts."
    )

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await reportingFailures {
            let status = try await options.withDatabase { database in try await database.status() }
            if options.json {
                try printJSON(status)
                return
            }
            printTable(
                ["ITEM", "VALUE"],
                [
                    ["baton version", status.batonVersion],
                    ["postgresql version", status.serverVersion],
                    ["schema version", "\(status.schemaVersion) of \(status.latestVersion)"],
                    ["pending migrations", status.pendingMigrations.isEmpty ? "none" : status.pendingMigrations.joined(separator: ", ")],
                    ["changed migrations", status.changedMigrations.isEmpty ? "none" : status.changedMigrations.joined(separator: ", ")],
                    ["regions", "\(status.regions)"],
                    ["teams", "\(status.teams)"],
                ]
            )
        }
    }
}
