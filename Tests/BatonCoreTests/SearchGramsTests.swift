import BatonCore
import BatonTestSupport
import Foundation
import PostgresClient
import Testing

/// The grams Baton writes for a customer's name (Swift, on every write) and the ones the
/// migration that rewrote the stored grams computes (SQL) are the same, in every script; and a
/// query's grams are among the grams of every name it should find.
@Suite(.requiresDatabase) struct SearchGramsTests {
    static let names = [
        "Acme Corp", "Müller & Söhne", "Société Générale", "ＦＵＪＩ Film", "Café 50% Off_Sale", "华为技术有限公司", "株式会社トヨタ自動車",
        "삼성전자", "Tata 商事 Pvt", "a", "ab", "x y", "华", "华为", "a华", "Ωmega Ltd", "Rocket 🚀 Labs", "Family 👨‍👩‍👧 Store",
    ]

    @Test func swiftAndTheMigrationComputeTheSameGrams() async throws {
        try await TestDatabase.withMigratedDatabase { pool, _ in
            for name in Self.names {
                let folded = SearchText.fold(name)
                let row = try #require(try await pool.query("SELECT baton_search_grams(\(folded)) AS grams").first)
                let stored = try row.decode([String].self, "grams")
                #expect(Set(stored) == Set(SearchText.grams(folded)), "\(name)")
                #expect(stored.count == SearchText.grams(folded).count, "\(name): unique")
            }
        }
    }

    @Test func everyQueryFindsTheNamesItShouldThroughItsGrams() {
        let cases: [(name: String, query: String)] = [
            ("Acme Corp", "me co"), ("Acme Corp", "co"), ("Acme Corp", "c"), ("Müller & Söhne", "so"), ("华为技术有限公司", "华为"),
            ("华为技术有限公司", "公"), ("株式会社トヨタ自動車", "トヨタ"), ("Tata 商事 Pvt", "a 商"), ("Rocket 🚀 Labs", "🚀"),
        ]
        for (name, query) in cases {
            let grams = Set(SearchText.grams(SearchText.fold(name)))
            let search = SearchText.query(SearchText.fold(query))
            #expect(search.grams.allSatisfy(grams.contains), "\(query) in \(name)")
        }
        #expect(SearchText.query("co").grams == [" co"], "two Latin letters: a word's start")
        #expect(SearchText.query("c").grams.isEmpty)
        #expect(SearchText.query("c").pattern == "% c%")
        #expect(SearchText.query("50%").pattern == "%50\\%%")
    }
}
