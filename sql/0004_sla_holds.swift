extension BatonMigrations {
    /// `0004_sla_holds.sql`: held tasks out of the claim index, paused clocks out of the
    /// monitor's, and paused clocks settled by the time they used. `Migrations.swift` has landed
    /// and is not edited, so migrations after 0003 each come with a file like this one;
    /// `BatonDatabase.migrationFiles` lists them after `BatonMigrations.files`.
    public static let slaHolds = (name: "0004_sla_holds.sql", contents: PackageResources._004_sla_holds_sql)
}
