/// A report as rows of text under a header: what CSV export and `batonctl`'s table print.
public struct ReportTable: Sendable, Equatable {
    public var header: [String]
    public var rows: [[String]]

    public init(header: [String], rows: [[String]]) {
        self.header = header
        self.rows = rows
    }

    /// RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes doubled; CRLF ends
    /// every record, the header included.
    public var csv: String {
        ([header] + rows).map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A number as a cell: whole numbers without a decimal point, nothing for nil.
    static func cell(_ value: Double?) -> String {
        guard let value else { return "" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

extension PlanReport {
    /// One line per target.
    public var table: ReportTable {
        ReportTable(
            header: [
                "target_id", "owner_kind", "owner", "metric", "period", "currency", "product_category", "target", "actual", "variance",
                "variance_percent", "attainment_percent", "elapsed", "status", "variance_note", "next_action", "next_action_owner_id",
                "next_action_due",
            ],
            rows: rows.map { row in
                let target = row.target
                let owner =
                    switch target.ownerKind {
                    case .member: target.memberID.map(String.init) ?? ""
                    case .team: target.team ?? ""
                    case .region: target.region ?? ""
                    case .company: ""
                    }
                return [
                    String(target.id), target.ownerKind.rawValue, owner, target.metric.rawValue, target.period.description, target.currency ?? "",
                    target.productCategory ?? "", ReportTable.cell(target.value), ReportTable.cell(row.actual), ReportTable.cell(row.variance),
                    ReportTable.cell(row.variancePercent), ReportTable.cell(row.attainmentPercent), ReportTable.cell(row.elapsed),
                    row.status?.rawValue ?? "", target.varianceNote ?? "", target.nextAction ?? "", target.nextActionOwnerID.map(String.init) ?? "",
                    target.nextActionDue ?? "",
                ]
            }
        )
    }
}

extension Leaderboard {
    public var table: ReportTable {
        ReportTable(
            header: ["rank", "member_id", "member_name", "period", "metric", "target", "actual", "attainment_percent"],
            rows: entries.map {
                [
                    String($0.rank), String($0.memberID), $0.memberName, period.description, metric.rawValue, ReportTable.cell($0.target),
                    ReportTable.cell($0.actual), ReportTable.cell($0.attainmentPercent),
                ]
            }
        )
    }
}

extension KPIReport {
    public var table: ReportTable {
        ReportTable(
            header: [
                "kpi", "period", "value", "previous_period", "previous", "growth_percent", "growth_note", "year_ago_period", "year_ago",
                "yoy_percent", "yoy_note", "region", "currency",
            ],
            rows: figures.map {
                [
                    $0.name, period.description, ReportTable.cell($0.value), previous.description, ReportTable.cell($0.previous),
                    ReportTable.cell($0.growthPercent), $0.growthNote ?? "", yearAgo.description, ReportTable.cell($0.yearAgo),
                    ReportTable.cell($0.yoyPercent), $0.yoyNote ?? "", region ?? "", currency ?? "",
                ]
            }
        )
    }
}
