import ApusCommands
import CSystemShims
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The integer of a `:n\r\n` reply, or nil.
private func integer(_ reply: String) -> Int? {
    guard reply.hasPrefix(":") else { return nil }
    return Int(reply.dropFirst().prefix { $0.isNumber || $0 == "-" })
}

/// The `name:value` fields of an INFO reply, in order.
private func infoFields(_ reply: String) -> [(String, String)] {
    reply.split(separator: "\r\n").compactMap { line -> (String, String)? in
        guard !line.hasPrefix("#"), !line.hasPrefix("$"), !line.hasPrefix("="),
              let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]))
    }
}

/// The top-level keys of a RESP2 MEMORY STATS reply (a flat array of name/value pairs).
private func statsNames(_ reply: String) -> [String] {
    // Names are bulk strings; values are integers, bulk doubles or nested arrays (db.N).
    var names: [String] = []
    let lines = reply.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
    var i = 1
    var expectName = true
    var nestedRemaining = 0
    while i < lines.count, !lines[i].isEmpty {
        let line = lines[i]
        if nestedRemaining > 0 {
            i += line.hasPrefix("$") ? 2 : 1
            nestedRemaining -= 1
            if nestedRemaining == 0 { expectName = true }
            continue
        }
        if expectName {
            names.append(lines[i + 1])
            i += 2
            expectName = false
        } else if line.hasPrefix("*") {
            nestedRemaining = Int(line.dropFirst())!
            i += 1
        } else {
            i += line.hasPrefix("$") ? 2 : 1
            expectName = true
        }
    }
    return names
}

@Suite struct MemoryCommandsTests {
    /// Redis 7.2's MEMORY STATS keys, in order (db.N entries after functions.caches).
    static let statsKeys = [
        "peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
        "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches",
        "functions.caches", "overhead.total", "keys.count", "keys.bytes-per-key", "dataset.bytes",
        "dataset.percentage", "peak.percentage", "allocator.allocated", "allocator.active",
        "allocator.resident", "allocator-fragmentation.ratio", "allocator-fragmentation.bytes",
        "allocator-rss.ratio", "allocator-rss.bytes", "rss-overhead.ratio", "rss-overhead.bytes",
        "fragmentation", "fragmentation.bytes",
        // Apus's eviction headroom after Redis's entries.
        "evictable.bytes", "evictable.keys", "evictable.ratio", "not-counted-for-evict.bytes",
    ]

    /// Redis 7.2's INFO memory fields, in order.
    static let infoMemoryFields = [
        "used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human",
        "used_memory_peak", "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead",
        "used_memory_startup", "used_memory_dataset", "used_memory_dataset_perc",
        "allocator_allocated", "allocator_active", "allocator_resident", "total_system_memory",
        "total_system_memory_human", "used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human",
        "used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
        "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
        "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
        "used_memory_scripts_human", "maxmemory", "maxmemory_human", "maxmemory_policy",
        "allocator_frag_ratio", "allocator_frag_bytes", "allocator_rss_ratio", "allocator_rss_bytes",
        "rss_overhead_ratio", "rss_overhead_bytes", "mem_fragmentation_ratio",
        "mem_fragmentation_bytes", "mem_not_counted_for_evict", "mem_replication_backlog",
        "mem_total_replication_buffers", "mem_clients_slaves", "mem_clients_normal",
        "mem_cluster_links", "mem_aof_buffer", "mem_allocator", "active_defrag_running",
        "lazyfree_pending_objects", "lazyfreed_objects",
    ]

    @Test func usageOfAMissingKeyIsNil() {
        let h = Harness()
        #expect(h.send("memory", "usage", "nokey") == "$-1\r\n")
        #expect(h.send("memory", "usage", "nokey", "samples", "0") == "$-1\r\n")
    }

    @Test func usageValidatesSamplesLikeRedis() {
        let h = Harness()
        h.send("set", "k", "v")
        #expect(h.send("memory", "usage", "k", "samples") == "-ERR syntax error\r\n")
        #expect(h.send("memory", "usage", "k", "foo", "1") == "-ERR syntax error\r\n")
        #expect(h.send("memory", "usage", "k", "samples", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("memory", "usage", "k", "samples", "-1") == "-ERR syntax error\r\n")
        #expect(integer(h.send("memory", "usage", "k", "SAMPLES", "0")) != nil)
        #expect(integer(h.send("memory", "usage", "k", "samples", "5", "samples", "10")) != nil)
        // Options are checked before the key is looked up, as in Redis.
        #expect(h.send("memory", "usage", "nokey", "samples", "-1") == "-ERR syntax error\r\n")
    }

    @Test func usageGrowsWithTheValue() {
        let h = Harness()
        h.send("set", "small", "x")
        h.send("set", "big", String(repeating: "x", count: 10_000))
        let small = integer(h.send("memory", "usage", "small"))!
        let big = integer(h.send("memory", "usage", "big"))!
        #expect(small > 0)
        #expect(big >= small + 10_000)
    }

    @Test func usageOfCollectionsGrowsWithTheirElements() {
        let h = Harness()
        for (type, add) in [("list", ["rpush"]), ("set", ["sadd"]), ("zset", ["zadd"]), ("hash", ["hset"])] {
            func grow(_ range: Range<Int>) {
                for i in range {
                    switch type {
                    case "zset": h.send(add + [type, "\(i)", "member:\(i)"])
                    case "hash": h.send(add + [type, "field:\(i)", "value:\(i)"])
                    default: h.send(add + [type, "element:\(i)"])
                    }
                }
            }
            grow(0..<10)
            let few = integer(h.send("memory", "usage", type))!
            grow(10..<2000)
            let many = integer(h.send("memory", "usage", type))!
            #expect(few > 0, "\(type)")
            // 1,990 more elements of 10+ bytes each, in any encoding.
            #expect(many > few + 1990 * 10, "\(type): \(few) -> \(many)")
        }
    }

