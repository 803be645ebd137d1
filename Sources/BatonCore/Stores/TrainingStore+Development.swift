import Foundation
import PostgresClient

extension TrainingStore {
    /// Sets a member's levels (the competencies given; others stay) with an event.
    func setLevels(_ levels: [CompetencyLevel], member id: Int, by principal: Principal, on tx: PostgresConnection) async throws {
        try await tx.query(
            """
            WITH set AS (
                INSERT INTO member_competencies (member_id, competency, level)
                SELECT \(id), l.competency, l.level
                FROM unnest(\(levels.map(\.competency))::text[], \(levels.map(\.level))::int[]) AS l (competency, level)
                ON CONFLICT (member_id, competency) DO UPDATE SET level = excluded.level, updated_at = now()
                RETURNING member_id
            ),
            one AS (SELECT DISTINCT member_id FROM set),
            written AS (
                \(EventStore.insert("member.competencies_set", from: "one", entityType: "member", entity: "one.member_id::text", region: "NULL", data: "jsonb_build_object('competencies', \(levels.count))", by: principal))
            )
            SELECT count(*) AS n FROM set
            """
        )
    }

    /// Whether the role has a profile.
    func roleExists(_ role: String) async throws -> Bool {
        try await pool.query("SELECT 1 AS one FROM role_profiles WHERE role = \(role) LIMIT 1").first != nil
    }

    /// Every competency of the catalogue with the member's level, the role's target and the
    /// sessions the member attended (not cancelled, of programmes within `scope`) that build it.
    func development(member id: Int, role: String?, scope: Scope) async throws -> DevelopmentView {
        let rows = try await pool.query(
            """
            SELECT c.code, c.name, coalesce(mc.level, 0) AS level, rp.level AS target,
                   (SELECT count(*) FROM training_attendance a
                    JOIN training_sessions s ON s.id = a.session_id AND s.cancelled_at IS NULL
                    JOIN training_programmes p ON p.id = s.programme_id
                    WHERE a.member_id = \(id) AND a.status = 'attended' AND c.code = ANY(p.competencies)
                      AND \(scope.regionCondition("p.region"))) AS attended
            FROM competencies c
            LEFT JOIN member_competencies mc ON mc.member_id = \(id) AND mc.competency = c.code
            LEFT JOIN role_profiles rp ON rp.role = \(role) AND rp.competency = c.code
            ORDER BY c.code
            """
        )
        return DevelopmentView(
            memberID: id,
            role: role,
            entries: try rows.map {
                let level = try $0.decode(Int.self, "level")
                let target = try $0.decode(Int?.self, "target")
                return DevelopmentView.Entry(
                    competency: try $0.decode(String.self, "code"),
                    name: try $0.decode(String.self, "name"),
                    level: level,
                    target: target,
                    gap: target.map { max(0, $0 - level) },
                    attendedSessions: try $0.decode(Int.self, "attended")
                )
            }
        )
    }
}
