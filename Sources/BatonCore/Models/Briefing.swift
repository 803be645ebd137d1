public import Foundation

/// The coordinator's morning question, "what needs me now?", answered in one value: each
/// section holds the most urgent items first and the number of items in all, so a long list
/// shows how long it is without being sent whole.
public struct Briefing: Sendable, Equatable {
    /// The items of one section (the first ``Briefing/sectionLimit``) and how many there are.
    public struct Section<Item: Sendable & Equatable>: Sendable, Equatable {
        public var total: Int
        public var items: [Item]

        public init(total: Int, items: [Item]) {
            self.total = total
            self.items = items
        }
    }

    /// One team's live queue: the board of departments × regions.
    public struct Queue: Sendable, Equatable {
        public var team: String
        public var department: String
        public var region: String
        public var paused: Bool
        public var queued: Int
        public var claimed: Int
        public var dead: Int
        /// Seconds since the oldest claimable task became due (none when nothing is due).
        public var oldestAgeSeconds: Double?
    }

    /// A task whose SLA clock has passed its at-risk point or its deadline.
    public struct SLAItem: Sendable, Equatable {
        public enum State: String, Sendable {
            case atRisk = "at_risk"
            case breached
        }
        public var clockID: Int
        public var taskID: Int
        public var title: String
        public var team: String
        public var region: String
        public var priority: TaskPriority
        public var target: SLATarget
        public var state: State
        public var dueAt: Date
    }

    /// A task handed to a team that has not claimed it yet, with the chain it came through.
    public struct Handoff: Sendable, Equatable {
        public var taskID: Int
        public var title: String
        public var team: String
        public var fromTeam: String
        public var note: String?
        public var chainID: Int
        /// The teams of the chain, first to last.
        public var chain: [String]
        public var handedOffAt: Date
        public var waitingSeconds: Double
    }

    /// A task that used up its attempts.
    public struct DeadLetter: Sendable, Equatable {
        public var taskID: Int
        public var title: String
        public var team: String
        public var priority: TaskPriority
        public var attempts: Int
        public var lastError: String?
        public var diedAt: Date?
    }

    /// A complaint the customer is waiting on us for: new, open or pending on our side.
    public struct Complaint: Sendable, Equatable {
        public var caseID: Int
        public var subject: String
        public var customerID: Int
        public var region: String
        public var team: String
        public var priority: String
        public var state: String
        public var openedAt: Date
    }

    /// A meeting or training session of the day.
    public struct CalendarEntry: Sendable, Equatable {
        public enum Kind: String, Sendable { case meeting, training }
        public var kind: Kind
        public var id: Int
        public var title: String
        public var region: String
        public var startsAt: Date
        public var endsAt: Date
    }

    /// The most items one section sends.
    public static let sectionLimit = 25

    public var generatedAt: Date
    /// The event feed's position when the briefing was read: following the stream from it
    /// (`after`) brings every change the briefing does not hold, and none is lost.
    public var eventCursor: Int
    /// The UTC day the calendar covers.
    public var day: LocalDate
    public var region: String?
    public var team: String?
    public var queues: [Queue]
    public var slas: Section<SLAItem>
    public var handoffs: Section<Handoff>
    public var deadLetters: Section<DeadLetter>
    /// Stock at or below its reorder point (snoozed alerts left out), the emptiest first.
    public var stock: Section<StockLevel>
    public var complaints: Section<Complaint>
    public var calendar: Section<CalendarEntry>
    /// The targets in force today against their actuals, furthest behind their pace first.
    public var plan: PlanReport
}
