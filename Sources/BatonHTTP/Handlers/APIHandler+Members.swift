import BatonCore
import Foundation
import PostgresClient

extension APIHandler {
    var members: MemberStore { MemberStore(pool: database.pool) }

    func listMembers(_ input: Operations.ListMembers.Input) async throws -> Operations.ListMembers.Output {
        let principal = try RequestPrincipal.require()
        let page = try await members.list(
            try PageRequest(limit: input.query.limit, after: input.query.after),
            teams: try await visibleTeams(for: principal)
        )
        return .ok(.init(body: .json(.init(members: page.items.map(Components.Schemas.Member.init), nextCursor: page.nextCursor))))
    }

    func createMember(_ input: Operations.CreateMember.Input) async throws -> Operations.CreateMember.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let members = self.members
        let (_, member) = try await idempotent(key: input.headers.idempotencyKey, operation: "createMember", request: body) { tx in
            (201, Components.Schemas.Member(try await members.create(name: body.name, email: body.email, by: principal, on: tx)))
        }
        return .created(.init(body: .json(member)))
    }

    func addMembership(_ input: Operations.AddMembership.Input) async throws -> Operations.AddMembership.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let members = self.members
        let id = Int(input.path.id)
        let role = Membership.Role(rawValue: body.role.rawValue) ?? .agent
        let (_, member) = try await idempotent(key: input.headers.idempotencyKey, operation: "membership/\(id)", request: body) { tx in
            (200, Components.Schemas.Member(try await members.setMembership(memberID: id, team: body.team, role: role, by: principal, on: tx)))
        }
        return .ok(.init(body: .json(member)))
    }

    func deactivateMember(_ input: Operations.DeactivateMember.Input) async throws -> Operations.DeactivateMember.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        let member = try await members.deactivate(id: Int(input.path.id), by: principal)
        await tokens.forgetCachedPrincipals()
        return .ok(.init(body: .json(.init(member))))
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
