/// Things a caller may ask to do. Which roles have each is decided here, once.
public enum Permission: String, Sendable, CaseIterable {
    case readQueue
    case workQueue
    case manageQueue
    case manageReferenceData
    case manageTokens
    /// Customer records and what hangs off them.
    case readRecords
    case editRecords
    case deleteRecords
    /// Handoff rules: reading them and trying them against a sample event.
    case readRules
    /// Training programmes: planning them, moving sessions, recording attendance.
    case planTraining
    /// Targets, their variance analysis and the market figures reports use.
    case managePlans

    /// Whether `role` has this permission (within its scope).
    public func isGranted(to role: Role) -> Bool {
        switch self {
        case .readQueue, .readRecords: true
        case .editRecords: role != .viewer
        case .deleteRecords: role == .admin
        case .workQueue: role != .viewer
        case .manageQueue: role == .admin || role == .coordinator || role == .lead
        case .manageReferenceData, .manageTokens: role == .admin
        case .readRules: role == .admin || role == .coordinator
        case .planTraining: role == .admin || role == .coordinator || role == .lead
        case .managePlans: role == .admin || role == .coordinator || role == .lead
        }
    }
}
