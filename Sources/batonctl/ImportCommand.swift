import ArgumentParser
import BatonCore
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load customers, contacts or products from a CSV file: every row checked, all or nothing unless --skip-invalid.",
        discussion: """
            The first line names the columns, in any order.
            customers: region and name are required; legal_name, segment, status (lead, prospect, active, churned), \
            owner_id, tags (separated by ;), website and notes are optional.
            contacts: name is required, and the customer by customer_id or by region and customer (its name); \
            role, email, phone and preferred_channel are optional.
            products: sku, name, unit_price_minor and currency are required; category and active (true or false) are \
            optional. A sku that exists updates its product.
            Each bad row is reported with its line, column and reason; nothing is written unless --skip-invalid.
            """,
        subcommands: [Customers.self, Contacts.self, Products.self]
    )

    struct ImportOptions: ParsableArguments {
        @Argument(help: "The CSV file (UTF-8, comma-separated, RFC 4180 quoting); - reads standard input.") var file: String
        @Flag(help: "Load the good rows and report the bad ones, instead of loading nothing.") var skipInvalid = false

        func run(
            _ options: GlobalOptions,
            allowDuplicates: Bool = false,
            _ body: (BatonServices, CustomerService.ImportOptions, () throws -> [UInt8]?, (Int) -> Void) async throws -> CustomerService.ImportReport
        ) async throws {
            let handle: FileHandle
            if file == "-" {
                handle = .standardInput
            } else {
                guard let opened = FileHandle(forReadingAtPath: file) else { throw CommandFailure(message: "cannot read \(file)") }
                handle = opened
            }
            defer { try? handle.close() }
            let read = { () throws -> [UInt8]? in
                guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else { return nil }
                return [UInt8](data)
            }
            let onTerminal = isatty(STDERR_FILENO) == 1 && !options.json
            let progress = { (rows: Int) in
                if onTerminal { FileHandle.standardError.write(Data("\r\(rows) rows read".utf8)) }
            }
            let started = ContinuousClock.now
            let report = try await options.withServices { services in
                try await body(services, .init(skipInvalid: skipInvalid, allowDuplicates: allowDuplicates), read, progress)
            }
            if onTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
            let elapsed = ContinuousClock.now - started
            if options.json {
                try printJSON(report)
            } else {
                if !report.problems.isEmpty {
                    printTable(["LINE", "COLUMN", "REASON"], report.problems.map { [String($0.line), $0.column, $0.reason] })
                }
                let seconds = elapsed.inSeconds
                let rate = seconds > 0 ? String(format: " in %.1f s (%.0f rows/s)", seconds, Double(report.rows) / seconds) : ""
                let badRows = Set(report.problems.map(\.line)).count
                if report.committed {
                    print("Imported \(report.imported) of \(report.rows) rows\(rate); \(badRows) bad rows skipped.")
                } else {
                    print("Imported nothing: \(badRows) bad rows of \(report.rows). Fix them, or pass --skip-invalid.")
                }
            }
            if !report.committed { throw ExitCode.failure }
        }
    }

    struct Customers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import customers.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var importing: ImportOptions
        @Flag(help: "Load a customer even when its region has one of the same name.") var allowDuplicates = false

        func run() async throws {
            try await reportingFailures {
                try await importing.run(options, allowDuplicates: allowDuplicates) { services, options, read, progress in
                    try await services.customers.importCustomers(reading: read, options: options, by: cliPrincipal, progress: progress)
                }
            }
        }
    }

    struct Contacts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import contacts of existing customers.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var importing: ImportOptions

        func run() async throws {
            try await reportingFailures {
                try await importing.run(options) { services, options, read, progress in
                    try await services.customers.importContacts(reading: read, options: options, by: cliPrincipal, progress: progress)
                }
            }
        }
    }

    struct Products: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import products, adding new skus and updating known ones (admin).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var importing: ImportOptions

        func run() async throws {
            try await reportingFailures {
                try await importing.run(options) { services, options, read, _ in
                    try await services.inventory.importProducts(reading: read, options: options, by: cliPrincipal)
                }
            }
        }
    }
}
