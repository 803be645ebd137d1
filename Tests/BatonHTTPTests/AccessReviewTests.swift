import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing
import Yams

/// The access review, generated from the OpenAPI document and the access table
/// (``UseCase/access``): every operation is called with no token, a revoked token, an expired
/// token, each role scoped to one EMEA team or to EMEA, and tokens scoped to another region,
/// and each call must get the status its declared access gives. An operation the document
/// gains without an entry in the table fails the suite (and a `UseCase` without its access does
/// not compile), so a new endpoint cannot ship without a decision about who may call it.
@Suite(.requiresDatabase) struct AccessReviewTests {
    /// Every operation in the document: "METHOD /path" and its operationId.
    static func documentedOperations() throws -> [(operation: String, id: String)] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BatonHTTP/openapi.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var operations: [(String, String)] = []
        for (path, item) in paths {
            for (method, operation) in (item as? [String: Any]) ?? [:] where HTTPRequest.Method(method.uppercased()) != nil {
                let id = try #require((operation as? [String: Any])?["operationId"] as? String, "\(method) \(path) has no operationId")
                operations.append(("\(method.uppercased()) \(path)", id))
            }
        }
        return operations.sorted { $0.0 < $1.0 }
    }

    /// A caller: a token (or none) and, for valid tokens, the principal it stands for.
    struct Caller: Sendable {
        var name: String
        var secret: String?
        /// `nil` for callers that must be refused as unauthenticated.
        var principal: Principal?
    }

    /// The status class a call must get.
    enum Expected: Equatable, CustomStringConvertible {
        case unauthenticated, forbidden, notFound, allowed

        var description: String {
            switch self {
            case .unauthenticated: "401"
            case .forbidden: "403"
            case .notFound: "404"
            case .allowed: "allowed (not 401/403/404, not 5xx)"
            }
        }

        func matches(_ status: Int) -> Bool {
            switch self {
            case .unauthenticated: status == 401
            case .forbidden: status == 403
            case .notFound: status == 404
            case .allowed: ![401, 403, 404].contains(status) && status < 500
            }
        }
    }

    /// What `access` gives `caller` on a path that names something of `sales-emea`.
    static func expected(_ access: UseCase.Access, for caller: Caller) -> Expected {
        if case .open = access { return .allowed }
        guard let principal = caller.principal else { return .unauthenticated }
        switch access {
        case .open, .anyToken: return .allowed
        case .role(let permission): return principal.has(permission) ? .allowed : .forbidden
        case .team(let permission):
            guard principal.has(permission) else { return .forbidden }
            return principal.canSee(team: "sales-emea", region: "emea") ? .allowed : .notFound
        case .region(let permission):
            guard principal.has(permission) else { return .forbidden }
            return principal.scope.reaches(region: "emea") ? .allowed : .notFound
        }
    }

    @Test func theAccessTableCoversExactlyTheDocumentedOperations() throws {
        let documented = try Self.documentedOperations()
        let documentedIDs = Set(documented.map(\.id))
        let declared = Set(UseCase.allCases.map(\.rawValue))
        #expect(documented.count >= 40)
        #expect(documentedIDs.count == documented.count, "operationIds are unique")
        #expect(documentedIDs.subtracting(declared).sorted() == [], "operations without a declared access")
        #expect(declared.subtracting(documentedIDs).sorted() == [], "declared operations the document no longer has")
    }

    @Test func everyOperationGivesEveryCallerTheStatusItsAccessDeclares() async throws {
        let operations = try Self.documentedOperations()
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            func token(
                _ role: Role,
                teams: [String] = [],
                regions: [String] = [],
                allRegions: Bool = false
            ) async throws -> (
                id: Int, caller: Caller
            ) {
                let body = try JSONSerialization.data(withJSONObject: [
                    "name": "review \(role.rawValue)", "role": role.rawValue, "teams": teams, "regions": regions, "all_regions": allRegions,
                ])
                let created = try await api.call(.post, "/v1/tokens", json: String(decoding: body, as: UTF8.self))
                try api.expect(.created, created)
                let json = try created.json(AnyJSON.self)
                let id = try #require(json["token"]?["id"]?.int)
                // A team's region is its slug's last part here (sales-emea is in emea).
                let teamRegions = Set(teams.compactMap { $0.split(separator: "-").last.map(String.init) })
                let scope = Scope(allRegions: allRegions, teams: Set(teams), regions: Set(regions), teamRegions: teamRegions)
                let principal = Principal(tokenID: id, name: "", role: role, scope: scope)
                let reach = allRegions ? "all regions" : "\(teams + regions)"
                return (id, Caller(name: "\(role.rawValue) \(reach)", secret: json["secret"]?.string, principal: principal))
            }
            let revoked = try await token(.admin)
            try api.expect(.ok, await api.call(.post, "/v1/tokens/\(revoked.id)/revoke"))
            let expired = try await token(.admin)
            try await database.pool.query("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = $1", [expired.id])
            var callers = [
                Caller(name: "no token", secret: nil, principal: nil),
                Caller(name: "revoked admin", secret: revoked.caller.secret, principal: nil),
                Caller(name: "expired admin", secret: expired.caller.secret, principal: nil),
                Caller(
                    name: "admin",
                    secret: api.token,
                    principal: Principal(tokenID: 1, name: "", role: .admin, scope: .everything)
                ),
            ]
            for role in [Role.viewer, .agent, .lead] {
                callers.append(try await token(role, teams: ["sales-emea"]).caller)
                callers.append(try await token(role, teams: ["sales-apac"]).caller)
            }
            callers.append(try await token(.coordinator, regions: ["emea"]).caller)
            callers.append(try await token(.coordinator, regions: ["apac"]).caller)
            callers.append(try await token(.coordinator, allRegions: true).caller)
            callers.append(try await token(.viewer, allRegions: true).caller)

            let member = try await api.call(.post, "/v1/members", json: #"{"name":"Reviewed","email":"reviewed@example.com"}"#)
            try api.expect(.created, member)
            let memberID = try #require(try member.json(AnyJSON.self)["id"]?.int)
            let policy = try await api.call(
                .post,
                "/v1/sla/policies",
                json: #"{"name":"reviewed","kind":"sla","team":"support-apac","done_within_minutes":60}"#
            )
            try api.expect(.created, policy)
            let policyID = try #require(try policy.json(AnyJSON.self)["id"]?.int)
            try api.expect(.created, await api.call(.post, "/v1/regions/emea/holidays", json: #"{"date":"2026-12-25","name":"Christmas"}"#))
            let reviewed = try await api.call(.post, "/v1/customers", json: #"{"region":"emea","name":"Reviewed cases","force":true}"#)
            try api.expect(.created, reviewed)
            let reviewedID = try #require(try reviewed.json(AnyJSON.self)["customer"]?["id"]?.int)
            let product = try await api.call(
                .post,
                "/v1/products",
                json: #"{"sku":"REVIEWED-1","name":"Reviewed","unit_price_minor":100,"currency":"EUR"}"#
            )
            try api.expect(.created, product)
            let productID = try #require(try product.json(AnyJSON.self)["id"]?.int)

            // Valid bodies, so that what decides the status is access and not the body's shape.
            let bodies = [
                "POST /v1/regions": #"{"code":"latam","name":"LATAM","time_zone":"America/Sao_Paulo"}"#,
                "PUT /v1/regions/{code}/calendar": #"{"time_zone":"Europe/Berlin","hours":{"monday":[{"start":"09:00","end":"17:00"}]}}"#,
                "POST /v1/regions/{code}/holidays": #"{"date":"2026-12-25","name":"Christmas"}"#,
                "POST /v1/sla/policies": #"{"name":"p","kind":"sla","department":"support","done_within_minutes":60}"#,
                "POST /v1/teams": #"{"department":"sales","region":"emea","slug":"sales-emea-2"}"#,
                "POST /v1/teams/{team}/tasks": #"{"kind":"k","title":"t"}"#,
                "POST /v1/teams/{team}/tasks/batch": #"{"tasks":[{"kind":"k","title":"t"}]}"#,
                "POST /v1/teams/{team}/claim": #"{"worker":"w","limit":1}"#,
                "POST /v1/tasks/complete": #"{"items":[{"id":1,"lease_token":"00000000-0000-0000-0000-000000000000"}]}"#,
                "POST /v1/tasks/{id}/heartbeat": #"{"lease_token":"00000000-0000-0000-0000-000000000000"}"#,
                "POST /v1/tasks/{id}/complete": #"{"lease_token":"00000000-0000-0000-0000-000000000000"}"#,
                "POST /v1/tasks/{id}/fail": #"{"lease_token":"00000000-0000-0000-0000-000000000000","error":"e"}"#,
                "POST /v1/tasks/{id}/release": #"{"lease_token":"00000000-0000-0000-0000-000000000000"}"#,
                "POST /v1/tasks/{id}/cancel": #"{"reason":"r"}"#,
                "POST /v1/tasks/{id}/handoff": #"{"to_team":"logistics-emea","note":"n"}"#,
                "POST /v1/tasks/{id}/hold": #"{"reason":"r"}"#,
                "POST /v1/members": #"{"name":"n","email":"n@example.com"}"#,
                "POST /v1/members/{id}/memberships": #"{"team":"sales-emea","role":"agent"}"#,
                "POST /v1/tokens": #"{"name":"n","role":"viewer","regions":["emea"]}"#,
                "POST /v1/customers": #"{"region":"emea","name":"Reviewed","force":true}"#,
                "PATCH /v1/customers/{id}": #"{"status":"prospect"}"#,
                "POST /v1/customers/{id}/contacts": #"{"name":"Someone"}"#,
                "PATCH /v1/customers/{id}/contacts/{contact_id}": #"{"role":"Buyer"}"#,
                "POST /v1/customers/{id}/interactions": #"{"kind":"note","summary":"reviewed"}"#,
                "POST /v1/opportunities": #"{"customer_id":\#(reviewedID),"title":"Reviewed","amount_minor":100,"currency":"EUR"}"#,
                "PATCH /v1/opportunities/{id}": #"{"title":"Reviewed again"}"#,
                "POST /v1/opportunities/{id}/stage": #"{"stage":"qualified"}"#,
                "POST /v1/opportunities/{id}/lose": #"{"reason":"price"}"#,
                "PUT /v1/regions/{code}/pipeline":
                    #"{"stages":[{"stage":"new","name":"New","probability":10}],"lost_reasons":[{"reason":"price","name":"Price"}]}"#,
                "POST /v1/products": #"{"sku":"REVIEWED-2","name":"Reviewed","unit_price_minor":100,"currency":"EUR"}"#,
                "PATCH /v1/products/{id}": #"{"name":"Reviewed again"}"#,
                "PATCH /v1/stock/{region}/{sku}": #"{"reorder_point":1}"#,
                "POST /v1/stock/{region}/{sku}/receive": #"{"quantity":1}"#,
                "POST /v1/stock/{region}/{sku}/adjust": #"{"delta":1,"reason":"reviewed"}"#,
                "POST /v1/orders": #"{"customer_id":\#(reviewedID),"lines":[{"sku":"REVIEWED-1","quantity":1}]}"#,
                "PATCH /v1/orders/{id}": #"{"notes":"Reviewed"}"#,
                "POST /v1/campaigns": #"{"region":"emea","name":"Reviewed","channel":"email","currency":"EUR"}"#,
                "PATCH /v1/campaigns/{id}": #"{"name":"Reviewed again"}"#,
                "POST /v1/cases": #"{"customer_id":\#(reviewedID),"kind":"inquiry","subject":"Reviewed"}"#,
                "PATCH /v1/cases/{id}": #"{"priority":"high"}"#,
                "POST /v1/cases/{id}/pending": #"{"waiting_on":"customer"}"#,
                "POST /v1/cases/{id}/resolve": #"{"resolution":"Reviewed"}"#,
                "POST /v1/cases/{id}/reopen": #"{"reason":"Reviewed"}"#,
                "POST /v1/feedback": #"{"customer_id":\#(reviewedID),"score":5}"#,
                "PUT /v1/regions/{code}/case-settings": #"{"reopen_window_days":14}"#,
                "POST /v1/rules": #"{"name":"Reviewed","on":"order.shipped","action":{"department":"support","kind":"k","title":"t"}}"#,
                "PATCH /v1/rules/{id}": #"{"active":false}"#,
                "POST /v1/rules/{id}/test": #"{"region":"emea","data":{"number":"SO-1"}}"#,
                "POST /v1/webhooks": #"{"url":"https://receiver.invalid/hook","event_types":["*"]}"#,
                "PATCH /v1/webhooks/{id}": #"{"description":"Reviewed"}"#,
                "POST /v1/meetings":
                    #"{"title":"Reviewed","start":"2030-01-07T09:00:00Z","end":"2030-01-07T10:00:00Z","organiser_id":\#(memberID),"region":"emea","allow_conflict":true}"#,
                "PATCH /v1/meetings/{id}": #"{"notes":"Reviewed"}"#,
                "POST /v1/training/programmes":
                    #"{"region":"emea","title":"Reviewed","audience":{"departments":["sales"]},"cadence":"monthly","duration_minutes":60,"first_session":"2030-01-07T09:00:00Z","horizon_months":1}"#,
                "PATCH /v1/training/sessions/{id}": #"{"start":"2030-01-08T09:00:00Z"}"#,
                "PUT /v1/members/{id}/competencies": #"{"levels":[{"competency":"negotiation","level":2}]}"#,
                "PUT /v1/training/sessions/{id}/attendance": #"{"attendance":[{"member_id":\#(memberID),"status":"attended"}]}"#,
                "POST /v1/targets": #"{"owner_kind":"region","region":"emea","metric":"orders","period":"2026-11","value":10}"#,
                "PATCH /v1/targets/{id}": #"{"variance_note":"Reviewed"}"#,
                "PUT /v1/market/{region}/{period}": #"{"size_minor":100000,"currency":"EUR","source":"Reviewed"}"#,
                "PUT /v1/reports/settings/{region}": #"{"count_orders_at":"confirmed"}"#,
            ]
            var targetYear = 2000
            var checked = 0
            for (operation, id) in operations {
                let access = try #require(UseCase(rawValue: id), "\(operation) has no declared access").access
                let parts = operation.split(separator: " ", maxSplits: 1).map(String.init)
                let method = try #require(HTTPRequest.Method(parts[0]))
                for caller in callers {
                    let expected = Self.expected(access, for: caller)
                    // The stream never ends for an accepted caller; only refusals can be read whole.
                    if parts[1] == "/v1/events/stream", expected == .allowed { continue }
                    // Each call gets its own task and token, so one caller's change cannot decide
                    // the next caller's status.
                    var path = parts[1].replacingOccurrences(of: "{team}", with: "sales-emea")
                        .replacingOccurrences(of: "{code}", with: "emea").replacingOccurrences(of: "{date}", with: "2026-12-25")
                        .replacingOccurrences(of: "{region}", with: "emea").replacingOccurrences(of: "{sku}", with: "REVIEWED-1")
                        .replacingOccurrences(of: "{period}", with: "2026-11")
                    if parts[1] == "/v1/reports/kpis" || parts[1] == "/v1/reports/leaderboard" { path += "?period=2026-11" }
                    var headers: HTTPFields = [:]
                    if path.hasPrefix("/v1/customers/{id}") {
                        // A customer of EMEA (and a contact of it) per call, at version 1.
                        let customer = try await api.call(
                            .post,
                            "/v1/customers",
                            json: #"{"region":"emea","name":"Reviewed customer","force":true,"contacts":[{"name":"C"}]}"#
                        )
                        let created = try customer.json(AnyJSON.self)
                        let id = try #require(created["customer"]?["id"]?.int)
                        let contact = try #require(created["contacts"]?[0]?["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)").replacingOccurrences(of: "{contact_id}", with: "\(contact)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/opportunities/{id}") {
                        // An EMEA deal per call, open in its first stage, at version 1.
                        let deal = try await api.call(
                            .post,
                            "/v1/opportunities",
                            json: #"{"customer_id":\#(reviewedID),"title":"Reviewed deal","amount_minor":100,"currency":"EUR"}"#
                        )
                        let id = try #require(try deal.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/campaigns/{id}") {
                        let campaign = try await api.call(
                            .post,
                            "/v1/campaigns",
                            json: #"{"region":"emea","name":"Reviewed campaign","channel":"email","currency":"EUR"}"#
                        )
                        let id = try #require(try campaign.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/cases/{id}") {
                        // A case of an EMEA customer per call, at version 1.
                        let opened = try await api.call(.post, "/v1/cases", json: #"{"customer_id":\#(reviewedID),"kind":"complaint","subject":"R"}"#)
                        let id = try #require(try opened.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/orders/{id}") {
                        // A draft order of an EMEA customer per call, at version 1.
                        let order = try await api.call(
                            .post,
                            "/v1/orders",
                            json: #"{"customer_id":\#(reviewedID),"lines":[{"sku":"REVIEWED-1","quantity":1}]}"#
                        )
                        let id = try #require(try order.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/products/{id}") {
                        path = path.replacingOccurrences(of: "{id}", with: "\(productID)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/stock/emea/") {
                        // Any version: a stale one is 412, which is past the access check.
                        headers[HTTPField.Name("If-Match")!] = #""0""#
                    } else if path.hasPrefix("/v1/rules/{id}") {
                        // A rule per call, at version 1.
                        let rule = try await api.call(
                            .post,
                            "/v1/rules",
                            json: #"{"name":"Reviewed \#(UUID())","on":"order.shipped","action":{"department":"sales","kind":"k","title":"t"}}"#
                        )
                        let id = try #require(try rule.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/tasks/{id}") {
                        let task = try await api.call(.post, "/v1/teams/sales-emea/tasks", json: #"{"kind":"k","title":"reviewed"}"#)
                        let id = try #require(try task.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                    } else if path.hasPrefix("/v1/webhooks/{id}") {
                        // A subscription per call (made in SQL: the review's server allows no
                        // private receiver), at version 1, and the latest event to redeliver.
                        let webhook = try await database.pool.query(
                            "INSERT INTO webhooks (url, event_types, secret) VALUES ('https://receiver.invalid/', '{*}', 'whsec_reviewed-0000000') RETURNING id"
                        ).first?.decode(Int.self, "id")
                        let event = try await database.pool.query("SELECT max(id) AS id FROM events").first?.decode(Int.self, "id")
                        path = path.replacingOccurrences(of: "{id}", with: "\(try #require(webhook))")
                            .replacingOccurrences(of: "{event_id}", with: "\(try #require(event))")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/meetings/{id}") {
                        // An EMEA meeting per call, at version 1 (they may overlap: allow_conflict).
                        let meeting = try await api.call(
                            .post,
                            "/v1/meetings",
                            json:
                                #"{"title":"Reviewed","start":"2030-01-07T09:00:00Z","end":"2030-01-07T10:00:00Z","organiser_id":\#(memberID),"region":"emea","allow_conflict":true}"#
                        )
                        let id = try #require(try meeting.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/training/programmes/{id}") || path.hasPrefix("/v1/training/sessions/{id}") {
                        // An EMEA programme per call; a session path names its first session (version 1).
                        let programme = try await api.call(
                            .post,
                            "/v1/training/programmes",
                            json:
                                #"{"region":"emea","title":"Reviewed","audience":{"member_ids":[\#(memberID)]},"cadence":"monthly","duration_minutes":60,"first_session":"2030-01-07T09:00:00Z","horizon_months":1}"#
                        )
                        let created = try programme.json(AnyJSON.self)
                        let id = try #require(path.hasPrefix("/v1/training/programmes") ? created["id"]?.int : created["sessions"]?[0]?["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/targets/{id}") {
                        // An EMEA target per call (one a year, as an owner has one per period), at version 1.
                        targetYear += 1
                        let target = try await api.call(
                            .post,
                            "/v1/targets",
                            json: #"{"owner_kind":"region","region":"emea","metric":"orders","period":"\#(targetYear)","value":10}"#
                        )
                        let id = try #require(try target.json(AnyJSON.self)["id"]?.int)
                        path = path.replacingOccurrences(of: "{id}", with: "\(id)")
                        headers[HTTPField.Name("If-Match")!] = #""1""#
                    } else if path.hasPrefix("/v1/tokens/{id}") {
                        path = path.replacingOccurrences(of: "{id}", with: "\(try await token(.viewer, regions: ["emea"]).id)")
                    } else if path.hasPrefix("/v1/members/{id}") {
                        path = path.replacingOccurrences(of: "{id}", with: "\(memberID)")
                    } else {
                        path = path.replacingOccurrences(of: "{id}", with: "\(policyID)")
                    }
                    let send = bodies[operation] ?? ([.post, .put, .patch].contains(method) ? "{}" : nil)
                    let response = try await api.call(method, path, json: send, token: .some(caller.secret), headers: headers)
                    let status = Int(response.status.code)
                    #expect(expected.matches(status), "\(caller.name) \(method) \(path): expected \(expected), got \(status) \(response.text)")
                    if status >= 400 {
                        #expect((try? response.errorEnvelope()) != nil, "\(caller.name) \(method) \(path): errors use the envelope")
                    }
                    if expected == .unauthenticated { #expect(response.headers[.wwwAuthenticate] == "Bearer") }
                    checked += 1
                }
            }
            #expect(checked >= operations.count * callers.count - callers.count)
        }
    }
}
