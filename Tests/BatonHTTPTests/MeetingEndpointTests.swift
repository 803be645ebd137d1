import BatonCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresClient
import Testing

/// Meetings through the API: scheduling in the organiser's region, the double-booking check
/// (also for two bookings racing each other), moves and cancellation, and the iCalendar export
/// read back with a small RFC 5545 parser.
@Suite(.requiresDatabase) struct MeetingEndpointTests {
    static let ifMatch = HTTPField.Name("If-Match")!

    /// Regions and teams; Ada (sales-emea), Ben (sales-emea), Chen (sales-apac); a customer of
    /// EMEA with a contact. Returns the member ids, the customer and its contact.
    static func seed(_ api: API) async throws -> (ada: Int, ben: Int, chen: Int, customer: Int, contact: Int) {
        try await api.seedReferenceData()
        var ids: [Int] = []
        for (name, team) in [("Ada", "sales-emea"), ("Ben", "sales-emea"), ("Chen", "sales-apac")] {
            let member = try await api.call(.post, "/v1/members", json: #"{"name":"\#(name)","email":"\#(name.lowercased())@example.com"}"#)
            try api.expect(.created, member)
            let id = try #require(try member.json(AnyJSON.self)["id"]?.int)
            try api.expect(.ok, await api.call(.post, "/v1/members/\(id)/memberships", json: #"{"team":"\#(team)","role":"agent"}"#))
            ids.append(id)
        }
        let customer = try await api.call(
            .post,
            "/v1/customers",
            json: #"{"region":"emea","name":"Acme Pumps","force":true,"contacts":[{"name":"Dora Buyer","email":"dora@acme.example"}]}"#
        )
        try api.expect(.created, customer)
        let created = try customer.json(AnyJSON.self)
        return (
            ids[0], ids[1], ids[2], try #require(created["customer"]?["id"]?.int), try #require(created["contacts"]?[0]?["id"]?.int)
        )
    }

    static func schedule(_ api: API, _ body: String) async throws -> AnyJSON {
        let response = try await api.call(.post, "/v1/meetings", json: body)
        try api.expect(.created, response)
        return try response.json(AnyJSON.self)
    }

    @Test func aMeetingBelongsToTheOrganisersRegionAndListsItsAttendees() async throws {
        try await withTestApplication { api, database in
            let seeded = try await Self.seed(api)
            let meeting = try await Self.schedule(
                api,
                #"""
                {"title":"Quarterly review","start":"2026-12-07T09:00:00Z","end":"2026-12-07T10:30:00Z","organiser_id":\#(seeded.ada),
                 "member_ids":[\#(seeded.ben),\#(seeded.ada)],"customer_id":\#(seeded.customer),"contact_ids":[\#(seeded.contact)],
                 "agenda":"Volumes; prices, next year"}
                """#
            )
            #expect(meeting["region"]?.string == "emea")
            #expect(meeting["time_zone"]?.string == "Europe/Berlin")
            #expect(meeting["version"]?.int == 1)
            #expect(meeting["cancelled"]?.bool == false)
            // The organiser once, the other member, then the contact.
            let attendees = try #require(meeting["attendees"]?.array)
            #expect(attendees.map { $0["kind"]?.string ?? "" } == ["member", "member", "contact"])
            #expect(attendees.map { $0["id"]?.int ?? 0 } == [seeded.ada, seeded.ben, seeded.contact])
            #expect(attendees[2]["email"]?.string == "dora@acme.example")
            let id = try #require(meeting["id"]?.int)
            let fetched = try await api.call(.get, "/v1/meetings/\(id)")
            try api.expect(.ok, fetched)
            #expect(fetched.headers[.eTag] == #""1""#)
            let listed = try await api.call(.get, "/v1/meetings?member_id=\(seeded.ben)&from=2026-12-07T00:00:00Z&to=2026-12-08T00:00:00Z")
            #expect(try listed.json(AnyJSON.self)["meetings"]?.array.map { $0["id"]?.int ?? 0 } == [id])
            let apac = try await api.call(.get, "/v1/meetings?team=sales-apac")
            #expect(try apac.json(AnyJSON.self)["meetings"]?.array.count == 0)
            let events = try await database.pool.query(
                "SELECT count(*) AS n FROM events WHERE type = 'meeting.created' AND entity_type = 'meeting' AND entity_id = $1 AND region = 'emea'",
                [String(id)]
            )
            #expect(try events.first?.decode(Int.self, "n") == 1)
        }
    }

    @Test func aContactOfAnotherCustomerOrAnUnknownMemberIsARuleViolation() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            let times = #""start":"2026-12-07T09:00:00Z","end":"2026-12-07T10:00:00Z""#
            let noCustomer = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"T",\#(times),"organiser_id":\#(seeded.ada),"contact_ids":[\#(seeded.contact)]}"#
            )
            try api.expect(.unprocessableContent, noCustomer)
            #expect(try noCustomer.errorEnvelope().error.details?["field"] == "contact_ids")
            let unknown = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"T",\#(times),"organiser_id":\#(seeded.ada),"member_ids":[999999]}"#
            )
            try api.expect(.unprocessableContent, unknown)
            let backwards = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"T","start":"2026-12-07T10:00:00Z","end":"2026-12-07T09:00:00Z","organiser_id":\#(seeded.ada)}"#
            )
            try api.expect(.unprocessableContent, backwards)
            let zone = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"T",\#(times),"organiser_id":\#(seeded.ada),"time_zone":"Mars/Olympus"}"#
            )
            try api.expect(.unprocessableContent, zone)
            let shape = try await api.call(.post, "/v1/meetings", json: #"{"title":"T",\#(times),"organiser_id":0}"#)
            try api.expect(.badRequest, shape)
        }
    }

    /// A training session a member is due at books the member too; one they are excused from,
    /// or a cancelled one, does not.
    @Test func aTrainingSessionTheMemberIsDueAtIsADoubleBookingToo() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            // Ada and Ben (EMEA sales) are invited to 09:00–11:00 UTC on 7 and 14 December.
            let programme = try await TrainingEndpointTests.create(
                api,
                #"""
                {"region":"emea","title":"Negotiation","audience":{"departments":["sales"]},"cadence":"custom","every":1,"unit":"week",
                 "duration_minutes":120,"first_session":"2026-12-07T09:00:00Z","time_zone":"UTC","horizon_months":1}
                """#
            )
            let sessions = try #require(programme["sessions"]?.array)
            let (first, second) = (try #require(sessions[0]["id"]?.int), try #require(sessions[1]["id"]?.int))
            let clash = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"Forecast","start":"2026-12-07T10:30:00Z","end":"2026-12-07T11:30:00Z","organiser_id":\#(seeded.ada)}"#
            )
            try api.expect(.conflict, clash)
            let error = try clash.errorEnvelope().error
            #expect(error.details?["member_ids"] == "\(seeded.ada)")
            #expect(error.details?["training_session_ids"] == "\(first)")
            #expect(error.details?["meeting_ids"] == nil)
            #expect(error.message.contains("training session \(first) 'Negotiation'"))
            // Excused from the second session, Ada is free then; a cancelled session frees everyone.
            try api.expect(
                .ok,
                await api.call(
                    .put,
                    "/v1/training/sessions/\(second)/attendance",
                    json: #"{"attendance":[{"member_id":\#(seeded.ada),"status":"excused"}]}"#
                )
            )
            _ = try await Self.schedule(
                api,
                #"{"title":"Excused","start":"2026-12-14T09:00:00Z","end":"2026-12-14T10:00:00Z","organiser_id":\#(seeded.ada)}"#
            )
            try api.expect(
                .conflict,
                await api.call(
                    .post,
                    "/v1/meetings",
                    json: #"{"title":"Ben","start":"2026-12-14T09:00:00Z","end":"2026-12-14T10:00:00Z","organiser_id":\#(seeded.ben)}"#
                )
            )
            try api.expect(.ok, await api.call(.post, "/v1/training/sessions/\(first)/cancel"))
            _ = try await Self.schedule(
                api,
                #"{"title":"Forecast","start":"2026-12-07T10:30:00Z","end":"2026-12-07T11:30:00Z","organiser_id":\#(seeded.ada)}"#
            )
        }
    }

    @Test func doubleBookingAMemberIsAConflictNamingTheMeetingUnlessAllowed() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            let first = try await Self.schedule(
                api,
                #"{"title":"Pipeline review","start":"2026-12-07T09:00:00Z","end":"2026-12-07T10:00:00Z","organiser_id":\#(seeded.ada)}"#
            )
            let firstID = try #require(first["id"]?.int)
            // Ben organises; Ada is an attendee and is busy 09:00–10:00: 09:30–10:30 overlaps.
            let clash = try await api.call(
                .post,
                "/v1/meetings",
                json:
                    #"{"title":"Forecast","start":"2026-12-07T09:30:00Z","end":"2026-12-07T10:30:00Z","organiser_id":\#(seeded.ben),"member_ids":[\#(seeded.ada)]}"#
            )
            try api.expect(.conflict, clash)
            let error = try clash.errorEnvelope().error
            #expect(error.details?["member_ids"] == "\(seeded.ada)")
            #expect(error.details?["meeting_ids"] == "\(firstID)")
            #expect(error.message.contains("Pipeline review"))
            // Back to back is not a clash: the first ends when this one starts.
            _ = try await Self.schedule(
                api,
                #"{"title":"Next","start":"2026-12-07T10:00:00Z","end":"2026-12-07T11:00:00Z","organiser_id":\#(seeded.ben),"member_ids":[\#(seeded.ada)]}"#
            )
            // The organiser counts too: Ada organising 09:15–09:45 clashes with her own meeting.
            let own = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"Mine","start":"2026-12-07T09:15:00Z","end":"2026-12-07T09:45:00Z","organiser_id":\#(seeded.ada)}"#
            )
            try api.expect(.conflict, own)
            let allowed = try await Self.schedule(
                api,
                #"{"title":"Mine","start":"2026-12-07T09:15:00Z","end":"2026-12-07T09:45:00Z","organiser_id":\#(seeded.ada),"allow_conflict":true}"#
            )
            #expect(allowed["id"]?.int != nil)
            // Chen in APAC is free then.
            _ = try await Self.schedule(
                api,
                #"{"title":"APAC","start":"2026-12-07T09:00:00Z","end":"2026-12-07T10:00:00Z","organiser_id":\#(seeded.chen)}"#
            )
        }
    }

    @Test func movingAMeetingOntoABookedMemberIsAConflictAndCancellingFreesThem() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            let busy = try await Self.schedule(
                api,
                #"{"title":"Busy","start":"2026-12-08T14:00:00Z","end":"2026-12-08T15:00:00Z","organiser_id":\#(seeded.ben)}"#
            )
            let busyID = try #require(busy["id"]?.int)
            let meeting = try await Self.schedule(
                api,
                #"{"title":"Movable","start":"2026-12-08T09:00:00Z","end":"2026-12-08T10:00:00Z","organiser_id":\#(seeded.ada),"member_ids":[\#(seeded.ben)]}"#
            )
            let id = try #require(meeting["id"]?.int)
            let move = #"{"start":"2026-12-08T14:30:00Z","end":"2026-12-08T15:30:00Z"}"#
            let refused = try await api.call(.patch, "/v1/meetings/\(id)", json: move, headers: [Self.ifMatch: #""1""#])
            try api.expect(.conflict, refused)
            #expect(try refused.errorEnvelope().error.details?["meeting_ids"] == "\(busyID)")
            // A stale version is 412 before anything else.
            try api.expect(.preconditionFailed, await api.call(.patch, "/v1/meetings/\(id)", json: move, headers: [Self.ifMatch: #""7""#]))
            // Moving only the end keeps the start: 09:00–09:30 is free.
            let shorter = try await api.call(.patch, "/v1/meetings/\(id)", json: #"{"end":"2026-12-08T09:30:00Z"}"#, headers: [Self.ifMatch: #""1""#])
            try api.expect(.ok, shorter)
            #expect(try shorter.json(AnyJSON.self)["start"]?.instant == "2026-12-08T09:00:00Z")
            #expect(shorter.headers[.eTag] == #""2""#)
            // Once the busy meeting is cancelled, Ben is free at 14:30.
            let cancelled = try await api.call(.post, "/v1/meetings/\(busyID)/cancel")
            try api.expect(.ok, cancelled)
            #expect(try cancelled.json(AnyJSON.self)["cancelled"]?.bool == true)
            try api.expect(.conflict, await api.call(.post, "/v1/meetings/\(busyID)/cancel"))
            let moved = try await api.call(.patch, "/v1/meetings/\(id)", json: move, headers: [Self.ifMatch: #""2""#])
            try api.expect(.ok, moved)
            let body = try moved.json(AnyJSON.self)
            #expect(body["start"]?.instant == "2026-12-08T14:30:00Z")
            #expect(body["end"]?.instant == "2026-12-08T15:30:00Z")
            // A cancelled meeting is not edited.
            try api.expect(
                .conflict,
                await api.call(.patch, "/v1/meetings/\(busyID)", json: #"{"notes":"late"}"#, headers: [Self.ifMatch: #""2""#])
            )
        }
    }

    @Test func twoBookingsRacingForOneMemberCannotBothWin() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            for round in 0..<5 {
                let hour = 10 + round
                let start = "2026-12-09T\(hour):00:00Z"
                let end = "2026-12-09T\(hour):45:00Z"
                // Different organisers, one shared attendee (Ada): the member lock makes the
                // second wait for the first and then see its meeting.
                async let first = api.call(
                    .post,
                    "/v1/meetings",
                    json: #"{"title":"A\#(round)","start":"\#(start)","end":"\#(end)","organiser_id":\#(seeded.ben),"member_ids":[\#(seeded.ada)]}"#
                )
                async let second = api.call(
                    .post,
                    "/v1/meetings",
                    json: #"{"title":"B\#(round)","start":"\#(start)","end":"\#(end)","organiser_id":\#(seeded.chen),"member_ids":[\#(seeded.ada)]}"#
                )
                let statuses = [try await first.status, try await second.status].map(\.code).sorted()
                #expect(statuses == [201, 409], "round \(round)")
            }
            let listed = try await api.call(.get, "/v1/meetings?member_id=\(seeded.ada)")
            #expect(try listed.json(AnyJSON.self)["meetings"]?.array.count == 5)
        }
    }

    @Test func aMembersCalendarIsICalendarThatParsesBack() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            let longTitle = "Quarterly business review with Acme Pumps; volumes, prices, and the service contract — Größe ✓"
            let meeting = try await Self.schedule(
                api,
                #"""
                {"title":"\#(longTitle)","start":"2026-12-07T09:00:00Z","end":"2026-12-07T10:30:00Z","organiser_id":\#(seeded.ada),
                 "member_ids":[\#(seeded.ben)],"customer_id":\#(seeded.customer),"contact_ids":[\#(seeded.contact)],
                 "location":"Room 4, Berlin","agenda":"1. Volumes\n2. Prices \\ terms"}
                """#
            )
            let id = try #require(meeting["id"]?.int)
            let other = try await Self.schedule(
                api,
                #"{"title":"Cancelled one","start":"2026-12-10T09:00:00Z","end":"2026-12-10T10:00:00Z","organiser_id":\#(seeded.ada)}"#
            )
            try api.expect(.ok, await api.call(.post, "/v1/meetings/\(try #require(other["id"]?.int))/cancel"))
            let response = try await api.call(.get, "/v1/members/\(seeded.ada)/calendar.ics?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z")
            try api.expect(.ok, response)
            #expect(response.headers[.contentType]?.hasPrefix("text/calendar") == true)
            let text = response.text
            // Every line ends in CRLF and no physical line is longer than 75 octets.
            #expect(text.hasSuffix("\r\n"))
            let physical = text.components(separatedBy: "\r\n").dropLast()
            #expect(!physical.contains { $0.contains("\n") || $0.contains("\r") })
            #expect(physical.allSatisfy { $0.utf8.count <= 75 })
            #expect(physical.contains { $0.hasPrefix(" ") }, "the long summary is folded")

            let calendar = try ICSParser.parse(text)
            #expect(calendar.first { $0.name == "BEGIN" }?.value == "VCALENDAR")
            #expect(calendar.first { $0.name == "VERSION" }?.value == "2.0")
            let events = ICSParser.events(calendar)
            #expect(events.count == 2)
            let event = try #require(events.first { $0.value("UID") == "meeting-\(id)@baton" })
            #expect(event.value("SUMMARY").map(ICSParser.unescape) == longTitle)
            #expect(event.value("DTSTART") == "20261207T090000Z")
            #expect(event.value("DTEND") == "20261207T103000Z")
            #expect(event.value("LOCATION") == #"Room 4\, Berlin"#)
            #expect(event.value("LOCATION").map(ICSParser.unescape) == "Room 4, Berlin")
            #expect(event.value("DESCRIPTION").map(ICSParser.unescape) == "Agenda: 1. Volumes\n2. Prices \\ terms")
            #expect(event.value("STATUS") == "CONFIRMED")
            #expect(event.value("DTSTAMP")?.count == 16)
            let attendees = event.properties.filter { $0.name == "ATTENDEE" }
            #expect(attendees.map(\.value) == ["mailto:ada@example.com", "mailto:ben@example.com", "mailto:dora@acme.example"])
            #expect(attendees.map { $0.parameters["CN"] } == [#""Ada""#, #""Ben""#, #""Dora Buyer""#])
            #expect(event.properties.first { $0.name == "ORGANIZER" }?.value == "mailto:ada@example.com")
            let cancelled = try #require(events.first { $0.value("SUMMARY") == "Cancelled one" })
            #expect(cancelled.value("STATUS") == "CANCELLED")

            // The team's calendar holds the meetings of its members; APAC's has none of them.
            let team = try await api.call(.get, "/v1/teams/sales-emea/calendar.ics?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z")
            try api.expect(.ok, team)
            #expect(ICSParser.events(try ICSParser.parse(team.text)).count == 2)
            let apac = try await api.call(.get, "/v1/teams/sales-apac/calendar.ics?from=2026-12-01T00:00:00Z&to=2027-01-01T00:00:00Z")
            #expect(ICSParser.events(try ICSParser.parse(apac.text)).isEmpty)
            try api.expect(.notFound, await api.call(.get, "/v1/members/999999/calendar.ics"))
        }
    }

    @Test func aCallerOutsideTheRegionNeitherSeesNorExportsItsMeetings() async throws {
        try await withTestApplication { api, _ in
            let seeded = try await Self.seed(api)
            let meeting = try await Self.schedule(
                api,
                #"{"title":"EMEA only","start":"2026-12-07T09:00:00Z","end":"2026-12-07T10:00:00Z","organiser_id":\#(seeded.ada)}"#
            )
            let id = try #require(meeting["id"]?.int)
            let apac = try await api.makeToken(role: "coordinator", regions: ["apac"])
            try api.expect(.notFound, await api.call(.get, "/v1/meetings/\(id)", token: .some(apac)))
            let listed = try await api.call(.get, "/v1/meetings", token: .some(apac))
            #expect(try listed.json(AnyJSON.self)["meetings"]?.array.count == 0)
            let calendar = try await api.call(.get, "/v1/members/\(seeded.ada)/calendar.ics", token: .some(apac))
            try api.expect(.ok, calendar)
            #expect(ICSParser.events(try ICSParser.parse(calendar.text)).isEmpty)
            let scheduled = try await api.call(
                .post,
                "/v1/meetings",
                json: #"{"title":"T","start":"2026-12-07T11:00:00Z","end":"2026-12-07T12:00:00Z","organiser_id":\#(seeded.ada)}"#,
                token: .some(apac)
            )
            try api.expect(.unprocessableContent, scheduled)
        }
    }
}

extension AnyJSON {
    /// A time the API wrote (always with microseconds), without a zero fraction: `…T09:00:00Z`.
    var instant: String? { string?.replacingOccurrences(of: ".000000Z", with: "Z") }
}

/// A small RFC 5545 reader for the tests: unfolds lines, splits name, parameters and value.
enum ICSParser {
    struct Property: Equatable {
        var name: String
        var parameters: [String: String]
        var value: String
    }

    struct Event {
        var properties: [Property]
        func value(_ name: String) -> String? { properties.first { $0.name == name }?.value }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> [Property] {
        guard text.hasSuffix("\r\n") else { throw Malformed(description: "no CRLF at the end") }
        // Unfold: a CRLF followed by one space or tab continues the previous line.
        var unfolded: [String] = []
        for line in text.components(separatedBy: "\r\n").dropLast() {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                guard !unfolded.isEmpty else { throw Malformed(description: "a continuation first") }
                unfolded[unfolded.count - 1] += line.dropFirst()
            } else {
                unfolded.append(line)
            }
        }
        return try unfolded.map { line in
            // The name and parameters end at the first colon outside a quoted parameter value.
            var inQuotes = false
            var split: String.Index?
            for index in line.indices {
                if line[index] == "\"" { inQuotes.toggle() }
                if line[index] == ":" && !inQuotes {
                    split = index
                    break
                }
            }
            guard let split else { throw Malformed(description: "no colon in \(line)") }
            var head = line[..<split].split(separator: ";").map(String.init)
            let name = head.removeFirst()
            var parameters: [String: String] = [:]
            for parameter in head {
                let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { throw Malformed(description: "bad parameter \(parameter)") }
                parameters[pair[0]] = pair[1]
            }
            return Property(name: name, parameters: parameters, value: String(line[line.index(after: split)...]))
        }
    }

    static func events(_ properties: [Property]) -> [Event] {
        var events: [Event] = []
        var current: [Property]?
        for property in properties {
            if property.name == "BEGIN", property.value == "VEVENT" {
                current = []
            } else if property.name == "END", property.value == "VEVENT", let done = current {
                events.append(Event(properties: done))
                current = nil
            } else {
                current?.append(property)
            }
        }
        return events
    }

    /// A TEXT value with its escapes undone.
    static func unescape(_ value: String) -> String {
        var result = ""
        var escaping = false
        for character in value {
            if escaping {
                result.append(character == "n" || character == "N" ? "\n" : character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
