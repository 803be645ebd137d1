import BatonCore
import Foundation
import PostgresClient
import ServiceLifecycle

extension APIHandler {
    func createRegion(_ input: Operations.CreateRegion.Input) async throws -> Operations.CreateRegion.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let regions = database.regions
        let (_, region) = try await idempotent(key: input.headers.idempotencyKey, operation: "createRegion", request: body) { tx in
            let region = try await regions.create(
                code: body.code,
                name: body.name,
                timeZone: body.timeZone ?? "UTC",
                by: principal,
                on: tx
            )
            return (201, Components.Schemas.Region(region))
        }
        database.slaCatalog.invalidate()
        return .created(.init(body: .json(region)))
    }

    func createTeam(_ input: Operations.CreateTeam.Input) async throws -> Operations.CreateTeam.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageReferenceData)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let teams = database.teams
        let newTeam = TeamStore.NewTeam(
            department: Department(rawValue: body.department.rawValue) ?? .sales,
            region: body.region,
            slug: body.slug,
            name: body.name,
            defaultLeaseSeconds: body.defaultLeaseSeconds,
            defaultMaxAttempts: body.defaultMaxAttempts
        )
        let (_, team) = try await idempotent(key: input.headers.idempotencyKey, operation: "createTeam", request: body) { tx in
            (201, Components.Schemas.Team(try await teams.create(newTeam, by: principal, on: tx)))
        }
        return .created(.init(body: .json(team)))
    }

    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let principal = try RequestPrincipal.require()
        let after = Int(input.query.after ?? 0)
        let limit = input.query.limit ?? 100
        let wait = input.query.waitSeconds ?? 0
        guard after >= 0 else { throw BatonError.invalidArgument("after must not be negative", field: "after") }
        guard (1...1000).contains(limit) else { throw BatonError.invalidArgument("limit must be between 1 and 1000", field: "limit") }
        guard (0...30).contains(wait) else { throw BatonError.invalidArgument("wait_seconds must be between 0 and 30", field: "wait_seconds") }
        let types = input.query.types.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        var teams = try await visibleTeams(for: principal)
        if let team = input.query.team {
            teams = (teams == nil || teams!.contains(team)) ? [team] : []
        }
        let deadline = ContinuousClock.now + .seconds(wait)
        while true {
            let seen = await desks.events.current
            let found = try await events.feed(after: after, limit: limit, types: types, teams: teams)
            if found.isEmpty, try await !events.isCursor(after) {
                throw BatonError.invalidArgument("after is not the id of an event", field: "after")
            }
            let remaining = deadline - ContinuousClock.now
            if !found.isEmpty || remaining <= .zero || Task.isCancelled || Task.isShuttingDownGracefully {
                return .ok(
                    .init(
                        body: .json(
                            .init(events: try found.map(Components.Schemas.Event.init), nextCursor: Int64(found.last?.id ?? after))
                        )
                    )
                )
            }
            _ = await desks.events.wait(after: seen, timeout: min(remaining, .seconds(1)))
        }
    }

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageTokens)
        return .ok(.init(body: .json(.init(tokens: try await tokens.list().map(Components.Schemas.TokenInfo.init)))))
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageTokens)
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let newToken = NewToken(
            name: body.name,
            role: Role(rawValue: body.role.rawValue) ?? .viewer,
            teams: body.teams ?? [],
            regions: body.regions ?? [],
            expiresAt: body.expiresAt
        )
        // The secret is shown once: an idempotent replay must not hand it out again, so
        // token creation honours the key by refusing a repeat rather than replaying it.
        if let key = RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey) {
            try await database.pool.transaction { tx in
                if try await IdempotencyStore().claim(
                    key: key,
                    principal: String(principal.tokenID),
                    fingerprint: IdempotencyStore.fingerprint("createToken", try JSONBridge.text(body)),
                    on: tx
                ) != nil {
                    throw BatonError(.conflict, "this Idempotency-Key already created a token; its secret is not shown again")
                }
                try await IdempotencyStore().record(key: key, principal: String(principal.tokenID), status: 201, bodyJSON: "{}", on: tx)
            }
        }
        let (info, secret) = try await tokens.create(newToken, createdBy: principal.actorID)
        return .created(.init(body: .json(.init(token: .init(info), secret: secret))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        let principal = try RequestPrincipal.require()
        try principal.require(.manageTokens)
        guard try await tokens.revoke(id: Int(input.path.id)), let info = try await tokens.list().first(where: { $0.id == Int(input.path.id) })
        else {
            throw BatonError.notFound("no token \(input.path.id)")
        }
        return .ok(.init(body: .json(.init(info))))
    }
}

extension Components.Schemas.TokenInfo {
    init(_ token: TokenInfo) {
        self.init(
            id: Int64(token.id),
            name: token.name,
            role: .init(rawValue: token.role.rawValue) ?? .viewer,
            teams: token.teams,
            regions: token.regions,
            secretHint: token.secretHint,
            expiresAt: token.expiresAt,
            revokedAt: token.revokedAt,
            lastUsedAt: token.lastUsedAt,
            createdAt: token.createdAt
        )
    }
}
