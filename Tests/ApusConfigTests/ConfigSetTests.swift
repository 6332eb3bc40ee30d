import Synchronization
import Testing
@testable import ApusConfig

/// The error CONFIG SET gives, or "OK".
private func reply(_ registry: ConfigRegistry, _ arguments: String...) -> String {
    do {
        try registry.set(arguments: arguments)
        return "OK"
    } catch {
        return error.message
    }
}

private func value(_ registry: ConfigRegistry, _ name: String) -> String? {
    registry.get(patterns: [name]).first?.value
}

private func failed(_ name: String, _ reason: String) -> String {
    "ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)"
}

@Suite struct MemoryUnitTests {
    @Test(arguments: [
        ("0", 0), ("1", 1), ("100", 100), ("1b", 1), ("1k", 1000), ("1K", 1000), ("1kb", 1024), ("1KB", 1024),
        ("1kB", 1024), ("1m", 1_000_000), ("1mb", 1_048_576), ("1MB", 1_048_576), ("1g", 1_000_000_000),
        ("1gb", 1_073_741_824), ("2GB", 2_147_483_648), ("", 0), ("kb", 0),
    ])
    func acceptsRedisMemoryUnits(text: String, bytes: Int) {
        #expect(parseMemory(text) == bytes)
    }

    @Test(arguments: ["-1", "1.5mb", " 1", "1 ", "+1", "1tb", "1kbb", "one", "1e3", "1 kb"])
    func refusesWhatRedisRefuses(text: String) {
        #expect(parseMemory(text) == nil)
    }

    @Test func hugeAmountsSaturateLikeRedis() {
        #expect(parseMemory("99999999999999999999999") == nil)  // beyond Int
        let registry = ConfigRegistry()
        #expect(reply(registry, "maxmemory", "99999999999999999999999") == "OK")
        #expect(value(registry, "maxmemory") == "18446744073709551615")
        #expect(registry.int("maxmemory") == Int.max)
    }

    @Test func memoryParametersPrintPlainBytes() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "maxmemory", "1gb") == "OK")
        #expect(value(registry, "maxmemory") == "1073741824")
        #expect(registry.int("maxmemory") == 1 << 30)
        #expect(reply(registry, "maxmemory", "1k") == "OK")
        #expect(value(registry, "maxmemory") == "1000")
        #expect(reply(registry, "maxmemory", "") == "OK")
        #expect(value(registry, "maxmemory") == "0")
        #expect(reply(registry, "hash-max-ziplist-value", "1kb") == "OK")
        #expect(value(registry, "hash-max-listpack-value") == "1024")
    }

    @Test func maxmemoryClientsTakesPercentages() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "maxmemory-clients", "10%") == "OK")
        #expect(value(registry, "maxmemory-clients") == "10%")
        #expect(registry.int("maxmemory-clients") == -10)
        #expect(reply(registry, "maxmemory-clients", "101%")
            == failed("maxmemory-clients", "percentage argument must be less or equal to 100"))
        #expect(reply(registry, "maxmemory-clients", "-5")
            == failed("maxmemory-clients", "argument must be a memory or percent value"))
        #expect(reply(registry, "maxmemory-clients", "1mb") == "OK")
        #expect(value(registry, "maxmemory-clients") == "1048576")
    }
}

