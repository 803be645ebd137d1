import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct ReferenceDataEndpointTests {
    struct RegionPage: Decodable {
        struct Region: Decodable {
            var code: String
            var name: String
            var time_zone: String
            var created_at: String
        }
        var regions: [Region]
        var next_cursor: String?
    }

    struct TeamPage: Decodable {
        struct Team: Decodable {
            var slug: String
            var department: String
            var region: String
            var paused: Bool
        }
        var teams: [Team]
        var next_cursor: String?
    }

    static func seed(_ database: BatonDatabase) async throws {
        try await database.pool.query(
            """
            INSERT INTO regions (code, name, time_zone) VALUES
              ('emea', 'Europe, Middle East and Africa', 'Europe/Berlin'),
              ('apac', 'Asia-Pacific', 'Asia/Kolkata'),
              ('amer', 'Americas', 'America/New_York')
            """
        )
        try await database.pool.query(
            """
            INSERT INTO teams (slug, department, region, name)
            SELECT d.code || '-' || r.code, d.code, r.code, d.name || ' ' || r.name
            FROM departments d CROSS JOIN regions r
            """
        )
    }

    @Test func regionsListInCodeOrderWithCursorPagination() async throws {
        try await withTestApplication { api, database in
            try await Self.seed(database)
            let firstResponse = try await api.call(.get, "/v1/regions?limit=2")
            #expect(firstResponse.status == .ok)
            let first = try firstResponse.json(RegionPage.self)
            #expect(first.regions.map(\.code) == ["amer", "apac"])
            try #require(first.regions.count == 2)
            #expect(first.regions[1].time_zone == "Asia/Kolkata")
            let cursor = try #require(first.next_cursor)
            let second = try await api.call(.get, "/v1/regions?limit=2&after=\(cursor)").json(RegionPage.self)
            #expect(second.regions.map(\.code) == ["emea"])
            #expect(second.next_cursor == nil)
            try #require(second.regions.count == 1)
            #expect(second.regions[0].created_at.hasSuffix("Z"))
        }
    }

    @Test func teamsFilterByRegionAndDepartment() async throws {
        try await withTestApplication { api, database in
            try await Self.seed(database)
            let all = try await api.call(.get, "/v1/teams?limit=200").json(TeamPage.self)
            #expect(all.teams.count == 15)
            #expect(all.teams.map(\.slug) == all.teams.map(\.slug).sorted())
            let emea = try await api.call(.get, "/v1/teams?region=emea").json(TeamPage.self)
            #expect(emea.teams.map(\.slug) == ["coordination-emea", "logistics-emea", "marketing-emea", "sales-emea", "support-emea"])
            let logistics = try await api.call(.get, "/v1/teams?department=logistics").json(TeamPage.self)
            #expect(logistics.teams.map(\.region).sorted() == ["amer", "apac", "emea"])
            #expect(logistics.teams.allSatisfy { !$0.paused })
        }
    }

    @Test func badPaginationAndFiltersAre400InTheEnvelope() async throws {
        try await withTestApplication { api, _ in
            for uri in ["/v1/teams?limit=0", "/v1/teams?limit=201", "/v1/teams?limit=abc", "/v1/teams?department=finance"] {
                let response = try await api.call(.get, uri)
                #expect(response.status == .badRequest, "\(uri)")
                let envelope = try response.errorEnvelope()
                #expect(!envelope.error.message.isEmpty)
            }
        }
    }
}
