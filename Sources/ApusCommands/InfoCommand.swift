import ApusConfig
import ApusRESP
import ApusStore
import CSystemShims
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// INFO: Redis's sections and field names, so dashboards, exporters and clients parse it.
public enum InfoCommand {
    static let defaultSections: Set<String> = [
        "server", "clients", "memory", "persistence", "stats", "replication",
        "cpu", "module_list", "errorstats", "cluster", "keyspace",
    ]

    public static func register(into registry: CommandRegistry) {
        registry.register("info", info)
    }

    static func info(_ c: inout CommandContext) {
        var sections: Set<String> = []
        var all = false
        var everything = false
        if c.args.count == 1 {
            sections = defaultSections
        } else {
            for i in 1..<c.args.count {
                let name = c.string(i).lowercased()
                switch name {
                case "default": sections.formUnion(defaultSections)
                case "all": all = true
                case "everything": all = true; everything = true
                default: sections.insert(name)
                }
            }
        }
        let text = render(c.server, sections: sections, all: all, everything: everything, client: c.client)
        c.reply.verbatim(text)
    }

    /// Builds the INFO text for the given sections.
    public static func render(_ server: ServerContext, sections: Set<String>, all: Bool, everything: Bool,
                              client: ClientSession? = nil) -> String {
        // Heap in use before this reply's own text is built (Redis reads it before its sds grows
        // too), so `used_memory` does not count INFO's temporary strings.
        let used = Int(apus_used_memory())
        var out = ""
        var count = 0
        func section(_ name: String, _ title: String, _ body: () -> [(String, String)]) {
            guard all || sections.contains(name) else { return }
            if count > 0 { out += "\r\n" }
            count += 1
            out += "# \(title)\r\n"
            for (key, value) in body() { out += "\(key):\(value)\r\n" }
        }
        section("server", "Server") { serverFields(server) }
        section("clients", "Clients") { clientFields(server) }
        section("memory", "Memory") { memoryFields(server, used: used) + headroomFields(server) }
        section("persistence", "Persistence") { persistenceFields(server) }
        section("stats", "Stats") { statsFields(server) }
        section("replication", "Replication") { replicationFields(server) }
        section("cpu", "CPU") { cpuFields() }
        if all || sections.contains("module_list") || sections.contains("modules") {
            if count > 0 { out += "\r\n" }
            count += 1
            out += "# Modules\r\n"
        }
        section("commandstats", "Commandstats") { commandStats(server) }
        section("errorstats", "Errorstats") { errorStats(server) }
        // Redis prints the header even when latency-tracking is off (then with no lines).
        section("latencystats", "Latencystats") { latencyStats(server) }
        section("cluster", "Cluster") { [("cluster_enabled", "0")] }
        section("keyspace", "Keyspace") { keyspaceFields(server) }
        return out
    }

    // MARK: Sections

    static func serverFields(_ s: ServerContext) -> [(String, String)] {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        let now = currentTimeMillis()
        let uptime = (now - s.startTimeMillis) / 1000
        let hz = s.config.int("hz")
        let executable = CommandLine.arguments.first ?? ""
        return [
            ("redis_version", ServerInfo.redisVersion),
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", "0"),
            ("redis_build_id", "0"),
            ("redis_mode", "standalone"),
            ("os", "\(field(name.sysname)) \(field(name.release)) \(field(name.machine))"),
            ("arch_bits", "64"),
            ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", "epoll"),
            ("atomicvar_api", "c11-builtin"),
            ("gcc_version", "0.0.0"),
            ("process_id", "\(getpid())"),
            ("process_supervised", "no"),
            ("run_id", s.runID),
            ("tcp_port", "\(s.tcpPort)"),
            ("server_time_usec", "\(currentTimeMicros())"),
            ("uptime_in_seconds", "\(uptime)"),
            ("uptime_in_days", "\(uptime / 86400)"),
            ("hz", "\(hz)"),
            ("configured_hz", "\(hz)"),
            ("lru_clock", "\(lruClock(nowMillis: now))"),
            ("executable", executable),
            ("config_file", s.config.configFilePath ?? ""),
            ("io_threads_active", "0"),
            ("listener0", "name=tcp,bind=\(s.config.string("bind").split(separator: " ").joined(separator: ",bind=")),port=\(s.tcpPort)"),
            ("apus_version", ServerInfo.apusVersion),
            ("apus_event_loops", "\(s.workers.count)"),
            ("apus_shards_per_db", "\(s.keyspace.databases.first?.shards.count ?? 0)"),
        ]
    }

