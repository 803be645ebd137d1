public import Foundation

/// How a contact likes to be reached.
public enum ContactChannel: String, Sendable, Codable, CaseIterable {
    case email
    case phone
    case sms
    case chat
    case inPerson = "in_person"
}

/// A person at a customer.
public struct Contact: Sendable, Equatable, Codable {
    public var id: Int
    public var customerID: Int
    public var name: String
    public var role: String?
    public var email: String?
    public var phone: String?
    public var preferredChannel: ContactChannel?
    public var version: Int
    public var createdAt: Date
    public var updatedAt: Date
}
