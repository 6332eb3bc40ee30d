import Synchronization

// Eviction: choosing which keys to drop when memory is over `maxmemory` (or a database's quota),
// with Redis's sampled approximations (evict.c): each round samples `maxmemory-samples` keys of
// every database into a small pool ordered by how evictable they are, and the best candidate
// still present is deleted. LRU idle time, LFU counters and TTLs come from the entry's header.

/// A `maxmemory-policy`, numbered like Redis's MAXMEMORY_* constants (the config stores those).
public struct EvictionPolicy: Equatable, Sendable {
    public let rawValue: Int

    public init(rawValue: Int) { self.rawValue = rawValue }

    static let lruFlag = 1 << 0
    static let lfuFlag = 1 << 1
    static let allKeysFlag = 1 << 2

    public static let volatileLRU = EvictionPolicy(rawValue: 0 << 8 | lruFlag)
    public static let volatileLFU = EvictionPolicy(rawValue: 1 << 8 | lfuFlag)
    public static let volatileTTL = EvictionPolicy(rawValue: 2 << 8)
    public static let volatileRandom = EvictionPolicy(rawValue: 3 << 8)
    public static let allKeysLRU = EvictionPolicy(rawValue: 4 << 8 | lruFlag | allKeysFlag)
    public static let allKeysLFU = EvictionPolicy(rawValue: 5 << 8 | lfuFlag | allKeysFlag)
    public static let allKeysRandom = EvictionPolicy(rawValue: 6 << 8 | allKeysFlag)
    public static let noEviction = EvictionPolicy(rawValue: 7 << 8)

    public var usesLRU: Bool { rawValue & EvictionPolicy.lruFlag != 0 }
    public var usesLFU: Bool { rawValue & EvictionPolicy.lfuFlag != 0 }
    /// allkeys-*: every key is a candidate; otherwise only keys with a TTL.
    public var allKeys: Bool { rawValue & EvictionPolicy.allKeysFlag != 0 }
    public var isRandom: Bool { self == .allKeysRandom || self == .volatileRandom }
    public var evicts: Bool { self != .noEviction }
}

// MARK: LFU counter (Redis's logarithmic 8-bit counter with decay)

/// The counter a new key starts with, so it is not evicted before it had a chance to be used.
public let lfuInitialCounter: UInt32 = 5

/// Minutes since the epoch modulo 2^16: the time half of an LFU access clock.
@inlinable
public func lfuMinutes(nowMillis: Int64) -> UInt32 {
    UInt32(truncatingIfNeeded: nowMillis / 60_000) & 0xFFFF
}

/// The access clock of a key created now under an LFU policy.
@inlinable
public func lfuInitialClock(nowMillis: Int64) -> UInt32 {
    lfuMinutes(nowMillis: nowMillis) << 8 | lfuInitialCounter
}

/// One access: decays the counter by the elapsed periods, then increments it with probability
/// 1 / ((counter - 5) * lfu-log-factor + 1) (Redis's LFULogIncr), and stamps the time.
@inlinable
public func lfuTouched(_ clock: UInt32, nowMillis: Int64, logFactor: Int, decayMinutes: Int,
                       random: Double) -> UInt32 {
    var counter = lfuDecayedCounter(accessClock: clock, nowMillis: nowMillis, decayMinutes: decayMinutes)
    if counter < 255 {
        let base = Swift.max(counter - Int(lfuInitialCounter), 0)
        let p = 1.0 / (Double(base) * Double(logFactor) + 1)
        if random < p { counter += 1 }
    }
    return lfuMinutes(nowMillis: nowMillis) << 8 | UInt32(counter)
}

/// The access clock new keys of one keyspace start with: 0 while the policy is not LFU (the
/// entry keeps the LRU clock `Entry.allocate` stamped), else LFU's "now, counter 5" (Redis's
/// createObject), refreshed by the server cron as minutes pass.
public final class AccessClockMode: Sendable {
    public let lfuInitialClock = Atomic<UInt32>(0)
    public init() {}
    /// For shards outside a keyspace (unit tests): always LRU.
    public static let lru = AccessClockMode()
}

