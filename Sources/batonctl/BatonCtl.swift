import ArgumentParser
import BatonCommandLine
import BatonCore
import Foundation
import Logging
import PostgresClient

@main
struct BatonCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batonctl",
        abstract: "Administer a Baton database: migrations, reference data, tokens, queues, dead letters, imports and exports.",
        subcommands: [
            Migrate.self, Status.self, RegionCommand.self, TeamCommand.self, MemberCommand.self, TokenCommand.self, QueueCommand.self,
            TaskCommand.self, DeadLetterCommand.self, CalendarCommand.self, HolidayCommand.self, SLACommand.self, DoctorCommand.self,
            ImportCommand.self, ExportCommand.self, StockCommand.self, RulesCommand.self, WebhookCommand.self, ReportCommand.self,
            PruneCommand.self,
        ]
    )
}

/// The principal CLI changes are recorded under: an operator at the console, every permission.
let cliPrincipal = Principal.system(source: "cli")

/// Options every command shares: where the database is (``DatabaseOptions``, shared with
/// `baton serve`) and how to print.
struct GlobalOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON for scripts instead of tables.")
    var json = false

    /// Opens the database, runs `body` with the use-case services over it, and closes it.
    func withServices<Result>(_ body: (BatonServices) async throws -> Result) async throws -> Result {
        try await withDatabase { database in
            let services = BatonServices(database: database)
            let result = try await body(services)
            // Servers' waiters hear of the change now, not at their next poll.
            await services.wakeups.flush()
            return result
        }
    }

    /// Opens the database (starting the embedded cluster for the command if it is not
    /// running), runs `body`, and closes everything again. Failures end the process with a
    /// one-line reason and a non-zero exit code.
    func withDatabase<Result>(_ body: (BatonDatabase) async throws -> Result) async throws -> Result {
        var logger = Logger(label: "batonctl")
        logger.logLevel = .error
        let environment = ProcessInfo.processInfo.environment
        let session: DatabaseSession
        do {
            session = try await database.target(environment: environment).open(
                poolConfiguration: try database.bounding(.init(size: 2, acquireTimeout: .seconds(10)), environment: environment),
                logger: logger
            )
        } catch {
            throw CommandFailure(error)
        }
        do {
            let result = try await body(session.database)
            await session.close()
            return result
        } catch {
            await session.close()
            throw CommandFailure(error)
        }
    }
}

/// A failure printed as one line on standard error, with exit code 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        switch error {
        case let error as CommandFailure: description = error.description
        case let error as PostgresError: description = "batonctl: \(error.oneLineMessage)"
        case let error as BatonError: description = "batonctl: \(error.message)"
        default: description = "batonctl: \(error)"
        }
    }

    init(message: String) { description = "batonctl: \(message)" }
}

extension AsyncParsableCommand {
    /// Runs `body`, turning a ``CommandFailure`` into its line on stderr and exit code 1.
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data((failure.description + "\n").utf8))
            throw ExitCode.failure
        }
    }
}

/// Prints `value` as sorted, indented JSON with snake_case keys.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Prints rows as an aligned table under a header.
func printTable(_ header: [String], _ rows: [[String]]) {
    let widths = header.indices.map { column in
        ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { cell, width in cell.padding(toLength: width, withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for row in rows { print(line(row)) }
}
