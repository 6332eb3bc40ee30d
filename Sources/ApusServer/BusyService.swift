import ApusCommands
import ApusStore
import CSystemShims
import NIOConcurrencyHelpers
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The connections of one event loop, so that its thread can still serve them while a busy
/// script holds it — the script runs on this thread, or a command here waits for a lock the
/// script holds. NIO cannot run the loop then, so this reads the sockets itself and runs what
/// arrived through the ordinary path, where everything but the allow-busy commands (SCRIPT
/// KILL, SHUTDOWN NOSAVE, MULTI, ...) gets -BUSY: Redis's processEventsWhileBlocked.
///
/// Installed as the thread's wait hook (`apus_set_wait_hook`): the Lua interrupt hook and
/// lock waits call it; it does nothing unless one of this server's scripts is busy.
final class BusyService: @unchecked Sendable {
    let server: ServerContext
    let worker: Worker
    /// Touched only on the loop's thread.
    private var handlers: [ConnectionHandler] = []
    private var pollSet: [pollfd] = []
    private var serving = false
    private var lastServedNanos: UInt64 = 0
    /// When this loop last served while held (monotonic ns): the acceptor gives new
    /// connections to loops that are not held.
    private let heldAtNanos = Atomic<UInt64>(0)

    init(server: ServerContext, worker: Worker) {
        self.server = server
        self.worker = worker
    }

    func add(_ handler: ConnectionHandler) {
        handler.serviceSlot = handlers.count
        handlers.append(handler)
    }

    func remove(_ handler: ConnectionHandler) {
        let slot = handler.serviceSlot
        guard slot >= 0, slot < handlers.count, handlers[slot] === handler else { return }
        let last = handlers.removeLast()
        if slot < handlers.count {
            handlers[slot] = last
            last.serviceSlot = slot
        }
        handler.serviceSlot = -1
    }

    /// Whether the loop's thread was held by a busy script within the last 100 ms.
    var isHeld: Bool {
        let at = heldAtNanos.load(ordering: .relaxed)
        return at != 0 && monotonicNanos() &- at < 100_000_000
    }

    /// The wait hook: serves every connection with bytes waiting, at most once a millisecond.
    func serveIfBusy() {
        guard !serving, server.scriptIsBusy else { return }
        let now = monotonicNanos()
        heldAtNanos.store(now, ordering: .relaxed)
        guard now &- lastServedNanos >= 1_000_000 else { return }
        lastServedNanos = now
        serving = true
        worker.servingWhileBusy = true
        defer {
            worker.servingWhileBusy = false
            serving = false
        }
        pollSet.removeAll(keepingCapacity: true)
        var candidates: [ConnectionHandler] = []
        for handler in handlers where handler.canServeWhileBusy {
            pollSet.append(pollfd(fd: handler.fd, events: Int16(POLLIN), revents: 0))
            candidates.append(handler)
        }
        guard !candidates.isEmpty else { return }
        let ready = pollSet.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), 0) }
        guard ready > 0 else { return }
        for (i, handler) in candidates.enumerated() where pollSet[i].revents != 0 {
            handler.serveWhileBusy()
        }
    }

    // MARK: The thread's hook

    /// Installs `service` as the calling (event-loop) thread's wait hook.
    static func install(_ service: BusyService) {
        apus_set_wait_hook(serveHook, Unmanaged.passUnretained(service).toOpaque())
    }

    static func uninstall() { apus_set_wait_hook(nil, nil) }
}

private let serveHook: apus_wait_hook_fn = { context in
    guard let context else { return }
    Unmanaged<BusyService>.fromOpaque(context).takeUnretainedValue().serveIfBusy()
}
