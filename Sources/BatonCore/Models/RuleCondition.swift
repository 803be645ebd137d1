/// When a rule holds: a JSON object of clauses over the event's data, all of which must hold.
///
/// - `"field": value` — the field equals the value (a string, number, boolean or null).
/// - `"field": {"op": value, …}` — every operator holds: `eq`, `ne` (a scalar); `in`, `not_in`
///   (an array of 1 to 50 scalars); `gt`, `gte`, `lt`, `lte` (a number, or a string compared
///   code point by code point, as ISO dates are); `exists` (true: present and not null).
///
/// A field is a dotted path into the data (`customer.owned`). A missing field reads as null:
/// `eq` null and `ne`/`not_in` anything else hold for it, comparisons do not. Numbers compare
/// by value; nothing is coerced between types (`"1"` is not `1`). At most 20 clauses (each
/// operator counts) and 4 KiB; never SQL or code, so a condition costs at most a few
/// comparisons per event.
public struct RuleCondition: Sendable, Equatable, Codable {
    /// One test of one field.
    struct Clause: Sendable, Equatable {
        var field: String
        var op: Operator
        var operand: JSONValue
    }

    enum Operator: String, Sendable, CaseIterable {
        case eq, ne, `in`
        case notIn = "not_in"
        case gt, gte, lt, lte, exists
    }

    /// The condition as given, kept to store and show.
    public let json: JSONValue
    let clauses: [Clause]

    static let maximumClauses = 20
    static let maximumBytes = 4096

    /// The condition that always holds.
    public static let always = RuleCondition(json: .object([:]), clauses: [])

    private init(json: JSONValue, clauses: [Clause]) {
        self.json = json
        self.clauses = clauses
    }

    /// Parses and checks a condition; a problem is 422 naming `condition.<field>`.
    public init(_ json: JSONValue) throws(BatonError) {
        guard case .object(let members) = json else {
            throw BatonError(.ruleViolation, "condition must be an object of field: value", details: ["field": "condition"])
        }
        guard json.text.utf8.count <= Self.maximumBytes else {
            throw BatonError(.ruleViolation, "condition must be at most 4 KiB", details: ["field": "condition"])
        }
        var clauses: [Clause] = []
        for field in members.keys.sorted() {
            let name = "condition.\(field)"
            guard RuleTemplate.isPath(field) else {
                throw BatonError(
                    .ruleViolation,
                    "'\(field)' is not a field: dotted names of letters, digits and _ (at most 5 parts, 200 characters)",
                    details: ["field": name]
                )
            }
            let value = members[field] ?? .null
            if value.isScalar {
                clauses.append(Clause(field: field, op: .eq, operand: value))
                continue
            }
            guard case .object(let operators) = value, !operators.isEmpty else {
                throw BatonError(
                    .ruleViolation,
                    "\(field) must be a value or an object of operators (eq, ne, in, not_in, gt, gte, lt, lte, exists)",
                    details: ["field": name]
                )
            }
            for key in operators.keys.sorted() {
                guard let op = Operator(rawValue: key) else {
                    throw BatonError(
                        .ruleViolation,
                        "'\(key)' is not an operator: eq, ne, in, not_in, gt, gte, lt, lte or exists",
                        details: ["field": name]
                    )
                }
                let operand = operators[key] ?? .null
                try Self.check(operand, of: op, field: name)
                clauses.append(Clause(field: field, op: op, operand: operand))
            }
        }
        guard clauses.count <= Self.maximumClauses else {
            throw BatonError(.ruleViolation, "condition must have at most \(Self.maximumClauses) clauses", details: ["field": "condition"])
        }
        self.init(json: json, clauses: clauses)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    private static func check(_ operand: JSONValue, of op: Operator, field: String) throws(BatonError) {
        switch op {
        case .eq, .ne:
            guard operand.isScalar else { throw BatonError(.ruleViolation, "\(op.rawValue) takes a single value", details: ["field": field]) }
        case .in, .notIn:
            guard case .array(let values) = operand, (1...50).contains(values.count), values.allSatisfy(\.isScalar) else {
                throw BatonError(.ruleViolation, "\(op.rawValue) takes an array of 1 to 50 values", details: ["field": field])
            }
        case .gt, .gte, .lt, .lte:
            switch operand {
            case .integer, .number, .string: break
            default: throw BatonError(.ruleViolation, "\(op.rawValue) takes a number or a string", details: ["field": field])
            }
        case .exists:
            guard case .bool = operand else { throw BatonError(.ruleViolation, "exists takes true or false", details: ["field": field]) }
        }
    }

    /// Whether every clause holds for `data`.
    public func holds(for data: JSONValue) -> Bool {
        firstFailing(for: data) == nil
    }

    /// The field of the first clause that does not hold, or `nil` when all do.
    public func firstFailing(for data: JSONValue) -> String? {
        clauses.first { !Self.holds($0, value: data.value(at: $0.field) ?? .null) }?.field
    }

    private static func holds(_ clause: Clause, value: JSONValue) -> Bool {
        switch clause.op {
        case .eq: return value.matches(clause.operand)
        case .ne: return !value.matches(clause.operand)
        case .in:
            guard case .array(let values) = clause.operand else { return false }
            return values.contains { value.matches($0) }
        case .notIn:
            guard case .array(let values) = clause.operand else { return false }
            return !values.contains { value.matches($0) }
        case .exists:
            return (value != .null) == (clause.operand == .bool(true))
        case .gt, .gte, .lt, .lte:
            let order: Int
            if let left = value.numeric, let right = clause.operand.numeric {
                order = left < right ? -1 : (left > right ? 1 : 0)
            } else if case .string(let left) = value, case .string(let right) = clause.operand {
                let (a, b) = (Array(left.unicodeScalars.map(\.value)), Array(right.unicodeScalars.map(\.value)))
                order = a.lexicographicallyPrecedes(b) ? -1 : (a == b ? 0 : 1)
            } else {
                return false
            }
            switch clause.op {
            case .gt: return order > 0
            case .gte: return order >= 0
            case .lt: return order < 0
            default: return order <= 0
            }
        }
    }
}