    static func clientFields(_ s: ServerContext) -> [(String, String)] {
        let clients = s.clients.all
        // Redis's clientsCronTrackExpansiveClients: query buffer plus argv, and omem (here the
        // clients' current numbers, where Redis keeps the peak of the last 8 seconds).
        let maxInput = clients.map { $0.memory.queryBufferCapacity + $0.memory.argumentBytes }.max() ?? 0
        let maxOutput = clients.map(\.memory.outputMemory).max() ?? 0
        return [
            ("connected_clients", "\(clients.count)"),
            ("cluster_connections", "0"),
            ("maxclients", "\(s.config.int("maxclients"))"),
            ("client_recent_max_input_buffer", "\(maxInput)"),
            ("client_recent_max_output_buffer", "\(maxOutput)"),
            ("blocked_clients", "\(s.blocking.blockedClients.load(ordering: .relaxed))"),
            ("tracking_clients", "\(s.tracking.clientCount)"),
            ("clients_in_timeout_table", "0"),
            ("total_blocking_keys", "\(s.blocking.blockingKeyCount)"),
            ("total_blocking_keys_on_nokey", "\(s.blocking.blockingKeyCount)"),
        ]
    }

    /// Redis's bytesToHuman: B, K, M, G, T, P with two decimals.
    public static func human(_ bytes: Int) -> String {
        let n = Double(bytes)
        if bytes < 1024 { return "\(bytes)B" }
        let units: [(Double, String)] = [(1024, "K"), (1024 * 1024, "M"), (1024 * 1024 * 1024, "G"),
                                         (1024.0 * 1024 * 1024 * 1024, "T"), (1024.0 * 1024 * 1024 * 1024 * 1024, "P")]
        var chosen = units[0]
        for unit in units where n >= unit.0 { chosen = unit }
        return String(format2: n / chosen.0) + chosen.1
    }

