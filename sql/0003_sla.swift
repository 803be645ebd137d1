extension BatonMigrations {
    /// `0003_sla.sql`: calendars, SLA policies, clocks, escalations and holds.
    public static let sla = (name: "0003_sla.sql", contents: PackageResources._003_sla_sql)
}
