import BatonCore
import Foundation

extension APIHandler {
    // MARK: - Handoff rules

    func listRules(_ input: Operations.ListRules.Input) async throws -> Operations.ListRules.Output {
        let page = try await services.rules.list(
            on: input.query.on,
            activeOnly: input.query.active ?? false,
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(rules: try page.items.map(Components.Schemas.Rule.init), nextCursor: page.nextCursor))))
    }

    func createRule(_ input: Operations.CreateRule.Input) async throws -> Operations.CreateRule.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let rule = try await services.rules.create(
            NewRule(
                name: body.name,
                on: body.on,
                condition: try body.condition.map { try Self.jsonValue($0) },
                action: Self.ruleAction(body.action),
                active: body.active
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(try Self.ruleResponse(rule))
    }

    func getRule(_ input: Operations.GetRule.Input) async throws -> Operations.GetRule.Output {
        .ok(try Self.ruleResponse(try await services.rules.rule(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateRule(_ input: Operations.UpdateRule.Input) async throws -> Operations.UpdateRule.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let rule = try await services.rules.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            RuleChanges(
                name: body.name,
                on: body.on,
                condition: try body.condition.map { try Self.jsonValue($0) },
                action: body.action.map(Self.ruleAction),
                active: body.active
            ),
            by: principal
        )
        return .ok(try Self.ruleResponse(rule))
    }

    func testRule(_ input: Operations.TestRule.Input) async throws -> Operations.TestRule.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        if let type = body._type, !RuleService.isEventType(type) {
            throw BatonError.invalidArgument("type must be an event type such as order.confirmed", field: "type")
        }
        let event = RuleEvent(
            type: body._type ?? "",
            entityType: body.entityType,
            entityID: body.entityId,
            region: body.region,
            team: body.team,
            data: try Self.jsonValue(body.data).members
        )
        let trial = try await services.rules.test(id: Int(input.path.id), event: event, by: principal)
        return .ok(.init(body: .json(.init(trial))))
    }

    /// Free-form JSON of the document as a domain value.
    static func jsonValue(_ container: some Encodable) throws -> JSONValue {
        guard let value = JSONValue.parse(try JSONBridge.text(container)) else { throw BatonError.invalidArgument("expected JSON") }
        return value
    }

    static func ruleAction(_ action: Components.Schemas.RuleAction) -> RuleAction {
        RuleAction(
            department: action.department.flatMap { Department(rawValue: $0.rawValue) },
            team: action.team,
            kind: action.kind,
            priority: action.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            title: action.title,
            payload: action.payload?.additionalProperties ?? [:],
            subject: action.subject.map { RuleAction.Subject(type: $0._type, id: $0.id) }
        )
    }

    static func ruleResponse(_ rule: Rule) throws -> Components.Responses.Rule {
        .init(headers: .init(eTag: etag(rule.version)), body: .json(try .init(rule)))
    }
}
