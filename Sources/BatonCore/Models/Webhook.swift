public import Foundation

/// A subscription: Baton posts the events whose type matches one of `eventTypes` to `url`,
/// signed with the subscription's secret (which no read returns).
public struct Webhook: Sendable, Equatable, Codable {
    public var id: Int
    public var url: String
    public var eventTypes: [String]
    public var active: Bool
    public var description: String?
    /// The first failed delivery since the last one that succeeded.
    public var failingSince: Date?
    /// When Baton turned it off after a day of failures.
    public var disabledAt: Date?
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
}

/// What subscribing needs; without a secret, Baton generates one.
public struct NewWebhook: Sendable, Equatable, Codable {
    public var url: String
    public var eventTypes: [String]
    public var secret: String?
    public var active: Bool
    public var description: String?

    public init(url: String, eventTypes: [String], secret: String? = nil, active: Bool = true, description: String? = nil) {
        self.url = url
        self.eventTypes = eventTypes
        self.secret = secret
        self.active = active
        self.description = description
    }

    public func validate() throws(BatonError) {
        try WebhookRules.check(url: url)
        try WebhookRules.check(eventTypes: eventTypes)
        if let secret { try WebhookRules.check(secret: secret) }
        if let description { try WebhookRules.check(description: description) }
    }
}

/// An edit of a subscription: the fields given change; an empty description clears it. A new
/// secret is taken as given and, like every secret, not shown again.
public struct WebhookChanges: Sendable, Equatable, Codable {
    public var url: String?
    public var eventTypes: [String]?
    public var secret: String?
    public var active: Bool?
    public var description: String?

    public init(url: String? = nil, eventTypes: [String]? = nil, secret: String? = nil, active: Bool? = nil, description: String? = nil) {
        self.url = url
        self.eventTypes = eventTypes
        self.secret = secret
        self.active = active
        self.description = description
    }

    public func validate() throws(BatonError) {
        if let url { try WebhookRules.check(url: url) }
        if let eventTypes { try WebhookRules.check(eventTypes: eventTypes) }
        if let secret { try WebhookRules.check(secret: secret) }
        if let description, !description.isEmpty { try WebhookRules.check(description: description) }
    }
}

/// One delivery of one event to one subscription: a task of the system queue and its log.
public struct WebhookDelivery: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable, CaseIterable {
        /// Queued, not tried yet.
        case pending
        /// Tried and failed; queued again after a backoff.
        case retrying
        case delivered
        /// Failed as often as a delivery may.
        case dead
        /// The subscription was deleted or turned off before it went out.
        case cancelled
    }

    /// The delivery task's id.
    public var id: Int
    public var webhookID: Int
    public var eventID: Int
    public var eventType: String
    /// Asked for through the API rather than made by the dispatcher.
    public var redelivery: Bool
    public var state: State
    public var attempts: Int
    /// The receiver's HTTP status on the last attempt, if it answered.
    public var lastStatus: Int?
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var lastAttemptAt: Date?
    public var deliveredAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
}

/// The shape rules of subscriptions, as the OpenAPI document states them (400), and the
/// pattern grammar.
enum WebhookRules {
    static func check(url: String) throws(BatonError) {
        guard TextRules.hasLength(url, in: 1...2000) else { throw .invalidArgument("url must be 1 to 2000 characters", field: "url") }
    }

    static func check(eventTypes: [String]) throws(BatonError) {
        guard (1...50).contains(eventTypes.count) else {
            throw .invalidArgument("event_types must list 1 to 50 patterns", field: "event_types")
        }
        for pattern in eventTypes where !isPattern(pattern) {
            throw .invalidArgument(
                "event_types holds '\(pattern.prefix(100))': a pattern is *, a type such as order.confirmed, or a prefix such as order.*",
                field: "event_types"
            )
        }
    }

    static func check(secret: String) throws(BatonError) {
        let bytes = Array(secret.utf8)
        guard (16...200).contains(bytes.count), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .invalidArgument("secret must be 16 to 200 visible ASCII characters", field: "secret")
        }
    }

    static func check(description: String) throws(BatonError) {
        guard TextRules.hasLength(description, in: 1...500) else {
            throw .invalidArgument("description must be 1 to 500 characters", field: "description")
        }
    }

    /// `^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$`, at most 100 characters.
    static func isPattern(_ text: String) -> Bool {
        guard text != "*" else { return true }
        guard (1...100).contains(text.utf8.count) else { return false }
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last == "*" { parts.removeLast() }
        return parts.allSatisfy { part in
            let bytes = Array(part.utf8)
            guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
            return bytes.allSatisfy {
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "_")
            }
        }
    }

    /// Whether `pattern` matches an event of `type`.
    static func matches(_ pattern: String, type: String) -> Bool {
        if pattern == "*" || pattern == type { return true }
        guard pattern.hasSuffix(".*") else { return false }
        return type.hasPrefix(pattern.dropLast())
    }
}
