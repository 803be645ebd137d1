import Foundation
public import PostgresClient

/// Customer feedback: the scores, and CSAT (the share of 4 and 5 scores) per period.
public struct FeedbackStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    static let columns = "id, customer_id, case_id, order_id, region, team, score, comment, created_by, created_at"

    static func feedback(_ row: PostgresRow) throws -> Feedback {
        Feedback(
            id: try row.decode(Int.self, "id"),
            customerID: try row.decode(Int.self, "customer_id"),
            caseID: try row.decode(Int?.self, "case_id"),
            orderID: try row.decode(Int?.self, "order_id"),
            region: try row.decode(String.self, "region"),
            team: try row.decode(String?.self, "team"),
            score: try row.decode(Int.self, "score"),
            comment: try row.decode(String?.self, "comment"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at")
        )
    }

    /// Records feedback with its event, on the caller's transaction. A case must be one of the
    /// customer's (422 otherwise); its owning team becomes the feedback's team.
    public func create(_ new: NewFeedback, for customer: Customer, by principal: Principal, on tx: PostgresConnection) async throws -> Feedback {
        let row = try await tx.query(
            """
            WITH about AS (
                SELECT (SELECT team FROM cases WHERE id = \(new.caseID)::bigint AND customer_id = \(customer.id) AND deleted_at IS NULL) AS team
            ),
            received AS (
                INSERT INTO feedback (customer_id, case_id, order_id, region, team, score, comment, created_by)
                SELECT \(customer.id), \(new.caseID)::bigint, \(new.orderID)::bigint, \(customer.region), about.team, \(new.score),
                       nullif(\(new.comment)::text, ''), \(principal.actorID)
                FROM about
                WHERE \(new.caseID)::bigint IS NULL OR about.team IS NOT NULL
                RETURNING *
            ),
            written AS (
                \(EventStore.insert(
                    "feedback.received", from: "received", entityType: "feedback", entity: "received.id::text", region: "received.region",
                    data: "jsonb_strip_nulls(jsonb_build_object('customer_id', received.customer_id, 'case_id', received.case_id, 'score', received.score))",
                    by: principal))
            )
            SELECT \(unescaped: Self.columns) FROM received
            """
        ).first
        guard let row else {
            throw BatonError(.ruleViolation, "customer \(customer.id) has no case \(new.caseID ?? 0)", details: ["field": "case_id"])
        }
        return try Self.feedback(row)
    }

    /// What a feedback list or CSAT may be narrowed to.
    public struct Filter: Sendable {
        public var customerID: Int?
        public var caseID: Int?
        public var region: String?
        public var team: String?

        public init(customerID: Int? = nil, caseID: Int? = nil, region: String? = nil, team: String? = nil) {
            self.customerID = customerID
            self.caseID = caseID
            self.region = region
            self.team = team
        }

        func conditions(scope: Scope) -> [PostgresQuery] {
            var conditions: [PostgresQuery] = [scope.regionCondition("region")]
            if let customer = customerID { conditions.append("customer_id = \(customer)") }
            if let caseID { conditions.append("case_id = \(caseID)") }
            if let region { conditions.append("region = \(region)") }
            if let team { conditions.append("team = \(team)") }
            return conditions
        }
    }

    /// Feedback within `scope` in id order, a page at a time.
    public func list(_ filter: Filter, scope: Scope, page: PageRequest) async throws -> Page<Feedback> {
        let after = try page.afterID()
        let conditions = ["id > \(after)"] + filter.conditions(scope: scope)
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.columns) FROM feedback
            WHERE \(PostgresQuery.joined(conditions, separator: " AND "))
            ORDER BY id LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.feedback)) { String($0.id) }
    }

    /// Responses and satisfied responses (4 or 5) per period of `grain` (UTC) from the period
    /// holding `from` to the one holding `to`, every period listed, empty ones included.
    public func csat(_ filter: Filter, from: LocalDate, to: LocalDate, grain: CSATGrain, scope: Scope) async throws -> [CSATPeriod] {
        let conditions = filter.conditions(scope: scope)
        let step = grain == .quarter ? "interval '3 months'" : "interval '1 \(grain.rawValue)'"
        let rows = try await pool.query(
            """
            WITH periods AS (
                SELECT p::date AS start, (p + \(unescaped: step))::date - 1 AS last
                FROM generate_series(date_trunc(\(grain.rawValue), \(from.description)::date::timestamp),
                                     date_trunc(\(grain.rawValue), \(to.description)::date::timestamp),
                                     \(unescaped: step)) AS p
            ),
            scores AS (
                SELECT (created_at AT TIME ZONE 'UTC')::date AS day, score FROM feedback
                WHERE created_at >= (SELECT min(start) FROM periods)::timestamp AT TIME ZONE 'UTC'
                  AND created_at < ((SELECT max(last) FROM periods) + 1)::timestamp AT TIME ZONE 'UTC'
                  AND \(PostgresQuery.joined(conditions, separator: " AND "))
            )
            SELECT p.start::text AS start, p.last::text AS last, count(s.score)::int AS responses,
                   count(s.score) FILTER (WHERE s.score >= 4)::int AS satisfied
            FROM periods p LEFT JOIN scores s ON s.day BETWEEN p.start AND p.last
            GROUP BY p.start, p.last
            ORDER BY p.start
            """
        )
        return try rows.map { row in
            CSATPeriod(
                start: try row.decode(String.self, "start"),
                end: try row.decode(String.self, "last"),
                responses: try row.decode(Int.self, "responses"),
                satisfied: try row.decode(Int.self, "satisfied")
            )
        }
    }
}
