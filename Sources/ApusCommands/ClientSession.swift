import ApusConfig
import ApusRESP
import ApusStore
import CSystemShims
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

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
    /// The client's buffers as CLIENT LIST shows them (Redis's field names in comments),
    /// written by the connection's own loop after each read burst and write. See
    /// `ClientMemory` for what each one measures in Apus.
    public var memory = ClientMemory()
    /// Bytes waiting in the query buffer (qbuf) / the reply buffer (obl), for CLIENT LIST and INFO.
    public var queryBufferBytes: Int { memory.queryBufferBytes }
    public var outputBufferBytes: Int { memory.replyBufferBytes }
    /// `client-output-buffer-limit` class (normal now; pub/sub and replica links set theirs).
    public var bufferClass: ClientBufferClass = .normal
    /// Client eviction (maxmemory-clients) picked this client: 0 while not, else the bytes
    /// it was charged with plus one. Set once by the evicting thread (compare-exchange),
    /// so two loops never evict the same client twice.
    public let evictionClaim = Synchronization.Atomic<Int>(0)
    /// Closed by the server as soon as possible (CLIENT LIST flag `A`): output buffer limit
    /// or client eviction.
    public var closeASAP = false
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
    /// The commands queued since MULTI (nil outside a transaction); own loop only.
    public var transaction: Transaction? {
        didSet {
            queuedCommands = transaction.map { $0.count } ?? -1
            queuedBytes = transaction.map { $0.memory } ?? 0
        }
    }
    /// CLIENT LIST multi= and multi-mem=, readable from other threads (-1: not in MULTI).
    public var queuedCommands = -1
    public var queuedBytes = 0
    /// Its Pub/Sub subscriptions and undelivered messages (PubSubRegistry).
    public let subscriber = Subscriber()
    /// CLIENT TRACKING mode (settings live in `TrackingRegistry`); own loop only.
    public var trackingMode = TrackingMode.off
    /// CLIENT CACHING yes/no given for the next command (Redis's CLIENT_TRACKING_CACHING).
    public var trackingCaching = false
    /// The client a script client runs commands for (nil for connections): client-side
    /// caching remembers reads and NOLOOP judges writes as that client's (Redis's
    /// server.current_client). Set by the script runner for the duration of a script.
    public unowned(unsafe) var onBehalfOf: ClientSession?
    /// CLIENT LIST's view of tracking: redir= (-1 when off) and flag R (the client redirected
    /// to is gone; set by whichever thread found out).
    public var trackingRedirect = -1
    public var trackingBrokenRedirect = false
    /// The keys this client WATCHes (its flag is CLIENT LIST's `d`).
    public let watchState = WatchState()
    /// Whether it is blocked, for other threads (CLIENT LIST flags=b, INFO).
    public private(set) var isBlocked = false
    /// Hands the reply of a served blocked command to the connection, from any thread (the
    /// connection sets it before the client runs its first command, and never changes it).
    public var unblockDelivery: @Sendable (ByteBuffer) -> Void = { _ in }
    /// What `ClientMemoryTotals` currently counts for this client, and under which class.
    public internal(set) var chargedBytes = 0
    public internal(set) var chargedClass: ClientBufferClass = .normal
    /// Set when the connection is gone and its charge was given back.
    public internal(set) var memoryReleased = false

    /// Bytes of the arguments a blocked command keeps (argv-mem while blocked); call on the
    /// client's own loop.
    public var blockedArgumentBytes: Int {
        guard let waiter = blockedOn else { return 0 }
        let args = waiter.command.arguments
        var total = 0
        for i in 0..<args.count { total &+= args[i].count }
        return total
    }

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

