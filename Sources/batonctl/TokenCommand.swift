import ArgumentParser
import BatonCore
import Foundation
import PostgresClient

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
        @Option(help: "A team it reaches (repeatable).") var team: [String] = []
        @Option(help: "A region whose teams it reaches (repeatable).") var region: [String] = []
        @Flag(help: "Reach every team of every region (admin tokens do without teams and regions).") var allRegions = false
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
                let (info, secret) = try await options.withServices { services in
                    try await services.tokens.create(
                        NewToken(name: name, role: role, allRegions: allRegions, teams: team, regions: region, expiresAt: expiresAt),
                        by: cliPrincipal
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
                let tokens = try await options.withServices { try await $0.tokens.list(by: cliPrincipal) }
                if options.json {
                    try printJSON(tokens)
                } else {
                    printTable(
                        ["ID", "NAME", "ROLE", "SCOPE", "STATUS"],
                        tokens.map { token in
                            let scope = token.allRegions ? "all regions" : (token.teams + token.regions).joined(separator: ",")
                            let status =
                                token.revokedAt != nil
                                ? "revoked" : token.expiresAt.map { $0 < Date() ? "expired" : "active" } ?? "active"
                            return [String(token.id), token.name, token.role.rawValue, scope, status]
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
                let token = try await options.withServices { try await $0.tokens.revoke(id: id, by: cliPrincipal) }
                print("Revoked token \(token.id).")
            }
        }
    }
}
