import Foundation
import NIOCore
import Testing

@testable import ApusServer

#if canImport(Glibc)
import Glibc
#endif

extension RawClient {
    /// Sends a command and reads one reply: a line, or a bulk string's header and body.
    func reply(_ args: String...) -> String {
        var text = "*\(args.count)\r\n"
        for arg in args { text += "$\(arg.utf8.count)\r\n\(arg)\r\n" }
        write(text)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = received.indices.dropLast().first(where: { received[$0] == 13 && received[$0 + 1] == 10 }) {
                let header = String(decoding: received[..<end], as: UTF8.self)
                guard header.hasPrefix("$"), let length = Int(header.dropFirst()), length >= 0 else { break }
                if received.count >= end + 2 + length + 2 { break }
            }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// A field of an INFO section (`rejected_connections`...).
    func infoField(_ section: String, _ name: String) -> String? {
        for line in reply("INFO", section).split(separator: "\r\n") where line.hasPrefix(name + ":") {
            return String(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// The local port of this client's socket.
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether the server closed the connection within `seconds` (reads until EOF).
    func closedByPeer(within seconds: Int) -> (closed: Bool, data: String) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n == 0 { return (true, String(decoding: received, as: UTF8.self)) }
            if n < 0 {
                // ECONNRESET also means the server closed it; a timeout means it did not.
                return (errno == ECONNRESET, String(decoding: received, as: UTF8.self))
            }
            received += buffer[0..<n]
        }
    }
}

/// The accepted (server-side) socket of `client`: the test process hosts the server, so it
/// is one of our own descriptors — the one whose peer is the client's local port.
private func serverSideDescriptor(serverPort: Int, client: RawClient) -> Int32? {
    let clientPort = client.localPort
    for fd in Int32(0)..<4096 where fd != client.fd {
        var local = sockaddr_in(), peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let a = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard a == 0, local.sin_family == sa_family_t(AF_INET),
              Int(UInt16(bigEndian: local.sin_port)) == serverPort else { continue }
        length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let b = withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        if b == 0, Int(UInt16(bigEndian: peer.sin_port)) == clientPort { return fd }
    }
    return nil
}

private func intOption(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
    var value: Int32 = -1
    var length = socklen_t(MemoryLayout<Int32>.size)
    getsockopt(fd, level, name, &value, &length)
    return value
}

/// A non-loopback IPv4 address of this host, if it has one (to be a non-local peer).
private func nonLoopbackIPv4() -> String? {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { return nil }
    defer { freeifaddrs(list) }
    var cursor = list
    while let entry = cursor {
        defer { cursor = entry.pointee.ifa_next }
        guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
        let v4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
        let host = UInt32(bigEndian: v4.sin_addr.s_addr)
        guard host >> 24 != 127 else { continue }
        var text = [CChar](repeating: 0, count: 64)
        var raw = v4.sin_addr
        guard inet_ntop(AF_INET, &raw, &text, socklen_t(text.count)) != nil else { continue }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return nil
}

private let maxClientsReply = "-ERR max number of clients reached\r\n"

@Suite("maxclients, protected mode, timeout, tcp-keepalive")
struct ClientLimitsTests {
    @Test func maxclientsRejectsWithRedisErrorAndCountsIt() throws {
        try withServer(["--maxclients", "2"]) { port in
            let a = try RawClient(port: port)
            #expect(a.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            var b: RawClient? = try RawClient(port: port)
            #expect(b?.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")

            let c = try RawClient(port: port)
            let refused = c.closedByPeer(within: 5)
            #expect(refused.closed)
            #expect(refused.data == maxClientsReply)
            #expect(a.infoField("stats", "rejected_connections") == "1")
            #expect(a.infoField("stats", "total_connections_received") == "2")
            #expect(a.infoField("clients", "connected_clients") == "2")

            // A slot frees up when a client leaves.
            b = nil
            var admitted = false
            for _ in 0..<50 where !admitted {
                let d = try RawClient(port: port)
                admitted = d.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n"
                if !admitted { usleep(50_000) }
            }
            #expect(admitted)
        }
    }

    @Test func maxclientsIsReadLive() throws {
        try withServer(["--maxclients", "1"]) { port in
            let a = try RawClient(port: port)
            #expect(a.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            #expect(try RawClient(port: port).closedByPeer(within: 5).data == maxClientsReply)
            #expect(a.reply("CONFIG", "SET", "maxclients", "2") == "+OK\r\n")
            let b = try RawClient(port: port)
            #expect(b.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            #expect(try RawClient(port: port).closedByPeer(within: 5).data == maxClientsReply)
            #expect(a.infoField("stats", "rejected_connections") == "2")
        }
    }

    /// Redis's updateMaxclients: a maxclients the open-files limit cannot cover (no OS allows
    /// 10^9 descriptors) is refused with the highest value it can, and the old value stays.
    @Test func maxclientsBeyondTheOpenFilesLimitIsRefused() throws {
        try withServer([]) { port in
            let a = try RawClient(port: port)
            let reply = a.reply("CONFIG", "SET", "maxclients", "1000000000")
            #expect(reply.hasPrefix("-ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating system is not able to handle the specified number of clients, try with "))
            #expect(a.reply("CONFIG", "GET", "maxclients") == "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n")
        }
    }

    @Test func loopbackIsAllowedInProtectedMode() throws {
        try withServer(["--protected-mode", "yes"]) { port in
            let client = try RawClient(port: port)
            #expect(client.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            #expect(client.infoField("stats", "rejected_connections") == "0")
        }
    }

    @Test func protectedModeDeniesNonLoopbackPeers() throws {
        guard let address = nonLoopbackIPv4() else { return }  // no external interface here
        try withServer(["--bind", "127.0.0.1 \(address)", "--protected-mode", "yes"]) { port in
            let local = try RawClient(port: port)
            #expect(local.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")

            let remote = try RawClient(port: port, host: address)
            let denied = remote.closedByPeer(within: 5)
            #expect(denied.closed)
            #expect(denied.data == ClientLimits.protectedModeError)
            #expect(denied.data.hasPrefix("-DENIED Redis is running in protected mode because protected mode is enabled"))
            #expect(local.infoField("stats", "rejected_connections") == "1")
            #expect(local.infoField("stats", "total_connections_received") == "1")

            // A password for the default user lifts it (read live)...
            #expect(local.reply("CONFIG", "SET", "requirepass", "pw") == "+OK\r\n")
            var allowed = false
            for _ in 0..<50 where !allowed {
                let r = try RawClient(port: port, host: address)
                allowed = r.roundTrip("PING", expecting: "-NOAUTH Authentication required.\r\n")
                    == "-NOAUTH Authentication required.\r\n"
                if !allowed { usleep(20_000) }
            }
            #expect(allowed)
            // ...and so does protected-mode no.
            #expect(local.reply("AUTH", "pw") == "+OK\r\n")
            #expect(local.reply("CONFIG", "SET", "requirepass", "") == "+OK\r\n")
            usleep(100_000)
            #expect(try RawClient(port: port, host: address).closedByPeer(within: 5).data == ClientLimits.protectedModeError)
            #expect(local.reply("CONFIG", "SET", "protected-mode", "no") == "+OK\r\n")
            let open = try RawClient(port: port, host: address)
            #expect(open.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
        }
    }

    @Test func addressClassification() throws {
        let local = ["127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"]
        let remote = ["10.0.0.1", "192.0.2.2", "128.0.0.1", "0.0.0.0", "::", "::2", "fd00::2", "::ffff:10.0.0.1", "::127.0.0.1"]
        for ip in local {
            #expect(ClientLimits.isLocal(try SocketAddress(ipAddress: ip, port: 1)), "\(ip)")
        }
        for ip in remote {
            #expect(!ClientLimits.isLocal(try SocketAddress(ipAddress: ip, port: 1)), "\(ip)")
        }
        #expect(ClientLimits.isLocal(try SocketAddress(unixDomainSocketPath: "/tmp/apus.sock")))
        #expect(!ClientLimits.isLocal(nil))
    }

    @Test func idleClientsAreClosedAfterTimeout() throws {
        try withServer(["--timeout", "1"]) { port in
            let idle = try RawClient(port: port)
            let busy = try RawClient(port: port)
            #expect(idle.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            let start = Date()
            // Busy: a command every 300 ms keeps it alive past the idle one's deadline.
            for _ in 0..<10 {
                #expect(busy.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
                usleep(300_000)
            }
            let result = idle.closedByPeer(within: 1)
            #expect(result.closed)
            #expect(result.data == "")
            // Redis compares whole seconds: idle for more than 1 s, and at most ~2 s plus a cron tick.
            #expect(Date().timeIntervalSince(start) > 1)
            #expect(busy.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
        }
    }

    @Test func timeoutZeroNeverCloses() throws {
        try withServer(["--timeout", "0"]) { port in
            let idle = try RawClient(port: port)
            #expect(idle.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            #expect(!idle.closedByPeer(within: 3).closed)
            #expect(idle.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
        }
    }

    @Test func timeoutIsReadLive() throws {
        try withServer { port in
            let idle = try RawClient(port: port)
            let admin = try RawClient(port: port)
            #expect(idle.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            #expect(admin.reply("CONFIG", "SET", "timeout", "1") == "+OK\r\n")
            #expect(idle.closedByPeer(within: 5).closed)
        }
    }

    @Test func tcpKeepaliveOptionsLikeAnetKeepAlive() throws {
        try withServer { port in
            // Default tcp-keepalive 300.
            let a = try RawClient(port: port)
            #expect(a.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            let fd = try #require(serverSideDescriptor(serverPort: port, client: a))
            #expect(intOption(fd, SOL_SOCKET, SO_KEEPALIVE) == 1)
            #expect(intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 300)
            #expect(intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPINTVL) == 100)
            #expect(intOption(fd, Int32(IPPROTO_TCP), TCP_KEEPCNT) == 3)

            // CONFIG SET applies to the next connection; the interval is at least 1.
            #expect(a.reply("CONFIG", "SET", "tcp-keepalive", "2") == "+OK\r\n")
            let b = try RawClient(port: port)
            #expect(b.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            let fdB = try #require(serverSideDescriptor(serverPort: port, client: b))
            #expect(intOption(fdB, SOL_SOCKET, SO_KEEPALIVE) == 1)
            #expect(intOption(fdB, Int32(IPPROTO_TCP), TCP_KEEPIDLE) == 2)
            #expect(intOption(fdB, Int32(IPPROTO_TCP), TCP_KEEPINTVL) == 1)
            #expect(intOption(fdB, Int32(IPPROTO_TCP), TCP_KEEPCNT) == 3)

            // 0 leaves keepalive off.
            #expect(a.reply("CONFIG", "SET", "tcp-keepalive", "0") == "+OK\r\n")
            let c = try RawClient(port: port)
            #expect(c.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            let fdC = try #require(serverSideDescriptor(serverPort: port, client: c))
            #expect(intOption(fdC, SOL_SOCKET, SO_KEEPALIVE) == 0)
        }
    }
}

@Suite("dir changes the working directory")
struct WorkingDirectoryTests {
    @Test func dirAtStartupAndOnConfigSet() throws {
        // No other server may start (and chdir) while this test reads the working directory.
        pthread_rwlock_wrlock(workingDirectoryLock)
        defer { pthread_rwlock_unlock(workingDirectoryLock) }
        let original = FileManager.default.currentDirectoryPath
        defer { _ = chdir(original) }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("apus-dir-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let first = base.appendingPathComponent("first"), second = base.appendingPathComponent("second")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        let firstPath = try #require(realpath(first.path, nil).map { p in defer { free(p) }; return String(cString: p) })
        let secondPath = try #require(realpath(second.path, nil).map { p in defer { free(p) }; return String(cString: p) })

        try withServer(["--dir", first.path, "--enable-protected-configs", "yes"], ownsDirectory: true) { port in
            #expect(Server.currentDirectory() == firstPath)
            let client = try RawClient(port: port)
            #expect(client.reply("CONFIG", "SET", "dir", second.path) == "+OK\r\n")
            #expect(Server.currentDirectory() == secondPath)
            let get = "*2\r\n$3\r\ndir\r\n$\(secondPath.utf8.count)\r\n\(secondPath)\r\n"
            #expect(client.roundTrip("CONFIG", "GET", "dir", expecting: get) == get)
            // Relative to the current dir, as after Redis's chdir.
            #expect(client.reply("CONFIG", "SET", "dir", "../first") == "+OK\r\n")
            #expect(Server.currentDirectory() == firstPath)
            let missing = client.reply("CONFIG", "SET", "dir", "/nonexistent/apus")
            #expect(missing.hasPrefix("-ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"))
            #expect(Server.currentDirectory() == firstPath)
        }
    }
}
