public import Foundation

/// One line of a customer's timeline: something that happened, when, and the record it links to.
public struct TimelineEntry: Sendable, Equatable, Codable {
    /// `interaction`, `task`, `opportunity` (a transition), `event` (a change of the customer's
    /// records), `case` or `feedback`.
    public var kind: String
    /// The interaction's kind, the task's state, the transition's action, the event's type, the
    /// case's state, or the feedback's score (`score_4`).
    public var type: String
    public var at: Date
    public var id: Int
    public var summary: String
    /// The record's path in the API, such as `/v1/tasks/42`.
    public var link: String?
}
