import ApusRESP
import ApusStore
import CSystemShims

/// MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP (Redis's object.c memoryCommand),
/// and `MemoryOverhead`, the breakdown INFO memory prints as well.
public enum MemoryCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("memory|help", help)
        registry.register("memory|usage", usage)
        registry.register("memory|stats", stats)
        registry.register("memory|doctor", doctor)
        registry.register("memory|malloc-stats", mallocStats)
        registry.register("memory|purge", purge)
    }

    static func help(_ c: inout CommandContext) {
        c.replyHelp("MEMORY", [
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ])
    }

    // MARK: USAGE

    /// MEMORY USAGE key [SAMPLES n]: the key's block (key, value or object pointer, header,
    /// expire time), its hash-table slot and, for collections, the object's heap bytes.
    ///
    /// Redis samples `n` elements of a hashtable-encoded value and extrapolates; Apus's sizes
    /// are exact, so SAMPLES is validated exactly like Redis (non-integer, negative, missing
    /// value) and otherwise changes nothing. Like Redis's dictFind, the lookup neither expires
    /// nor touches the key, and does not count as a keyspace hit or miss.
    static func usage(_ c: inout CommandContext) {
        var j = 3
        while j < c.args.count {
            if c.args.isToken(j, "samples") && j + 1 < c.args.count {
                guard let samples = c.integerArgument(j + 1) else { return }
                if samples < 0 { return c.syntaxError() }
                j += 2
            } else {
                return c.syntaxError()
            }
        }
        let key = c.args[2]
        let bytes = c.db.withShard(for: key) { shard, hash -> Int? in
            guard let entry = shard.table.find(key, hash: hash) else { return nil }
            // The entry block, its table slot and, for a collection, the object's heap bytes
            // (kept O(1) and exact by the objects, so SAMPLES needs no estimate).
            return entry.allocatedSize + keySlotBytes + Shard.collectionBytes(entry)
        }
        guard let bytes else { return c.reply.null() }
        c.reply.integer(bytes)
    }

    /// One slot of the keyspace's open-addressing table per key (Redis adds its dictEntry).
    static let keySlotBytes = MemoryLayout<UInt64>.stride

    // MARK: STATS

    /// A value in the MEMORY STATS map.
    enum StatValue {
        case integer(Int)
        case double(Double)
        case database([(String, Int)])
    }

    static func stats(_ c: inout CommandContext) {
        let mh = MemoryOverhead.compute(c.server)
        var entries: [(String, StatValue)] = [
            ("peak.allocated", .integer(mh.peakAllocated)),
            ("total.allocated", .integer(mh.totalAllocated)),
            ("startup.allocated", .integer(mh.startupAllocated)),
            ("replication.backlog", .integer(mh.replicationBacklog)),
            ("clients.slaves", .integer(mh.clientsReplicas)),
            ("clients.normal", .integer(mh.clientsNormal)),
            ("cluster.links", .integer(mh.clusterLinks)),
            ("aof.buffer", .integer(mh.aofBuffer)),
            ("lua.caches", .integer(mh.luaCaches)),
            ("functions.caches", .integer(mh.functionsCaches)),
        ]
        for db in mh.databases {
            entries.append(("db.\(db.index)", .database([
                ("overhead.hashtable.main", db.overheadMain),
                ("overhead.hashtable.expires", db.overheadExpires),
                ("overhead.hashtable.slot-to-keys", db.overheadSlotToKeys),
            ])))
        }
        entries += [
            ("overhead.total", .integer(mh.overheadTotal)),
            ("keys.count", .integer(mh.totalKeys)),
            ("keys.bytes-per-key", .integer(mh.bytesPerKey)),
            ("dataset.bytes", .integer(mh.dataset)),
            ("dataset.percentage", .double(Double(mh.datasetPercent))),
            ("peak.percentage", .double(Double(mh.peakPercent))),
            ("allocator.allocated", .integer(mh.allocator.allocated)),
            ("allocator.active", .integer(mh.allocator.active)),
            ("allocator.resident", .integer(mh.allocator.resident)),
            ("allocator-fragmentation.ratio", .double(Double(mh.allocatorFragmentation))),
            ("allocator-fragmentation.bytes", .integer(mh.allocatorFragmentationBytes)),
            ("allocator-rss.ratio", .double(Double(mh.allocatorRSS))),
            ("allocator-rss.bytes", .integer(mh.allocatorRSSBytes)),
            ("rss-overhead.ratio", .double(Double(mh.rssExtra))),
            ("rss-overhead.bytes", .integer(mh.rssExtraBytes)),
            // The total RSS overhead, fragmentation included (Redis keeps the old name).
            ("fragmentation", .double(Double(mh.totalFragmentation))),
            ("fragmentation.bytes", .integer(mh.totalFragmentationBytes)),
        ]
        entries += apusStats(c.server)
        c.reply.mapHeader(entries.count)
        for (name, value) in entries {
            c.reply.bulk(name)
            switch value {
            case .integer(let n): c.reply.integer(n)
            case .double(let d): c.reply.double(d)
            case .database(let fields):
                c.reply.mapHeader(fields.count)
                for (field, n) in fields {
                    c.reply.bulk(field)
                    c.reply.integer(n)
                }
            }
        }
    }

    /// Apus's own MEMORY STATS entries, after Redis's: the `evictable.*` eviction-headroom
    /// figures and the per-database quotas go here (issue 4), named with dots like Redis's.
    static func apusStats(_ server: ServerContext) -> [(String, StatValue)] {
        let eviction = server.eviction
        let settings = eviction.settings
        let (bytes, keys) = eviction.evictableBytes(server)
        var entries: [(String, StatValue)] = [
            ("evictable.bytes", .integer(bytes)),
            ("evictable.keys", .integer(keys)),
            ("evictable.ratio", .double(settings.maxmemory > 0 ? Double(bytes) / Double(settings.maxmemory) : 0)),
            ("not-counted-for-evict.bytes", .integer(eviction.notCountedMemory(server))),
        ]
        // Per database with keys or a quota: dataset bytes, the evictable part, the quota.
        for db in server.keyspace.databases {
            let quota = db.index < settings.quotas.count ? settings.quotas[db.index] : 0
            let used = db.datasetBytes
            guard quota > 0 || db.occupancy.shards.load(ordering: .relaxed) > 0 else { continue }
            entries.append(("quota.db.\(db.index)", .database([
                ("dataset.bytes", used),
                ("evictable.bytes", eviction.evictable(db, policy: settings.policy).bytes),
                ("db-maxmemory", quota),
            ])))
        }
        return entries
    }

    // MARK: DOCTOR, MALLOC-STATS, PURGE

    static func doctor(_ c: inout CommandContext) {
        c.reply.verbatim(doctorReport(c.server))
    }

    /// Redis's getMemoryDoctorReport: the same rules, thresholds and texts.
    static func doctorReport(_ server: ServerContext) -> String {
        let mh = MemoryOverhead.compute(server)
        var empty = false, bigPeak = false, highFrag = false, highAllocFrag = false
        var highAllocRSS = false, highProcRSS = false, bigReplicaBuffers = false
        var bigClientBuffers = false, manyScripts = false
        var reports = 0
        if mh.totalAllocated < 5 * 1024 * 1024 {
            empty = true
            reports += 1
        } else {
            if Float(mh.peakAllocated) / Float(max(1, mh.totalAllocated)) > 1.5 { bigPeak = true; reports += 1 }
            if mh.totalFragmentation > 1.4 && mh.totalFragmentationBytes > 10 << 20 { highFrag = true; reports += 1 }
            if mh.allocatorFragmentation > 1.1 && mh.allocatorFragmentationBytes > 10 << 20 { highAllocFrag = true; reports += 1 }
            if mh.allocatorRSS > 1.1 && mh.allocatorRSSBytes > 10 << 20 { highAllocRSS = true; reports += 1 }
            if mh.rssExtra > 1.1 && mh.rssExtraBytes > 10 << 20 { highProcRSS = true; reports += 1 }
            let replicas = 0  // no replication yet
            let clients = max(1, server.clients.all.count - replicas)
            if mh.clientsNormal / clients > 1024 * 200 { bigClientBuffers = true; reports += 1 }
            if replicas > 0 && mh.clientsReplicas > 10 * 1024 * 1024 { bigReplicaBuffers = true; reports += 1 }
            let cachedScripts = 0  // no script cache yet
            if cachedScripts > 1000 { manyScripts = true; reports += 1 }
        }
        if reports == 0 {
            return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
        }
        if empty {
            return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
        }
        var s = "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
        if bigPeak {
            s += " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n"
        }
        if highFrag {
            s += " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"\(String(cString: apus_allocator_name()))\".\n\n"
        }
        if highAllocFrag {
            s += " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n"
        }
        if highAllocRSS {
            s += " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n"
        }
        if highProcRSS {
            s += " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n"
        }
        if bigReplicaBuffers {
            s += " * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n"
        }
        if bigClientBuffers {
            s += " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n"
        }
        if manyScripts {
            s += " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n"
        }
        s += "I'm here to keep you safe, Sam. I want to help you.\n"
        return s
    }

    /// The allocator's own report: glibc's malloc_info (XML, per arena). Redis built with libc
    /// malloc answers "Stats not supported for the current allocator"; glibc does have stats.
    static func mallocStats(_ c: inout CommandContext) {
        guard let text = apus_allocator_stats_text() else {
            return c.reply.bulk("Stats not supported for the current allocator")
        }
        defer { apus_free_text(text) }
        c.reply.verbatim(String(cString: text))
    }

    /// Returns the heap's free memory to the OS (glibc malloc_trim). Redis answers OK whenever
    /// the allocator call succeeds, released bytes or not; malloc_trim cannot fail.
    static func purge(_ c: inout CommandContext) {
        _ = apus_heap_trim()
        c.reply.ok()
    }
}

