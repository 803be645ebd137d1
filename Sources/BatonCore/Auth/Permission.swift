/// Things a caller may ask to do. Which roles have each is decided here, once.
public enum Permission: String, Sendable, CaseIterable {
    case readQueue
    case workQueue
    case manageQueue
    case manageReferenceData
    case manageTokens

    /// Whether `role` has this permission (within its scope).
    public func isGranted(to role: Role) -> Bool {
        switch self {
        case .readQueue: true
        case .workQueue: role != .viewer
        case .manageQueue: role == .admin || role == .coordinator || role == .lead
        case .manageReferenceData, .manageTokens: role == .admin
        }
    }
}
