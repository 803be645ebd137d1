import BatonCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func listMeetings(_ input: Operations.ListMeetings.Input) async throws -> Operations.ListMeetings.Output {
        let query = input.query
        let page = try await services.meetings.list(
            MeetingStore.Filter(
                region: try Self.regionFilter(query.region),
                memberID: try Self.positiveID(query.memberId, field: "member_id"),
                team: try Self.teamFilter(query.team),
                customerID: try Self.positiveID(query.customerId, field: "customer_id"),
                from: query.from,
                to: query.to,
                includeCancelled: query.includeCancelled ?? false
            ),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(meetings: page.items.map(Components.Schemas.Meeting.init), nextCursor: page.nextCursor))))
    }

    func createMeeting(_ input: Operations.CreateMeeting.Input) async throws -> Operations.CreateMeeting.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let meeting = try await services.meetings.create(
            NewMeeting(
                title: body.title,
                startsAt: body.start,
                endsAt: body.end,
                timeZone: body.timeZone,
                region: body.region,
                organiserID: Int(body.organiserId),
                memberIDs: (body.memberIds ?? []).map(Int.init),
                contactIDs: (body.contactIds ?? []).map(Int.init),
                customerID: body.customerId.map(Int.init),
                opportunityID: body.opportunityId.map(Int.init),
                location: body.location,
                agenda: body.agenda,
                allowConflict: body.allowConflict ?? false
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(Self.meetingResponse(meeting))
    }

    func getMeeting(_ input: Operations.GetMeeting.Input) async throws -> Operations.GetMeeting.Output {
        .ok(Self.meetingResponse(try await services.meetings.meeting(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateMeeting(_ input: Operations.UpdateMeeting.Input) async throws -> Operations.UpdateMeeting.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let meeting = try await services.meetings.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            MeetingChanges(
                title: body.title,
                startsAt: body.start,
                endsAt: body.end,
                timeZone: body.timeZone,
                memberIDs: body.memberIds.map { $0.map(Int.init) },
                contactIDs: body.contactIds.map { $0.map(Int.init) },
                location: body.location,
                agenda: body.agenda,
                notes: body.notes,
                outcome: body.outcome,
                allowConflict: body.allowConflict ?? false
            ),
            by: principal
        )
        return .ok(Self.meetingResponse(meeting))
    }

    func cancelMeeting(_ input: Operations.CancelMeeting.Input) async throws -> Operations.CancelMeeting.Output {
        .ok(Self.meetingResponse(try await services.meetings.cancel(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func getMemberCalendar(_ input: Operations.GetMemberCalendar.Input) async throws -> Operations.GetMemberCalendar.Output {
        let calendar = try await services.meetings.calendar(
            memberID: Int(input.path.id),
            from: input.query.from,
            to: input.query.to,
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .textCalendar(HTTPBody(calendar))))
    }

    func getTeamCalendar(_ input: Operations.GetTeamCalendar.Input) async throws -> Operations.GetTeamCalendar.Output {
        let calendar = try await services.meetings.calendar(
            team: input.path.team,
            from: input.query.from,
            to: input.query.to,
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .textCalendar(HTTPBody(calendar))))
    }

    static func meetingResponse(_ meeting: Meeting) -> Components.Responses.Meeting {
        .init(headers: .init(eTag: etag(meeting.version)), body: .json(.init(meeting)))
    }
}
