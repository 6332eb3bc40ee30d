import ApusRESP
import ApusStore
import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// What a blocked command replies when its timeout passes (or CLIENT UNBLOCK ... TIMEOUT).
public enum BlockTimeoutReply: Sendable {
    /// `*-1` / RESP3 null: BLPOP, BRPOP, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP.
    case nullArray
    /// `$-1` / RESP3 null: BLMOVE, BRPOPLPUSH.
    case nullBulk

    func write(to reply: inout ReplyWriter) {
        switch self {
        case .nullArray: reply.nullArray()
        case .nullBulk: reply.null()
        }
    }
}

/// A client waiting in a blocking command for one of its keys to hold data.
public final class BlockedClient: @unchecked Sendable {
    public let client: ClientSession
    /// The command, re-executed when a key it waits for becomes ready (Redis 7's
    /// "reprocess the command" model, so a served command behaves exactly like a fresh call).
    let command: OwnedCommandArguments
    let database: Int
    let keys: [Bytes]
    /// The type a key must hold to wake this client (a retyped key leaves it waiting).
    let type: ValueType
    /// Absolute deadline in ms since the epoch; 0 waits forever.
    public let deadlineMillis: Int64
    let timeoutReply: BlockTimeoutReply
    /// Set once (under the registry's serve lock) by whoever ends the wait: a serve, the
    /// timeout, CLIENT UNBLOCK or the client's disconnection.
    var finished = false

    /// The reply for a wait that timed out (also CLIENT UNBLOCK ... TIMEOUT).
    public func timedOutReply() -> ByteBuffer {
        var reply = ReplyWriter(buffer: ByteBuffer(), version: client.resp)
        timeoutReply.write(to: &reply)
        return reply.buffer
    }

    init(client: ClientSession, command: OwnedCommandArguments, database: Int, keys: [Bytes], type: ValueType,
         deadlineMillis: Int64, timeoutReply: BlockTimeoutReply) {
        self.client = client
        self.command = command
        self.database = database
        self.keys = keys
        self.type = type
        self.deadlineMillis = deadlineMillis
        self.timeoutReply = timeoutReply
    }
}

/// Clients blocked on keys, and the keys that became ready for them (Redis's blocking_keys
/// and ready_keys).
///
/// Locks, in the order they may nest: `serveLock` (one server at a time; ending a wait) →
/// shard locks → `keysLock` (the wait queues and the ready list). A blocking command registers
/// while it still holds its keys' shard locks, so a push that lands after its check cannot be
/// missed; the push records the key under the same shard lock, and whoever runs a command next
/// serves the waiters, in FIFO order per key, once that command has completed.
public final class BlockingRegistry: KeyReadySignal, @unchecked Sendable {
    struct Key: Hashable {
        let database: Int
        let key: Bytes
    }

    private let serveLock = NIOLock()
    private let keysLock = NIOLock()
    private var waiting: [Key: Deque<BlockedClient>] = [:]
    private var byClient: [Int: BlockedClient] = [:]
    private var ready: [Key] = []
    private var readySet: Set<Key> = []
    /// Lock-free fast paths: most commands find nobody blocked and nothing ready.
    private let waitingKeyCount = Atomic<Int>(0)
    @usableFromInline let readyCount = Atomic<Int>(0)
    /// Clients blocked right now (INFO clients blocked_clients).
    public let blockedClients = Atomic<Int>(0)

    public init() {}

    // MARK: Signals (shard lock held)

    public func keyMayBeReady(database: Int, key: UnsafeRawBufferPointer) {
        guard waitingKeyCount.load(ordering: .relaxed) > 0 else { return }
        keysLock.withLockVoid {
            let k = Key(database: database, key: Bytes(key))
            guard waiting[k] != nil, !readySet.contains(k) else { return }
            readySet.insert(k)
            ready.append(k)
            readyCount.add(1, ordering: .relaxed)
        }
    }

