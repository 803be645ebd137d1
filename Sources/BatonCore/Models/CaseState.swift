/// Where a case stands. `pending_customer` holds the case task's SLA clocks.
public enum CaseState: String, Sendable, Codable, CaseIterable {
    case new
    case open
    case pendingCustomer = "pending_customer"
    case pendingInternal = "pending_internal"
    case resolved
    case closed
}
