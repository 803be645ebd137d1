import PostgresClient

/// The reference data use cases: regions, teams, members and their memberships. Reading is
/// open to every token (narrowed to the caller's scope where it names teams); changing it is
/// for admins.
public struct ReferenceDataService: Sendable {
    let database: BatonDatabase
    let wakeups: Wakeups

    public init(database: BatonDatabase, wakeups: Wakeups) {
        self.database = database
        self.wakeups = wakeups
    }

    private var members: MemberStore { MemberStore(pool: database.pool) }
    private var write: IdempotentWrite { IdempotentWrite(pool: database.pool) }

    // MARK: - Regions

    public func regions(page: PageRequest, by principal: Principal) async throws -> Page<Region> {
        try principal.authorize(.listRegions)
        return try await database.regions.list(page)
    }

    /// What creating a region needs.
    public struct NewRegion: Sendable, Codable {
        public var code: String
        public var name: String
        public var timeZone: String

        public init(code: String, name: String, timeZone: String = "UTC") {
            self.code = code
            self.name = name
            self.timeZone = timeZone
        }
    }

    public func createRegion(_ region: NewRegion, idempotencyKey: String? = nil, by principal: Principal) async throws -> Region {
        try principal.authorize(.createRegion)
        let regions = database.regions
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createRegion", request: region) { tx in
            try await regions.create(code: region.code, name: region.name, timeZone: region.timeZone, by: principal, on: tx)
        }
        database.slaCatalog.invalidate()
        wakeups.eventsWritten()
        return created
    }

    // MARK: - Teams

    /// Teams the caller may see, ordered by slug.
    public func teams(page: PageRequest, region: String?, department: Department?, by principal: Principal) async throws -> Page<Team> {
        try principal.authorize(.listTeams)
        return try await database.teams.list(page, region: region, department: department, scope: principal.scope)
    }

    public func createTeam(_ team: TeamStore.NewTeam, idempotencyKey: String? = nil, by principal: Principal) async throws -> Team {
        try principal.authorize(.createTeam)
        let teams = database.teams
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createTeam", request: team) { tx in
            try await teams.create(team, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return created
    }

    // MARK: - Members

    /// Members the caller may see: everyone with every region, otherwise members of its teams.
    public func members(page: PageRequest, by principal: Principal) async throws -> Page<Member> {
        try principal.authorize(.listMembers)
        return try await members.list(page, scope: principal.scope)
    }

    /// What creating a member needs.
    public struct NewMember: Sendable, Codable {
        public var name: String
        public var email: String

        public init(name: String, email: String) {
            self.name = name
            self.email = email
        }
    }

    public func createMember(_ member: NewMember, idempotencyKey: String? = nil, by principal: Principal) async throws -> Member {
        try principal.authorize(.createMember)
        let members = self.members
        let created = try await write.run(key: idempotencyKey, by: principal, operation: "createMember", request: member) { tx in
            try await members.create(name: member.name, email: member.email, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return created
    }

    /// What putting a member on a team needs.
    public struct NewMembership: Sendable, Codable {
        public var team: String
        public var role: Membership.Role

        public init(team: String, role: Membership.Role) {
            self.team = team
            self.role = role
        }
    }

    /// Puts a member on a team, or changes the role there.
    public func addMembership(
        memberID: Int,
        _ membership: NewMembership,
        idempotencyKey: String? = nil,
        by principal: Principal
    ) async throws -> Member {
        try principal.authorize(.addMembership)
        let members = self.members
        let member = try await write.run(key: idempotencyKey, by: principal, operation: "membership/\(memberID)", request: membership) { tx in
            try await members.setMembership(memberID: memberID, team: membership.team, role: membership.role, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return member
    }

    /// Deactivates a member and revokes their tokens (at once in this server, within two
    /// seconds in the others).
    public func deactivateMember(id: Int, by principal: Principal) async throws -> Member {
        try principal.authorize(.deactivateMember)
        let member = try await members.deactivate(id: id, by: principal)
        database.tokens.forgetCachedPrincipals()
        wakeups.eventsWritten()
        return member
    }
}
