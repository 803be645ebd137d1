import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster that Baton runs itself, in a data directory of its own, from the
/// system's server binaries. Used when no database URL is configured.
///
/// The server listens only on a Unix socket inside the data directory unless TCP is asked
/// for. When the process runs as root, `initdb` and the server run as the `postgres` account
/// (PostgreSQL refuses to run as root) and the data directory is owned by it.
public struct EmbeddedPostgres: Sendable {
    public struct Options: Sendable {
        /// The cluster's data directory; created when missing.
        public var dataDirectory: String
        /// The database Baton uses inside the cluster; created when missing.
        public var database: String
        /// The port number (it names the socket file even when TCP is off).
        public var port: Int
        /// Listen on this TCP address as well (for example `127.0.0.1`); `nil` for socket only.
        public var tcpAddress: String?
        /// Skip fsync, for throwaway clusters in tests and benchmarks only.
        public var disableFsync: Bool

        public init(
            dataDirectory: String,
            database: String = "baton",
            port: Int = 5432,
            tcpAddress: String? = nil,
            disableFsync: Bool = false
        ) {
            self.dataDirectory = dataDirectory
            self.database = database
            self.port = port
            self.tcpAddress = tcpAddress
            self.disableFsync = disableFsync
        }
    }

    /// A running cluster.
    public struct Running: Sendable {
        /// A libpq keyword string for the cluster's Baton database.
        public let connectionString: String
        /// False when the cluster was already running and this process only reused it; such
        /// a cluster is left running on ``EmbeddedPostgres/stop(_:)``.
        public let startedHere: Bool
    }

    public let options: Options
    private let logger: Logger
    private let dataDirectory: String
    private let serviceAccount: String?

    public init(options: Options, logger: Logger = Logger(label: "baton.postgres.embedded")) {
        self.options = options
        self.logger = logger
        self.dataDirectory = URL(fileURLWithPath: options.dataDirectory).standardizedFileURL.path
        self.serviceAccount = geteuid() == 0 ? "postgres" : nil
    }

    /// The directory holding `initdb`, `pg_ctl` and `postgres`: `pg_config --bindir` first,
    /// then the newest `/usr/lib/postgresql/*/bin`.
    public static func locateBinaries() async throws -> String {
        let required = ["initdb", "pg_ctl", "postgres"]
        func complete(_ directory: String) -> Bool {
            required.allSatisfy { FileManager.default.isExecutableFile(atPath: "\(directory)/\($0)") }
        }
        for candidate in ["/usr/bin/pg_config", "/usr/local/bin/pg_config"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            if let outcome = try? await ProcessRunner().run(candidate, ["--bindir"]), outcome.status == 0 {
                let directory = outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
                if complete(directory) { return directory }
            }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name in Int(name).map { ($0, name) } }
            .sorted { $0.0 > $1.0 }
        for (_, name) in versions where complete("\(root)/\(name)/bin") {
            return "\(root)/\(name)/bin"
        }
        throw PostgresError(
            code: .embedded,
            message: "PostgreSQL server binaries not found; install the postgresql package or pass --database-url"
        )
    }

    /// Initialises the cluster when the data directory is empty, starts it unless it is
    /// already running, waits until it accepts connections and creates the database.
    public func start() async throws -> Running {
        let bin = try await Self.locateBinaries()
        let socketPath = "\(dataDirectory)/.s.PGSQL.\(options.port)"
        guard socketPath.utf8.count < 108 else {
            throw PostgresError(
                code: .embedded,
                message: "the data directory path \(dataDirectory) is too long for a Unix socket; choose a shorter one"
            )
        }
        if serviceAccount != nil, ProcessRunner.runuserPath == nil {
            throw PostgresError(
                code: .embedded,
                message: "running as root needs runuser (util-linux) to start PostgreSQL as the postgres account"
            )
        }
        try prepareDirectory()
        let runner = ProcessRunner(runAsUser: serviceAccount)
        if !FileManager.default.fileExists(atPath: "\(dataDirectory)/PG_VERSION") {
            try await initialise(bin: bin, runner: runner)
        }
        let status = try await runner.run("\(bin)/pg_ctl", ["status", "-D", dataDirectory])
        var startedHere = false
        if status.status != 0 {
            try await startServer(bin: bin, runner: runner)
            startedHere = true
        } else {
            logger.info("reusing the PostgreSQL cluster already running", metadata: ["data": "\(dataDirectory)"])
        }
        try await createDatabaseIfMissing()
        return Running(connectionString: connectionString(database: options.database), startedHere: startedHere)
    }

