import BatonCore
import HTTPTypes
import OpenAPIRuntime

/// What the generated handlers get as the request body, settled before they decode it.
///
/// - An empty body is no body: an operation whose body is optional (cancel) then runs without
///   one instead of failing to decode zero bytes as JSON.
/// - `null` is not a value of any member a request body declares: the document makes none
///   nullable, and the generated decoders would otherwise read an explicit `null` as "absent".
///   It is refused with 400 naming the member. Members the document does not declare are
///   ignored, whatever their value; inside free-form JSON (`payload`, `result`, `condition`,
///   `data`) any JSON is data, and `result` itself may be any JSON.
struct RequestBodyGate: Sendable {
    private let declared: Set<[UInt8]>

    /// The gate of one operation, as the transport registers it (`{id}` or `:id` templates).
    init(method: HTTPRequest.Method, path: String) {
        declared = Set((Self.declaredMembers[Self.operation(method, path)] ?? []).map { Array($0.utf8) })
    }

    /// `METHOD /path/{param}`, the key of an operation in the gates' tables, from a route as the
    /// transport registers it (`{id}` or `:id` templates).
    static func operation(_ method: HTTPRequest.Method, _ path: String) -> String {
        let template = path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
        return "\(method.rawValue) \(template)"
    }

    func body(for request: HTTPRequest, _ body: HTTPBody?) async throws -> HTTPBody? {
        // BodyLimitMiddleware has already buffered (and bounded) the bodies of these methods;
        // other methods' operations take no body, and theirs is not read.
        guard let body, [.post, .put, .patch].contains(request.method) else { return body }
        let bytes = try await [UInt8](collecting: body, upTo: .max)
        if bytes.isEmpty { return nil }
        if request.headerFields[.contentType]?.lowercased().contains("json") == true, let field = firstNull(in: bytes) {
            throw BatonError.invalidArgument("\(field) must not be null; leave it out instead", field: field)
        }
        return HTTPBody(bytes)
    }

