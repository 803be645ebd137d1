import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Integer path and query parameters written as integral decimals, settled before the generated
/// handlers decode them.
///
/// JSON Schema counts `1.0`, `20.00` and `1e2` as integers; the generated decoders accept only
/// digits and would refuse them with 400. The gate rewrites such a value of a parameter the
/// document declares `integer` to its digits (`member_id=1.0` reads as `member_id=1`). A value
/// with a fraction (`1.5`) is left as sent and refused by the decoder as before; other
/// parameters are never touched.
struct IntegerParameterGate: Sendable {
    private let names: Set<String>

    /// The gate of one operation, as the transport registers it (`{id}` or `:id` templates).
    init(method: HTTPRequest.Method, path: String) {
        names = Self.declaredIntegers[RequestBodyGate.operation(method, path)] ?? []
    }

    /// The request and its path parameters with every integral decimal of an integer parameter
    /// written as digits.
    func settle(_ request: HTTPRequest, _ metadata: ServerRequestMetadata) -> (HTTPRequest, ServerRequestMetadata) {
        guard !names.isEmpty else { return (request, metadata) }
        var metadata = metadata
        for name in names {
            if let value = metadata.pathParameters[name], let digits = Self.digits(ofIntegral: value) {
                metadata.pathParameters[name] = Substring(digits)
            }
        }
        var request = request
        if let path = request.path, let mark = path.firstIndex(of: "?") {
            let query = path[path.index(after: mark)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
                guard let equals = pair.firstIndex(of: "="), names.contains(String(pair[..<equals])),
                    let digits = Self.digits(ofIntegral: pair[pair.index(after: equals)...])
                else { return String(pair) }
                return "\(pair[..<equals])=\(digits)"
            }
            request.path = "\(path[..<mark])?\(query.joined(separator: "&"))"
        }
        return (request, metadata)
    }

