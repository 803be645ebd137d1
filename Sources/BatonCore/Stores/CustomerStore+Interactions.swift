import Foundation
public import PostgresClient

extension CustomerStore {
    static let interactionColumns = """
        id, customer_id, contact_id, kind, member_id, occurred_at, summary, follow_up_on::text AS follow_up_on, follow_up_task_id,
        created_by, created_at
        """

    static func interaction(_ row: PostgresRow) throws -> Interaction {
        Interaction(
            id: try row.decode(Int.self, "id"),
            customerID: try row.decode(Int.self, "customer_id"),
            contactID: try row.decode(Int?.self, "contact_id"),
            kind: InteractionKind(rawValue: try row.decode(String.self, "kind")) ?? .note,
            memberID: try row.decode(Int?.self, "member_id"),
            occurredAt: try row.decode(Date.self, "occurred_at"),
            summary: try row.decode(String.self, "summary"),
            followUpOn: try row.decode(String?.self, "follow_up_on"),
            followUpTaskID: try row.decode(Int?.self, "follow_up_task_id"),
            createdBy: try row.decode(String?.self, "created_by"),
            createdAt: try row.decode(Date.self, "created_at")
        )
    }

    /// A customer's interactions, newest first, a page at a time (cursor: the last id).
    public func interactions(of customerID: Int, page: PageRequest) async throws -> Page<Interaction> {
        var before = Int.max
        if let cursor = page.after {
            guard let value = TextRules.integerCursor(cursor) else { throw BatonError.invalidArgument("after is not a cursor", field: "after") }
            before = value
        }
        let rows = try await pool.query(
            """
            SELECT \(unescaped: Self.interactionColumns) FROM interactions
            WHERE customer_id = \(customerID) AND id < \(before)
            ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        )
        return page.page(try rows.map(Self.interaction)) { String($0.id) }
    }

    /// Logs an interaction with its event, on the caller's transaction. The follow-up task, if
    /// any, is linked afterwards with ``linkFollowUp(interaction:task:on:)``.
    public func logInteraction(
        _ interaction: NewInteraction,
        for customer: Customer,
        by principal: Principal,
        on tx: PostgresConnection
    ) async throws -> Interaction {
        let row: PostgresRow?
        do {
            row = try await tx.query(
                """
                WITH logged AS (
                    INSERT INTO interactions (customer_id, contact_id, kind, member_id, occurred_at, summary, follow_up_on, created_by)
                    SELECT \(customer.id), \(interaction.contactID), \(interaction.kind.rawValue), \(interaction.memberID ?? principal.memberID),
                           coalesce(\(interaction.occurredAt)::timestamptz, now()), \(interaction.summary),
                           \(interaction.followUpOn?.description)::date, \(principal.actorID)
                    WHERE \(interaction.contactID)::bigint IS NULL
                       OR EXISTS (SELECT 1 FROM contacts WHERE id = \(interaction.contactID) AND customer_id = \(customer.id)
                                                         AND deleted_at IS NULL)
                    RETURNING *
                ),
                written AS (
                    \(Self.event(
                        "interaction.logged", from: "logged", customer: "logged.customer_id::text",
                        region: "(SELECT region FROM customers WHERE id = logged.customer_id)",
                        data: "jsonb_build_object('interaction_id', logged.id, 'kind', logged.kind)", by: principal))
                )
                SELECT \(unescaped: Self.interactionColumns) FROM logged
                """
            ).first
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw BatonError(.ruleViolation, "no member \(interaction.memberID ?? 0)", details: ["field": "member_id"])
        }
        guard let row else {
            throw BatonError(.ruleViolation, "the customer has no contact \(interaction.contactID ?? 0)", details: ["field": "contact_id"])
        }
        return try Self.interaction(row)
    }

    /// Records the follow-up task an interaction asked for.
    public func linkFollowUp(interaction id: Int, task taskID: Int, on tx: PostgresConnection) async throws -> Interaction {
        guard
            let row = try await tx.query(
                "UPDATE interactions SET follow_up_task_id = \(taskID) WHERE id = \(id) RETURNING \(unescaped: Self.interactionColumns)"
            ).first
        else { throw BatonError(.internalError, "interaction not found") }
        return try Self.interaction(row)
    }

    /// The team a customer's follow-ups go to: its owner's sales team in the customer's
    /// region, else any team of the owner's there, else the region's sales team.
    public func followUpTeam(for customer: Customer, on tx: PostgresConnection) async throws -> Team? {
        try await tx.query(
            """
            SELECT \(unescaped: TeamStore.columns(of: "t")) FROM teams t
            LEFT JOIN memberships m ON m.team = t.slug AND m.member_id = \(customer.ownerID)
            WHERE t.region = \(customer.region) AND (m.member_id IS NOT NULL OR t.department = 'sales')
            ORDER BY (m.member_id IS NOT NULL AND t.department = 'sales') DESC, (m.member_id IS NOT NULL) DESC,
                     (t.department = 'sales') DESC, t.slug
            LIMIT 1
            """
        ).first.map(TeamStore.team)
    }

    // MARK: - Timeline

    /// Everything about a customer, newest first: its interactions, the tasks about it
    /// (subject `customer:ID`), its opportunities' transitions, the changes to its records
    /// (events; those of its opportunities, cases and feedback have their own entity types and
    /// are not repeated), its cases (at their opening, with their current state) and its
    /// feedback, a page at a time. The cursor is the last entry's time, kind and id.
    public func timeline(of customer: Customer, page: PageRequest) async throws -> Page<TimelineEntry> {
        var beforeTime = Date.distantFuture
        var beforeKind = "~"
        var beforeID = Int.max
        if let cursor = page.after {
            let parts = cursor.split(separator: "/", maxSplits: 2)
            guard parts.count == 3, let time = PostgresTimestamp.parse(String(parts[0])), PostgresTimestamp.representable.contains(time),
                let id = TextRules.integerCursor(String(parts[2]))
            else {
                throw BatonError.invalidArgument("after is not a cursor", field: "after")
            }
            (beforeTime, beforeKind, beforeID) = (time, String(parts[1]), id)
        }
        let key = String(customer.id)
        let rows = try await pool.query(
            """
            SELECT * FROM (
                SELECT 'interaction' AS kind, i.kind AS type, i.occurred_at AS at, i.id, i.summary,
                       '/v1/customers/' || i.customer_id || '/interactions' AS link
                FROM interactions i WHERE i.customer_id = \(customer.id)
                UNION ALL
                SELECT 'task', t.state, t.created_at, t.id, t.title, '/v1/tasks/' || t.id
                FROM tasks t WHERE t.subject_type = 'customer' AND t.subject_id = \(key)
                UNION ALL
                SELECT 'opportunity', t.action, t.at, t.id,
                       o.title || ': ' || CASE t.action WHEN 'created' THEN 'opened in ' || t.to_stage
                                                        WHEN 'stage' THEN t.from_stage || ' to ' || t.to_stage
                                                        WHEN 'lost' THEN 'lost (' || t.reason || ')'
                                                        WHEN 'reopened' THEN 'reopened in ' || t.to_stage
                                                        ELSE t.action END,
                       '/v1/opportunities/' || o.id
                FROM opportunity_transitions t JOIN opportunities o ON o.id = t.opportunity_id
                WHERE o.customer_id = \(customer.id) AND o.deleted_at IS NULL
                UNION ALL
                SELECT 'event', e.type, e.occurred_at, e.id, coalesce(e.data->>'name', e.data->>'summary', e.data->>'status', e.type), NULL
                FROM events e WHERE e.entity_type = 'customer' AND e.entity_id = \(key) AND e.type <> 'interaction.logged'
                UNION ALL
                SELECT 'case', c.state, c.created_at, c.id, c.subject, '/v1/cases/' || c.id
                FROM cases c WHERE c.customer_id = \(customer.id) AND c.deleted_at IS NULL
                UNION ALL
                SELECT 'feedback', 'score_' || f.score, f.created_at, f.id, coalesce(f.comment, 'score ' || f.score),
                       '/v1/feedback?customer_id=' || f.customer_id
                FROM feedback f WHERE f.customer_id = \(customer.id)
            ) AS entries
            WHERE (at, kind, id) < (\(beforeTime)::timestamptz, \(beforeKind)::text, \(beforeID)::bigint)
            ORDER BY at DESC, kind DESC, id DESC
            LIMIT \(page.limit + 1)
            """
        )
        let entries = try rows.map { row in
            TimelineEntry(
                kind: try row.decode(String.self, "kind"),
                type: try row.decode(String.self, "type"),
                at: try row.decode(Date.self, "at"),
                id: try row.decode(Int.self, "id"),
                summary: try row.decode(String.self, "summary"),
                link: try row.decode(String?.self, "link")
            )
        }
        return page.page(entries) { "\(PostgresTimestamp.formatRFC3339($0.at))/\($0.kind)/\($0.id)" }
    }
}
