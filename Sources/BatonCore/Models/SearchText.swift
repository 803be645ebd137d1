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
    /// every pair of neighbouring characters; every character outside ASCII, since in Chinese,
    /// Japanese and Korean one character can be a word; and each word's first character
    /// marked with `^`, which a one-letter Latin query looks for. Sorted and unique.
    public static func grams(_ folded: String) -> [String] {
        let characters = Array(folded)
        var grams: [String] = []
        grams.reserveCapacity(characters.count * 2)
        for (index, character) in characters.enumerated() where character != " " {
            if !character.isASCII { grams.append(String(character)) }
            if index == 0 || characters[index - 1] == " " { grams.append("^" + String(character)) }
            if index + 1 < characters.count, characters[index + 1] != " " {
                grams.append(String(character) + String(characters[index + 1]))
            }
        }
        grams.sort()
        var unique: [String] = []
        unique.reserveCapacity(grams.count)
        for gram in grams where gram != unique.last { unique.append(gram) }
        return unique
    }

    /// The grams a folded query needs: its pairs (spaces aside); a lone character outside
    /// ASCII itself, anywhere in a name; a lone ASCII character, a word starting with it (a
    /// single Latin letter is in most names, and no use to search by).
    public static func queryGrams(_ folded: String) -> [String] {
        let characters = Array(folded)
        var grams: Set<String> = []
        for index in 0..<max(characters.count - 1, 0) where characters[index] != " " && characters[index + 1] != " " {
            grams.insert(String(characters[index]) + String(characters[index + 1]))
        }
        if grams.isEmpty {
            for character in characters where character != " " {
                grams.insert(character.isASCII ? "^" + String(character) : String(character))
            }
        }
        return grams.sorted()
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
