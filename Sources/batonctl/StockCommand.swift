import ArgumentParser
import BatonCore
import Foundation

struct StockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stock",
        abstract: "Receive, adjust and verify stock.",
        subcommands: [Receive.self, Adjust.self, Verify.self]
    )

    struct Receive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Receive goods into a region's stock.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Region code, such as emea.") var region: String
        @Option(help: "Product sku.") var sku: String
        @Option(help: "How many arrived.") var quantity: Int
        @Option(help: "A note, such as the delivery note's number.") var reason: String?

        func run() async throws {
            try await reportingFailures {
                let level = try await options.withServices { services in
                    try await services.inventory.receive(region: region, sku: sku, quantity: quantity, reason: reason, by: cliPrincipal)
                }
                StockCommand.print(level, json: options.json)
            }
        }
    }

    struct Adjust: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Correct a region's stock by a signed quantity, for a reason.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Region code, such as emea.") var region: String
        @Option(help: "Product sku.") var sku: String
        @Option(help: "The change, such as 5, or --delta=-3 for a loss.") var delta: Int
        @Option(help: "Why: a count, breakage, a find.") var reason: String

        func run() async throws {
            try await reportingFailures {
                let level = try await options.withServices { services in
                    try await services.inventory.adjust(region: region, sku: sku, delta: delta, reason: reason, by: cliPrincipal)
                }
                StockCommand.print(level, json: options.json)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every stock balance against the sum of its movements; exit 1 and name each row that disagrees."
        )
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let found = try await options.withServices { services in try await services.inventory.verify(by: cliPrincipal) }
                if options.json {
                    try printJSON(found)
                } else if found.isEmpty {
                    Swift.print("Every stock balance agrees with its movements.")
                } else {
                    printTable(
                        ["REGION", "SKU", "ON HAND", "LEDGER", "RESERVED", "LEDGER"],
                        found.map { [$0.region, $0.sku, String($0.onHand), String($0.ledgerOnHand), String($0.reserved), String($0.ledgerReserved)] }
                    )
                }
                if !found.isEmpty { throw ExitCode.failure }
            }
        }
    }

    static func print(_ level: StockLevel, json: Bool) {
        if json {
            try? printJSON(level)
        } else {
            Swift.print(
                "\(level.sku) in \(level.region): \(level.onHand) on hand, \(level.reserved) reserved, \(level.available) available"
                    + (level.belowReorder ? " (at or below the reorder point \(level.reorderPoint))" : "")
            )
        }
    }
}