/// What one client's buffers hold, in the terms of Redis's CLIENT LIST fields.
///
/// Apus keeps a client's replies in one output `ByteBuffer` per read burst (Redis's reply
/// buffer `buf`, whose usable size is `rbs`), hands it to NIO once per burst, and NIO keeps
/// what the socket did not take yet (Redis's reply list). The query buffer holds only the
/// incomplete tail of the input: complete commands run straight from NIO's read buffer.
public struct ClientMemory: Sendable {
    /// qbuf / qbuf-free: bytes of an incomplete command waiting for more input, and the free
    /// space of the buffer holding them.
    public var queryBufferBytes = 0
    public var queryBufferFree = 0
    /// Heap bytes of the query buffer (its capacity; 0 when nothing is pending).
    public var queryBufferCapacity = 0
    /// argv-mem: bytes of the arguments the client holds a copy of (a blocked command's
    /// saved arguments; a running command's arguments are views into the query buffer).
    public var argumentBytes = 0
    /// argv-mem of a partial command: its complete arguments, still in the query buffer
    /// (Redis has moved them to argv already), so not counted again in tot-mem.
    public var parsedArgumentBytes = 0
    /// rbs / rbp: capacity of the reply buffer and the most it held in one burst.
    public var replyBufferSize = 0
    public var replyBufferPeak = 0
    /// obl: reply bytes built but not yet handed to the socket layer.
    public var replyBufferBytes = 0
    /// oll / omem: writes handed to NIO that the socket did not take yet, and their bytes
    /// plus the part of a burst's replies beyond Redis's 16 KiB static reply buffer —
    /// the bytes `client-output-buffer-limit` bounds.
    public var pendingWrites = 0
    public var outputMemory = 0
    /// Heap the unsent writes keep alive beyond `outputMemory`: NIO holds each written buffer
    /// whole (capacity, sent part included) until it is done. Memory, not omem.
    public var heldOutputExtra = 0
    /// Heap bytes of the per-connection objects (session and connection handler).
    public var fixedBytes = 0

    public init() {}

    /// The heap block of an object (malloc's usable size: what it really costs).
    public static func heapSize(of object: AnyObject) -> Int {
        Int(apus_usable_size(Unmanaged.passUnretained(object).toOpaque()))
    }

    /// tot-mem: everything above that lives on the heap for this client.
    public var total: Int {
        queryBufferCapacity &+ argumentBytes &+ replyBufferSize &+ outputMemory &+ heldOutputExtra &+ fixedBytes
    }
}

/// Server-wide client buffer memory (INFO `mem_clients_normal`, `maxmemory-clients`), kept
/// as per-event-loop sums that each loop changes only when one of its clients' numbers
/// change, and that readers add up without locks (Redis's stat_clients_type_memory).
/// This memory is not dataset memory: eviction of keys must leave it out of used_memory.
public final class ClientMemoryTotals: @unchecked Sendable {
    /// One loop's sums by `ClientBufferClass`; a class each so loops do not share lines.
    final class LoopSums: @unchecked Sendable {
        let normal = Synchronization.Atomic<Int>(0)
        let replica = Synchronization.Atomic<Int>(0)
        let pubsub = Synchronization.Atomic<Int>(0)
        /// Bytes of normal and pub/sub clients above `steadyAllowance` each.
        let burst = Synchronization.Atomic<Int>(0)
        // Keeps the next loop's counters off this cache line.
        private let padding: (Int, Int, Int, Int) = (0, 0, 0, 0)

        func add(_ bytes: Int, _ bufferClass: ClientBufferClass) {
            switch bufferClass {
            case .normal: normal.add(bytes, ordering: .relaxed)
            case .replica: replica.add(bytes, ordering: .relaxed)
            case .pubsub: pubsub.add(bytes, ordering: .relaxed)
            }
        }
    }

    private let loops: [LoopSums]
    /// Bytes of clients already picked for eviction whose loop has not closed them yet, so a
    /// second eviction pass does not count them again.
    let evicting = Synchronization.Atomic<Int>(0)
    /// INFO stats: evicted_clients, client_output_buffer_limit_disconnections,
    /// client_query_buffer_limit_disconnections.
    public let evictedClients = Synchronization.Atomic<Int>(0)
    public let outputLimitDisconnections = Synchronization.Atomic<Int>(0)
    public let queryLimitDisconnections = Synchronization.Atomic<Int>(0)

