/// Rows in `COPY`'s text format, gathered into chunks for ``PostgresConnection/copyIn(_:chunks:)``:
/// tab-separated fields, `\N` for NULL, backslash escapes for tab, newline, carriage return and
/// backslash.
public struct PostgresCopyText: Sendable {
    /// The chunks written so far (each about `chunkSize` bytes); the last may be partial.
    public private(set) var chunks: [[UInt8]] = [[]]
    private let chunkSize: Int

    public init(chunkSize: Int = 256 * 1024) {
        self.chunkSize = chunkSize
        chunks[0].reserveCapacity(chunkSize)
    }

    /// Appends one row.
    public mutating func append(_ fields: [String?]) {
        if chunks[chunks.count - 1].count >= chunkSize {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(chunkSize)
        }
        var row: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { row.append(0x09) }
            guard let field else {
                row.append(contentsOf: [0x5C, 0x4E])
                continue
            }
            for byte in field.utf8 {
                switch byte {
                case 0x5C: row.append(contentsOf: [0x5C, 0x5C])
                case 0x09: row.append(contentsOf: [0x5C, 0x74])
                case 0x0A: row.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: row.append(contentsOf: [0x5C, 0x72])
                default: row.append(byte)
                }
            }
        }
        row.append(0x0A)
        chunks[chunks.count - 1].append(contentsOf: row)
    }

    /// An array value in PostgreSQL's text form, for a `text[]` column.
    public static func array(_ values: [String]) -> String {
        PostgresArrayText.format(values)
    }
}