    static func memoryFields(_ s: ServerContext, used: Int? = nil) -> [(String, String)] {
        let mh = MemoryOverhead.compute(s, used: used)
        let used = mh.totalAllocated
        let rss = mh.rss
        let system = Int(apus_total_system_memory())
        let maxmemory = s.config.int("maxmemory")
        // Redis prints these ratios from C floats with %.2f.
        func ratio(_ value: Float) -> String { String(format2: Double(value)) }
        return [
            ("used_memory", "\(used)"),
            ("used_memory_human", human(used)),
            ("used_memory_rss", "\(rss)"),
            ("used_memory_rss_human", human(rss)),
            ("used_memory_peak", "\(mh.peakAllocated)"),
            ("used_memory_peak_human", human(mh.peakAllocated)),
            ("used_memory_peak_perc", ratio(mh.peakPercent) + "%"),
            ("used_memory_overhead", "\(mh.overheadTotal)"),
            ("used_memory_startup", "\(mh.startupAllocated)"),
            ("used_memory_dataset", "\(mh.dataset)"),
            ("used_memory_dataset_perc", ratio(mh.datasetPercent) + "%"),
            ("allocator_allocated", "\(mh.allocator.allocated)"),
            ("allocator_active", "\(mh.allocator.active)"),
            ("allocator_resident", "\(mh.allocator.resident)"),
            ("total_system_memory", "\(system)"),
            ("total_system_memory_human", human(system)),
            // No scripting engine yet: no Lua VM, no script or function caches.
            ("used_memory_lua", "0"),
            ("used_memory_vm_eval", "0"),
            ("used_memory_lua_human", "0B"),
            ("used_memory_scripts_eval", "\(mh.luaCaches)"),
            ("number_of_cached_scripts", "0"),
            ("number_of_functions", "\(s.functionsInfo.functions)"),
            ("number_of_libraries", "\(s.functionsInfo.libraries)"),
            ("used_memory_vm_functions", "\(s.functionsInfo.vmMemory)"),
            ("used_memory_vm_total", "\(s.functionsInfo.vmMemory)"),
            ("used_memory_vm_total_human", human(s.functionsInfo.vmMemory)),
            ("used_memory_functions", "\(mh.functionsCaches)"),
            ("used_memory_scripts", "\(mh.luaCaches + mh.functionsCaches)"),
            ("used_memory_scripts_human", human(mh.luaCaches + mh.functionsCaches)),
            ("maxmemory", "\(maxmemory)"),
            ("maxmemory_human", human(maxmemory)),
            ("maxmemory_policy", s.config.string("maxmemory-policy")),
            ("allocator_frag_ratio", ratio(mh.allocatorFragmentation)),
            ("allocator_frag_bytes", "\(mh.allocatorFragmentationBytes)"),
            ("allocator_rss_ratio", ratio(mh.allocatorRSS)),
            ("allocator_rss_bytes", "\(mh.allocatorRSSBytes)"),
            ("rss_overhead_ratio", ratio(mh.rssExtra)),
            ("rss_overhead_bytes", "\(mh.rssExtraBytes)"),
            // The total RSS overhead, not just fragmentation (Redis keeps the old name).
            ("mem_fragmentation_ratio", ratio(mh.totalFragmentation)),
            ("mem_fragmentation_bytes", "\(mh.totalFragmentationBytes)"),
            // Redis's freeMemoryGetNotCountedMemory leaves replica output buffers and the AOF
            // buffer out of eviction; Apus also client memory bursts (Evictor).
            ("mem_not_counted_for_evict", "\(mh.aofBuffer + s.eviction.notCountedMemory(s))"),
            ("mem_replication_backlog", "\(mh.replicationBacklog)"),
            ("mem_total_replication_buffers", "\(mh.replicationBacklog + mh.clientsReplicas)"),
            ("mem_clients_slaves", "\(mh.clientsReplicas)"),
            ("mem_clients_normal", "\(mh.clientsNormal)"),
            ("mem_cluster_links", "\(mh.clusterLinks)"),
            ("mem_aof_buffer", "\(mh.aofBuffer)"),
            ("mem_allocator", String(cString: apus_allocator_name())),
            ("active_defrag_running", "0"),
            ("lazyfree_pending_objects", "\(LazyFree.shared.pending.load(ordering: .relaxed))"),
            ("lazyfreed_objects", "\(LazyFree.shared.freed.load(ordering: .relaxed) - s.lazyfreedAtReset)"),
            ("apus_keyspace_entry_bytes", "\(mh.keyspaceEntryBytes)"),
            ("apus_keyspace_table_bytes", "\(mh.keyspaceTableBytes)"),
        ]
    }

