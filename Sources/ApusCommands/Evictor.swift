import ApusConfig
import ApusRESP
import ApusStore
import CSystemShims
import NIOConcurrencyHelpers
import Synchronization

/// Keeps memory under `maxmemory` and every database under its `db-maxmemory` quota by evicting
/// keys under `maxmemory-policy` (Redis's performEvictions), before each command runs.
///
/// What counts toward `maxmemory` is the heap minus client buffers (query and output buffers
/// are bounded by their own limits, `maxmemory-clients` and `client-output-buffer-limit`), so a
/// burst of big replies never evicts data — the trap Redis users know. A database's usage is its
/// dataset bytes as the shards account them (entries, collection objects, table slots).
public final class Evictor: @unchecked Sendable {
    /// The eviction settings, cached from the config registry.
    public struct Settings: Sendable {
        public var maxmemory = 0
        public var policy = EvictionPolicy.noEviction
        public var samples = 5
        public var tenacity = 10
        public var lazy = false
        public var lfuLogFactor = 10
        public var lfuDecayMinutes = 1
        /// `db-maxmemory` per database index (0: no quota).
        public var quotas: [Int] = []
        public var replicaIgnoresMaxmemory = true
    }

    /// What `performEvictions` achieved (Redis's EVICT_OK / EVICT_RUNNING / EVICT_FAIL).
    public enum Outcome: Sendable {
        /// Under the limit (now or already).
        case ok
        /// Still over, but the time budget ran out while keys were being freed: the command
        /// runs and the next one continues.
        case running
        /// Over the limit with nothing left to evict: `denyoom` commands are refused.
        case failed
    }

    private let lock = NIOLock()
    private var _settings = Settings()

    /// Read before every command: whether `maxmemory` or any quota is set.
    public let enabled = Atomic<Bool>(false)
    /// `maxmemory` and the quota of each database, readable without the settings lock (the
    /// common case, under the limit, takes no lock and copies nothing).
    private let maxmemoryBytes = Atomic<Int>(0)
    private let quotaCells: [QuotaCell]
    /// Read on every key access: whether access clocks count LFU frequency instead of LRU time.
    public let lfuClock = Atomic<Bool>(false)
    public let lfuLogFactor = Atomic<Int>(10)
    public let lfuDecayMinutes = Atomic<Int>(1)
    /// Set while this server is a replica that ignores maxmemory (replication sets it).
    public let isReplica = Atomic<Bool>(false)

    /// Time spent evicting, in µs (INFO stats eviction_time / total_eviction_exceeded_time).
    public let evictionMicros = Atomic<Int>(0)
    /// When memory went over the limit and has not been brought back under yet (ms, 0: under).
    public let overLimitSince = Atomic<Int64>(0)
    public let overLimitMillisTotal = Atomic<Int64>(0)

    public init(databases: Int) {
        quotaCells = (0..<max(databases, 1)).map { _ in QuotaCell() }
    }

    final class QuotaCell: Sendable {
        let bytes = Atomic<Int>(0)
    }

    public var settings: Settings { lock.withLock { _settings } }

    /// Re-reads the eviction settings (after config load and on every CONFIG SET).
    public func refresh(_ config: ConfigRegistry, keyspace: Keyspace) {
        let databases = keyspace.databases.count
        var s = Settings()
        s.maxmemory = config.int("maxmemory")
        s.policy = EvictionPolicy(rawValue: config.int("maxmemory-policy"))
        s.samples = max(1, config.int("maxmemory-samples"))
        s.tenacity = config.int("maxmemory-eviction-tenacity")
        s.lazy = config.string("lazyfree-lazy-eviction") == "yes"
        s.lfuLogFactor = config.int("lfu-log-factor")
        s.lfuDecayMinutes = config.int("lfu-decay-time")
        s.replicaIgnoresMaxmemory = config.string("replica-ignore-maxmemory") == "yes"
        s.quotas = DatabaseQuotas.parse(config.string("db-maxmemory"), databases: databases) ?? []
        lock.withLockVoid { _settings = s }
        maxmemoryBytes.store(s.maxmemory, ordering: .relaxed)
        for (i, cell) in quotaCells.enumerated() { cell.bytes.store(i < s.quotas.count ? s.quotas[i] : 0, ordering: .relaxed) }
        lfuLogFactor.store(s.lfuLogFactor, ordering: .relaxed)
        lfuDecayMinutes.store(s.lfuDecayMinutes, ordering: .relaxed)
        lfuClock.store(s.policy.usesLFU, ordering: .relaxed)
        enabled.store(s.maxmemory > 0 || s.quotas.contains { $0 > 0 }, ordering: .relaxed)
        refreshInitialClock(keyspace, nowMillis: currentTimeMillis())
        if s.maxmemory == 0 { noteUnderLimit(currentTimeMillis()) }
    }

