import Foundation
import Testing
import Yams

@testable import BatonHTTP

/// The gate that refuses explicit `null`s keeps its own list of each operation's request-body
/// members; this keeps that list equal to what the OpenAPI document declares.
@Suite struct RequestBodyGateTests {
    /// Every property name reachable from `schema`, following `$ref`s, arrays and `allOf`.
    static func members(of schema: Any?, in document: [String: Any], seen: Set<String> = []) -> Set<String> {
        guard let schema = schema as? [String: Any] else { return [] }
        if let reference = schema["$ref"] as? String {
            guard !seen.contains(reference) else { return [] }
            let name = String(reference.split(separator: "/").last ?? "")
            let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
            return members(of: schemas?[name], in: document, seen: seen.union([reference]))
        }
        var names: Set<String> = []
        for (name, property) in schema["properties"] as? [String: Any] ?? [:] {
            names.insert(name)
            names.formUnion(members(of: property, in: document, seen: seen))
        }
        names.formUnion(members(of: schema["items"], in: document, seen: seen))
        for part in (schema["allOf"] as? [Any] ?? []) + (schema["oneOf"] as? [Any] ?? []) + (schema["anyOf"] as? [Any] ?? []) {
            names.formUnion(members(of: part, in: document, seen: seen))
        }
        return names
    }

    @Test func theGateKnowsExactlyTheMembersTheDocumentDeclares() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/BatonHTTP/openapi.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: file, encoding: .utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var documented: [String: Set<String>] = [:]
        for (path, item) in paths {
            for (method, operation) in item as? [String: Any] ?? [:] {
                guard let operation = operation as? [String: Any], var body = operation["requestBody"] as? [String: Any] else { continue }
                if let reference = body["$ref"] as? String {
                    let name = String(reference.split(separator: "/").last ?? "")
                    body = ((document["components"] as? [String: Any])?["requestBodies"] as? [String: Any])?[name] as? [String: Any] ?? [:]
                }
                let schema = ((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
                documented["\(method.uppercased()) \(path)"] = Self.members(of: schema, in: document)
            }
        }
        #expect(documented.count >= 15)
        for (operation, members) in documented.sorted(by: { $0.key < $1.key }) {
            #expect(RequestBodyGate.declaredMembers[operation] == members, "\(operation)")
        }
        #expect(Set(RequestBodyGate.declaredMembers.keys) == Set(documented.keys))
    }
}