/// How a lookup that "touches" a key updates its access clock: the LRU clock, or under an LFU
/// policy the decayed and probabilistically incremented counter. Built once per command.
public struct AccessTouch: Sendable {
    public let lfu: Bool
    public let nowMillis: Int64
    public let lruClockValue: UInt32
    public let logFactor: Int
    public let decayMinutes: Int
    /// Seeds the LFU increment's coin flip (mixed with the entry's address per key).
    public let seed: UInt64

    public init(lfu: Bool, nowMillis: Int64, logFactor: Int, decayMinutes: Int, seed: UInt64) {
        self.lfu = lfu
        self.nowMillis = nowMillis
        self.lruClockValue = lruClock(nowMillis: nowMillis)
        self.logFactor = logFactor
        self.decayMinutes = decayMinutes
        self.seed = seed
    }

    @inlinable
    public func apply(to entry: Entry) {
        guard lfu else {
            entry.accessClock = lruClockValue
            return
        }
        var mixer = FastRandomGenerator(seed: seed ^ UInt64(UInt(bitPattern: entry.pointer)))
        let random = Double(mixer.next() >> 11) * 0x1p-53
        entry.accessClock = lfuTouched(entry.accessClock, nowMillis: nowMillis, logFactor: logFactor,
                                       decayMinutes: decayMinutes, random: random)
    }
}

// MARK: Sampling

extension KeyTable {
    /// Calls `body` for up to `count` entries in consecutive slots from `start` (wrapping), like
    /// Redis's dictGetSomeKeys, visiting at most `maxSlots` slots. With `volatileOnly`, only
    /// entries with a TTL (their slot's expire tag: no entry memory is touched to skip the others).
    public func sampleEntries(count: Int, volatileOnly: Bool, start: Int, maxSlots: Int,
                              _ body: (Entry) -> Void) {
        let mainSlots = main.capacity
        let slots = mainSlots &+ target.capacity
        guard slots > 0, count > 0 else { return }
        var i = start % slots
        var found = 0
        var visited = 0
        let limit = Swift.min(maxSlots, slots)
        while visited < limit && found < count {
            let slot = i < mainSlots ? main[i] : target[i &- mainSlots]
            if slot != KeySlot.empty && (!volatileOnly || slot & KeySlot.expireBit != 0) {
                body(KeySlot.entry(slot))
                found &+= 1
            }
            i = i &+ 1 == slots ? 0 : i &+ 1
            visited &+= 1
        }
    }

    /// Slots in both arrays (the range `sampleEntries` starts from).
    public var slotCount: Int { main.capacity &+ target.capacity }
}

// MARK: The pool

/// Redis's eviction pool: the best candidates seen by recent samples, ascending by score
/// (idle time, 255 - LFU counter, or time to live inverted), the best at the end. Keys are
/// copied into buffers that keep their capacity, so filling the pool allocates only while
/// it warms up.
public struct EvictionPool: Sendable {
    public static let size = 16

    public private(set) var count = 0
    var scores = [UInt64](repeating: 0, count: EvictionPool.size)
    var databases = [Int](repeating: 0, count: EvictionPool.size)
    var keys = [[UInt8]](repeating: [], count: EvictionPool.size)

    public init() {}

    /// Offers a sampled key; kept when the pool has room or it beats the worst candidate.
    public mutating func offer(score: UInt64, database: Int, key: UnsafeRawBufferPointer) {
        var k = 0
        while k < count && scores[k] < score { k &+= 1 }
        if k == 0 && count == EvictionPool.size { return }  // worse than everything in a full pool
        if count < EvictionPool.size {
            // Shift [k, count) right by one; the swaps carry the spare buffer at `count` down to k.
            var j = count
            while j > k {
                scores[j] = scores[j &- 1]
                databases[j] = databases[j &- 1]
                keys.swapAt(j, j &- 1)
                j &-= 1
            }
            count &+= 1
        } else {
            // Full: drop the worst (index 0), shift [1, k) left, insert at k - 1.
            k &-= 1
            var j = 0
            while j < k {
                scores[j] = scores[j &+ 1]
                databases[j] = databases[j &+ 1]
                keys.swapAt(j, j &+ 1)
                j &+= 1
            }
        }
        scores[k] = score
        databases[k] = database
        keys[k].removeAll(keepingCapacity: true)
        keys[k].append(contentsOf: key)
    }

