import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// CONFIG SET port / bind move the listening sockets at once, and keep the old ones (with an
/// error) when the new addresses cannot be bound, as Redis's changeListener does.
@Suite("Listening sockets follow CONFIG SET port and bind")
struct ListenerTests {
    /// A free loopback port (bound and released by the test itself).
    private func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A socket listening on `port` on every IPv4 address, so the server cannot take it.
    private func occupy(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(fd, 1)
        return fd
    }

    @Test func configSetPortMovesTheListener() throws {
        try withServer(["--bind", "127.0.0.1"]) { port in
            let client = try RawClient(port: port)
            let newPort = freePort()
            #expect(client.reply("CONFIG", "SET", "port", "\(newPort)") == "+OK\r\n")
            let moved = try RawClient(port: newPort)
            #expect(moved.reply("PING") == "+PONG\r\n")
            #expect(moved.infoField("server", "tcp_port") == "\(newPort)")
            // The old port no longer accepts; the existing connection stays.
            #expect(throws: (any Error).self) { _ = try RawClient(port: port) }
            #expect(client.reply("PING") == "+PONG\r\n")
        }
    }

    @Test func aPortInUseIsRefusedAndTheOldListenerKept() throws {
        try withServer(["--bind", "127.0.0.1"]) { port in
            let client = try RawClient(port: port)
            let busy = freePort()
            let blocker = occupy(busy)
            defer { close(blocker) }
            #expect(client.reply("CONFIG", "SET", "port", "\(busy)")
                == "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.\r\n")
            #expect(try RawClient(port: port).reply("PING") == "+PONG\r\n")
            #expect(client.infoField("server", "tcp_port") == "\(port)")
        }
    }

    @Test func configSetBindRebindsAndRollsBack() throws {
        try withServer(["--bind", "127.0.0.1"]) { port in
            let client = try RawClient(port: port)
            #expect(client.reply("CONFIG", "SET", "bind", "127.0.0.1 -::1") == "+OK\r\n")
            #expect(try RawClient(port: port).reply("PING") == "+PONG\r\n")
            // 192.0.2.1 (TEST-NET-1) is no local address: refused, the previous bind restored.
            #expect(client.reply("CONFIG", "SET", "bind", "192.0.2.1")
                == "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n")
            #expect(try RawClient(port: port).reply("PING") == "+PONG\r\n")
            #expect(client.infoField("server", "listener0") == "name=tcp,bind=127.0.0.1,bind=-::1,port=\(port)")
        }
    }
}
