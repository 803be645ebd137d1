/// Every use-case service over one database: what the API, `batonctl`, the background services
/// and the demo seeder call, so each entry point behaves alike.
public struct BatonServices: Sendable {
    public let database: BatonDatabase
    public let desks: Desks
    /// Wakes this process's waiters and every other server's after a write commits.
    public let wakeups: Wakeups
    public let tasks: TaskService
    public let sla: SLAService
    public let referenceData: ReferenceDataService
    public let tokens: TokenService
    public let events: EventService
    public let customers: CustomerService
    public let opportunities: OpportunityService
    public let campaigns: CampaignService
    public let inventory: InventoryService
    public let cases: CaseService
    public let orders: OrderService
    /// The automation hook the services that emit business events call.
    public let handoffRules: HandoffRules
    public let rules: RuleService
    public let webhooks: WebhookService
    public let meetings: MeetingService
    public let training: TrainingService
    public let reports: ReportService
    public let briefing: BriefingService
    public let retention: RetentionService

    /// `desks` are this process's long-poll waiters, woken by notifications from every server
    /// (``NotificationRouter``); a process that does not serve long polls can use its own.
    /// `webhooks` says which subscription URLs are allowed.
    public init(database: BatonDatabase, desks: Desks = Desks(), webhooks: WebhookSettings = WebhookSettings()) {
        self.database = database
        self.desks = desks
        let wakeups = Wakeups(pool: database.pool, desks: desks)
        self.wakeups = wakeups
        self.tasks = TaskService(database: database, wakeups: wakeups)
        self.sla = SLAService(database: database, wakeups: wakeups)
        self.referenceData = ReferenceDataService(database: database, wakeups: wakeups)
        self.tokens = TokenService(database: database)
        self.events = EventService(database: database, desks: desks)
        let handoffRules = HandoffRules(database: database, tasks: tasks)
        self.handoffRules = handoffRules
        self.rules = RuleService(database: database, wakeups: wakeups, rules: handoffRules)
        self.customers = CustomerService(database: database, wakeups: wakeups, tasks: tasks)
        self.opportunities = OpportunityService(database: database, wakeups: wakeups, customers: customers, rules: handoffRules)
        self.campaigns = CampaignService(database: database, wakeups: wakeups)
        self.inventory = InventoryService(database: database, wakeups: wakeups, rules: handoffRules)
        self.cases = CaseService(database: database, wakeups: wakeups, tasks: tasks, rules: handoffRules)
        self.orders = OrderService(database: database, wakeups: wakeups, customers: customers, inventory: inventory, rules: handoffRules)
        self.webhooks = WebhookService(database: database, wakeups: wakeups, settings: webhooks)
        self.meetings = MeetingService(database: database, wakeups: wakeups)
        self.training = TrainingService(database: database, wakeups: wakeups)
        self.reports = ReportService(database: database, wakeups: wakeups)
        self.briefing = BriefingService(database: database, reports: reports)
        self.retention = RetentionService(database: database)
    }
}
