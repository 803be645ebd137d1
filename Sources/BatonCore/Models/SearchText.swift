import Foundation

/// Text folded for search and duplicate detection: lower case, without accents, narrow forms
/// (full-width Latin letters and digits as ASCII), runs of white space as one space, trimmed.
/// Folded in Swift rather than in SQL because the database's locale (C in the embedded
/// cluster) does not fold anything beyond ASCII.
public enum SearchText {
    public static func fold(_ text: String) -> String {
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

    /// What a folded name is found by (a folded text's only white space is single spaces),
    /// counted in code points as PostgreSQL counts characters: every run of three of the name
    /// with a space in front (so ` ab` marks a word starting with `ab`, and a query of three or
    /// more characters finds its runs of three); every character outside ASCII and every pair
    /// with one, since in Chinese, Japanese and Korean one or two characters make a word.
    /// Sorted and unique. `baton_search_grams(text)` (0012_search_grams.sql) computes the same
    /// in SQL; a test holds the two together.
    public static func grams(_ folded: String) -> [String] {
        let scalars = Array(folded.unicodeScalars)
        var grams: [String] = []
        grams.reserveCapacity(scalars.count * 2)
        var padded: [Unicode.Scalar] = [" "]
        padded.append(contentsOf: scalars)
        if padded.count >= 3 {
            for index in 0...(padded.count - 3) { grams.append(string(padded[index..<index + 3])) }
        }
        for (index, scalar) in scalars.enumerated() where scalar != " " {
            if !scalar.isASCII { grams.append(String(scalar)) }
            if index + 1 < scalars.count {
                let next = scalars[index + 1]
                if next != " ", !scalar.isASCII || !next.isASCII { grams.append(string(scalars[index...index + 1])) }
            }
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
