import Dispatch
import Foundation

/// Runs a command to completion off the cooperative pool and captures its output.
struct ProcessRunner {
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// The account to run as when this process is root (PostgreSQL refuses to run as root).
    var runAsUser: String?

    func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> Outcome {
        let (launchPath, launchArguments): (String, [String])
        if let runAsUser, let runuser = Self.runuserPath {
            (launchPath, launchArguments) = (runuser, ["-u", runAsUser, "--", executable] + arguments)
        } else {
            (launchPath, launchArguments) = (executable, arguments)
        }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: launchPath)
                process.arguments = launchArguments
                if let environment { process.environment = environment }
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(
                        throwing: PostgresError(code: .embedded, message: "cannot run \(executable): \(error)")
                    )
                    return
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(
                    returning: Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
                )
            }
        }
    }

    static let runuserPath: String? = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}
