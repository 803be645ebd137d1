import BatonCore
import BatonHTTP
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Fair use: a token past its bucket gets 429 with `Retry-After` and loses nothing; another
/// token is not affected; requests without a token count by address, and so do made-up tokens;
/// waiting requests count by how many are open, not by rate.
@Suite(.requiresDatabase) struct FairUseTests {
    /// One request a second (so none refills during a test), bursts of three, two held.
    static let tight = ServerSettings(fairUse: FairUseSettings(rate: 1, burst: 3, maximumHeld: 2))

    @Test func aTokenPastItsBurstIsRefusedWithRetryAfterAndAnotherTokenIsNot() async throws {
        try await withTestApplication(settings: Self.tight) { api, database in
            let other = try await api.makeToken(role: "admin")  // the admin token's first request
            for _ in 1...2 { try api.expect(.ok, await api.call(.get, "/v1/regions")) }
            let refused = try await api.call(.post, "/v1/regions", json: #"{"code":"emea","name":"EMEA","time_zone":"Europe/Berlin"}"#)
            try api.expect(.tooManyRequests, refused)
            #expect(refused.headers[.retryAfter] == "1")
            let error = try refused.errorEnvelope().error
            #expect(error.code == "rate_limited")
            #expect(error.message.contains("1 a second with bursts of 3"))
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

    @Test func waitingClaimsCountByHowManyAreOpen() async throws {
        let settings = ServerSettings(fairUse: FairUseSettings(rate: 1, burst: 50, maximumHeld: 2))
        try await withTestApplication(settings: settings) { api, _ in
            try await api.seedReferenceData()
            let claim = #"{"worker":"w","lease_seconds":30,"wait_seconds":3}"#
            // Two long polls on an empty queue hold both places; a third is refused at once.
            async let first = api.call(.post, "/v1/teams/sales-emea/claim", json: claim)
            async let second = api.call(.post, "/v1/teams/sales-emea/claim", json: claim)
            try await Task.sleep(for: .milliseconds(800))
            let third = try await api.call(.post, "/v1/teams/sales-emea/claim", json: claim)
            try api.expect(.tooManyRequests, third)
            #expect(try third.errorEnvelope().error.message.contains("already holds 2 waiting requests"))
            let answered = try await [first, second].map(\.status)
            #expect(answered == [.ok, .ok])
            // Both places are free again.
            try api.expect(.ok, await api.call(.post, "/v1/teams/sales-emea/claim", json: #"{"worker":"w","lease_seconds":30}"#))
        }
    }

    @Test func theLimitsAreOffByDefault() async throws {
        try await withTestApplication { api, _ in
            for _ in 1...50 { try api.expect(.ok, await api.call(.get, "/v1/regions")) }
        }
    }
}
