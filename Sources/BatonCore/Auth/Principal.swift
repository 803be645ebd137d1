/// Who is calling: an authenticated token with its role and scope, or the system itself.
public struct Principal: Sendable, Equatable {
    public var tokenID: Int
    public var name: String
    public var role: Role
    public var scope: Scope
    public var memberID: Int?
    /// Where the request came from: `api`, `cli` or `system`.
    public var source: String

    public init(tokenID: Int, name: String, role: Role, scope: Scope, memberID: Int? = nil, source: String = "api") {
        self.tokenID = tokenID
        self.name = name
        self.role = role
        self.scope = scope
        self.memberID = memberID
        self.source = source
    }

    /// The system itself (monitor, reaper, demo seeder) or an operator at the CLI: every
    /// permission, every region.
    public static func system(source: String = "system") -> Principal {
        Principal(tokenID: 0, name: source == "cli" ? "batonctl" : "system", role: .admin, scope: .everything, source: source)
    }

    /// The id recorded as an event's actor and a task's creator.
    public var actorID: String { tokenID == 0 ? source == "cli" ? "cli" : "system" : memberID.map { "member:\($0)" } ?? "token:\(tokenID)" }

    /// The role allows the permission anywhere in scope.
    public func has(_ permission: Permission) -> Bool {
        permission.isGranted(to: role)
    }

    /// Whether a team is within reach at all (for reads, and for 404 rather than 403).
    public func canSee(team: String, region: String) -> Bool {
        scope.contains(team: team, region: region)
    }
}
