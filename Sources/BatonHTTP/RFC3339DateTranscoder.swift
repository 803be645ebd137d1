import Foundation
import OpenAPIRuntime
import PostgresClient

/// RFC 3339 times for the API: written in UTC with microseconds (`2026-11-29T20:38:10.123456Z`),
/// read with or without a fraction and with `Z` or an offset.
///
/// Replaces the runtime's ISO8601DateFormatter-based transcoder, which on Linux costs tens of
/// microseconds per date; a task carries up to six of them.
struct RFC3339DateTranscoder: DateTranscoder {
    func encode(_ date: Date) throws -> String {
        PostgresTimestamp.formatRFC3339(date)
    }

    func decode(_ text: String) throws -> Date {
        guard text.count >= 20, text.utf8.contains(UInt8(ascii: "T")) || text.utf8.contains(UInt8(ascii: "t")),
            let date = PostgresTimestamp.parse(text.uppercased())
        else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "'\(text)' is not an RFC 3339 date-time"))
        }
        // Year 0 and year 10000 in UTC (`0000-01-01T00:30:00+01:00`) are valid text but no
        // instant the database or an RFC 3339 response can carry.
        guard PostgresTimestamp.representable.contains(date) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "'\(text)' is outside 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z")
            )
        }
        return date
    }
}
