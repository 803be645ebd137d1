import PostgresClient

extension EventStore {
    /// An `INSERT INTO events` of one event per row of CTE `source`, about the record of
    /// `entityType` whose id is `entity` (an SQL expression over the rows) in `region`, for use
    /// inside a `WITH`: the change and its events are one statement.
    static func insert(
        _ type: String,
        from source: String,
        entityType: String,
        entity: String,
        region: String,
        data: PostgresQuery,
        by principal: Principal
    ) -> PostgresQuery {
        """
        INSERT INTO events (type, source, actor_type, actor_id, entity_type, entity_id, region, data)
        SELECT \(type), \(principal.source), 'principal', \(principal.actorID), \(entityType), \(unescaped: entity),
               \(unescaped: region), \(data)
        FROM \(unescaped: source)
        """
    }
}
