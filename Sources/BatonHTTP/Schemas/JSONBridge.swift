import BatonCore
import Foundation
import OpenAPIRuntime

/// Moves JSON between the database's text and the generated types.
enum JSONBridge {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try RFC3339DateTranscoder().encode(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = try? RFC3339DateTranscoder().decode(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time"))
            }
            return date
        }
        return decoder
    }()

    static func text(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func value<Value: Decodable>(_ type: Value.Type = Value.self, from text: String) throws -> Value {
        try decoder.decode(Value.self, from: Data(text.utf8))
    }
}

extension Components.Schemas.Task {
    init(_ task: QueueTask, includeLeaseToken: Bool = false) throws {
        self.init(
            id: Int64(task.id),
            team: task.team,
            region: task.region,
            kind: task.kind,
            title: task.title,
            payload: try JSONBridge.value(from: task.payloadJSON),
            priority: Components.Schemas.Priority(rawValue: task.priority.rawValue) ?? .normal,
            state: Components.Schemas.TaskState(rawValue: task.state.rawValue) ?? .queued,
            runAt: task.runAt,
            dueAt: task.dueAt,
            attempts: task.attempts,
            maxAttempts: task.maxAttempts,
            lease: task.lease.map {
                Components.Schemas.Lease(
                    worker: $0.worker,
                    token: includeLeaseToken ? $0.token?.uuidString.lowercased() : nil,
                    expiresAt: $0.expiresAt
                )
            },
            result: try task.resultJSON.map { try JSONBridge.value(from: $0) },
            lastError: task.lastError,
            dedupeKey: task.dedupeKey,
            subject: task.subject.map { .init(_type: $0.type, id: $0.id) },
            tags: task.tags,
            createdBy: task.createdBy,
            handedOffFrom: task.handedOffFrom.map(Int64.init),
            handoffNote: task.handoffNote,
            chainId: Int64(task.chainID),
            createdAt: task.createdAt,
            updatedAt: task.updatedAt,
            claimedAt: task.claimedAt,
            finishedAt: task.finishedAt,
            hold: task.hold.map { .init(since: $0.since, until: $0.until, reason: $0.reason) },
            slaPolicyId: task.slaPolicyID.map(Int64.init)
        )
    }
}

extension Components.Schemas.Event {
    init(_ event: Event) throws {
        self.init(
            id: Int64(event.id),
            _type: event.type,
            occurredAt: event.occurredAt,
            source: event.source,
            actorType: event.actorType,
            actorId: event.actorID,
            entityType: event.entityType,
            entityId: event.entityID,
            team: event.team,
            region: event.region,
            data: try JSONBridge.value(from: event.dataJSON)
        )
    }
}

extension NewTask {
    init(_ body: Components.Schemas.NewTask) throws {
        self.init(
            kind: body.kind,
            title: body.title,
            payloadJSON: try body.payload.map { try JSONBridge.text($0) },
            priority: body.priority.flatMap { TaskPriority(rawValue: $0.rawValue) },
            runAt: body.runAt,
            dueAt: body.dueAt,
            maxAttempts: body.maxAttempts,
            backoffBaseSeconds: body.backoffBaseSeconds,
            dedupeKey: body.dedupeKey,
            subject: body.subject.map { TaskSubject(type: $0._type, id: $0.id) },
            tags: body.tags
        )
    }
}

extension Components.Schemas.TaskState {
    init(_ state: TaskState) {
        self = Self(rawValue: state.rawValue) ?? .queued
    }
}
