import ApusCommands
import ApusConfig
import ApusRESP
import NIOConcurrencyHelpers
import NIOCore

/// Runs commands through the real dispatcher without sockets and returns the raw RESP replies.
final class Harness {
    let server: ServerContext
    let client: ClientSession

    convenience init() {
        self.init(configure: { _ in })
    }

    init(configure: (ConfigRegistry) throws -> Void) rethrows {
        let config = ConfigRegistry()
        try configure(config)
        server = ServerContext(config: config, specs: CommandTable.specs, threads: 1)
        CommandFamilies.registerAll(into: server.commands)
        server.makeWorkers(count: 1)
        server.refreshSettings()
        client = ClientSession(id: server.clients.makeID(), remoteAddress: "127.0.0.1:5000", localAddress: "127.0.0.1:6379",
                               worker: server.workers[0], authenticated: server.settings.requirePass == nil, now: 0,
                               keyspace: server.keyspace)
        server.clients.add(client)
    }

    /// Sends one command (binary-safe arguments) and returns its reply bytes.
    func raw(_ args: [[UInt8]]) -> [UInt8] { raw(args, as: client) }

    /// Sends one command as `client` (another session made by `makeClient`).
    func raw(_ args: [[UInt8]], as client: ClientSession) -> [UInt8] {
        var reply = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 256), version: client.resp)
        var views: [UnsafeRawBufferPointer] = []
        let storage = args.map { bytes -> UnsafeMutableRawBufferPointer in
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
            p.copyBytes(from: bytes)
            return UnsafeMutableRawBufferPointer(rebasing: p[0..<bytes.count])
        }
        defer { for p in storage { p.deallocate() } }
        views = storage.map { UnsafeRawBufferPointer($0) }
        views.withUnsafeBufferPointer { buffer in
            Dispatcher.execute(CommandArguments(buffer), client: client, server: server, reply: &reply)
        }
        return Array(reply.buffer.readableBytesView)
    }

    /// Sends one command and returns its reply as text (RESP as on the wire).
    @discardableResult
    func send(_ args: String...) -> String { send(args) }

    @discardableResult
    func send(_ args: [String]) -> String {
        String(decoding: raw(args.map { Array($0.utf8) }), as: UTF8.self)
    }

    /// A second client of the same server. Replies of its blocked commands, delivered when
    /// another client's write serves them (or CLIENT UNBLOCK), collect in `delivered`.
    func makeClient() -> HarnessClient {
        let session = ClientSession(id: server.clients.makeID(), remoteAddress: "127.0.0.1:5001",
                                    localAddress: "127.0.0.1:6379", worker: server.workers[0],
                                    authenticated: server.settings.requirePass == nil, now: 0,
                                    keyspace: server.keyspace)
        server.clients.add(session)
        let other = HarnessClient(session: session)
        session.unblockDelivery = { [weak other] buffer in
            other?.deliver(String(decoding: buffer.readableBytesView, as: UTF8.self))
        }
        return other
    }

    /// Sends one command as `other`; a command that blocks replies "" (its reply is delivered later).
    @discardableResult
    func send(as other: HarnessClient, _ args: String...) -> String {
        String(decoding: raw(args.map { Array($0.utf8) }, as: other.session), as: UTF8.self)
    }
}

/// A client made by `Harness.makeClient()`.
final class HarnessClient: @unchecked Sendable {
    let session: ClientSession
    private let lock = NIOLock()
    private var replies: [String] = []

    init(session: ClientSession) { self.session = session }

    func deliver(_ reply: String) {
        lock.withLockVoid {
            replies.append(reply)
            // What the connection does on delivery: the client is no longer blocked.
            session.blockedOn = nil
        }
    }

    /// Replies delivered to this client since it last blocked, oldest first.
    var delivered: [String] { lock.withLock { replies } }
}
