/// Reclaims expired keys nobody reads (sessions!), like Redis's `activeExpireCycle`: each run
/// samples keys with a TTL in every shard, deletes the expired ones, and keeps going in a shard
/// while more than 10% of its sample was stale — within a time budget, so there is no latency spike.
public final class ActiveExpireCycle: @unchecked Sendable {
    /// Keys with a TTL looked at per sampling round in one shard.
    static let keysPerRound = 20
    /// Slots walked at most per round (bounds work on sparse tables).
    static let slotsPerRound = 400
    /// Keep sampling a shard while more than this percentage of a round was expired.
    static let acceptableStalePercent = 10

    /// Exponential moving average of the share of sampled keys that were expired (INFO expired_stale_perc).
    public private(set) var stalePercent = 0.0
    /// Total CPU time spent in the cycle (INFO expire_cycle_cpu_milliseconds).
    public private(set) var cpuMicros = 0

    public init() {}

    public func run(keyspace: Keyspace, now: Int64, budgetMicros: Int) {
        let start = monotonicNanos()
        let deadline = start &+ UInt64(max(budgetMicros, 1)) &* 1000
        var sampled = 0
        var expired = 0
        outer: for db in keyspace.databases {
            var ttlSum = 0.0
            var ttlSamples = 0
            for shard in db.shards {
                var rounds = 0
                while true {
                    let (seen, removed, ttls, ttlCount) = shard.lock.withLock { sampleRound(shard, now: now) }
                    sampled &+= seen
                    expired &+= removed
                    ttlSum += ttls
                    ttlSamples &+= ttlCount
                    rounds &+= 1
                    if seen == 0 || removed * 100 <= seen * ActiveExpireCycle.acceptableStalePercent { break }
                    if rounds & 15 == 0 && monotonicNanos() > deadline { break outer }
                }
                if monotonicNanos() > deadline { break outer }
            }
            if ttlSamples > 0 {
                let average = Int64(min(ttlSum / Double(ttlSamples), Double(Int64.max / 2)))
                // Redis blends each sample into the previous estimate (weight 2%).
                db.averageTTL = db.averageTTL == 0 ? average : (db.averageTTL / 50) * 49 + average / 50
            } else if db.expiresCount == 0 {
                db.averageTTL = 0
            }
        }
        if sampled > 0 {
            let current = Double(expired) / Double(sampled)
            stalePercent = stalePercent * 0.95 + current * 0.05
        }
        cpuMicros &+= Int((monotonicNanos() &- start) / 1000)
    }

    /// One round in one shard (lock held): returns (keys sampled, keys expired, sum of remaining
    /// TTLs, count). The sum is a Double: TTLs near Int64.max (PEXPIREAT 9223372036854775807) must not overflow.
    private func sampleRound(_ shard: Shard, now: Int64) -> (Int, Int, Double, Int) {
        guard shard.expiresCount > 0, shard.expiryEnabled else { return (0, 0, 0, 0) }
        var victims: [Entry] = []
        var seen = 0
        var ttlSum = 0.0
        var ttlCount = 0
        var cursor = shard.expireCursor
        var walked = 0
        while seen < ActiveExpireCycle.keysPerRound && walked < ActiveExpireCycle.slotsPerRound {
            let step = 64
            let next = shard.table.visitExpiring(from: cursor, maxSlots: step) { entry in
                seen += 1
                if let at = entry.expireAt {
                    if at <= now { victims.append(entry) } else { ttlSum += Double(at) - Double(now); ttlCount += 1 }
                }
            }
            walked += step
            cursor = next
            if next == 0 { break }
        }
        shard.expireCursor = cursor
        for entry in victims {
            shard.expireEntry(entry, hash: keyHash(entry.key))
        }
        return (seen, victims.count, ttlSum, ttlCount)
    }
}
