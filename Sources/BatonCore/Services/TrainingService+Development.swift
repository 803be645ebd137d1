import Foundation
import PostgresClient

extension TrainingService {
    /// Sets a member's competency levels (0 to 5); the view comes back against no role.
    public func setCompetencies(_ levels: [CompetencyLevel], member id: Int, by principal: Principal) async throws -> DevelopmentView {
        try principal.authorize(.setMemberCompetencies)
        guard (1...50).contains(levels.count) else { throw BatonError.invalidArgument("levels must list 1 to 50 competencies", field: "levels") }
        guard levels.allSatisfy({ (0...5).contains($0.level) }) else { throw BatonError.invalidArgument("a level is 0 to 5", field: "level") }
        guard Set(levels.map(\.competency)).count == levels.count else {
            throw BatonError(.ruleViolation, "a competency is listed twice", details: ["field": "levels"])
        }
        let store = self.store
        try await database.pool.transaction { tx in
            guard try await MemberStore(pool: database.pool).find(id: id) != nil else { throw BatonError.notFound("no member \(id)") }
            try await store.checkCompetencies(levels.map(\.competency), field: "levels", on: tx)
            try await store.setLevels(levels, member: id, by: principal, on: tx)
        }
        wakeups.eventsWritten()
        return try await store.development(member: id, role: nil, scope: principal.scope)
    }

    /// A member's development view, against `role`'s profile when given (an unknown role is 422).
    public func development(member id: Int, role: String?, by principal: Principal) async throws -> DevelopmentView {
        try principal.authorize(.getMemberDevelopment)
        guard try await MemberStore(pool: database.pool).find(id: id) != nil else { throw BatonError.notFound("no member \(id)") }
        if let role, try await !store.roleExists(role) {
            throw BatonError(.ruleViolation, "no role profile '\(role)'", details: ["field": "role"])
        }
        return try await store.development(member: id, role: role, scope: principal.scope)
    }
}
