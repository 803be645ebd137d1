import BatonCore

extension APIHandler {
    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        let tokens = try await services.tokens.list(by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(tokens: tokens.map(Components.Schemas.TokenInfo.init)))))
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let (info, secret) = try await services.tokens.create(
            NewToken(
                name: body.name,
                role: Role(rawValue: body.role.rawValue) ?? .viewer,
                allRegions: body.allRegions ?? false,
                teams: body.teams ?? [],
                regions: body.regions ?? [],
                expiresAt: body.expiresAt
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(token: .init(info), secret: secret))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        let info = try await services.tokens.revoke(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(info))))
    }
}

extension Components.Schemas.TokenInfo {
    init(_ token: TokenInfo) {
        self.init(
            id: Int64(token.id),
            name: token.name,
            role: .init(rawValue: token.role.rawValue) ?? .viewer,
            allRegions: token.allRegions,
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