/// What the heap holds, split like Redis's getMemoryOverheadData (MEMORY STATS, MEMORY DOCTOR,
/// INFO memory): server overhead (start-up, client buffers, replication, per-database table
/// overhead) versus the dataset.
public struct MemoryOverhead {
    public struct DatabaseOverhead {
        public var index: Int
        public var keys: Int
        /// Table slots plus each key's block header (Redis: dict + one robj per key).
        public var overheadMain: Int
        /// The 8-byte expire time volatile keys carry in their block (Redis: the expires dict).
        public var overheadExpires: Int
        /// Cluster mode's slot-to-keys map: none.
        public var overheadSlotToKeys: Int
    }

    public var totalAllocated = 0
    public var startupAllocated = 0
    public var peakAllocated = 0
    public var replicationBacklog = 0
    public var clientsReplicas = 0
    public var clientsNormal = 0
    public var clusterLinks = 0
    public var aofBuffer = 0
    public var luaCaches = 0
    public var functionsCaches = 0
    public var databases: [DatabaseOverhead] = []
    public var overheadTotal = 0
    public var totalKeys = 0
    public var dataset = 0
    public var bytesPerKey = 0
    // Redis keeps these ratios as C floats; Float here prints the same digits in MEMORY STATS.
    public var peakPercent: Float = 0
    public var datasetPercent: Float = 0
    public var rss = 0
    public var allocator = (allocated: 0, active: 0, resident: 0)
    public var totalFragmentation: Float = 0
    public var totalFragmentationBytes = 0
    public var allocatorFragmentation: Float = 0
    public var allocatorFragmentationBytes = 0
    public var allocatorRSS: Float = 0
    public var allocatorRSSBytes = 0
    public var rssExtra: Float = 0
    public var rssExtraBytes = 0
    /// Bytes of the keyspace's entry blocks and table slots (INFO apus_keyspace_*).
    public var keyspaceEntryBytes = 0
    public var keyspaceTableBytes = 0

