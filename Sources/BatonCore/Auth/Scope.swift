public import PostgresClient

/// Which teams a caller may see and act on: every team of every region, or the listed teams
/// and the teams of the listed regions. An empty scope reaches nothing; there is no implicit
/// "everything" — a token that should reach every region says so (`all_regions`).
public struct Scope: Sendable, Equatable, Codable {
    /// Every team of every region.
    public var allRegions: Bool
    public var teams: Set<String>
    public var regions: Set<String>
    /// The regions of the listed teams: a team's members work with the records of its region.
    public var teamRegions: Set<String>

    public init(allRegions: Bool = false, teams: Set<String> = [], regions: Set<String> = [], teamRegions: Set<String> = []) {
        self.allRegions = allRegions
        self.teams = teams
        self.regions = regions
        self.teamRegions = teamRegions
    }

    /// Every team of every region.
    public static let everything = Scope(allRegions: true)

    /// Whether a team is within reach.
    public func contains(team: String, region: String) -> Bool {
        allRegions || teams.contains(team) || regions.contains(region)
    }

    /// Whether a region's records (customers and what hangs off them) are within reach: every
    /// region, a listed region, or the region of a listed team.
    public func reaches(region: String) -> Bool {
        allRegions || regions.contains(region) || teamRegions.contains(region)
    }

    /// The SQL condition that keeps records of regions within reach (see ``reaches(region:)``).
    public func regionCondition(_ region: String) -> PostgresQuery {
        if allRegions { return "TRUE" }
        return "\(unescaped: region) = ANY(\(Array(regions.union(teamRegions)).sorted()))"
    }

    /// The SQL condition that keeps rows of teams within reach, given the expressions that hold
    /// a row's team and region. Every store limits reads and writes to a scope with this one
    /// condition.
    public func condition(team: String, region: String) -> PostgresQuery {
        if allRegions { return "TRUE" }
        return "(\(unescaped: team) = ANY(\(Array(teams).sorted())) OR \(unescaped: region) = ANY(\(Array(regions).sorted())))"
    }
}
