extension BatonMigrations {
    /// `0002_queues.sql`, the department queues. Migrations after the first each come with a
    /// file like this one; `BatonDatabase.migrationFiles` lists them all in version order.
    public static let queues = (name: "0002_queues.sql", contents: PackageResources._002_queues_sql)
}
