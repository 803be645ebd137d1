import Foundation
import PostgresClient

extension CaseService {
    var feedbackStore: FeedbackStore { FeedbackStore(pool: database.pool) }

    /// The most periods one CSAT request may span.
    static let maximumCSATPeriods = 400

    /// Records a customer's feedback (score 1 to 5), optionally about one of its cases (whose
    /// owning team it then counts for) or an order.
    public func createFeedback(_ new: NewFeedback, idempotencyKey: String? = nil, by principal: Principal) async throws -> Feedback {
        try principal.authorize(.createFeedback)
        try new.validate()
        guard let customer = try await customers.find(id: new.customerID, scope: principal.scope) else {
            throw BatonError(.ruleViolation, "no customer \(new.customerID) you may record feedback for", details: ["field": "customer_id"])
        }
        let store = feedbackStore
        let received = try await write.run(key: idempotencyKey, by: principal, operation: "createFeedback", request: new) { tx in
            try await store.create(new, for: customer, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return received
    }

    /// Feedback the caller reaches, filtered.
    public func feedback(_ filter: FeedbackStore.Filter, page: PageRequest, by principal: Principal) async throws -> Page<Feedback> {
        try principal.authorize(.listFeedback)
        if let customer = filter.customerID, customer < 1 {
            throw BatonError.invalidArgument("customer_id is not a customer id", field: "customer_id")
        }
        if let caseID = filter.caseID, caseID < 1 { throw BatonError.invalidArgument("case_id is not a case id", field: "case_id") }
        return try await feedbackStore.list(filter, scope: principal.scope, page: page)
    }

    /// CSAT (the share of 4 and 5 scores) per period of `grain` from `from` to `to` (UTC dates,
    /// both included; a year up to today by default), over the feedback the caller reaches.
    public func csat(
        _ filter: FeedbackStore.Filter,
        from: LocalDate?,
        to: LocalDate?,
        grain: CSATGrain,
        by principal: Principal
    ) async throws -> CSATReport {
        try principal.authorize(.getCSAT)
        let today = LocalDate(daysSinceEpoch: Int64((Date().timeIntervalSince1970 / 86_400).rounded(.down)))
        let to = to ?? today
        let from = from ?? LocalDate(year: to.year - 1, month: to.month, day: min(to.day, 28)) ?? to
        guard from <= to else { throw BatonError(.ruleViolation, "from must not be after to", details: ["field": "from"]) }
        let days = Int(to.daysSinceEpoch - from.daysSinceEpoch)
        let perPeriod =
            switch grain {
            case .week: 7
            case .month: 28
            case .quarter: 90
            }
        guard days / perPeriod < Self.maximumCSATPeriods else {
            throw BatonError(
                .ruleViolation,
                "from and to span more than \(Self.maximumCSATPeriods) periods of a \(grain.rawValue); choose a coarser grain or a shorter span",
                details: ["field": "from"]
            )
        }
        let periods = try await feedbackStore.csat(filter, from: from, to: to, grain: grain, scope: principal.scope)
        return CSATReport(grain: grain, from: from, to: to, periods: periods)
    }
}
