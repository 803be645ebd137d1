import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a command to completion off the cooperative pool and captures its output.
///
/// Uses `posix_spawn` and `waitpid` directly, with output going to a temporary file rather
/// than a pipe: `pg_ctl start` leaves a daemon behind, and a pipe inherited by it would never
/// reach end-of-file.
struct ProcessRunner {
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// The account to run as when this process is root (PostgreSQL refuses to run as root).
    var runAsUser: String?

    func run(_ executable: String, _ arguments: [String]) async throws -> Outcome {
        var command = [executable] + arguments
        if let runAsUser, let runuser = Self.runuserPath {
            command = [runuser, "-u", runAsUser, "--"] + command
        }
        let argv = command
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.spawnAndWait(argv) })
            }
        }
    }

    private static func spawnAndWait(_ argv: [String]) throws -> Outcome {
        let outputPath = NSTemporaryDirectory() + "baton-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else {
            throw PostgresError(code: .embedded, message: "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED/WEXITSTATUS are macros; decode the wait status by hand.
        let exitCode: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitCode, output: output)
    }

    static let runuserPath: String? = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}
