import BatonCore
import Foundation

extension APIHandler {
    // MARK: - Regions

    func listRegions(_ input: Operations.ListRegions.Input) async throws -> Operations.ListRegions.Output {
        let page = try await services.referenceData.regions(
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(regions: page.items.map(Components.Schemas.Region.init), nextCursor: page.nextCursor))))
    }

    func createRegion(_ input: Operations.CreateRegion.Input) async throws -> Operations.CreateRegion.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let region = try await services.referenceData.createRegion(
            .init(code: body.code, name: body.name, timeZone: body.timeZone ?? "UTC"),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(region))))
    }

    // MARK: - Teams

    func listTeams(_ input: Operations.ListTeams.Input) async throws -> Operations.ListTeams.Output {
        let page = try await services.referenceData.teams(
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            region: input.query.region,
            department: input.query.department.flatMap { Department(rawValue: $0.rawValue) },
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(teams: page.items.map(Components.Schemas.Team.init), nextCursor: page.nextCursor))))
    }

    func createTeam(_ input: Operations.CreateTeam.Input) async throws -> Operations.CreateTeam.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let team = try await services.referenceData.createTeam(
            TeamStore.NewTeam(
                department: Department(rawValue: body.department.rawValue) ?? .sales,
                region: body.region,
                slug: body.slug,
                name: body.name,
                defaultLeaseSeconds: body.defaultLeaseSeconds,
                defaultMaxAttempts: body.defaultMaxAttempts
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(team))))
    }

    // MARK: - Members

    func listMembers(_ input: Operations.ListMembers.Input) async throws -> Operations.ListMembers.Output {
        let page = try await services.referenceData.members(
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(members: page.items.map(Components.Schemas.Member.init), nextCursor: page.nextCursor))))
    }

    func createMember(_ input: Operations.CreateMember.Input) async throws -> Operations.CreateMember.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let member = try await services.referenceData.createMember(
            .init(name: body.name, email: body.email),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(member))))
    }

    func addMembership(_ input: Operations.AddMembership.Input) async throws -> Operations.AddMembership.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let member = try await services.referenceData.addMembership(
            memberID: Int(input.path.id),
            .init(team: body.team, role: Membership.Role(rawValue: body.role.rawValue) ?? .agent),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .ok(.init(body: .json(.init(member))))
    }

    func deactivateMember(_ input: Operations.DeactivateMember.Input) async throws -> Operations.DeactivateMember.Output {
        let member = try await services.referenceData.deactivateMember(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(member))))
    }
}
