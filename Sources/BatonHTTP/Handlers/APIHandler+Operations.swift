import BatonCore
import Metrics
import OpenAPIRuntime
import PostgresClient
import Prometheus

extension APIHandler {
    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok, version: BatonVersion.current))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        let statistics = await database.pool.statistics()
        let pool = Components.Schemas.PoolStatistics(
            size: statistics.size,
            open: statistics.open,
            idle: statistics.idle,
            inUse: statistics.inUse,
            waiters: statistics.waiters
        )
        let standby = database.standby.map { Components.Schemas.StandbyHealth(serving: $0.health.serving, lagSeconds: $0.health.lagSeconds) }
        switch await database.readiness() {
        case .ready(let version):
            return .ok(.init(body: .json(.init(status: .ready, schemaVersion: version, pool: pool, standby: standby))))
        case .unavailable(let reason, let version, let pending):
            return .serviceUnavailable(
                .init(
                    body: .json(
                        .init(
                            status: .unavailable,
                            reason: reason,
                            schemaVersion: version,
                            pendingMigrations: pending.isEmpty ? nil : pending,
                            pool: pool,
                            standby: standby
                        )
                    )
                )
            )
        }
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(PackageResources.openapi_yaml))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        let statistics = await database.pool.statistics()
        Gauge(label: "baton_db_pool_connections", dimensions: [("state", "in_use")]).record(statistics.inUse)
        Gauge(label: "baton_db_pool_connections", dimensions: [("state", "idle")]).record(statistics.idle)
        Gauge(label: "baton_db_pool_connections", dimensions: [("state", "open")]).record(statistics.open)
        Gauge(label: "baton_db_pool_size").record(statistics.size)
        Gauge(label: "baton_db_pool_waiters").record(statistics.waiters)
        do {
            for depth in try await services.tasks.queueDepths() {
                Gauge(label: "baton_queue_depth", dimensions: [("team", depth.team), ("state", depth.state)]).record(depth.count)
                if depth.state == "queued" {
                    Gauge(label: "baton_queue_oldest_age_seconds", dimensions: [("team", depth.team)]).record(depth.oldestAgeSeconds ?? 0)
                }
            }
            Gauge(label: "baton_metrics_database_up").record(1)
        } catch {
            // The process's own figures are still worth scraping while the database is away.
            Gauge(label: "baton_metrics_database_up").record(0)
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return .ok(.init(body: .plainText(HTTPBody(buffer))))
    }
}