    static func persistenceFields(_ s: ServerContext) -> [(String, String)] {
        let dirty = s.workers.reduce(0) { $0 + $1.dirty }
        return [
            ("loading", "0"), ("async_loading", "0"),
            ("current_cow_peak", "0"), ("current_cow_size", "0"), ("current_cow_size_age", "0"),
            ("current_fork_perc", "0.00"), ("current_save_keys_processed", "0"), ("current_save_keys_total", "0"),
            ("rdb_changes_since_last_save", "\(dirty)"),
            ("rdb_bgsave_in_progress", "0"),
            ("rdb_last_save_time", "\(s.startTimeMillis / 1000)"),
            ("rdb_last_bgsave_status", "ok"),
            ("rdb_last_bgsave_time_sec", "-1"), ("rdb_current_bgsave_time_sec", "-1"),
            ("rdb_saves", "0"), ("rdb_last_cow_size", "0"),
            ("rdb_last_load_keys_expired", "0"), ("rdb_last_load_keys_loaded", "0"),
            ("aof_enabled", "0"), ("aof_rewrite_in_progress", "0"), ("aof_rewrite_scheduled", "0"),
            ("aof_last_rewrite_time_sec", "-1"), ("aof_current_rewrite_time_sec", "-1"),
            ("aof_last_bgrewrite_status", "ok"), ("aof_rewrites", "0"), ("aof_rewrites_consecutive_failures", "0"),
            ("aof_last_write_status", "ok"), ("aof_last_cow_size", "0"),
            ("module_fork_in_progress", "0"), ("module_fork_last_cow_size", "0"),
        ]
    }

    static func statsFields(_ s: ServerContext) -> [(String, String)] {
        var commands = 0, input = 0, output = 0, errors = 0
        for w in s.workers {
            commands += w.commandsProcessed
            input += w.netInputBytes
            output += w.netOutputBytes
            errors += w.totalErrorReplies
        }
        var expired = 0
        for db in s.keyspace.databases { for shard in db.shards { expired += shard.expiredKeys } }
        return [
            ("total_connections_received", "\(s.clients.totalConnections)"),
            ("total_commands_processed", "\(commands)"),
            ("instantaneous_ops_per_sec", "\(Int(s.opsPerSecond.rate))"),
            ("total_net_input_bytes", "\(input)"),
            ("total_net_output_bytes", "\(output)"),
            ("total_net_repl_input_bytes", "0"), ("total_net_repl_output_bytes", "0"),
            ("instantaneous_input_kbps", String(format2: s.inputKbps.rate / 1024)),
            ("instantaneous_output_kbps", String(format2: s.outputKbps.rate / 1024)),
            ("instantaneous_input_repl_kbps", "0.00"), ("instantaneous_output_repl_kbps", "0.00"),
            ("rejected_connections", "\(s.clients.rejectedConnections)"),
            ("sync_full", "0"), ("sync_partial_ok", "0"), ("sync_partial_err", "0"),
            ("expired_keys", "\(expired)"),
            ("expired_stale_perc", String(format2: s.expireCycle.stalePercent * 100)),
            ("expired_time_cap_reached_count", "0"),
            ("expire_cycle_cpu_milliseconds", "\(s.expireCycle.cpuMicros / 1000)"),
            ("evicted_keys", "\(s.eviction.evictedKeys(s))"), ("evicted_clients", "\(s.clientMemory.evictedClients.load(ordering: .relaxed))"),
            ("total_eviction_exceeded_time", "\(s.eviction.exceededMillis(now: currentTimeMillis()).total)"),
            ("current_eviction_exceeded_time", "\(s.eviction.exceededMillis(now: currentTimeMillis()).current)"),
            ("keyspace_hits", "\(s.workers.reduce(0) { $0 + $1.keyspaceHits })"),
            ("keyspace_misses", "\(s.workers.reduce(0) { $0 + $1.keyspaceMisses })"),
            ("pubsub_channels", "\(s.pubsub.channelCount)"), ("pubsub_patterns", "\(s.pubsub.patternCount)"),
            ("pubsubshard_channels", "\(s.pubsub.shardChannelCount)"),
            ("latest_fork_usec", "0"), ("total_forks", "0"),
            ("migrate_cached_sockets", "0"), ("slave_expires_tracked_keys", "0"),
            ("active_defrag_hits", "0"), ("active_defrag_misses", "0"),
            ("active_defrag_key_hits", "0"), ("active_defrag_key_misses", "0"),
            ("total_active_defrag_time", "0"), ("current_active_defrag_time", "0"),
            ("tracking_total_keys", "\(s.tracking.totalKeys)"), ("tracking_total_items", "\(s.tracking.totalItems)"),
            ("tracking_total_prefixes", "\(s.tracking.totalPrefixes)"),
            ("unexpected_error_replies", "0"),
            ("total_error_replies", "\(errors)"),
            ("dump_payload_sanitizations", "0"),
            ("total_reads_processed", "\(commands)"),
            ("total_writes_processed", "\(commands)"),
            ("io_threaded_reads_processed", "0"), ("io_threaded_writes_processed", "0"),
            // Redis 7.4's counters (7.2 only logs these disconnections).
            ("client_query_buffer_limit_disconnections", "\(s.clientMemory.queryLimitDisconnections.load(ordering: .relaxed))"),
            ("client_output_buffer_limit_disconnections", "\(s.clientMemory.outputLimitDisconnections.load(ordering: .relaxed))"),
        ]
    }

