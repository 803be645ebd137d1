/// What adding a contact needs (and, in an edit, what changes: empty strings clear).
public struct NewContact: Sendable, Equatable, Codable {
    public var name: String
    public var role: String?
    public var email: String?
    public var phone: String?
    public var preferredChannel: ContactChannel?

    public init(name: String, role: String? = nil, email: String? = nil, phone: String? = nil, preferredChannel: ContactChannel? = nil) {
        self.name = name
        self.role = role
        self.email = email
        self.phone = phone
        self.preferredChannel = preferredChannel
    }

    public func validate(field prefix: String = "") throws(BatonError) {
        guard TextRules.hasLength(name, in: 1...200) else { throw .invalidArgument("name must be 1 to 200 characters", field: prefix + "name") }
        try CustomerRules.check(optional: role, max: 200, field: prefix + "role")
        if let email, !email.isEmpty, !TextRules.isEmail(email) || email.utf8.count > 320 {
            throw .invalidArgument("email is not an email address", field: prefix + "email")
        }
        try CustomerRules.check(optional: phone, max: 50, field: prefix + "phone")
    }
}

/// An edit of a contact: the fields given change; an empty string clears an optional one.
public struct ContactChanges: Sendable, Equatable, Codable {
    public var name: String?
    public var role: String?
    public var email: String?
    public var phone: String?
    public var preferredChannel: ContactChannel?

    public init(name: String? = nil, role: String? = nil, email: String? = nil, phone: String? = nil, preferredChannel: ContactChannel? = nil) {
        self.name = name
        self.role = role
        self.email = email
        self.phone = phone
        self.preferredChannel = preferredChannel
    }

    public func validate() throws(BatonError) {
        try NewContact(name: name ?? "x", role: role, email: email, phone: phone, preferredChannel: preferredChannel).validate()
    }
}
