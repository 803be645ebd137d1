/// The shape rules shared by records: titles and names, amounts and currencies, probabilities,
/// notes (opportunities, campaigns, products, orders).
enum RecordRules {
    static func check(title: String, field: String = "title", max: Int = 300) throws(BatonError) {
        guard TextRules.hasLength(title, in: 1...max) else { throw .invalidArgument("\(field) must be 1 to \(max) characters", field: field) }
        guard !SearchText.fold(title).isEmpty else { throw BatonError(.ruleViolation, "\(field) must not be only spaces", details: ["field": field]) }
    }

    static func check(amountMinor: Int, currency: String, amountField: String = "amount_minor") throws(BatonError) {
        guard amountMinor >= 0 else { throw .invalidArgument("\(amountField) must not be negative", field: amountField) }
        try check(currency: currency)
    }

    /// An ISO 4217 code: three capital letters.
    static func check(currency: String) throws(BatonError) {
        let bytes = Array(currency.utf8)
        guard bytes.count == 3, bytes.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
            throw .invalidArgument("currency must be an ISO 4217 code such as EUR", field: "currency")
        }
    }

    static func check(probability: Int?) throws(BatonError) {
        guard let probability else { return }
        guard (0...100).contains(probability) else { throw .invalidArgument("probability must be 0 to 100", field: "probability") }
    }

    static func check(note: String?, field: String = "note") throws(BatonError) {
        guard let note else { return }
        guard TextRules.length(note) <= 2_000 else { throw .invalidArgument("\(field) must be at most 2000 characters", field: field) }
    }
}
