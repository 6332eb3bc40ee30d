import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The listening TCP sockets (`port` × `bind`), opened with the C socket API and accepted
/// from on a thread of their own, which hands each connection to an event loop (`handOff`).
/// Binding by hand lets CONFIG SET port / bind — which run on an event loop, where waiting
/// for a future is not allowed — learn at once whether the new addresses could be bound, and
/// refuse the change (keeping the old listeners) when not, as Redis's changeListener does.
/// Accepting by hand gives every connection's descriptor to its handler (CLIENT LIST fd=,
/// serving while a busy script holds its loop) and lets new connections avoid a held loop.
final class Listeners: @unchecked Sendable {
    private let lock = NIOLock()
    /// What the accept thread polls, guarded by `lock`.
    private var sockets: [(fd: Int32, port: Int)] = []
    private var stopped = false
    /// Bumped by every change; the accept thread acknowledges each once it stopped polling
    /// the old sockets (so they can be closed and their port bound again).
    private var generation = 0
    private var acknowledged = 0
    private let acknowledgement = DispatchSemaphore(value: 0)
    /// A pipe whose read end wakes the accept thread when `sockets` change.
    private var wakeRead: Int32 = -1
    private var wakeWrite: Int32 = -1
    private var threadStarted = false
    /// What is listening now: the port (the actual one when 0 asked for any) and `bind`.
    private(set) var port = 0
    private(set) var addresses: [String] = []
    private let backlog: Int32
    private let logger: Logger
    private let handOff: (Int32) -> Void

