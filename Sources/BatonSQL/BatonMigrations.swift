/// The SQL migrations in `sql/`, compiled into the binaries so an installed `baton` needs no
/// source tree. The EmbedMigrations build plugin generates ``files`` from every `sql/*.sql`
/// file: adding a migration is adding its file.
public enum BatonMigrations {}
