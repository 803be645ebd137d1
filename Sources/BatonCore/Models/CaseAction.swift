/// A lifecycle action on a case, and the states it may start from.
public enum CaseAction: String, Sendable, Codable, CaseIterable {
    /// Work on it (from new, or back from waiting).
    case open
    /// Wait on the customer (`pending_customer`, its SLA clocks held) or on someone inside.
    case waitOnCustomer
    case waitInternally
    /// Resolve it with a resolution note.
    case resolve
    /// Close a resolved case.
    case close
    /// Reopen a resolved or closed case within the region's window.
    case reopen

    /// The state the action leads to.
    public var target: CaseState {
        switch self {
        case .open, .reopen: .open
        case .waitOnCustomer: .pendingCustomer
        case .waitInternally: .pendingInternal
        case .resolve: .resolved
        case .close: .closed
        }
    }

    /// The states the action may start from.
    public var allowedFrom: Set<CaseState> {
        switch self {
        case .open: [.new, .pendingCustomer, .pendingInternal]
        case .waitOnCustomer: [.new, .open, .pendingInternal]
        case .waitInternally: [.new, .open, .pendingCustomer]
        case .resolve: [.new, .open, .pendingCustomer, .pendingInternal]
        case .close: [.resolved]
        case .reopen: [.resolved, .closed]
        }
    }

    /// The verb for messages ("cannot be resolved").
    var participle: String {
        switch self {
        case .open: "opened"
        case .waitOnCustomer: "set to wait on the customer"
        case .waitInternally: "set to wait internally"
        case .resolve: "resolved"
        case .close: "closed"
        case .reopen: "reopened"
        }
    }

    /// The event a change by this action writes.
    var eventType: String {
        switch self {
        case .open, .waitOnCustomer, .waitInternally: "case.state_changed"
        case .resolve: "case.resolved"
        case .close: "case.closed"
        case .reopen: "case.reopened"
        }
    }
}
