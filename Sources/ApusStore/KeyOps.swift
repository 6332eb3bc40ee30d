import ApusRESP

// Op functions of the generic key commands (Redis's db.c, expire.c and OBJECT in object.c):
// shard-local primitives that run with the shard's lock held, plus the database- and
// keyspace-level operations that lock several shards (in the global order: database index,
// then shard index ascending) and call them.

// MARK: Value types and encodings

/// How a collection is encoded (the entry's low type nibble for non-string types), numbered
/// like Redis's `OBJ_ENCODING_*` constants so the values fit the nibble and match RDB/DEBUG
/// vocabulary. Strings use `StringEncoding` instead.
public enum ObjectEncoding: UInt8, Sendable {
    case hashtable = 2
    case intset = 6
    case skiplist = 7
    case quicklist = 9
    case stream = 10
    case listpack = 11

    /// The name `OBJECT ENCODING` replies with.
    public var name: StaticString {
        switch self {
        case .hashtable: "hashtable"
        case .intset: "intset"
        case .skiplist: "skiplist"
        case .quicklist: "quicklist"
        case .stream: "stream"
        case .listpack: "listpack"
        }
    }
}

extension Entry {
    /// The name `OBJECT ENCODING` replies with.
    @inlinable
    public var encodingName: StaticString {
        if type == .string {
            switch StringEncoding(rawValue: encoding) {
            case .int, .unsharedInt: return "int"
            case .embstr: return "embstr"
            case .raw, nil: return "raw"
            }
        }
        if let value = object as? any CollectionValue { return value.encoding.name }
        return ObjectEncoding(rawValue: encoding)?.name ?? "unknown"
    }

    /// A new block for `newKey` holding this entry's value, for RENAME and MOVE: string bytes
    /// are copied, a collection object is shared (retained once more), so the caller deletes
    /// the old entry normally (which releases the old reference). The access clock goes along,
    /// like the object Redis moves.
    @inlinable
    public func relocated(to newKey: UnsafeRawBufferPointer, expireAt: Int64?) -> Entry {
        if type == .string { return copy(key: newKey, expireAt: expireAt) }
        let new = Entry.allocate(key: newKey, object: object, type: type, encoding: encoding, expireAt: expireAt)
        new.accessClock = accessClock
        return new
    }

    /// An independent copy of the value under `newKey` (COPY), or nil when the value's type
    /// has no deep copy (an object that is not a `CollectionValue`).
    public func duplicated(to newKey: UnsafeRawBufferPointer, expireAt: Int64?, accessClock: UInt32) -> Entry? {
        let new: Entry
        if type == .string {
            new = copy(key: newKey, expireAt: expireAt)
            if encoding == StringEncoding.int.rawValue { new.encoding = StringEncoding.unsharedInt.rawValue }
        } else {
            guard let source = object as? any CollectionValue else { return nil }
            new = Entry.allocate(key: newKey, object: source.duplicate(), type: type, encoding: encoding,
                                 expireAt: expireAt)
        }
        // A copy is a new object: Redis gives it a fresh access time.
        new.accessClock = accessClock
        return new
    }
}

// MARK: Access clock (OBJECT IDLETIME / FREQ)

/// Seconds since an entry's 24-bit LRU access clock, with the clock's wrap-around handled like
/// Redis's `estimateObjectIdleTime`.
@inlinable
public func lruIdleSeconds(accessClock: UInt32, nowMillis: Int64) -> Int {
    let now = lruClock(nowMillis: nowMillis)
    let clock = accessClock & 0xFF_FFFF
    if now >= clock { return Int(now - clock) }
    return Int(now) + (0xFF_FFFF - Int(clock))
}

/// The LFU access counter of an access clock holding `minutes(16) << 8 | counter(8)`, decayed by
/// one per `decayMinutes` elapsed (Redis's `LFUDecrAndReturn`; 0 disables decay).
@inlinable
public func lfuDecayedCounter(accessClock: UInt32, nowMillis: Int64, decayMinutes: Int) -> Int {
    let last = Int((accessClock >> 8) & 0xFFFF)
    let counter = Int(accessClock & 0xFF)
    let now = Int((nowMillis / 1000 / 60) & 0xFFFF)
    let elapsed = now >= last ? now - last : 65535 - last + now
    let periods = decayMinutes > 0 ? elapsed / decayMinutes : 0
    return periods > counter ? 0 : counter - periods
}