@Suite struct ConfigSetTests {
    @Test func refusalsUseRedisErrorStrings() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "maxmemory", "foo") == failed("maxmemory", "argument must be a memory value"))
        // The reported name is the parameter's, not the client's spelling...
        #expect(reply(registry, "MAXMEMORY", "foo") == failed("maxmemory", "argument must be a memory value"))
        #expect(reply(registry, "port", "abc") == failed("port", "argument couldn't be parsed into an integer"))
        #expect(reply(registry, "port", "70000") == failed("port", "argument must be between 0 and 65535 inclusive"))
        #expect(reply(registry, "maxmemory-samples", "010") == failed("maxmemory-samples", "argument couldn't be parsed into an integer"))
        #expect(reply(registry, "maxclients", "-1") == failed("maxclients", "argument must be between 1 and 4294967295 inclusive"))
        #expect(reply(registry, "set-max-intset-entries", "-1")
            == failed("set-max-intset-entries", "argument must be between 0 and 9223372036854775807 inclusive"))
        #expect(reply(registry, "hash-max-ziplist-value", "99999999999999999999")
            == failed("hash-max-ziplist-value", "argument must be between 0 and 9223372036854775807 inclusive"))
        #expect(reply(registry, "proto-max-bulk-len", "1")
            == failed("proto-max-bulk-len", "argument must be between 1048576 and 9223372036854775807 inclusive"))
        #expect(reply(registry, "slowlog-log-slower-than", "-2")
            == failed("slowlog-log-slower-than", "argument must be between -1 and 9223372036854775807 inclusive"))
        // ...except for immutable/protected refusals, which echo the client's spelling.
        #expect(reply(registry, "DAEMONIZE", "yes") == failed("DAEMONIZE", "can't set immutable config"))
        #expect(reply(registry, "dir", "/tmp") == failed("dir", "can't set protected config"))
        #expect(reply(registry, "dbfilename", "x.rdb") == failed("dbfilename", "can't set protected config"))
        #expect(reply(registry, "replicaof", "127.0.0.1 1") == failed("replicaof", "can't set immutable config"))
        #expect(reply(registry, "foo", "bar") == "ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        #expect(reply(registry, "maxmemory") == "ERR syntax error")
    }

    @Test func boolAndEnumValidation() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "appendonly", "maybe") == failed("appendonly", "argument must be 'yes' or 'no'"))
        #expect(reply(registry, "appendonly", "YES") == "OK")
        #expect(value(registry, "appendonly") == "yes")
        #expect(registry.bool("appendonly"))
        #expect(reply(registry, "maxmemory-policy", "foo") == failed("maxmemory-policy",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"))
        #expect(reply(registry, "maxmemory-policy", "ALLKEYS-LRU") == "OK")
        #expect(value(registry, "maxmemory-policy") == "allkeys-lru")
        #expect(reply(registry, "loglevel", "WARNING") == "OK")
        #expect(value(registry, "loglevel") == "warning")
        // "relative" is another name for "yes".
        #expect(reply(registry, "oom-score-adj", "relative") == "OK")
        #expect(value(registry, "oom-score-adj") == "yes")
    }

    @Test func bitFlagEnums() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "shutdown-on-sigint", "now save") == "OK")
        #expect(value(registry, "shutdown-on-sigint") == "save now")
        #expect(reply(registry, "shutdown-on-sigint", "save nosave")
            == failed("shutdown-on-sigint", "shutdown options SAVE and NOSAVE can't be used simultaneously"))
        #expect(reply(registry, "shutdown-on-sigint", "foo")
            == failed("shutdown-on-sigint", "argument(s) must be one of the following: default, save, nosave, now, force"))
        #expect(value(registry, "shutdown-on-sigint") == "save now")
    }

    @Test func multiPairSetIsAtomic() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "maxmemory", "10mb", "timeout", "x", "port", "7000")
            == failed("timeout", "argument couldn't be parsed into an integer"))
        #expect(value(registry, "maxmemory") == "0")
        #expect(registry.int("maxmemory") == 0)
        #expect(value(registry, "port") == "6379")
        #expect(reply(registry, "maxmemory", "10mb", "timeout", "30", "port", "7000") == "OK")
        #expect(registry.int("maxmemory") == 10 << 20)
        #expect(registry.int("timeout") == 30)
        #expect(registry.int("port") == 7000)
    }

    @Test func nameProblemsAreFoundBeforeAnyValueIsParsed() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "foo", "bar", "daemonize", "yes") == "ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
        #expect(reply(registry, "daemonize", "yes", "foo", "bar") == failed("daemonize", "can't set immutable config"))
        #expect(reply(registry, "maxmemory", "x", "daemonize", "yes") == failed("daemonize", "can't set immutable config"))
        #expect(reply(registry, "maxmemory", "1", "maxmemory", "2") == failed("maxmemory", "duplicate parameter"))
        #expect(reply(registry, "MAXMEMORY", "1", "maxmemory", "2") == failed("maxmemory", "duplicate parameter"))
        #expect(value(registry, "maxmemory") == "0")
    }

    @Test func aliasesShareTheValue() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "slave-read-only", "no") == "OK")
        #expect(value(registry, "replica-read-only") == "no")
        #expect(value(registry, "slave-read-only") == "no")
        #expect(registry.bool("replica-read-only") == false)
        #expect(reply(registry, "hash-max-ziplist-entries", "7") == "OK")
        #expect(registry.int("hash-max-listpack-entries") == 7)
        #expect(reply(registry, "list-max-ziplist-size", "-3") == "OK")
        #expect(value(registry, "list-max-listpack-size") == "-3")
        #expect(reply(registry, "lua-time-limit", "100") == "OK")
        #expect(value(registry, "busy-reply-threshold") == "100")
        // A primary name and its alias are different parameters to the duplicate check.
        #expect(reply(registry, "replica-read-only", "yes", "slave-read-only", "no") == "OK")
        #expect(value(registry, "replica-read-only") == "no")
    }

    @Test func hzIsCappedNotRefused() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "hz", "1000") == "OK")
        #expect(value(registry, "hz") == "500")
        #expect(reply(registry, "hz", "0") == "OK")
        #expect(value(registry, "hz") == "1")
    }

    @Test func saveRules() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "save", "3600 1 300 100") == "OK")
        #expect(value(registry, "save") == "3600 1 300 100")
        #expect(registry.saveRules() == [SaveRule(seconds: 3600, changes: 1), SaveRule(seconds: 300, changes: 100)])
        #expect(reply(registry, "save", "3600 1  300 100") == failed("save", "Invalid save parameters"))
        #expect(reply(registry, "save", "3600 1 300") == failed("save", "Invalid save parameters"))
        #expect(reply(registry, "save", "0 1") == failed("save", "Invalid save parameters"))
        #expect(reply(registry, "save", "10 0") == "OK")
        #expect(value(registry, "save") == "10 0")
        #expect(reply(registry, "save", "") == "OK")
        #expect(value(registry, "save") == "")
        #expect(registry.saveRules().isEmpty)
    }

    @Test func specialParameters() {
        let registry = ConfigRegistry()
        #expect(reply(registry, "client-output-buffer-limit", "normal 1mb 2mb 3 replica 1 2 3") == "OK")
        #expect(value(registry, "client-output-buffer-limit") == "normal 1048576 2097152 3 slave 1 2 3 pubsub 33554432 8388608 60")
        #expect(reply(registry, "client-output-buffer-limit", "master 1 2 3")
            == failed("client-output-buffer-limit", "Invalid client class specified in buffer limit configuration."))
        #expect(reply(registry, "client-output-buffer-limit", "normal 1 2")
            == failed("client-output-buffer-limit", "Wrong number of arguments in buffer limit configuration."))
        #expect(reply(registry, "client-output-buffer-limit", "normal x 2 3")
            == failed("client-output-buffer-limit", "Error in hard, soft or soft_seconds setting in buffer limit configuration."))

        #expect(reply(registry, "notify-keyspace-events", "KEA") == "OK")
        #expect(value(registry, "notify-keyspace-events") == "AKE")
        #expect(reply(registry, "notify-keyspace-events", "Ex") == "OK")
        #expect(value(registry, "notify-keyspace-events") == "xE")
        #expect(registry.keyspaceEvents() == [.expired, .keyevent])
        #expect(reply(registry, "notify-keyspace-events", "K E")
            == failed("notify-keyspace-events", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."))

        #expect(reply(registry, "oom-score-adj-values", "0 200") == failed("oom-score-adj-values", "wrong number of arguments"))
        #expect(reply(registry, "oom-score-adj-values", "0 200 3000")
            == failed("oom-score-adj-values", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."))
        #expect(reply(registry, "oom-score-adj-values", "-100 100 900") == "OK")
        #expect(registry.oomScoreAdjValues() == [-100, 100, 900])

        #expect(reply(registry, "latency-tracking-info-percentiles", "50 99.999 100") == "OK")
        #expect(value(registry, "latency-tracking-info-percentiles") == "50 99.999 100")
        #expect(reply(registry, "latency-tracking-info-percentiles", "101") == failed("latency-tracking-info-percentiles",
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"))
        #expect(reply(registry, "latency-tracking-info-percentiles", "abc")
            == failed("latency-tracking-info-percentiles", "Invalid latency-tracking-info-percentiles parameters"))
        #expect(value(registry, "latency-tracking-info-percentiles") == "50 99.999 100")

        #expect(reply(registry, "bind", "127.0.0.1 ::1") == "OK")
        #expect(registry.bindAddresses() == ["127.0.0.1", "::1"])
        #expect(reply(registry, "bind", "") == "OK")
        #expect(registry.bindAddresses() == [])
    }

    @Test func stringValidations() {
        let registry = ConfigRegistry()
        let template = "template format is invalid or contains unknown variables"
        #expect(reply(registry, "proc-title-template", "{foo}") == failed("proc-title-template", template))
        #expect(reply(registry, "proc-title-template", "{server-mode}") == failed("proc-title-template", template))
        #expect(reply(registry, "proc-title-template", "{title") == failed("proc-title-template", template))
        #expect(reply(registry, "proc-title-template", "{title} {port} {{x}") == "OK")
        #expect(reply(registry, "cluster-announce-hostname", "a_b")
            == failed("cluster-announce-hostname", "Hostnames may only contain alphanumeric characters, hyphens or dots"))
        #expect(reply(registry, "cluster-announce-human-nodename", "a#b")
            == failed("cluster-announce-human-nodename", "Announced human node name contained invalid character"))
        #expect(reply(registry, "cluster-announce-human-nodename", "a b") == "OK")
        #expect(reply(registry, "activedefrag", "yes") == failed("activedefrag",
            "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"))
        #expect(reply(registry, "requirepass", "") == "OK")
        #expect(value(registry, "requirepass") == "")
        #expect(reply(registry, "locale-collate", "no-such-locale") == failed("locale-collate", "Invalid locale name"))
        #expect(reply(registry, "locale-collate", "C") == "OK")
    }

    @Test func protectedConfigsFollowEnableProtectedConfigs() throws {
        let local = ConfigRegistry()
        try local.applyArguments(["--enable-protected-configs", "local"])
        #expect(throws: ConfigError(failed("dir", "can't set protected config"))) {
            try local.set([(name: "dir", value: "/tmp")], clientIsLocal: false)
        }
        try local.set([(name: "dir", value: "/tmp")], clientIsLocal: true)

        let registry = ConfigRegistry()
        try registry.applyArguments(["--enable-protected-configs", "yes"])
        #expect(reply(registry, "dir", "/nonexistent-apus") == failed("dir", "No such file or directory"))
        #expect(reply(registry, "dir", "/etc/passwd") == failed("dir", "Not a directory"))
        #expect(reply(registry, "dir", "") == failed("dir", "No such file or directory"))
        #expect(reply(registry, "dir", "/tmp/../tmp") == "OK")
        #expect(value(registry, "dir") == "/tmp")
        #expect(reply(registry, "dir", "/tmp", "dir", "/") == failed("dir", "duplicate parameter"))
        #expect(reply(registry, "dbfilename", "a/b") == failed("dbfilename", "dbfilename can't be a path, just a filename"))
        #expect(reply(registry, "dbfilename", "a\\b") == failed("dbfilename", "dbfilename can't be a path, just a filename"))
        #expect(reply(registry, "dbfilename", "") == "OK")
    }

    @Test func loadingRefusesDenyLoadingParameters() {
        let registry = ConfigRegistry()
        #expect(throws: ConfigError("LOADING Redis is loading the dataset in memory")) {
            try registry.set([(name: "maxmemory", value: "x"), (name: "appendonly", value: "yes")], serverIsLoading: true)
        }
        #expect(throws: Never.self) {
            try registry.set([(name: "maxmemory", value: "1mb")], serverIsLoading: true)
        }
    }
}

