import BatonCore
import Foundation
import HTTPTypes
import PostgresClient
import Testing

/// `batonctl import` and `batonctl export` as ops staff run them: every bad row reported with
/// its line, column and reason and nothing written; `--skip-invalid` loads the rest; imported
/// names are found through the API in any script; contacts find their customers by id or by
/// name; exports stream back what was loaded.
@Suite(.requiresDatabase) struct CustomerImportTests {
    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).csv").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func counts(_ pool: ConnectionPool) async throws -> (customers: Int, events: Int) {
        let row = try await pool.query(
            "SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM events WHERE type LIKE 'customer.%') AS events"
        )
        return (try row.first?.decode(Int.self, "customers") ?? -1, try row.first?.decode(Int.self, "events") ?? -1)
    }

    static let badFile = #"""
        region,name,status,owner_id,tags
        emea,Good One,lead,,vip;b2b
        mars,Nowhere Ltd,lead,,
        emea,,lead,,
        emea,Gold Status,gold,,
        emea,Owned,lead,999999,
        emea,GOOD  ONE,lead,,
        emea,too,many,fields,here,now
        apac,"Quoted, with ""quotes""",active,,

        """#

    @Test func aFileWithBadRowsIsReportedRowByRowAndNothingIsWritten() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let path = try Self.write(Self.badFile)
            let run = try CLIEndToEndTests.batonctl(["import", "customers", path, "--json"], url: api.url)
            #expect(run.status == 1)
            let report = try JSONDecoder.snakeCase.decode(CustomerService.ImportReport.self, from: Data(run.output.utf8))
            #expect(report.committed == false)
            #expect(report.imported == 0)
            #expect(report.rows == 8)
            let problems = report.problems.map { "\($0.line) \($0.column): \($0.reason)" }
            #expect(
                problems == [
                    "3 region: no region mars",
                    "4 name: name is required",
                    "5 status: 'gold' is not lead, prospect, active or churned",
                    "6 owner_id: no member 999999",
                    "7 name: the same name as line 2",
                    "8 : 6 fields where the header names 5",
                ]
            )
            let counts = try await Self.counts(database.pool)
            #expect(counts.customers == 0)
            #expect(counts.events == 0)

            // The table form names the same lines, and how to go on.
            let text = try CLIEndToEndTests.batonctl(["import", "customers", path], url: api.url)
            #expect(text.status == 1)
            #expect(text.output.contains("7     name      the same name as line 2"))
            #expect(text.output.contains("Imported nothing: 6 bad rows of 8. Fix them, or pass --skip-invalid."))
        }
    }

    @Test func skipInvalidLoadsTheGoodRowsWithTheirEventsAndSearchFindsThem() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let path = try Self.write(Self.badFile)
            let run = try CLIEndToEndTests.batonctl(["import", "customers", path, "--skip-invalid"], url: api.url)
            #expect(run.status == 0, "\(run.error)")
            #expect(run.output.contains("Imported 2 of 8 rows"))
            #expect(run.output.contains("6 bad rows skipped."))
            let counts = try await Self.counts(database.pool)
            #expect(counts.customers == 2)
            #expect(counts.events == 2)
            #expect(try await CustomerEndpointTests.names(api, "quotes") == [#"Quoted, with "quotes""#])
            let good = try await api.call(.get, "/v1/customers?q=good").json(AnyJSON.self)["customers"]?.array.first
            #expect(good?["tags"]?.array.compactMap(\.string) == ["vip", "b2b"])
            #expect(good?["status"]?.string == "lead")
        }
    }

    @Test func duplicatesOfStoredCustomersAreRefusedUnlessAllowed() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            _ = try await CustomerEndpointTests.id(api, name: "Müller GmbH")
            let path = try Self.write("name,region\nmuller gmbh,emea\nMüller GmbH,apac\n")
            let refused = try CLIEndToEndTests.batonctl(["import", "customers", path, "--json"], url: api.url)
            #expect(refused.status == 1)
            let report = try JSONDecoder.snakeCase.decode(CustomerService.ImportReport.self, from: Data(refused.output.utf8))
            #expect(report.problems.map(\.line) == [2])
            #expect(report.problems.first?.reason.hasSuffix("(Müller GmbH) in emea has the same name") == true)
            let allowed = try CLIEndToEndTests.batonctl(["import", "customers", path, "--allow-duplicates"], url: api.url)
            #expect(allowed.status == 0, "\(allowed.error)")
            #expect(try await Self.counts(database.pool).customers == 3)
        }
    }

    /// A table analyzed while empty (after an import that rolled back, say) has no statistics
    /// on names, and the planner then checked each staged row against every customer of its
    /// region. An import leaves the table measured; names repeated a batch apart are found.
    @Test func anImportMeasuresAnUnmeasuredTableAndFindsRepeatsAcrossBatches() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            try await database.pool.query("ANALYZE customers")
            let measured: PostgresQuery = """
                SELECT count(*) AS n FROM pg_stats
                WHERE schemaname = current_schema() AND tablename = 'customers' AND attname IN ('region', 'search_name')
                """
            #expect(try await database.pool.query(measured).first?.decode(Int.self, "n") == 0)
            let rows = (1...6_000).map { "emea,Firm \($0)" } + ["emea,FIRM  3"]
            let path = try Self.write((["region,name"] + rows).joined(separator: "\n") + "\n")
            let refused = try CLIEndToEndTests.batonctl(["import", "customers", path, "--json"], url: api.url)
            #expect(refused.status == 1)
            let report = try JSONDecoder.snakeCase.decode(CustomerService.ImportReport.self, from: Data(refused.output.utf8))
            #expect(report.problems.map { "\($0.line) \($0.column): \($0.reason)" } == ["6002 name: the same name as line 4"])
            let loaded = try CLIEndToEndTests.batonctl(["import", "customers", path, "--skip-invalid"], url: api.url)
            #expect(loaded.status == 0, "\(loaded.error)")
            #expect(try await Self.counts(database.pool).customers == 6_000)
            #expect(try await database.pool.query(measured).first?.decode(Int.self, "n") == 2)
        }
    }

    @Test func cjkNamesImportAndAreFoundByAnySubstring() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            let path = try Self.write("\u{FEFF}region,name,segment\r\napac,华为技术有限公司,telecom\r\napac,株式会社トヨタ自動車,auto\r\napac,삼성전자,electronics\r\n")
            let run = try CLIEndToEndTests.batonctl(["import", "customers", path], url: api.url)
            #expect(run.status == 0, "\(run.error)")
            #expect(try await CustomerEndpointTests.names(api, "华为") == ["华为技术有限公司"])
            #expect(try await CustomerEndpointTests.names(api, "技术有限") == ["华为技术有限公司"])
            #expect(try await CustomerEndpointTests.names(api, "トヨタ") == ["株式会社トヨタ自動車"])
            #expect(try await CustomerEndpointTests.names(api, "전자") == ["삼성전자"])
        }
    }

    @Test func contactsFindTheirCustomerByIDOrByNameAndUnknownOnesAreReported() async throws {
        try await withTestApplication { api, database in
            try await api.seedReferenceData()
            let acme = try await CustomerEndpointTests.id(api, name: "Acme Industrie")
            let file = """
                customer_id,region,customer,name,role,email,preferred_channel
                \(acme),,,Ana Ruiz,Buyer,ana@acme.example,email
                ,emea,ACME industrie,Ben Okafor,,ben@acme.example,phone
                ,emea,Nobody Inc,Cy Lee,,,
                ,,,No Customer,,,
                \(acme),,,Bad Mail,,not-an-address,
                \(acme),,,Pigeon,,,pigeon

                """
            let path = try Self.write(file)
            let refused = try CLIEndToEndTests.batonctl(["import", "contacts", path, "--json"], url: api.url)
            #expect(refused.status == 1)
            let report = try JSONDecoder.snakeCase.decode(CustomerService.ImportReport.self, from: Data(refused.output.utf8))
            #expect(report.problems.map { "\($0.line) \($0.column)" } == ["4 customer", "5 customer_id", "6 email", "7 preferred_channel"])
            #expect(report.problems.first?.reason == "no customer Nobody Inc in emea")
            let none = try await database.pool.query("SELECT count(*) AS n FROM contacts")
            #expect(try none.first?.decode(Int.self, "n") == 0)

            let loaded = try CLIEndToEndTests.batonctl(["import", "contacts", path, "--skip-invalid"], url: api.url)
            #expect(loaded.status == 0, "\(loaded.error)")
            let contacts = try await api.call(.get, "/v1/customers/\(acme)/contacts").json(AnyJSON.self)
            #expect(contacts["contacts"]?.array.compactMap { $0["name"]?.string }.sorted() == ["Ana Ruiz", "Ben Okafor"])
        }
    }

    @Test func aMalformedFileOrHeaderIsRefusedWithItsLine() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            for (file, message) in [
                ("region,name\nemea,\"not closed\n", "batonctl: line 2: a quoted field is not closed"),
                ("region,nom\nemea,x\n", "batonctl: line 1: unknown column 'nom'"),
                ("region,segment\nemea,x\n", "batonctl: line 1: the header needs the column(s) name"),
                ("", "batonctl: the file is empty: it needs a header line"),
            ] {
                let run = try CLIEndToEndTests.batonctl(["import", "customers", try Self.write(file)], url: api.url)
                #expect(run.status == 1)
                #expect(run.error.hasPrefix(message), "\(run.error)")
            }
        }
    }

    @Test func exportStreamsWhatWasImportedAsCSVAndJSON() async throws {
        try await withTestApplication { api, _ in
            try await api.seedReferenceData()
            var file = "region,name,tags,notes\n"
            for index in 1...2_500 { file += "emea,Customer \(index),a;b,\"line one\nline two, with comma\"\n" }
            file += "apac,华为技术有限公司,,\n"
            let imported = try CLIEndToEndTests.batonctl(["import", "customers", try Self.write(file)], url: api.url)
            #expect(imported.status == 0, "\(imported.error)")

            let csv = try CLIEndToEndTests.batonctl(["export", "customers", "--region", "emea"], url: api.url)
            #expect(csv.status == 0, "\(csv.error)")
            let records = try CSVReader.records(Array(csv.output.utf8))
            #expect(records.first?.fields == ["id"] + CustomerService.customerColumns + ["version", "created_at", "updated_at"])
            #expect(records.count == 2_501)
            #expect(records.last?.fields[2] == "Customer 2500")
            #expect(records.last?.fields[7] == "a;b")
            #expect(records.last?.fields[9] == "line one\nline two, with comma")

            let json = try CLIEndToEndTests.batonctl(["export", "customers", "--format", "json"], url: api.url)
            #expect(json.status == 0, "\(json.error)")
            let customers = try JSONDecoder.snakeCase.decode([Customer].self, from: Data(json.output.utf8))
            #expect(customers.count == 2_501)
            #expect(customers.last?.name == "华为技术有限公司")
            #expect(customers.first?.tags == ["a", "b"])
        }
    }
}

extension JSONDecoder {
    /// Reads what `batonctl --json` prints.
    static var snakeCase: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
