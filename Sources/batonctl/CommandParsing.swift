import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

// Parsing the CLI's own notations (weeks, durations, escalation levels) and printing SLA records.

func setPolicy(_ id: Int, active: Bool, options: GlobalOptions) async throws {
    let policy = try await options.withServices { try await $0.sla.setPolicy(id: id, active: active, by: cliPrincipal) }
    print("\(active ? "Enabled" : "Disabled") policy \(policy.id): \(policy.name).")
}

let weekdayAbbreviations: [String: Weekday] = [
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

func scopeDescription(_ policy: SLAPolicy) -> String {
    var parts: [String] = []
    if let team = policy.team { parts.append("team \(team)") }
    if let department = policy.department { parts.append(department.rawValue) }
    if let from = policy.fromDepartment { parts.append("from \(from.rawValue)") }
    if let kind = policy.taskKind { parts.append("kind \(kind)") }
    if let priority = policy.priority { parts.append(priority.rawValue) }
    if !policy.tags.isEmpty { parts.append("tags \(policy.tags.joined(separator: ","))") }
    return parts.isEmpty ? "all tasks" : parts.joined(separator: ", ")
}

func printCalendar(_ calendar: RegionCalendar, json: Bool) {
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

struct CalendarOutput: Encodable {
    var region: String
    var timeZone: String
    var hours: [String: [String]]
    var holidays: [[String: String]]
    var isDefault: Bool
}

struct PolicyOutput: Encodable {
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

struct BreachOutput: Encodable {
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
