import Foundation
import HTTPTypes
import OpenAPIRuntime
import Testing
import Yams

@testable import BatonHTTP

/// Integer parameters written as integral decimals (`1.0`, `1e2`) are integers to JSON Schema;
/// the gate rewrites them for the generated decoders, from its own list of each operation's
/// integer parameters, which this keeps equal to the document's.
@Suite struct IntegerParameterGateTests {
    @Test func theGateKnowsExactlyTheIntegerParametersTheDocumentDeclares() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BatonHTTP/openapi.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let components = try #require(document["components"] as? [String: Any])
        func resolved(_ object: Any?, in section: String) -> [String: Any] {
            guard let object = object as? [String: Any] else { return [:] }
            guard let reference = object["$ref"] as? String else { return object }
            let name = String(reference.split(separator: "/").last ?? "")
            return resolved((components[section] as? [String: Any])?[name], in: section)
        }
        var documented: [String: Set<String>] = [:]
        for (path, item) in try #require(document["paths"] as? [String: Any]) {
            let item = item as? [String: Any] ?? [:]
            for (method, operation) in item where method != "parameters" {
                let operation = operation as? [String: Any] ?? [:]
                let parameters = (item["parameters"] as? [Any] ?? []) + (operation["parameters"] as? [Any] ?? [])
                let integers = parameters.map { resolved($0, in: "parameters") }.filter { parameter in
                    ["path", "query"].contains(parameter["in"] as? String)
                        && resolved(parameter["schema"], in: "schemas")["type"] as? String == "integer"
                }.compactMap { $0["name"] as? String }
                if !integers.isEmpty { documented["\(method.uppercased()) \(path)"] = Set(integers) }
            }
        }
        #expect(documented.count >= 50)
        #expect(documented["GET /v1/meetings"] == ["customer_id", "limit", "member_id"])
        for (operation, names) in documented.sorted(by: { $0.key < $1.key }) {
            #expect(IntegerParameterGate.declaredIntegers[operation] == names, "\(operation)")
        }
        #expect(Set(IntegerParameterGate.declaredIntegers.keys) == Set(documented.keys))
    }

    @Test(arguments: [
        ("1.0", "1"), ("20.00", "20"), ("-3.0", "-3"), ("1e2", "100"), ("2.50E1", "25"), ("1E%2B2", "100"), ("0.0", "0"),
        ("-0.0", "0"), ("100e-2", "1"), ("1.", "1"), (".0", "0"), ("+7.0", "7"),
    ])
    func integralDecimalsBecomeDigits(text: String, digits: String) {
        #expect(IntegerParameterGate.digits(ofIntegral: Substring(text)) == digits)
    }

    @Test(arguments: ["1", "1.5", "1e-1", "abc", "1.0x", "", ".", "e2", "1e99", "٣.0", "--1.0", "1e"])
    func otherValuesAreLeftAsSent(text: String) {
        #expect(IntegerParameterGate.digits(ofIntegral: Substring(text)) == nil)
    }

    @Test func theGateRewritesOnlyTheOperationsIntegerParameters() {
        let gate = IntegerParameterGate(method: .get, path: "/v1/meetings")
        let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/meetings?member_id=1.0&limit=2e1&from=2026.0&q=1.0")
        let (settled, _) = gate.settle(request, .init())
        #expect(settled.path == "/v1/meetings?member_id=1&limit=20&from=2026.0&q=1.0")
        let byID = IntegerParameterGate(method: .get, path: "/v1/customers/:id")
        let (_, metadata) = byID.settle(
            HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/customers/7.0"),
            .init(pathParameters: ["id": "7.0"])
        )
        #expect(metadata.pathParameters["id"] == "7")
    }
}
