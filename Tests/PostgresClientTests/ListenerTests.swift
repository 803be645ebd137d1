import Foundation
import PostgresClient
import Testing

@Suite(.requiresDatabase) struct ListenerTests {
    @Test func notificationsReachSubscribersOfTheirChannelOnly() async throws {
        try await withPool { pool, url in
            let listener = PostgresListener(configuration: try PostgresConfiguration(url))
            listener.start()
            let tasks = await listener.notifications(on: "tasks")
            let other = await listener.notifications(on: "other")
            try await pool.query("SELECT pg_notify('tasks', $1)", ["sales-emea"])
            try await pool.query("SELECT pg_notify('other', 'x')")
            var iterator = tasks.makeAsyncIterator()
            let first = await iterator.next()
            guard case .notification(let notification) = first else {
                Issue.record("expected a notification, got \(String(describing: first))")
                return
            }
            #expect(notification.channel == "tasks")
            #expect(notification.payload == "sales-emea")
            var otherIterator = other.makeAsyncIterator()
            guard case .notification(let otherNotification) = await otherIterator.next() else {
                Issue.record("the other channel got nothing")
                return
            }
            #expect(otherNotification.payload == "x")
            await listener.stop()
            #expect(await iterator.next() == nil)
        }
    }

    @Test func notificationsInsideATransactionArriveOnlyAfterCommit() async throws {
        try await withPool { pool, url in
            let listener = PostgresListener(configuration: try PostgresConfiguration(url))
            listener.start()
            let stream = await listener.notifications(on: "wake")
            let received = Task { () -> (String, ContinuousClock.Instant)? in
                for await event in stream {
                    if case .notification(let notification) = event { return (notification.payload, .now) }
                }
                return nil
            }
            var committedAt = ContinuousClock.now
            try await pool.transaction { tx in
                try await tx.query("SELECT pg_notify('wake', 'after-commit')")
                try await Task.sleep(for: .milliseconds(300))
                committedAt = .now
            }
            let (payload, at) = try #require(await received.value)
            #expect(payload == "after-commit")
            #expect(at >= committedAt)
            // Delivery is prompt: the listener sleeps in poll(2) on the socket, not on its
            // one-second timer. (The latency itself is measured by scripts/bench.sh, not here.)
            #expect(at - committedAt < .milliseconds(900))
            await listener.stop()
        }
    }

    @Test func theListenerReconnectsAndListensAgainAfterItsBackendIsTerminated() async throws {
        try await withPool { pool, url in
            let listener = PostgresListener(
                configuration: try PostgresConfiguration(url),
                maximumBackoff: .milliseconds(200)
            )
            listener.start()
            let stream = await listener.notifications(on: "resilient")
            var iterator = stream.makeAsyncIterator()
            let pid = try #require(listener.backendPID)
            try await terminateBackend(pid, url: url)
            #expect(await iterator.next() == .reconnected)
            #expect(listener.reconnectCount == 1)
            #expect(listener.backendPID != pid)
            try await pool.query("SELECT pg_notify('resilient', 'back')")
            guard case .notification(let notification) = await iterator.next() else {
                Issue.record("no notification after reconnecting")
                return
            }
            #expect(notification.payload == "back")
            await listener.stop()
        }
    }
}
