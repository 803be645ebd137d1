import ArgumentParser
import BatonCore
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print the plan report, the KPI report or the leaderboard as a table, CSV or JSON; show or set a region's report settings.",
        subcommands: [Plan.self, KPIs.self, Leaderboard.self, Settings.self]
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Targets against actuals, with variance, attainment and status.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Targets of this period: 2026, 2026-Q4, 2026-11 or 2026-W48 (default: those running today).") var period: String?
        @Option(help: "Only targets of this region.") var region: String?
        @Option(help: "Only targets of this team.") var team: String?
        @Option(help: "Only targets of this member id.") var member: Int?
        @Option(help: "table, csv or json.") var format: Format = .table

        func run() async throws {
            try await reportingFailures {
                let period = try period.map { try ReportCommand.period($0) }
                let filter = TargetStore.Filter(
                    grain: period?.grain,
                    from: period?.start,
                    to: period?.last,
                    region: region,
                    team: team,
                    memberID: member
                )
                let report = try await options.withServices { services in try await services.reports.plan(filter, by: cliPrincipal) }
                try ReportCommand.print(report, report.table, format: options.json ? .json : format)
            }
        }
    }

    struct KPIs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kpis",
            abstract: "Revenue, orders, average order value, new customers, win rate, CSAT, market share and campaign cost per won deal, with growth."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "2026, 2026-Q4, 2026-11 or 2026-W48.") var period: String
        @Option(help: "A region (default: every region).") var region: String?
        @Option(help: "The currency of money figures (default: the region's report currency).") var currency: String?
        @Option(help: "table, csv or json.") var format: Format = .table

        func run() async throws {
            try await reportingFailures {
                let period = try ReportCommand.period(period)
                let report = try await options.withServices { services in
                    try await services.reports.kpis(period: period, region: region, currency: currency, by: cliPrincipal)
                }
                try ReportCommand.print(report, report.table, format: options.json ? .json : format)
            }
        }
    }

    struct Leaderboard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members ranked by attainment of their targets in a period.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "2026, 2026-Q4, 2026-11 or 2026-W48.") var period: String
        @Option(help: "revenue, orders, new_customers, opportunities_won or csat.") var metric: String = "revenue"
        @Option(help: "table, csv or json.") var format: Format = .table

        func run() async throws {
            try await reportingFailures {
                let period = try ReportCommand.period(period)
                guard let metric = TargetMetric(rawValue: metric) else { throw ValidationError("unknown metric '\(metric)'") }
                let board = try await options.withServices { services in
                    try await services.reports.leaderboard(period: period, metric: metric, by: cliPrincipal)
                }
                try ReportCommand.print(board, board.table, format: options.json ? .json : format)
            }
        }
    }

    struct Settings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a region's report settings, or change them: which moment counts an order, and the report currency."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "The region.") var region: String
        @Option(help: "confirmed or delivered: the moment that counts an order in reports.") var countOrdersAt: String?
        @Option(help: "The report currency (three capital letters).") var currency: String?
        @Flag(help: "No report currency: money in the currency most of a period's orders are in.") var clearCurrency = false
        @Option(help: "table, csv or json.") var format: Format = .table

        func run() async throws {
            try await reportingFailures {
                let moment = countOrdersAt.flatMap(ReportSettings.Moment.init(rawValue:))
                if let countOrdersAt, moment == nil {
                    throw ValidationError("--count-orders-at is confirmed or delivered, not '\(countOrdersAt)'")
                }
                if clearCurrency, currency != nil { throw ValidationError("give --currency or --clear-currency, not both") }
                let settings = try await options.withServices { services in
                    var settings = try await services.reports.settings(region: region, by: cliPrincipal)
                    guard moment != nil || currency != nil || clearCurrency else { return settings }
                    settings.countOrdersAt = moment ?? settings.countOrdersAt
                    settings.currency = clearCurrency ? nil : currency ?? settings.currency
                    return try await services.reports.setSettings(settings, by: cliPrincipal)
                }
                let table = ReportTable(
                    header: ["region", "count_orders_at", "currency"],
                    rows: [[settings.region, settings.countOrdersAt.rawValue, settings.currency ?? ""]]
                )
                try ReportCommand.print(settings, table, format: options.json ? .json : format)
            }
        }
    }

    static func period(_ text: String) throws -> ReportPeriod {
        guard let period = ReportPeriod(parsing: text) else {
            throw ValidationError("'\(text)' is not a period such as 2026, 2026-Q4, 2026-11 or 2026-W48")
        }
        return period
    }

    static func print(_ report: some Encodable, _ table: ReportTable, format: Format) throws {
        switch format {
        case .json: try printJSON(report)
        case .csv: FileHandle.standardOutput.write(Data(table.csv.utf8))
        case .table: printTable(table.header.map { $0.uppercased() }, table.rows)
        }
    }
}
