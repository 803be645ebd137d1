/// Every use-case service over one database: what the API, `batonctl`, the background services
/// and the demo seeder call, so each entry point behaves alike.
public struct BatonServices: Sendable {
    public let database: BatonDatabase
    public let desks: Desks
    public let tasks: TaskService
    public let sla: SLAService
    public let referenceData: ReferenceDataService
    public let tokens: TokenService
    public let events: EventService

    /// `desks` are this process's long-poll waiters, woken by notifications from every server
    /// (``NotificationRouter``); a process that does not serve long polls can use its own.
    public init(database: BatonDatabase, desks: Desks = Desks()) {
        self.database = database
        self.desks = desks
        self.tasks = TaskService(database: database, desks: desks)
        self.sla = SLAService(database: database)
        self.referenceData = ReferenceDataService(database: database)
        self.tokens = TokenService(database: database)
        self.events = EventService(database: database, desks: desks)
    }
}
