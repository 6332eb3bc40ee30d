import Foundation
import Testing
@testable import ApusConfig

/// Differential tests against a real `redis-server` (7.0.x, the project's oracle), run
/// only where `redis-server` and `redis-cli` are installed.
enum RedisOracle {
    static let server = executable("redis-server")
    static let client = executable("redis-cli")
    static var isAvailable: Bool { server != nil && client != nil }

    /// Parameters Redis 7.2 added (or hid) relative to the 7.0 oracle.
    static let versionDifferences: Set<String> = [
        "locale-collate", "cluster-announce-human-nodename", "set-max-listpack-entries", "set-max-listpack-value",
        "aof-disable-auto-gc",
    ]

    /// Apus's own parameters, which Redis does not have.
    static let apusOnly: Set<String> = ["db-maxmemory"]

    private static func executable(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/opt/homebrew/bin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion (killing it after `timeout` seconds). Uses
    /// posix_spawn and waitpid directly: Foundation's Process sometimes never noticed
    /// the child's exit here.
    static func run(_ path: String, _ arguments: [String], timeout: Double = 10) -> Output {
        let base = NSTemporaryDirectory() + "apus-oracle-" + UUID().uuidString
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let pid = spawn(path, arguments, stdout: base + ".out", stderr: base + ".err")
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2_000)
        }
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Output(status: exitStatus, stdout: (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? "")
    }

    /// Starts a program with stdin from /dev/null and stdout/stderr into files.
    static func spawn(_ path: String, _ arguments: [String], stdout: String, stderr: String) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
        precondition(result == 0, "posix_spawn \(path) failed: \(result)")
        return pid
    }

    /// A redis-server started for one test, on its own port and directory.
    final class Instance {
        let port: Int
        let directory: String
        let pid: pid_t

        init(arguments: [String] = []) throws {
            port = Int.random(in: 20000...40000)
            directory = makeTemporaryDirectory()
            pid = RedisOracle.spawn(RedisOracle.server!, arguments + ["--port", String(port), "--save", "", "--dir", directory,
                                                                      "--bind", "127.0.0.1", "--daemonize", "no", "--logfile", ""],
                                    stdout: "/dev/null", stderr: "/dev/null")
            for _ in 0..<200 {
                if command(["PING"]) == "PONG" { return }
                usleep(20_000)
            }
            throw ConfigError("redis-server did not start")  // deinit stops it
        }

        deinit {
            stop()
        }

        private func stop() {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }

        /// One command through redis-cli; the reply text with the trailing newlines removed.
        func command(_ arguments: [String]) -> String {
            let output = RedisOracle.run(RedisOracle.client!, ["-p", String(port)] + arguments)
            var text = output.stdout
            while text.hasSuffix("\n") { text.removeLast() }
            return text
        }

        /// CONFIG GET as a dictionary.
        func configGet(_ pattern: String) -> [String: String] {
            let output = RedisOracle.run(RedisOracle.client!, ["-p", String(port), "CONFIG", "GET", pattern])
            var lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.last == "" { lines.removeLast() }
            var result: [String: String] = [:]
            for i in stride(from: 0, to: lines.count - 1, by: 2) { result[lines[i]] = lines[i + 1] }
            return result
        }
    }
}

