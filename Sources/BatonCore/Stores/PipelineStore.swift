import Foundation
public import PostgresClient

/// Each region's pipeline: its stages and lost reasons, and the summary of the deals in it.
public struct PipelineStore: Sendable {
    let pool: ConnectionPool

    public init(pool: ConnectionPool) { self.pool = pool }

    /// A region's active stages and lost reasons, in order.
    public func settings(region: String, on connection: PostgresConnection? = nil) async throws -> PipelineSettings {
        let stagesQuery: PostgresQuery =
            "SELECT stage, name, probability FROM pipeline_stages WHERE region = \(region) AND active ORDER BY position"
        let reasonsQuery: PostgresQuery = "SELECT reason, name FROM lost_reasons WHERE region = \(region) AND active ORDER BY position"
        let stages = try await pool.query(stagesQuery, on: connection)
        let reasons = try await pool.query(reasonsQuery, on: connection)
        return PipelineSettings(
            region: region,
            stages: try stages.map {
                .init(
                    stage: try $0.decode(String.self, "stage"),
                    name: try $0.decode(String.self, "name"),
                    probability: try $0.decode(Int.self, "probability")
                )
            },
            lostReasons: try reasons.map { .init(reason: try $0.decode(String.self, "reason"), name: try $0.decode(String.self, "name")) }
        )
    }

    /// Replaces a region's stages and lost reasons, on the caller's transaction. Stages and
    /// reasons left out stay, inactive, for the deals and transitions that name them; a stage
    /// that open deals are in cannot be left out (409 naming it). With an event.
    public func replace(with settings: PipelineSettings, by principal: Principal, on tx: PostgresConnection) async throws {
        let region = settings.region
        try await tx.query("SELECT 1 FROM pipeline_stages WHERE region = \(region) FOR UPDATE")
        let codes = settings.stages.map(\.stage)
        if let busy = try await tx.query(
            """
            SELECT stage, count(*) AS open FROM opportunities
            WHERE region = \(region) AND outcome = 'open' AND deleted_at IS NULL AND stage <> ALL(\(codes)::text[])
            GROUP BY stage ORDER BY stage LIMIT 1
            """
        ).first {
            let stage = try busy.decode(String.self, "stage")
            let open = try busy.decode(Int.self, "open")
            throw BatonError(
                .conflict,
                "stage '\(stage)' has \(open) open opportunities; move them to another stage before taking it out",
                details: ["stage": stage, "open": String(open)]
            )
        }
        try await tx.query(
            """
            WITH listed AS (
                INSERT INTO pipeline_stages AS p (region, stage, name, position, probability, active)
                SELECT \(region), x.stage, x.name, x.position, x.probability, true
                FROM unnest(\(codes)::text[], \(settings.stages.map(\.name))::text[], \(settings.stages.map(\.probability))::integer[])
                     WITH ORDINALITY AS x(stage, name, probability, position)
                ON CONFLICT (region, stage) DO UPDATE
                    SET name = excluded.name, position = excluded.position, probability = excluded.probability, active = true
                RETURNING stage
            )
            UPDATE pipeline_stages SET active = false, position = position + 1000
            WHERE region = \(region) AND active AND stage NOT IN (SELECT stage FROM listed)
            """
        )
        let reasons = settings.lostReasons.map(\.reason)
        try await tx.query(
            """
            WITH listed AS (
                INSERT INTO lost_reasons AS r (region, reason, name, position, active)
                SELECT \(region), x.reason, x.name, x.position, true
                FROM unnest(\(reasons)::text[], \(settings.lostReasons.map(\.name))::text[]) WITH ORDINALITY AS x(reason, name, position)
                ON CONFLICT (region, reason) DO UPDATE SET name = excluded.name, position = excluded.position, active = true
                RETURNING reason
            )
            UPDATE lost_reasons SET active = false, position = position + 1000
            WHERE region = \(region) AND active AND reason NOT IN (SELECT reason FROM listed)
            """
        )
        try await EventStore(pool: pool).append(
            type: "pipeline.configured",
            entityType: "region",
            entityID: region,
            team: nil,
            region: region,
            dataJSON: PostgresJSON(["stages": codes.joined(separator: ","), "lost_reasons": reasons.joined(separator: ",")]).postgresText,
            by: principal,
            on: tx
        )
    }

