import Foundation
import PostgresClient

/// Importing and exporting the customer file: CSV read a piece at a time, each row checked as
/// the API would check it, checked rows streamed into a staging table with `COPY`, and
/// everything written in one transaction: all or nothing, unless bad rows are to be skipped.
extension CustomerService {
    /// How an import treats bad rows and likely duplicates.
    public struct ImportOptions: Sendable {
        /// Load the good rows and report the bad ones, instead of loading nothing.
        public var skipInvalid: Bool
        /// Load a customer even when one of its region has the same name (or an earlier row has).
        public var allowDuplicates: Bool

        public init(skipInvalid: Bool = false, allowDuplicates: Bool = false) {
            self.skipInvalid = skipInvalid
            self.allowDuplicates = allowDuplicates
        }
    }

    /// What an import did: every bad row with its line, column and reason, and whether the good
    /// ones were written.
    public struct ImportReport: Sendable, Codable, Equatable {
        public var rows: Int
        public var imported: Int
        public var problems: [CustomerStore.RowProblem]
        public var committed: Bool
    }

    /// The columns of a customer CSV file, its header naming them in any order.
    public static let customerColumns = ["region", "name", "legal_name", "segment", "status", "owner_id", "tags", "website", "notes"]
    /// The columns of a contact CSV file: the customer by `customer_id`, or by `region` and
    /// `customer` (its name).
    public static let contactColumns = ["customer_id", "region", "customer", "name", "role", "email", "phone", "preferred_channel"]

    /// Rows go to the database this many at a time.
    static let importBatch = 5_000

    /// Imports customers from CSV handed over a piece at a time by `read` (nil at the end),
    /// reporting how many rows have been read through `progress`.
    public func importCustomers(
        reading read: () throws -> [UInt8]?,
        options: ImportOptions = ImportOptions(),
        by principal: Principal,
        progress: (Int) -> Void = { _ in }
    ) async throws -> ImportReport {
        try principal.authorize(.createCustomer)
        let store = self.store
        var firstLines = FirstLines()
        let report = try await importing(
            reading: read,
            columns: Self.customerColumns,
            required: ["region", "name"],
            options: options,
            progress: progress
        ) {
            tx in
            try await store.beginCustomerStaging(on: tx)
        } prepare: { header, records in
            Self.prepare(records) { record in
                CustomerRow.check(record, header: header, scope: principal.scope).flatMap { row in
                    // A repeated name is found here, in memory, so the database only compares
                    // the first of each name with the stored customers.
                    if !options.allowDuplicates, let repeated = firstLines.repeated(row, line: record.line) { return .failure(repeated) }
                    return .success(row.copyFields)
                }
            }
        } load: { rows, _, skipping, write, tx in
            try await store.stageCustomers(rows, on: tx)
            let problems = try await store.checkStagedCustomers(allowDuplicates: options.allowDuplicates, on: tx)
            guard write(problems) else { return (problems, 0) }
            let written = try await store.createStagedCustomers(skipping: skipping + problems.map(\.line), by: principal, on: tx)
            if written > 0 { try await store.analyzeCustomersIfUnmeasured(on: tx) }
            return (problems, written)
        }
        if report.committed, report.imported > 0 { wakeups.eventsWritten() }
        return report
    }

    /// Imports contacts from CSV read a piece at a time, each naming its customer by
    /// `customer_id` or by `region` and `customer`.
    public func importContacts(
        reading read: () throws -> [UInt8]?,
        options: ImportOptions = ImportOptions(),
        by principal: Principal,
        progress: (Int) -> Void = { _ in }
    ) async throws -> ImportReport {
        try principal.authorize(.addContact)
        let store = self.store
        let report = try await importing(reading: read, columns: Self.contactColumns, required: ["name"], options: options, progress: progress) {
            tx in
            try await store.beginContactStaging(on: tx)
        } prepare: { header, records in
            Self.prepare(records) { ContactRow.check($0, header: header).map { $0.copyFields } }
        } load: { rows, lines, skipping, write, tx in
            try await store.stageContacts(rows, on: tx)
            let problems = try await store.checkStagedContacts(lines, scope: principal.scope, on: tx)
            guard write(problems) else { return (problems, 0) }
            return (problems, try await store.createStagedContacts(lines, skipping: skipping + problems.map(\.line), by: principal, on: tx))
        }
        if report.committed, report.imported > 0 { wakeups.eventsWritten() }
        return report
    }

    /// Checked rows of `records` in COPY text, and the problems of the others.
    static func prepare(
        _ records: [CSVReader.Record],
        check: (CSVReader.Record) -> Result<(Int) -> [String?], CustomerStore.RowProblem>
    ) -> (PostgresCopyText, [CustomerStore.RowProblem]) {
        var rows = PostgresCopyText()
        var problems: [CustomerStore.RowProblem] = []
        for record in records {
            switch check(record) {
            case .success(let fields): rows.append(fields(record.line))
            case .failure(let problem): problems.append(problem)
            }
        }
        return (rows, problems)
    }

