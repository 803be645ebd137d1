import ArgumentParser
import BatonCore
import Foundation

struct RulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List handoff rules and try one against a sample event.",
        subcommands: [List.self, Test.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Handoff rules in id order: the event each reacts to and where its task goes.")
        @OptionGroup var options: GlobalOptions
        @Option(name: .customLong("on"), help: "Only the rules of this event type, such as order.confirmed.") var eventType: String?
        @Flag(help: "Only active rules.") var active = false

        func run() async throws {
            try await reportingFailures {
                let rules = try await options.withServices { services in
                    var rules: [Rule] = []
                    var after: String?
                    repeat {
                        let page = try await services.rules.list(
                            on: eventType,
                            activeOnly: active,
                            page: try PageRequest(limit: PageRequest.maximumLimit, after: after),
                            by: cliPrincipal
                        )
                        rules += page.items
                        after = page.nextCursor
                    } while after != nil
                    return rules
                }
                if options.json {
                    try printJSON(rules)
                } else {
                    printTable(
                        ["ID", "ON", "ACTIVE", "SENDS TO", "KIND", "NAME"],
                        rules.map { rule in
                            let to = rule.action.team ?? rule.action.department.map { "\($0.rawValue) of the region" } ?? "-"
                            return [String(rule.id), rule.on, rule.active ? "yes" : "no", to, rule.action.kind, rule.name]
                        }
                    )
                }
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dry-run a rule against a sample event: whether it holds and the task it would create. Nothing is written.",
            discussion: """
                The event file is JSON: {"type": "order.confirmed", "entity_type": "order", "entity_id": "42", \
                "region": "emea", "data": {"number": "SO-42", "customer_name": "Acme"}}; type defaults to the rule's.
                """
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The rule's id.") var id: Int
        @Option(help: "A JSON file holding the sample event.") var event: String

        func run() async throws {
            try await reportingFailures {
                let sample = try Self.event(from: event)
                let trial = try await options.withServices { services in try await services.rules.test(id: id, event: sample, by: cliPrincipal) }
                if options.json {
                    try printJSON(trial)
                } else if let task = trial.task {
                    print("Rule \(id) holds: it would queue a \(task.priority.rawValue) \(task.kind) task in \(task.team): \(task.title)")
                    if let subject = task.subject { print("  subject: \(subject.type):\(subject.id)") }
                    for key in task.payload.keys.sorted() { print("  payload.\(key): \(task.payload[key] ?? "")") }
                } else {
                    print("Rule \(id) does not hold: \(trial.reason ?? "its condition fails").")
                }
            }
        }

        /// The sample event in `path`, as the API's test body has it.
        static func event(from path: String) throws -> RuleEvent {
            guard let contents = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "cannot read \(path)") }
            guard case .object(let members) = JSONValue.parse(String(decoding: contents, as: UTF8.self)) else {
                throw CommandFailure(message: "\(path) is not a JSON object")
            }
            func text(_ key: String) throws -> String? {
                switch members[key] {
                case nil, .null: return nil
                case .string(let value): return value
                default: throw CommandFailure(message: "\(key) in \(path) must be a string")
                }
            }
            guard case .object(let data) = members["data"] ?? .object([:]) else { throw CommandFailure(message: "data in \(path) must be an object") }
            return RuleEvent(
                type: try text("type") ?? "",
                entityType: try text("entity_type"),
                entityID: try text("entity_id"),
                region: try text("region"),
                team: try text("team"),
                data: data
            )
        }
    }
}
