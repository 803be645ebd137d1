public import Foundation

/// A task's clock for one target, as read back.
public struct SLAClock: Sendable, Equatable {
    /// Where the clock stands.
    public enum State: String, Sendable, Codable {
        case running
        case paused
        case met
        case breached
        /// Stopped because the task was cancelled or died, before its due time.
        case stopped
    }

    public var id: Int
    public var taskID: Int
    public var policyID: Int
    public var policyName: String
    public var kind: SLAKind
    public var target: SLATarget
    public var team: String
    public var region: String
    public var calendarRegion: String
    public var targetSeconds: Int64
    public var startedAt: Date
    public var runningSince: Date?
    public var consumedSeconds: Int64
    public var pausedAt: Date?
    public var atRiskAt: Date
    public var dueAt: Date
    public var atRiskEmittedAt: Date?
    public var breachedAt: Date?
    public var stoppedAt: Date?
    public var stopReason: String?

    /// Business seconds used up to `now` (or to the stop), in `calendar`.
    public func elapsedSeconds(at now: Date, in calendar: BusinessCalendar) -> Int64 {
        guard let runningSince else { return consumedSeconds }
        let end = stoppedAt ?? now
        return consumedSeconds + calendar.businessSeconds(from: runningSince, to: max(end, runningSince))
    }

    /// The state at `now`: a breach is sticky; a running clock past its due time is breached
    /// even before the monitor has recorded it.
    public func state(at now: Date) -> State {
        if breachedAt != nil { return .breached }
        if let stoppedAt {
            if pausedAt == nil, stoppedAt > dueAt { return .breached }
            return ["cancelled", "dead"].contains(stopReason ?? "") ? .stopped : .met
        }
        if pausedAt != nil { return .paused }
        return now >= dueAt ? .breached : .running
    }
}
