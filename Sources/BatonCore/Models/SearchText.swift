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

    /// What a folded name is found by (a folded text's only white space is single spaces):
    /// every run of three characters, spaces included (the most selective grams a query of
    /// three or more characters can use); every character outside ASCII and every pair with
    /// one, since in Chinese, Japanese and Korean one or two characters make a word; and each
    /// word's first letter and first two letters marked with `^`, which one- and two-letter
    /// Latin queries look for. Sorted and unique.
    public static func grams(_ folded: String) -> [String] {
        let characters = Array(folded)
        var grams: [String] = []
        grams.reserveCapacity(characters.count * 2)
        for (index, character) in characters.enumerated() {
            let next = index + 1 < characters.count ? characters[index + 1] : nil
            if index + 2 < characters.count { grams.append(String(characters[index...index + 2])) }
            guard character != " " else { continue }
            if !character.isASCII { grams.append(String(character)) }
            if let next, next != " ", !character.isASCII || !next.isASCII { grams.append(String(character) + String(next)) }
            if index == 0 || characters[index - 1] == " " {
                grams.append("^" + String(character))
                if let next, next != " " { grams.append("^" + String(character) + String(next)) }
            }
        }
        grams.sort()
        var unique: [String] = []
        unique.reserveCapacity(grams.count)
        for gram in grams where gram != unique.last { unique.append(gram) }
        return unique
    }

    /// The grams a folded query needs: of three or more characters, its runs of three; of
    /// two or one with a character outside ASCII, itself (found anywhere); of two or one ASCII
    /// characters, a word starting with it (one or two Latin letters are in most names, and
    /// no use to search by anywhere).
    public static func queryGrams(_ folded: String) -> [String] {
        let characters = Array(folded)
        guard characters.count >= 3 else {
            return characters.allSatisfy(\.isASCII) ? ["^" + folded] : [folded]
        }
        return Set((0..<(characters.count - 2)).map { String(characters[$0...$0 + 2]) }).sorted()
    }

    /// A folded query as a `LIKE` pattern that matches it anywhere, its wildcards escaped.
    public static func containsPattern(_ folded: String) -> String {
        var pattern = "%"
        for character in folded {
            if character == "%" || character == "_" || character == "\\" { pattern.append("\\") }
            pattern.append(character)
        }
        return pattern + "%"
    }
}
