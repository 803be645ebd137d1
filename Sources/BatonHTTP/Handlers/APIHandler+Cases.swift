import BatonCore
import Foundation

extension APIHandler {
    // MARK: - Cases

    func listCases(_ input: Operations.ListCases.Input) async throws -> Operations.ListCases.Output {
        let query = input.query
        let page = try await services.cases.list(
            .init(
                region: query.region,
                state: query.state.flatMap { CaseState(rawValue: $0.rawValue) },
                kind: query.kind.flatMap { CaseKind(rawValue: $0.rawValue) },
                customerID: query.customerId.map(Int.init),
                team: query.team
            ),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(cases: page.items.map(Components.Schemas.Case.init), nextCursor: page.nextCursor))))
    }

    func createCase(_ input: Operations.CreateCase.Input) async throws -> Operations.CreateCase.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let record = try await services.cases.create(
            NewCase(body),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(headers: .init(eTag: Self.etag(record.version)), body: .json(.init(record))))
    }

    func getCase(_ input: Operations.GetCase.Input) async throws -> Operations.GetCase.Output {
        let record = try await services.cases.record(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(Self.caseResponse(record))
    }

    func updateCase(_ input: Operations.UpdateCase.Input) async throws -> Operations.UpdateCase.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let record = try await services.cases.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            CaseChanges(
                subject: body.subject,
                description: body.description,
                priority: body.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
                channel: body.channel.flatMap { CaseChannel(rawValue: $0.rawValue) },
                contactID: body.contactId.map(Int.init)
            ),
            by: principal
        )
        return .ok(Self.caseResponse(record))
    }

    func deleteCase(_ input: Operations.DeleteCase.Input) async throws -> Operations.DeleteCase.Output {
        let record = try await services.cases.delete(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(Self.caseResponse(record))
    }

    func listCaseTransitions(_ input: Operations.ListCaseTransitions.Input) async throws -> Operations.ListCaseTransitions.Output {
        let page = try await services.cases.transitions(
            ofCase: Int(input.path.id),
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(
            .init(body: .json(.init(transitions: page.items.map(Components.Schemas.CaseTransition.init), nextCursor: page.nextCursor)))
        )
    }

    // MARK: - Lifecycle

    func openCase(_ input: Operations.OpenCase.Input) async throws -> Operations.OpenCase.Output {
        var note: String?
        if case .json(let body) = input.body { note = body.note }
        return .ok(try await act(.open, input.path.id, note: note))
    }

    func setCasePending(_ input: Operations.SetCasePending.Input) async throws -> Operations.SetCasePending.Output {
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let action: CaseAction = body.waitingOn == .customer ? .waitOnCustomer : .waitInternally
        return .ok(try await act(action, input.path.id, note: body.note))
    }

    func resolveCase(_ input: Operations.ResolveCase.Input) async throws -> Operations.ResolveCase.Output {
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        return .ok(try await act(.resolve, input.path.id, note: body.resolution))
    }

    func closeCase(_ input: Operations.CloseCase.Input) async throws -> Operations.CloseCase.Output {
        var note: String?
        if case .json(let body) = input.body { note = body.note }
        return .ok(try await act(.close, input.path.id, note: note))
    }

    func reopenCase(_ input: Operations.ReopenCase.Input) async throws -> Operations.ReopenCase.Output {
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        return .ok(try await act(.reopen, input.path.id, note: body.reason))
    }

    private func act(_ action: CaseAction, _ id: Int64, note: String?) async throws -> Components.Responses.Case {
        Self.caseResponse(try await services.cases.act(action, onCase: Int(id), note: note, by: try RequestPrincipal.require()))
    }

    private static func caseResponse(_ record: Case) -> Components.Responses.Case {
        .init(headers: .init(eTag: etag(record.version)), body: .json(.init(record)))
    }

    // MARK: - Settings

    func getCaseSettings(_ input: Operations.GetCaseSettings.Input) async throws -> Operations.GetCaseSettings.Output {
        let settings = try await services.cases.settings(region: input.path.code, by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(settings))))
    }

    func setCaseSettings(_ input: Operations.SetCaseSettings.Input) async throws -> Operations.SetCaseSettings.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let settings = try await services.cases.setSettings(
            CaseSettings(region: input.path.code, reopenWindowDays: Int(body.reopenWindowDays)),
            by: principal
        )
        return .ok(.init(body: .json(.init(settings))))
    }

    // MARK: - Feedback and CSAT

    func listFeedback(_ input: Operations.ListFeedback.Input) async throws -> Operations.ListFeedback.Output {
        let query = input.query
        let page = try await services.cases.feedback(
            .init(customerID: query.customerId.map(Int.init), caseID: query.caseId.map(Int.init), region: query.region),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(feedback: page.items.map(Components.Schemas.Feedback.init), nextCursor: page.nextCursor))))
    }

    func createFeedback(_ input: Operations.CreateFeedback.Input) async throws -> Operations.CreateFeedback.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let feedback = try await services.cases.createFeedback(
            NewFeedback(
                customerID: Int(body.customerId),
                caseID: body.caseId.map(Int.init),
                orderID: body.orderId.map(Int.init),
                score: Int(body.score),
                comment: body.comment
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(feedback))))
    }

    func getCSAT(_ input: Operations.GetCSAT.Input) async throws -> Operations.GetCSAT.Output {
        let query = input.query
        let from = try query.from.map { try Self.date($0, field: "from") }
        let to = try query.to.map { try Self.date($0, field: "to") }
        let grain = query.grain.flatMap { CSATGrain(rawValue: $0.rawValue) } ?? .month
        let report = try await services.cases.csat(
            .init(region: query.region, team: query.team),
            from: from,
            to: to,
            grain: grain,
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(report))))
    }

    private static func date(_ text: String, field: String) throws -> LocalDate {
        guard let day = LocalDate(parsing: text) else { throw BatonError.invalidArgument("\(field) must be a date such as 2026-12-07", field: field) }
        return day
    }
}
