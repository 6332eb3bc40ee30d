import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The listening TCP sockets (`port` × `bind`), opened with the C socket API and handed to
/// NIO already bound, so that CONFIG SET port / bind — which run on an event loop, where
/// waiting for a future is not allowed — learn at once whether the new addresses could be
/// bound, and refuse the change (keeping the old listeners) when not, as Redis's
/// changeListener does.
final class Listeners: @unchecked Sendable {
    private let lock = NIOLock()
    private var channels: [any Channel] = []
    /// What is listening now: the port (the actual one when 0 asked for any) and `bind`.
    private(set) var port = 0
    private(set) var addresses: [String] = []
    private let bootstrap: ServerBootstrap
    private let backlog: Int32
    private let logger: Logger

    init(bootstrap: ServerBootstrap, backlog: Int32, logger: Logger) {
        self.bootstrap = bootstrap
        self.backlog = backlog
        self.logger = logger
    }

    struct ListenError: Error, CustomStringConvertible {
        let description: String
    }

    /// Start-up: binds `addresses` on `port` (0: any free port, the same for every address)
    /// and waits until NIO serves them.
    func start(port: Int, addresses: [String]) throws {
        let sockets = try bindAll(port: port, addresses: addresses)
        let opened = try sockets.map { try bootstrap.withBoundSocket($0.fd).wait() }
        lock.withLockVoid { channels = opened }
        self.port = sockets.first?.port ?? port
        self.addresses = addresses
    }

    /// CONFIG SET port / bind, as Redis's changeListener: closes the current listeners, binds
    /// the new set, and on failure binds the old set again and reports the error. Port 0 stops
    /// listening on TCP (Redis's meaning at run time). Called on a worker loop: the listeners
    /// live on their own acceptor loop, whose close this waits for.
    func change(port newPort: Int? = nil, addresses newAddresses: [String]? = nil) throws {
        let port = newPort ?? self.port
        let addresses = newAddresses ?? self.addresses
        if port == self.port && addresses == self.addresses { return }
        closeAndWait()
        do {
            try serve(port == 0 ? [] : bindAll(port: port, addresses: addresses))
        } catch {
            if self.port != 0, let previous = try? bindAll(port: self.port, addresses: self.addresses) {
                serve(previous)
            }
            throw error
        }
        self.port = port
        self.addresses = addresses
        logger.notice("Listening on port \(port) (bind: \(addresses.joined(separator: " ")))")
    }

    /// Hands bound sockets to NIO (registration completes on the acceptor loop).
    private func serve(_ sockets: [(fd: Int32, port: Int)]) {
        for socket in sockets {
            bootstrap.withBoundSocket(socket.fd).whenComplete { [weak self, logger] result in
                switch result {
                case .success(let channel): self?.lock.withLockVoid { self?.channels.append(channel) }
                case .failure(let error): logger.warning("Could not serve a listening socket: \(error)")
                }
            }
        }
    }

    /// Closes the listeners and waits until their sockets are released (their loop is not
    /// the caller's, so a plain semaphore wait cannot deadlock).
    private func closeAndWait() {
        let closes = closeAll()
        guard let loop = closes.first?.eventLoop else { return }
        precondition(!loop.inEventLoop, "listeners must not share the caller's event loop")
        let done = DispatchSemaphore(value: 0)
        EventLoopFuture.andAllComplete(closes, on: loop).whenComplete { _ in done.signal() }
        done.wait()
    }

    /// Closes every listener (shutdown); the futures complete once they are closed.
    func closeAll() -> [EventLoopFuture<Void>] {
        let all = lock.withLock { () -> [any Channel] in
            defer { channels = [] }
            return channels
        }
        return all.map { $0.close() }
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