    /// The clock new keys start with: the LRU clock `Entry.allocate` stamps, or "now, counter 5"
    /// under LFU policies (Redis's createObject). The cron refreshes it as minutes pass.
    public func refreshInitialClock(_ keyspace: Keyspace, nowMillis: Int64) {
        let lfu = lfuClock.load(ordering: .relaxed)
        keyspace.clockMode.lfuInitialClock.store(lfu ? lfuInitialClock(nowMillis: nowMillis) : 0, ordering: .relaxed)
    }

    /// The access clock of a value created at `nowMillis` (COPY's new object).
    public func initialClock(nowMillis: Int64) -> UInt32 {
        lfuClock.load(ordering: .relaxed) ? lfuInitialClock(nowMillis: nowMillis) : lruClock(nowMillis: nowMillis)
    }

    // MARK: Memory figures

    /// Heap bytes that count toward maxmemory: all of it except client buffer bursts.
    public func usedMemoryForEviction(_ server: ServerContext) -> Int {
        max(0, Int(apus_used_memory()) - notCountedMemory(server))
    }

    /// Memory left out of the maxmemory comparison (INFO mem_not_counted_for_evict): what
    /// clients hold beyond their ordinary working buffers, and replica links
    /// (`ClientMemoryTotals.notCountedForEviction`).
    public func notCountedMemory(_ server: ServerContext) -> Int {
        server.clientMemory.notCountedForEviction
    }

    /// Bytes of keys the current policy may evict, over every database (all keys for allkeys-*,
    /// keys with a TTL for volatile-*, none for noeviction): the headroom an operator watches.
    public func evictableBytes(_ server: ServerContext) -> (bytes: Int, keys: Int) {
        let policy = settings.policy
        guard policy.evicts else { return (0, 0) }
        var bytes = 0
        var keys = 0
        for db in server.keyspace.databases {
            let (b, k) = evictable(db, policy: policy)
            bytes += b
            keys += k
        }
        return (bytes, keys)
    }

    /// Evictable bytes and keys of one database under `policy`.
    public func evictable(_ db: Database, policy: EvictionPolicy) -> (bytes: Int, keys: Int) {
        guard policy.evicts else { return (0, 0) }
        if policy.allKeys { return (db.datasetBytes, db.keyCount) }
        return (db.volatileBytes, db.expiresCount)
    }

    /// Keys evicted since start or CONFIG RESETSTAT (INFO evicted_keys).
    public func evictedKeys(_ server: ServerContext) -> Int {
        var total = 0
        for db in server.keyspace.databases {
            for shard in db.shards { shard.lock.withLockVoid { total &+= shard.evictedKeys } }
        }
        return total
    }

    // MARK: Eviction

    /// Evicts until used memory is under `maxmemory` (or the time budget runs out), like
    /// Redis's performEvictions before a command.
    public func performEvictions(_ server: ServerContext, worker: Worker, nowMillis: Int64) -> Outcome {
        let limit = maxmemoryBytes.load(ordering: .relaxed)
        guard limit > 0 else { return .ok }
        var used = usedMemoryForEviction(server)
        guard used > limit else {
            if overLimitSince.load(ordering: .relaxed) != 0 { noteUnderLimit(nowMillis) }
            return .ok
        }
        let s = settings
        guard !(s.replicaIgnoresMaxmemory && isReplica.load(ordering: .relaxed)) else { return .ok }
        noteOverLimit(nowMillis)
        guard s.policy.evicts else { return .failed }
        let start = monotonicNanos()
        let budget = Evictor.timeBudgetNanos(tenacity: s.tenacity)
        var evicted = 0
        defer { evictionMicros.add(Int((monotonicNanos() &- start) / 1000), ordering: .relaxed) }
        while used > s.maxmemory {
            var toFree = used - s.maxmemory
            while toFree > 0 {
                guard let bytes = evictOne(server, worker: worker, settings: s, database: nil, nowMillis: nowMillis) else {
                    // Nothing evictable is left.
                    return usedMemoryForEviction(server) > s.maxmemory ? .failed : .ok
                }
                toFree -= max(bytes, 1)
                evicted &+= 1
                if evicted & 15 == 0 && monotonicNanos() &- start > budget { return .running }
            }
            used = usedMemoryForEviction(server)
            if monotonicNanos() &- start > budget { return used > s.maxmemory ? .running : .ok }
        }
        noteUnderLimit(nowMillis)
        return .ok
    }

