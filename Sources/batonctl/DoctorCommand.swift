import ArgumentParser
import BatonCore
import Foundation

/// `batonctl doctor`: connectivity, the pooler, schema, connections, long transactions, bloat and expired
/// leases, each with what to do. Exit code 0 unless a check failed (warnings included).
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check connectivity, schema, long transactions, task-table bloat and expired leases; print what to do."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "Seconds after which an open transaction is reported.")
    var longTransactionSeconds = 60

    func run() async throws {
        var limits = Doctor.Limits()
        limits.longTransaction = .seconds(longTransactionSeconds)
        let checks: [Doctor.Check]
        do {
            checks = try await options.withDatabase { database in await Doctor(database: database, limits: limits).run() }
        } catch let failure as CommandFailure {
            checks = [
                Doctor.Check(
                    "connectivity",
                    .failure,
                    String(failure.description.dropFirst("batonctl: ".count)),
                    advice: "Check BATON_DATABASE_URL (or --database-url), that PostgreSQL runs and accepts this host and user."
                )
            ]
        }
        if options.json {
            try printJSON(checks)
        } else {
            printTable(["CHECK", "RESULT", "FINDING"], checks.map { [$0.name, $0.outcome.label, $0.finding] })
            let advice = checks.filter { $0.advice != nil }
            if !advice.isEmpty {
                print("")
                for check in advice { print("\(check.name): \(check.advice ?? "")") }
            }
        }
        if checks.contains(where: { $0.outcome == .failure }) { throw ExitCode.failure }
    }
}

extension Doctor.Outcome {
    fileprivate var label: String {
        switch self {
        case .ok: "ok"
        case .warning: "WARNING"
        case .failure: "FAILED"
        }
    }
}
