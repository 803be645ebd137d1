import Foundation
import Testing

@testable import PostgresClient

@Suite struct TextFormatTests {
    @Test func timestampsRoundTripWithMicroseconds() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let text = PostgresTimestamp.format(date)
        #expect(text == "2026-11-18 11:06:40.123456+00")
        let parsed = try #require(PostgresTimestamp.parse(text))
        #expect(abs(parsed.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000_001)
    }

    @Test func timestampsHonourOffsetsIncludingHalfHours() throws {
        let kolkata = try #require(PostgresTimestamp.parse("2026-03-01 10:30:00+05:30"))
        let utc = try #require(PostgresTimestamp.parse("2026-03-01 05:00:00+00"))
        #expect(kolkata == utc)
        let negative = try #require(PostgresTimestamp.parse("2026-03-01 00:00:00.5-08"))
        #expect(negative == Date(timeIntervalSince1970: utc.timeIntervalSince1970 + 3 * 3600 + 0.5))
    }

    @Test func timestampsBeforeTheEpochAndLeapDays() throws {
        let old = try #require(PostgresTimestamp.parse("1969-12-31 23:59:59+00"))
        #expect(old.timeIntervalSince1970 == -1)
        #expect(PostgresTimestamp.format(old) == "1969-12-31 23:59:59.000000+00")
        let leap = try #require(PostgresTimestamp.parse("2024-02-29 12:00:00Z"))
        #expect(PostgresTimestamp.format(leap) == "2024-02-29 12:00:00.000000+00")
    }

    @Test func rfc3339FormattingUsesTAndZ() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123456)
        #expect(PostgresTimestamp.formatRFC3339(date) == "2026-11-18T11:06:40.123456Z")
        #expect(PostgresTimestamp.formatRFC3339(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        let far = Date(timeIntervalSince1970: 253_402_300_800)  // 10000-01-01
        #expect(PostgresTimestamp.formatRFC3339(far) == "10000-01-01T00:00:00.000000Z")
    }

    @Test(arguments: ["", "2026-13-01 00:00:00+00", "2026-01-01", "infinity", "2026-01-01 00:00:00+0x"])
    func malformedTimestampsAreRejected(text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }

    @Test func arraysQuoteEveryElementAndParseBack() throws {
        let values = ["plain", "with space", "quote\"d", "back\\slash", "comma,inside", "NULL", "{}"]
        let text = PostgresArrayText.format(values)
        let parsed = try #require(PostgresArrayText.parse(text))
        #expect(parsed == values.map { Optional($0) })
    }

    @Test func arraysWithNullsAndEmpty() throws {
        #expect(PostgresArrayText.parse("{}") == [])
        #expect(PostgresArrayText.parse("{1,NULL,3}") == ["1", nil, "3"])
        #expect(PostgresArrayText.parse("{{1,2},{3,4}}") == nil)
        #expect(PostgresArrayText.parse("1,2") == nil)
    }

    @Test func byteaHexRoundTrip() throws {
        let data = Data([0, 1, 0x7f, 0x80, 0xff])
        #expect(PostgresBytea.hexText(data) == "\\x00017f80ff")
        #expect(PostgresBytea.parse("\\x00017F80ff") == data)
        #expect(PostgresBytea.parse("\\x0") == nil)
        #expect(PostgresBytea.parse("00") == nil)
    }
}