    /// The digits of `text` when it is an integral number written with a fraction or an
    /// exponent (`-3.0`, `1e2`, `2.50E1`), percent-encoded or not; `nil` otherwise, plain
    /// digits included (they need no rewriting). Results longer than 20 digits are not made.
    static func digits(ofIntegral text: Substring) -> String? {
        let text = text.removingPercentEncoding ?? String(text)
        guard text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        var rest = Substring(text)
        var sign = ""
        if rest.first == "-" || rest.first == "+" {
            if rest.first == "-" { sign = "-" }
            rest = rest.dropFirst()
        }
        var exponent = 0
        if let mark = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(rest[rest.index(after: mark)...]), abs(value) <= 20 else { return nil }
            exponent = value
            rest = rest[..<mark]
        }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), (whole + fraction).allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        var mantissa = String(whole + fraction)
        exponent -= fraction.count
        if exponent < 0 {
            let dropped = mantissa.suffix(-exponent)
            guard dropped.count == -exponent, dropped.allSatisfy({ $0 == "0" }) else { return nil }
            mantissa.removeLast(-exponent)
        } else {
            mantissa += String(repeating: "0", count: exponent)
        }
        let trimmed = mantissa.drop(while: { $0 == "0" })
        guard trimmed.count <= 20 else { return nil }
        return trimmed.isEmpty ? "0" : sign + trimmed
    }

    /// The integer path and query parameters each operation declares, by `METHOD /path`. Keep
    /// it in step with openapi.yaml: `IntegerParameterGateTests` compares it with the document.
    static let declaredIntegers: [String: Set<String>] = [
        "DELETE /v1/cases/{id}": ["id"],
        "DELETE /v1/customers/{id}": ["id"],
        "DELETE /v1/opportunities/{id}": ["id"],
        "DELETE /v1/webhooks/{id}": ["id"],
        "GET /v1/campaigns": ["limit"],
        "GET /v1/campaigns/{id}": ["id"],
        "GET /v1/campaigns/{id}/results": ["id"],
        "GET /v1/cases": ["customer_id", "limit"],
        "GET /v1/cases/{id}": ["id"],
        "GET /v1/cases/{id}/transitions": ["id", "limit"],
        "GET /v1/customers": ["limit", "owner_id"],
        "GET /v1/customers/{id}": ["id"],
        "GET /v1/customers/{id}/contacts": ["id"],
        "GET /v1/customers/{id}/interactions": ["id", "limit"],
        "GET /v1/customers/{id}/timeline": ["id", "limit"],
        "GET /v1/events": ["after", "limit", "wait_seconds"],
        "GET /v1/events/stream": ["after"],
        "GET /v1/feedback": ["case_id", "customer_id", "limit"],
        "GET /v1/meetings": ["customer_id", "limit", "member_id"],
        "GET /v1/meetings/{id}": ["id"],
        "GET /v1/members": ["limit"],
        "GET /v1/members/{id}/calendar.ics": ["id"],
        "GET /v1/members/{id}/development": ["id"],
        "GET /v1/opportunities": ["campaign_id", "customer_id", "limit", "owner_id"],
        "GET /v1/opportunities/{id}": ["id"],
        "GET /v1/opportunities/{id}/transitions": ["id"],
        "GET /v1/orders": ["customer_id", "limit"],
        "GET /v1/orders/{id}": ["id"],
        "GET /v1/pipeline": ["owner_id", "window_days"],
        "GET /v1/products": ["limit"],
        "GET /v1/products/{id}": ["id"],
        "GET /v1/regions": ["limit"],
        "GET /v1/reports/plan": ["member"],
        "GET /v1/rules": ["limit"],
        "GET /v1/rules/{id}": ["id"],
        "GET /v1/sla/breaches": ["limit"],
        "GET /v1/stock": ["limit"],
        "GET /v1/stock/{region}/{sku}/movements": ["limit"],
        "GET /v1/targets": ["limit", "member"],
        "GET /v1/targets/{id}": ["id"],
        "GET /v1/tasks": ["limit"],
        "GET /v1/tasks/{id}": ["id"],
        "GET /v1/teams": ["limit"],
        "GET /v1/teams/{team}/stats": ["window_minutes"],
        "GET /v1/training/programmes": ["limit"],
        "GET /v1/training/programmes/{id}": ["id"],
        "GET /v1/training/sessions/{id}": ["id"],
        "GET /v1/webhooks": ["limit"],
        "GET /v1/webhooks/{id}": ["id"],
        "GET /v1/webhooks/{id}/deliveries": ["id", "limit"],
        "PATCH /v1/campaigns/{id}": ["id"],
        "PATCH /v1/cases/{id}": ["id"],
        "PATCH /v1/customers/{id}": ["id"],
        "PATCH /v1/customers/{id}/contacts/{contact_id}": ["contact_id", "id"],
        "PATCH /v1/meetings/{id}": ["id"],
        "PATCH /v1/opportunities/{id}": ["id"],
        "PATCH /v1/orders/{id}": ["id"],
        "PATCH /v1/products/{id}": ["id"],
        "PATCH /v1/rules/{id}": ["id"],
        "PATCH /v1/targets/{id}": ["id"],
        "PATCH /v1/training/sessions/{id}": ["id"],
        "PATCH /v1/webhooks/{id}": ["id"],
        "POST /v1/cases/{id}/close": ["id"],
        "POST /v1/cases/{id}/open": ["id"],
        "POST /v1/cases/{id}/pending": ["id"],
        "POST /v1/cases/{id}/reopen": ["id"],
        "POST /v1/cases/{id}/resolve": ["id"],
        "POST /v1/customers/{id}/contacts": ["id"],
        "POST /v1/customers/{id}/interactions": ["id"],
        "POST /v1/meetings/{id}/cancel": ["id"],
        "POST /v1/members/{id}/deactivate": ["id"],
        "POST /v1/members/{id}/memberships": ["id"],
        "POST /v1/opportunities/{id}/lose": ["id"],
        "POST /v1/opportunities/{id}/reopen": ["id"],
        "POST /v1/opportunities/{id}/stage": ["id"],
        "POST /v1/opportunities/{id}/win": ["id"],
        "POST /v1/orders/{id}/cancel": ["id"],
        "POST /v1/orders/{id}/confirm": ["id"],
        "POST /v1/orders/{id}/deliver": ["id"],
        "POST /v1/orders/{id}/hold": ["id"],
        "POST /v1/orders/{id}/release": ["id"],
        "POST /v1/orders/{id}/ship": ["id"],
        "POST /v1/rules/{id}/test": ["id"],
        "POST /v1/sla/policies/{id}/disable": ["id"],
        "POST /v1/sla/policies/{id}/enable": ["id"],
        "POST /v1/tasks/{id}/cancel": ["id"],
        "POST /v1/tasks/{id}/complete": ["id"],
        "POST /v1/tasks/{id}/fail": ["id"],
        "POST /v1/tasks/{id}/handoff": ["id"],
        "POST /v1/tasks/{id}/heartbeat": ["id"],
        "POST /v1/tasks/{id}/hold": ["id"],
        "POST /v1/tasks/{id}/release": ["id"],
        "POST /v1/tasks/{id}/resume": ["id"],
        "POST /v1/tasks/{id}/retry": ["id"],
        "POST /v1/tokens/{id}/revoke": ["id"],
        "POST /v1/training/sessions/{id}/cancel": ["id"],
        "POST /v1/webhooks/{id}/redeliver/{event_id}": ["event_id", "id"],
        "PUT /v1/members/{id}/competencies": ["id"],
        "PUT /v1/training/sessions/{id}/attendance": ["id"],
    ]
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