@Suite struct ConfigHookTests {
    final class Calls: Sendable {
        let log = Mutex<[String]>([])
        func append(_ s: String) { log.withLock { $0.append(s) } }
        var all: [String] { log.withLock { $0 } }
    }

    @Test func hooksSeeNewValuesOnlyWhenTheyChange() throws {
        let registry = ConfigRegistry()
        let calls = Calls()
        registry.onChange("maxmemory") { calls.append("maxmemory=\($0)") }
        registry.onChange("slave-read-only") { calls.append("replica-read-only=\($0)") }
        try registry.set([(name: "maxmemory", value: "1kb"), (name: "replica-read-only", value: "no")])
        try registry.set([(name: "maxmemory", value: "1024")])  // same value: no change
        #expect(calls.all == ["maxmemory=1024", "replica-read-only=no"])
    }

    @Test func aFailingHookRollsEverythingBack() {
        let registry = ConfigRegistry()
        let calls = Calls()
        registry.onChange("maxmemory") { calls.append("maxmemory=\($0)") }
        registry.onChange("port") { value throws(ConfigError) in
            calls.append("port=\(value)")
            if value == "7000" { throw ConfigError("Unable to listen on this port. Check server logs.") }
        }
        #expect(throws: ConfigError(failed("port", "Unable to listen on this port. Check server logs."))) {
            try registry.set([(name: "maxmemory", value: "1mb"), (name: "port", value: "7000")])
        }
        #expect(registry.int("port") == 6379)
        #expect(registry.int("maxmemory") == 0)
        #expect(value(registry, "maxmemory") == "0")
        // The hooks of the changed parameters run again with the restored values.
        #expect(calls.all == ["maxmemory=1048576", "port=7000", "maxmemory=0", "port=6379"])
    }

    @Test func hooksMayReadTheRegistry() throws {
        let registry = ConfigRegistry()
        let seen = Calls()
        registry.onChange("timeout") { _ in seen.append("maxmemory is \(registry.string("maxmemory"))") }
        try registry.set([(name: "maxmemory", value: "5"), (name: "timeout", value: "9")])
        #expect(seen.all == ["maxmemory is 5"])
    }

    @Test func hookFailureWithoutReason() {
        let registry = ConfigRegistry()
        registry.onChange("timeout") { _ throws(ConfigError) in throw ConfigError("") }
        #expect(throws: ConfigError("ERR CONFIG SET failed (possibly related to argument 'timeout')")) {
            try registry.set([(name: "timeout", value: "5")])
        }
    }
}

@Suite struct ConfigConcurrencyTests {
    @Test func readersAndWritersRunConcurrently() async throws {
        let registry = ConfigRegistry()
        registry.onChange("timeout") { _ in _ = registry.int("maxmemory") }
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for i in 0..<300 {
                        if worker % 2 == 0 {
                            try? registry.set([(name: "maxmemory", value: "\(i)mb"), (name: "timeout", value: "\(i)")])
                        } else {
                            let memory = registry.int("maxmemory")
                            #expect(memory % (1 << 20) == 0)
                            _ = registry.get(patterns: ["max*"])
                        }
                    }
                }
            }
        }
        #expect(registry.int("maxmemory") == 299 << 20)
        #expect(registry.int("timeout") == 299)
    }
}
