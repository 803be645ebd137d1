import Foundation

extension DemoSeeder {
    /// A demo customer: its region, name (some in Chinese, Japanese and Korean), status, the
    /// member who owns it (by e-mail) and one contact.
    private struct DemoCustomer {
        var region: String
        var name: String
        var status: CustomerStatus
        var owner: String?
        var contact: (name: String, email: String, role: String)
        var fromCampaign: Bool = false
    }

    private static let customers: [DemoCustomer] = [
        .init(
            region: "emea",
            name: "Müller & Söhne GmbH",
            status: .active,
            owner: "ada@example.com",
            contact: ("Jana Müller", "jana@mueller.example", "Purchasing")
        ),
        .init(
            region: "emea",
            name: "Société Lumière SA",
            status: .active,
            owner: "ada@example.com",
            contact: ("Luc Fournier", "luc@lumiere.example", "CFO")
        ),
        .init(
            region: "emea",
            name: "Nordwind Logistik AG",
            status: .prospect,
            owner: "ada@example.com",
            contact: ("Sven Ahl", "sven@nordwind.example", "COO")
        ),
        .init(
            region: "emea",
            name: "Helios Energía SL",
            status: .lead,
            owner: nil,
            contact: ("Marta Ruiz", "marta@helios.example", "Buyer"),
            fromCampaign: true
        ),
        .init(
            region: "emea",
            name: "Kranich Maschinenbau KG",
            status: .lead,
            owner: nil,
            contact: ("Olaf Kranich", "olaf@kranich.example", "Owner"),
            fromCampaign: true
        ),
        .init(
            region: "emea",
            name: "Orbis Retail plc",
            status: .churned,
            owner: "ada@example.com",
            contact: ("Amy Shaw", "amy@orbis.example", "Head of IT")
        ),
        .init(region: "apac", name: "华为技术有限公司", status: .active, owner: "chandra@example.com", contact: ("王伟", "wang.wei@huawei.example", "采购经理")),
        .init(region: "apac", name: "上海明辉贸易有限公司", status: .prospect, owner: "chandra@example.com", contact: ("李娜", "li.na@minghui.example", "总经理")),
        .init(
            region: "apac",
            name: "株式会社さくら精機",
            status: .active,
            owner: "chandra@example.com",
            contact: ("佐藤 花子", "hanako@sakura-seiki.example", "購買部")
        ),
        .init(
            region: "apac",
            name: "トヨタ部品販売株式会社",
            status: .lead,
            owner: nil,
            contact: ("鈴木 一郎", "suzuki@parts.example", "Manager"),
            fromCampaign: true
        ),
        .init(
            region: "apac",
            name: "한빛전자 주식회사",
            status: .prospect,
            owner: "chandra@example.com",
            contact: ("김민준", "minjun@hanbit.example", "Director")
        ),
        .init(
            region: "apac",
            name: "Tata Agro Exports Pvt Ltd",
            status: .active,
            owner: "chandra@example.com",
            contact: ("Priya Nair", "priya@tata-agro.example", "Buyer")
        ),
    ]