@Suite(.enabled(if: RedisOracle.isAvailable), .serialized)
struct RedisOracleTests {
    /// CONFIG SET commands whose replies (and final values) must match Redis. Avoids
    /// parameters whose change makes Redis act on the machine (port, bind, dir, tls, ...).
    static let setCommands: [[String]] = [
        ["maxmemory", "foo"], ["MAXMEMORY", "foo"], ["maxmemory", "1k"], ["maxmemory", "1KB"], ["maxmemory", ""],
        ["maxmemory", "99999999999999999999999"], ["maxmemory", "-1"], ["maxmemory", "1.5mb"], ["maxmemory", " 1"],
        ["maxmemory", "+1"], ["maxmemory", "k"], ["maxmemory", "3Gb"], ["maxmemory", "1tb"], ["maxmemory", "0"],
        ["daemonize", "yes"], ["DAEMONIZE", "yes"], ["dbfilename", "x.rdb"], ["dir", "/"], ["foo", "bar"],
        ["maxmemory", "1", "maxmemory", "2"], ["MAXMEMORY", "1", "maxmemory", "2"],
        ["replica-read-only", "yes", "slave-read-only", "no"], ["slave-read-only", "yes"],
        ["appendonly", "maybe"], ["appendonly", "NO"], ["maxmemory-policy", "foo"], ["maxmemory-policy", "ALLKEYS-LFU"],
        ["port", "70000"], ["port", "abc"], ["port", "-1"], ["hz", "1000"], ["hz", "0"], ["hz", "-1"], ["hz", "10"],
        ["maxclients", "-1"], ["maxclients", "0"], ["maxclients", "4294967296"],
        ["maxmemory-clients", "10%"], ["maxmemory-clients", "101%"], ["maxmemory-clients", "-5"], ["maxmemory-clients", "%"],
        ["maxmemory-clients", "-5%"], ["maxmemory-clients", "1mb"], ["maxmemory-clients", "100%"], ["maxmemory-clients", "0"],
        ["foo", "bar", "daemonize", "yes"], ["daemonize", "yes", "foo", "bar"], ["maxmemory", "x", "daemonize", "yes"],
        ["maxmemory", "10mb", "timeout", "x", "hz", "20"], ["maxmemory", "10mb", "timeout", "30", "hz", "20"],
        ["save", "3600 1 300 100"], ["save", "3600 1  300 100"], ["save", "3600 1 300"], ["save", "0 1"],
        ["save", "10 0"], ["save", " 10 1"], ["save", "10 -1"], ["save", "10 1 "], ["save", "0x10 1"], ["save", ""],
        ["client-output-buffer-limit", "normal 1mb 2mb 3 replica 1 2 3"], ["client-output-buffer-limit", "master 1 2 3"],
        ["client-output-buffer-limit", "normal 1 2"], ["client-output-buffer-limit", "normal x 2 3"],
        ["client-output-buffer-limit", "pubsub 1 2 -3"], ["client-output-buffer-limit", "PUBSUB 1gb 2GB 5"],
        ["client-output-buffer-limit", ""],
        ["notify-keyspace-events", "KEA"], ["notify-keyspace-events", "Ex"], ["notify-keyspace-events", "Q"],
        ["notify-keyspace-events", "K E"], ["notify-keyspace-events", "gm"], ["notify-keyspace-events", "AKEmn"],
        ["notify-keyspace-events", "g$lshzxetd"], ["notify-keyspace-events", ""],
        ["oom-score-adj-values", "0 200"], ["oom-score-adj-values", "0 200 3000"], ["oom-score-adj-values", "0 200 800"],
        ["replicaof", "127.0.0.1 1"], ["slaveof", "no one"],
        ["latency-tracking-info-percentiles", "50 99.999 100"], ["latency-tracking-info-percentiles", "101"],
        ["latency-tracking-info-percentiles", "abc"], ["latency-tracking-info-percentiles", "1e1 0.5"],
        ["latency-tracking-info-percentiles", "nan"], ["latency-tracking-info-percentiles", ""],
        ["latency-tracking-info-percentiles", "50 99 99.9"],
        ["shutdown-on-sigint", "save now"], ["shutdown-on-sigint", "save nosave"], ["shutdown-on-sigint", "foo"],
        ["shutdown-on-sigint", "now force"], ["shutdown-on-sigint", "save  now"], ["shutdown-on-sigint", "default"],
        ["shutdown-on-sigterm", "NOSAVE"], ["shutdown-on-sigterm", ""],
        ["oom-score-adj", "relative"], ["oom-score-adj", "no"],
        ["proc-title-template", "{foo}"], ["proc-title-template", "{server-mode}"], ["proc-title-template", "{title"],
        ["proc-title-template", "{title} {port} {{x}"], ["proc-title-template", "{title} {listen-addr} {server-mode}"],
        ["cluster-announce-hostname", "a_b"], ["cluster-announce-hostname", "node-1.example"],
        ["cluster-announce-hostname", String(repeating: "a", count: 300)], ["cluster-announce-hostname", ""],
        ["loglevel", "WARNING"], ["loglevel", "notice"],  // "nothing" is new in 7.2
        ["maxmemory-samples", "010"], ["list-max-ziplist-size", "-3"], ["list-max-listpack-size", "-2"],
        ["unixsocketperm", "700"], ["requirepass", ""], ["masterauth", "x y"], ["masteruser", ""],
        ["activedefrag", "yes"], ["activedefrag", "no"], ["syslog-facility", "local3"],
        ["hash-max-ziplist-value", "99999999999999999999"], ["set-max-intset-entries", "-1"],
        ["proto-max-bulk-len", "1"], ["proto-max-bulk-len", "2mb"], ["slowlog-log-slower-than", "-2"],
        ["slowlog-log-slower-than", "-1"], ["timeout", "2147483648"], ["tcp-keepalive", "-1"], ["lfu-log-factor", "x"],
        ["active-expire-effort", "11"], ["repl-backlog-size", "0"], ["repl-backlog-size", "2mb"],
        ["client-query-buffer-limit", "1mb"], ["client-query-buffer-limit", "1000000"],
        ["cluster-link-sendbuf-limit", "1g"], ["stream-node-max-bytes", "4kb"],
        ["min-replicas-to-write", "1", "min-replicas-max-lag", "5"], ["lua-time-limit", "200"],
        ["busy-reply-threshold", "100"], ["repl-diskless-load", "swapdb"], ["sanitize-dump-payload", "clients"],
        ["acl-pubsub-default", "allchannels"], ["cluster-preferred-endpoint-type", "hostname"],
        ["propagation-error-behavior", "panic-on-replicas"], ["enable-debug-command", "yes"],
        ["lazyfree-lazy-eviction", "yes"], ["ignore-warnings", "ARM64-COW-BUG"], ["replica-announce-ip", "1.2.3.4"],
        ["slave-announce-ip", ""], ["cluster-announce-ip", "10.0.0.1"], ["bind-source-addr", "127.0.0.1"],
        ["tls-auth-clients", "optional"], ["slowlog-max-len", "-1"], ["acllog-max-len", "9223372036854775808"],
        ["repl-backlog-ttl", "-1"], ["auto-aof-rewrite-min-size", "1gb"], ["active-defrag-ignore-bytes", "0"],
        ["zset-max-ziplist-entries", "64"], ["zset-max-listpack-value", "32"], ["hll-sparse-max-bytes", "1kb"],
        ["tracking-table-max-keys", "10"], ["watchdog-period", "x"], ["rdb-key-save-delay", "-5"],
        ["cluster-node-timeout", "5000"], ["stream-node-max-entries", "0"], ["latency-monitor-threshold", "-1"],
    ]

