/// The rules for text that the OpenAPI document states as `minLength`, `maxLength` and
/// `pattern`. Lengths count Unicode code points, as JSON Schema and PostgreSQL's `length()` do
/// (a `String`'s `count` counts grapheme clusters, which would let a name the database refuses
/// through). Patterns are matched by hand, so that `$` cannot match before a final newline.
public enum TextRules {
    /// The length of `text` as JSON Schema's `maxLength` and PostgreSQL's `length()` count it.
    public static func length(_ text: String) -> Int {
        text.unicodeScalars.count
    }

    /// Whether `text` has `range` code points.
    public static func hasLength(_ text: String, in range: ClosedRange<Int>) -> Bool {
        range.contains(length(text))
    }

    /// `^[a-z][a-z0-9]{1,15}$`: a region code such as `emea`.
    public static func isRegionCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (2...16).contains(bytes.count), isLowerLetter(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { isLowerLetter($0) || isDigit($0) }
    }

    /// `^[a-z][a-z0-9-]{1,62}$`: a team slug such as `logistics-emea`.
    public static func isTeamSlug(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (2...63).contains(bytes.count), isLowerLetter(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { isLowerLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// `^[^@\s]+@[^@\s]+$` with `\s` spelled out (ECMAScript's and Unicode's white space), at
    /// most 320 code points.
    public static func isEmail(_ text: String) -> Bool {
        guard length(text) <= 320 else { return false }
        let parts = text.unicodeScalars.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return !text.unicodeScalars.contains(where: isSpace)
    }

    /// White space as the document's email pattern spells it out:
    /// `\u0009-\u000d \u0085 \u00a0 \u1680 \u2000-\u200a \u2028 \u2029 \u202f \u205f \u3000 \ufeff`.
    public static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }

    /// `^[0-9]{1,18}$`: a non-negative integer cursor that fits in 64 bits, or `nil`.
    public static func integerCursor(_ text: String) -> Int? {
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy(isDigit) else { return nil }
        return Int(text)
    }

    private static func isLowerLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
