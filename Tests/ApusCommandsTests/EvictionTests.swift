import ApusStore
import Testing

/// maxmemory, the eight policies, OOM refusals and per-database quotas through the dispatcher.
/// Global maxmemory compares the process heap, which other suites move concurrently, so these
/// tests use limits that are either far below any heap (1 byte: always over) or per-database
/// quotas (which count only that database's dataset bytes).
@Suite(.serialized) struct EvictionTests {
    private let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

    @Test func noevictionRefusesDenyoomCommandsOnly() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("CONFIG", "SET", "maxmemory", "1")
        #expect(h.send("SET", "b", "2") == oom)
        #expect(h.send("LPUSH", "l", "x") == oom)
        #expect(h.send("APPEND", "a", "x") == oom)
        // Reads, deletes and commands that cannot grow memory still run.
        #expect(h.send("GET", "a") == "$1\r\n1\r\n")
        #expect(h.send("INCR", "a") == oom)
        #expect(h.send("EXPIRE", "a", "100") == ":1\r\n")  // not denyoom
        #expect(h.send("DEL", "a") == ":1\r\n")
        #expect(h.send("PING") == "+PONG\r\n")
        #expect(h.send("INFO", "stats").contains("evicted_keys:0\r\n"))
        #expect(h.send("INFO", "errorstats").contains("errorstat_OOM:count=4"))
        #expect(h.send("INFO", "commandstats").contains("cmdstat_set:calls=1,usec="))
        h.send("CONFIG", "SET", "maxmemory", "0")
        #expect(h.send("SET", "b", "2") == "+OK\r\n")
    }

    @Test func volatilePoliciesNeverTouchPersistentKeys() {
        for policy in ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
            let h = Harness()
            for i in 0 ..< 200 { h.send("SET", "user:\(i)", "v") }
            for i in 0 ..< 300 { h.send("SET", "cache:\(i)", "v", "EX", "1000") }
            h.send("CONFIG", "SET", "maxmemory-policy", policy)
            h.send("CONFIG", "SET", "maxmemory-eviction-tenacity", "100")  // no time budget: deterministic
            h.send("CONFIG", "SET", "maxmemory", "1")
            // Every TTL key goes, then the write is refused: nothing else is evictable.
            #expect(h.send("SET", "new", "v") == oom, "\(policy)")
            #expect(h.send("DBSIZE") == ":200\r\n", "\(policy)")
            #expect(h.send("INFO", "stats").contains("evicted_keys:300\r\n"), "\(policy)")
            for i in stride(from: 0, to: 200, by: 37) {
                #expect(h.send("GET", "user:\(i)") == "$1\r\nv\r\n", "\(policy)")
            }
        }
    }

    @Test func allkeysPoliciesEvictEverythingBeforeRefusing() {
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
            let h = Harness()
            for i in 0 ..< 100 { h.send("SET", "k\(i)", "v") }
            h.send("HSET", "h", "f", "v")
            h.send("SELECT", "5")
            for i in 0 ..< 100 { h.send("RPUSH", "l\(i)", "a", "b") }
            h.send("CONFIG", "SET", "maxmemory-policy", policy)
            h.send("CONFIG", "SET", "maxmemory-eviction-tenacity", "100")  // no time budget: deterministic
            h.send("CONFIG", "SET", "maxmemory", "1")
            #expect(h.send("SET", "x", "y") == oom, "\(policy)")
            #expect(h.send("DBSIZE") == ":0\r\n", "\(policy)")
            h.send("SELECT", "0")
            #expect(h.send("DBSIZE") == ":0\r\n", "\(policy)")
            #expect(h.send("INFO", "stats").contains("evicted_keys:201\r\n"), "\(policy)")
        }
    }

    @Test func databaseQuotaEvictsInsideItsDatabaseOnly() {
        let h = Harness()
        for i in 0 ..< 500 { h.send("SET", "user:\(i)", String(repeating: "x", count: 100)) }
        for i in 0 ..< 500 { h.send("SET", "cache:\(i)", String(repeating: "x", count: 100), "EX", "1000") }
        h.send("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
        #expect(h.send("CONFIG", "SET", "db-maxmemory", "1 64kb") == "+OK\r\n")
        h.send("SELECT", "1")
        for i in 0 ..< 2000 { h.send("SET", "tenant:\(i)", String(repeating: "y", count: 100), "EX", "1000") }
        let db1Keys = Int(h.send("DBSIZE").dropFirst().dropLast(2))!
        #expect(db1Keys > 0 && db1Keys < 2000)
        #expect(h.server.keyspace.databases[1].datasetBytes <= 64 * 1024 + 1024)
        // Persistent writes fill the quota, then fail with the quota's OOM.
        var refused = ""
        for i in 0 ..< 5000 {
            let reply = h.send("SET", "own:\(i)", String(repeating: "z", count: 100))
            if reply != "+OK\r\n" {
                refused = reply
                break
            }
        }
        #expect(refused == "-OOM command not allowed when used memory > 'db-maxmemory' of database 1.\r\n")
        #expect(h.send("EXISTS", "tenant:1999") == ":0\r\n" || h.send("TTL", "tenant:1999").hasPrefix(":"))
        // Database 0 lost nothing and still takes writes.
        h.send("SELECT", "0")
        #expect(h.send("DBSIZE") == ":1000\r\n")
        #expect(h.send("SET", "more", "v") == "+OK\r\n")
        // Deleting in database 1 makes room again.
        h.send("SELECT", "1")
        h.send("FLUSHDB")
        #expect(h.send("SET", "own:again", "v") == "+OK\r\n")
    }

    @Test func dbMaxmemoryConfig() {
        let h = Harness()
        #expect(h.send("CONFIG", "GET", "db-maxmemory") == "*2\r\n$12\r\ndb-maxmemory\r\n$0\r\n\r\n")
        #expect(h.send("CONFIG", "SET", "db-maxmemory", "1 100mb 15 1gb") == "+OK\r\n")
        #expect(h.send("CONFIG", "GET", "db-maxmemory") == "*2\r\n$12\r\ndb-maxmemory\r\n$14\r\n1 100mb 15 1gb\r\n")
        #expect(h.send("CONFIG", "SET", "db-maxmemory", "16 1mb")
            == "-ERR CONFIG SET failed (possibly related to argument 'db-maxmemory') - Invalid database index '16' (databases: 16)\r\n")
        #expect(h.send("CONFIG", "SET", "db-maxmemory", "1")
            == "-ERR CONFIG SET failed (possibly related to argument 'db-maxmemory') - db-maxmemory takes pairs of <db> <bytes>\r\n")
        #expect(h.send("CONFIG", "SET", "db-maxmemory", "1 lots")
            == "-ERR CONFIG SET failed (possibly related to argument 'db-maxmemory') - argument must be a memory value\r\n")
        #expect(h.server.eviction.settings.quotas[15] == 1 << 30)
        #expect(h.send("CONFIG", "SET", "db-maxmemory", "") == "+OK\r\n")
        #expect(h.server.eviction.enabled.load(ordering: .relaxed) == false)
    }

    @Test func lfuCountersGrowWithAccessAndNewKeysStartAtFive() {
        let h = Harness()
        h.send("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
        h.send("CONFIG", "SET", "lfu-log-factor", "0")
        h.send("SET", "hot", "v")
        h.send("SET", "cold", "v")
        #expect(h.send("OBJECT", "FREQ", "cold") == ":5\r\n")
        for _ in 0 ..< 10 { h.send("GET", "hot") }
        // Factor 0: every access increments (probability 1 / ((c - 5) * 0 + 1)).
        #expect(h.send("OBJECT", "FREQ", "hot") == ":15\r\n")
        h.send("EXPIRE", "hot", "100")
        #expect(h.send("OBJECT", "FREQ", "hot") == ":16\r\n")
        #expect(h.send("OBJECT", "IDLETIME", "hot").hasPrefix("-ERR An LFU maxmemory policy is selected"))
        // CLIENT NO-TOUCH leaves the counter alone; TOUCH still counts.
        h.send("CLIENT", "NO-TOUCH", "on")
        h.send("GET", "hot")
        #expect(h.send("OBJECT", "FREQ", "hot") == ":16\r\n")
        h.send("TOUCH", "hot")
        #expect(h.send("OBJECT", "FREQ", "hot") == ":17\r\n")
    }

    @Test func lfuCounterMath() {
        let minute: Int64 = 60_000
        let t0: Int64 = 1_000 * minute
        var clock = lfuInitialClock(nowMillis: t0)
        #expect(lfuDecayedCounter(accessClock: clock, nowMillis: t0, decayMinutes: 1) == 5)
        // Past the initial value, factor 10 makes an increment unlikely: p = 1 / (c - 5) * 10 + 1.
        clock = lfuTouched(clock, nowMillis: t0, logFactor: 10, decayMinutes: 1, random: 0.5)
        #expect(clock & 0xFF == 6)  // c = 5: p = 1
        clock = lfuTouched(clock, nowMillis: t0, logFactor: 10, decayMinutes: 1, random: 0.5)
        #expect(clock & 0xFF == 6)  // c = 6: p = 1/11 < 0.5
        clock = lfuTouched(clock, nowMillis: t0, logFactor: 10, decayMinutes: 1, random: 0.05)
        #expect(clock & 0xFF == 7)
        // Decay: one per lfu-decay-time minutes since the last access, never below 0.
        #expect(lfuDecayedCounter(accessClock: clock, nowMillis: t0 + 3 * minute, decayMinutes: 1) == 4)
        #expect(lfuDecayedCounter(accessClock: clock, nowMillis: t0 + 3 * minute, decayMinutes: 2) == 6)
        #expect(lfuDecayedCounter(accessClock: clock, nowMillis: t0 + 30 * minute, decayMinutes: 1) == 0)
        #expect(lfuDecayedCounter(accessClock: clock, nowMillis: t0 + 30 * minute, decayMinutes: 0) == 7)
        // 255 saturates.
        let full = lfuMinutes(nowMillis: t0) << 8 | 255
        #expect(lfuTouched(full, nowMillis: t0, logFactor: 0, decayMinutes: 0, random: 0) & 0xFF == 255)
    }

    @Test func lruPolicyEvictsTheIdlestKeys() {
        let h = Harness()
        // Old keys: access clocks 100 s in the past.
        for i in 0 ..< 300 { h.send("SET", "old:\(i)", "v") }
        let past = lruClock(nowMillis: currentTimeMillis() - 100_000)
        for db in h.server.keyspace.databases.prefix(1) {
            for shard in db.shards { shard.lock.withLockVoid { shard.table.forEach { $0.accessClock = past } } }
        }
        for i in 0 ..< 300 { h.send("SET", "new:\(i)", "v") }
        h.send("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        h.send("CONFIG", "SET", "maxmemory-samples", "10")
        h.send("CONFIG", "SET", "maxmemory-eviction-tenacity", "100")
        // Evict about a quarter through a quota (deterministic, unlike the process heap).
        let target = h.server.keyspace.databases[0].datasetBytes * 3 / 4
        h.send("CONFIG", "SET", "db-maxmemory", "0 \(target)")
        #expect(h.send("SET", "trigger", "v") == "+OK\r\n")
        #expect(h.server.keyspace.databases[0].datasetBytes <= target + 100)  // + the new key itself
        var oldLeft = 0
        var newLeft = 0
        for i in 0 ..< 300 {
            if h.send("EXISTS", "old:\(i)") == ":1\r\n" { oldLeft += 1 }
            if h.send("EXISTS", "new:\(i)") == ":1\r\n" { newLeft += 1 }
        }
        let evicted = 600 - oldLeft - newLeft
        #expect(evicted > 50)
        // Sampled LRU is approximate (Redis's too): nearly every victim is an idle key.
        #expect(300 - oldLeft >= evicted * 9 / 10)
    }

    @Test func poolKeepsTheBestCandidates() {
        var pool = EvictionPool()
        for score in [5, 1, 9, 3, 7] as [UInt64] {
            let key = Array("k\(score)".utf8)
            key.withUnsafeBytes { pool.offer(score: score, database: 0, key: $0) }
        }
        for score in 10 ..< 30 as Range<UInt64> {
            let key = Array("k\(score)".utf8)
            key.withUnsafeBytes { pool.offer(score: score, database: 2, key: $0) }
        }
        #expect(pool.count == EvictionPool.size)
        var popped: [String] = []
        while pool.popBest({ db, key in popped.append("\(db):\(String(decoding: key, as: UTF8.self))") }) {}
        #expect(popped.first == "2:k29")
        #expect(popped.last == "2:k14")
        #expect(popped.count == 16)
    }
}
