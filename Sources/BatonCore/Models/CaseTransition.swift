public import Foundation

/// One state change of a case: from (none for its opening), to, who, when, why.
public struct CaseTransition: Sendable, Equatable, Codable {
    public var id: Int
    public var caseID: Int
    public var from: CaseState?
    public var to: CaseState
    public var actor: String?
    public var note: String?
    public var at: Date
}