    /// Every customer the caller reaches (of `region`, if given), `batch` at a time in id order,
    /// handed to `emit` as read, so that an export of any size streams.
    public func export(region: String?, by principal: Principal, batch: Int = 1_000, emit: ([Customer]) throws -> Void) async throws -> Int {
        try principal.authorize(.listCustomers)
        var after = 0
        var count = 0
        while true {
            let customers = try await store.export(region: region, scope: principal.scope, after: after, batch: batch)
            guard let last = customers.last else { return count }
            try emit(customers)
            count += customers.count
            after = last.id
        }
    }

    /// What loading one batch does: stage its checked rows, check them in the database, and
    /// write the good ones if `write` (given the database's problems) says so; it returns the
    /// database's problems and how many rows it wrote.
    typealias LoadBatch =
        @Sendable (
            _ rows: PostgresCopyText, _ lines: ClosedRange<Int>, _ skipping: [Int], _ write: @Sendable ([CustomerStore.RowProblem]) -> Bool,
            _ tx: PostgresConnection
        ) async throws -> (problems: [CustomerStore.RowProblem], written: Int)

    /// The shared course of an import, in one transaction: read the header, then check rows
    /// a batch at a time in Swift while the database loads the batch before (so the two
    /// overlap), and at the end commit, or roll back when a row was bad and none may be skipped.
    private func importing(
        reading read: () throws -> [UInt8]?,
        columns: [String],
        required: Set<String>,
        options: ImportOptions,
        progress: (Int) -> Void,
        begin: (PostgresConnection) async throws -> Void,
        prepare: ([String: Int], [CSVReader.Record]) -> (PostgresCopyText, [CustomerStore.RowProblem]),
        load: @escaping LoadBatch
    ) async throws -> ImportReport {
        do {
            return try await database.pool.transaction { tx -> ImportReport in
                try await begin(tx)
                var reader = CSVReader()
                var header: [String: Int]?
                var pending: [CSVReader.Record] = []
                var problems: [CustomerStore.RowProblem] = []
                var rows = 0
                var imported = 0
                var loading: Task<(problems: [CustomerStore.RowProblem], written: Int), any Error>?

                func settle() async throws {
                    guard let batch = loading else { return }
                    loading = nil
                    let (found, written) = try await batch.value
                    problems += found
                    imported += written
                }
                func flush() async throws {
                    guard let header, let first = pending.first, let last = pending.last else { return }
                    let (checked, found) = prepare(header, pending)
                    rows += pending.count
                    pending.removeAll(keepingCapacity: true)
                    // The batch before must be checked first: a name repeats an earlier line's.
                    try await settle()
                    problems += found
                    let cleanSoFar = problems.isEmpty
                    let skipInvalid = options.skipInvalid
                    loading = Task {
                        try await load(checked, first.line...last.line, found.map(\.line), { skipInvalid || (cleanSoFar && $0.isEmpty) }, tx)
                    }
                    progress(rows)
                }
                func take(_ records: [CSVReader.Record]) async throws {
                    for record in records {
                        if header == nil {
                            header = try Self.header(record, columns: columns, required: required)
                            continue
                        }
                        pending.append(record)
                        if pending.count >= Self.importBatch { try await flush() }
                    }
                }

                do {
                    do {
                        while let piece = try read() { try await take(try reader.read(piece)) }
                        try await take(try reader.finish())
                    } catch let malformed as CSVReader.Malformed {
                        throw BatonError.invalidArgument("line \(malformed.line): \(malformed.reason)")
                    }
                    guard header != nil else { throw BatonError.invalidArgument("the file is empty: it needs a header line") }
                    try await flush()
                    try await settle()
                } catch {
                    // The connection is the batch's until it is done.
                    _ = try? await loading?.value
                    throw error
                }
                problems.sort { ($0.line, $0.column) < ($1.line, $1.column) }
                if !problems.isEmpty, !options.skipInvalid {
                    throw ImportRolledBack(report: ImportReport(rows: rows, imported: 0, problems: problems, committed: false))
                }
                return ImportReport(rows: rows, imported: imported, problems: problems, committed: true)
            }
        } catch let rolledBack as ImportRolledBack {
            return rolledBack.report
        }
    }

    /// The column of each name in a header line; an unknown or repeated name, or a missing
    /// required one, refuses the file.
    static func header(_ record: CSVReader.Record, columns: [String], required: Set<String>) throws(BatonError) -> [String: Int] {
        var header: [String: Int] = [:]
        for (index, name) in record.fields.enumerated() {
            let name = name.trimmingCharacters(in: .whitespaces).lowercased()
            guard columns.contains(name) else {
                throw .invalidArgument("line \(record.line): unknown column '\(name)'; the columns are \(columns.joined(separator: ", "))")
            }
            guard header.updateValue(index, forKey: name) == nil else {
                throw .invalidArgument("line \(record.line): column '\(name)' appears twice")
            }
        }
        let missing = required.subtracting(header.keys).sorted()
        guard missing.isEmpty else {
            throw .invalidArgument("line \(record.line): the header needs the column(s) \(missing.joined(separator: ", "))")
        }
        return header
    }
}

/// Ends an import's transaction without writing, carrying the report out.
private struct ImportRolledBack: Error {
    var report: CustomerService.ImportReport
}