    public init(loops: Int) {
        self.loops = (0..<max(1, loops)).map { _ in LoopSums() }
    }

    /// Bytes of normal clients (Redis's mem_clients_normal: normal and pub/sub clients).
    public var normal: Int {
        var sum = 0
        for loop in loops { sum &+= loop.normal.load(ordering: .relaxed) &+ loop.pubsub.load(ordering: .relaxed) }
        return sum
    }

    /// Bytes of replica links (mem_clients_slaves).
    public var replicas: Int {
        var sum = 0
        for loop in loops { sum &+= loop.replica.load(ordering: .relaxed) }
        return sum
    }

    /// Every client buffer byte.
    public var total: Int { normal &+ replicas }

    /// A connection's ordinary working buffers: up to this much of a normal client's memory
    /// counts toward `maxmemory` like in Redis (an operator sizes maxmemory for N connections).
    /// What a client holds beyond it is burst memory (big replies piling up, big queries): it
    /// is bounded by client-output-buffer-limit, client-query-buffer-limit and
    /// maxmemory-clients, and never makes the server evict keys.
    public static let steadyAllowance = 32 * 1024

    /// Client memory that eviction leaves out of used_memory: the bursts of normal and pub/sub
    /// clients beyond `steadyAllowance`, and replica links entirely (as Redis does).
    public var notCountedForEviction: Int {
        var sum = 0
        for loop in loops { sum &+= loop.burst.load(ordering: .relaxed) &+ loop.replica.load(ordering: .relaxed) }
        return sum
    }

    /// What client eviction compares with `maxmemory-clients`: normal and pub/sub clients not
    /// already being evicted.
    public var evictable: Int { normal &- evicting.load(ordering: .relaxed) }

    /// Moves `client`'s charge to its current total (on the client's own loop).
    @inline(__always)
    public func update(_ client: ClientSession) {
        let now = client.memory.total
        if now != client.chargedBytes || client.bufferClass != client.chargedClass { recharge(client, to: now) }
    }

    @inline(never)
    func recharge(_ client: ClientSession, to bytes: Int) {
        // A released client is never charged again (a late update from a closing connection).
        guard !client.memoryReleased else { return }
        let sums = loops[client.worker.index % loops.count]
        if client.chargedBytes != 0 { sums.add(-client.chargedBytes, client.chargedClass) }
        if bytes != 0 { sums.add(bytes, client.bufferClass) }
        let burst = ClientMemoryTotals.burst(bytes, client.bufferClass) &- ClientMemoryTotals.burst(client.chargedBytes, client.chargedClass)
        if burst != 0 { sums.burst.add(burst, ordering: .relaxed) }
        client.chargedBytes = bytes
        client.chargedClass = client.bufferClass
    }

    static func burst(_ bytes: Int, _ bufferClass: ClientBufferClass) -> Int {
        bufferClass == .replica ? 0 : max(0, bytes &- steadyAllowance)
    }

    /// The client is gone: drop its charge, and its eviction claim if it had one.
    public func release(_ client: ClientSession) {
        recharge(client, to: 0)
        client.memoryReleased = true
        // -1: released; a claim taken before is given back exactly once.
        let claim = client.evictionClaim.exchange(-1, ordering: .acquiringAndReleasing)
        if claim > 0 { evicting.subtract(claim - 1, ordering: .relaxed) }
    }

    /// Picks `client` for eviction unless another thread already did; charges its bytes to
    /// `evicting` until its loop releases it.
    public func claimForEviction(_ client: ClientSession) -> Bool {
        let bytes = max(0, client.chargedBytes)
        guard client.evictionClaim.compareExchange(expected: 0, desired: bytes + 1, ordering: .acquiringAndReleasing).exchanged else {
            return false
        }
        evicting.add(bytes, ordering: .relaxed)
        return true
    }

    public func resetStats() {
        evictedClients.store(0, ordering: .relaxed)
        outputLimitDisconnections.store(0, ordering: .relaxed)
        queryLimitDisconnections.store(0, ordering: .relaxed)
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
