import ApusRESP
import Testing
@testable import ApusStore

/// The shard's dataset byte accounting (entries, collection objects, table slots; the volatile
/// part apart) stays equal to a recount after every kind of change, and eviction sampling
/// picks only eligible keys.
@Suite struct ShardMemoryTests {
    /// Recounts what the shard's counters should hold.
    private func recount(_ shard: Shard) -> (entries: Int, objects: Int, volatile: Int) {
        var entries = 0, objects = 0, volatile = 0
        shard.table.forEach { entry in
            let object = Shard.collectionBytes(entry)
            entries += entry.allocatedSize
            objects += object
            if entry.hasExpire { volatile += entry.allocatedSize + object }
        }
        return (entries, objects, volatile)
    }

    private func check(_ shard: Shard, _ note: Comment? = nil) {
        let (entries, objects, volatile) = recount(shard)
        #expect(shard.entryBytes == entries, note)
        #expect(shard.objectBytes == objects, note)
        #expect(shard.volatileBytes == volatile, note)
        #expect(shard.publishedBytes.load(ordering: .relaxed) == entries + objects + shard.table.heapBytes, note)
        #expect(shard.publishedVolatileBytes.load(ordering: .relaxed) == volatile, note)
    }

    private func put(_ shard: Shard, _ key: String, _ value: String, expireAt: Int64? = nil) {
        let k = Array(key.utf8), v = Array(value.utf8)
        k.withUnsafeBytes { kb in
            v.withUnsafeBytes { vb in
                let hash = keyHash(kb)
                shard.putString(kb, hash: hash, value: vb, encoding: .raw, expireAt: expireAt, keepTTL: false,
                                existing: shard.lookup(kb, hash: hash, now: 0))
            }
        }
    }

    @Test func stringsAndTTLs() {
        let shard = Shard()
        for i in 0..<200 { put(shard, "k\(i)", String(repeating: "v", count: i)) }
        check(shard, "inserts")
        for i in 0..<200 where i % 3 == 0 { put(shard, "k\(i)", "short", expireAt: 10_000_000_000_000) }
        check(shard, "overwrites with TTL")
        for i in 0..<200 where i % 5 == 0 {
            Array("k\(i)".utf8).withUnsafeBytes { k in
                let hash = keyHash(k)
                if let e = shard.lookup(k, hash: hash, now: 0) { shard.setExpire(e, hash: hash, expireAt: e.hasExpire ? nil : 9_000_000_000_000) }
            }
        }
        check(shard, "setExpire both ways")
        for i in 0..<200 where i % 2 == 0 {
            Array("k\(i)".utf8).withUnsafeBytes { k in _ = shard.delete(k, hash: keyHash(k)) }
        }
        check(shard, "deletes")
        let other = Shard()
        put(other, "x", "y", expireAt: 10_000_000_000_000)
        shard.swapContents(with: other)
        check(shard, "swapped in")
        check(other, "swapped out")
        other.removeAll()
        check(other, "removeAll")
        #expect(other.entryBytes == 0 && other.objectBytes == 0 && other.volatileBytes == 0)
    }

    @Test func collectionWritesAreSyncedWhenTheLockIsReleased() {
        let db = Database(index: 0, shardCount: 1)
        let shard = db.shards[0]
        let limits = CollectionLimits()
        let key = Array("h".utf8)
        key.withUnsafeBytes { k in
            db.withShard(for: k) { shard, hash in
                let entry = shard.insertCollection(k, HashObject(), type: .hash, hash: hash)
                let hashObject = unsafeDowncast(entry.object, to: HashObject.self)
                for i in 0..<1000 {
                    Array("field\(i)".utf8).withUnsafeBytes { f in _ = hashObject.set(f, f, limits: limits) }
                }
            }
        }
        check(shard, "after a growing write")
        #expect(shard.objectBytes > 1000 * 10)
        // A write that registers the entry is re-read; removing the key uncounts what was counted.
        key.withUnsafeBytes { k in
            db.withShard(for: k) { shard, hash in
                let entry = shard.lookup(k, hash: hash, now: 0)!
                shard.noteCollectionWrite(entry)
                let hashObject = unsafeDowncast(entry.object, to: HashObject.self)
                for i in 0..<500 {
                    Array("field\(i)".utf8).withUnsafeBytes { f in _ = hashObject.remove(f) }
                }
            }
        }
        check(shard, "after a shrinking write")
        key.withUnsafeBytes { k in db.withShard(for: k) { shard, hash in _ = shard.delete(k, hash: hash) } }
        check(shard, "after delete")
        #expect(shard.objectBytes == 0)
        #expect(db.datasetBytes == shard.table.heapBytes)
    }

    @Test func evictionSamplingRespectsVolatileOnly() {
        let shard = Shard()
        for i in 0..<300 { put(shard, "p\(i)", "v") }
        for i in 0..<30 { put(shard, "t\(i)", "v", expireAt: 10_000_000_000_000 + Int64(i)) }
        var rng = FastRandomGenerator(seed: 42)
        for policy in [EvictionPolicy.volatileLRU, .volatileLFU, .volatileTTL] {
            var pool = EvictionPool()
            for _ in 0..<20 {
                shard.sampleEvictionCandidates(into: &pool, policy: policy, count: 5, database: 0, nowMillis: 0,
                                               decayMinutes: 1, random: &rng)
            }
            #expect(pool.count > 0)
            while pool.popBest({ _, key in #expect(key.first == UInt8(ascii: "t")) }) {}
        }
        // volatile-ttl: the best candidate is the one expiring first among those sampled.
        var pool = EvictionPool()
        for _ in 0..<50 {
            shard.sampleEvictionCandidates(into: &pool, policy: .volatileTTL, count: 30, database: 0, nowMillis: 0,
                                           decayMinutes: 1, random: &rng)
        }
        _ = pool.popBest { _, key in #expect(Array(key) == Array("t0".utf8)) }
        for _ in 0..<100 {
            let victim = shard.randomEvictionCandidate(volatileOnly: true, random: &rng)
            #expect(victim?.hasExpire == true)
        }
    }

    @Test func evictRemovesAndCounts() {
        let shard = Shard()
        put(shard, "a", "value", expireAt: 10_000_000_000_000)
        put(shard, "b", "value")
        Array("b".utf8).withUnsafeBytes { k in
            #expect(shard.evict(k, hash: keyHash(k), volatileOnly: true, lazily: false) == nil)
            #expect(shard.evict(k, hash: keyHash(k), volatileOnly: false, lazily: false) != nil)
        }
        Array("a".utf8).withUnsafeBytes { k in
            #expect(shard.evict(k, hash: keyHash(k), volatileOnly: true, lazily: false)! > 0)
        }
        #expect(shard.evictedKeys == 2)
        #expect(shard.table.count == 0)
        check(shard)
    }
}