    /// Bytes of each key's block header in front of its key (Entry's layout: lengths, type and
    /// encoding, access clock) and of the optional expire time.
    static let entryHeaderBytes = 12
    static let expireTimeBytes = 8

    /// Reads every figure now: the used-memory counter, the allocator's statistics, RSS, and
    /// each shard's table under its lock (O(shards)).
    public static func compute(_ s: ServerContext, used measured: Int? = nil) -> MemoryOverhead {
        var mh = MemoryOverhead()
        let used = measured ?? Int(apus_used_memory())
        s.updatePeakMemory(used)
        mh.totalAllocated = used
        mh.startupAllocated = s.startupMemory
        mh.peakAllocated = max(s.peakMemory.load(ordering: .relaxed), used)
        mh.rss = Int(apus_resident_bytes())
        let info = apus_allocator_info()
        // Redis's fallbacks for an allocator that does not report a figure (serverCron).
        let resident = info.resident > 0 ? Int(info.resident) : mh.rss
        let active = info.active > 0 ? Int(info.active) : resident
        let allocated = info.allocated > 0 ? Int(info.allocated) : used
        mh.allocator = (allocated, active, resident)
        func ratio(_ a: Int, _ b: Int) -> Float { b > 0 ? Float(a) / Float(b) : 0 }
        mh.totalFragmentation = ratio(mh.rss, used)
        mh.totalFragmentationBytes = mh.rss - used
        mh.allocatorFragmentation = ratio(active, allocated)
        mh.allocatorFragmentationBytes = active - allocated
        mh.allocatorRSS = ratio(resident, active)
        mh.allocatorRSSBytes = resident - active
        mh.rssExtra = ratio(mh.rss, resident)
        mh.rssExtraBytes = mh.rss - resident

        var total = mh.startupAllocated
        // Replication does not exist yet: no backlog, no replica buffers.
        mh.clientsNormal = s.clientMemory.normal
        mh.clientsReplicas = s.clientMemory.replicas
        total += mh.replicationBacklog + mh.clientsReplicas + mh.clientsNormal
        total += mh.clusterLinks + mh.aofBuffer + mh.luaCaches + mh.functionsCaches

        for db in s.keyspace.databases {
            var keys = 0, expires = 0, slots = 0, entries = 0
            for shard in db.shards {
                shard.lock.withLockVoid {
                    keys += shard.table.count
                    expires += shard.expiresCount
                    slots += shard.table.heapBytes
                    entries += shard.entryBytes
                }
            }
            mh.keyspaceEntryBytes += entries
            mh.keyspaceTableBytes += slots
            guard keys > 0 else { continue }
            let d = DatabaseOverhead(index: db.index, keys: keys,
                                     overheadMain: slots + keys * entryHeaderBytes,
                                     overheadExpires: expires * expireTimeBytes,
                                     overheadSlotToKeys: 0)
            mh.databases.append(d)
            mh.totalKeys += keys
            total += d.overheadMain + d.overheadExpires + d.overheadSlotToKeys
        }
        mh.overheadTotal = total
        mh.dataset = max(0, used - total)
        mh.peakPercent = mh.peakAllocated > 0 ? Float(used) * 100 / Float(mh.peakAllocated) : 0
        let net = used > mh.startupAllocated ? used - mh.startupAllocated : 1
        mh.datasetPercent = Float(mh.dataset) * 100 / Float(net)
        mh.bytesPerKey = mh.totalKeys > 0 ? net / mh.totalKeys : 0
        return mh
    }
}
