/// The record a task is about, such as `{type: "order", id: "SO-1001"}`.
public struct TaskSubject: Sendable, Equatable, Codable {
    public var type: String
    public var id: String

    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }
}
