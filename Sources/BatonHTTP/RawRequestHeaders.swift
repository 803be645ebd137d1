import HTTPTypes

/// Header values as they arrived. The OpenAPI runtime percent-decodes header parameters (`%41`
/// becomes `A`, an invalid escape is mangled), which is right for URI-style values but not for
/// an opaque token such as `Idempotency-Key`: a key is compared byte for byte as sent.
enum RawRequestHeaders {
    @TaskLocal static var idempotencyKey: String?

    static let idempotencyKeyName = HTTPField.Name("Idempotency-Key")!

    /// The key as the client sent it, for an operation whose generated input has `parsed`.
    static func idempotencyKey(parsed: String?) -> String? {
        parsed.map { idempotencyKey ?? $0 }
    }
}