    /// SWAPDB: every key waited on in `databases` may now hold data (Redis's
    /// scanDatabaseForReadyKeys); the serve checks each key's type before waking anyone.
    public func signalAllWaiting(in databases: Set<Int>) {
        guard waitingKeyCount.load(ordering: .relaxed) > 0 else { return }
        keysLock.withLockVoid {
            for k in waiting.keys where databases.contains(k.database) && !readySet.contains(k) {
                readySet.insert(k)
                ready.append(k)
                readyCount.add(1, ordering: .relaxed)
            }
        }
    }

    /// Keys at least one client waits on (INFO total_blocking_keys). Every key a list or
    /// sorted-set pop waits on is absent or empty, so it also counts as "on nokey".
    public var blockingKeyCount: Int { waitingKeyCount.load(ordering: .relaxed) }

    @inlinable
    public var hasReadyKeys: Bool { readyCount.load(ordering: .relaxed) > 0 }

    // MARK: Blocking (shard locks of `keys` held)

    func register(_ waiter: BlockedClient) {
        keysLock.withLockVoid {
            byClient[waiter.client.id] = waiter
            for key in waiter.keys {
                let k = Key(database: waiter.database, key: key)
                if waiting[k] == nil {
                    waiting[k] = [waiter]
                    waitingKeyCount.add(1, ordering: .relaxed)
                } else if !waiting[k]!.contains(where: { $0 === waiter }) {
                    waiting[k]!.append(waiter)
                }
            }
        }
        blockedClients.add(1, ordering: .relaxed)
    }

    /// Removes `waiter` from every queue; `keysLock` must be held.
    private func unlink(_ waiter: BlockedClient) {
        byClient[waiter.client.id] = nil
        for key in waiter.keys {
            let k = Key(database: waiter.database, key: key)
            guard var queue = waiting[k] else { continue }
            queue.removeAll { $0 === waiter }
            if queue.isEmpty {
                waiting[k] = nil
                waitingKeyCount.subtract(1, ordering: .relaxed)
            } else {
                waiting[k] = queue
            }
        }
    }

    /// Ends `waiter`'s wait unless something else already did; returns whether this call did.
    /// For timeouts, CLIENT UNBLOCK and disconnections.
    public func finish(_ waiter: BlockedClient) -> Bool {
        serveLock.withLock { finishLocked(waiter) }
    }

    private func finishLocked(_ waiter: BlockedClient) -> Bool {
        guard !waiter.finished else { return false }
        waiter.finished = true
        keysLock.withLockVoid { unlink(waiter) }
        blockedClients.subtract(1, ordering: .relaxed)
        return true
    }

    /// A wait that ends unserved (timeout, CLIENT UNBLOCK) still completes its command: Redis
    /// counts the call then (updateStatsOnUnblock), with an UNBLOCKED error when CLIENT
    /// UNBLOCK ... ERROR ended it. Counted on `worker`, the thread ending the wait.
    public func countUnserved(_ waiter: BlockedClient, worker: Worker, server: ServerContext, failed: Bool) {
        let args = waiter.command.arguments
        guard args.count > 0, let ref = server.commands.lookupRef(args[0]) else { return }
        let id = ref.takeUnretainedValue().id
        guard id < worker.commandCount else { return }
        worker.counters[id].calls &+= 1
        if failed {
            worker.counters[id].failedCalls &+= 1
            worker.recordError(code: "UNBLOCKED")
        }
    }

    /// The wait of client `id`, if it is blocked (CLIENT UNBLOCK).
    public func waiter(clientID id: Int) -> BlockedClient? {
        keysLock.withLock { byClient[id] }
    }

    // MARK: Serving

    private func takeReadyKey() -> Key? {
        keysLock.withLock {
            guard !ready.isEmpty else { return nil }
            let k = ready.removeFirst()
            readySet.remove(k)
            readyCount.subtract(1, ordering: .relaxed)
            return k
        }
    }

    private func waiters(for key: Key) -> [BlockedClient] {
        keysLock.withLock { waiting[key].map(Array.init) ?? [] }
    }

