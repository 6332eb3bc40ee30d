import ApusRESP
import ApusStore
import Synchronization

/// A command handler: parses `context.args`, calls Op functions under the right locks and
/// writes the reply. Generic checks (arity, auth, flags) already happened in the dispatcher.
public typealias CommandHandler = (inout CommandContext) -> Void

/// Everything one command invocation sees.
public struct CommandContext {
    public var reply: ReplyWriter
    /// This command's arguments (the connection reuses one context for a whole read burst).
    public var args: CommandArguments
    public let client: ClientSession
    public let server: ServerContext
    /// The statistics of the thread running the command: the client's own, except when another
    /// thread re-executes a blocked client's command to serve it.
    public var worker: Worker
    /// Set while a blocked client's command is re-executed (`BlockingRegistry`); a command
    /// that still finds nothing then sets `blockedAgain` instead of blocking anew.
    public var reprocessingBlocked = false
    public var blockedAgain = false
    /// The command's time snapshot in ms (Redis evaluates TTLs against one instant per command).
    public var now: Int64
    /// Monotonic ns at the end of the previous command (or the start of the read burst): a
    /// command's duration is measured from here, so each command costs one clock read.
    public var clockNanos: UInt64 = 0
    /// Monotonic ns when `now` was read; `now` is refreshed once it is 1 ms old.
    public var nowReadAtNanos: UInt64 = 0

    @inlinable
    public init(reply: ReplyWriter, args: CommandArguments, client: ClientSession, server: ServerContext, now: Int64) {
        self.reply = reply
        self.args = args
        self.client = client
        self.server = server
        self.worker = client.worker
        self.now = now
    }

    /// Starts a read burst: fresh wall-clock and monotonic readings.
    @inlinable
    public mutating func resetClocks() {
        clockNanos = monotonicNanos()
        nowReadAtNanos = clockNanos
        now = currentTimeMillis()
    }

    /// The client's selected database.
    @inlinable
    public var db: Database { client.database }

    /// Lossy UTF-8 of argument `i`, for error messages.
    public func string(_ i: Int) -> String { args.string(i) }

    // MARK: Change tracking

    /// Records a write to `key` in the client's database (Redis's signalModifiedKey): counts
    /// it for `rdb_changes_since_last_save` and flags the clients WATCHing it. Call it with
    /// the key's shard lock held (EXEC reads WATCH flags with those locks held).
    @inlinable
    public mutating func keyModified(_ key: UnsafeRawBufferPointer, changes: Int = 1) {
        worker.dirty &+= changes
        if server.watches.isActive { touchWatched(key, in: client.database) }
        if server.tracking.isActive { server.tracking.invalidate(key, by: client.onBehalfOf ?? client) }
    }

    /// A write to `key` in another database than the client's (MOVE, COPY ... DB).
    @inlinable
    public mutating func keyModified(_ key: UnsafeRawBufferPointer, in database: Database, changes: Int = 1) {
        worker.dirty &+= changes
        if server.watches.isActive { touchWatched(key, in: database) }
        if server.tracking.isActive { server.tracking.invalidate(key, by: client.onBehalfOf ?? client) }
    }

    @usableFromInline
    func touchWatched(_ key: UnsafeRawBufferPointer, in database: Database) {
        server.watches.touch(database: database.index, key: key) {
            let hash = keyHash(key)
            return database.shard(hash: hash).table.find(key, hash: hash) != nil
        }
    }

    /// Counts changes that are not tied to one key (FLUSHALL, ...).
    @inlinable
    public mutating func addDirty(_ changes: Int) {
        worker.dirty &+= changes
    }

    /// Marks an entry as accessed unless the client asked for CLIENT NO-TOUCH: the LRU clock,
    /// or under an LFU policy the decayed, logarithmically incremented counter (Redis's updateLFU).
    @inlinable
    public mutating func touch(_ entry: Entry) {
        if client.noTouch { return }
        if server.eviction.lfuClock.load(ordering: .relaxed) {
            let random = Double(worker.random.next() >> 11) * 0x1p-53
            entry.accessClock = lfuTouched(entry.accessClock, nowMillis: now,
                                           logFactor: server.eviction.lfuLogFactor.load(ordering: .relaxed),
                                           decayMinutes: server.eviction.lfuDecayMinutes.load(ordering: .relaxed),
                                           random: random)
        } else {
            entry.accessClock = lruClock(nowMillis: now)
        }
    }

    /// The touch of this command's lookups, for Ops that take it as a value (EXPIRE, RENAME, ...).
    public var accessTouch: AccessTouch {
        let e = server.eviction
        return AccessTouch(lfu: e.lfuClock.load(ordering: .relaxed), nowMillis: now,
                           logFactor: e.lfuLogFactor.load(ordering: .relaxed),
                           decayMinutes: e.lfuDecayMinutes.load(ordering: .relaxed), seed: worker.random.next())
    }

    /// Looks `key` up for reading like Redis's lookupKeyRead: lazy expiry, keyspace_hits /
    /// keyspace_misses, and the LRU touch. The shard's lock must be held.
    @inlinable
    public mutating func lookupRead(_ shard: Shard, _ key: UnsafeRawBufferPointer, hash: UInt64) -> Entry? {
        if let entry = shard.lookup(key, hash: hash, now: now) {
            worker.keyspaceHits &+= 1
            touch(entry)
            return entry
        }
        worker.keyspaceMisses &+= 1
        notifyKeyMiss(key)
        return nil
    }

    // MARK: Common replies (Redis's shared error strings)

    @inlinable
    public mutating func wrongType() {
        reply.error("WRONGTYPE Operation against a key holding the wrong kind of value")
    }

    @inlinable
    public mutating func syntaxError() { reply.error("ERR syntax error") }

    @inlinable
    public mutating func notInteger() { reply.error("ERR value is not an integer or out of range") }

    @inlinable
    public mutating func notFloat() { reply.error("ERR value is not a valid float") }

    /// Redis's addReplySubcommandSyntaxError: for commands that parse their own subcommands
    /// (DEBUG, OBJECT-style helpers) or reject a subcommand's argument count themselves.
    public mutating func subcommandSyntaxError() {
        let container = String(decoding: args[0].cStringPrefix(Int.max), as: UTF8.self).uppercased()
        reply.error(bytes: Array("ERR unknown subcommand or wrong number of arguments for '".utf8)
            + args[1].cStringPrefix(128) + Array("'. Try \(container) HELP.".utf8))
    }

    /// "wrong number of arguments" for the running command (for handlers with argument shapes
    /// arity cannot express, as Redis does in e.g. MSET).
    public mutating func wrongArity(_ fullName: String) {
        reply.error("ERR wrong number of arguments for '\(fullName)' command")
    }

    /// Parses argument `i` as a C `int` like Redis's getIntFromObjectOrReply, with its two errors.
    public mutating func int32Argument(_ i: Int) -> Int? {
        guard let v = parseInteger(args[i]) else {
            notInteger()
            return nil
        }
        guard v >= Int(Int32.min) && v <= Int(Int32.max) else {
            reply.error("ERR value is out of range, value must between -2147483648 and 2147483647")
            return nil
        }
        return v
    }

    /// Parses argument `i` as a 64-bit integer, replying with Redis's error when it is not one.
    @inlinable
    public mutating func integerArgument(_ i: Int) -> Int? {
        if let v = parseInteger(args[i]) { return v }
        notInteger()
        return nil
    }
}
