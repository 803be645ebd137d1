import CPostgres
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One thread that waits for every pooled connection's socket at once (epoll), so that a
/// statement costs one thread hop instead of two: the calling task sends the statement without
/// blocking and suspends; this thread wakes when the answer arrives and resumes the task
/// directly. Before, each statement hopped to its connection's own thread, blocked there in
/// libpq, and hopped back.
///
/// A watch is one-shot: ``wait(forReadable:_:)`` arms the socket, the first readiness runs the
/// handler on this thread and disarms it.
final class SocketWatcher: @unchecked Sendable {
    /// The process's watcher, started on first use.
    static let shared = SocketWatcher()

    private let epoll: Int32
    private let handlers = Mutex<[Int32: @Sendable () -> Void]>([:])

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epoll >= 0, "epoll unavailable")
        let thread = Thread { [self] in run() }
        thread.name = "baton.postgres.sockets"
        thread.start()
    }

    /// Adds a socket to the watched set, disarmed.
    func add(_ fd: Int32) {
        var event = epoll_event()
        event.events = EPOLLONESHOT.rawValue
        event.data.fd = fd
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
    }

    /// Removes a socket before it is closed.
    func remove(_ fd: Int32) {
        handlers.withLock { _ = $0.removeValue(forKey: fd) }
        epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
    }

    /// Runs `handler` on the watcher's thread once `fd` is readable (or `writable`, or closed).
    func wait(for fd: Int32, writable: Bool = false, _ handler: @escaping @Sendable () -> Void) {
        handlers.withLock { $0[fd] = handler }
        var event = epoll_event()
        event.events = (writable ? EPOLLOUT.rawValue : EPOLLIN.rawValue) | EPOLLONESHOT.rawValue | EPOLLRDHUP.rawValue
        event.data.fd = fd
        if epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) != 0 {
            // Not registered (a socket libpq replaced): add it armed.
            epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event)
        }
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let count = epoll_wait(epoll, &events, Int32(events.count), -1)
            guard count > 0 else { continue }
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                handlers.withLock { $0.removeValue(forKey: fd) }?()
            }
        }
    }
}
