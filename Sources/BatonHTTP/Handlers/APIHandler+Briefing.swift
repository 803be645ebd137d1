import BatonCore
import Foundation
import OpenAPIRuntime

extension APIHandler {
    func getBriefing(_ input: Operations.GetBriefing.Input) async throws -> Operations.GetBriefing.Output {
        let briefing = try await services.briefing.briefing(
            region: try Self.regionFilter(input.query.region),
            team: try Self.teamFilter(input.query.team),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(briefing))))
    }
}
