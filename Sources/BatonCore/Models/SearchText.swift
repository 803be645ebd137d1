import Foundation

/// Text folded for search and duplicate detection: lower case, without accents, narrow forms
/// (full-width Latin letters and digits as ASCII), runs of white space as one space, trimmed.
/// Folded in Swift rather than in SQL because the database's locale (C in the embedded
/// cluster) does not fold anything beyond ASCII.
public enum SearchText {
    public static func fold(_ text: String) -> String {
        if let ascii = foldASCII(text) { return ascii }
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        var result = ""
        result.reserveCapacity(folded.utf8.count)
        var space = false
        for scalar in folded.unicodeScalars {
            let isSpace = scalar.isASCII ? scalar == " " || (0x09...0x0D).contains(scalar.value) : scalar.properties.isWhitespace
            if isSpace {
                space = !result.isEmpty
                continue
            }
            if space {
                result.unicodeScalars.append(" ")
                space = false
            }
            result.unicodeScalars.append(scalar)
        }
        return result
    }

    /// `fold` of a text that is all ASCII, where folding is lower case and spaces alone (the
    /// common case, and Foundation's folding is far slower); `nil` for any other text.
    private static func foldASCII(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var space = false
        for byte in text.utf8 {
            guard byte < 0x80 else { return nil }
            if byte == 0x20 || (0x09...0x0D).contains(byte) {
                space = !bytes.isEmpty
                continue
            }
            if space {
                bytes.append(0x20)
                space = false
            }
            bytes.append((0x41...0x5A).contains(byte) ? byte + 0x20 : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What a folded name is found by (a folded text's only white space is single spaces),
    /// counted in code points as PostgreSQL counts characters: every run of three of the name
    /// with a space in front (so ` ab` marks a word starting with `ab`, and a query of three or
    /// more characters finds its runs of three); every character outside ASCII and every pair
    /// with one, since in Chinese, Japanese and Korean one or two characters make a word.
    /// Sorted and unique. `baton_search_grams(text)` (0012_search_grams.sql) computes the same
    /// in SQL; a test holds the two together.
    public static func grams(_ folded: String) -> [String] {
        let scalars = folded.unicodeScalars
        var bounds = Array(scalars.indices)
        bounds.append(scalars.endIndex)
        let count = bounds.count - 1
        // Each gram is a slice of the folded text, copied as UTF-8.
        func piece(_ from: Int, _ to: Int) -> String { String(scalars[bounds[from]..<bounds[to]]) }
        var grams: [String] = []
        grams.reserveCapacity(count * 2)
        if count >= 2 { grams.append(" " + piece(0, 2)) }
        if count >= 3 {
            for index in 0...(count - 3) { grams.append(piece(index, index + 3)) }
        }
        var index = 0
        var previous: Unicode.Scalar?
        for scalar in scalars {
            if let previous, previous != " ", scalar != " ", !previous.isASCII || !scalar.isASCII { grams.append(piece(index - 1, index + 1)) }
            if !scalar.isASCII { grams.append(piece(index, index + 1)) }
            previous = scalar
            index += 1
        }
        grams.sort()
        var unique: [String] = []
        unique.reserveCapacity(grams.count)
        for gram in grams where gram != unique.last { unique.append(gram) }
        return unique
    }

    /// How a folded query is looked for: the grams every match has and the `LIKE` pattern a
    /// match of `" " + search_name` fits.
    public struct Query: Sendable, Equatable {
        public var grams: [String]
        public var pattern: String
    }

    /// A folded query of three or more characters is found anywhere, through its runs of three;
    /// one or two with a character outside ASCII, anywhere, through itself; two ASCII
    /// characters, at a word's start, through ` ab`; one ASCII character, at a word's start,
    /// without grams (one or two Latin letters are in most names, and of no use anywhere).
    public static func query(_ folded: String) -> Query {
        let scalars = Array(folded.unicodeScalars)
        let contains = "%" + escaped(folded) + "%"
        if scalars.count >= 3 {
            let grams = Set((0...(scalars.count - 3)).map { string(scalars[$0..<$0 + 3]) }).sorted()
            return Query(grams: grams, pattern: contains)
        }
        if !scalars.allSatisfy(\.isASCII) { return Query(grams: [folded], pattern: contains) }
        return Query(grams: scalars.count == 2 ? [" " + folded] : [], pattern: "% " + escaped(folded) + "%")
    }

    /// A folded text with `LIKE`'s wildcards and escape escaped.
    private static func escaped(_ folded: String) -> String {
        var pattern = ""
        for character in folded {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern
    }

    private static func string<Scalars: Sequence<Unicode.Scalar>>(_ scalars: Scalars) -> String {
        var text = ""
        text.unicodeScalars.append(contentsOf: scalars)
        return text
    }
}
