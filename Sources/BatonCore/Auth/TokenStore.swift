import Crypto
public import Foundation
public import PostgresClient
import Synchronization

/// An API token as listed (never with its secret).
public struct TokenInfo: Sendable, Equatable, Codable {
    public var id: Int
    public var name: String
    public var role: Role
    public var teams: [String]
    public var regions: [String]
    public var memberID: Int?
    public var secretHint: String
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    public var createdAt: Date
}

/// What creating a token needs.
public struct NewToken: Sendable {
    public var name: String
    public var role: Role
    public var teams: [String]
    public var regions: [String]
    public var memberID: Int?
    public var expiresAt: Date?

    public init(name: String, role: Role, teams: [String] = [], regions: [String] = [], memberID: Int? = nil, expiresAt: Date? = nil) {
        self.name = name
        self.role = role
        self.teams = teams
        self.regions = regions
        self.memberID = memberID
        self.expiresAt = expiresAt
    }
}

/// API tokens: `bt_` followed by 43 random base64url characters, stored as SHA-256 only.
///
/// Authentication results are cached for two seconds so a busy worker does not cost a query
/// per request; a revocation therefore takes effect within two seconds everywhere.
public final class TokenStore: Sendable {
    private struct CacheEntry {
        let principal: Principal?
        let expiresAt: ContinuousClock.Instant
    }

    let pool: ConnectionPool
    private let cache = Mutex<[Data: CacheEntry]>([:])
    private let cacheLifetime: Duration = .seconds(2)

    public init(pool: ConnectionPool) { self.pool = pool }

    /// Creates a token and returns it with its secret, which is never retrievable again.
    public func create(_ token: NewToken, createdBy: String) async throws -> (TokenInfo, secret: String) {
        try validate(token)
        let secret = Self.generateSecret()
        let rows = try await pool.query(
            """
            INSERT INTO api_tokens (name, secret_hash, secret_hint, role, member_id, teams, regions, expires_at, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            RETURNING \(Self.columns)
            """,
            [
                token.name, Self.hash(secret), String(secret.prefix(7)) + "…", token.role.rawValue, token.memberID,
                token.teams, token.regions, token.expiresAt, createdBy,
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
                INSERT INTO api_tokens (name, secret_hash, secret_hint, role, created_by)
                VALUES ('bootstrap admin', $1, $2, 'admin', 'system')
                """,
                [Self.hash(secret), String(secret.prefix(7)) + "…"]
            )
            return secret
        }
    }

    public func list() async throws -> [TokenInfo] {
        try await pool.query("SELECT \(Self.columns) FROM api_tokens ORDER BY id").map(Self.info)
    }

    /// Revokes a token; returns false when there is no such token.
    public func revoke(id: Int) async throws -> Bool {
        let result = try await pool.query(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
            [id]
        )
        cache.withLock { $0.removeAll() }
        return result.affectedRows == 1
    }

    /// Drops cached authentications, so a revocation made outside ``revoke(id:)`` (such as
    /// deactivating a member) takes effect in this process at once.
    public func forgetCachedPrincipals() async {
        cache.withLock { $0.removeAll() }
    }

    /// The principal for a bearer secret, or `nil` when it is unknown, revoked or expired.
    public func authenticate(secret: String) async throws -> Principal? {
        guard secret.hasPrefix("bt_"), secret.utf8.count <= 100 else { return nil }
        let hash = Self.hash(secret)
        let now = ContinuousClock.now
        if let entry = cache.withLock({ $0[hash] }), entry.expiresAt > now {
            return entry.principal
        }
        let rows = try await pool.query(
            """
            UPDATE api_tokens SET last_used_at = now()
            WHERE secret_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            RETURNING id, name, role, teams, regions, member_id
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
                    teams: Set(try row.decode([String].self, "teams")),
                    regions: Set(try row.decode([String].self, "regions"))
                ),
                memberID: try row.decode(Int?.self, "member_id")
            )
        }
        cache.withLock { cache in
            if cache.count > 10_000 { cache.removeAll() }
            cache[hash] = CacheEntry(principal: principal, expiresAt: now + cacheLifetime)
        }
        return principal
    }

    private func validate(_ token: NewToken) throws(BatonError) {
        guard TextRules.hasLength(token.name, in: 1...200) else {
            throw .invalidArgument("name must be 1 to 200 characters", field: "name")
        }
        if token.role == .lead || token.role == .agent, token.teams.isEmpty, token.regions.isEmpty {
            throw BatonError(.ruleViolation, "a \(token.role.rawValue) token needs at least one team or region")
        }
        if let expiresAt = token.expiresAt, expiresAt <= Date() {
            throw BatonError(.ruleViolation, "expires_at must be in the future")
        }
    }

    static let columns = """
        id, name, role, teams, regions, member_id, secret_hint, expires_at, revoked_at, last_used_at, created_at
        """

    static func info(_ row: PostgresRow) throws -> TokenInfo {
        TokenInfo(
            id: try row.decode(Int.self, "id"),
            name: try row.decode(String.self, "name"),
            role: Role(rawValue: try row.decode(String.self, "role")) ?? .viewer,
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

    static func generateSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let base64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "bt_" + base64
    }

    static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }
}
