import Synchronization
import Testing
@testable import ApusConfig

private func fatal(line: Int, _ text: String, _ reason: String) -> ConfigError {
    ConfigError("*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nReading the configuration file, at line \(line)\n>>> '\(text)'\n\(reason)")
}

private func value(_ registry: ConfigRegistry, _ name: String) -> String? {
    registry.get(patterns: [name]).first?.value
}

@Suite struct ConfigFileTests {
    @Test func readsDirectivesCommentsAndQuotes() throws {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/redis.conf", """
            # A comment
               # an indented comment

            port 7001
            maxmemory 100MB
            maxmemory-policy allkeys-lru\r
            requirepass "a b\\"c\\x41"
            masterauth 'it\\'s'
              timeout   5   
            timeout 6
            slave-read-only no
            hash-max-ziplist-entries 256
            save 900 1
            save 300 10
            notify-keyspace-events ""
            list-max-ziplist-entries 512
            lua-replicate-commands yes
            """)
        let registry = ConfigRegistry()
        try registry.loadFile(path: dir + "/redis.conf")
        #expect(registry.configFilePath == dir + "/redis.conf")
        #expect(registry.int("port") == 7001)
        #expect(registry.int("maxmemory") == 100 << 20)
        #expect(value(registry, "maxmemory-policy") == "allkeys-lru")
        #expect(value(registry, "requirepass") == "a b\"cA")
        #expect(value(registry, "masterauth") == "it's")
        #expect(registry.int("timeout") == 6)
        #expect(registry.bool("replica-read-only") == false)
        #expect(registry.int("hash-max-listpack-entries") == 256)
        // The first `save` line replaces the default rules, later ones add to them.
        #expect(value(registry, "save") == "900 1 300 10")
    }

    @Test func multiArgumentParametersTakeOneQuotedArgument() throws {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/a.conf", """
            save "100 1 200 2"
            client-output-buffer-limit "pubsub 64mb 16mb 90"
            shutdown-on-sigterm nosave now
            bind 127.0.0.1 ::1
            """)
        let registry = ConfigRegistry()
        try registry.loadFile(path: dir + "/a.conf")
        #expect(value(registry, "save") == "100 1 200 2")
        #expect(registry.clientOutputBufferLimit(.pubsub)
            == ClientOutputBufferLimit(hardLimitBytes: 64 << 20, softLimitBytes: 16 << 20, softLimitSeconds: 90))
        #expect(value(registry, "shutdown-on-sigterm") == "nosave now")
        #expect(registry.bindAddresses() == ["127.0.0.1", "::1"])
    }

    @Test func includesLoadInPlaceAndGlobsMaySkip() throws {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/main.conf", """
            port 7001
            include \(dir)/port.conf
            include \(dir)/conf.d/*.conf
            include \(dir)/empty.d/*.conf
            timeout 9
            """)
        writeFile(dir + "/port.conf", "port 7002\ntimeout 1\n")
        try FileManagerShim.createDirectory(dir + "/conf.d")
        try FileManagerShim.createDirectory(dir + "/empty.d")
        writeFile(dir + "/conf.d/b.conf", "maxmemory 2mb\n")
        writeFile(dir + "/conf.d/a.conf", "maxmemory 1mb\nloglevel warning\n")
        let registry = ConfigRegistry()
        try registry.loadFile(path: dir + "/main.conf")
        #expect(registry.int("port") == 7002)
        #expect(registry.int("timeout") == 9)
        #expect(registry.int("maxmemory") == 2 << 20)  // glob results in sorted order
        #expect(value(registry, "loglevel") == "warning")
        #expect(registry.configFilePath == dir + "/main.conf")
    }

    @Test func errorsNameTheLineLikeRedis() {
        let dir = makeTemporaryDirectory()
        let cases: [(String, ConfigError)] = [
            ("port 7600\n# comment\n\n  foo bar\n", fatal(line: 4, "foo bar", "Bad directive or wrong number of arguments")),
            ("port 7600 7601\n", fatal(line: 1, "port 7600 7601", "wrong number of arguments")),
            ("port \"7600\n", fatal(line: 1, "port \"7600", "Unbalanced quotes in configuration line")),
            ("port abc\n", fatal(line: 1, "port abc", "argument couldn't be parsed into an integer")),
            ("save 0 1\n", fatal(line: 1, "save 0 1", "Invalid save parameters")),
            ("maxmemory-policy bad\n", fatal(line: 1, "maxmemory-policy bad",
                "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")),
            ("mod.x\n", fatal(line: 1, "mod.x", "Module config specified without value")),
            ("sentinel monitor x\n", fatal(line: 1, "sentinel monitor x", "sentinel directive while not in sentinel mode")),
            ("include\n", fatal(line: 1, "include", "Bad directive or wrong number of arguments")),
            ("appendfilename a/b\n", fatal(line: 1, "appendfilename a/b", "appendfilename can't be a path, just a filename")),
            ("port 1\nslaveof 127.0.0.1 abc\n", fatal(line: 2, "slaveof 127.0.0.1 abc", "Invalid master port")),
        ]
        for (index, (contents, expected)) in cases.enumerated() {
            let path = dir + "/case\(index).conf"
            writeFile(path, contents)
            #expect(throws: expected) { try ConfigRegistry().loadFile(path: path) }
        }
    }

    @Test func errorsInIncludedFilesCountTheirOwnLines() {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/d.conf", "port abc\n")
        writeFile(dir + "/g.conf", "port 7600\ninclude \(dir)/d.conf\n")
        #expect(throws: fatal(line: 1, "port abc", "argument couldn't be parsed into an integer")) {
            try ConfigRegistry().loadFile(path: dir + "/g.conf")
        }
    }

    @Test func includeCyclesAreAnErrorNotACrash() {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/self.conf", "port 7000\ninclude \(dir)/self.conf\n")
        #expect(throws: fatal(line: 2, "include \(dir)/self.conf", "Too many nested includes (is there an include cycle?)")) {
            try ConfigRegistry().loadFile(path: dir + "/self.conf")
        }
    }

    @Test func missingFiles() {
        let dir = makeTemporaryDirectory()
        #expect(throws: ConfigError("Fatal error, can't open config file '\(dir)/nope.conf': No such file or directory")) {
            try ConfigRegistry().loadFile(path: dir + "/nope.conf")
        }
        writeFile(dir + "/f.conf", "include \(dir)/none.conf\n")
        #expect(throws: ConfigError("Fatal error, can't open config file '\(dir)/none.conf': No such file or directory")) {
            try ConfigRegistry().loadFile(path: dir + "/f.conf")
        }
    }

    @Test func checksAfterLoading() {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/c.conf", "cluster-enabled yes\nreplicaof 127.0.0.1 6379\n")
        #expect(throws: ConfigError("*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nreplicaof directive not allowed in cluster mode")) {
            try ConfigRegistry().loadFile(path: dir + "/c.conf")
        }
        writeFile(dir + "/l.conf", "logfile /nonexistent-apus-dir/x.log\n")
        #expect(throws: ConfigError("*** FATAL CONFIG FILE ERROR (Redis 7.2.4) ***\nCan't open the log file: No such file or directory")) {
            try ConfigRegistry().loadFile(path: dir + "/l.conf")
        }
        writeFile(dir + "/db.conf", "cluster-enabled yes\ndatabases 16\n")
        let registry = ConfigRegistry()
        #expect(throws: Never.self) { try registry.loadFile(path: dir + "/db.conf") }
        #expect(registry.int("databases") == 1)
    }

    @Test func fileOnlyDirectivesAreRecordedAndCanBeChecked() throws {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/m.conf", """
            rename-command flushall ""
            rename-command config myconfig
            user alice on >secret ~* +@all
            loadmodule /opt/mod.so arg1 arg2
            mymod.size 10 20
            mymod.size 30
            sentinel
            """)
        let registry = ConfigRegistry()
        try registry.loadFile(path: dir + "/m.conf")
        #expect(registry.commandRenames().map { "\($0.from)->\($0.to)" } == ["flushall->", "config->myconfig"])
        #expect(registry.userDirectives() == [["alice", "on", ">secret", "~*", "+@all"]])
        #expect(registry.loadModuleDirectives() == [["/opt/mod.so", "arg1", "arg2"]])
        #expect(registry.moduleConfigs().map { "\($0.name)=\($0.value)" } == ["mymod.size=30"])

        let checked = ConfigRegistry()
        checked.onDirective("rename-command") { arguments throws(ConfigError) in
            if arguments[0] != "flushall" { throw ConfigError("No such command in rename-command") }
        }
        #expect(throws: fatal(line: 2, "rename-command config myconfig", "No such command in rename-command")) {
            try checked.loadFile(path: dir + "/m.conf")
        }
    }

    @Test func hooksRunWhileLoadingAndMayRefuse() {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/h.conf", "port 7000\nmaxmemory 1mb\n")
        let registry = ConfigRegistry()
        let seen = Mutex<[String]>([])
        registry.onChange("port") { value in seen.withLock { $0.append(value) } }
        registry.onChange("maxmemory") { _ throws(ConfigError) in throw ConfigError("not today") }
        #expect(throws: fatal(line: 2, "maxmemory 1mb", "not today")) { try registry.loadFile(path: dir + "/h.conf") }
        #expect(seen.withLock { $0 } == ["7000"])
    }

    @Test func relativeDirAndIncludeFollowTheDirDirective() throws {
        let dir = makeTemporaryDirectory()
        try FileManagerShim.createDirectory(dir + "/data")
        writeFile(dir + "/data/inc.conf", "timeout 42\n")
        writeFile(dir + "/r.conf", "dir \(dir)\ndir data\ninclude inc.conf\n")
        let registry = ConfigRegistry()
        try registry.loadFile(path: dir + "/r.conf")
        #expect(value(registry, "dir") == dir + "/data")
        #expect(registry.int("timeout") == 42)
    }
}

@Suite struct ConfigArgumentTests {
    @Test func optionsWithValues() throws {
        let registry = ConfigRegistry()
        try registry.applyArguments(["--port", "7000", "--save", "", "--requirepass", "a b"])
        #expect(registry.int("port") == 7000)
        #expect(value(registry, "save") == "")
        #expect(value(registry, "requirepass") == "a b")
        #expect(registry.configFilePath == nil)
    }

    @Test func bareSaveMeansNoSnapshots() throws {
        let trailing = ConfigRegistry()
        try trailing.applyArguments(["--port", "7000", "--save"])
        #expect(value(trailing, "save") == "")
        let beforeOption = ConfigRegistry()
        try beforeOption.applyArguments(["--save", "--port", "7001"])
        #expect(value(beforeOption, "save") == "")
        #expect(beforeOption.int("port") == 7001)
    }

    @Test func multiArgumentOptions() throws {
        let registry = ConfigRegistry()
        try registry.applyArguments(["--save", "60", "100", "--bind", "127.0.0.1", "::1", "--save", "120 5"])
        #expect(value(registry, "save") == "60 100 120 5")
        #expect(registry.bindAddresses() == ["127.0.0.1", "::1"])
        let combined = ConfigRegistry()
        try combined.applyArguments(["--port 7005", "--maxmemory", "1gb"])
        #expect(combined.int("port") == 7005)
        #expect(combined.int("maxmemory") == 1 << 30)
    }

    @Test func configFileThenArguments() throws {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/base.conf", "port 7001\ntimeout 5\nsave 900 1\n")
        let registry = ConfigRegistry()
        try registry.applyArguments([dir + "/base.conf", "--port", "7002", "--save", "60 10"])
        #expect(registry.configFilePath == dir + "/base.conf")
        #expect(registry.int("port") == 7002)
        #expect(registry.int("timeout") == 5)
        // As in Redis, `--save` adds to the file's rules rather than replacing them.
        #expect(value(registry, "save") == "900 1 60 10")
    }

    @Test func standardInputComesBetweenFileAndOptions() throws {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/base.conf", "port 7001\ntimeout 5\n")
        let registry = ConfigRegistry()
        try registry.applyArguments([dir + "/base.conf", "--timeout", "7", "-"], standardInput: { "port 7003\ntimeout 6\n" })
        #expect(registry.int("port") == 7003)
        #expect(registry.int("timeout") == 7)
        let first = ConfigRegistry()
        try first.applyArguments(["-", "--timeout", "8"], standardInput: { "timeout 3\nmaxmemory 1k\n" })
        #expect(first.int("timeout") == 8)
        #expect(first.int("maxmemory") == 1000)
    }

    @Test func argumentErrorsCountLinesAfterTheFile() {
        let dir = makeTemporaryDirectory()
        writeFile(dir + "/a.conf", "port 7600\n# comment\n\n")
        #expect(throws: fatal(line: 2, "port \"abc\"", "argument couldn't be parsed into an integer")) {
            try ConfigRegistry().applyArguments(["--port", "abc"])
        }
        #expect(throws: fatal(line: 3, "foo", "Bad directive or wrong number of arguments")) {
            try ConfigRegistry().applyArguments(["--port", "7600", "--foo"])
        }
        #expect(throws: fatal(line: 5, "maxmemory-policy \"bad\"",
            "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")) {
            try ConfigRegistry().applyArguments([dir + "/a.conf", "--maxmemory-policy", "bad"])
        }
    }

    @Test func relativeConfigPathsBecomeAbsolute() {
        let cwd = currentWorkingDirectory()!
        #expect(absoluteConfigFilePath("redis.conf") == (cwd == "/" ? "/redis.conf" : cwd + "/redis.conf"))
        #expect(absoluteConfigFilePath("/etc/redis.conf") == "/etc/redis.conf")
        let parent = String(cwd[..<cwd.lastIndex(of: "/")!])
        #expect(absoluteConfigFilePath("../x.conf") == (parent.isEmpty ? "/" : parent + "/") + "x.conf")
    }
}

@Suite struct ConfigArgumentSplittingTests {
    @Test(arguments: [
        ("a b  c", ["a", "b", "c"]),
        ("  \"a b\" 'c d'", ["a b", "c d"]),
        ("\"\\x41\\n\\t\\\\\\\"\"", ["A\n\t\\\""]),
        ("'it\\'s'", ["it's"]),
        ("\"\"", [""]),
        ("\"abc\"def", nil),
        ("'abc", nil),
        ("", []),
    ] as [(String, [String]?)])
    func splitsLikeSdssplitargs(line: String, expected: [String]?) {
        #expect(splitConfigArguments(line) == expected)
    }

    @Test func quotingRoundTrips() {
        for value in ["plain", "a b", "quote\"back\\slash", "tab\tnew\nline", "\u{01}\u{7f}", "", "ünïcode"] {
            #expect(splitConfigArguments(quoteConfigArgument(value)) == [value])
        }
        #expect(quoteConfigArgument("a \"b\"\n") == "\"a \\\"b\\\"\\n\"")
    }
}
