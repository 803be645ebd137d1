public import Foundation

/// A worker's hold on a claimed task. The token fences every later change: whoever does not
/// hold the current token cannot complete, fail, release or hand off the task.
public struct Lease: Sendable, Equatable, Codable {
    public var worker: String
    public var token: UUID?
    public var expiresAt: Date
}