    /// Members whose value is free-form JSON, where `null` is data (a rule's `condition` may
    /// test for null, a sample event's `data` may hold it).
    private static let freeForm: Set<[UInt8]> = [
        Array("payload".utf8), Array("result".utf8), Array("condition".utf8), Array("data".utf8),
    ]
    /// Members that may be `null` themselves.
    private static let anyValue: Set<[UInt8]> = [Array("result".utf8)]
    /// The members each operation's request body declares, at any depth, by `METHOD /path`.
    /// Keep it in step with openapi.yaml: `RequestBodyGateTests` compares it with the document,
    /// and scripts/schemathesis.sh fails on a drift (ST201, a null accepted, or ST202, an
    /// undeclared member's null refused).
    static let declaredMembers: [String: Set<String>] = [
        "POST /v1/campaigns": ["budget_minor", "channel", "currency", "ends_on", "name", "owner_id", "region", "starts_on"],
        "PATCH /v1/campaigns/{id}": ["budget_minor", "channel", "ends_on", "name", "owner_id", "starts_on"],
        "POST /v1/cases": ["channel", "contact_id", "customer_id", "description", "kind", "priority", "subject", "team"],
        "PATCH /v1/cases/{id}": ["channel", "contact_id", "description", "priority", "subject"],
        "POST /v1/cases/{id}/close": ["note"],
        "POST /v1/cases/{id}/open": ["note"],
        "POST /v1/cases/{id}/pending": ["note", "waiting_on"],
        "POST /v1/cases/{id}/reopen": ["reason"],
        "POST /v1/cases/{id}/resolve": ["resolution"],
        "POST /v1/customers": [
            "campaign_id", "contacts", "email", "force", "legal_name", "name", "notes", "owner_id", "phone", "preferred_channel", "region", "role",
            "segment", "status", "tags", "website",
        ],
        "PATCH /v1/customers/{id}": ["legal_name", "name", "notes", "owner_id", "segment", "status", "tags", "website"],
        "POST /v1/customers/{id}/contacts": ["email", "name", "phone", "preferred_channel", "role"],
        "PATCH /v1/customers/{id}/contacts/{contact_id}": ["email", "name", "phone", "preferred_channel", "role"],
        "POST /v1/customers/{id}/interactions": ["contact_id", "follow_up_on", "kind", "member_id", "occurred_at", "summary"],
        "POST /v1/feedback": ["case_id", "comment", "customer_id", "order_id", "score"],
        "POST /v1/meetings": [
            "agenda", "allow_conflict", "contact_ids", "customer_id", "end", "location", "member_ids", "opportunity_id", "organiser_id", "region",
            "start", "time_zone", "title",
        ],
        "PATCH /v1/meetings/{id}": [
            "agenda", "allow_conflict", "contact_ids", "end", "location", "member_ids", "notes", "outcome", "start", "time_zone", "title",
        ],
        "PUT /v1/market/{region}/{period}": ["currency", "share_percent", "size_minor", "source"],
        "PUT /v1/reports/settings/{region}": ["count_orders_at", "currency"],
        "POST /v1/members": ["email", "name"],
        "POST /v1/training/programmes": [
            "audience", "cadence", "competencies", "departments", "duration_minutes", "every", "first_session", "goal", "horizon_months",
            "member_ids", "owner_id",
            "region", "teams", "time_zone", "title", "unit",
        ],
        "PATCH /v1/training/sessions/{id}": ["end", "start"],
        "PUT /v1/training/sessions/{id}/attendance": ["attendance", "member_id", "status"],
        "PUT /v1/members/{id}/competencies": ["competency", "level", "levels"],
        "POST /v1/members/{id}/memberships": ["role", "team"],
        "POST /v1/opportunities": [
            "amount_minor", "campaign_id", "currency", "customer_id", "expected_close", "owner_id", "probability", "stage", "title",
        ],
        "PATCH /v1/opportunities/{id}": ["amount_minor", "currency", "expected_close", "owner_id", "probability", "title"],
        "POST /v1/opportunities/{id}/lose": ["note", "reason"],
        "POST /v1/opportunities/{id}/reopen": ["note", "stage"],
        "POST /v1/opportunities/{id}/stage": ["note", "stage"],
        "POST /v1/opportunities/{id}/win": ["note"],
        "POST /v1/targets": [
            "currency", "member_id", "metric", "notes", "owner_kind", "period", "product_category", "region", "team", "value",
        ],
        "PATCH /v1/targets/{id}": ["next_action", "next_action_due", "next_action_owner_id", "notes", "value", "variance_note"],
        "POST /v1/orders": [
            "credits", "currency", "customer_id", "discount_percent", "lines", "member_id", "notes", "opportunity_id", "percent", "quantity",
            "region", "requested_delivery_on", "sku", "unit_price_minor",
        ],
        "PATCH /v1/orders/{id}": [
            "credits", "discount_percent", "lines", "member_id", "notes", "percent", "quantity", "requested_delivery_on", "sku", "unit_price_minor",
        ],
        "POST /v1/orders/{id}/cancel": ["reason"],
        "POST /v1/orders/{id}/confirm": ["allow_backorder"],
        "POST /v1/orders/{id}/hold": ["reason"],
        "POST /v1/products": ["category", "currency", "name", "sku", "unit_price_minor"],
        "PATCH /v1/products/{id}": ["active", "category", "currency", "name", "unit_price_minor"],
        "POST /v1/regions": ["code", "name", "time_zone"],
        "POST /v1/rules": [
            "action", "active", "condition", "department", "id", "kind", "name", "on", "payload", "priority", "subject", "team", "title", "type",
        ],
        "PATCH /v1/rules/{id}": [
            "action", "active", "condition", "department", "id", "kind", "name", "on", "payload", "priority", "subject", "team", "title", "type",
        ],
        "POST /v1/rules/{id}/test": ["data", "entity_id", "entity_type", "region", "team", "type"],
        "PUT /v1/regions/{code}/pipeline": ["lost_reasons", "name", "probability", "reason", "stage", "stages"],
        "POST /v1/regions/{code}/holidays": ["date", "name"],
        "POST /v1/sla/policies": [
            "action", "after_minutes", "basis", "calendar_region", "claim_within_minutes", "department", "done_within_minutes", "escalations",
            "from_department", "kind", "message", "name", "priority", "skip_if_updated", "tags", "target", "task_kind", "team",
        ],
        "POST /v1/tasks/complete": ["id", "items", "lease_token", "result"],
        "POST /v1/tasks/{id}/cancel": ["reason"],
        "POST /v1/tasks/{id}/complete": ["lease_token", "result"],
        "POST /v1/tasks/{id}/fail": ["error", "lease_token", "retry_in_seconds"],
        "POST /v1/tasks/{id}/handoff": ["due_at", "kind", "lease_token", "note", "payload", "priority", "title", "to_team"],
        "POST /v1/tasks/{id}/heartbeat": ["lease_seconds", "lease_token"],
        "POST /v1/tasks/{id}/hold": ["reason", "until"],
        "POST /v1/tasks/{id}/release": ["lease_token"],
        "PATCH /v1/stock/{region}/{sku}": ["reorder_point", "reorder_quantity", "snoozed_until"],
        "POST /v1/stock/{region}/{sku}/adjust": ["delta", "reason"],
        "POST /v1/stock/{region}/{sku}/receive": ["quantity", "reason"],
        "POST /v1/teams": ["default_lease_seconds", "default_max_attempts", "department", "name", "region", "slug"],
        "POST /v1/teams/{team}/claim": ["kinds", "lease_seconds", "limit", "wait_seconds", "worker"],
        "POST /v1/teams/{team}/tasks": [
            "backoff_base_seconds", "dedupe_key", "due_at", "id", "kind", "max_attempts", "payload", "priority", "run_at", "subject", "tags", "title",
            "type",
        ],
        "POST /v1/teams/{team}/tasks/batch": [
            "backoff_base_seconds", "dedupe_key", "due_at", "id", "kind", "max_attempts", "payload", "priority", "run_at", "subject", "tags", "tasks",
            "title", "type",
        ],
        "POST /v1/tokens": ["all_regions", "expires_at", "name", "regions", "role", "teams"],
        "PUT /v1/regions/{code}/case-settings": ["reopen_window_days"],
        "PUT /v1/regions/{code}/calendar": [
            "date", "end", "friday", "holidays", "hours", "monday", "name", "saturday", "start", "sunday", "thursday", "time_zone", "tuesday",
            "wednesday",
        ],
        "POST /v1/webhooks": ["active", "description", "event_types", "secret", "url"],
        "PATCH /v1/webhooks/{id}": ["active", "description", "event_types", "secret", "url"],
    ]

