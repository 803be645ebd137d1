import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@testable import BatonHTTP

/// Fair use: a token past its bucket gets 429 with `Retry-After` and loses nothing; another
/// token is not affected; requests without a token count by address, and so do made-up tokens;
/// waiting requests count by how many are open, not by rate.
@Suite(.requiresDatabase) struct FairUseTests {
    /// One request per 100 s (none refills during a test, however loaded the machine), bursts
    /// of three.
    static let tight = ServerSettings(fairUse: FairUseSettings(rate: 0.01, burst: 3, maximumHeld: 2))

    @Test func aTokenPastItsBurstIsRefusedWithRetryAfterAndAnotherTokenIsNot() async throws {
        try await withTestApplication(settings: Self.tight) { api, database in
            let other = try await api.makeToken(role: "admin")  // the admin token's first request
            for _ in 1...2 { try api.expect(.ok, await api.call(.get, "/v1/regions")) }
            let refused = try await api.call(.post, "/v1/regions", json: #"{"code":"emea","name":"EMEA","time_zone":"Europe/Berlin"}"#)
            try api.expect(.tooManyRequests, refused)
            // The bucket is empty: the next request is about 100 s away.
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((90...100).contains(retryAfter), "Retry-After: \(retryAfter)")
            let error = try refused.errorEnvelope().error
            #expect(error.code == "rate_limited")
            #expect(error.message.contains("0.01 a second with bursts of 3"))
            // Refused before it ran: no region was written.
            let regions = try await database.pool.query("SELECT count(*) AS n FROM regions")
            #expect(try regions.first?.decode(Int.self, "n") == 0)
            try api.expect(.ok, await api.call(.get, "/v1/regions", token: other))
        }
    }

    @Test func requestsWithoutATokenAndMadeUpTokensCountByAddress() async throws {
        try await withTestApplication(settings: Self.tight) { api, _ in
            for _ in 1...3 { try api.expect(.ok, await api.call(.get, "/healthz", token: .some(nil))) }
            try api.expect(.tooManyRequests, await api.call(.get, "/healthz", token: .some(nil)))
            // The address's bucket is empty: a made-up token waits too, before any look-up.
            try api.expect(.tooManyRequests, await api.call(.get, "/v1/regions", token: "bt_made_up"))
        }
        try await withTestApplication(settings: Self.tight) { api, _ in
            for _ in 1...3 { try api.expect(.unauthorized, await api.call(.get, "/v1/regions", token: "bt_made_up")) }
            try api.expect(.tooManyRequests, await api.call(.get, "/v1/regions", token: "bt_made_up"))
        }
    }

    /// Held requests are counted by the limiter, not timed: checked on it directly, since two
    /// long polls racing a third through a loaded test run cannot be ordered from outside.
    @Test func waitingRequestsCountByHowManyAreOpen() {
        let limits = FairUseLimits(settings: FairUseSettings(rate: 0.01, burst: 3, maximumHeld: 2))
        #expect(limits.hold("token 1") && limits.hold("token 1"))
        #expect(!limits.hold("token 1"))
        #expect(limits.hold("token 2"), "another token has places of its own")
        limits.release("token 1")
        #expect(limits.hold("token 1"))
        #expect(FairUseLimits(settings: .off).hold("token 1"))
        let waiting = [
            Request(head: .init(method: .post, scheme: nil, authority: nil, path: "/v1/teams/sales-emea/claim"), body: .init(buffer: ByteBuffer())),
            Request(head: .init(method: .get, scheme: nil, authority: nil, path: "/v1/events/stream"), body: .init(buffer: ByteBuffer())),
            Request(head: .init(method: .get, scheme: nil, authority: nil, path: "/v1/events?wait_seconds=5"), body: .init(buffer: ByteBuffer())),
        ]
        #expect(waiting.allSatisfy(FairUseMiddleware.mayWait))
        let answering = [
            Request(head: .init(method: .get, scheme: nil, authority: nil, path: "/v1/events?wait_seconds=0"), body: .init(buffer: ByteBuffer())),
            Request(head: .init(method: .get, scheme: nil, authority: nil, path: "/v1/events"), body: .init(buffer: ByteBuffer())),
            Request(head: .init(method: .post, scheme: nil, authority: nil, path: "/v1/teams/sales-emea/tasks"), body: .init(buffer: ByteBuffer())),
        ]
        #expect(!answering.contains(where: FairUseMiddleware.mayWait))
    }

    @Test func theLimitsAreOffByDefault() async throws {
        try await withTestApplication { api, _ in
            for _ in 1...50 { try api.expect(.ok, await api.call(.get, "/v1/regions")) }
        }
    }
}
