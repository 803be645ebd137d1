extension BatonMigrations {
    /// `0005_team_stats.sql`: an index of held queued tasks, so team stats count a queue from
    /// partial indexes alone.
    public static let teamStats = (name: "0005_team_stats.sql", contents: PackageResources._005_team_stats_sql)
}