// MARK: Expiry

/// The NX / XX / GT / LT options of EXPIRE and friends.
public struct ExpireCondition: OptionSet, Sendable {
    public let rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Only when the key has no TTL.
    public static let nx = ExpireCondition(rawValue: 1)
    /// Only when the key has a TTL.
    public static let xx = ExpireCondition(rawValue: 2)
    /// Only when the new expire time is later (a key without TTL counts as infinite).
    public static let gt = ExpireCondition(rawValue: 4)
    /// Only when the new expire time is earlier (a key without TTL counts as infinite).
    public static let lt = ExpireCondition(rawValue: 8)
}

/// What `Shard.expire` did.
public enum ExpireOutcome: Sendable, Equatable {
    /// No such key (reply 0).
    case missing
    /// A condition did not hold (reply 0).
    case unchanged
    /// The TTL was set (reply 1).
    case updated
    /// The time was already past, so the key was deleted (reply 1).
    case deleted
}

/// A key's TTL state, as TTL/PTTL/EXPIRETIME/PEXPIRETIME report it.
public enum KeyExpiry: Sendable, Equatable {
    case missing
    case persistent
    case at(Int64)
}

// MARK: Shard-local Ops (the shard's lock is held)

extension Shard {
    /// DEL/UNLINK of one key (a big value freed in the background when `lazily`). An expired
    /// key is reclaimed first, so it counts as not deleted.
    @inlinable
    public func deleteKey(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64, lazily: Bool = false) -> Bool {
        guard lookup(key, hash: hash, now: now) != nil else { return false }
        return delete(key, hash: hash, lazily: lazily)
    }

    /// The live entry for `key`, its access clock set to `accessClock` when given (a read or
    /// write lookup that "touches" the key; nil for Redis's LOOKUP_NOTOUCH lookups).
    @inlinable
    public func lookup(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64, accessClock: AccessTouch?) -> Entry? {
        guard let entry = lookup(key, hash: hash, now: now) else { return nil }
        if let accessClock { accessClock.apply(to: entry) }
        return entry
    }

    /// EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT once the time is absolute (`when`, ms since the epoch).
    /// A time not after `now` deletes the key, except where expiry is off (a replica waits for
    /// the primary's DEL and keeps the key with a past expire time, like Redis).
    @inlinable
    public func expire(_ key: UnsafeRawBufferPointer, hash: UInt64, at when: Int64, condition: ExpireCondition,
                       now: Int64, accessClock: AccessTouch?) -> ExpireOutcome {
        guard let entry = lookup(key, hash: hash, now: now, accessClock: accessClock) else { return .missing }
        if !condition.isEmpty {
            let current = entry.expireAt
            if condition.contains(.nx) && current != nil { return .unchanged }
            if condition.contains(.xx) && current == nil { return .unchanged }
            if condition.contains(.gt) {
                guard let current, when > current else { return .unchanged }
            }
            if condition.contains(.lt), let current, when >= current { return .unchanged }
        }
        if when <= now && expiryEnabled {
            delete(key, hash: hash)
            return .deleted
        }
        setExpire(entry, hash: hash, expireAt: when)
        return .updated
    }

    /// PERSIST: removes the TTL; returns whether the key had one.
    @inlinable
    public func persist(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64, accessClock: AccessTouch?) -> Bool {
        guard let entry = lookup(key, hash: hash, now: now, accessClock: accessClock), entry.hasExpire else {
            return false
        }
        setExpire(entry, hash: hash, expireAt: nil)
        return true
    }

    /// The TTL state of `key` (a lookup that does not touch the key).
    @inlinable
    public func expiry(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64) -> KeyExpiry {
        guard let entry = lookup(key, hash: hash, now: now) else { return .missing }
        guard let at = entry.expireAt else { return .persistent }
        return .at(at)
    }

    /// Whether `entry`, found by a walk of the table, is logically gone; if so and expiry is on,
    /// the caller reclaims it with `reclaimIfExpired` once the walk is over.
    @inlinable
    func isStale(_ entry: Entry, now: Int64) -> Bool {
        entry.hasExpire && isExpired(entry, now: now)
    }