    @Test func usageDoesNotCountAsAKeyspaceHit() {
        let h = Harness()
        h.send("set", "k", "v")
        h.send("memory", "usage", "k")
        h.send("memory", "usage", "nokey")
        let stats = infoFields(h.send("info", "stats"))
        #expect(stats.first { $0.0 == "keyspace_hits" }?.1 == "0")
        #expect(stats.first { $0.0 == "keyspace_misses" }?.1 == "0")
    }

    @Test func statsHasRedisKeysInOrderWithADatabaseEntryPerNonEmptyDatabase() {
        let h = Harness()
        #expect(statsNames(h.send("memory", "stats")) == Self.statsKeys)
        h.send("set", "k", "v")
        h.send("select", "3")
        h.send("set", "k", "v")
        var expected = Self.statsKeys
        expected.insert(contentsOf: ["db.0", "db.3"], at: 10)
        // Then one headroom entry per database holding keys (or with a db-maxmemory quota).
        expected += ["quota.db.0", "quota.db.3"]
        #expect(statsNames(h.send("memory", "stats")) == expected)
        let reply = h.send("memory", "stats")
        #expect(reply.hasPrefix("*\(expected.count * 2)\r\n"))
        #expect(reply.contains("$4\r\ndb.0\r\n*6\r\n$23\r\noverhead.hashtable.main\r\n:"))
        #expect(reply.contains("$10\r\nkeys.count\r\n:2\r\n"))
    }

    @Test func statsIsAMapInRESP3() {
        let h = Harness()
        h.send("hello", "3")
        h.send("set", "k", "v")
        let reply = h.send("memory", "stats")
        #expect(reply.hasPrefix("%\(Self.statsKeys.count + 2)\r\n"))
        #expect(reply.contains("$10\r\nquota.db.0\r\n%3\r\n$13\r\ndataset.bytes\r\n:"))
        #expect(reply.contains("$4\r\ndb.0\r\n%3\r\n"))
        #expect(reply.contains("$18\r\ndataset.percentage\r\n,"))
    }

    @Test func infoMemoryPrintsRedisFieldsInOrderThenApusFields() {
        let h = Harness()
        let names = infoFields(h.send("info", "memory")).map(\.0)
        #expect(Array(names.prefix(Self.infoMemoryFields.count)) == Self.infoMemoryFields)
        #expect(Array(names.dropFirst(Self.infoMemoryFields.count).prefix(2)) == ["apus_keyspace_entry_bytes", "apus_keyspace_table_bytes"])
    }

    /// Tests run in parallel in one process, so the process-wide figure moves with other tests;
    /// this thread's own slot moves only with what these commands (run synchronously here) do.
    @Test func usedMemoryFollowsAllocations() {
        let h = Harness()
        let used = Int(infoFields(h.send("info", "memory")).first { $0.0 == "used_memory" }!.1)!
        #expect(used > 0)
        let before = apus_thread_heap_balance()
        let value = String(repeating: "v", count: 4096)
        for i in 0..<1000 { h.send("set", "key:\(i)", value) }
        let after = apus_thread_heap_balance()
        // 1,000 blocks of 4 KB.
        #expect(after - before >= 4_000_000, "\(before) -> \(after)")
        h.send("flushall", "sync")
        #expect(apus_thread_heap_balance() < after - 4_000_000)
    }

    @Test func theCounterSeesEveryAllocationOfThisThread() {
        // In a test binary the wrappers are in effect too; if they were not, the counter
        // falls back to mallinfo2 and this test says so instead of failing obscurely.
        #expect(apus_used_memory_is_counted() == 1)
        let before = apus_thread_heap_balance()
        let p = malloc(100_000)!
        let during = apus_thread_heap_balance()
        free(p)
        let after = apus_thread_heap_balance()
        #expect(during - before >= 100_000)
        #expect(during - before < 100_000 + 4096)
        #expect(after == before)
        #expect(apus_used_memory() > 0)
    }

    /// The report depends on the whole process (other tests run beside this one): either
    /// Redis's "Hi Sam" texts or the list of issues, as verbatim text.
    @Test func doctorAnswersWithOneOfRedisReports() {
        let h = Harness()
        let reply = h.send("memory", "doctor")
        #expect(reply.contains("Hi Sam, ") || reply.contains("Sam, I detected a few issues in this Redis instance memory implants:\n\n"))
        #expect(reply.hasSuffix("\n\r\n"))
    }

    @Test func mallocStatsPurgeAndHelp() {
        let h = Harness()
        #expect(h.send("memory", "malloc-stats").contains("<malloc version="))
        #expect(h.send("memory", "purge") == "+OK\r\n")
        let help = h.send("memory", "help")
        #expect(help.hasPrefix("*14\r\n+MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+DOCTOR\r\n"))
        #expect(h.send("memory", "nosuch") == "-ERR unknown subcommand 'nosuch'. Try MEMORY HELP.\r\n")
        #expect(h.send("memory", "usage") == "-ERR wrong number of arguments for 'memory|usage' command\r\n")
        #expect(h.send("memory", "stats", "x") == "-ERR wrong number of arguments for 'memory|stats' command\r\n")
    }
}
