import ApusRESP
import NIOConcurrencyHelpers
import Synchronization

/// One lock's worth of a database: its own hash table, expiry bookkeeping and byte count.
///
/// Every method that touches `table` must run with `lock` held; command code does that through
/// `Database.withShard`. Methods here are the shard-local "Op" primitives the command families
/// build on.
public final class Shard: @unchecked Sendable {
    public let lock = ShardLock()
    public var table = KeyTable()
    /// Keys with a TTL (for `INFO keyspace` expires=).
    public var expiresCount = 0
    /// Bytes held by entry blocks (memory accounting).
    public var entryBytes = 0
    /// Bytes held by the collection objects of this shard's keys, as last synced (each entry
    /// records its object's synced size, see `noteCollectionWrite`).
    public var objectBytes = 0
    /// Entry and object bytes of keys with a TTL: what the volatile-* policies may evict.
    public var volatileBytes = 0
    /// Collection entries written under the current lock hold: their objects' sizes are
    /// re-read when the lock is released (`syncCollectionBytes`), so commands need not report sizes.
    @usableFromInline var writtenCollections: [Entry] = []
    /// The shard's dataset bytes (entries, objects, table slots) and the volatile part, stored
    /// after every change for readers that hold no lock (eviction, per-database quotas, INFO).
    public let publishedBytes = Atomic<Int>(0)
    public let publishedVolatileBytes = Atomic<Int>(0)
    /// Where the active expire cycle resumes its walk.
    public var expireCursor = 0
    /// Replicas never expire keys themselves (the primary sends DEL); set by replication.
    public var expiryEnabled = true
    /// The database this shard belongs to, and who hears about keys blocked clients may
    /// wait for (set once by `Keyspace.installReadySignal`).
    public var databaseIndex = 0
    public var readySignal: (any KeyReadySignal)?
    /// Who hears about keys the store expires (set once by `Keyspace.installKeyEventSink`).
    public var keyEvents: (any KeyEventSink)?
    /// How new keys start their access clock (LRU, or LFU's "now, counter 5"); shared by the
    /// keyspace's shards and switched by the maxmemory policy.
    public var clockMode = AccessClockMode.lru
    /// The database's count of non-empty shards, and whether this shard is counted in it.
    public var occupancy = Occupancy()
    @usableFromInline var countedOccupied = false
    @usableFromInline var countedVolatile = false

    public init() {
        writtenCollections.reserveCapacity(8)
    }

    deinit {
        table.removeAll { Shard.free($0) }
    }

    // MARK: Lookup