    /// Serves the clients waiting on keys that became ready, FIFO per key, by re-executing
    /// their commands on this thread (`worker` gets the statistics). A served command that
    /// creates keys (BLMOVE's destination) makes more keys ready; they are served in the same
    /// pass, like Redis's handleClientsBlockedOnKeys loop.
    public func serveReadyKeys(server: ServerContext, worker: Worker) {
        serveLock.withLockVoid {
            while let key = takeReadyKey() {
                for waiter in waiters(for: key) where !waiter.finished {
                    guard keyHolds(waiter.type, key: key, server: server) else { break }
                    guard let reply = reprocess(waiter, server: server, worker: worker) else { continue }
                    _ = finishLocked(waiter)
                    waiter.client.unblockDelivery(reply)
                }
            }
        }
    }

    private func keyHolds(_ type: ValueType, key: Key, server: ServerContext) -> Bool {
        guard key.database < server.keyspace.databases.count else { return false }
        let db = server.keyspace.databases[key.database]
        let now = currentTimeMillis()
        return key.key.withUnsafeBytes { k in
            db.withShard(for: k) { shard, hash in shard.lookup(k, hash: hash, now: now)?.type == type }
        }
    }

    /// Runs the waiter's command again; nil when it found nothing and would block again.
    private func reprocess(_ waiter: BlockedClient, server: ServerContext, worker: Worker) -> ByteBuffer? {
        let client = waiter.client
        var context = CommandContext(reply: ReplyWriter(buffer: ByteBuffer(), version: client.resp),
                                     args: waiter.command.arguments, client: client, server: server, now: 0)
        context.worker = worker
        context.reprocessingBlocked = true
        context.resetClocks()
        // The command runs in the database the client blocked in, whatever it selects since
        // (it cannot select anything while blocked).
        Dispatcher.execute(&context)
        if context.blockedAgain { return nil }
        return context.reply.buffer
    }
}

extension CommandContext {
    /// Whether this command may block: not while re-executing a blocked command (it then just
    /// reports `blockedAgain`), nor inside EXEC or a script, where Redis makes a blocking
    /// command time out at once.
    public var mayBlock: Bool { !ExclusiveSection.isActive }

    /// Blocks the client on `keys` until one of them holds a `type` value, the deadline passes
    /// (0 = forever) or CLIENT UNBLOCK. Call it with the keys' shard locks held, after finding
    /// nothing to serve, and write no reply: the re-executed command replies when served.
    public mutating func block(on keys: [UnsafeRawBufferPointer], type: ValueType, deadlineMillis: Int64,
                               timeoutReply: BlockTimeoutReply) {
        if reprocessingBlocked {
            blockedAgain = true
            return
        }
        let waiter = BlockedClient(client: client, command: OwnedCommandArguments(copying: args),
                                   database: client.db, keys: keys.map { Bytes($0) }, type: type,
                                   deadlineMillis: deadlineMillis, timeoutReply: timeoutReply)
        server.blocking.register(waiter)
        client.blockedOn = waiter
    }
}

extension CommandContext {
    /// A blocking command's timeout argument in seconds (fractions allowed) as an absolute
    /// deadline in ms, 0 meaning forever: Redis's getTimeoutFromObjectOrReply with its errors.
    public mutating func blockingTimeoutArgument(_ i: Int) -> Int64? {
        guard let seconds = parseLongDouble(args[i]) else {
            reply.error("ERR timeout is not a float or out of range")
            return nil
        }
        let millis = (seconds * 1000).rounded(.up)
        guard millis <= LongDouble(Int64.max) else {
            reply.error("ERR timeout is out of range")
            return nil
        }
        // ceil(-0.5 ms) is -0: a timeout of zero (forever), as in Redis.
        guard millis >= 0 else {
            reply.error("ERR timeout is negative")
            return nil
        }
        let value = Int64(millis)
        if value == 0 { return 0 }
        guard value <= Int64.max - now else {
            reply.error("ERR timeout is out of range")
            return nil
        }
        return value + now
    }
}