    /// Deletes `key` if its TTL passed (lazy expiry of a key met during a walk).
    @inlinable
    func reclaimIfExpired(_ key: UnsafeRawBufferPointer, now: Int64) {
        _ = lookup(key, hash: keyHash(key), now: now)
    }
}

// MARK: Database-level Ops (they lock the shards they need)

extension Database {
    /// Runs `body` for each key of `keys` in order, with every owning shard locked (ascending
    /// order) for the whole loop, so a multi-key command is atomic like in Redis.
    /// `body` gets the key, its shard and its hash.
    @inlinable
    public func forEachKey(_ keys: CommandArguments, _ body: (UnsafeRawBufferPointer, Shard, UInt64) -> Void) {
        let n = keys.count
        if n == 1 {
            let key = keys[0]
            return withShard(for: key) { shard, hash in body(key, shard, hash) }
        }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Swift.max(n, 1)) { hashes in
            var mask: UInt64 = 0
            for i in 0..<n {
                let hash = keyHash(keys[i])
                hashes[i] = hash
                mask |= 1 << UInt64(shardIndex(hash: hash))
            }
            withShards(mask) {
                for i in 0..<n { body(keys[i], shard(hash: hashes[i]), hashes[i]) }
            }
        }
    }

    /// RENAME / RENAMENX: moves the value and TTL of `source` to `target`, overwriting `target`
    /// unless `replacing` is false. Both shards are locked (ascending order).
    /// `renamed` runs with both shards still locked after a rename (WATCH must hear of it
    /// before anyone else can see the change).
    public func rename(_ source: UnsafeRawBufferPointer, to target: UnsafeRawBufferPointer, replacing: Bool,
                       now: Int64, accessClock: AccessTouch?, renamed: () -> Void = {}) -> RenameOutcome {
        let sourceHash = keyHash(source)
        let targetHash = keyHash(target)
        let mask: UInt64 = 1 << UInt64(shardIndex(hash: sourceHash)) | 1 << UInt64(shardIndex(hash: targetHash))
        return withShards(mask) {
            let sourceShard = shard(hash: sourceHash)
            guard let entry = sourceShard.lookup(source, hash: sourceHash, now: now, accessClock: accessClock) else {
                return .noSuchKey
            }
            // Redis checks the source exists before treating RENAME k k as a no-op.
            if source.bytesEqual(target) { return .sameKey }
            let targetShard = shard(hash: targetHash)
            if targetShard.lookup(target, hash: targetHash, now: now) != nil {
                guard replacing else { return .targetExists }
                targetShard.delete(target, hash: targetHash)
            }
            targetShard.insert(entry.relocated(to: target, expireAt: entry.expireAt), hash: targetHash, keepClock: true)
            sourceShard.delete(source, hash: sourceHash)
            renamed()
            return .renamed
        }
    }

    /// RANDOMKEY: a key chosen uniformly across shards (a shard is picked with probability
    /// proportional to its size). Expired keys met on the way are reclaimed and another is
    /// drawn, like Redis's `dbRandomKey`; where expiry is off (replicas) a logically expired
    /// key is returned after 100 such draws so the loop ends. `body` sees the key with its
    /// shard locked; returns false for an empty database.
    public func randomKey(now: Int64, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        var rng = SystemRandomNumberGenerator()
        var staleDraws = 0
        while true {
            var total = 0
            for shard in shards { total &+= shard.lock.withLock { shard.table.count } }
            if total == 0 { return false }
            var pick = Int.random(in: 0..<total, using: &rng)
            var chosen = shards[shards.count - 1]
            for shard in shards {
                let count = shard.lock.withLock { shard.table.count }
                if pick < count { chosen = shard; break }
                pick -= count
            }
            let done: Bool = chosen.lock.withLock {
                guard let entry = chosen.table.randomEntry(using: &rng) else { return false }
                if chosen.isStale(entry, now: now) {
                    if chosen.expiryEnabled {
                        chosen.reclaimIfExpired(entry.key, now: now)
                        return false
                    }
                    staleDraws += 1
                    if staleDraws < 100 { return false }
                }
                body(entry.key)
                return true
            }
            if done { return true }
        }
    }

    /// KEYS: calls `body` for every live key matching `pattern` (nil: all keys), one shard at
    /// a time under its lock. Expired keys are skipped, not deleted (Redis's `keyIsExpired`).
    /// A key present for the whole call is reported exactly once.
    public func forEachKey(matching pattern: UnsafeRawBufferPointer?, now: Int64,
                           _ body: (UnsafeRawBufferPointer) -> Void) {
        for shard in shards {
            shard.lock.withLockVoid {
                shard.table.forEach { entry in
                    let key = entry.key
                    if let pattern, !globMatch(pattern: pattern, string: key, ignoreCase: false) { return }
                    if shard.isStale(entry, now: now) { return }
                    body(key)
                }
            }
        }
    }

    /// One SCAN call from `cursor`; returns the cursor of the next call (0: scan complete).
    ///
    /// Cursor layout: the low 6 bits are the shard index, the rest the shard table's own SCAN
    /// cursor, so one cursor walks the shards in turn and every key present for the whole scan
    /// is reported at least once (the table's guarantee, shard by shard).
    ///
    /// Like Redis 7.2, a call stops once `count` entries were sampled (matching or not, expired
    /// or not) or after `10 × count` table steps. Entries whose key does not match `pattern`
    /// (nil: all) are passed over; of the others, `body` sees each live one with its shard
    /// locked, and expired ones are skipped and, where expiry is on, deleted.
    public func scan(cursor: UInt64, count: Int, pattern: UnsafeRawBufferPointer? = nil, now: Int64,
                     _ body: (Entry) -> Void) -> UInt64 {
        var shardNumber = Int(truncatingIfNeeded: cursor & Database.scanShardMask)
        var tableCursor = cursor >> Database.scanShardBits
        // A cursor this server cannot have issued (another shard count or a made-up number)
        // ends the scan, as if its table part pointed past the end.
        guard shardNumber < shards.count else { return 0 }
        if tableCursor >= Database.maxTableCursor {
            shardNumber += 1
            tableCursor = 0
            if shardNumber == shards.count { return 0 }
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: 10)
        var steps = overflow ? Int.max : product
        var sampled = 0
        while true {
            let shard = shards[shardNumber]
            let finishedShard: Bool = shard.lock.withLock {
                var stale: [Bytes] = []
                defer { for key in stale { key.withUnsafeBytes { shard.reclaimIfExpired($0, now: now) } } }
                repeat {
                    tableCursor = shard.table.scan(cursor: tableCursor) { entry in
                        sampled &+= 1
                        if let pattern, !globMatch(pattern: pattern, string: entry.key, ignoreCase: false) { return }
                        if shard.isStale(entry, now: now) {
                            if shard.expiryEnabled { stale.append(Bytes(entry.key)) }
                            return
                        }
                        body(entry)
                    }
                    steps &-= 1
                } while tableCursor != 0 && steps > 0 && sampled < count
                return tableCursor == 0
            }
            if finishedShard {
                shardNumber += 1
                if shardNumber == shards.count { return 0 }
            }
            if steps <= 0 || sampled >= count {
                return tableCursor << Database.scanShardBits | UInt64(shardNumber)
            }
        }
    }

    /// Bits of a SCAN cursor holding the shard index (64 shards at most).
    public static let scanShardBits: UInt64 = 6
    @usableFromInline static let scanShardMask: UInt64 = (1 << scanShardBits) - 1
    /// Table cursors are below this; larger values cannot come from this server.
    @usableFromInline static let maxTableCursor: UInt64 = 1 << UInt64(KeyTable.scanCursorBits)
}

