import BatonCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listTargets(_ input: Operations.ListTargets.Input) async throws -> Operations.ListTargets.Output {
        let query = input.query
        let page = try await services.reports.listTargets(
            TargetStore.Filter(
                grain: query.grain.flatMap { ReportGrain(rawValue: $0.rawValue) },
                from: try query.from.map { try Self.reportDate($0, field: "from") },
                to: try query.to.map { try Self.reportDate($0, field: "to") },
                region: query.region,
                team: query.team,
                memberID: try Self.memberFilter(query.member),
                metric: query.metric.flatMap { TargetMetric(rawValue: $0.rawValue) }
            ),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(targets: page.items.map(Components.Schemas.Target.init), nextCursor: page.nextCursor))))
    }

    func createTarget(_ input: Operations.CreateTarget.Input) async throws -> Operations.CreateTarget.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let target = try await services.reports.createTarget(
            NewTarget(
                ownerKind: TargetOwnerKind(rawValue: body.ownerKind.rawValue) ?? .company,
                memberID: body.memberId.map(Int.init),
                team: body.team,
                region: body.region,
                metric: TargetMetric(rawValue: body.metric.rawValue) ?? .revenue,
                period: try Self.period(body.period, field: "period"),
                value: body.value,
                currency: body.currency,
                productCategory: body.productCategory,
                notes: body.notes
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(headers: .init(eTag: Self.etag(target.version)), body: .json(.init(target))))
    }

    func getTarget(_ input: Operations.GetTarget.Input) async throws -> Operations.GetTarget.Output {
        let target = try await services.reports.target(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(headers: .init(eTag: Self.etag(target.version)), body: .json(.init(target))))
    }

    func updateTarget(_ input: Operations.UpdateTarget.Input) async throws -> Operations.UpdateTarget.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let target = try await services.reports.updateTarget(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            TargetChanges(
                value: body.value,
                notes: body.notes,
                varianceNote: body.varianceNote,
                nextAction: body.nextAction,
                nextActionOwnerID: body.nextActionOwnerId.map(Int.init),
                nextActionDue: try Self.date(body.nextActionDue, field: "next_action_due")
            ),
            by: principal
        )
        return .ok(.init(headers: .init(eTag: Self.etag(target.version)), body: .json(.init(target))))
    }

    func getPlanReport(_ input: Operations.GetPlanReport.Input) async throws -> Operations.GetPlanReport.Output {
        let query = input.query
        let report = try await services.reports.plan(
            TargetStore.Filter(
                grain: query.grain.flatMap { ReportGrain(rawValue: $0.rawValue) },
                from: try query.from.map { try Self.reportDate($0, field: "from") },
                to: try query.to.map { try Self.reportDate($0, field: "to") },
                region: query.region,
                team: query.team,
                memberID: try Self.memberFilter(query.member)
            ),
            by: try RequestPrincipal.require()
        )
        if Self.wantsCSV(query.format == .csv, input.headers.accept.map(\.contentType.rawValue)) {
            return .ok(.init(body: .csv(HTTPBody(report.table.csv))))
        }
        return .ok(.init(body: .json(.init(report))))
    }

    func getLeaderboard(_ input: Operations.GetLeaderboard.Input) async throws -> Operations.GetLeaderboard.Output {
        let query = input.query
        let board = try await services.reports.leaderboard(
            period: try Self.period(query.period, field: "period"),
            metric: query.metric.flatMap { TargetMetric(rawValue: $0.rawValue) } ?? .revenue,
            by: try RequestPrincipal.require()
        )
        if Self.wantsCSV(query.format == .csv, input.headers.accept.map(\.contentType.rawValue)) {
            return .ok(.init(body: .csv(HTTPBody(board.table.csv))))
        }
        return .ok(.init(body: .json(.init(board))))
    }

    func getKPIReport(_ input: Operations.GetKPIReport.Input) async throws -> Operations.GetKPIReport.Output {
        let query = input.query
        let period = try Self.period(query.period, field: "period")
        if let grain = query.grain, grain.rawValue != period.grain.rawValue {
            throw BatonError(.ruleViolation, "period \(period) is a \(period.grain.rawValue), not a \(grain.rawValue)", details: ["field": "grain"])
        }
        let report = try await services.reports.kpis(
            period: period,
            region: query.region,
            currency: query.currency,
            by: try RequestPrincipal.require()
        )
        if Self.wantsCSV(query.format == .csv, input.headers.accept.map(\.contentType.rawValue)) {
            return .ok(.init(body: .csv(HTTPBody(report.table.csv))))
        }
        return .ok(.init(body: .json(.init(report))))
    }

    func setMarketSize(_ input: Operations.SetMarketSize.Input) async throws -> Operations.SetMarketSize.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let market = try await services.reports.setMarket(
            MarketSize(
                region: input.path.region,
                period: try Self.period(input.path.period, field: "period"),
                sizeMinor: body.sizeMinor.map(Int.init),
                currency: body.currency,
                sharePercent: body.sharePercent,
                source: body.source
            ),
            by: principal
        )
        return .ok(.init(body: .json(.init(market))))
    }

    func getReportSettings(_ input: Operations.GetReportSettings.Input) async throws -> Operations.GetReportSettings.Output {
        let settings = try await services.reports.settings(region: input.path.region, by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(settings))))
    }

    func setReportSettings(_ input: Operations.SetReportSettings.Input) async throws -> Operations.SetReportSettings.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let settings = try await services.reports.setSettings(
            ReportSettings(
                region: input.path.region,
                countOrdersAt: ReportSettings.Moment(rawValue: body.countOrdersAt.rawValue) ?? .confirmed,
                currency: body.currency
            ),
            by: principal
        )
        return .ok(.init(body: .json(.init(settings))))
    }

    /// CSV when asked with `format=csv`, or with an Accept header that names `text/csv` and not
    /// JSON (the generated code lists every type when the header is absent: that is JSON).
    private static func wantsCSV(_ format: Bool, _ accepted: [String]) -> Bool {
        format || (accepted.contains("text/csv") && !accepted.contains("application/json"))
    }

    /// A period label the document's pattern admits but the calendar does not (2026-13,
    /// 2026-W53 in a short year) is a 422.
    private static func period(_ text: String, field: String) throws -> ReportPeriod {
        guard (try? Regex("^[0-9]{4}(-[0-9]{2}|-Q[1-4]|-W[0-9]{2})?$").wholeMatch(in: text)) != nil else {
            throw BatonError.invalidArgument("\(field) must look like 2026, 2026-Q4, 2026-11 or 2026-W48", field: field)
        }
        guard let period = ReportPeriod(parsing: text) else {
            throw BatonError(.ruleViolation, "\(field) must be a period such as 2026, 2026-Q4, 2026-11 or 2026-W48", details: ["field": field])
        }
        return period
    }

    private static func reportDate(_ text: String, field: String) throws -> LocalDate {
        guard let day = LocalDate(parsing: text) else { throw BatonError.invalidArgument("\(field) must be a date such as 2026-12-07", field: field) }
        return day
    }

    /// A `member` filter: a member id, at least 1 as the document states (else 400).
    static func memberFilter(_ member: Int64?) throws -> Int? {
        guard let member else { return nil }
        guard member >= 1 else { throw BatonError.invalidArgument("member is not a member id", field: "member") }
        return Int(member)
    }
}
