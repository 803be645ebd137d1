public import Foundation

/// What a prune would delete now for one kind of history (`batonctl prune --dry-run`).
public struct RetentionPreview: Sendable, Equatable {
    public var kind: RetentionPolicy.Kind
    /// The configured age; `nil` keeps this kind forever (and `cutoff` is `nil` too).
    public var age: Duration?
    /// Rows older than this go.
    public var cutoff: Date?
    public var rows: Int
}

/// What a prune deleted for one kind of history.
public struct RetentionOutcome: Sendable, Equatable {
    public var kind: RetentionPolicy.Kind
    public var deleted: Int
    /// Rows that went with them (SLA clocks and escalations, rule firings, delivery tasks).
    public var dependents: Int
    /// Another server was pruning this kind, so this pass left it to that one.
    public var busy: Bool

    public init(kind: RetentionPolicy.Kind, deleted: Int = 0, dependents: Int = 0, busy: Bool = false) {
        self.kind = kind
        self.deleted = deleted
        self.dependents = dependents
        self.busy = busy
    }
}