    /// Customers with contacts and interactions, a campaign per region whose leads landed in
    /// sales, opportunities across every stage, won and lost, and cases in every state with
    /// feedback.
    func seedCustomers(by system: Principal) async throws {
        var owners: [String: Int] = [:]
        for member in try await services.referenceData.members(page: try PageRequest(limit: 200, after: nil), by: system).items {
            owners[member.email] = member.id
        }
        var campaigns: [String: Int] = [:]
        for (region, name, channel, budget, currency) in [
            ("emea", "Hannover Messe 2026", CampaignChannel.events, 4_500_000, "EUR"),
            ("apac", "Tokyo partner webinar", CampaignChannel.partner, 150_000_000, "JPY"),
        ] {
            let campaign = try await services.campaigns.create(
                NewCampaign(
                    region: region,
                    name: name,
                    channel: channel,
                    budgetMinor: budget,
                    currency: currency,
                    startsOn: LocalDate(parsing: "2026-04-20"),
                    endsOn: LocalDate(parsing: "2026-06-30")
                ),
                by: system
            )
            campaigns[region] = campaign.id
        }
        var created: [Customer] = []
        for demo in Self.customers {
            let customer = try await services.customers.create(
                NewCustomer(
                    region: demo.region,
                    name: demo.name,
                    status: demo.status,
                    ownerID: demo.owner.flatMap { owners[$0] },
                    tags: demo.status == .active ? ["key-account"] : [],
                    campaignID: demo.fromCampaign ? campaigns[demo.region] : nil,
                    contacts: [NewContact(name: demo.contact.name, role: demo.contact.role, email: demo.contact.email, preferredChannel: .email)]
                ),
                by: system
            ).customer
            created.append(customer)
            _ = try await services.customers.logInteraction(
                NewInteraction(
                    kind: .call,
                    summary: "Introductory call with \(demo.contact.name)",
                    occurredAt: Date().addingTimeInterval(-20 * 86_400)
                ),
                forCustomer: customer.id,
                by: system
            )
            if demo.status == .prospect, demo.owner != nil {
                let inTwoDays = Date().addingTimeInterval(2 * 86_400)
                let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: inTwoDays)
                _ = try await services.customers.logInteraction(
                    NewInteraction(
                        kind: .meeting,
                        summary: "Proposal walkthrough; send the revised quote",
                        followUpOn: LocalDate(year: parts.year ?? 2027, month: parts.month ?? 1, day: parts.day ?? 1)
                    ),
                    forCustomer: customer.id,
                    by: system
                )
            }
        }
        try await seedOpportunities(for: created, by: system)
        try await seedCases(for: created, by: system)
        try await seedStock(for: created, by: system)
    }

    /// Six products stocked in both regions, two years of orders, then reorder points with a
    /// few products at or below theirs (so logistics has restock tasks waiting).
    private func seedStock(for customers: [Customer], by system: Principal) async throws {
        let inventory = services.inventory
        let catalogue: [(String, String, String, Int)] = [
            ("PUMP-200", "Centrifugal pump 200 l/min", "pumps", 129_900), ("PUMP-450", "Centrifugal pump 450 l/min", "pumps", 219_000),
            ("VALVE-7", "Ball valve DN50", "valves", 8_950), ("SEAL-KIT-3", "Seal kit, series 3", "spares", 2_400),
            ("MOTOR-11K", "Motor 11 kW", "motors", 310_000), ("SENSOR-P", "Pressure sensor 0-16 bar", "sensors", 15_500),
        ]
        for (index, (sku, name, category, price)) in catalogue.enumerated() {
            _ = try await inventory.createProduct(
                NewProduct(sku: sku, name: name, category: category, unitPriceMinor: price, currency: "EUR"),
                by: system
            )
            for region in ["emea", "apac"] {
                _ = try await inventory.receive(region: region, sku: sku, quantity: 40 + index * 15, reason: "Opening stock", by: system)
            }
        }
        // Before any reorder point is set, so that the orders' movements cross none.
        try await seedOrders(for: customers, skus: catalogue.map(\.0), by: system)
        for (index, (sku, _, _, _)) in catalogue.enumerated() {
            for region in ["emea", "apac"] {
                let level = try await inventory.level(region: region, sku: sku, by: system)
                _ = try await inventory.updateLevel(
                    region: region,
                    sku: sku,
                    version: level.version,
                    StockSettings(reorderPoint: 20, reorderQuantity: 60),
                    by: system
                )
                // Some sold down to (or under) the reorder point.
                if (index + (region == "apac" ? 1 : 0)) % 3 == 0, level.available > 12 {
                    _ = try await inventory.adjust(region: region, sku: sku, delta: -(level.available - 12), reason: "Stock count", by: system)
                }
            }
        }
    }

    /// Inquiries and complaints in every state, and feedback on the resolved ones and others.
    private func seedCases(for customers: [Customer], by system: Principal) async throws {
        let cases = services.cases
        // The actions that bring a new case to each state, in order.
        let paths: [[CaseAction]] = [
            [], [.open], [.open, .waitOnCustomer], [.open, .waitInternally], [.open, .resolve], [.open, .resolve, .close],
            [.open, .resolve, .reopen],
        ]
        let subjects = [
            (CaseKind.inquiry, "Delivery date for the next shipment"), (.complaint, "Pallets arrived damaged"),
            (.inquiry, "Invoice copy requested"), (.complaint, "Order shipped to the old address"),
            (.inquiry, "Volume discount for 2027"), (.complaint, "Late delivery, production stopped"),
        ]
        for (index, customer) in customers.enumerated() {
            for round in 0..<2 {
                let number = index * 2 + round
                let (kind, subject) = subjects[number % subjects.count]
                let opened = try await cases.create(
                    NewCase(
                        customerID: customer.id,
                        kind: kind,
                        channel: [CaseChannel.email, .phone, .chat][number % 3],
                        subject: subject,
                        priority: kind == .complaint ? .high : .normal
                    ),
                    by: system
                )
                for action in paths[number % paths.count] {
                    let note: String? =
                        switch action {
                        case .resolve: "Answered and confirmed with the customer"
                        case .reopen: "The customer wrote back: not solved"
                        default: nil
                        }
                    _ = try await cases.act(action, onCase: opened.id, note: note, by: system)
                }
                if paths[number % paths.count].last == .resolve || paths[number % paths.count].last == .close {
                    _ = try await cases.createFeedback(
                        NewFeedback(customerID: customer.id, caseID: opened.id, score: [5, 4, 2, 5, 3][number % 5], comment: "Thanks for the help"),
                        by: system
                    )
                }
            }
        }
    }

    /// Two to three deals per customer, spread over the stages; some won, some lost.
    private func seedOpportunities(for customers: [Customer], by system: Principal) async throws {
        let stages = ["new", "qualified", "proposal", "negotiation"]
        let reasons = ["price", "competitor", "timing", "no_budget"]
        for (index, customer) in customers.enumerated() {
            let currency = customer.region == "emea" ? "EUR" : "USD"
            for deal in 0..<(2 + index % 2) {
                let number = index * 3 + deal
                var opportunity = try await services.opportunities.create(
                    NewOpportunity(
                        customerID: customer.id,
                        title: ["Annual supply contract", "Pilot project", "Spare parts framework"][deal % 3],
                        amountMinor: (12 + number * 7 % 40) * 100_000,
                        currency: currency,
                        expectedClose: LocalDate(year: 2027, month: 1 + number % 6, day: 15),
                        stage: stages[number % stages.count]
                    ),
                    by: system
                )
                switch number % 5 {
                case 1: opportunity = try await services.opportunities.win(id: opportunity.id, note: "Signed", by: system)
                case 3:
                    opportunity = try await services.opportunities.lose(
                        id: opportunity.id,
                        reason: reasons[number % reasons.count],
                        note: nil,
                        by: system
                    )
                case 2:
                    if opportunity.stage != "negotiation" {
                        let next = stages[(stages.firstIndex(of: opportunity.stage) ?? 0) + 1]
                        opportunity = try await services.opportunities.move(id: opportunity.id, to: next, note: nil, by: system)
                    }
                default: break
                }
            }
        }
    }
}