    @Test func configSetRepliesAndValuesMatchRedis() throws {
        let oracle = try RedisOracle.Instance()
        let registry = ConfigRegistry()
        try registry.applyArguments(["--port", String(oracle.port), "--save", "", "--dir", oracle.directory,
                                     "--bind", "127.0.0.1", "--daemonize", "no", "--logfile", ""])
        for arguments in Self.setCommands {
            let expected = oracle.command(["CONFIG", "SET"] + arguments)
            let ours: String
            do {
                try registry.set(arguments: arguments)
                ours = "OK"
            } catch {
                ours = error.message
            }
            #expect(ours == expected, "CONFIG SET \(arguments)")
        }
        let theirs = oracle.configGet("*")
        var ourValues: [String: String] = [:]
        for (name, value) in registry.get(patterns: ["*"]) { ourValues[name] = value }
        for (name, value) in theirs where !RedisOracle.versionDifferences.contains(name) {
            #expect(ourValues[name] == value, "value of \(name) after the commands")
        }
        #expect(Set(ourValues.keys).subtracting(RedisOracle.versionDifferences).subtracting(RedisOracle.apusOnly)
            == Set(theirs.keys).subtracting(RedisOracle.versionDifferences))
    }

    @Test func configFileErrorsMatchRedis() throws {
        let directory = makeTemporaryDirectory()
        let files: [String] = [
            "port 0\n# comment\n\n  foo bar\n", "port 7600 7601\n", "port \"7600\n", "port abc\n", "save 0 1\n",
            "maxmemory-policy bad\n", "mod.x\n", "sentinel monitor x\n", "include\n", "include a b\n",
            "appendfilename \"\"\n", "appenddirname a/b\n", "slaveof 127.0.0.1 abc\n", "replicaof a\n",
            "maxmemory 1 2\n", "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", "save 1\n",
            "client-output-buffer-limit normal 1 2\n", "oom-score-adj-values \"1 2\"\n",
            "notify-keyspace-events x y\n", "databases 0\n", "unixsocketperm 800\n", "unixsocketperm 1000\n",
            "latency-tracking-info-percentiles 200\n", "shutdown-on-sigint save nosave\n",
            "cluster-enabled yes\nreplicaof 127.0.0.1 6379\n", "logfile /nonexistent-apus/x.log\n",
            "port 'abc'def\n", "   \"port\" \"-5\"  \n", "requirepass a b\n", "hz abc\n", "io-threads 129\n",
            "user\n", "loadmodule\n", "rename-command a\n",
        ]
        for (index, contents) in files.enumerated() {
            let path = directory + "/case\(index).conf"
            writeFile(path, contents)
            let output = RedisOracle.run(RedisOracle.server!, [path], timeout: 5)
            #expect(output.status != 0, "redis-server accepted \(contents.debugDescription)")
            let expected = output.stderr
                .replacingOccurrences(of: "Redis 7.0.15", with: "Redis \(ConfigRegistry.redisVersion)")
                .trimmingCharacters(in: .newlines)
            var ours = ""
            do {
                try ConfigRegistry().loadFile(path: path)
            } catch {
                ours = error.message
            }
            #expect(ours == expected, "\(contents.debugDescription)")
        }
    }

    @Test func argumentErrorsMatchRedis() throws {
        let cases: [[String]] = [
            ["--port", "abc"], ["--port", "7600", "--foo"], ["--save", "0", "1"], ["--maxmemory", "1", "2"],
            ["--requirepass", "a", "--port", "x y"], ["--timeout", "--port", "1"], ["--port 7600 7601"],
            ["--save", "--port", "abc"], ["--maxmemory-policy", "\"bad"],
        ]
        for arguments in cases {
            let output = RedisOracle.run(RedisOracle.server!, arguments, timeout: 5)
            #expect(output.status != 0, "redis-server accepted \(arguments)")
            let expected = output.stderr
                .replacingOccurrences(of: "Redis 7.0.15", with: "Redis \(ConfigRegistry.redisVersion)")
                .trimmingCharacters(in: .newlines)
            var ours = ""
            do {
                try ConfigRegistry().applyArguments(arguments)
            } catch {
                ours = error.message
            }
            #expect(ours == expected, "\(arguments)")
        }
    }

    @Test func rewriteMatchesRedis() throws {
        let directory = makeTemporaryDirectory()
        let contents = """
            # top comment
            port 0
            save 900 1
            save 300 10

            # memory
            maxmemory 100mb
            slave-read-only no
            hash-max-ziplist-entries 256
            loglevel verbose
            notify-keyspace-events ""
            masterauth "a b\\"c"
            list-max-ziplist-entries 512
            client-output-buffer-limit normal 0 0 0
            timeout 5
            timeout 6
            """
        let theirPath = directory + "/theirs.conf", ourPath = directory + "/ours.conf"
        writeFile(theirPath, contents)
        writeFile(ourPath, contents)
        let oracle = try RedisOracle.Instance(arguments: [theirPath])
        let registry = ConfigRegistry()
        try registry.applyArguments([ourPath, "--port", String(oracle.port), "--save", "", "--dir", oracle.directory,
                                     "--bind", "127.0.0.1", "--daemonize", "no", "--logfile", ""])
        let changes: [[String]] = [
            ["maxmemory", "2gb"], ["save", "100 5"], ["timeout", "0"], ["maxmemory-clients", "5%"],
            ["replica-read-only", "yes"], ["notify-keyspace-events", "KEx"], ["hz", "1000"],
            ["client-output-buffer-limit", "pubsub 64mb 16mb 90 replica 1gb 1 2"], ["masterauth", ""],
            ["latency-tracking-info-percentiles", "50"], ["shutdown-on-sigterm", "nosave now"],
            ["proto-max-bulk-len", "1000000000"], ["replica-announce-ip", "a\tb"], ["maxmemory-policy", "allkeys-lru"],
        ]
        for change in changes {
            #expect(oracle.command(["CONFIG", "SET"] + change) == "OK")
            try registry.set(arguments: change)
        }
        #expect(oracle.command(["CONFIG", "REWRITE"]) == "OK")
        try registry.rewrite()
        let theirs = readFile(theirPath).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("user ") }
        let ours = readFile(ourPath).split(separator: "\n", omittingEmptySubsequences: false)
        // The kept part of the file is identical; appended lines differ only in order
        // (Redis appends in hash-table order).
        let theirKept = theirs.prefix { $0 != "# Generated by CONFIG REWRITE" }
        let ourKept = ours.prefix { $0 != "# Generated by CONFIG REWRITE" }
        #expect(Array(ourKept) == Array(theirKept))
        #expect(ours.sorted() == theirs.sorted())
    }
}
