import BatonCore
import Foundation
import PostgresClient

extension APIHandler {
    /// The team, when it exists and the caller may see it and has `permission`: 403 for a
    /// role that may not do this anywhere (checked first, so it says nothing about the team),
    /// 404 for a team out of scope (its existence does not leak).
    func team(_ slug: String, _ permission: Permission, for principal: Principal) async throws -> Team {
        try principal.require(permission)
        guard let team = try await database.teamDirectory.find(slug, pool: database.pool),
            principal.canSee(team: team.slug, region: team.region)
        else {
            throw BatonError.notFound("no team '\(slug)'")
        }
        RequestFacts.note(team: team.slug)
        return team
    }

    /// The task, when the caller has `permission` (403 first) and may see its team (404).
    func task(_ id: Int64, _ permission: Permission, for principal: Principal) async throws -> QueueTask {
        try principal.require(permission)
        guard let task = try await tasks.find(id: Int(id)), principal.canSee(team: task.team, region: task.region) else {
            throw BatonError.notFound("no task \(id)")
        }
        RequestFacts.note(team: task.team)
        return task
    }

    /// The teams a scoped caller may see, or `nil` for an unrestricted one.
    func visibleTeams(for principal: Principal) async throws -> [String]? {
        guard !principal.scope.isUnrestricted else { return nil }
        let rows = try await database.pool.query(
            "SELECT slug FROM teams WHERE slug = ANY($1) OR region = ANY($2) ORDER BY slug",
            [Array(principal.scope.teams), Array(principal.scope.regions)]
        )
        return try rows.map { try $0.decode(String.self, "slug") }
    }

    /// Runs `body` in one transaction (or, with `singleStatement`, as the one statement it is).
    /// With an `Idempotency-Key`, the key is claimed in the same transaction as the effect: a repeat with the same request gets the first response (status and
    /// body) again, a repeat with another request is 409.
    func idempotent<Body: Codable & Sendable>(
        key: String?,
        operation: String,
        request: some Encodable,
        singleStatement: Bool = false,
        _ body: @Sendable (PostgresConnection) async throws -> (status: Int, body: Body)
    ) async throws -> (status: Int, body: Body) {
        let principal = try RequestPrincipal.require()
        let store = IdempotencyStore()
        guard let key = RawRequestHeaders.idempotencyKey(parsed: key) else {
            // Without a key there is nothing to record; a body that is one statement then
            // commits on its own, saving the BEGIN and COMMIT round trips.
            return try await database.pool.withConnection { connection in
                guard singleStatement else { return try await connection.transaction(body) }
                return try await body(connection)
            }
        }
        let fingerprint = IdempotencyStore.fingerprint(operation, try JSONBridge.text(request))
        return try await database.pool.transaction { tx in
            if let recorded = try await store.claim(key: key, principal: String(principal.tokenID), fingerprint: fingerprint, on: tx) {
                return (recorded.status, try JSONBridge.value(Body.self, from: recorded.bodyJSON))
            }
            let result = try await body(tx)
            try await store.record(
                key: key,
                principal: String(principal.tokenID),
                status: result.status,
                bodyJSON: try JSONBridge.text(result.body),
                on: tx
            )
            return result
        }
    }
}

extension BatonError {
    /// The 409 for a lease-fenced change that did not happen, naming the task's current state.
    static func staleLease(_ task: QueueTask) -> BatonError {
        BatonError(
            .conflict,
            task.state == .claimed
                ? "the lease token is not the task's current lease (or the lease expired)"
                : "the task is \(task.state.rawValue), not claimed",
            details: ["state": task.state.rawValue, "id": String(task.id)]
        )
    }
}
