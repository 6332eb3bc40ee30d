// Every parameter of Redis 7.2's config table (config.c `static_configs`), in Redis's
// declaration order, which is also the order CONFIG GET and CONFIG REWRITE use here
// (Redis itself iterates a hash table, so its order is arbitrary and differs per run).
//
// "Redis applies: f" marks parameters whose change Redis acts on at once (its `apply`
// function). The registry only stores them; the server does the equivalent work in an
// `onChange` hook. Parameters Apus has no behaviour for are still accepted, stored,
// shown and rewritten, so existing redis.conf files and tooling keep working.
//
// Omitted: `req-res-logfile` and `client-default-resp`, which only exist in Redis
// builds made with LOG_REQ_RES (its test suite's reply-schema validation).

let maxmemoryPolicies = ConfigEnum(entries: [
    ("volatile-lru", 0 << 8 | 1), ("volatile-lfu", 1 << 8 | 2), ("volatile-random", 3 << 8),
    ("volatile-ttl", 2 << 8), ("allkeys-lru", 4 << 8 | 1 | 4), ("allkeys-lfu", 5 << 8 | 2 | 4),
    ("allkeys-random", 6 << 8 | 4), ("noeviction", 7 << 8),
])

/// syslog(3) facility codes, as in <syslog.h>.
let syslogFacilities = ConfigEnum(entries: [
    ("user", 1 << 3), ("local0", 16 << 3), ("local1", 17 << 3), ("local2", 18 << 3), ("local3", 19 << 3),
    ("local4", 20 << 3), ("local5", 21 << 3), ("local6", 22 << 3), ("local7", 23 << 3),
])

