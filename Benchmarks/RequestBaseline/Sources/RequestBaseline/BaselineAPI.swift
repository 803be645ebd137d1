import Foundation
import OpenAPIRuntime

/// The two operations through the handlers generated from `openapi.yaml`.
struct BaselineAPI: APIProtocol {
    let ids = TaskIDs()

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok, version: "0.1.0"))))
    }

    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output {
        guard case .json(let new) = input.body else { fatalError("the document allows JSON only") }
        let now = Date()
        let id = ids.next()
        let task = Components.Schemas.Task(
            id: id,
            team: input.path.team,
            region: "emea",
            kind: new.kind,
            title: new.title,
            payload: .init(additionalProperties: new.payload?.additionalProperties ?? .init()),
            priority: new.priority ?? .normal,
            state: .queued,
            runAt: now,
            attempts: 0,
            maxAttempts: 5,
            tags: new.tags ?? [],
            createdBy: "token:1",
            chainId: id,
            createdAt: now,
            updatedAt: now
        )
        return .created(.init(body: .json(task)))
    }
}
