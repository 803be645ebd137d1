import Foundation

/// How long each kind of history is kept before the pruner deletes it; `nil` keeps it forever.
public struct RetentionPolicy: Sendable, Equatable {
    /// A kind of history with its own age.
    public enum Kind: String, Sendable, CaseIterable {
        /// Tasks that are done, dead-lettered, cancelled or handed off, by `finished_at`.
        case tasks
        /// The event log (the feed, the audit trail), by `occurred_at`.
        case events
        /// Finished webhook deliveries (delivered, dead or cancelled) with their tasks, by last change.
        case webhookDeliveries = "webhook_deliveries"
    }

    public var finishedTasks: Duration?
    public var events: Duration?
    public var webhookDeliveries: Duration?

    /// The defaults: finished tasks for 90 days, deliveries for 30, events forever (the log is
    /// the audit trail and the feed's contract, so cutting it is the operator's decision).
    public static let defaults = RetentionPolicy(finishedTasks: .seconds(90 * 86400), events: nil, webhookDeliveries: .seconds(30 * 86400))

    /// Keeps everything.
    public static let forever = RetentionPolicy(finishedTasks: nil, events: nil, webhookDeliveries: nil)

    public init(finishedTasks: Duration?, events: Duration?, webhookDeliveries: Duration?) {
        self.finishedTasks = finishedTasks
        self.events = events
        self.webhookDeliveries = webhookDeliveries
    }

    /// The age of `kind`, `nil` for forever.
    public func age(of kind: Kind) -> Duration? {
        switch kind {
        case .tasks: finishedTasks
        case .events: events
        case .webhookDeliveries: webhookDeliveries
        }
    }

    /// The shortest age accepted: younger history is still being worked on and read.
    public static let minimumAge: Duration = .seconds(3600)

    /// Parses an age such as `36h`, `90d` or `2w` (units s, m, h, d, w), or `forever`; `nil`
    /// means forever. Throws a message fit for the command line.
    public static func parseAge(_ text: String) throws(Invalid) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed == "forever" { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = trimmed.last, let seconds = units[unit], let count = Int64(trimmed.dropLast()), count > 0,
            count <= 100 * 366 * 86400 / seconds
        else {
            throw Invalid(description: "'\(text)' is not an age: write a number and a unit (s, m, h, d, w), e.g. 36h or 90d, or forever")
        }
        let age = Duration.seconds(count * seconds)
        guard age >= minimumAge else { throw Invalid(description: "'\(text)' is too short: keep history for at least 1h") }
        return age
    }

    /// `age` the way ``parseAge(_:)`` reads it: the largest whole unit, or `forever`.
    public static func format(_ age: Duration?) -> String {
        guard let age else { return "forever" }
        let seconds = age.components.seconds
        for (unit, size) in [("w", Int64(604_800)), ("d", 86400), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// An age that cannot be used, with the reason.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }
}
