/// A region's case settings: how many days after its resolution a case may be reopened.
public struct CaseSettings: Sendable, Equatable, Codable {
    public static let defaultReopenWindowDays = 14

    public var region: String
    public var reopenWindowDays: Int

    public init(region: String, reopenWindowDays: Int) {
        self.region = region
        self.reopenWindowDays = reopenWindowDays
    }

    public func validate() throws(BatonError) {
        guard (0...3650).contains(reopenWindowDays) else {
            throw BatonError(.ruleViolation, "reopen_window_days must be between 0 and 3650", details: ["field": "reopen_window_days"])
        }
    }
}
