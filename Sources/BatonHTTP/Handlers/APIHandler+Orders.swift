import BatonCore
import Foundation

extension APIHandler {
    func listOrders(_ input: Operations.ListOrders.Input) async throws -> Operations.ListOrders.Output {
        let query = input.query
        let page = try await services.orders.list(
            .init(region: query.region, customerID: query.customerId.map(Int.init), state: query.state.flatMap { OrderState(rawValue: $0.rawValue) }),
            page: try PageRequest(limit: query.limit, after: query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(orders: page.items.map(Components.Schemas.Order.init), nextCursor: page.nextCursor))))
    }

    func createOrder(_ input: Operations.CreateOrder.Input) async throws -> Operations.CreateOrder.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let order = try await services.orders.create(
            NewOrder(
                customerID: Int(body.customerId),
                region: body.region,
                opportunityID: body.opportunityId.map(Int.init),
                currency: body.currency,
                lines: body.lines.map(NewOrderLine.init),
                requestedDeliveryOn: try Self.date(body.requestedDeliveryOn, field: "requested_delivery_on"),
                notes: body.notes,
                credits: body.credits?.map(OrderCredit.init)
            ),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(Self.orderResponse(order))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        .ok(Self.orderResponse(try await services.orders.order(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateOrder(_ input: Operations.UpdateOrder.Input) async throws -> Operations.UpdateOrder.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let order = try await services.orders.update(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            OrderChanges(
                lines: body.lines?.map(NewOrderLine.init),
                requestedDeliveryOn: body.requestedDeliveryOn == "" ? nil : try Self.date(body.requestedDeliveryOn, field: "requested_delivery_on"),
                clearRequestedDeliveryOn: body.requestedDeliveryOn == "",
                notes: body.notes,
                credits: body.credits?.map(OrderCredit.init)
            ),
            by: principal
        )
        return .ok(Self.orderResponse(order))
    }

    func confirmOrder(_ input: Operations.ConfirmOrder.Input) async throws -> Operations.ConfirmOrder.Output {
        let principal = try RequestPrincipal.require()
        var allowBackorder = false
        if case .json(let body) = input.body { allowBackorder = body.allowBackorder ?? false }
        return .ok(Self.orderResponse(try await services.orders.confirm(id: Int(input.path.id), allowBackorder: allowBackorder, by: principal)))
    }

    func shipOrder(_ input: Operations.ShipOrder.Input) async throws -> Operations.ShipOrder.Output {
        .ok(Self.orderResponse(try await services.orders.ship(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func deliverOrder(_ input: Operations.DeliverOrder.Input) async throws -> Operations.DeliverOrder.Output {
        .ok(Self.orderResponse(try await services.orders.deliver(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func cancelOrder(_ input: Operations.CancelOrder.Input) async throws -> Operations.CancelOrder.Output {
        let principal = try RequestPrincipal.require()
        var reason: String?
        if case .json(let body) = input.body { reason = body.reason }
        return .ok(Self.orderResponse(try await services.orders.cancel(id: Int(input.path.id), reason: reason, by: principal)))
    }

    func holdOrder(_ input: Operations.HoldOrder.Input) async throws -> Operations.HoldOrder.Output {
        let principal = try RequestPrincipal.require()
        var reason: String?
        if case .json(let body) = input.body { reason = body.reason }
        return .ok(Self.orderResponse(try await services.orders.hold(id: Int(input.path.id), reason: reason, by: principal)))
    }

    func releaseOrder(_ input: Operations.ReleaseOrder.Input) async throws -> Operations.ReleaseOrder.Output {
        .ok(Self.orderResponse(try await services.orders.release(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    static func orderResponse(_ order: Order) -> Components.Responses.Order {
        .init(headers: .init(eTag: etag(order.version)), body: .json(.init(order)))
    }
}
