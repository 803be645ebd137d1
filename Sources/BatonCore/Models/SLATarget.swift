/// The two clocks a policy can run on a task.
public enum SLATarget: String, Sendable, Codable, CaseIterable {
    /// First response: the task is claimed.
    case claimWithin = "claim_within"
    /// Resolution: the task is done (or handed on).
    case doneWithin = "done_within"
}