    /// Evicts inside database `index` until it is under its quota; `.failed` when it is over
    /// with nothing evictable left in it.
    public func enforceQuota(_ server: ServerContext, database index: Int, worker: Worker, nowMillis: Int64) -> Outcome {
        guard index < quotaCells.count else { return .ok }
        let quota = quotaCells[index].bytes.load(ordering: .relaxed)
        guard quota > 0 else { return .ok }
        let db = server.keyspace.databases[index]  // once per command over its quota
        var used = db.datasetBytes
        guard used > quota else { return .ok }
        let s = settings
        guard s.policy.evicts else { return .failed }
        let start = monotonicNanos()
        let budget = Evictor.timeBudgetNanos(tenacity: s.tenacity)
        var evicted = 0
        defer { evictionMicros.add(Int((monotonicNanos() &- start) / 1000), ordering: .relaxed) }
        while used > quota {
            guard evictOne(server, worker: worker, settings: s, database: index, nowMillis: nowMillis) != nil else {
                return db.datasetBytes > quota ? .failed : .ok
            }
            evicted &+= 1
            if evicted & 15 == 0 && monotonicNanos() &- start > budget { return .running }
            used = db.datasetBytes
        }
        return .ok
    }

    /// Redis's evictionTimeLimitUs: 0..500 µs linearly up to tenacity 10, then +15% per step,
    /// unlimited at 100.
    static func timeBudgetNanos(tenacity: Int) -> UInt64 {
        if tenacity <= 10 { return UInt64(50 * max(tenacity, 0)) * 1000 }
        if tenacity < 100 {
            var micros = 500.0
            for _ in 0..<(tenacity - 10) { micros *= 1.15 }
            return UInt64(micros) * 1000
        }
        return UInt64.max
    }

    /// Deletes one victim chosen by the policy (from `database` only, or from any); returns the
    /// bytes it held, nil when no key is evictable. Databases and shards are reached through
    /// unmanaged references: every thread evicts, and shared reference counts would bounce
    /// between cores on each sample.
    func evictOne(_ server: ServerContext, worker: Worker, settings s: Settings, database: Int?, nowMillis: Int64) -> Int? {
        let keyspace = server.keyspace
        let databaseCount = keyspace.databases.count
        if s.policy.isRandom {
            return evictRandom(keyspace, count: databaseCount, worker: worker, settings: s, database: database)
        }
        if let database, worker.quotaPoolDatabase != database {
            worker.quotaPool.removeAll()
            worker.quotaPoolDatabase = database
        }
        for _ in 0..<4 {
            // Like Redis, sample every database (or the quota's one) before each eviction, then
            // take the best candidate still present (sampled keys may have gone since).
            var sampled = false
            if let database {
                sampled = keyspace.withDatabase(at: database) { db in
                    populate(&worker.quotaPool, db, settings: s, worker: worker, nowMillis: nowMillis)
                }
            } else {
                for i in 0..<databaseCount {
                    let found = keyspace.withDatabase(at: i) { db in
                        populate(&worker.evictionPool, db, settings: s, worker: worker, nowMillis: nowMillis)
                    }
                    if found { sampled = true }
                }
            }
            let freed = database == nil ? evictBest(from: &worker.evictionPool, keyspace, settings: s)
                                        : evictBest(from: &worker.quotaPool, keyspace, settings: s)
            if let freed { return freed }
            if !sampled { return nil }  // no eligible key anywhere
        }
        return nil
    }

    /// Evicts the best candidate of `pool` still present; nil when the pool runs dry first.
    private func evictBest(from pool: inout EvictionPool, _ keyspace: Keyspace, settings s: Settings) -> Int? {
        var freed: Int?
        while freed == nil, pool.popBest({ index, key in
            freed = keyspace.withDatabase(at: index) { evictKey(key, in: $0, settings: s) }
        }) {}
        return freed
    }

    /// Samples `maxmemory-samples` candidates from one shard of `db` that holds eligible keys.
    private func populate(_ pool: inout EvictionPool, _ db: Database, settings s: Settings, worker: Worker,
                          nowMillis: Int64) -> Bool {
        let occupied = s.policy.allKeys ? db.occupancy.shards.load(ordering: .relaxed)
                                        : db.occupancy.volatileShards.load(ordering: .relaxed)
        guard occupied > 0 else { return false }
        let shardCount = db.shards.count
        var i = Int.random(in: 0..<shardCount, using: &worker.random)
        for _ in 0..<shardCount {
            let offered = db.withShard(at: i) { shard -> Bool in
                let hint = s.policy.allKeys ? shard.publishedBytes.load(ordering: .relaxed)
                                            : shard.publishedVolatileBytes.load(ordering: .relaxed)
                guard hint > 0 else { return false }
                shard.lock.lock()
                defer { shard.lock.unlock() }
                let eligible = s.policy.allKeys ? shard.table.count : shard.expiresCount
                guard eligible > 0 else { return false }
                shard.sampleEvictionCandidates(into: &pool, policy: s.policy, count: s.samples, database: db.index,
                                               nowMillis: nowMillis, decayMinutes: s.lfuDecayMinutes,
                                               random: &worker.random)
                return true
            }
            if offered { return true }
            i = i &+ 1 == shardCount ? 0 : i &+ 1
        }
        return false
    }