    /// Stops the cluster (fast shutdown: sessions are ended, no data is lost).
    public func stop(_ running: Running? = nil) async throws {
        if let running, !running.startedHere { return }
        let bin = try await Self.locateBinaries()
        let runner = ProcessRunner(runAsUser: serviceAccount)
        let outcome = try await runner.run("\(bin)/pg_ctl", ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60"])
        guard outcome.status == 0 else {
            throw PostgresError(code: .embedded, message: "pg_ctl stop failed: \(outcome.output.trimmingTrailingNewlines())")
        }
        logger.info("stopped the embedded PostgreSQL cluster", metadata: ["data": "\(dataDirectory)"])
    }

    /// Whether a server is running in the data directory.
    public func isRunning() async throws -> Bool {
        let bin = try await Self.locateBinaries()
        let outcome = try await ProcessRunner(runAsUser: serviceAccount).run(
            "\(bin)/pg_ctl",
            ["status", "-D", dataDirectory]
        )
        return outcome.status == 0
    }

    /// A libpq keyword string for `database` in this cluster.
    public func connectionString(database: String) -> String {
        var pairs = [("host", dataDirectory), ("port", String(options.port)), ("dbname", database)]
        pairs.append(("user", "postgres"))
        return PostgresConfiguration.keywords(pairs)
    }

    // MARK: - Steps

    private func prepareDirectory() throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw PostgresError(code: .embedded, message: "\(dataDirectory) exists and is not a directory")
            }
        } else {
            do {
                try manager.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
            } catch {
                throw PostgresError(code: .embedded, message: "cannot create the data directory \(dataDirectory)")
            }
        }
        let isCluster = manager.fileExists(atPath: "\(dataDirectory)/PG_VERSION")
        if !isCluster, let contents = try? manager.contentsOfDirectory(atPath: dataDirectory), !contents.isEmpty {
            throw PostgresError(
                code: .embedded,
                message: "the data directory \(dataDirectory) is not empty and holds no PostgreSQL cluster"
            )
        }
        chmod(dataDirectory, 0o700)
        if let serviceAccount {
            guard let account = getpwnam(serviceAccount) else {
                throw PostgresError(
                    code: .embedded,
                    message: "running as root needs the '\(serviceAccount)' system account; install the postgresql package"
                )
            }
            if !isCluster {
                chown(dataDirectory, account.pointee.pw_uid, account.pointee.pw_gid)
            }
            // Every directory above the data directory must let the account through.
            var parent = URL(fileURLWithPath: dataDirectory).deletingLastPathComponent()
            while parent.path != "/" {
                var info = stat()
                if stat(parent.path, &info) == 0, info.st_mode & 0o001 == 0, info.st_uid != account.pointee.pw_uid {
                    throw PostgresError(
                        code: .embedded,
                        message:
                            "the '\(serviceAccount)' account cannot reach \(dataDirectory) (\(parent.path) is not searchable); "
                            + "choose another --data-dir or pass --database-url"
                    )
                }
                parent = parent.deletingLastPathComponent()
            }
        }
    }

    private func initialise(bin: String, runner: ProcessRunner) async throws {
        logger.info("initialising a PostgreSQL cluster", metadata: ["data": "\(dataDirectory)"])
        var arguments = ["-D", dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]
        if options.disableFsync { arguments.append("--no-sync") }
        let outcome = try await runner.run("\(bin)/initdb", arguments)
        guard outcome.status == 0 else {
            throw PostgresError(code: .embedded, message: "initdb failed: \(outcome.output.trimmingTrailingNewlines())")
        }
    }

    private func startServer(bin: String, runner: ProcessRunner) async throws {
        var settings = [
            "-c listen_addresses='\(options.tcpAddress ?? "")'",
            "-c unix_socket_directories='\(dataDirectory)'",
            "-p \(options.port)",
            // A console session left idle in a transaction would hold Baton's event feed and
            // vacuum back; five minutes is far beyond anything Baton itself keeps open.
            "-c idle_in_transaction_session_timeout=300000",
        ]
        if options.disableFsync {
            settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        }
        let arguments = [
            "start", "-D", dataDirectory, "-w", "-t", "60", "-l", "\(dataDirectory)/server.log",
            "-o", settings.joined(separator: " "),
        ]
        let outcome = try await runner.run("\(bin)/pg_ctl", arguments)
        guard outcome.status == 0 else {
            let log = (try? String(contentsOfFile: "\(dataDirectory)/server.log", encoding: .utf8)) ?? ""
            let tail = log.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw PostgresError(
                code: .embedded,
                message: "PostgreSQL did not start: \(outcome.output.trimmingTrailingNewlines()) \(tail)"
            )
        }
        logger.info("started the embedded PostgreSQL cluster", metadata: ["data": "\(dataDirectory)"])
    }

    private func createDatabaseIfMissing() async throws {
        let configuration = try PostgresConfiguration(connectionString(database: "postgres"))
        let connection = try await PostgresConnection.connect(configuration: configuration, logger: logger)
        defer { Task { await connection.close() } }
        let exists = try await connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database])
        if exists.rows.isEmpty {
            let quoted = "\"" + options.database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            do {
                try await connection.simpleQuery("CREATE DATABASE \(quoted)")
            } catch let error as PostgresError where error.sqlState == "42P04" {
                // Another process created it first.
            }
        }
    }
}
