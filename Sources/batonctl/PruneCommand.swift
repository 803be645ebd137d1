import ArgumentParser
import BatonCommandLine
import BatonCore
import Foundation
import PostgresClient

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete history past retention now (finished tasks, events, webhook deliveries), in small batches.",
        discussion: """
            The ages are read as `baton serve` reads them (flags, then BATON_RETAIN_* variables, then \
            the defaults: finished tasks 90d, events forever, webhook deliveries 30d). With --dry-run, \
            prints per kind the cutoff and how many rows would go, and deletes nothing.
            """
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var retention: RetentionOptions
    @Flag(help: "Only say what would go.") var dryRun = false
    @Option(help: "Rows looked at per transaction.") var batchSize = 2000

    func run() async throws {
        try await reportingFailures {
            let policy: RetentionPolicy
            do {
                policy = try retention.policy(environment: ProcessInfo.processInfo.environment)
            } catch {
                throw CommandFailure(message: "\(error)")
            }
            if dryRun {
                let previews = try await options.withServices { services in try await services.retention.preview(policy) }
                if options.json {
                    try printJSON(previews.map(PreviewOutput.init))
                } else {
                    printTable(
                        ["KIND", "KEEP", "CUTOFF", "WOULD DELETE"],
                        previews.map { preview in
                            [
                                preview.kind.rawValue, RetentionPolicy.format(preview.age),
                                preview.cutoff.map(PostgresTimestamp.formatRFC3339) ?? "-", String(preview.rows),
                            ]
                        }
                    )
                }
                return
            }
            let outcomes = try await options.withServices { services in
                try await services.retention.prune(policy, batchSize: batchSize, pause: .milliseconds(10))
            }
            if options.json {
                try printJSON(outcomes.map(OutcomeOutput.init))
            } else {
                printTable(
                    ["KIND", "KEEP", "DELETED", "WITH THEM"],
                    RetentionPolicy.Kind.allCases.map { kind in
                        let outcome = outcomes.first { $0.kind == kind }
                        return [
                            kind.rawValue, RetentionPolicy.format(policy.age(of: kind)),
                            outcome.map { $0.busy ? "\($0.deleted) (another server is pruning)" : String($0.deleted) } ?? "-",
                            outcome.map { String($0.dependents) } ?? "-",
                        ]
                    }
                )
            }
        }
    }

    struct PreviewOutput: Encodable {
        var kind: String
        var keep: String
        var cutoff: String?
        var rows: Int

        init(_ preview: RetentionPreview) {
            kind = preview.kind.rawValue
            keep = RetentionPolicy.format(preview.age)
            cutoff = preview.cutoff.map(PostgresTimestamp.formatRFC3339)
            rows = preview.rows
        }
    }

    struct OutcomeOutput: Encodable {
        var kind: String
        var deleted: Int
        var dependents: Int
        var busy: Bool

        init(_ outcome: RetentionOutcome) {
            kind = outcome.kind.rawValue
            deleted = outcome.deleted
            dependents = outcome.dependents
            busy = outcome.busy
        }
    }
}
