import ArgumentParser
import BatonCore
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write records out as CSV or JSON, streamed a batch at a time.",
        subcommands: [Customers.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case csv, json
    }

    struct Customers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export customers (not deleted ones): CSV with the import's columns plus id and version, or a JSON array."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "csv or json.") var format: Format = .csv
        @Option(help: "Only this region's customers.") var region: String?
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            try await reportingFailures {
                let out: FileHandle
                if let output {
                    guard FileManager.default.createFile(atPath: output, contents: nil), let opened = FileHandle(forWritingAtPath: output) else {
                        throw CommandFailure(message: "cannot write \(output)")
                    }
                    out = opened
                } else {
                    out = .standardOutput
                }
                defer { if output != nil { try? out.close() } }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.dateEncodingStrategy = .iso8601
                let columns = ["id"] + CustomerService.customerColumns + ["version", "created_at", "updated_at"]
                out.write(Data((format == .csv ? CSVReader.line(columns) + "\n" : "[").utf8))
                var first = true
                let count = try await options.withServices { services in
                    try await services.customers.export(region: region, by: cliPrincipal) { customers in
                        var chunk = Data()
                        for customer in customers {
                            switch format {
                            case .csv:
                                chunk.append(contentsOf: (CSVReader.line(Self.fields(customer)) + "\n").utf8)
                            case .json:
                                chunk.append(contentsOf: (first ? "\n" : ",\n").utf8)
                                chunk.append(try encoder.encode(customer))
                                first = false
                            }
                        }
                        try out.write(contentsOf: chunk)
                    }
                }
                if format == .json { out.write(Data((first ? "]\n" : "\n]\n").utf8)) }
                if output != nil { FileHandle.standardError.write(Data("Exported \(count) customers to \(output ?? "").\n".utf8)) }
            }
        }

        static func fields(_ customer: Customer) -> [String] {
            [
                String(customer.id), customer.region, customer.name, customer.legalName ?? "", customer.segment ?? "", customer.status.rawValue,
                customer.ownerID.map(String.init) ?? "", customer.tags.joined(separator: ";"), customer.website ?? "", customer.notes ?? "",
                String(customer.version), customer.createdAt.formatted(.iso8601), customer.updatedAt.formatted(.iso8601),
            ]
        }
    }
}