    init(backlog: Int32, logger: Logger, handOff: @escaping (Int32) -> Void) {
        self.backlog = backlog
        self.logger = logger
        self.handOff = handOff
        var ends: [Int32] = [0, 0]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
            wakeRead = ends[0]
            wakeWrite = ends[1]
        }
    }

    deinit {
        if wakeRead >= 0 { close(wakeRead) }
        if wakeWrite >= 0 { close(wakeWrite) }
    }

    struct ListenError: Error, CustomStringConvertible {
        let description: String
    }

    /// Start-up: binds `addresses` on `port` (0: any free port, the same for every address)
    /// and starts accepting.
    func start(port: Int, addresses: [String]) throws {
        let bound = try bindAll(port: port, addresses: addresses)
        lock.withLockVoid { sockets = bound }
        self.port = bound.first?.port ?? port
        self.addresses = addresses
        startThread()
    }

    /// CONFIG SET port / bind, as Redis's changeListener: closes the current listeners, binds
    /// the new set, and on failure binds the old set again and reports the error. Port 0 stops
    /// listening on TCP (Redis's meaning at run time).
    func change(port newPort: Int? = nil, addresses newAddresses: [String]? = nil) throws {
        let port = newPort ?? self.port
        let addresses = newAddresses ?? self.addresses
        if port == self.port && addresses == self.addresses { return }
        replaceSockets(with: [])
        do {
            replaceSockets(with: try port == 0 ? [] : bindAll(port: port, addresses: addresses))
        } catch {
            if self.port != 0, let previous = try? bindAll(port: self.port, addresses: self.addresses) {
                replaceSockets(with: previous)
            }
            throw error
        }
        self.port = port
        self.addresses = addresses
        logger.notice("Listening on port \(port) (bind: \(addresses.joined(separator: " ")))")
    }

    /// Stops accepting and closes the listening sockets (shutdown).
    func closeAll() {
        replaceSockets(with: [], stop: true)
    }

    /// Swaps the polled sockets and closes the old ones once the accept thread no longer
    /// polls them.
    private func replaceSockets(with new: [(fd: Int32, port: Int)], stop: Bool = false) {
        let (old, target, running) = lock.withLock { () -> ([(fd: Int32, port: Int)], Int, Bool) in
            let old = sockets
            sockets = new
            if stop { stopped = true }
            generation += 1
            return (old, generation, threadStarted)
        }
        if running {
            wake()
            while lock.withLock({ acknowledged < target }) {
                _ = acknowledgement.wait(timeout: .now() + .milliseconds(100))
            }
        }
        for socket in old { close(socket.fd) }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    // MARK: Accepting

    private func startThread() {
        let started = lock.withLock { () -> Bool in
            defer { threadStarted = true }
            return threadStarted
        }
        guard !started else { return }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(&thread, nil, { argument in
            let listeners = Unmanaged<Listeners>.fromOpaque(argument!).takeRetainedValue()
            listeners.acceptLoop()
            return nil
        }, box)
        if status == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Listeners>.fromOpaque(box).release()
            lock.withLockVoid { threadStarted = false }
            logger.critical("Could not start the accept thread: \(String(cString: strerror(status)))")
        }
    }

    private func acceptLoop() {
        var polled: [pollfd] = []
        var drain = [UInt8](repeating: 0, count: 64)
        while true {
            let (listening, seen, stop) = lock.withLock { (sockets.map(\.fd), generation, stopped) }
            if acknowledged < seen {
                lock.withLockVoid { acknowledged = seen }
                acknowledgement.signal()
            }
            if stop { return }
            polled.removeAll(keepingCapacity: true)
            polled.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            for fd in listening { polled.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let ready = polled.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), -1) }
            if ready < 0 {
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if polled[0].revents != 0 {
                _ = drain.withUnsafeMutableBytes { read(wakeRead, $0.baseAddress, $0.count) }
                // The set may have changed: never accept from a socket that is being closed.
                continue
            }
            for entry in polled.dropFirst() where entry.revents != 0 {
                acceptAll(entry.fd)
            }
        }
    }

    /// Accepts every waiting connection of `listener` (Redis accepts up to 1000 per event).
    private func acceptAll(_ listener: Int32) {
        for _ in 0..<1000 {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN, EWOULDBLOCK: return
                default:
                    logger.warning("Accepting client connection: \(String(cString: strerror(errno)))")
                    // Out of descriptors or buffers: give the clients a moment to close.
                    usleep(10_000)
                    return
                }
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            handOff(fd)
        }
    }

    // MARK: Sockets

    /// Binds every address (a leading `-` marks one that may fail, `*` is every IPv4 address,
    /// `::*` every IPv6 one); all or nothing: on failure the ones bound so far are closed.
    private func bindAll(port: Int, addresses: [String]) throws -> [(fd: Int32, port: Int)] {
        var bound: [(fd: Int32, port: Int)] = []
        var actualPort = port
        for raw in addresses {
            let optional = raw.hasPrefix("-")
            var host = optional ? String(raw.dropFirst()) : raw
            if host == "*" { host = "0.0.0.0" } else if host == "::*" { host = "::" }
            do {
                let socket = try Listeners.bindSocket(host: host, port: actualPort, backlog: backlog)
                if actualPort == 0 { actualPort = socket.port }
                bound.append(socket)
            } catch {
                if optional { continue }
                for socket in bound { close(socket.fd) }
                logger.warning("Could not create server TCP listening socket \(host):\(actualPort): \(error)")
                throw error
            }
        }
        return bound
    }

    /// One non-blocking listening socket with SO_REUSEADDR (and IPV6_V6ONLY for IPv6, so `*`
    /// and `::*` can share a port), returning its descriptor and actual port.
    static func bindSocket(host: String, port: Int, backlog: Int32) throws -> (fd: Int32, port: Int) {
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: host, port: port)
        } catch {
            throw ListenError(description: "\(host): not an IP address")
        }
        let family = address.protocol.rawValue
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(description: String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSockAddr { pointer, length in bind(fd, pointer, socklen_t(length)) }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ListenError(description: message)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let actual = withUnsafePointer(to: &storage) { pointer -> Int in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        return (fd, actual)
    }
}
