import Foundation

/// Text with `{{field}}` placeholders filled from an event's data: plain substitution of a
/// dotted path, no logic. A string goes in as it is, a number or boolean as in JSON, a missing
/// field or null as nothing, an array or object as compact JSON.
public enum RuleTemplate {
    /// A dotted path: 1 to 5 names of letters, digits and `_`, at most 200 characters.
    static func isPath(_ text: String) -> Bool {
        guard TextRules.hasLength(text, in: 1...200) else { return false }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...5).contains(parts.count) else { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.count <= 64
                && part.utf8.allSatisfy { byte in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                }
        }
    }

    /// The fields a template names; 422 on `field` for an unclosed or malformed placeholder.
    static func fields(of template: String, field: String) throws(BatonError) -> [String] {
        var fields: [String] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw BatonError(.ruleViolation, "\(field) opens a {{ placeholder it does not close", details: ["field": field])
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingSpaces
            guard isPath(name) else {
                throw BatonError(.ruleViolation, "{{\(name)}} in \(field) does not name a field", details: ["field": field])
            }
            fields.append(name)
            rest = rest[close.upperBound...]
        }
        return fields
    }

    /// The template with each placeholder replaced from `data`, cut to `limit` code points.
    static func render(_ template: String, with data: JSONValue, limit: Int) -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            output += rest[..<open.lowerBound]
            output += (data.value(at: rest[open.upperBound..<close.lowerBound].trimmingSpaces) ?? .null).templateText
            rest = rest[close.upperBound...]
        }
        output += rest
        return String(String.UnicodeScalarView(output.unicodeScalars.prefix(limit)))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
