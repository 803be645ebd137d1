import BatonCore
import Foundation
import PostgresClient

extension APIHandler {
    // MARK: - Products

    func listProducts(_ input: Operations.ListProducts.Input) async throws -> Operations.ListProducts.Output {
        let page = try await services.inventory.products(
            category: input.query.category,
            activeOnly: input.query.active ?? false,
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(products: page.items.map(Components.Schemas.Product.init), nextCursor: page.nextCursor))))
    }

    func createProduct(_ input: Operations.CreateProduct.Input) async throws -> Operations.CreateProduct.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let product = try await services.inventory.createProduct(
            NewProduct(sku: body.sku, name: body.name, category: body.category, unitPriceMinor: Int(body.unitPriceMinor), currency: body.currency),
            idempotencyKey: RawRequestHeaders.idempotencyKey(parsed: input.headers.idempotencyKey),
            by: principal
        )
        return .created(Self.productResponse(product))
    }

    func getProduct(_ input: Operations.GetProduct.Input) async throws -> Operations.GetProduct.Output {
        .ok(Self.productResponse(try await services.inventory.product(id: Int(input.path.id), by: try RequestPrincipal.require())))
    }

    func updateProduct(_ input: Operations.UpdateProduct.Input) async throws -> Operations.UpdateProduct.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let product = try await services.inventory.updateProduct(
            id: Int(input.path.id),
            version: try Self.version(ifMatch: input.headers.ifMatch),
            ProductChanges(
                name: body.name,
                category: body.category,
                unitPriceMinor: body.unitPriceMinor.map(Int.init),
                currency: body.currency,
                active: body.active
            ),
            by: principal
        )
        return .ok(Self.productResponse(product))
    }

    // MARK: - Stock

    func listStock(_ input: Operations.ListStock.Input) async throws -> Operations.ListStock.Output {
        let page = try await services.inventory.levels(
            region: input.query.region,
            belowReorder: input.query.belowReorder ?? false,
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(stock: page.items.map(Components.Schemas.StockLevel.init), nextCursor: page.nextCursor))))
    }

    func verifyStock(_ input: Operations.VerifyStock.Input) async throws -> Operations.VerifyStock.Output {
        let found = try await services.inventory.verify(by: try RequestPrincipal.require())
        return .ok(.init(body: .json(.init(discrepancies: found.map(Components.Schemas.StockDiscrepancy.init)))))
    }

    func getStock(_ input: Operations.GetStock.Input) async throws -> Operations.GetStock.Output {
        let level = try await services.inventory.level(region: input.path.region, sku: input.path.sku, by: try RequestPrincipal.require())
        return .ok(Self.stockResponse(level))
    }

    func setStockSettings(_ input: Operations.SetStockSettings.Input) async throws -> Operations.SetStockSettings.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        var snooze: Date?
        if let text = body.snoozedUntil, !text.isEmpty {
            guard let time = PostgresTimestamp.parse(text), PostgresTimestamp.representable.contains(time) else {
                throw BatonError(.ruleViolation, "snoozed_until must be a time such as 2026-12-24T18:00:00Z", details: ["field": "snoozed_until"])
            }
            snooze = time
        }
        let level = try await services.inventory.updateLevel(
            region: input.path.region,
            sku: input.path.sku,
            version: try Self.version(ifMatch: input.headers.ifMatch, allowingZero: true),
            StockSettings(
                reorderPoint: body.reorderPoint.map(Int.init),
                reorderQuantity: body.reorderQuantity.map(Int.init),
                snoozedUntil: snooze,
                clearSnooze: body.snoozedUntil == ""
            ),
            by: principal
        )
        return .ok(Self.stockResponse(level))
    }

    func receiveStock(_ input: Operations.ReceiveStock.Input) async throws -> Operations.ReceiveStock.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let level = try await services.inventory.receive(
            region: input.path.region,
            sku: input.path.sku,
            quantity: Int(body.quantity),
            reason: body.reason,
            by: principal
        )
        return .ok(Self.stockResponse(level))
    }

    func adjustStock(_ input: Operations.AdjustStock.Input) async throws -> Operations.AdjustStock.Output {
        let principal = try RequestPrincipal.require()
        guard case .json(let body) = input.body else { throw BatonError.invalidArgument("expected JSON") }
        let level = try await services.inventory.adjust(
            region: input.path.region,
            sku: input.path.sku,
            delta: Int(body.delta),
            reason: body.reason,
            by: principal
        )
        return .ok(Self.stockResponse(level))
    }

    func listStockMovements(_ input: Operations.ListStockMovements.Input) async throws -> Operations.ListStockMovements.Output {
        let page = try await services.inventory.movements(
            region: input.path.region,
            sku: input.path.sku,
            page: try PageRequest(limit: input.query.limit, after: input.query.after),
            by: try RequestPrincipal.require()
        )
        return .ok(.init(body: .json(.init(movements: page.items.map(Components.Schemas.StockMovement.init), nextCursor: page.nextCursor))))
    }

    static func productResponse(_ product: Product) -> Components.Responses.Product {
        .init(headers: .init(eTag: etag(product.version)), body: .json(.init(product)))
    }

    static func stockResponse(_ level: StockLevel) -> Components.Responses.StockLevel {
        .init(headers: .init(eTag: etag(level.version)), body: .json(.init(level)))
    }
}
