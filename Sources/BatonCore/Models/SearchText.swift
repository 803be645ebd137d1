import Foundation

/// Text folded for search and duplicate detection: lower case, without accents, narrow forms
/// (full-width Latin letters and digits as ASCII), runs of white space as one space, trimmed.
/// Folded in Swift rather than in SQL because the database's locale (C in the embedded
/// cluster) does not fold anything beyond ASCII.
public enum SearchText {
    public static func fold(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        return folded.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// What a folded name is found by: each character and each pair of neighbouring characters,
    /// spaces aside.
    public static func grams(_ folded: String) -> [String] {
        let characters = Array(folded)
        var grams: Set<String> = []
        for (index, character) in characters.enumerated() where !character.isWhitespace {
            grams.insert(String(character))
            if index + 1 < characters.count, !characters[index + 1].isWhitespace {
                grams.insert(String(characters[index]) + String(characters[index + 1]))
            }
        }
        return grams.sorted()
    }

    /// The grams a folded query needs: its pairs (spaces aside), or its one character.
    public static func queryGrams(_ folded: String) -> [String] {
        let characters = Array(folded)
        guard characters.count > 1 else { return characters.map { String($0) } }
        var grams: Set<String> = []
        for index in 0..<(characters.count - 1) where !characters[index].isWhitespace && !characters[index + 1].isWhitespace {
            grams.insert(String(characters[index]) + String(characters[index + 1]))
        }
        if grams.isEmpty { grams = Set(characters.filter { !$0.isWhitespace }.map { String($0) }) }
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