    /// The open deals of a region per active stage (optionally one owner's), and the win rate
    /// over the last `windowDays` days.
    public func summary(region: String, ownerID: Int?, windowDays: Int) async throws -> PipelineSummary {
        let rows = try await pool.query(
            """
            SELECT s.stage, s.name, s.probability, s.position, o.currency, count(o.id) AS deals,
                   coalesce(sum(o.amount_minor), 0)::bigint AS amount,
                   coalesce(sum(round(o.amount_minor * coalesce(o.probability, s.probability) / 100.0)), 0)::bigint AS weighted,
                   avg(floor(extract(epoch FROM now() - o.stage_entered_at) / 86400))::float8 AS days_in_stage
            FROM pipeline_stages s
            LEFT JOIN opportunities o
                   ON o.region = s.region AND o.stage = s.stage AND o.outcome = 'open' AND o.deleted_at IS NULL
                  AND (\(ownerID)::bigint IS NULL OR o.owner_id = \(ownerID))
            WHERE s.region = \(region) AND s.active
            GROUP BY s.stage, s.name, s.probability, s.position, o.currency
            ORDER BY s.position, o.currency
            """
        )
        var stages: [PipelineSummary.StageLine] = []
        var daysWeighted: [String: (days: Double, deals: Int)] = [:]
        for row in rows {
            let stage = try row.decode(String.self, "stage")
            if stages.last?.stage != stage {
                stages.append(
                    .init(
                        stage: stage,
                        name: try row.decode(String.self, "name"),
                        probability: try row.decode(Int.self, "probability"),
                        count: 0,
                        amounts: [],
                        averageDaysInStage: nil
                    )
                )
            }
            guard let currency = try row.decode(String?.self, "currency") else { continue }
            let deals = try row.decode(Int.self, "deals")
            stages[stages.count - 1].count += deals
            stages[stages.count - 1].amounts.append(
                .init(currency: currency, amountMinor: try row.decode(Int.self, "amount"), weightedMinor: try row.decode(Int.self, "weighted"))
            )
            let days = try row.decode(Double.self, "days_in_stage")
            let sum = daysWeighted[stage] ?? (0, 0)
            daysWeighted[stage] = (sum.days + days * Double(deals), sum.deals + deals)
        }
        for index in stages.indices {
            if let sum = daysWeighted[stages[index].stage], sum.deals > 0 { stages[index].averageDaysInStage = sum.days / Double(sum.deals) }
        }
        guard
            let closed = try await pool.query(
                """
                SELECT count(*) FILTER (WHERE outcome = 'won') AS won, count(*) FILTER (WHERE outcome = 'lost') AS lost,
                       avg(extract(epoch FROM closed_at - created_at) / 86400) FILTER (WHERE outcome = 'won')::float8 AS days_to_win
                FROM opportunities
                WHERE region = \(region) AND deleted_at IS NULL AND closed_at IS NOT NULL
                  AND closed_at >= now() - make_interval(days => \(windowDays)::integer)
                  AND (\(ownerID)::bigint IS NULL OR owner_id = \(ownerID))
                """
            ).first
        else { throw BatonError(.internalError, "no win rate") }
        let won = try closed.decode(Int.self, "won")
        let lost = try closed.decode(Int.self, "lost")
        return PipelineSummary(
            region: region,
            stages: stages,
            winRate: .init(
                windowDays: windowDays,
                won: won,
                lost: lost,
                rate: won + lost == 0 ? nil : Double(won) / Double(won + lost),
                averageDaysToWin: try closed.decode(Double?.self, "days_to_win")
            )
        )
    }
}
