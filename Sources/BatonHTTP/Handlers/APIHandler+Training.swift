import BatonCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listTrainingProgrammes(_ input: Operations.ListTrainingProgrammes.Input) async throws -> Operations.ListTrainingProgrammes.Output {
        let page = try await services.training.list(
            region: try Self.regionFilter(input.query.region),
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(programmes: page.items.map(Components.Schemas.TrainingProgramme.init), nextCursor: page.nextCursor))))
    }

    func createTrainingProgramme(_ input: Operations.CreateTrainingProgramme.Input) async throws -> Operations.CreateTrainingProgramme.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let cadence: TrainingCadence
        switch body.cadence {
        case .monthly: cadence = .monthly
        case .everyTwoMonths: cadence = .everyTwoMonths
        case .quarterly: cadence = .quarterly
        case .custom:
            guard let every = body.every, let unit = body.unit else {
                throw BatonError(.ruleViolation, "a custom cadence needs every and unit", details: ["field": "every"])
            }
            cadence = TrainingCadence(unit: unit == .week ? .week : .month, every: every)
        }
        let programme = try await services.training.create(
            NewTrainingProgramme(
                region: body.region,
                title: body.title,
                goal: body.goal,
                audience: TrainingAudience(
                    departments: (body.audience.departments ?? []).compactMap { Department(rawValue: $0.rawValue) },
                    teams: body.audience.teams ?? [],
                    memberIDs: (body.audience.memberIds ?? []).map(Int.init)
                ),
                competencies: body.competencies ?? [],
                cadence: cadence,
                durationMinutes: body.durationMinutes,
                firstSessionAt: body.firstSession,
                timeZone: body.timeZone,
                horizonMonths: body.horizonMonths ?? 6,
                ownerID: body.ownerId.map(Int.init)
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(.init(body: .json(.init(programme))))
    }

    func getTrainingProgramme(_ input: Operations.GetTrainingProgramme.Input) async throws -> Operations.GetTrainingProgramme.Output {
        .ok(.init(body: .json(.init(try await services.training.programme(id: Int(input.path.id), by: try RequestPrincipal.require())))))
    }

    func getTrainingSession(_ input: Operations.GetTrainingSession.Input) async throws -> Operations.GetTrainingSession.Output {
        let (session, attendance) = try await services.training.session(id: Int(input.path.id), by: try RequestPrincipal.require())
        return .ok(Self.sessionResponse(session, attendance))
    }

    func moveTrainingSession(_ input: Operations.MoveTrainingSession.Input) async throws -> Operations.MoveTrainingSession.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let session = try await services.training.move(
            session: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            startsAt: body.start,
            endsAt: body.end,
            by: principal
        )
        let (_, attendance) = try await services.training.session(id: session.id, by: principal)
        return .ok(Self.sessionResponse(session, attendance))
    }

    func cancelTrainingSession(_ input: Operations.CancelTrainingSession.Input) async throws -> Operations.CancelTrainingSession.Output {
        let principal = try RequestPrincipal.require()
        let session = try await services.training.cancel(session: Int(input.path.id), by: principal)
        let (_, attendance) = try await services.training.session(id: session.id, by: principal)
        return .ok(Self.sessionResponse(session, attendance))
    }

    func recordTrainingAttendance(_ input: Operations.RecordTrainingAttendance.Input) async throws -> Operations.RecordTrainingAttendance.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let attendance = try await services.training.record(
            body.attendance.map {
                TrainingAttendance(memberID: Int($0.memberId), status: AttendanceStatus(rawValue: $0.status.rawValue) ?? .invited)
            },
            session: Int(input.path.id),
            by: principal
        )
        let (session, _) = try await services.training.session(id: Int(input.path.id), by: principal)
        return .ok(Self.sessionResponse(session, attendance))
    }

    func getTrainingCompliance(_ input: Operations.GetTrainingCompliance.Input) async throws -> Operations.GetTrainingCompliance.Output {
        let entries = try await services.training.compliance(
            team: try Self.teamFilter(input.query.team),
            region: try Self.regionFilter(input.query.region),
            asOf: input.query.asOf,
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(members: entries.map(Components.Schemas.TrainingComplianceEntry.init)))))
    }

    func setMemberCompetencies(_ input: Operations.SetMemberCompetencies.Input) async throws -> Operations.SetMemberCompetencies.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let view = try await services.training.setCompetencies(
            body.levels.map { CompetencyLevel(competency: $0.competency, level: $0.level) },
            member: Int(input.path.id),
            by: principal
        )
        return .ok(.init(body: .json(.init(view))))
    }

    func getMemberDevelopment(_ input: Operations.GetMemberDevelopment.Input) async throws -> Operations.GetMemberDevelopment.Output {
        let view = try await services.training.development(member: Int(input.path.id), role: input.query.role, by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(view))))
    }

    static func sessionResponse(_ session: TrainingSession, _ attendance: [TrainingAttendance]) -> Components.Responses.TrainingSessionDetail {
        .init(
            headers: .init(eTag: etag(session.version)),
            body: .json(
                .init(
                    session: .init(session),
                    attendance: attendance.map {
                        .init(memberId: Int64($0.memberID), name: $0.name, status: .init(rawValue: $0.status.rawValue) ?? .invited)
                    }
                )
            )
        )
    }

    /// A `region` filter of 1 to 16 characters, as the document states (else 400).
    static func regionFilter(_ region: String?) throws -> String? {
        guard let region else { return nil }
        guard (1...16).contains(region.count) else { throw BatonError.invalidArgument("region must be 1 to 16 characters", field: "region") }
        return region
    }

    /// A `team` filter of 1 to 63 characters, as the document states (else 400).
    static func teamFilter(_ team: String?) throws -> String? {
        guard let team else { return nil }
        guard (1...63).contains(team.count) else { throw BatonError.invalidArgument("team must be 1 to 63 characters", field: "team") }
        return team
    }

    /// An id filter, at least 1 as the document states (else 400).
    static func positiveID(_ id: Int64?, field: String) throws -> Int? {
        guard let id else { return nil }
        guard id >= 1 else { throw BatonError.invalidArgument("\(field) is not an id", field: field) }
        return Int(id)
    }
}
