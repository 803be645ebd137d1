import ArgumentParser
import BatonCore
import Foundation

struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "List webhook subscriptions and their deliveries.",
        subcommands: [List.self, Deliveries.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every webhook subscription (secrets are never shown).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let webhooks = try await options.withServices { services in
                    var all: [Webhook] = []
                    var after: String?
                    repeat {
                        let page = try await services.webhooks.list(page: try PageRequest(limit: 200, after: after), by: cliPrincipal)
                        all += page.items
                        after = page.nextCursor
                    } while after != nil
                    return all
                }
                if options.json {
                    try printJSON(webhooks)
                } else if webhooks.isEmpty {
                    print("No webhooks.")
                } else {
                    printTable(
                        ["ID", "STATE", "EVENTS", "URL", "FAILING SINCE"],
                        webhooks.map { webhook in
                            [
                                String(webhook.id),
                                webhook.active ? "active" : webhook.disabledAt != nil ? "disabled" : "off",
                                webhook.eventTypes.joined(separator: ","),
                                webhook.url,
                                webhook.failingSince.map { $0.formatted(.iso8601) } ?? "-",
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Deliveries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A webhook's delivery log, newest first.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The webhook's id.") var id: Int
        @Option(help: "How many deliveries, 1 to 200.") var limit = 50

        func run() async throws {
            try await reportingFailures {
                let page = try await options.withServices { services in
                    try await services.webhooks.deliveries(webhook: id, page: try PageRequest(limit: limit, after: nil), by: cliPrincipal)
                }
                if options.json {
                    try printJSON(page.items)
                } else if page.items.isEmpty {
                    print("No deliveries for webhook \(id).")
                } else {
                    printTable(
                        ["DELIVERY", "EVENT", "TYPE", "STATE", "ATTEMPTS", "STATUS", "LAST ATTEMPT", "LAST ERROR"],
                        page.items.map { delivery in
                            [
                                String(delivery.id),
                                String(delivery.eventID),
                                delivery.eventType,
                                delivery.state.rawValue,
                                String(delivery.attempts),
                                delivery.lastStatus.map(String.init) ?? "-",
                                delivery.lastAttemptAt.map { $0.formatted(.iso8601) } ?? "-",
                                delivery.lastError.map { String($0.prefix(60)) } ?? "-",
                            ]
                        }
                    )
                }
            }
        }
    }
}