    /// Removes and passes the best candidate to `body` (key bytes valid during the call);
    /// false when the pool is empty.
    public mutating func popBest(_ body: (Int, UnsafeRawBufferPointer) -> Void) -> Bool {
        guard count > 0 else { return false }
        count &-= 1
        let database = databases[count]
        keys[count].withUnsafeBytes { body(database, $0) }
        return true
    }

    /// Forgets every candidate (after FLUSHALL or a policy change; stale ones are harmless).
    public mutating func removeAll() { count = 0 }
}

extension Shard {
    /// Samples up to `count` eviction candidates (lock held) and offers them to `pool` scored by
    /// `policy`. Expired keys are offered too, with the best score: deleting them frees memory
    /// for certain.
    public func sampleEvictionCandidates(into pool: inout EvictionPool, policy: EvictionPolicy, count: Int,
                                         database: Int, nowMillis: Int64, decayMinutes: Int,
                                         random: inout some RandomNumberGenerator) {
        let slots = table.slotCount
        guard slots > 0 else { return }
        let volatileOnly = !policy.allKeys
        let eligible = volatileOnly ? expiresCount : table.count
        guard eligible > 0 else { return }
        // Enough slots that `count` eligible entries are expected among them, like
        // dictGetSomeKeys's 10× budget scaled by how sparse the eligible keys are.
        let budget = Swift.min(slots, Swift.max(count &* 10, count &* 2 &* slots / eligible))
        let start = Int.random(in: 0..<slots, using: &random)
        table.sampleEntries(count: count, volatileOnly: volatileOnly, start: start, maxSlots: budget) { entry in
            let score: UInt64
            if policy.usesLRU {
                score = UInt64(lruIdleSeconds(accessClock: entry.accessClock, nowMillis: nowMillis))
            } else if policy.usesLFU {
                let counter = lfuDecayedCounter(accessClock: entry.accessClock, nowMillis: nowMillis,
                                                decayMinutes: decayMinutes)
                score = UInt64(255 &- counter)
            } else {
                // volatile-ttl: the sooner it expires, the better.
                score = UInt64.max &- UInt64(Swift.max(entry.expireAt ?? Int64.max, 0))
            }
            pool.offer(score: score, database: database, key: entry.key)
        }
    }

    /// A random eviction candidate for the random policies (lock held).
    public func randomEvictionCandidate(volatileOnly: Bool, random: inout some RandomNumberGenerator) -> Entry? {
        if !volatileOnly { return table.randomEntry(using: &random) }
        guard expiresCount > 0 else { return nil }
        let slots = table.slotCount
        var chosen: Entry?
        table.sampleEntries(count: 1, volatileOnly: true, start: Int.random(in: 0..<slots, using: &random),
                            maxSlots: slots) { chosen = $0 }
        return chosen
    }

    /// Deletes an eviction victim (lock held); returns the dataset bytes it held, or nil when the
    /// key is gone (or, for volatile policies, lost its TTL) since it was sampled.
    public func evict(_ key: UnsafeRawBufferPointer, hash: UInt64, volatileOnly: Bool, lazily: Bool) -> Int? {
        syncCollectionBytes()  // so the entry's recorded object size is current
        guard let entry = table.find(key, hash: hash), !volatileOnly || entry.hasExpire else { return nil }
        let bytes = entry.allocatedSize &+ (entry.type == .string ? 0 : entry.syncedObjectBytes)
        keyEvents?.keyEvicting(database: databaseIndex, key: entry.key)
        delete(key, hash: hash, lazily: lazily)
        evictedKeys &+= 1
        return bytes
    }
}
