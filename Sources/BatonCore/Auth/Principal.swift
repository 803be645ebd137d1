/// Roles, from most to least powerful.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// Everything: tokens, reference data, every team.
    case admin
    /// All teams in its regions.
    case coordinator
    /// Its own teams, plus pause/resume and retrying dead tasks.
    case lead
    /// Works its own teams' queues.
    case agent
    /// Reads only, within its scope.
    case viewer
}

/// Which teams a token may touch: its role's reach, narrowed to listed teams and regions.
public struct Scope: Sendable, Equatable {
    public var teams: Set<String>
    public var regions: Set<String>

    public init(teams: Set<String> = [], regions: Set<String> = []) {
        self.teams = teams
        self.regions = regions
    }

    /// No narrowing: every team.
    public var isUnrestricted: Bool { teams.isEmpty && regions.isEmpty }

    public func contains(team: String, region: String) -> Bool {
        isUnrestricted || teams.contains(team) || regions.contains(region)
    }
}

/// Things a caller may ask to do.
public enum Permission: Sendable {
    case readQueue
    case workQueue
    case manageQueue
    case manageReferenceData
    case manageTokens
}

/// Who is calling: an authenticated token with its role and scope.
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

    /// The system itself (reaper, CLI maintenance), with every permission.
    public static func system(source: String = "system") -> Principal {
        Principal(tokenID: 0, name: "system", role: .admin, scope: Scope(), source: source)
    }

    /// The id recorded as an event's actor and a task's creator.
    public var actorID: String { tokenID == 0 ? "system" : memberID.map { "member:\($0)" } ?? "token:\(tokenID)" }

    /// The role allows the permission anywhere in scope.
    public func has(_ permission: Permission) -> Bool {
        switch permission {
        case .readQueue: true
        case .workQueue: role != .viewer
        case .manageQueue: role == .admin || role == .coordinator || role == .lead
        case .manageReferenceData, .manageTokens: role == .admin
        }
    }

    /// Whether a team is within reach at all (for reads, and for 404 rather than 403).
    public func canSee(team: String, region: String) -> Bool {
        scope.contains(team: team, region: region)
    }

    /// Throws 404 for a team out of scope (its existence must not leak) and 403 for a
    /// permission the role lacks.
    public func require(_ permission: Permission, team: String, region: String) throws(BatonError) {
        guard canSee(team: team, region: region) else {
            throw BatonError.notFound("no such team or task")
        }
        try require(permission)
    }

    /// Throws 403 when the role lacks the permission.
    public func require(_ permission: Permission) throws(BatonError) {
        guard has(permission) else {
            throw BatonError(.forbidden, "the \(role.rawValue) role may not do this")
        }
    }
}
