public import Foundation

/// What creating a token needs. A token reaches the listed teams and the teams of the listed
/// regions, or every region with `allRegions`; an admin token with neither reaches every region.
public struct NewToken: Sendable, Codable {
    public var name: String
    public var role: Role
    public var allRegions: Bool
    public var teams: [String]
    public var regions: [String]
    public var memberID: Int?
    public var expiresAt: Date?

    public init(
        name: String,
        role: Role,
        allRegions: Bool = false,
        teams: [String] = [],
        regions: [String] = [],
        memberID: Int? = nil,
        expiresAt: Date? = nil
    ) {
        self.name = name
        self.role = role
        self.allRegions = allRegions
        self.teams = teams
        self.regions = regions
        self.memberID = memberID
        self.expiresAt = expiresAt
    }

    /// Whether the token will reach every region: asked for, or an admin token narrowed to nothing.
    var reachesAllRegions: Bool { allRegions || (role == .admin && teams.isEmpty && regions.isEmpty) }

    /// Checks the name, the reach and the expiry.
    public func validate() throws(BatonError) {
        guard TextRules.hasLength(name, in: 1...200) else {
            throw .invalidArgument("name must be 1 to 200 characters", field: "name")
        }
        guard reachesAllRegions || !teams.isEmpty || !regions.isEmpty else {
            let reach =
                switch role {
                case .coordinator: "a coordinator acts on the teams of its regions"
                case .lead, .agent: "a \(role.rawValue) works the queues of its teams"
                default: "a \(role.rawValue) token reads what its scope allows"
                }
            throw BatonError(
                .ruleViolation,
                "\(reach): list regions or teams, or set all_regions for every region",
                details: ["field": "regions"]
            )
        }
        if allRegions, !teams.isEmpty || !regions.isEmpty {
            throw BatonError(
                .ruleViolation,
                "all_regions already reaches every team: leave teams and regions empty",
                details: ["field": "all_regions"]
            )
        }
        if let expiresAt, expiresAt <= Date() {
            throw BatonError(.ruleViolation, "expires_at must be in the future", details: ["field": "expires_at"])
        }
    }
}
