import BatonTestSupport
import Foundation
import PostgresClient
import Testing

@Suite struct MigrationFileTests {
    @Test func everySQLFileInTheDirectoryIsEmbedded() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sql")
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(TestDatabase.migrations.map(\.fileName) == onDisk)
        let versions = TestDatabase.migrations.map(\.version)
        #expect(versions == Array(1...versions.count), "migrations are numbered 1, 2, 3… without gaps")
    }

    @Test func everyEmbeddedMigrationIsItsFileByteForByte() throws {
        // A checksum that differs from the file's would make every deployed database refuse the build.
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sql")
        for migration in TestDatabase.migrations {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(migration.fileName))
            let fromFile = try #require(Migration(fileName: migration.fileName, contents: Array(bytes)))
            #expect(migration.checksum == fromFile.checksum, "\(migration.fileName)")
        }
    }

    @Test func fileNamesParseIntoVersionAndName() throws {
        let migration = try #require(Migration(fileName: "0012_add_orders.sql", contents: Array("SELECT 1".utf8)))
        #expect(migration.version == 12)
        #expect(migration.name == "add_orders")
        #expect(migration.fileName == "0012_add_orders.sql")
        #expect(migration.checksum.count == 64)
        #expect(Migration(fileName: "notes.sql", contents: []) == nil)
        #expect(Migration(fileName: "0001_x.txt", contents: []) == nil)
    }
}

@Suite(.requiresDatabase) struct MigratorTests {
    static func migration(_ version: Int, _ name: String, _ sql: String) -> Migration {
        Migration(fileName: String(format: "%04d_%@.sql", version, name), contents: Array(sql.utf8))!
    }

    let first = migration(1, "create_log", "CREATE TABLE log (step int, at timestamptz DEFAULT clock_timestamp());")
    let second = migration(2, "fill_log", "INSERT INTO log (step) VALUES (2); INSERT INTO log (step) VALUES (3);")

    @Test func appliesInOrderAndRecordsEachMigration() async throws {
        try await withPool { pool, _ in
            // Given out of order, applied in version order.
            let migrator = Migrator(migrations: [second, first], logger: TestDatabase.quietLogger)
            let dryRun = try await migrator.migrate(pool, dryRun: true)
            #expect(dryRun.map(\.version) == [1, 2])
            #expect(try await pool.query("SELECT to_regclass('log') IS NULL AS absent").first?.decode(Bool.self, "absent") == true)
            let applied = try await migrator.migrate(pool)
            #expect(applied.map(\.version) == [1, 2])
            let steps = try await pool.query("SELECT step FROM log ORDER BY at")
            #expect(try steps.map { try $0.decode(Int.self, "step") } == [2, 3])
            let status = try await migrator.status(pool)
            #expect(status.isCurrent)
            #expect(status.currentVersion == 2)
            #expect(status.applied.map(\.checksum) == [first.checksum, second.checksum])
        }
    }

    @Test func reRunningAppliesNothingNew() async throws {
        try await withPool { pool, _ in
            let migrator = Migrator(migrations: [first, second], logger: TestDatabase.quietLogger)
            try await migrator.migrate(pool)
            #expect(try await migrator.migrate(pool).isEmpty)
            #expect(try await pool.query("SELECT count(*) AS n FROM log").first?.decode(Int.self, "n") == 2)
            let third = Self.migration(3, "more", "INSERT INTO log (step) VALUES (4);")
            let later = Migrator(migrations: [first, second, third], logger: TestDatabase.quietLogger)
            #expect(try await later.status(pool).pending.map(\.version) == [3])
            #expect(try await later.migrate(pool).map(\.version) == [3])
        }
    }

    @Test func aChangedMigrationIsRefusedNamingTheFile() async throws {
        try await withPool { pool, _ in
            try await Migrator(migrations: [first], logger: TestDatabase.quietLogger).migrate(pool)
            let edited = Self.migration(1, "create_log", "CREATE TABLE log (step bigint);")
            let migrator = Migrator(migrations: [edited, second], logger: TestDatabase.quietLogger)
            let error = try await #require(throws: PostgresError.self) { try await migrator.migrate(pool) }
            #expect(error.code == .migration)
            #expect(error.message.contains("0001_create_log.sql"))
            #expect(try await migrator.status(pool).changed.map(\.version) == [1])
            // Nothing after the changed migration ran.
            #expect(try await pool.query("SELECT count(*) AS n FROM log").first?.decode(Int.self, "n") == 0)
        }
    }

    @Test func aFailingMigrationRollsBackAndNamesItself() async throws {
        try await withPool { pool, _ in
            let broken = Self.migration(2, "broken", "INSERT INTO log (step) VALUES (9); SELECT * FROM no_such_table;")
            let migrator = Migrator(migrations: [first, broken], logger: TestDatabase.quietLogger)
            let error = try await #require(throws: PostgresError.self) { try await migrator.migrate(pool) }
            #expect(error.message.contains("0002_broken.sql"))
            #expect(try await pool.query("SELECT count(*) AS n FROM log").first?.decode(Int.self, "n") == 0)
            #expect(try await migrator.status(pool).currentVersion == 1)
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await withPool(size: 8) { pool, url in
            let slow = Self.migration(2, "slow", "SELECT pg_sleep(0.3); INSERT INTO log (step) VALUES (2);")
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        // Separate pools, as separate servers would have.
                        let own = ConnectionPool(try PostgresConfiguration(url))
                        let applied = try await Migrator(migrations: [first, slow], logger: TestDatabase.quietLogger)
                            .migrate(own)
                        await own.close()
                        return applied.count
                    }
                }
                var total = 0
                for try await count in group { total += count }
                #expect(total == 2)
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM log").first?.decode(Int.self, "n") == 1)
            #expect(try await pool.query("SELECT count(*) AS n FROM schema_migrations").first?.decode(Int.self, "n") == 2)
        }
    }

    @Test func batonsOwnMigrationsApplyToAnEmptyDatabase() async throws {
        try await withPool { pool, _ in
            let migrator = Migrator(migrations: TestDatabase.migrations, logger: TestDatabase.quietLogger)
            try await migrator.migrate(pool)
            let departments = try await pool.query("SELECT code FROM departments ORDER BY code")
            #expect(try departments.map { try $0.decode(String.self, "code") } == ["coordination", "logistics", "marketing", "sales", "support"])
            #expect(try await migrator.status(pool).isCurrent)
        }
    }
}
