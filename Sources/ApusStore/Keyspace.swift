import ApusRESP
import CSystemShims
import NIOConcurrencyHelpers

/// One of the numbered databases (`SELECT n`), split into lock-owning shards by key hash.
public final class Database: @unchecked Sendable {
    public let index: Int
    public let shards: [Shard]
    @usableFromInline let shardMask: UInt64
    /// The same shards as unmanaged references (kept alive by `shards`), so the hot path can
    /// reach a shard without retain/release traffic on an object every thread shares.
    @usableFromInline let shardRefs: UnsafeMutablePointer<Unmanaged<Shard>>

    /// Estimated average remaining TTL in ms of keys with a TTL (INFO keyspace avg_ttl), kept by the expire cycle.
    public var averageTTL: Int64 = 0
    /// Non-empty shards (see `Occupancy`).
    public let occupancy = Occupancy()

    /// The most shards a database has, so a set of shards fits one `UInt64` bitmask.
    public static let maxShards = 64

    public init(index: Int, shardCount: Int) {
        precondition(shardCount > 0 && shardCount <= Database.maxShards && shardCount & (shardCount - 1) == 0)
        self.index = index
        let shards = (0..<shardCount).map { _ in Shard() }
        self.shards = shards
        self.shardMask = UInt64(shardCount - 1)
        shardRefs = .allocate(capacity: shardCount)
        for (i, shard) in shards.enumerated() {
            shardRefs[i] = Unmanaged.passUnretained(shard)
            shard.occupancy = occupancy
            shard.databaseIndex = index
        }
    }

    deinit { shardRefs.deallocate() }

    /// Shards are chosen by hash bits 32...; the table spreads homes with a multiply over all bits, so
    /// the two stay independent (KeyTable tests cover fixed bits).
    @inlinable
    public func shardIndex(hash: UInt64) -> Int { Int(truncatingIfNeeded: (hash >> 32) & shardMask) }

    /// Runs `body` with the shard owning `key` locked.
    @inlinable
    public func withShard<R>(for key: UnsafeRawBufferPointer, _ body: (Shard, UInt64) throws -> R) rethrows -> R {
        let hash = keyHash(key)
        return try shardRefs[shardIndex(hash: hash)]._withUnsafeGuaranteedRef { shard in
            shard.lock.lock()
            defer {
                shard.syncCollectionBytes()
                shard.lock.unlock()
            }
            return try body(shard, hash)
        }
    }

    /// The bitmask of shards owning `keys`.
    @inlinable
    public func shardMask<S: Sequence>(for keys: S) -> UInt64 where S.Element == UnsafeRawBufferPointer {
        var mask: UInt64 = 0
        for key in keys { mask |= 1 << UInt64(shardIndex(hash: keyHash(key))) }
        return mask
    }

    /// Locks the shards in `mask` in ascending order (the deadlock-free order) and runs `body`.
    @inlinable
    public func withShards<R>(_ mask: UInt64, _ body: () throws -> R) rethrows -> R {
        lockShards(mask)
        defer { unlockShards(mask) }
        return try body()
    }

    /// Never waits for a shard while holding another (outside an exclusive section): the
    /// first is taken blocking, the rest with `tryLock`; a miss releases everything and starts
    /// over from the missed shard (the rule `ExclusiveSection` relies on).
    @inlinable
    public func lockShards(_ mask: UInt64) {
        if mask & (mask &- 1) == 0 || apus_in_section() != 0 {
            var m = mask
            while m != 0 {
                shards[m.trailingZeroBitCount].lock.lock()
                m &= m &- 1
            }
            return
        }
        var first = mask.trailingZeroBitCount
        while true {
            shards[first].lock.lock()
            var taken: UInt64 = 1 << UInt64(first)
            var rest = mask & ~taken
            var missed = -1
            while rest != 0 {
                let i = rest.trailingZeroBitCount
                guard shards[i].lock.tryLockBriefly() else {
                    missed = i
                    break
                }
                taken |= 1 << UInt64(i)
                rest &= rest &- 1
            }
            if missed < 0 { return }
            while taken != 0 {
                shards[taken.trailingZeroBitCount].lock.unlock()
                taken &= taken &- 1
            }
            first = missed
        }
    }

    @inlinable
    public func unlockShards(_ mask: UInt64) {
        var m = mask
        while m != 0 {
            let i = m.trailingZeroBitCount
            shards[i].syncCollectionBytes()
            shards[i].lock.unlock()
            m &= m &- 1
        }
    }

    /// Every shard's bit.
    @inlinable
    public var allShards: UInt64 { shards.count == 64 ? ~0 : (1 << UInt64(shards.count)) &- 1 }

    /// Runs `body` with shard number `i`, without reference counting (eviction's sampling
    /// visits shards from every thread; shared reference counts would bounce between cores).
    @inlinable
    public func withShard<R>(at i: Int, _ body: (Shard) throws -> R) rethrows -> R {
        try shardRefs[i]._withUnsafeGuaranteedRef(body)
    }

    /// The shard owning a hash (caller holds its lock).
    @inlinable
    public func shard(hash: UInt64) -> Shard { shards[shardIndex(hash: hash)] }

    /// Number of keys (each shard read under its lock).
    public var keyCount: Int {
        var total = 0
        for shard in shards { shard.lock.withLockVoid { total += shard.table.count } }
        return total
    }

    /// Number of keys with a TTL.
    public var expiresCount: Int {
        var total = 0
        for shard in shards { shard.lock.withLockVoid { total += shard.expiresCount } }
        return total
    }

    /// Deletes every key (shards locked one at a time; FLUSHDB needs no cross-shard atomicity
    /// beyond what Redis gives a concurrent reader).
    public func removeAll(lazily: Bool = false) {
        for shard in shards { shard.lock.withLockVoid { shard.removeAll(lazily: lazily) } }
    }
}

/// All databases of the server.
public final class Keyspace: @unchecked Sendable {
    public let databases: [Database]

    /// The initial access clock of new keys, shared by every shard (see `AccessClockMode`).
    public let clockMode = AccessClockMode()

    /// The same databases as unmanaged references (kept alive by `databases`), for code that
    /// visits them from every thread without touching their reference counts.
    @usableFromInline let databaseRefs: UnsafeMutablePointer<Unmanaged<Database>>

    public init(databaseCount: Int, shardsPerDatabase: Int) {
        databases = (0..<databaseCount).map { Database(index: $0, shardCount: shardsPerDatabase) }
        databaseRefs = .allocate(capacity: databases.count)
        for (i, db) in databases.enumerated() {
            databaseRefs[i] = Unmanaged.passUnretained(db)
            for shard in db.shards { shard.clockMode = clockMode }
        }
    }

    deinit { databaseRefs.deallocate() }

    /// Runs `body` with database number `i`, without reference counting.
    @inlinable
    public func withDatabase<R>(at i: Int, _ body: (Database) throws -> R) rethrows -> R {
        try databaseRefs[i]._withUnsafeGuaranteedRef(body)
    }

    /// The shard count for a given number of event loops: many per core so two loops rarely
    /// meet on one lock (a contended lock costs a futex round trip, measured at ~1.5% of CPU
    /// with 16 shards on 2 loops), capped so a shard set fits one bitmask. One loop needs no more
    /// than a few (the cron is the only other locker).
    public static func shardCount(forThreads threads: Int) -> Int {
        threads <= 1 ? 8 : Database.maxShards
    }
}