    /// The live entry for `key`, deleting it first if its TTL has passed (lazy expiry).
    @inlinable
    public func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64) -> Entry? {
        guard let entry = table.find(key, hash: hash) else { return nil }
        if entry.hasExpire, expiryEnabled, let at = entry.expireAt, at <= now {
            expireEntry(entry, hash: hash)
            return nil
        }
        return entry
    }

    /// Whether `entry` is logically expired at `now` (for callers that must not delete, e.g. replicas).
    @inlinable
    public func isExpired(_ entry: Entry, now: Int64) -> Bool {
        guard let at = entry.expireAt else { return false }
        return at <= now
    }

    // MARK: Mutation

    /// Adds an entry for a key that is not present. A new value starts with the keyspace's
    /// initial access clock; a moved one (RENAME, MOVE, COPY) passes `keepClock`.
    @inlinable
    public func insert(_ entry: Entry, hash: UInt64, keepClock: Bool = false) {
        if !keepClock {
            let initial = clockMode.lfuInitialClock.load(ordering: .relaxed)
            if initial != 0 { entry.accessClock = initial }
        }
        table.insert(entry, hash: hash)
        countBytes(entry)
        if entry.type != .string { signalIfBlockable(entry) }
        publishBytes()
    }

    /// Tells the blocking registry about a new list, sorted set or stream key.
    @usableFromInline
    func signalIfBlockable(_ entry: Entry) {
        switch entry.type {
        case .list, .zset, .stream: readySignal?.keyMayBeReady(database: databaseIndex, key: entry.key)
        default: break
        }
    }

    /// Puts `new` in place of `old` (same key) and frees `old`.
    @inlinable
    public func replace(_ old: Entry, with new: Entry, hash: UInt64) {
        syncCollectionBytes()
        table.replace(old, with: new, hash: hash)
        forgetBytes(old)
        countBytes(new)
        if new.type != .string && new.type != old.type { signalIfBlockable(new) }
        publishBytes()
        // An overwritten value (SET over a big hash, ...) is a server-side deletion too.
        if LazyFree.shared.lazyServerDel.load(ordering: .relaxed), LazyFree.isBig(old) {
            LazyFree.shared.free(old)
        } else {
            Shard.free(old)
        }
    }

    /// Deletes `key`; returns whether it existed.
    @inlinable
    @discardableResult
    public func delete(_ key: UnsafeRawBufferPointer, hash: UInt64, lazily: Bool? = nil) -> Bool {
        syncCollectionBytes()
        guard let entry = table.remove(key, hash: hash) else { return false }
        forgetBytes(entry)
        publishBytes()
        // nil: a deletion the server makes as a side effect (RENAME over a key, STORE
        // destinations, emptied collections), lazy when `lazyfree-lazy-server-del` says so.
        if lazily ?? LazyFree.shared.lazyServerDel.load(ordering: .relaxed), LazyFree.isBig(entry) {
            LazyFree.shared.free(entry)
        } else {
            Shard.free(entry)
        }
        return true
    }

    /// Removes an entry whose TTL passed. Counted separately so `expired_keys` stays right.
    @usableFromInline
    func expireEntry(_ entry: Entry, hash: UInt64) {
        let key = entry.key
        keyEvents?.keyExpiring(database: databaseIndex, key: key)
        _ = delete(key, hash: hash, lazily: LazyFree.shared.lazyExpire.load(ordering: .relaxed))
        expiredKeys &+= 1
    }

    /// Keys removed because their TTL passed (lazily or by the active cycle).
    public var expiredKeys = 0
    /// Keys removed by eviction (maxmemory or a database quota).
    public var evictedKeys = 0

    /// Removes every key.
    public func removeAll(lazily: Bool = false) {
        if lazily {
            var detached = KeyTable()
            swap(&detached, &table)
            LazyFree.shared.free(detached)
        } else {
            table.removeAll { Shard.free($0) }
            table = KeyTable()
        }
        expiresCount = 0
        entryBytes = 0
        objectBytes = 0
        volatileBytes = 0
        writtenCollections.removeAll(keepingCapacity: true)
        expireCursor = 0
        publishBytes()
    }

    /// Exchanges the whole contents with `other` (SWAPDB); both locks must be held.
    public func swapContents(with other: Shard) {
        syncCollectionBytes()
        other.syncCollectionBytes()
        swap(&table, &other.table)
        swap(&expiresCount, &other.expiresCount)
        swap(&entryBytes, &other.entryBytes)
        swap(&objectBytes, &other.objectBytes)
        swap(&volatileBytes, &other.volatileBytes)
        swap(&expireCursor, &other.expireCursor)
        publishBytes()
        other.publishBytes()
    }

    @inlinable
    static func free(_ entry: Entry) {
        entry.releaseObject()
        entry.deallocate()
    }

    // MARK: Strings (putString lives with the other string Ops in StringOps.swift)

    /// Resizes a string value (APPEND, SETRANGE, SETBIT), keeping key, TTL and access clock;
    /// returns the entry now in the table, whose first `min(old, new)` value bytes are the old
    /// ones and whose new bytes are zero. Growth is greedy like Redis's sds (double below 1 MB,
    /// then +1 MB) and happens in place while the block has room, so building a value by many
    /// small appends costs amortised O(1) per byte, not a copy per call.
    @inlinable
    public func resizeString(_ old: Entry, hash: UInt64, newLength: Int) -> Entry {
        let oldLength = old.valueLength
        if newLength >= oldLength && newLength <= old.valueCapacity {
            if newLength > oldLength {
                (old.mutableValue.baseAddress! + oldLength).initializeMemory(as: UInt8.self, repeating: 0, count: newLength - oldLength)
            }
            let before = old.allocatedSize
            old.setValueLength(newLength)
            old.encoding = StringEncoding.raw.rawValue
            let delta = old.allocatedSize &- before
            entryBytes &+= delta
            if old.hasExpire { volatileBytes &+= delta }
            publishBytes()
            return old
        }
        let spare = newLength > oldLength ? (newLength < 1 << 20 ? newLength : 1 << 20) : 0
        let new = Entry.allocate(key: old.key, valueLength: newLength, type: .string,
                                 encoding: StringEncoding.raw.rawValue, expireAt: old.expireAt, spareCapacity: spare)
        let keep = Swift.min(oldLength, newLength)
        if keep > 0 { new.mutableValue.baseAddress!.copyMemory(from: old.value.baseAddress!, byteCount: keep) }
        if newLength > keep { (new.mutableValue.baseAddress! + keep).initializeMemory(as: UInt8.self, repeating: 0, count: newLength - keep) }
        new.accessClock = old.accessClock
        replace(old, with: new, hash: hash)
        return new
    }

    /// Sets or clears the TTL of an existing entry (reallocating when the layout changes).
    @inlinable
    @discardableResult
    public func setExpire(_ entry: Entry, hash: UInt64, expireAt: Int64?) -> Entry {
        if let expireAt, entry.hasExpire {
            entry.setExpireInPlace(expireAt)
            return entry
        }
        if expireAt == nil && !entry.hasExpire { return entry }
        syncCollectionBytes()
        let new = entry.copy(expireAt: expireAt)  // carries the object's synced size along
        table.replace(entry, with: new, hash: hash)
        forgetBytes(entry)
        countBytes(new)
        publishBytes()
        entry.deallocate()  // the object (if any) moved to `new`
        return new
    }
}

/// How Redis would encode a string value: "int" when it reads as a 64-bit integer of at most
/// 20 characters, "embstr" up to 44 bytes, "raw" beyond.
@inlinable
public func stringEncoding(for value: UnsafeRawBufferPointer) -> StringEncoding {
    if value.count <= 20, parseInteger(value) != nil { return .int }
    return value.count <= 44 ? .embstr : .raw
}
