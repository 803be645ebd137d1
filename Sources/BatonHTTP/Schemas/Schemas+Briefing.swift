import BatonCore

// Every item names its record as a path of this API (`href`), so a client links to it without
// knowing the routes.

extension Components.Schemas.Briefing {
    init(_ briefing: Briefing) {
        let plan = briefing.plan.rows
        self.init(
            generatedAt: briefing.generatedAt,
            eventCursor: Int64(briefing.eventCursor),
            day: briefing.day.description,
            region: briefing.region,
            team: briefing.team,
            queues: briefing.queues.map(Components.Schemas.BriefingQueue.init),
            slas: .init(total: briefing.slas.total, items: briefing.slas.items.map(Components.Schemas.BriefingSLAItem.init)),
            handoffs: .init(total: briefing.handoffs.total, items: briefing.handoffs.items.map(Components.Schemas.BriefingHandoff.init)),
            deadLetters: .init(
                total: briefing.deadLetters.total,
                items: briefing.deadLetters.items.map(Components.Schemas.BriefingDeadLetter.init)
            ),
            stock: .init(total: briefing.stock.total, items: briefing.stock.items.map(Components.Schemas.BriefingStockAlert.init)),
            complaints: .init(
                total: briefing.complaints.total,
                items: briefing.complaints.items.map(Components.Schemas.BriefingComplaint.init)
            ),
            calendar: .init(
                total: briefing.calendar.total,
                items: briefing.calendar.items.map(Components.Schemas.BriefingCalendarEntry.init)
            ),
            plan: .init(total: plan.count, items: plan.prefix(Briefing.sectionLimit).map(Components.Schemas.BriefingPlanRow.init))
        )
    }
}

extension Components.Schemas.BriefingQueue {
    init(_ queue: Briefing.Queue) {
        self.init(
            team: queue.team,
            department: queue.department,
            region: queue.region,
            paused: queue.paused,
            queued: queue.queued,
            claimed: queue.claimed,
            dead: queue.dead,
            oldestAgeSeconds: queue.oldestAgeSeconds,
            href: "/v1/teams/\(queue.team)/stats"
        )
    }
}

extension Components.Schemas.BriefingSLAItem {
    init(_ item: Briefing.SLAItem) {
        self.init(
            clockId: Int64(item.clockID),
            taskId: Int64(item.taskID),
            title: item.title,
            team: item.team,
            region: item.region,
            priority: item.priority.rawValue,
            target: .init(rawValue: item.target.rawValue) ?? .doneWithin,
            state: item.state == .breached ? .breached : .atRisk,
            dueAt: item.dueAt,
            href: "/v1/tasks/\(item.taskID)"
        )
    }
}

extension Components.Schemas.BriefingHandoff {
    init(_ item: Briefing.Handoff) {
        self.init(
            taskId: Int64(item.taskID),
            title: item.title,
            team: item.team,
            fromTeam: item.fromTeam,
            note: item.note,
            chainId: Int64(item.chainID),
            chain: item.chain,
            handedOffAt: item.handedOffAt,
            waitingSeconds: item.waitingSeconds,
            href: "/v1/tasks/\(item.taskID)"
        )
    }
}

extension Components.Schemas.BriefingDeadLetter {
    init(_ item: Briefing.DeadLetter) {
        self.init(
            taskId: Int64(item.taskID),
            title: item.title,
            team: item.team,
            priority: item.priority.rawValue,
            attempts: item.attempts,
            lastError: item.lastError,
            diedAt: item.diedAt,
            href: "/v1/tasks/\(item.taskID)"
        )
    }
}

extension Components.Schemas.BriefingStockAlert {
    init(_ level: StockLevel) {
        self.init(
            productId: Int64(level.productID),
            sku: level.sku,
            name: level.name,
            region: level.region,
            available: Int64(level.available),
            reorderPoint: Int64(level.reorderPoint),
            reorderQuantity: Int64(level.reorderQuantity),
            href: "/v1/stock/\(level.region)/\(level.sku)"
        )
    }
}

extension Components.Schemas.BriefingComplaint {
    init(_ item: Briefing.Complaint) {
        self.init(
            caseId: Int64(item.caseID),
            subject: item.subject,
            customerId: Int64(item.customerID),
            region: item.region,
            team: item.team,
            priority: item.priority,
            state: item.state,
            openedAt: item.openedAt,
            href: "/v1/cases/\(item.caseID)"
        )
    }
}

extension Components.Schemas.BriefingCalendarEntry {
    init(_ entry: Briefing.CalendarEntry) {
        self.init(
            kind: entry.kind == .training ? .training : .meeting,
            id: Int64(entry.id),
            title: entry.title,
            region: entry.region,
            startsAt: entry.startsAt,
            endsAt: entry.endsAt,
            href: entry.kind == .training ? "/v1/training/sessions/\(entry.id)" : "/v1/meetings/\(entry.id)"
        )
    }
}

extension Components.Schemas.BriefingPlanRow {
    init(_ row: PlanRow) {
        self.init(
            targetId: Int64(row.target.id),
            ownerKind: row.target.ownerKind.rawValue,
            memberId: row.target.memberID.map(Int64.init),
            team: row.target.team,
            region: row.target.region,
            metric: row.target.metric.rawValue,
            period: row.target.period.description,
            target: row.target.value,
            currency: row.target.currency,
            actual: row.actual,
            attainmentPercent: row.attainmentPercent,
            elapsed: row.elapsed,
            status: row.status.flatMap { .init(rawValue: $0.rawValue) },
            href: "/v1/targets/\(row.target.id)"
        )
    }
}
