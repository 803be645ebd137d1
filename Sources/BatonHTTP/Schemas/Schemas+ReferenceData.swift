import BatonCore

extension Components.Schemas.Region {
    init(_ region: Region) {
        self.init(code: region.code, name: region.name, timeZone: region.timeZone, createdAt: region.createdAt)
    }
}

extension Components.Schemas.Team {
    init(_ team: Team) {
        self.init(
            slug: team.slug,
            department: Components.Schemas.Department(rawValue: team.department.rawValue) ?? .sales,
            region: team.region,
            name: team.name,
            paused: team.paused,
            defaultLeaseSeconds: team.defaultLeaseSeconds,
            defaultMaxAttempts: team.defaultMaxAttempts,
            createdAt: team.createdAt,
            updatedAt: team.updatedAt
        )
    }
}

extension Components.Schemas.Member {
    init(_ member: Member) {
        self.init(
            id: Int64(member.id),
            name: member.name,
            email: member.email,
            active: member.active,
            memberships: member.memberships.map { .init(team: $0.team, role: .init(rawValue: $0.role.rawValue) ?? .agent) },
            createdAt: member.createdAt
        )
    }
}
