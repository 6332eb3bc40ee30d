import ApusConfig
import ApusServer
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback client that speaks raw RESP, for in-process integration tests.
final class RawClient {
    let fd: Int32

    init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw ClientError.connectFailed }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    enum ClientError: Error { case connectFailed }

    deinit { close(fd) }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Encodes `args` as a multibulk command.
    func command(_ args: String...) -> String {
        var text = "*\(args.count)\r\n"
        for arg in args { text += "$\(arg.utf8.count)\r\n\(arg)\r\n" }
        return text
    }

    /// Reads until `count` bytes arrived or the peer closed; returns what came.
    func read(atLeast count: Int) -> String {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while received.count < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n <= 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Sends a command and reads `expected.utf8.count` bytes of reply.
    func roundTrip(_ args: String..., expecting expected: String) -> String {
        var text = "*\(args.count)\r\n"
        for arg in args { text += "$\(arg.utf8.count)\r\n\(arg)\r\n" }
        write(text)
        return read(atLeast: expected.utf8.count)
    }
}

/// Servers chdir to `dir` when they start, and the working directory is the process's: a test
/// that checks it holds this lock for writing, server start-ups take it for reading.
nonisolated(unsafe) let workingDirectoryLock: UnsafeMutablePointer<pthread_rwlock_t> = {
    let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    pthread_rwlock_init(lock, nil)
    return lock
}()

/// Starts a server on an ephemeral loopback port for one test (`ownsDirectory`: the caller
/// already holds `workingDirectoryLock`).
func withServer(_ extra: [String] = [], ownsDirectory: Bool = false, _ body: (Int) throws -> Void) throws {
    let config = ConfigRegistry()
    try config.applyArguments(["--port", "0", "--bind", "127.0.0.1", "--save", ""] + extra)
    if !ownsDirectory { pthread_rwlock_rdlock(workingDirectoryLock) }
    let server = Server(config: config, logger: Logger(label: "test"))
    if !ownsDirectory { pthread_rwlock_unlock(workingDirectoryLock) }
    try server.start()
    defer {
        server.stop()
        server.waitUntilStopped()
    }
    try body(server.boundPorts[0])
}

@Suite("Server over real sockets")
struct ServerTests {
    @Test func pingAndEcho() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            #expect(client.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
            #expect(client.roundTrip("ECHO", "hello", expecting: "$5\r\nhello\r\n") == "$5\r\nhello\r\n")
        }
    }

    @Test func pipelinedCommandsGetRepliesInOrder() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            var batch = ""
            for i in 0..<100 { batch += client.command("ECHO", "\(i)") }
            client.write(batch)
            var expected = ""
            for i in 0..<100 { expected += "$\(String(i).count)\r\n\(i)\r\n" }
            #expect(client.read(atLeast: expected.utf8.count) == expected)
        }
    }

    @Test func commandSplitAcrossWritesIsAssembled() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            let text = client.command("ECHO", String(repeating: "x", count: 100_000))
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + 7919, bytes.count)
                client.write(String(decoding: bytes[offset..<end], as: UTF8.self))
                offset = end
            }
            let reply = client.read(atLeast: 100_000 + 12)
            #expect(reply.hasPrefix("$100000\r\nxxx"))
        }
    }

    @Test func inlineCommandsWork() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            client.write("PING\r\n")
            #expect(client.read(atLeast: 7) == "+PONG\r\n")
            client.write("ECHO \"a b\"\n")
            #expect(client.read(atLeast: 9) == "$3\r\na b\r\n")
        }
    }

    @Test func protocolErrorRepliesAndCloses() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            client.write("*1\r\n$x\r\n")
            let reply = client.read(atLeast: 1000)
            #expect(reply == "-ERR Protocol error: invalid bulk length\r\n")
        }
    }

    @Test func unknownCommandAndArity() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            let unknown = "-ERR unknown command 'NOSUCH', with args beginning with: 'a' \r\n"
            #expect(client.roundTrip("NOSUCH", "a", expecting: unknown) == unknown)
            let arity = "-ERR wrong number of arguments for 'echo' command\r\n"
            #expect(client.roundTrip("ECHO", expecting: arity) == arity)
        }
    }

    @Test func quitClosesAfterOK() throws {
        try withServer { port in
            let client = try RawClient(port: port)
            client.write(client.command("QUIT") + client.command("PING"))
            #expect(client.read(atLeast: 1000) == "+OK\r\n")
        }
    }

    @Test func requirepassDemandsAuth() throws {
        try withServer(["--requirepass", "secret"]) { port in
            let client = try RawClient(port: port)
            let noauth = "-NOAUTH Authentication required.\r\n"
            #expect(client.roundTrip("ECHO", "x", expecting: noauth) == noauth)
            let wrong = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
            #expect(client.roundTrip("AUTH", "nope", expecting: wrong) == wrong)
            #expect(client.roundTrip("AUTH", "secret", expecting: "+OK\r\n") == "+OK\r\n")
            #expect(client.roundTrip("PING", expecting: "+PONG\r\n") == "+PONG\r\n")
        }
    }
}
