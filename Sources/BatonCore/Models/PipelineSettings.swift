/// A region's pipeline: its stages in order and the reasons a deal may be lost for.
public struct PipelineSettings: Sendable, Equatable, Codable {
    public struct Stage: Sendable, Equatable, Codable {
        /// `^[a-z][a-z0-9_]{0,39}$`, such as `proposal`.
        public var stage: String
        public var name: String
        /// The chance of winning a deal in this stage, 0 to 100.
        public var probability: Int

        public init(stage: String, name: String, probability: Int) {
            self.stage = stage
            self.name = name
            self.probability = probability
        }
    }

    public struct LostReason: Sendable, Equatable, Codable {
        /// `^[a-z][a-z0-9_]{0,39}$`, such as `price`.
        public var reason: String
        public var name: String

        public init(reason: String, name: String) {
            self.reason = reason
            self.name = name
        }
    }

    public var region: String
    public var stages: [Stage]
    public var lostReasons: [LostReason]

    public init(region: String, stages: [Stage], lostReasons: [LostReason]) {
        self.region = region
        self.stages = stages
        self.lostReasons = lostReasons
    }

    /// Checks a list before it replaces a region's.
    public func validate() throws(BatonError) {
        guard (1...20).contains(stages.count) else { throw .invalidArgument("a pipeline has 1 to 20 stages", field: "stages") }
        guard (1...50).contains(lostReasons.count) else { throw .invalidArgument("1 to 50 lost reasons", field: "lost_reasons") }
        for (index, stage) in stages.enumerated() {
            try Self.check(code: stage.stage, name: stage.name, field: "stages[\(index)]", key: "stage")
            guard (0...100).contains(stage.probability) else {
                throw .invalidArgument("stages[\(index)].probability must be 0 to 100", field: "stages[\(index)].probability")
            }
        }
        for (index, reason) in lostReasons.enumerated() {
            try Self.check(code: reason.reason, name: reason.name, field: "lost_reasons[\(index)]", key: "reason")
        }
        if let repeated = Self.firstRepeat(stages.map(\.stage)) {
            throw BatonError(.ruleViolation, "stage '\(repeated)' is listed twice", details: ["field": "stages"])
        }
        if let repeated = Self.firstRepeat(lostReasons.map(\.reason)) {
            throw BatonError(.ruleViolation, "lost reason '\(repeated)' is listed twice", details: ["field": "lost_reasons"])
        }
    }

    /// `^[a-z][a-z0-9_]{0,39}$`.
    public static func isCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...40).contains(bytes.count), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]) else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
        }
    }

    private static func check(code: String, name: String, field: String, key: String) throws(BatonError) {
        guard isCode(code) else {
            throw .invalidArgument("\(field).\(key) must be lower-case letters, digits and _ (at most 40)", field: "\(field).\(key)")
        }
        guard TextRules.hasLength(name, in: 1...100) else {
            throw .invalidArgument("\(field).name must be 1 to 100 characters", field: "\(field).name")
        }
    }

    private static func firstRepeat(_ codes: [String]) -> String? {
        var seen: Set<String> = []
        return codes.first { !seen.insert($0).inserted }
    }
}

/// A region's pipeline as it stands: per stage, the open deals' count, amounts and weighted
/// amounts (per currency: amounts in different currencies are never added), and the win rate
/// over a window.
public struct PipelineSummary: Sendable, Equatable, Codable {
    public struct Amount: Sendable, Equatable, Codable {
        public var currency: String
        public var amountMinor: Int
        public var weightedMinor: Int
    }

    public struct StageLine: Sendable, Equatable, Codable {
        public var stage: String
        public var name: String
        public var probability: Int
        public var count: Int
        public var amounts: [Amount]
        /// The mean of whole days the stage's open deals have spent in it, nil with none.
        public var averageDaysInStage: Double?
    }

    public struct WinRate: Sendable, Equatable, Codable {
        public var windowDays: Int
        public var won: Int
        public var lost: Int
        /// won / (won + lost), nil when nothing closed in the window.
        public var rate: Double?
        /// The mean days from creation to close of the deals won in the window.
        public var averageDaysToWin: Double?
    }

    public var region: String
    public var stages: [StageLine]
    public var winRate: WinRate
}