    static func replicationFields(_ s: ServerContext) -> [(String, String)] {
        [
            ("role", "master"),
            ("connected_slaves", "0"),
            ("master_failover_state", "no-failover"),
            ("master_replid", s.runID),
            ("master_replid2", String(repeating: "0", count: 40)),
            ("master_repl_offset", "0"),
            ("second_repl_offset", "-1"),
            ("repl_backlog_active", "0"),
            ("repl_backlog_size", "\(s.config.int("repl-backlog-size"))"),
            ("repl_backlog_first_byte_offset", "0"),
            ("repl_backlog_histlen", "0"),
        ]
    }

    static func cpuFields() -> [(String, String)] {
        var selfUsage = rusage()
        var children = rusage()
        getrusage(RUSAGE_SELF.rawValue, &selfUsage)
        getrusage(RUSAGE_CHILDREN.rawValue, &children)
        // RUSAGE_THREAD (1): the cron thread stands in for Redis's "main thread".
        var thread = rusage()
        getrusage(1, &thread)
        func seconds(_ t: timeval) -> String { String(format6: Double(t.tv_sec) + Double(t.tv_usec) / 1e6) }
        return [
            ("used_cpu_sys", seconds(selfUsage.ru_stime)),
            ("used_cpu_user", seconds(selfUsage.ru_utime)),
            ("used_cpu_sys_children", seconds(children.ru_stime)),
            ("used_cpu_user_children", seconds(children.ru_utime)),
            ("used_cpu_sys_main_thread", seconds(thread.ru_stime)),
            ("used_cpu_user_main_thread", seconds(thread.ru_utime)),
        ]
    }

    static func commandStats(_ s: ServerContext) -> [(String, String)] {
        var rows: [(String, String)] = []
        for command in s.commands.all {
            var total = CommandCounters()
            for w in s.workers where command.id < w.commandCount {
                let c = w.counters[command.id]
                total.calls += c.calls
                total.microseconds += c.microseconds
                total.rejectedCalls += c.rejectedCalls
                total.failedCalls += c.failedCalls
            }
            guard total.calls > 0 || total.rejectedCalls > 0 || total.failedCalls > 0 else { continue }
            let perCall = total.calls > 0 ? Double(total.microseconds) / Double(total.calls) : 0
            rows.append(("cmdstat_\(command.spec.fullName)",
                         "calls=\(total.calls),usec=\(total.microseconds),usec_per_call=\(String(format2: perCall)),rejected_calls=\(total.rejectedCalls),failed_calls=\(total.failedCalls)"))
        }
        return rows.sorted { $0.0 < $1.0 }
    }

