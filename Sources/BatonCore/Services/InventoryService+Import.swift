import Foundation
import PostgresClient

/// Loading the catalogue from a CSV file: each row checked as the API checks a product, then
/// every product added or brought up to date by sku in one transaction: all or nothing, unless
/// bad rows are to be skipped.
extension InventoryService {
    /// The columns of a product CSV file, its header naming them in any order.
    public static let productColumns = ["sku", "name", "category", "unit_price_minor", "currency", "active"]

    /// The most rows one file may hold: a catalogue, not a ledger.
    static let maximumProductRows = 100_000

    /// Imports products from CSV handed over a piece at a time by `read` (nil at the end). A row
    /// whose sku exists updates that product (an empty category clears it; an absent or empty
    /// `active` keeps it); a product the file does not name is left alone.
    public func importProducts(
        reading read: () throws -> [UInt8]?,
        options: CustomerService.ImportOptions = CustomerService.ImportOptions(),
        by principal: Principal
    ) async throws -> CustomerService.ImportReport {
        try principal.authorize(.createProduct)
        try principal.authorize(.updateProduct)
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        do {
            while let piece = try read() {
                records += try reader.read(piece)
                guard records.count <= Self.maximumProductRows + 1 else {
                    throw BatonError.invalidArgument("a product file holds at most \(Self.maximumProductRows) rows")
                }
            }
            records += try reader.finish()
        } catch let malformed as CSVReader.Malformed {
            throw BatonError.invalidArgument("line \(malformed.line): \(malformed.reason)")
        }
        guard let first = records.first else { throw BatonError.invalidArgument("the file is empty: it needs a header line") }
        let header = try CustomerService.header(first, columns: Self.productColumns, required: ["sku", "name", "unit_price_minor", "currency"])
        var rows: [ProductStore.ImportedProduct] = []
        var problems: [CustomerStore.RowProblem] = []
        var lineOfSKU: [String: Int] = [:]
        for record in records.dropFirst() {
            switch Self.productRow(record, header: header) {
            case .success(let row):
                if let earlier = lineOfSKU.updateValue(record.line, forKey: row.product.sku) {
                    problems.append(.init(line: record.line, column: "sku", reason: "sku '\(row.product.sku)' is already on line \(earlier)"))
                } else {
                    rows.append(row)
                }
            case .failure(let problem): problems.append(problem)
            }
        }
        let count = records.count - 1
        guard problems.isEmpty || options.skipInvalid else {
            return .init(rows: count, imported: 0, problems: problems, committed: false)
        }
        let products = self.products
        try await database.pool.transaction { tx in
            for row in rows { try await products.upsert(row, by: principal, on: tx) }
        }
        if !rows.isEmpty { wakeups.eventsWritten() }
        return .init(rows: count, imported: rows.count, problems: problems, committed: true)
    }

    static func productRow(_ record: CSVReader.Record, header: [String: Int]) -> Result<ProductStore.ImportedProduct, CustomerStore.RowProblem> {
        let fields = ImportFields(record: record, header: header)
        do throws(CustomerStore.RowProblem) {
            try fields.checkShape()
            let price = try fields.required("unit_price_minor")
            guard let unitPrice = Int(price) else { throw fields.problem("unit_price_minor", "'\(price)' is not a whole number of minor units") }
            var active: Bool?
            if let text = fields.optional("active") {
                switch text.lowercased() {
                case "true", "yes", "1": active = true
                case "false", "no", "0": active = false
                default: throw fields.problem("active", "'\(text)' is not true or false")
                }
            }
            let product = NewProduct(
                sku: try fields.required("sku"),
                name: try fields.required("name"),
                category: fields.optional("category"),
                unitPriceMinor: unitPrice,
                currency: try fields.required("currency")
            )
            do {
                try product.validate()
            } catch {
                throw fields.problem(error.details["field"] ?? "sku", error.message)
            }
            return .success(.init(product: product, active: active))
        } catch {
            return .failure(error)
        }
    }
}
