import Crypto
import Foundation
public import PostgresClient
import Synchronization

/// API tokens: `bt_` followed by 43 random base64url characters, stored as SHA-256 only.
///
/// Authentication results are cached for two seconds so a busy worker does not cost a query
/// per request; a revocation therefore takes effect within two seconds everywhere. Valid and
/// unknown secrets are cached apart, each bounded: a flood of invalid tokens only churns the
/// small negative cache and never evicts the workers' valid entries.
public final class TokenStore: Sendable {
    private struct Caches {
        var valid: [Data: (principal: Principal, expires: ContinuousClock.Instant)] = [:]
        var invalid: [Data: ContinuousClock.Instant] = [:]
    }

    let pool: ConnectionPool
    private let caches = Mutex(Caches())
    private let cacheLifetime: Duration
    /// Most valid tokens cached; beyond it expired entries go first, then all (re-read in 2 s).
    public static let validCacheLimit = 10_000
    /// Most unknown secrets cached; a flood beyond it replaces them, never the valid ones.
    public static let invalidCacheLimit = 1_000

    public init(pool: ConnectionPool, cacheLifetime: Duration = .seconds(2)) {
        self.pool = pool
        self.cacheLifetime = cacheLifetime
    }

    /// Creates a token in its own transaction (see ``create(_:createdBy:on:)``).
    public func create(_ token: NewToken, createdBy: String) async throws -> (TokenInfo, secret: String) {
        try await pool.transaction { tx in try await create(token, createdBy: createdBy, on: tx) }
    }

    /// Creates a token on `tx` and returns it with its secret, which is never retrievable again.
    public func create(_ token: NewToken, createdBy: String, on tx: PostgresConnection) async throws -> (TokenInfo, secret: String) {
        try token.validate()
        let secret = Self.generateSecret()
        let rows = try await tx.query(
            """
            INSERT INTO api_tokens (name, secret_hash, secret_hint, role, member_id, all_regions, teams, regions, expires_at,
                                    created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            RETURNING \(Self.columns)
            """,
            [
                token.name, Self.hash(secret), String(secret.prefix(7)) + "…", token.role.rawValue, token.memberID,
                token.reachesAllRegions, token.teams, token.regions, token.expiresAt, createdBy,
            ]
        )
        guard let row = rows.first else { throw BatonError(.internalError, "token was not stored") }
        return (try Self.info(row), secret)
    }

    /// Creates the first admin token when there is no token at all; returns its secret, or
    /// `nil` when tokens already exist. Safe when several servers start at once.
    public func bootstrapAdminToken() async throws -> String? {
        try await pool.transaction { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(7362519)")
            let existing = try await tx.query("SELECT 1 FROM api_tokens LIMIT 1")
            guard existing.rows.isEmpty else { return nil }
            let secret = Self.generateSecret()
            try await tx.query(
                """
                INSERT INTO api_tokens (name, secret_hash, secret_hint, role, all_regions, created_by)
                VALUES ('bootstrap admin', $1, $2, 'admin', true, 'system')
                """,
                [Self.hash(secret), String(secret.prefix(7)) + "…"]
            )
            return secret
        }
    }

    public func list() async throws -> [TokenInfo] {
        try await pool.query("SELECT \(unescaped: Self.columns) FROM api_tokens ORDER BY id").map(Self.info)
    }

    /// Revokes a token; returns it, or `nil` when there is no such token.
    public func revoke(id: Int) async throws -> TokenInfo? {
        let rows = try await pool.query(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING \(Self.columns)",
            [id]
        )
        forgetCachedPrincipals()
        return try rows.first.map(Self.info)
    }

    /// Drops cached authentications, so a revocation made outside ``revoke(id:)`` (such as
    /// deactivating a member) takes effect in this process at once.
    public func forgetCachedPrincipals() {
        caches.withLock { $0.valid.removeAll() }
    }

    /// The principal for a bearer secret, or `nil` when it is unknown, revoked or expired.
    public func authenticate(secret: String) async throws -> Principal? {
        guard secret.hasPrefix("bt_"), secret.utf8.count <= 100 else { return nil }
        let hash = Self.hash(secret)
        let now = ContinuousClock.now
        let cached = caches.withLock { caches -> (hit: Bool, principal: Principal?) in
            if let entry = caches.valid[hash], entry.expires > now { return (true, entry.principal) }
            if let expires = caches.invalid[hash], expires > now { return (true, nil) }
            return (false, nil)
        }
        if cached.hit { return cached.principal }
        let rows = try await pool.query(
            """
            UPDATE api_tokens SET last_used_at = now()
            WHERE secret_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            RETURNING id, name, role, all_regions, teams, regions, member_id,
                      ARRAY(SELECT DISTINCT region FROM teams WHERE slug = ANY(api_tokens.teams)) AS team_regions
            """,
            [hash],
            prepared: true
        )
        var principal: Principal?
        if let row = rows.first, let role = Role(rawValue: try row.decode(String.self, "role")) {
            principal = Principal(
                tokenID: try row.decode(Int.self, "id"),
                name: try row.decode(String.self, "name"),
                role: role,
                scope: Scope(
                    allRegions: try row.decode(Bool.self, "all_regions"),
                    teams: Set(try row.decode([String].self, "teams")),
                    regions: Set(try row.decode([String].self, "regions")),
                    teamRegions: Set(try row.decode([String].self, "team_regions"))
                ),
                memberID: try row.decode(Int?.self, "member_id")
            )
        }
        let expires = now + cacheLifetime
        caches.withLock { caches in
            if let principal {
                if caches.valid.count >= Self.validCacheLimit {
                    caches.valid = caches.valid.filter { $0.value.expires > now }
                    if caches.valid.count >= Self.validCacheLimit { caches.valid.removeAll() }
                }
                caches.valid[hash] = (principal, expires)
            } else {
                if caches.invalid.count >= Self.invalidCacheLimit { caches.invalid.removeAll() }
                caches.invalid[hash] = expires
            }
        }
        return principal
    }

    /// How many valid and unknown secrets are cached (for tests).
    public var cachedCounts: (valid: Int, invalid: Int) { caches.withLock { ($0.valid.count, $0.invalid.count) } }

    static let columns = """
        id, name, role, all_regions, teams, regions, member_id, secret_hint, expires_at, revoked_at, last_used_at, created_at
        """

    static func info(_ row: PostgresRow) throws -> TokenInfo {
        TokenInfo(
            id: try row.decode(Int.self, "id"),
            name: try row.decode(String.self, "name"),
            role: Role(rawValue: try row.decode(String.self, "role")) ?? .viewer,
            allRegions: try row.decode(Bool.self, "all_regions"),
            teams: try row.decode([String].self, "teams"),
            regions: try row.decode([String].self, "regions"),
            memberID: try row.decode(Int?.self, "member_id"),
            secretHint: try row.decode(String.self, "secret_hint"),
            expiresAt: try row.decode(Date?.self, "expires_at"),
            revokedAt: try row.decode(Date?.self, "revoked_at"),
            lastUsedAt: try row.decode(Date?.self, "last_used_at"),
            createdAt: try row.decode(Date.self, "created_at")
        )
    }

    /// 32 random bytes in base64url after `prefix`.
    static func generateSecret(prefix: String = "bt_") -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + base64
    }

    static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }
}