/// What `Database.rename` did.
public enum RenameOutcome: Sendable, Equatable {
    /// The source key does not exist ("ERR no such key").
    case noSuchKey
    /// Source and target are the same existing key: nothing to do.
    case sameKey
    /// RENAMENX and the target exists.
    case targetExists
    case renamed
}

/// What `Keyspace.move` did.
public enum MoveOutcome: Sendable, Equatable {
    case missing
    case targetExists
    case moved
}

/// What `Keyspace.copy` did.
public enum CopyOutcome: Sendable, Equatable {
    case missing
    case targetExists
    /// The value's type has no deep copy yet (Redis: "unknown type object").
    case unsupportedType
    case copied
}

// MARK: Keyspace-level Ops (across databases)

extension Keyspace {
    /// Locks `firstMask` of `first` and `secondMask` of `second` in the global order (database
    /// index, then shard index ascending) and runs `body`. The same database may be passed twice.
    @inlinable
    public func withShards<R>(_ first: Database, _ firstMask: UInt64, _ second: Database, _ secondMask: UInt64,
                              _ body: () throws -> R) rethrows -> R {
        if first === second { return try first.withShards(firstMask | secondMask, body) }
        let (low, lowMask, high, highMask) = first.index < second.index
            ? (first, firstMask, second, secondMask) : (second, secondMask, first, firstMask)
        lockShards(low, lowMask, high, highMask)
        defer {
            high.unlockShards(highMask)
            low.unlockShards(lowMask)
        }
        return try body()
    }

