import Foundation
import PostgresClient
import Testing

/// Interpolated statements number their placeholders themselves, fragments included.
@Suite struct PostgresQueryTests {
    @Test func everyInterpolatedValueIsTheNextPlaceholder() {
        let team = "sales-emea"
        let limit = 5
        let query: PostgresQuery = "SELECT id FROM tasks WHERE team = \(team) AND state = 'queued' LIMIT \(limit)"
        #expect(query.sql == "SELECT id FROM tasks WHERE team = $1 AND state = 'queued' LIMIT $2")
        #expect(query.binds.map { $0?.postgresText } == ["sales-emea", "5"])
    }

    @Test func aFragmentIsRenumberedWhereItIsSpliced() {
        let regions = ["emea"]
        let scope: PostgresQuery = "(team = ANY(\(["sales-emea"])) OR region = ANY(\(regions)))"
        let id = 42
        let query: PostgresQuery = "UPDATE tasks SET state = \("done") WHERE id = \(id) AND \(scope) RETURNING \(unescaped: "id, team")"
        #expect(query.sql == "UPDATE tasks SET state = $1 WHERE id = $2 AND (team = ANY($3) OR region = ANY($4)) RETURNING id, team")
        #expect(query.binds.count == 4)
        #expect(query.binds[3]?.postgresText == "{\"emea\"}")
    }

    @Test func nilIsANullParameterAndTextIsNeverSpliced() {
        let missing: String? = nil
        let hostile = "'; DROP TABLE tasks; --"
        let query: PostgresQuery = "SELECT \(missing)::text, \(hostile)::text"
        #expect(query.sql == "SELECT $1::text, $2::text")
        #expect(query.binds[0] == nil)
        #expect(query.binds[1]?.postgresText == hostile)
    }

    @Test func joinedPartsKeepTheirOrder() {
        let parts: [PostgresQuery] = ["a = \(1)", "b = \(2)", "c"]
        let joined = PostgresQuery.joined(parts, separator: " AND ")
        #expect(joined.sql == "a = $1 AND b = $2 AND c")
    }
}
