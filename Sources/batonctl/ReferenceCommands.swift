import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

/// The principal CLI changes are recorded under.
let cliPrincipal = Principal.system(source: "cli")

struct RegionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region",
        abstract: "Add and list regions.",
        subcommands: [Add.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a region.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Region code, such as emea.") var code: String
        @Option(help: "Display name.") var name: String
        @Option(help: "IANA time zone.") var timeZone = "UTC"

        func run() async throws {
            try await reportingFailures {
                let region = try await options.withDatabase { database in
                    try await database.pool.transaction { tx in
                        try await database.regions.create(code: code, name: name, timeZone: timeZone, by: cliPrincipal, on: tx)
                    }
                }
                if options.json { try printJSON(region) } else { print("Added region \(region.code) (\(region.timeZone)).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List regions.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let regions = try await options.withDatabase { database in
                    try await database.regions.list(try PageRequest(limit: 200, after: nil)).items
                }
                if options.json {
                    try printJSON(regions)
                } else {
                    printTable(["CODE", "NAME", "TIME ZONE"], regions.map { [$0.code, $0.name, $0.timeZone] })
                }
            }
        }
    }
}

struct TeamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "team",
        abstract: "Add, list, pause and resume teams.",
        subcommands: [Add.self, List.self, Pause.self, Resume.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a team (a department in a region).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "sales, marketing, logistics, support or coordination.") var department: String
        @Option(help: "Region code.") var region: String
        @Option(help: "Slug (default: department-region).") var slug: String?
        @Option(help: "Display name.") var name: String?

        func run() async throws {
            try await reportingFailures {
                guard let department = Department(rawValue: department) else {
                    throw CommandFailure(message: "department must be one of \(Department.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let team = try await options.withDatabase { database in
                    try await database.pool.transaction { tx in
                        try await database.teams.create(
                            .init(department: department, region: region, slug: slug, name: name),
                            by: cliPrincipal,
                            on: tx
                        )
                    }
                }
                if options.json { try printJSON(team) } else { print("Added team \(team.slug).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List teams.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only this region.") var region: String?

        func run() async throws {
            try await reportingFailures {
                let teams = try await options.withDatabase { database in
                    try await database.teams.list(try PageRequest(limit: 200, after: nil), region: region).items
                }
                if options.json {
                    try printJSON(teams)
                } else {
                    printTable(
                        ["SLUG", "DEPARTMENT", "REGION", "PAUSED", "NAME"],
                        teams.map { [$0.slug, $0.department.rawValue, $0.region, $0.paused ? "yes" : "no", $0.name] }
                    )
                }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop handing out a team's tasks.")
        @OptionGroup var options: GlobalOptions
        @Argument var slug: String

        func run() async throws {
            try await reportingFailures {
                let team = try await options.withDatabase { try await $0.teams.setPaused(slug, paused: true, by: cliPrincipal) }
                if options.json { try printJSON(team) } else { print("Paused \(team.slug).") }
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand out a team's tasks again.")
        @OptionGroup var options: GlobalOptions
        @Argument var slug: String

        func run() async throws {
            try await reportingFailures {
                let team = try await options.withDatabase { try await $0.teams.setPaused(slug, paused: false, by: cliPrincipal) }
                if options.json { try printJSON(team) } else { print("Resumed \(team.slug).") }
            }
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print its secret once.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "A name to recognise it by.") var name: String
        @Option(help: "admin, coordinator, lead, agent or viewer.") var role: String
        @Option(help: "Narrow to this team (repeatable).") var team: [String] = []
        @Option(help: "Narrow to this region (repeatable).") var region: [String] = []
        @Option(help: "Lifetime such as 90d, 12h or 30m.") var expires: String?

        func run() async throws {
            try await reportingFailures {
                guard let role = Role(rawValue: role) else {
                    throw CommandFailure(message: "role must be one of admin, coordinator, lead, agent, viewer")
                }
                let expiresAt = try expires.map { text -> Date in
                    guard let seconds = Self.seconds(text) else {
                        throw CommandFailure(message: "--expires takes a lifetime such as 90d, 12h or 30m")
                    }
                    return Date().addingTimeInterval(seconds)
                }
                let (info, secret) = try await options.withDatabase { database in
                    try await TokenStore(pool: database.pool).create(
                        NewToken(name: name, role: role, teams: team, regions: region, expiresAt: expiresAt),
                        createdBy: "cli"
                    )
                }
                if options.json {
                    struct Created: Encodable {
                        var token: TokenInfo
                        var secret: String
                    }
                    try printJSON(Created(token: info, secret: secret))
                } else {
                    print("Token \(info.id) (\(info.role.rawValue)) created. Its secret is shown only now:")
                    print(secret)
                }
            }
        }

        static func seconds(_ text: String) -> Double? {
            guard let unit = text.last, let value = Double(text.dropLast()), value > 0 else { return nil }
            switch unit {
            case "d": return value * 86400
            case "h": return value * 3600
            case "m": return value * 60
            default: return nil
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let tokens = try await options.withDatabase { try await TokenStore(pool: $0.pool).list() }
                if options.json {
                    try printJSON(tokens)
                } else {
                    printTable(
                        ["ID", "NAME", "ROLE", "SCOPE", "STATUS"],
                        tokens.map { token in
                            let scope = (token.teams + token.regions).joined(separator: ",")
                            let status =
                                token.revokedAt != nil
                                ? "revoked" : token.expiresAt.map { $0 < Date() ? "expired" : "active" } ?? "active"
                            return [String(token.id), token.name, token.role.rawValue, scope.isEmpty ? "all" : scope, status]
                        }
                    )
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token (effective within seconds).")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int

        func run() async throws {
            try await reportingFailures {
                let revoked = try await options.withDatabase { try await TokenStore(pool: $0.pool).revoke(id: id) }
                guard revoked else { throw CommandFailure(message: "no token \(id)") }
                print("Revoked token \(id).")
            }
        }
    }
}
