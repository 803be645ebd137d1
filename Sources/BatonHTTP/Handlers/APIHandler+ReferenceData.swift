import BatonCore
import Foundation

extension APIHandler {
    func listRegions(_ input: Operations.ListRegions.Input) async throws -> Operations.ListRegions.Output {
        _ = try RequestPrincipal.require()
        let page = try await database.regions.list(try PageRequest(limit: input.query.limit, after: input.query.after))
        return .ok(.init(body: .json(.init(regions: page.items.map(Components.Schemas.Region.init), nextCursor: page.nextCursor))))
    }

    func listTeams(_ input: Operations.ListTeams.Input) async throws -> Operations.ListTeams.Output {
        let principal = try RequestPrincipal.require()
        let page = try await database.teams.list(
            try PageRequest(limit: input.query.limit, after: input.query.after),
            region: input.query.region,
            department: input.query.department.flatMap { Department(rawValue: $0.rawValue) }
        )
        // A scoped caller sees its own teams only.
        let visible = page.items.filter { principal.canSee(team: $0.slug, region: $0.region) }
        return .ok(.init(body: .json(.init(teams: visible.map(Components.Schemas.Team.init), nextCursor: page.nextCursor))))
    }
}

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
