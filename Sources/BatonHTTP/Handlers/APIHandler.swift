import BatonCore
import Prometheus

/// Implements the operations of `openapi.yaml`, one extension per tag of the document
/// (`APIHandler+Tasks.swift` for the Tasks tag, …). A handler translates between the generated
/// types and the domain's and calls one service method; who may call it is the access table
/// (``UseCase``), checked before the handler runs (``AccessMiddleware``) and again by the service.
struct APIHandler: APIProtocol {
    let services: BatonServices
    let registry: PrometheusCollectorRegistry
    let settings: ServerSettings

    var database: BatonDatabase { services.database }
}
