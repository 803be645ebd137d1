import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Add, list and deactivate members.",
        subcommands: [Add.self, List.self, Deactivate.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a member, optionally on teams.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Full name.") var name: String
        @Option(help: "Email address.") var email: String
        @Option(help: "team:role, such as logistics-emea:agent (repeatable).") var team: [String] = []

        func run() async throws {
            try await reportingFailures {
                let memberships = try team.map { entry -> (String, Membership.Role) in
                    let parts = entry.split(separator: ":")
                    guard parts.count == 2, let role = Membership.Role(rawValue: String(parts[1])) else {
                        throw CommandFailure(message: "--team takes team:role with role lead, agent or viewer")
                    }
                    return (String(parts[0]), role)
                }
                let member = try await options.withServices { services in
                    var member = try await services.referenceData.createMember(.init(name: name, email: email), by: cliPrincipal)
                    for (team, role) in memberships {
                        member = try await services.referenceData.addMembership(memberID: member.id, .init(team: team, role: role), by: cliPrincipal)
                    }
                    return member
                }
                if options.json { try printJSON(member) } else { print("Added member \(member.id) (\(member.email)).") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List members.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingFailures {
                let members = try await options.withServices { services in
                    try await services.referenceData.members(page: try PageRequest(limit: 200, after: nil), by: cliPrincipal).items
                }
                if options.json {
                    try printJSON(members)
                } else {
                    printTable(
                        ["ID", "NAME", "EMAIL", "ACTIVE", "TEAMS"],
                        members.map { member in
                            [
                                String(member.id), member.name, member.email, member.active ? "yes" : "no",
                                member.memberships.map { "\($0.team):\($0.role.rawValue)" }.joined(separator: ","),
                            ]
                        }
                    )
                }
            }
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate a member and revoke their tokens.")
        @OptionGroup var options: GlobalOptions
        @Argument var id: Int

        func run() async throws {
            try await reportingFailures {
                let member = try await options.withServices { try await $0.referenceData.deactivateMember(id: id, by: cliPrincipal) }
                print("Deactivated member \(member.id) (\(member.email)).")
            }
        }
    }
}
