/// The SQL migrations in `sql/`, compiled into the binaries as `embedInCode` resources so an
/// installed `baton` needs no source tree. Add each new file here as well; a test checks that
/// every `.sql` file in the directory is listed.
public enum BatonMigrations {
    /// `(file name, contents)` in version order.
    public static let files: [(name: String, contents: [UInt8])] = [
        ("0001_foundation.sql", PackageResources._001_foundation_sql),
        ("0002_queues.sql", PackageResources._002_queues_sql),
        ("0003_sla.sql", PackageResources._003_sla_sql),
    ]
}