    /// `latency_percentiles_usec_<cmd>:p50=…,p99=…,p99.9=…` for every command timed since
    /// the last reset, merged over all event loops.
    static func latencyStats(_ s: ServerContext) -> [(String, String)] {
        let percentiles = s.config.latencyTrackingInfoPercentiles()
        var rows: [(String, String)] = []
        for command in s.commands.all {
            var merged: [UInt64]?
            for w in s.workers {
                guard let counts = w.latencyCounts(command.id) else { continue }
                if merged == nil {
                    merged = counts
                } else {
                    for i in counts.indices { merged![i] &+= counts[i] }
                }
            }
            guard let counts = merged else { continue }
            let fields = percentiles.map { p in
                "p\(percentileName(p))=" + fixedPoint(Double(LatencyHistogram.value(atPercentile: p, counts: counts)) / 1000.0, digits: 3)
            }
            rows.append(("latency_percentiles_usec_\(command.spec.fullName)", fields.joined(separator: ",")))
        }
        return rows.sorted { $0.0 < $1.0 }
    }

    /// Redis prints percentiles with `%f` and trims trailing zeros: 50, 99, 99.9.
    static func percentileName(_ p: Double) -> String {
        var text = fixedPoint(p, digits: 6)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    static func errorStats(_ s: ServerContext) -> [(String, String)] {
        var totals: [String: Int] = [:]
        for w in s.workers { totals.merge(w.errorCounts, uniquingKeysWith: +) }
        return totals.sorted { $0.key < $1.key }.map { ("errorstat_\($0.key)", "count=\($0.value)") }
    }

    /// Apus's eviction headroom: bytes and keys the current policy may evict (all keys for
    /// allkeys-*, keys with a TTL for volatile-*, none for noeviction) and their share of
    /// maxmemory, so "expires dangerously close to zero" is a number an alert can watch.
    static func headroomFields(_ s: ServerContext) -> [(String, String)] {
        let (bytes, keys) = s.eviction.evictableBytes(s)
        let maxmemory = s.eviction.settings.maxmemory
        let ratio = maxmemory > 0 ? String(format2: Double(bytes) / Double(maxmemory)) : "0.00"
        return [
            ("evictable_memory", "\(bytes)"),
            ("evictable_memory_human", human(bytes)),
            ("evictable_keys", "\(keys)"),
            ("evictable_memory_ratio", ratio),
        ]
    }

    static func keyspaceFields(_ s: ServerContext) -> [(String, String)] {
        var rows: [(String, String)] = []
        var memoryRows: [(String, String)] = []
        let settings = s.eviction.settings
        for db in s.keyspace.databases {
            let keys = db.keyCount
            let quota = db.index < settings.quotas.count ? settings.quotas[db.index] : 0
            if keys > 0 {
                rows.append(("db\(db.index)", "keys=\(keys),expires=\(db.expiresCount),avg_ttl=\(db.averageTTL)"))
            }
            // Apus: a database's dataset bytes, what the policy may evict from it, and its
            // db-maxmemory quota, on lines of their own so parsers of Redis's `dbN:` lines
            // (exporters split them into exactly these fields) are not disturbed.
            if keys > 0 || quota > 0 {
                let evictable = s.eviction.evictable(db, policy: settings.policy).bytes
                memoryRows.append(("apus_db\(db.index)",
                                   "used_memory=\(db.datasetBytes),evictable_memory=\(evictable),maxmemory=\(quota)"))
            }
        }
        return rows + memoryRows
    }
}

extension String {
    /// `%.2f` formatting without Foundation.
    init(format2 value: Double) { self = fixedPoint(value, digits: 2) }
    /// `%.6f` formatting without Foundation.
    init(format6 value: Double) { self = fixedPoint(value, digits: 6) }
}

/// Fixed-point rendering with `digits` decimals, rounding half away from zero like printf.
func fixedPoint(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
    guard scaled < 9e18 else { return "\(value)" }
    let n = Int(scaled)
    let whole = n / Int(scale)
    var fraction = String(n % Int(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return (negative && n != 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + fraction : "")
}

extension ServerContext {
    /// Raises the recorded peak to the current used_memory (or `used` when given).
    public func updatePeakMemory(_ used: Int? = nil) {
        let current = used ?? Int(apus_used_memory())
        var seen = peakMemory.load(ordering: .relaxed)
        while current > seen {
            let (exchanged, original) = peakMemory.compareExchange(expected: seen, desired: current, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }
}
