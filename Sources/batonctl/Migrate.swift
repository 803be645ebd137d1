import ArgumentParser
import BatonCore
import PostgresClient

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations.")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "List the migrations that would be applied, and apply none.")
    var dryRun = false

    struct Report: Encodable {
        var dryRun: Bool
        var migrations: [String]
    }

    func run() async throws {
        try await reportingFailures {
            let migrations = try await options.withDatabase { database in try await database.migrate(dryRun: dryRun) }
            if options.json {
                try printJSON(Report(dryRun: dryRun, migrations: migrations.map(\.fileName)))
            } else if migrations.isEmpty {
                print("Schema is up to date.")
            } else {
                print(dryRun ? "Would apply:" : "Applied:")
                for migration in migrations { print("  \(migration.fileName)") }
            }
        }
    }
}
