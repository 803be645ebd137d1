import BatonCore

extension Components.Schemas.Meeting {
    init(_ meeting: Meeting) {
        self.init(
            id: Int64(meeting.id),
            region: meeting.region,
            title: meeting.title,
            start: meeting.startsAt,
            end: meeting.endsAt,
            timeZone: meeting.timeZone,
            organiserId: Int64(meeting.organiserID),
            customerId: meeting.customerID.map(Int64.init),
            opportunityId: meeting.opportunityID.map(Int64.init),
            location: meeting.location,
            agenda: meeting.agenda,
            notes: meeting.notes,
            outcome: meeting.outcome,
            attendees: meeting.attendees.map {
                .init(kind: $0.kind == .member ? .member : .contact, id: Int64($0.id), name: $0.name, email: $0.email)
            },
            cancelled: meeting.cancelledAt != nil,
            cancelledAt: meeting.cancelledAt,
            version: meeting.version,
            createdBy: meeting.createdBy,
            createdAt: meeting.createdAt,
            updatedAt: meeting.updatedAt
        )
    }
}
