import Foundation
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct DecodingTests {
    struct Payload: Codable, Equatable, Sendable {
        var name: String
        var tags: [String]
        var nested: [String: Int]
    }

    @Test func everySupportedTypeRoundTripsThroughTheServer() async throws {
        try await withPool { pool, _ in
            let id = UUID()
            let when = Date(timeIntervalSince1970: 1_790_000_000.25)
            let bytes = Data([0, 10, 200, 255])
            let payload = Payload(name: "Größe \"quoted\"", tags: ["a", "b c"], nested: ["x": 1])
            let row = try #require(
                try await pool.query(
                    """
                    SELECT $1::int8 AS big, $2::int4 AS medium, $3::int2 AS small, $4::text AS text,
                           $5::bool AS flag, $6::float8 AS ratio, $7::numeric AS amount,
                           $8::timestamptz AS at, $9::uuid AS id, $10::bytea AS bytes,
                           $11::jsonb AS payload, $12::int8[] AS numbers, $13::text[] AS words,
                           '12345678901234567890.123456789'::numeric AS huge
                    """,
                    [
                        Int.max, Int32(-7), Int16(300), "héllo, wörld", true, 0.1, Decimal(string: "1234.5678")!,
                        when, id, bytes, PostgresJSON(payload), [1, -2, 3], ["x", "y z", "NULL", "q\"uote"],
                    ]
                ).first
            )
            #expect(try row.decode(Int.self, "big") == Int.max)
            #expect(try row.decode(Int64.self, at: 0) == Int64.max)
            #expect(try row.decode(Int32.self, "medium") == -7)
            #expect(try row.decode(Int16.self, "small") == 300)
            #expect(try row.decode(String.self, "text") == "héllo, wörld")
            #expect(try row.decode(Bool.self, "flag") == true)
            #expect(try row.decode(Double.self, "ratio") == 0.1)
            #expect(try row.decode(Decimal.self, "amount") == Decimal(string: "1234.5678")!)
            #expect(try row.decode(String.self, "huge") == "12345678901234567890.123456789")
            #expect(try row.decode(Date.self, "at") == when)
            #expect(try row.decode(UUID.self, "id") == id)
            #expect(try row.decode(Data.self, "bytes") == bytes)
            #expect(try row.decodeJSON(Payload.self, "payload") == payload)
            #expect(try row.decode([Int].self, "numbers") == [1, -2, 3])
            #expect(try row.decode([String].self, "words") == ["x", "y z", "NULL", "q\"uote"])
        }
    }

    @Test func nullsDecodeIntoOptionalsAndFailIntoNonOptionals() async throws {
        try await withPool { pool, _ in
            let row = try #require(
                try await pool.query(
                    "SELECT NULL::int8 AS big, NULL::text AS text, NULL::timestamptz AS at, NULL::jsonb AS doc, $1::text AS bound",
                    [nil]
                ).first
            )
            #expect(try row.decode(Int?.self, "big") == nil)
            #expect(try row.decode(String?.self, "text") == nil)
            #expect(try row.decode(Date?.self, "at") == nil)
            #expect(try row.decode(String?.self, "bound") == nil)
            #expect(try row.decodeJSON([String: Int]?.self, "doc") == nil)
            let error = try #require(throws: PostgresError.self) { try row.decode(Int.self, "big") }
            #expect(error.code == .decoding)
            #expect(error.message.contains("'big' is NULL"))
        }
    }

    @Test func wrongTypesAndMissingColumnsAreClearDecodingErrors() async throws {
        try await withPool { pool, _ in
            let row = try #require(try await pool.query("SELECT 'abc'::text AS word").first)
            let wrongType = try #require(throws: PostgresError.self) { try row.decode(Int.self, "word") }
            #expect(wrongType.code == .decoding)
            #expect(wrongType.message.contains("'word'"))
            let missing = try #require(throws: PostgresError.self) { try row.decode(String.self, "nope") }
            #expect(missing.message.contains("no column 'nope'"))
        }
    }

    @Test func affectedRowsComeFromTheCommandTag() async throws {
        try await withPool { pool, _ in
            try await pool.query("CREATE TABLE items (id int PRIMARY KEY, label text)")
            let inserted = try await pool.query(
                "INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 5) g"
            )
            #expect(inserted.affectedRows == 5)
            let updated = try await pool.query("UPDATE items SET label = $1 WHERE id > $2", ["x", 2])
            #expect(updated.affectedRows == 3)
            let selected = try await pool.query("SELECT id FROM items ORDER BY id", prepared: true)
            #expect(selected.rows.count == 5)
            #expect(try selected.map { try $0.decode(Int.self, "id") } == [1, 2, 3, 4, 5])
        }
    }

    @Test func preparedStatementsAreReusedAndSurviveDiscard() async throws {
        try await withPool(size: 1) { pool, _ in
            for value in 1...3 {
                let row = try #require(try await pool.query("SELECT $1::int8 + 1 AS next", [value], prepared: true).first)
                #expect(try row.decode(Int.self, "next") == value + 1)
            }
            let count = try #require(
                try await pool.query("SELECT count(*) AS n FROM pg_prepared_statements").first
            )
            #expect(try count.decode(Int.self, "n") == 1)
            try await pool.query("DEALLOCATE ALL")
            let again = try #require(try await pool.query("SELECT $1::int8 + 1 AS next", [41], prepared: true).first)
            #expect(try again.decode(Int.self, "next") == 42)
        }
    }
}
