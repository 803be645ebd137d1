import Foundation
import Hummingbird

/// The two operations as plain Hummingbird routes: Codable in, Codable out.
enum BareRoutes {
    static func register(on router: Router<BasicRequestContext>) {
        let ids = TaskIDs()
        router.get("/healthz") { _, _ in
            Health(status: "ok", version: "0.1.0")
        }
        router.post("/v1/teams/:team/tasks") { request, context -> EditedResponse<Task> in
            let input = try await request.decode(as: NewTask.self, context: context)
            let team = try context.parameters.require("team")
            let now = Date()
            let id = ids.next()
            let task = Task(
                id: id,
                team: team,
                region: "emea",
                kind: input.kind,
                title: input.title,
                priority: input.priority ?? "normal",
                state: "queued",
                runAt: now,
                attempts: 0,
                maxAttempts: 5,
                tags: input.tags ?? [],
                createdBy: "token:1",
                chainID: id,
                createdAt: now,
                updatedAt: now
            )
            return EditedResponse(status: .created, response: task)
        }
    }

    struct Health: ResponseCodable {
        let status: String
        let version: String
    }

    struct NewTask: Decodable {
        let kind: String
        let title: String
        let priority: String?
        let tags: [String]?
    }

    struct Task: ResponseCodable {
        let id: Int64
        let team: String
        let region: String
        let kind: String
        let title: String
        var payload: [String: String] = [:]
        let priority: String
        let state: String
        let runAt: Date
        let attempts: Int
        let maxAttempts: Int
        let tags: [String]
        let createdBy: String
        let chainID: Int64
        let createdAt: Date
        let updatedAt: Date

        enum CodingKeys: String, CodingKey {
            case id, team, region, kind, title, payload, priority, state, attempts, tags
            case runAt = "run_at"
            case maxAttempts = "max_attempts"
            case createdBy = "created_by"
            case chainID = "chain_id"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }
    }
}