    private struct Frame {
        var isObject: Bool
        var isFreeForm: Bool
        var key: [UInt8] = []
        var expectingKey: Bool
    }

    /// The member holding the first `null` that is outside free-form JSON, or `nil`. Not a
    /// validator: malformed JSON is left to the decoder.
    func firstNull(in bytes: [UInt8]) -> String? {
        var stack: [Frame] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                // A string: a key when the innermost object expects one, otherwise a value.
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                if var top = stack.last, top.isObject, top.expectingKey {
                    top.key = Array(bytes[(index + 1)..<min(end, bytes.count)])
                    top.expectingKey = false
                    stack[stack.count - 1] = top
                }
                index = end
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                // Free-form: under `payload` or `result`, or under a member the document does not declare.
                let parentFreeForm =
                    stack.last.map { $0.isFreeForm || ($0.isObject && (Self.freeForm.contains($0.key) || !declared.contains($0.key))) }
                    ?? false
                stack.append(Frame(isObject: byte == UInt8(ascii: "{"), isFreeForm: parentFreeForm, expectingKey: byte == UInt8(ascii: "{")))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","):
                if let top = stack.last, top.isObject { stack[stack.count - 1].expectingKey = true }
            case UInt8(ascii: "n"):
                // Outside strings, only `null` has an n.
                guard let top = stack.last else { return "body" }
                if top.isFreeForm || !top.isObject || Self.anyValue.contains(top.key) || !declared.contains(top.key) { break }
                return String(decoding: top.key, as: UTF8.self)
            default:
                break
            }
            index += 1
        }
        return nil
    }
}
