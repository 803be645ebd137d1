import Foundation
import Testing
import Yams

/// docker-compose.yml cannot be run here (no Docker engine), so it is checked by reading it.
@Suite struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every environment variable `baton serve` reads.
    static let knownVariables: Set<String> = [
        "BATON_HOST", "BATON_PORT", "BATON_DATABASE_URL", "BATON_DATA_DIR", "BATON_POOL_SIZE",
        "BATON_POOL_ACQUIRE_TIMEOUT", "BATON_REGION", "BATON_LOG_LEVEL", "BATON_LOG_FORMAT", "BATON_NO_MIGRATE",
        "BATON_MAX_BODY_BYTES", "BATON_SHUTDOWN_TIMEOUT", "BATON_SLA_INTERVAL",
        "BATON_IDLE_TIMEOUT", "BATON_WEBHOOKS_ALLOW_PRIVATE", "BATON_WEBHOOKS_TIMEOUT",
    ]

    static func compose() throws -> [String: Any] {
        let text = try String(contentsOf: root.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    static func environment(of service: [String: Any]) -> [String: String] {
        if let map = service["environment"] as? [String: Any] {
            return map.mapValues { "\($0)" }
        }
        let list = service["environment"] as? [String] ?? []
        return Dictionary(
            uniqueKeysWithValues: list.map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        )
    }

    @Test func composeRunsTwoRegionsServersOnOneDatabase() throws {
        let services = try #require(try Self.compose()["services"] as? [String: Any])
        let batonServices = services.filter { $0.key.hasPrefix("baton") }.compactMap { $0.value as? [String: Any] }
        let regions = batonServices.compactMap { Self.environment(of: $0)["BATON_REGION"] }
        #expect(Set(regions) == ["emea", "apac"], "one server per region")
        #expect(Set(batonServices.compactMap { Self.environment(of: $0)["BATON_DATABASE_URL"] }).count == 1, "one database")
        let ports = batonServices.flatMap { $0["ports"] as? [String] ?? [] }
        #expect(Set(ports).count == ports.count && ports.count == 2, "each server on its own host port: \(ports)")
        #expect(batonServices.allSatisfy { $0["healthcheck"] != nil })
    }

    @Test func composeIsValidYAMLWithAHealthyDatabaseBeforeBaton() throws {
        let services = try #require(try Self.compose()["services"] as? [String: Any])
        let postgres = try #require(services["postgres"] as? [String: Any])
        #expect(postgres["healthcheck"] != nil)
        let batonServices = services.filter { $0.key.hasPrefix("baton") }
        #expect(!batonServices.isEmpty)
        for (name, value) in batonServices {
            let service = try #require(value as? [String: Any])
            let dependsOn = try #require(service["depends_on"] as? [String: Any], "\(name) waits for postgres")
            let condition = (dependsOn["postgres"] as? [String: Any])?["condition"] as? String
            #expect(condition == "service_healthy")
            let environment = Self.environment(of: service)
            #expect(environment["BATON_DATABASE_URL"]?.hasPrefix("postgres://") == true)
            for key in environment.keys where key.hasPrefix("BATON_") {
                #expect(Self.knownVariables.contains(key), "\(name) sets \(key), which baton does not read")
            }
        }
    }

    @Test func theDockerfileBuildsBothBinariesAndRunsAsNonRoot() throws {
        let dockerfile = try String(contentsOf: Self.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("--product baton"))
        #expect(dockerfile.contains("--product batonctl"))
        #expect(dockerfile.contains("libpq5"))
        #expect(dockerfile.contains("USER "))
    }

    @Test func theReadmeDocumentsEveryVariable() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("swift run baton serve"))
        #expect(readme.contains("scripts/test.sh"))
        for variable in Self.knownVariables {
            #expect(readme.contains(variable), "README.md does not mention \(variable)")
        }
    }
}
