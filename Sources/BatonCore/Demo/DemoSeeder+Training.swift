import Foundation

extension DemoSeeder {
    /// Meetings around today in both regions: today's stand-up, an internal sync, customer reviews with their
    /// contacts, a past meeting with its outcome and a cancelled one, so calendars have content.
    func seedMeetings(by system: Principal) async throws {
        var members: [String: Int] = [:]
        for member in try await services.referenceData.members(page: try PageRequest(limit: 200, after: nil), by: system).items {
            members[member.email] = member.id
        }
        guard let ada = members["ada@example.com"], let bruno = members["bruno@example.com"], let emil = members["emil@example.com"],
            let chandra = members["chandra@example.com"], let dewi = members["dewi@example.com"]
        else { return }
        // Whole hours in UTC from the start of today, so the demo looks the same whenever it is seeded.
        let today = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        func at(day: Int, hour: Int, minute: Int = 0) -> Date { today.addingTimeInterval(Double(day * 86_400 + hour * 3_600 + minute * 60)) }

        var customers: [(id: Int, region: String, contact: Int?)] = []
        for region in ["emea", "apac"] {
            let page = try await services.customers.list(
                CustomerStore.Filter(region: region, status: .active),
                page: try PageRequest(limit: 2, after: nil),
                by: system
            )
            for customer in page.items {
                let contact = try await services.customers.contacts(ofCustomer: customer.id, by: system).first?.id
                customers.append((customer.id, region, contact))
            }
        }

        // Today's, so the coordinator's desk has a calendar on the first morning.
        _ = try await services.meetings.create(
            NewMeeting(
                title: "Coordinator's stand-up",
                startsAt: at(day: 0, hour: 9),
                endsAt: at(day: 0, hour: 9, minute: 15),
                organiserID: ada,
                memberIDs: [bruno, emil],
                agenda: "Breaches, handoffs waiting, stock alerts"
            ),
            by: system
        )
        _ = try await services.meetings.create(
            NewMeeting(
                title: "Weekly sales and logistics sync",
                startsAt: at(day: 1, hour: 8),
                endsAt: at(day: 1, hour: 8, minute: 30),
                organiserID: ada,
                memberIDs: [bruno, emil],
                location: "Berlin, room 2",
                agenda: "Open orders; stock below reorder points; campaign leads"
            ),
            by: system
        )
        _ = try await services.meetings.create(
            NewMeeting(
                title: "Support handover, APAC",
                startsAt: at(day: 2, hour: 4),
                endsAt: at(day: 2, hour: 5),
                organiserID: chandra,
                memberIDs: [dewi],
                agenda: "Complaints waiting on logistics"
            ),
            by: system
        )
        for (index, customer) in customers.enumerated() {
            let organiser = customer.region == "emea" ? ada : chandra
            _ = try await services.meetings.create(
                NewMeeting(
                    title: "Quarterly business review",
                    startsAt: at(day: 3 + index, hour: customer.region == "emea" ? 13 : 6),
                    endsAt: at(day: 3 + index, hour: customer.region == "emea" ? 14 : 7),
                    organiserID: organiser,
                    contactIDs: customer.contact.map { [$0] } ?? [],
                    customerID: customer.id,
                    agenda: "Volumes, prices, service contract"
                ),
                by: system
            )
        }
        let past = try await services.meetings.create(
            NewMeeting(
                title: "Hannover Messe debrief",
                startsAt: at(day: -6, hour: 9),
                endsAt: at(day: -6, hour: 10),
                organiserID: emil,
                memberIDs: [ada]
            ),
            by: system
        )
        _ = try await services.meetings.update(
            id: past.id,
            version: past.version,
            MeetingChanges(notes: "42 leads, 9 qualified", outcome: "Follow up the qualified leads within two weeks"),
            by: system
        )
        let cancelled = try await services.meetings.create(
            NewMeeting(title: "Pricing workshop", startsAt: at(day: 5, hour: 10), endsAt: at(day: 5, hour: 12), organiserID: ada),
            by: system
        )
        _ = try await services.meetings.cancel(id: cancelled.id, by: system)
    }

    /// The training calendar of the issue: sales-skills workshops quarterly, product training
    /// monthly, customer-service training every two months, started months ago so past sessions
    /// have attendance (mostly attended, some absent or excused) and compliance has gaps to show.
    func seedTraining(by system: Principal) async throws {
        let today = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        for (region, title, goal, departments, competencies, cadence, minutes, monthsAgo, hour) in [
            (
                "emea", "Sales-skills workshop", "Discovery, negotiation and closing", [Department.sales], ["negotiation", "customer_communication"],
                TrainingCadence.quarterly, 180, 7, 8
            ),
            ("emea", "Product training", "What is new in the catalogue", [.sales, .marketing, .support], ["product_knowledge"], .monthly, 60, 4, 13),
            (
                "apac", "Customer-service training", "Handling complaints and feedback", [.support, .logistics], ["customer_communication"],
                .everyTwoMonths, 90, 5, 5
            ),
        ] {
            let programme = try await services.training.create(
                NewTrainingProgramme(
                    region: region,
                    title: title,
                    goal: goal,
                    audience: TrainingAudience(departments: departments),
                    competencies: competencies,
                    cadence: cadence,
                    durationMinutes: minutes,
                    firstSessionAt: today.addingTimeInterval(Double(-monthsAgo * 30 * 86_400 + hour * 3_600)),
                    horizonMonths: monthsAgo + 6
                ),
                by: system
            )
            for session in programme.sessions where session.endsAt < Date() {
                let (_, invited) = try await services.training.session(id: session.id, by: system)
                let marked = invited.map { attendee -> TrainingAttendance in
                    let status: AttendanceStatus =
                        switch (session.sequence + attendee.memberID) % 5 {
                        case 0: .absent
                        case 1: .excused
                        default: .attended
                        }
                    return TrainingAttendance(memberID: attendee.memberID, status: status)
                }
                if !marked.isEmpty { _ = try await services.training.record(marked, session: session.id, by: system) }
            }
        }
        // Ada's levels, so her development view against a regional sales manager shows gaps.
        let members = try await services.referenceData.members(page: try PageRequest(limit: 200, after: nil), by: system).items
        if let ada = members.first(where: { $0.email == "ada@example.com" }) {
            _ = try await services.training.setCompetencies(
                [
                    CompetencyLevel(competency: "negotiation", level: 3), CompetencyLevel(competency: "customer_communication", level: 4),
                    CompetencyLevel(competency: "team_management", level: 2), CompetencyLevel(competency: "data_analysis", level: 2),
                ],
                member: ada.id,
                by: system
            )
        }
    }
}
