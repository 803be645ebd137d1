public import Foundation

/// Whether a deal is still being worked, or how it ended.
public enum OpportunityOutcome: String, Sendable, Codable, CaseIterable {
    case open, won, lost
}

/// A deal in the pipeline: what it is worth, where it stands (`stage`, from its region's
/// ordered list) and how it ended (`outcome`, kept apart from the stage so a lost deal still
/// says how far it got).
public struct Opportunity: Sendable, Equatable, Codable {
    public var id: Int
    public var customerID: Int
    public var region: String
    public var title: String
    /// In the currency's minor units (cents).
    public var amountMinor: Int
    public var currency: String
    /// `YYYY-MM-DD`.
    public var expectedClose: String?
    public var ownerID: Int?
    /// Its own probability, when it has one.
    public var probability: Int?
    /// The probability the pipeline weighs it by: its own, else its stage's.
    public var effectiveProbability: Int
    public var stage: String
    public var outcome: OpportunityOutcome
    public var lostReason: String?
    public var campaignID: Int?
    public var stageEnteredAt: Date
    public var closedAt: Date?
    public var version: Int
    public var createdBy: String?
    public var createdAt: Date
    public var updatedAt: Date

    /// Whole days since it entered its stage (to its close, when closed).
    public var daysInStage: Int { Self.days(from: stageEnteredAt, to: closedAt ?? Date()) }
    /// Whole days from creation to close, when closed.
    public var daysToClose: Int? { closedAt.map { Self.days(from: createdAt, to: $0) } }

    static func days(from start: Date, to end: Date) -> Int { max(0, Int(end.timeIntervalSince(start) / 86_400)) }
}

/// One change of an opportunity's stage or outcome: from, to, who, when and why.
public struct OpportunityTransition: Sendable, Equatable, Codable {
    /// `created`, `stage`, `won`, `lost` or `reopened`.
    public var action: String
    public var id: Int
    public var opportunityID: Int
    public var fromStage: String?
    public var toStage: String
    public var fromOutcome: OpportunityOutcome?
    public var toOutcome: OpportunityOutcome
    public var reason: String?
    public var note: String?
    public var actorID: String?
    public var at: Date
    /// How long the opportunity stayed as this transition left it (until the next one, or now
    /// for the last of an open deal; nil for the last of a closed deal).
    public var secondsUntilNext: Int?
}