    /// Locks shards of two different databases (`low` has the smaller index) without waiting
    /// while holding (see `ExclusiveSection`).
    public func lockShards(_ low: Database, _ lowMask: UInt64, _ high: Database, _ highMask: UInt64) {
        var locks: [ShardLock] = []
        for (db, mask) in [(low, lowMask), (high, highMask)] {
            var m = mask
            while m != 0 {
                locks.append(db.shards[m.trailingZeroBitCount].lock)
                m &= m &- 1
            }
        }
        ShardLock.lockAll(locks)
    }

    /// MOVE: moves `key` with its TTL from `source` to `target` (different databases) unless
    /// the target database has it.
    /// `moved` runs with both shards still locked after a move.
    public func move(_ key: UnsafeRawBufferPointer, from source: Database, to target: Database,
                     now: Int64, accessClock: AccessTouch?, moved: () -> Void = {}) -> MoveOutcome {
        let hash = keyHash(key)
        let sourceMask: UInt64 = 1 << UInt64(source.shardIndex(hash: hash))
        let targetMask: UInt64 = 1 << UInt64(target.shardIndex(hash: hash))
        return withShards(source, sourceMask, target, targetMask) {
            let sourceShard = source.shard(hash: hash)
            guard let entry = sourceShard.lookup(key, hash: hash, now: now, accessClock: accessClock) else {
                return .missing
            }
            let targetShard = target.shard(hash: hash)
            if targetShard.lookup(key, hash: hash, now: now) != nil { return .targetExists }
            targetShard.insert(entry.relocated(to: key, expireAt: entry.expireAt), hash: hash, keepClock: true)
            sourceShard.delete(key, hash: hash)
            moved()
            return .moved
        }
    }

    /// COPY: stores an independent copy of `key` (value and TTL) from `source` as `newKey` in
    /// `target`, replacing an existing `newKey` only when `replace` is set. The caller rejects
    /// copying a key onto itself. `accessClock` is the reading lookup's touch (nil: no touch);
    /// `copyClock` the new key's access clock. `copied` runs with both shards still locked.
    public func copy(_ key: UnsafeRawBufferPointer, from source: Database, to newKey: UnsafeRawBufferPointer,
                     in target: Database, replace: Bool, now: Int64, accessClock: AccessTouch?,
                     copyClock: UInt32, copied: () -> Void = {}) -> CopyOutcome {
        let hash = keyHash(key)
        let newHash = keyHash(newKey)
        let sourceMask: UInt64 = 1 << UInt64(source.shardIndex(hash: hash))
        let targetMask: UInt64 = 1 << UInt64(target.shardIndex(hash: newHash))
        return withShards(source, sourceMask, target, targetMask) {
            let sourceShard = source.shard(hash: hash)
            guard let entry = sourceShard.lookup(key, hash: hash, now: now, accessClock: accessClock) else {
                return .missing
            }
            let targetShard = target.shard(hash: newHash)
            let exists = targetShard.lookup(newKey, hash: newHash, now: now) != nil
            if exists && !replace { return .targetExists }
            guard let copy = entry.duplicated(to: newKey, expireAt: entry.expireAt, accessClock: copyClock) else {
                return .unsupportedType
            }
            if exists { targetShard.delete(newKey, hash: newHash) }
            targetShard.insert(copy, hash: newHash, keepClock: true)
            copied()
            return .copied
        }
    }
}
