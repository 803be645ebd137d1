import BatonCore
import Testing

/// RFC 4180 as spreadsheets write it, read whole or a byte at a time alike.
struct CSVReaderTests {
    static func read(_ text: String, pieceSize: Int) throws -> [CSVReader.Record] {
        var reader = CSVReader()
        let bytes = Array(text.utf8)
        var records: [CSVReader.Record] = []
        for start in stride(from: 0, to: bytes.count, by: pieceSize) {
            records += try reader.read(bytes[start..<min(start + pieceSize, bytes.count)])
        }
        return records + (try reader.finish())
    }

    @Test(arguments: [1, 2, 3, 7, 1 << 20])
    func quotesLineEndsAndTheByteOrderMarkReadTheSameInAnyPieces(pieceSize: Int) throws {
        let text = "\u{FEFF}a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\r\n,,\rlast,\"\",end"
        let records = try Self.read(text, pieceSize: pieceSize)
        #expect(
            records == [
                CSVReader.Record(line: 1, fields: ["a", "b", "c"]),
                CSVReader.Record(line: 2, fields: ["x, y", #"say "hi""#, "two\nlines"]),
                CSVReader.Record(line: 5, fields: ["", "", ""]),
                CSVReader.Record(line: 6, fields: ["last", "", "end"]),
            ]
        )
    }

    @Test func malformedFilesNameTheirLine() {
        #expect(throws: CSVReader.Malformed(line: 2, reason: "a quote inside an unquoted field")) {
            try CSVReader.records(Array("a\nb\"c\n".utf8))
        }
        #expect(throws: CSVReader.Malformed(line: 1, reason: "text after a closing quote")) {
            try CSVReader.records(Array("\"a\"b\n".utf8))
        }
        #expect(throws: CSVReader.Malformed(line: 3, reason: "a quoted field is not closed")) {
            try CSVReader.records(Array("a\nb\n\"c\nd".utf8))
        }
        #expect(throws: CSVReader.Malformed(line: 1, reason: "not UTF-8 text")) {
            try CSVReader.records([0x61, 0xFF, 0x0A])
        }
    }

    @Test func linesWrittenForExportReadBack() throws {
        let fields = ["plain", "with, comma", #"with "quote""#, "two\nlines", " padded ", ""]
        let records = try CSVReader.records(Array((CSVReader.line(fields) + "\n").utf8))
        #expect(records.map(\.fields) == [fields])
    }
}
