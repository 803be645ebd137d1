import Foundation
public import Logging
import PostgresClient

/// Human-readable lines on standard error: `time level label: key=value … [source] message`.
///
/// Unlike swift-log's `StreamLogHandler`, which re-renders all metadata whenever one key is
/// set, this renders only when a line is written: every request sets its request and token ids,
/// and most requests log nothing.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        var line = "\(PostgresTimestamp.formatRFC3339(Date())) \(event.level) \(label):"
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        line += " [\(event.source)] \(event.message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
