import BatonTestSupport
import Foundation
import PostgresClient
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Runs the real `baton` executable the way a newcomer would: no database URL, so it starts
/// the embedded cluster; then SIGTERM, and a second start on the same data.
@Suite(.requiresDatabase, .serialized) struct ServeEndToEndTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("baton")
    }

    struct Server {
        let process: Process
        let log: URL
        let port: Int
    }

    static func freePort() throws -> Int {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"]
        let pipe = Pipe()
        probe.standardOutput = pipe
        try probe.run()
        probe.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func start(dataDirectory: URL, log: URL) throws -> Server {
        let port = try freePort()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve", "--port", String(port), "--data-dir", dataDirectory.path]
        var environment = ProcessInfo.processInfo.environment
        environment["BATON_DATABASE_URL"] = nil
        process.environment = environment
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return Server(process: process, log: log, port: port)
    }

    static func get(_ path: String, port: Int, token: String? = nil) async -> (Int, String)? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        } catch {
            return nil
        }
    }

    static func post(_ path: String, port: Int, token: String, json: String) async -> (Int, String)? {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { return nil }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.timeoutInterval = 60
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(json.utf8)
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        } catch {
            return nil
        }
    }

    static func waitUntilReady(_ server: Server) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, server.process.isRunning {
            if let (status, _) = await get("/readyz", port: server.port), status == 200 { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    static func stop(_ server: Server) async throws -> Int32 {
        server.process.terminate()  // SIGTERM
        let deadline = ContinuousClock.now + .seconds(30)
        while server.process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return server.process.isRunning ? -1 : server.process.terminationStatus
    }

    @Test func serveWithTheEmbeddedClusterStopsCleanlyAndRestartsOnTheSameData() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the baton product first")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("baton-e2e-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let embedded = EmbeddedPostgres(options: .init(dataDirectory: directory.appendingPathComponent("pg").path))

        let first = try Self.start(dataDirectory: directory, log: directory.appendingPathComponent("first.log"))
        let ready = try await Self.waitUntilReady(first)
        if !ready { Issue.record("baton never became ready: \((try? String(contentsOf: first.log, encoding: .utf8)) ?? "")") }
        // Write a row straight into the embedded database; it must survive the restart.
        let connection = try await PostgresConnection.connect(
            configuration: try PostgresConfiguration(embedded.connectionString(database: "baton"))
        )
        try await connection.query("INSERT INTO regions (code, name) VALUES ('emea', 'EMEA')")
        await connection.close()
        // A long-poll in flight does not hold up shutdown: it answers (empty) within a second
        // of SIGTERM, and the server exits cleanly.
        let token = try String(contentsOf: directory.appendingPathComponent("admin-token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let team = await Self.post("/v1/teams", port: first.port, token: token, json: #"{"department":"sales","region":"emea"}"#)
        #expect(team?.0 == 201)
        let longPoll = Task {
            await Self.post("/v1/teams/sales-emea/claim", port: first.port, token: token, json: #"{"worker":"w","wait_seconds":30}"#)
        }
        try await Task.sleep(for: .milliseconds(500))
        let stopping = ContinuousClock.now
        #expect(try await Self.stop(first) == 0)
        #expect(ContinuousClock.now - stopping < .seconds(15), "a 30-second long-poll did not hold up shutdown")
        let polled = await longPoll.value
        #expect(polled?.0 == 200)
        #expect(polled?.1 == #"{"tasks":[]}"#)
        #expect(try await embedded.isRunning() == false, "no postgres left behind after baton exits")

        let second = try Self.start(dataDirectory: directory, log: directory.appendingPathComponent("second.log"))
        #expect(try await Self.waitUntilReady(second))
        // The first start created the admin token and left it, readable by the owner only, in the data directory.
        let tokenFile = directory.appendingPathComponent("admin-token")
        #expect(token.hasPrefix("bt_"))
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(await Self.get("/v1/regions", port: second.port)?.0 == 401)
        let regions = await Self.get("/v1/regions", port: second.port, token: token)
        #expect(regions?.0 == 200)
        #expect(regions?.1.contains(#""code":"emea""#) == true)
        #expect(try await Self.stop(second) == 0)
        #expect(try await embedded.isRunning() == false)
        let secondLog = try String(contentsOf: second.log, encoding: .utf8)
        #expect(!secondLog.contains("initialising"), "the second start reuses the cluster")
    }
}
