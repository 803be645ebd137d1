public import Foundation

/// A customer's score (1 to 5) with a comment, optionally about a case or an order.
public struct Feedback: Sendable, Equatable, Codable {
    public var id: Int
    public var customerID: Int
    public var caseID: Int?
    /// An order's number; orders are not records yet, so nothing checks it.
    public var orderID: Int?
    public var region: String
    /// The owning team of the case, when the feedback is about one.
    public var team: String?
    public var score: Int
    public var comment: String?
    public var createdBy: String?
    public var createdAt: Date
}

/// What recording feedback needs.
public struct NewFeedback: Sendable, Equatable, Codable {
    public var customerID: Int
    public var caseID: Int?
    public var orderID: Int?
    public var score: Int
    public var comment: String?

    public init(customerID: Int, caseID: Int? = nil, orderID: Int? = nil, score: Int, comment: String? = nil) {
        self.customerID = customerID
        self.caseID = caseID
        self.orderID = orderID
        self.score = score
        self.comment = comment
    }

    public func validate() throws(BatonError) {
        guard customerID >= 1 else { throw .invalidArgument("customer_id is not a customer id", field: "customer_id") }
        if let caseID, caseID < 1 { throw .invalidArgument("case_id is not a case id", field: "case_id") }
        if let orderID, orderID < 1 { throw .invalidArgument("order_id is not an order id", field: "order_id") }
        guard (1...5).contains(score) else { throw BatonError(.ruleViolation, "score must be 1 to 5", details: ["field": "score"]) }
        if let comment, !TextRules.hasLength(comment, in: 0...5000) {
            throw .invalidArgument("comment must be at most 5000 characters", field: "comment")
        }
    }
}