    private func evictKey(_ key: UnsafeRawBufferPointer, in db: Database, settings s: Settings) -> Int? {
        db.withShard(for: key) { shard, hash in
            shard.evict(key, hash: hash, volatileOnly: !s.policy.allKeys, lazily: s.lazy)
        }
        // WATCH and the "evicted" keyspace event hear of it from the shard (`KeyEventSink.keyEvicting`).
        // TODO(replication): DEL propagation.
    }

    /// allkeys-random / volatile-random: a random eligible key of the next database in turn.
    private func evictRandom(_ keyspace: Keyspace, count: Int, worker: Worker, settings s: Settings, database: Int?) -> Int? {
        let volatileOnly = !s.policy.allKeys
        let choices = database == nil ? count : 1
        for step in 0..<choices {
            let index = database ?? (worker.nextRandomDatabase &+ step) % count
            let freed: Int? = keyspace.withDatabase(at: index) { db in
                let occupied = volatileOnly ? db.occupancy.volatileShards.load(ordering: .relaxed)
                                            : db.occupancy.shards.load(ordering: .relaxed)
                guard occupied > 0 else { return nil }
                let shardCount = db.shards.count
                var i = Int.random(in: 0..<shardCount, using: &worker.random)
                for _ in 0..<shardCount {
                    let freed: Int? = db.withShard(at: i) { shard in
                        let hint = volatileOnly ? shard.publishedVolatileBytes.load(ordering: .relaxed)
                                                : shard.publishedBytes.load(ordering: .relaxed)
                        guard hint > 0 else { return nil }
                        shard.lock.lock()
                        defer {
                            shard.syncCollectionBytes()
                            shard.lock.unlock()
                        }
                        guard let victim = shard.randomEvictionCandidate(volatileOnly: volatileOnly, random: &worker.random) else {
                            return nil
                        }
                        let key = victim.key
                        return shard.evict(key, hash: keyHash(key), volatileOnly: volatileOnly, lazily: s.lazy)
                    }
                    if let freed { return freed }
                    i = i &+ 1 == shardCount ? 0 : i &+ 1
                }
                return nil
            }
            if let freed {
                if database == nil { worker.nextRandomDatabase = (index &+ 1) % count }
                return freed
            }
        }
        return nil
    }

    /// CONFIG RESETSTAT: eviction time and time over the limit start again.
    public func resetStats() {
        evictionMicros.store(0, ordering: .relaxed)
        overLimitMillisTotal.store(0, ordering: .relaxed)
        if overLimitSince.load(ordering: .relaxed) != 0 { overLimitSince.store(currentTimeMillis(), ordering: .relaxed) }
    }

    /// INFO stats total_eviction_exceeded_time / current_eviction_exceeded_time (ms over maxmemory).
    public func exceededMillis(now: Int64) -> (total: Int64, current: Int64) {
        let since = overLimitSince.load(ordering: .relaxed)
        let current = since == 0 ? 0 : max(0, now - since)
        return (overLimitMillisTotal.load(ordering: .relaxed) + current, current)
    }

    private func noteOverLimit(_ now: Int64) {
        if overLimitSince.load(ordering: .relaxed) == 0 { overLimitSince.store(now, ordering: .relaxed) }
    }

    private func noteUnderLimit(_ now: Int64) {
        let since = overLimitSince.exchange(0, ordering: .relaxed)
        if since != 0 { overLimitMillisTotal.add(max(0, now - since), ordering: .relaxed) }
    }
}

/// `db-maxmemory`: per-database memory quotas, written as pairs `<db> <bytes>` (units like
/// `100mb` allowed), e.g. `db-maxmemory 1 100mb 2 1gb`; 0 removes a quota.
public enum DatabaseQuotas {
    /// The quota of every database index, or nil when the text is malformed.
    public static func parse(_ text: String, databases: Int) -> [Int]? {
        var quotas = [Int](repeating: 0, count: databases)
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard words.count % 2 == 0 else { return nil }
        var i = 0
        while i < words.count {
            guard let db = Int(words[i]), db >= 0, db < databases,
                  let bytes = parseMemory(String(words[i + 1])) else { return nil }
            quotas[db] = bytes
            i += 2
        }
        return quotas
    }
}
