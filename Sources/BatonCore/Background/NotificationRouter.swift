public import Logging
public import PostgresClient
public import ServiceLifecycle

/// Turns PostgreSQL notifications into wake-ups: `baton_tasks` (payload: team) wakes that
/// team's claim waiters, `baton_events` wakes feed followers, `baton_catalog` drops the cached
/// SLA policies and calendars after another instance changed them. Notifications only wake;
/// the waiters re-check the database, and they also re-check on a timer (caches expire), so a
/// lost notification delays work but never loses it.
public struct NotificationRouter: Service {
    let listener: PostgresListener
    let desks: Desks
    let catalog: SLACatalog?
    let logger: Logger

    public init(listener: PostgresListener, desks: Desks, catalog: SLACatalog? = nil, logger: Logger) {
        self.listener = listener
        self.desks = desks
        self.catalog = catalog
        self.logger = logger
    }

    public func run() async throws {
        listener.start()
        let tasks = await listener.notifications(on: "baton_tasks")
        let events = await listener.notifications(on: "baton_events")
        let catalogChanges = await listener.notifications(on: SLACatalog.channel)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in catalogChanges.cancelOnGracefulShutdown() {
                    catalog?.invalidate()
                }
            }
            group.addTask {
                for await event in tasks.cancelOnGracefulShutdown() {
                    switch event {
                    case .notification(let notification): desks.wake(team: notification.payload)
                    case .reconnected: desks.wakeAll()
                    }
                }
            }
            group.addTask {
                for await _ in events.cancelOnGracefulShutdown() {
                    desks.events.fire()
                }
            }
            await group.waitForAll()
        }
        await listener.stop()
    }
}