let logLevels = ConfigEnum(entries: [("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3), ("nothing", 4)])

let supervisedModes = ConfigEnum(entries: [("upstart", 3), ("systemd", 2), ("auto", 1), ("no", 0)])

let appendFsyncModes = ConfigEnum(entries: [("everysec", 2), ("always", 1), ("no", 0)])

/// Bit flags (`shutdown-on-sigint save now`).
let shutdownOnSignalFlags = ConfigEnum(entries: [("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)])

let replDisklessLoadModes = ConfigEnum(entries: [("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)])

let tlsAuthClientsModes = ConfigEnum(entries: [("no", 0), ("yes", 1), ("optional", 2)])

/// "yes" and "relative" are the same value; Redis prints it as "yes".
let oomScoreAdjModes = ConfigEnum(entries: [("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)])

let aclPubsubDefaults = ConfigEnum(entries: [("allchannels", 1 << 3), ("resetchannels", 0)])

let sanitizeDumpPayloadModes = ConfigEnum(entries: [("no", 0), ("yes", 1), ("clients", 2)])

/// For `enable-protected-configs`, `enable-debug-command`, `enable-module-command`.
let protectedActionModes = ConfigEnum(entries: [("no", 0), ("yes", 1), ("local", 2)])

let clusterEndpointTypes = ConfigEnum(entries: [("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)])

let propagationErrorBehaviors = ConfigEnum(entries: [("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)])

let configTable: [ConfigParameter] = [
    .bool("rdbchecksum", [.immutable], default: true),
    .bool("daemonize", [.immutable], default: false),
    .bool("io-threads-do-reads", [.debug, .immutable], default: false),
    .bool("always-show-logo", [.immutable], default: false),
    .bool("protected-mode", [], default: true),
    .bool("rdbcompression", [], default: true),
    .bool("rdb-del-sync-files", [], default: false),
    .bool("activerehashing", [], default: true),
    .bool("stop-writes-on-bgsave-error", [], default: true),
    .bool("set-proc-title", [.immutable], default: true),
    .bool("dynamic-hz", [], default: true),
    .bool("lazyfree-lazy-eviction", [.debug], default: false),
    .bool("lazyfree-lazy-expire", [.debug], default: false),
    .bool("lazyfree-lazy-server-del", [.debug], default: false),
    .bool("lazyfree-lazy-user-del", [.debug], default: false),
    .bool("lazyfree-lazy-user-flush", [.debug], default: false),
    .bool("repl-disable-tcp-nodelay", [], default: false),
    .bool("repl-diskless-sync", [.debug], default: true),
    .bool("aof-rewrite-incremental-fsync", [], default: true),
    .bool("no-appendfsync-on-rewrite", [], default: false),
    .bool("cluster-require-full-coverage", [], default: true),
    .bool("rdb-save-incremental-fsync", [], default: true),
    .bool("aof-load-truncated", [], default: true),
    .bool("aof-use-rdb-preamble", [], default: true),
    .bool("aof-timestamp-enabled", [], default: false),
    .bool("cluster-replica-no-failover", alias: "cluster-slave-no-failover", [], default: false), // Redis applies: updateClusterFlags
    .bool("replica-lazy-flush", alias: "slave-lazy-flush", [], default: false),
    .bool("replica-serve-stale-data", alias: "slave-serve-stale-data", [], default: true),
    .bool("replica-read-only", alias: "slave-read-only", [.debug], default: true),
    .bool("replica-ignore-maxmemory", alias: "slave-ignore-maxmemory", [], default: true),
    .bool("jemalloc-bg-thread", [], default: true), // Redis applies: updateJemallocBgThread
    .bool("activedefrag", [.debug], default: false, validation: .activeDefrag),
    .bool("syslog-enabled", [.immutable], default: false),
    .bool("cluster-enabled", [.immutable], default: false),
    .bool("appendonly", [.denyLoading], default: false), // Redis applies: updateAppendonly
    .bool("cluster-allow-reads-when-down", [], default: false),
    .bool("cluster-allow-pubsubshard-when-down", [], default: true),
    .bool("crash-log-enabled", [], default: true), // Redis applies: updateSighandlerEnabled
    .bool("crash-memcheck-enabled", [], default: true),
    .bool("use-exit-on-panic", [.hidden], default: false),
    .bool("disable-thp", [.immutable], default: true),
    .bool("cluster-allow-replica-migration", [], default: true),
    .bool("replica-announced", [], default: true),
    .bool("latency-tracking", [], default: true),
    .bool("aof-disable-auto-gc", [.hidden], default: false), // Redis applies: updateAofAutoGCEnabled
    .bool("replica-ignore-disk-write-errors", [], default: false),
    .string("aclfile", [.immutable], default: "", emptyIsNull: false),
    .string("unixsocket", [.immutable], default: nil, emptyIsNull: true),
    .string("pidfile", [.immutable], default: nil, emptyIsNull: true),
    .string("replica-announce-ip", alias: "slave-announce-ip", [], default: nil, emptyIsNull: true),
    .string("masteruser", [.sensitive], default: nil, emptyIsNull: true),
    .string("cluster-announce-ip", [], default: nil, emptyIsNull: true), // Redis applies: updateClusterIp
    .string("cluster-config-file", [.immutable], default: "nodes.conf", emptyIsNull: false),
    .string("cluster-announce-hostname", [], default: nil, emptyIsNull: true, validation: .hostname), // Redis applies: updateClusterHostname
    .string("cluster-announce-human-nodename", [], default: nil, emptyIsNull: true, validation: .humanNodename), // Redis applies: updateClusterHumanNodename
    .string("syslog-ident", [.immutable], default: "redis", emptyIsNull: false),
    .string("dbfilename", [.protected], default: "dump.rdb", emptyIsNull: false, validation: .dbFilename),
    .string("appendfilename", [.immutable], default: "appendonly.aof", emptyIsNull: false, validation: .aofFilename),
    .string("appenddirname", [.immutable], default: "appendonlydir", emptyIsNull: false, validation: .aofDirname),
    .string("server_cpulist", [.immutable], default: nil, emptyIsNull: true),
    .string("bio_cpulist", [.immutable], default: nil, emptyIsNull: true),
    .string("aof_rewrite_cpulist", [.immutable], default: nil, emptyIsNull: true),
    .string("bgsave_cpulist", [.immutable], default: nil, emptyIsNull: true),
    .string("ignore-warnings", [], default: "", emptyIsNull: false),
    .string("proc-title-template", [], default: "{title} {listen-addr} {server-mode}", emptyIsNull: false, validation: .procTitleTemplate), // Redis applies: updateProcTitleTemplate
    .string("bind-source-addr", [], default: nil, emptyIsNull: true),
    .string("logfile", [.immutable], default: "", emptyIsNull: false),
    .string("locale-collate", [], default: "", emptyIsNull: false), // Redis applies: updateLocaleCollate
    .string("masterauth", [.sensitive], default: nil, emptyIsNull: true),
    .string("requirepass", [.sensitive], default: nil, emptyIsNull: true), // Redis applies: updateRequirePass
    .enumeration("supervised", [.immutable], supervisedModes, default: 0),
    .enumeration("syslog-facility", [.immutable], syslogFacilities, default: 128 /* LOG_LOCAL0 */),
    .enumeration("repl-diskless-load", [.debug, .denyLoading], replDisklessLoadModes, default: 0),
    .enumeration("loglevel", [], logLevels, default: 2),
    .enumeration("maxmemory-policy", [], maxmemoryPolicies, default: 7 << 8 /* noeviction */),
    .enumeration("appendfsync", [], appendFsyncModes, default: 2), // Redis applies: updateAppendFsync
    .enumeration("oom-score-adj", [], oomScoreAdjModes, default: 0), // Redis applies: updateOOMScoreAdj
    .enumeration("acl-pubsub-default", [], aclPubsubDefaults, default: 0),
    .enumeration("sanitize-dump-payload", [.debug], sanitizeDumpPayloadModes, default: 0),
    .enumeration("enable-protected-configs", [.immutable], protectedActionModes, default: 0),
    .enumeration("enable-debug-command", [.immutable], protectedActionModes, default: 0),
    .enumeration("enable-module-command", [.immutable], protectedActionModes, default: 0),
    .enumeration("cluster-preferred-endpoint-type", [], clusterEndpointTypes, default: 0),
    .enumeration("propagation-error-behavior", [], propagationErrorBehaviors, default: 0),
    .enumeration("shutdown-on-sigint", [.multiArgument], shutdownOnSignalFlags, default: 0, validation: .shutdownFlags),
    .enumeration("shutdown-on-sigterm", [.multiArgument], shutdownOnSignalFlags, default: 0, validation: .shutdownFlags),
    .numeric("databases", [.immutable], .int, 1...Int64(Int32.max), default: 16, .integer),
    .numeric("port", [], .int, 0...65535, default: 6379, .integer), // Redis applies: updatePort
    .numeric("io-threads", [.debug, .immutable], .int, 1...128, default: 1, .integer),
    .numeric("auto-aof-rewrite-percentage", [], .int, 0...Int64(Int32.max), default: 100, .integer),
    .numeric("cluster-replica-validity-factor", alias: "cluster-slave-validity-factor", [], .int, 0...Int64(Int32.max), default: 10, .integer),
    .numeric("list-max-listpack-size", alias: "list-max-ziplist-size", [], .int, Int64(Int32.min)...Int64(Int32.max), default: -2, .integer),
    .numeric("tcp-keepalive", [], .int, 0...Int64(Int32.max), default: 300, .integer),
    .numeric("cluster-migration-barrier", [], .int, 0...Int64(Int32.max), default: 1, .integer),
    .numeric("active-defrag-cycle-min", [], .int, 1...99, default: 1, .integer),
    .numeric("active-defrag-cycle-max", [], .int, 1...99, default: 25, .integer),
    .numeric("active-defrag-threshold-lower", [], .int, 0...1000, default: 10, .integer),
    .numeric("active-defrag-threshold-upper", [], .int, 0...1000, default: 100, .integer),
    .numeric("lfu-log-factor", [], .int, 0...Int64(Int32.max), default: 10, .integer),
    .numeric("lfu-decay-time", [], .int, 0...Int64(Int32.max), default: 1, .integer),
    .numeric("replica-priority", alias: "slave-priority", [], .int, 0...Int64(Int32.max), default: 100, .integer),
    .numeric("repl-diskless-sync-delay", [], .int, 0...Int64(Int32.max), default: 5, .integer),
    .numeric("maxmemory-samples", [], .int, 1...Int64(Int32.max), default: 5, .integer),
    .numeric("maxmemory-eviction-tenacity", [], .int, 0...100, default: 10, .integer),
    // Apus: per-database memory quotas, `db-maxmemory <db> <bytes> [<db> <bytes> ...]`.
    .string("db-maxmemory", [.multiArgument], default: "", emptyIsNull: false, validation: .databaseQuotas),
    .numeric("timeout", [], .int, 0...Int64(Int32.max), default: 0, .integer),
    .numeric("replica-announce-port", alias: "slave-announce-port", [], .int, 0...65535, default: 0, .integer),
    .numeric("tcp-backlog", [.immutable], .int, 0...Int64(Int32.max), default: 511, .integer),
    .numeric("cluster-port", [.immutable], .int, 0...65535, default: 0, .integer),
    .numeric("cluster-announce-bus-port", [], .int, 0...65535, default: 0, .integer), // Redis applies: updateClusterAnnouncedPort
    .numeric("cluster-announce-port", [], .int, 0...65535, default: 0, .integer), // Redis applies: updateClusterAnnouncedPort
    .numeric("cluster-announce-tls-port", [], .int, 0...65535, default: 0, .integer), // Redis applies: updateClusterAnnouncedPort
    .numeric("repl-timeout", [], .int, 1...Int64(Int32.max), default: 60, .integer),
    .numeric("repl-ping-replica-period", alias: "repl-ping-slave-period", [], .int, 1...Int64(Int32.max), default: 10, .integer),
    .numeric("list-compress-depth", [.debug], .int, 0...Int64(Int32.max), default: 0, .integer),
    .numeric("rdb-key-save-delay", [.hidden], .int, Int64(Int32.min)...Int64(Int32.max), default: 0, .integer),
    .numeric("key-load-delay", [.hidden], .int, Int64(Int32.min)...Int64(Int32.max), default: 0, .integer),
    .numeric("active-expire-effort", [], .int, 1...10, default: 1, .integer),
    .numeric("hz", [], .int, 0...Int64(Int32.max), default: 10, .integer), // Redis applies: updateHZ
    .numeric("min-replicas-to-write", alias: "min-slaves-to-write", [], .int, 0...Int64(Int32.max), default: 0, .integer), // Redis applies: updateGoodSlaves
    .numeric("min-replicas-max-lag", alias: "min-slaves-max-lag", [], .int, 0...Int64(Int32.max), default: 10, .integer), // Redis applies: updateGoodSlaves
    .numeric("watchdog-period", [.hidden], .int, 0...Int64(Int32.max), default: 0, .integer), // Redis applies: updateWatchdogPeriod
    .numeric("shutdown-timeout", [], .int, 0...Int64(Int32.max), default: 10, .integer),
    .numeric("repl-diskless-sync-max-replicas", [], .int, 0...Int64(Int32.max), default: 0, .integer),
    .numeric("maxclients", [], .uint, 1...Int64(UInt32.max), default: 10000, .integer), // Redis applies: updateMaxclients
    .numeric("unixsocketperm", [.immutable], .uint, 0...0o777, default: 0, .octal),
    .numeric("socket-mark-id", [.immutable], .uint, 0...Int64(UInt32.max), default: 0, .integer),
    .numeric("active-defrag-max-scan-fields", [], .ulong, 1...Int64.max, default: 1000, .integer),
    .numeric("slowlog-max-len", [], .ulong, 0...Int64.max, default: 128, .integer),
    .numeric("acllog-max-len", [], .ulong, 0...Int64.max, default: 128, .integer),
    .numeric("busy-reply-threshold", alias: "lua-time-limit", [], .longLong, 0...Int64.max, default: 5000, .integer),
    .numeric("cluster-node-timeout", [], .longLong, 0...Int64.max, default: 15000, .integer),
    .numeric("cluster-ping-interval", [.hidden], .longLong, 0...Int64.max, default: 0, .integer),
    .numeric("slowlog-log-slower-than", [], .longLong, -1...Int64.max, default: 10000, .integer),
    .numeric("latency-monitor-threshold", [], .longLong, 0...Int64.max, default: 0, .integer),
    .numeric("proto-max-bulk-len", [.debug], .longLong, 1048576...Int64.max, default: 536870912, .memory),
    .numeric("stream-node-max-entries", [], .longLong, 0...Int64.max, default: 100, .integer),
    .numeric("repl-backlog-size", [], .longLong, 1...Int64.max, default: 1048576, .memory), // Redis applies: updateReplBacklogSize
    .numeric("maxmemory", [], .ulongLong, lower: 0, upper: -1 /* ULLONG_MAX */, default: 0, .memory), // Redis applies: updateMaxmemory
    .numeric("cluster-link-sendbuf-limit", [], .ulongLong, lower: 0, upper: -1 /* ULLONG_MAX */, default: 0, .memory),
    .numeric("hash-max-listpack-entries", alias: "hash-max-ziplist-entries", [], .sizeT, 0...Int64.max, default: 512, .integer),
    .numeric("set-max-intset-entries", [], .sizeT, 0...Int64.max, default: 512, .integer),
    .numeric("set-max-listpack-entries", [], .sizeT, 0...Int64.max, default: 128, .integer),
    .numeric("set-max-listpack-value", [], .sizeT, 0...Int64.max, default: 64, .integer),
    .numeric("zset-max-listpack-entries", alias: "zset-max-ziplist-entries", [], .sizeT, 0...Int64.max, default: 128, .integer),
    .numeric("active-defrag-ignore-bytes", [], .sizeT, 1...Int64.max, default: 104857600, .memory),
    .numeric("hash-max-listpack-value", alias: "hash-max-ziplist-value", [], .sizeT, 0...Int64.max, default: 64, .memory),
    .numeric("stream-node-max-bytes", [], .sizeT, 0...Int64.max, default: 4096, .memory),
    .numeric("zset-max-listpack-value", alias: "zset-max-ziplist-value", [], .sizeT, 0...Int64.max, default: 64, .memory),
    .numeric("hll-sparse-max-bytes", [], .sizeT, 0...Int64.max, default: 3000, .memory),
    .numeric("tracking-table-max-keys", [], .sizeT, 0...Int64.max, default: 1000000, .integer),
    .numeric("client-query-buffer-limit", [.debug], .sizeT, 1048576...Int64.max, default: 1073741824, .memory),
    .numeric("maxmemory-clients", [], .ssizeT, -100...Int64.max, default: 0, .memoryOrPercent), // Redis applies: applyClientMaxMemoryUsage
    .numeric("repl-backlog-ttl", [], .timeT, 0...Int64.max, default: 3600, .integer),
    .numeric("auto-aof-rewrite-min-size", [], .offT, 0...Int64.max, default: 67108864, .memory),
    .numeric("loading-process-events-interval-bytes", [.hidden], .offT, 1024...Int64(Int32.max), default: 2097152, .integer),
    .numeric("tls-port", [], .int, 0...65535, default: 0, .integer), // Redis applies: applyTLSPort
    .numeric("tls-session-cache-size", [], .int, 0...Int64(Int32.max), default: 20480, .integer), // Redis applies: applyTlsCfg
    .numeric("tls-session-cache-timeout", [], .int, 0...Int64(Int32.max), default: 300, .integer), // Redis applies: applyTlsCfg
    .bool("tls-cluster", [], default: false), // Redis applies: applyTlsCfg
    .bool("tls-replication", [], default: false), // Redis applies: applyTlsCfg
    .enumeration("tls-auth-clients", [], tlsAuthClientsModes, default: 1),
    .bool("tls-prefer-server-ciphers", [], default: false), // Redis applies: applyTlsCfg
    .bool("tls-session-caching", [], default: true), // Redis applies: applyTlsCfg
    .string("tls-cert-file", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-key-file", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-key-file-pass", [], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-client-cert-file", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-client-key-file", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-client-key-file-pass", [], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-dh-params-file", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-ca-cert-file", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-ca-cert-dir", [.volatile], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-protocols", [], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-ciphers", [], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .string("tls-ciphersuites", [], default: nil, emptyIsNull: true), // Redis applies: applyTlsCfg
    .special("dir", [.protected, .denyLoading], .dir),
    .special("save", [.multiArgument], .save),
    .special("client-output-buffer-limit", [.multiArgument], .clientOutputBufferLimit),
    .special("oom-score-adj-values", [.multiArgument], .oomScoreAdjValues), // Redis applies: updateOOMScoreAdj
    .special("notify-keyspace-events", [], .notifyKeyspaceEvents),
    .special("bind", [.multiArgument], .bind), // Redis applies: applyBind
    .special("replicaof", alias: "slaveof", [.immutable, .multiArgument], .replicaOf),
    .special("latency-tracking-info-percentiles", [.multiArgument], .latencyTrackingInfoPercentiles),
]
