import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct CalendarCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calendar",
        abstract: "Show and set a region's business calendar.",
        subcommands: [Show.self, Set.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a region's time zone, working hours and holidays.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String

        func run() async throws {
            try await reportingFailures {
                let calendar = try await options.withDatabase { database in
                    guard let calendar = try await CalendarStore(pool: database.pool).calendar(region: region) else {
                        throw BatonError.notFound("no region '\(region)'")
                    }
                    return calendar
                }
                printCalendar(calendar, json: options.json)
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a region's working hours.",
            discussion: """
                Each --day gives weekdays and their intervals, e.g. --day mon-fri=09:00-12:30,13:30-18:00 --day sat=10:00-14:00.
                Weekdays not given have no working hours. Holidays are kept.
                """
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String
        @Option(name: .customLong("day"), help: "DAYS=INTERVALS, such as mon-fri=09:00-17:00.") var days: [String] = []
        @Option(help: "New IANA time zone for the region, such as Europe/Berlin.") var timeZone: String?

        func run() async throws {
            try await reportingFailures {
                let hours = try parseWeek(days)
                let calendar = try await options.withDatabase { database in
                    try await database.pool.transaction { tx in
                        try await CalendarStore(pool: database.pool).set(
                            region: region,
                            timeZone: timeZone,
                            hours: hours,
                            holidays: nil,
                            by: cliPrincipal,
                            on: tx
                        )
                    }
                }
                printCalendar(calendar, json: options.json)
            }
        }
    }
}

struct HolidayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "holiday",
        abstract: "Add and remove a region's holidays.",
        subcommands: [Add.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a holiday: no working time on that local date.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String
        @Argument(help: "Date, YYYY-MM-DD.") var date: String
        @Argument(help: "Name, such as \"Christmas Day\".") var name: String

        func run() async throws {
            try await reportingFailures {
                guard let day = LocalDate(parsing: date) else { throw CommandFailure(message: "'\(date)' is not a date (YYYY-MM-DD)") }
                let holiday = try await options.withDatabase { database in
                    try await database.pool.transaction { tx in
                        try await CalendarStore(pool: database.pool).addHoliday(
                            region: region,
                            Holiday(date: day, name: name),
                            by: cliPrincipal,
                            on: tx
                        )
                    }
                }
                if options.json {
                    try printJSON(["region": region, "date": holiday.date.description, "name": holiday.name])
                } else {
                    print("Added holiday \(holiday.date) (\(holiday.name)) to \(region).")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a holiday.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code.") var region: String
        @Argument(help: "Date, YYYY-MM-DD.") var date: String

        func run() async throws {
            try await reportingFailures {
                guard let day = LocalDate(parsing: date) else { throw CommandFailure(message: "'\(date)' is not a date (YYYY-MM-DD)") }
                try await options.withDatabase { database in
                    try await database.pool.transaction { tx in
                        try await CalendarStore(pool: database.pool).removeHoliday(region: region, date: day, by: cliPrincipal, on: tx)
                    }
                }
                print("Removed holiday \(day) from \(region).")
            }
        }
    }
}

struct SLACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sla",
        abstract: "SLA and OLA policies and breaches.",
        subcommands: [List.self, Add.self, Disable.self, Enable.self, Breaches.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies, active first.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let policies = try await options.withDatabase { try await SLAPolicyStore(pool: $0.pool).list() }
                if options.json {
                    try printJSON(policies.map(PolicyOutput.init))
                } else {
                    printTable(
                        ["ID", "NAME", "KIND", "APPLIES TO", "CLAIM", "DONE", "LEVELS", "ACTIVE"],
                        policies.map { policy in
                            [
                                String(policy.id), policy.name, policy.kind.rawValue, scopeDescription(policy),
                                policy.claimWithinMinutes.map { "\($0)m" } ?? "-", policy.doneWithinMinutes.map { "\($0)m" } ?? "-",
                                String(policy.escalations.count), policy.active ? "yes" : "no",
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a policy. Targets are business minutes in the calendar of the task's region (or --calendar-region).",
            discussion: """
                Escalation levels, in order: --escalate BASIS+DELAY:ACTION[:ARGUMENT][:skip-if-updated], where BASIS is breach or
                at_risk, DELAY business time (30m, 2h), ACTION raise_priority[:PRIORITY], notify[:MESSAGE], handoff:TEAM or
                create_task[:TEAM]. Example: --escalate breach+0m:raise_priority:urgent --escalate breach+2h:create_task
                """
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Policy name.") var name: String
        @Option(help: "sla (customer-facing) or ola (between departments).") var kind = "sla"
        @Option(help: "Only this team.") var team: String?
        @Option(help: "Only this department.") var department: String?
        @Option(help: "Only tasks of this kind.") var taskKind: String?
        @Option(help: "Only tasks of this priority.") var priority: String?
        @Option(name: .customLong("tag"), help: "Only tasks with any of these tags (repeatable).") var tags: [String] = []
        @Option(help: "Only tasks handed off from this department (an OLA).") var fromDepartment: String?
        @Option(help: "First-response target: 30m, 4h or minutes.") var claimWithin: String?
        @Option(help: "Resolution target: 30m, 4h or minutes.") var doneWithin: String?
        @Option(help: "Count in this region's calendar instead of the task's.") var calendarRegion: String?
        @Option(name: .customLong("escalate"), help: "An escalation level (repeatable, in order).") var levels: [String] = []

        func run() async throws {
            try await reportingFailures {
                guard let kind = SLAKind(rawValue: kind) else { throw CommandFailure(message: "--kind must be sla or ola") }
                let policy = NewSLAPolicy(
                    name: name,
                    kind: kind,
                    team: team,
                    department: try department.map(parseDepartment),
                    taskKind: taskKind,
                    priority: try priority.map(parsePriority),
                    tags: tags,
                    fromDepartment: try fromDepartment.map(parseDepartment),
                    claimWithinMinutes: try claimWithin.map(parseMinutes),
                    doneWithinMinutes: try doneWithin.map(parseMinutes),
                    calendarRegion: calendarRegion,
                    escalations: try levels.map(parseLevel)
                )
                let created = try await options.withDatabase { database in
                    try await database.pool.transaction { tx in try await SLAPolicyStore(pool: database.pool).create(policy, by: cliPrincipal, on: tx)
                    }
                }
                if options.json { try printJSON(PolicyOutput(created)) } else { print("Added policy \(created.id): \(created.name).") }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop applying a policy to new tasks; running clocks keep going.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Policy id.") var id: Int

        func run() async throws {
            try await reportingFailures { try await setPolicy(id, active: false, options: options) }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply a disabled policy to new tasks again.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Policy id.") var id: Int

        func run() async throws {
            try await reportingFailures { try await setPolicy(id, active: true, options: options) }
        }
    }

    struct Breaches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List breached SLA clocks, oldest breach first.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this region.") var region: String?
        @Option(help: "Only this team.") var team: String?
        @Option(help: "Only breaches at or after this time (RFC 3339).") var since: String?
        @Option(help: "At most this many (1-200).") var limit = 100

        func run() async throws {
            try await reportingFailures {
                var sinceDate: Date?
                if let since {
                    guard let parsed = PostgresTimestamp.parse(since) else { throw CommandFailure(message: "--since must be an RFC 3339 time") }
                    sinceDate = parsed
                }
                let breaches = try await options.withDatabase { database in
                    try await SLAClockStore(pool: database.pool).breaches(
                        teams: team.map { [$0] },
                        region: region,
                        since: sinceDate,
                        page: try PageRequest(limit: limit, after: nil)
                    ).items
                }
                if options.json {
                    try printJSON(breaches.map(BreachOutput.init))
                } else {
                    printTable(
                        ["TASK", "TEAM", "TARGET", "POLICY", "DUE", "BREACHED", "TASK STATE", "TITLE"],
                        breaches.map { breach in
                            [
                                String(breach.clock.taskID), breach.clock.team, breach.clock.target.rawValue, breach.clock.policyName,
                                PostgresTimestamp.formatRFC3339(breach.clock.dueAt).prefix(19) + "Z",
                                breach.clock.breachedAt.map { String(PostgresTimestamp.formatRFC3339($0).prefix(19)) + "Z" } ?? "-",
                                breach.state.rawValue, String(breach.title.prefix(50)),
                            ]
                        }
                    )
                }
            }
        }
    }
}

// MARK: - Parsing and printing

private func setPolicy(_ id: Int, active: Bool, options: GlobalOptions) async throws {
    let policy = try await options.withDatabase { database in
        try await database.pool.transaction { tx in try await SLAPolicyStore(pool: database.pool).setActive(id: id, active, by: cliPrincipal, on: tx)
        }
    }
    print("\(active ? "Enabled" : "Disabled") policy \(policy.id): \(policy.name).")
}

private let weekdayAbbreviations: [String: Weekday] = [
    "mon": .monday, "tue": .tuesday, "wed": .wednesday, "thu": .thursday, "fri": .friday, "sat": .saturday, "sun": .sunday,
]

/// `mon-fri=09:00-12:30,13:30-18:00` entries into a week; a day named twice is an error.
func parseWeek(_ entries: [String]) throws -> [Weekday: [WorkingInterval]] {
    var week: [Weekday: [WorkingInterval]] = [:]
    for entry in entries {
        let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw CommandFailure(message: "--day '\(entry)' must look like mon-fri=09:00-17:00") }
        let dayNames = parts[0].lowercased().split(separator: "-").map(String.init)
        guard let first = dayNames.first.flatMap({ weekdayAbbreviations[$0] ?? Weekday(name: $0) }),
            let last = (dayNames.count == 2 ? dayNames.last : dayNames.first).flatMap({ weekdayAbbreviations[$0] ?? Weekday(name: $0) }),
            dayNames.count <= 2, first.rawValue <= last.rawValue
        else {
            throw CommandFailure(message: "--day '\(entry)': days are mon, tue, … sun or a range such as mon-fri")
        }
        let intervals = try parts[1].split(separator: ",").map { text in
            do {
                return try WorkingInterval(parsing: String(text))
            } catch let error as BusinessCalendarError {
                throw CommandFailure(message: "--day '\(entry)': \(error.message)")
            }
        }
        for raw in first.rawValue...last.rawValue {
            guard let weekday = Weekday(rawValue: raw) else { continue }
            guard week[weekday] == nil else { throw CommandFailure(message: "--day names \(weekday.name) twice") }
            week[weekday] = intervals
        }
    }
    return week
}

/// `90`, `90m` or `4h` as minutes.
func parseMinutes(_ text: String) throws -> Int {
    let lower = text.lowercased()
    let (digits, factor) = lower.hasSuffix("h") ? (lower.dropLast(), 60) : lower.hasSuffix("m") ? (lower.dropLast(), 1) : (Substring(lower), 1)
    guard let value = Int(digits), value >= 0, case let (minutes, overflow) = value.multipliedReportingOverflow(by: factor), !overflow
    else { throw CommandFailure(message: "'\(text)' is not a duration such as 30m or 4h") }
    return minutes
}

func parseDepartment(_ text: String) throws -> Department {
    guard let department = Department(rawValue: text) else {
        throw CommandFailure(message: "'\(text)' is not a department (\(Department.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return department
}

func parsePriority(_ text: String) throws -> TaskPriority {
    guard let priority = TaskPriority(rawValue: text) else {
        throw CommandFailure(message: "'\(text)' is not a priority (urgent, high, normal, low)")
    }
    return priority
}

/// `breach+30m:raise_priority:urgent[:skip-if-updated]` into a level.
func parseLevel(_ text: String) throws -> EscalationLevel {
    var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    let skip = parts.last == "skip-if-updated"
    if skip { parts.removeLast() }
    guard parts.count >= 2, parts.count <= 3 else {
        throw CommandFailure(message: "--escalate '\(text)' must look like breach+30m:raise_priority or at_risk+0m:notify")
    }
    let when = parts[0].split(separator: "+", maxSplits: 1).map(String.init)
    guard when.count == 2, let basis = EscalationLevel.Basis(rawValue: when[0]) else {
        throw CommandFailure(message: "--escalate '\(text)': start with breach+DELAY or at_risk+DELAY")
    }
    guard let action = EscalationAction(rawValue: parts[1]) else {
        throw CommandFailure(message: "--escalate '\(text)': the action is raise_priority, notify, handoff or create_task")
    }
    let argument = parts.count == 3 ? parts[2] : nil
    var level = EscalationLevel(basis: basis, afterMinutes: try parseMinutes(when[1]), action: action, skipIfUpdated: skip)
    switch action {
    case .raisePriority: level.priority = try argument.map(parsePriority)
    case .notify: level.message = argument
    case .handoff, .createTask: level.team = argument
    }
    return level
}

private func scopeDescription(_ policy: SLAPolicy) -> String {
    var parts: [String] = []
    if let team = policy.team { parts.append("team \(team)") }
    if let department = policy.department { parts.append(department.rawValue) }
    if let from = policy.fromDepartment { parts.append("from \(from.rawValue)") }
    if let kind = policy.taskKind { parts.append("kind \(kind)") }
    if let priority = policy.priority { parts.append(priority.rawValue) }
    if !policy.tags.isEmpty { parts.append("tags \(policy.tags.joined(separator: ","))") }
    return parts.isEmpty ? "all tasks" : parts.joined(separator: ", ")
}

private func printCalendar(_ calendar: RegionCalendar, json: Bool) {
    let week = Weekday.allCases.map { weekday in
        (weekday.name, (calendar.hours[weekday] ?? []).map(\.description).joined(separator: ", "))
    }
    if json {
        let output = CalendarOutput(
            region: calendar.region,
            timeZone: calendar.timeZone,
            hours: Dictionary(uniqueKeysWithValues: week.map { ($0.0, $0.1.isEmpty ? [] : $0.1.components(separatedBy: ", ")) }),
            holidays: calendar.holidays.map { ["date": $0.date.description, "name": $0.name] },
            isDefault: calendar.isDefault
        )
        try? printJSON(output)
        return
    }
    print("Region \(calendar.region), time zone \(calendar.timeZone)\(calendar.isDefault ? " (standard hours: none set)" : "")")
    printTable(["DAY", "WORKING HOURS"], week.map { [$0.0, $0.1.isEmpty ? "-" : $0.1] })
    if calendar.holidays.isEmpty {
        print("No holidays.")
    } else {
        printTable(["HOLIDAY", "NAME"], calendar.holidays.map { [$0.date.description, $0.name] })
    }
}

private struct CalendarOutput: Encodable {
    var region: String
    var timeZone: String
    var hours: [String: [String]]
    var holidays: [[String: String]]
    var isDefault: Bool
}

private struct PolicyOutput: Encodable {
    var id: Int
    var name: String
    var kind: String
    var team: String?
    var department: String?
    var taskKind: String?
    var priority: String?
    var tags: [String]
    var fromDepartment: String?
    var claimWithinMinutes: Int?
    var doneWithinMinutes: Int?
    var calendarRegion: String?
    var escalations: [EscalationLevel]
    var active: Bool

    init(_ policy: SLAPolicy) {
        id = policy.id
        name = policy.name
        kind = policy.kind.rawValue
        team = policy.team
        department = policy.department?.rawValue
        taskKind = policy.taskKind
        priority = policy.priority?.rawValue
        tags = policy.tags
        fromDepartment = policy.fromDepartment?.rawValue
        claimWithinMinutes = policy.claimWithinMinutes
        doneWithinMinutes = policy.doneWithinMinutes
        calendarRegion = policy.calendarRegion
        escalations = policy.escalations
        active = policy.active
    }
}

private struct BreachOutput: Encodable {
    var taskID: Int
    var team: String
    var region: String
    var target: String
    var policy: String
    var dueAt: Date
    var breachedAt: Date?
    var taskState: String
    var title: String

    init(_ breach: SLAClockStore.Breach) {
        taskID = breach.clock.taskID
        team = breach.clock.team
        region = breach.clock.region
        target = breach.clock.target.rawValue
        policy = breach.clock.policyName
        dueAt = breach.clock.dueAt
        breachedAt = breach.clock.breachedAt
        taskState = breach.state.rawValue
        title = breach.title
    }
}
