import Foundation
import PostgresClient

/// One line of a customer CSV file, checked as creating a customer through the API checks it.
struct CustomerRow {
    var customer: NewCustomer
    var searchName: String

    /// The row of `record` under `header`, or what is wrong with it (the first problem found).
    static func check(_ record: CSVReader.Record, header: [String: Int], scope: Scope) -> Result<CustomerRow, CustomerStore.RowProblem> {
        let fields = ImportFields(record: record, header: header)
        do throws(CustomerStore.RowProblem) {
            try fields.checkShape()
            let region = try fields.required("region")
            guard TextRules.isRegionCode(region) else { throw fields.problem("region", "'\(region)' is not a region code") }
            guard scope.reaches(region: region) else { throw fields.problem("region", "no region '\(region)' you may add customers to") }
            let status = try fields.optional("status").map { text throws(CustomerStore.RowProblem) -> CustomerStatus in
                guard let status = CustomerStatus(rawValue: text) else {
                    throw fields.problem("status", "'\(text)' is not lead, prospect, active or churned")
                }
                return status
            }
            let tags = fields.optional("tags").map { text in
                text.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            let customer = NewCustomer(
                region: region,
                name: try fields.required("name"),
                legalName: fields.optional("legal_name"),
                segment: fields.optional("segment"),
                status: status,
                ownerID: try fields.memberID("owner_id"),
                tags: tags,
                website: fields.optional("website"),
                notes: fields.optional("notes")
            )
            do {
                try customer.validate()
            } catch {
                throw fields.problem(error.details["field"] ?? "name", error.message)
            }
            return .success(CustomerRow(customer: customer, searchName: SearchText.fold(customer.name)))
        } catch {
            return .failure(error)
        }
    }

    /// The row as the staging table's `COPY` takes it.
    func copyFields(_ line: Int) -> [String?] {
        [
            String(line), customer.region, customer.name, customer.legalName, customer.segment, customer.status?.rawValue,
            customer.ownerID.map(String.init), PostgresCopyText.array(customer.tags ?? []), customer.website, customer.notes,
            searchName, PostgresCopyText.array(SearchText.grams(searchName)),
        ]
    }
}

/// The first line of each name in each region of one import, so that a later line with the
/// same folded name is reported without asking the database.
struct FirstLines {
    private var lines: [String: Int] = [:]

    /// Nil when `row` is the first of its name in its region (and notes it), else the problem
    /// naming the first line.
    mutating func repeated(_ row: CustomerRow, line: Int) -> CustomerStore.RowProblem? {
        let key = row.customer.region + "\u{0}" + row.searchName
        if let first = lines[key] {
            return CustomerStore.RowProblem(line: line, column: "name", reason: "the same name as line \(first)")
        }
        lines[key] = line
        return nil
    }
}

/// One line of a contact CSV file: the customer by `customer_id`, or by `region` and
/// `customer` (its name), and the contact as adding one through the API checks it.
struct ContactRow {
    var customerID: Int?
    var region: String?
    var customerName: String?
    var contact: NewContact

    static func check(_ record: CSVReader.Record, header: [String: Int]) -> Result<ContactRow, CustomerStore.RowProblem> {
        let fields = ImportFields(record: record, header: header)
        do throws(CustomerStore.RowProblem) {
            try fields.checkShape()
            let customerID = try fields.memberID("customer_id")
            let region = fields.optional("region")
            let customerName = fields.optional("customer")
            if customerID == nil, region == nil || customerName == nil {
                throw fields.problem("customer_id", "name the customer by customer_id, or by region and customer")
            }
            let channel = try fields.optional("preferred_channel").map { text throws(CustomerStore.RowProblem) -> ContactChannel in
                guard let channel = ContactChannel(rawValue: text) else {
                    let names = ContactChannel.allCases.map(\.rawValue).joined(separator: ", ")
                    throw fields.problem("preferred_channel", "'\(text)' is not one of \(names)")
                }
                return channel
            }
            let contact = NewContact(
                name: try fields.required("name"),
                role: fields.optional("role"),
                email: fields.optional("email"),
                phone: fields.optional("phone"),
                preferredChannel: channel
            )
            do {
                try contact.validate()
            } catch {
                throw fields.problem(error.details["field"] ?? "name", error.message)
            }
            return .success(ContactRow(customerID: customerID, region: region, customerName: customerName, contact: contact))
        } catch {
            return .failure(error)
        }
    }

    func copyFields(_ line: Int) -> [String?] {
        [
            String(line), customerID.map(String.init), customerID == nil ? region : nil, customerName,
            customerName.map(SearchText.fold), contact.name, contact.role, contact.email, contact.phone, contact.preferredChannel?.rawValue,
        ]
    }
}

/// The fields of one record by column name.
struct ImportFields {
    var record: CSVReader.Record
    var header: [String: Int]

    func problem(_ column: String, _ reason: String) -> CustomerStore.RowProblem {
        CustomerStore.RowProblem(line: record.line, column: column, reason: reason)
    }

    /// As many fields as the header names, none holding a NUL character (text cannot).
    func checkShape() throws(CustomerStore.RowProblem) {
        guard record.fields.count == header.count else {
            throw problem("", "\(record.fields.count) fields where the header names \(header.count)")
        }
        if let (name, _) = header.first(where: { record.fields[$0.value].utf8.contains(0) }) {
            throw problem(name, "contains a NUL character")
        }
    }

    /// The field of `column`, nil when the column is absent or the field empty.
    func optional(_ column: String) -> String? {
        guard let index = header[column], !record.fields[index].isEmpty else { return nil }
        return record.fields[index]
    }

    func required(_ column: String) throws(CustomerStore.RowProblem) -> String {
        guard let value = optional(column) else { throw problem(column, "\(column) is required") }
        return value
    }

    /// A positive id, or nil when empty.
    func memberID(_ column: String) throws(CustomerStore.RowProblem) -> Int? {
        guard let text = optional(column) else { return nil }
        guard let id = Int(text), id > 0 else { throw problem(column, "'\(text)' is not an id") }
        return id
    }
}
