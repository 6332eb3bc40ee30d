import ApusRESP
import ApusStore
import NIOConcurrencyHelpers
import NIOCore

/// Per-connection state that commands read and change (`SELECT`, `CLIENT SETNAME`, `HELLO`...).
///
/// Owned by the connection's event loop; other loops read it only for `CLIENT LIST`/`INFO`
/// (plain fields, read without synchronisation like Redis's own client list walk).
public final class ClientSession: @unchecked Sendable {
    /// Selects database `index` (SELECT, RESET).
    public func select(_ index: Int, in keyspace: Keyspace) {
        db = index
        database = keyspace.databases[index]
    }

    public let id: Int
    /// The selected database index; set it with `select(_:in:)` so `database` follows.
    public private(set) var db = 0
    /// The selected database itself (unowned: the keyspace keeps databases alive for the
    /// server's life), so commands reach it without touching shared reference counts.
    public private(set) unowned(unsafe) var database: Database
    public var resp: RESPVersion = .resp2
    public var authenticated: Bool
    public var user = "default"
    public var name: Bytes?
    public var libName = ""
    public var libVersion = ""
    public let remoteAddress: String
    public let localAddress: String
    public let createdAtMillis: Int64
    public var lastInteractionMillis: Int64
    /// The last command run (CLIENT LIST cmd=); a reference, so the hot path copies no String.
    /// Unmanaged: commands live as long as the server, and a strong store here would touch the
    /// shared command object's reference count on every call.
    public var lastCommandRef: Unmanaged<Command>?
    public var lastCommand: Command? { lastCommandRef?.takeUnretainedValue() }
    public var lastCommandName: String { lastCommand?.spec.fullName ?? "NULL" }
    public var noEvict = false
    public var noTouch = false
    public enum ReplyMode: Sendable { case on, off, skipNext, skipThis }
    public var replyMode: ReplyMode = .on
    /// Close the connection once the current replies are written (QUIT, protocol errors, CLIENT KILL).
    public var closeAfterReply = false
    /// Bytes waiting in the query buffer / output buffer, for CLIENT LIST.
    public var queryBufferBytes = 0
    public var outputBufferBytes = 0
    public var commandsProcessed = 0
    /// The socket's descriptor when the transport exposes it, else -1 (as Redis shows for fake clients).
    public var fd = -1
    /// The event-loop worker this client runs on (its per-thread statistics).
    /// Unowned: the server keeps its workers for its whole life; no refcount traffic per command.
    public unowned(unsafe) let worker: Worker
    /// Asks the connection to close from any thread (CLIENT KILL, SHUTDOWN).
    public var requestClose: @Sendable () -> Void = {}
    /// The wait this client is blocked in (BLPOP, ...); read and written on its own loop only.
    public var blockedOn: BlockedClient? {
        didSet { isBlocked = blockedOn != nil }
    }
    /// Whether it is blocked, for other threads (CLIENT LIST flags=b, INFO).
    public private(set) var isBlocked = false
    /// Hands the reply of a served blocked command to the connection, from any thread (the
    /// connection sets it before the client runs its first command, and never changes it).
    public var unblockDelivery: @Sendable (ByteBuffer) -> Void = { _ in }

    public init(id: Int, remoteAddress: String, localAddress: String, worker: Worker,
                authenticated: Bool, now: Int64, keyspace: Keyspace) {
        self.id = id
        self.database = keyspace.databases[0]
        self.remoteAddress = remoteAddress
        self.localAddress = localAddress
        self.worker = worker
        self.authenticated = authenticated
        self.createdAtMillis = now
        self.lastInteractionMillis = now
    }
}

/// The registry of connected clients (CLIENT LIST/KILL, INFO clients).
public final class ClientRegistry: @unchecked Sendable {
    private let lock = NIOLock()
    private var clients: [Int: ClientSession] = [:]
    private var nextID = 1
    /// Total connections accepted / rejected since start (INFO stats).
    public private(set) var totalConnections = 0
    public var rejectedConnections = 0

    public init() {}

    public func makeID() -> Int {
        lock.withLock {
            defer { nextID += 1 }
            return nextID
        }
    }

    public func add(_ client: ClientSession) {
        lock.withLockVoid {
            clients[client.id] = client
            totalConnections += 1
        }
    }

    public func remove(_ client: ClientSession) {
        lock.withLockVoid { _ = clients.removeValue(forKey: client.id) }
    }

    /// A snapshot of connected clients ordered by id.
    public var all: [ClientSession] {
        lock.withLock { clients.values.sorted { $0.id < $1.id } }
    }

    public var count: Int { lock.withLock { clients.count } }

    public func client(id: Int) -> ClientSession? { lock.withLock { clients[id] } }
}
