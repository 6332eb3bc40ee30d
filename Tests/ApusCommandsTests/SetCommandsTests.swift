import ApusCommands
import ApusConfig
import Testing

/// Replies recorded from redis-server 7.2.4 (built from the tag) for the same command scripts,
/// in RESP2 and RESP3: every error string, reply shape, encoding and (where Redis's order is
/// deterministic: intsets ascending, listpacks in insertion order) member order.
@Suite struct SetCommandsTests {
    private func harness() -> Harness {
        // DEBUG DIGEST-VALUE is part of the scripts.
        (try? Harness(configure: { try $0.applyArguments(["--enable-debug-command", "yes"]) })) ?? Harness()
    }

    private func replay(_ script: [([String], String)], resp3: Bool) {
        let h = harness()
        if resp3 { h.send("HELLO", "3") }
        for (args, expected) in script {
            #expect(h.send(args) == expected, "\(args.joined(separator: " "))")
        }
    }

    @Test func scriptOfErrorsAndShapesMatchesRedisInRESP2() { replay(Self.r72_2, resp3: false) }
    @Test func scriptOfErrorsAndShapesMatchesRedisInRESP3() { replay(Self.r72_3, resp3: true) }
    @Test func scriptOfEncodingsAndOrdersMatchesRedisInRESP2() { replay(Self.r72b_2, resp3: false) }
    @Test func scriptOfEncodingsAndOrdersMatchesRedisInRESP3() { replay(Self.r72b_3, resp3: true) }

    // MARK: Encodings past the thresholds

    private func encoding(_ h: Harness, _ key: String) -> String { h.send("OBJECT", "ENCODING", key) }

    @Test func saddConvertsAtTheConfiguredThresholds() {
        let h = Harness()
        h.send(["SADD", "ints"] + (1 ... 512).map(String.init))
        #expect(encoding(h, "ints") == "$6\r\nintset\r\n")
        h.send("SADD", "ints", "513")
        #expect(encoding(h, "ints") == "$9\r\nhashtable\r\n")
        h.send(["SADD", "strs"] + (1 ... 128).map { "s\($0)" })
        #expect(encoding(h, "strs") == "$8\r\nlistpack\r\n")
        h.send("SADD", "strs", "s1")
        #expect(encoding(h, "strs") == "$8\r\nlistpack\r\n")
        h.send("SADD", "strs", "s129")
        #expect(encoding(h, "strs") == "$9\r\nhashtable\r\n")
        // The hint alone (argument count, duplicates included) converts an existing intset.
        h.send("SADD", "hint", "1")
        h.send(["SADD", "hint"] + Array(repeating: "1", count: 513))
        #expect(encoding(h, "hint") == "$9\r\nhashtable\r\n")
        #expect(h.send("SCARD", "hint") == ":1\r\n")
        // CONFIG SET moves the thresholds.
        h.send("CONFIG", "SET", "set-max-intset-entries", "2")
        h.send("SADD", "small", "1", "2")
        #expect(encoding(h, "small") == "$6\r\nintset\r\n")
        h.send("SADD", "small", "3")
        #expect(encoding(h, "small") == "$9\r\nhashtable\r\n")
    }

    @Test func spopKeepingFewMembersOfAHashtableLeavesAListpack() {
        let h = Harness()
        h.send(["SADD", "h"] + (1 ... 600).map(String.init))
        #expect(encoding(h, "h") == "$9\r\nhashtable\r\n")
        let reply = h.send("SPOP", "h", "590")
        #expect(reply.hasPrefix("*590\r\n"))
        #expect(h.send("SCARD", "h") == ":10\r\n")
        #expect(encoding(h, "h") == "$8\r\nlistpack\r\n")
        // Popping a few one by one keeps the encoding.
        h.send(["SADD", "h2"] + (1 ... 600).map(String.init))
        h.send("SPOP", "h2", "5")
        #expect(encoding(h, "h2") == "$9\r\nhashtable\r\n")
        #expect(h.send("SCARD", "h2") == ":595\r\n")
    }

    @Test func spopOfTheWholeSetDeletesTheKey() {
        let h = Harness()
        h.send("SADD", "s", "a", "b")
        #expect(h.send("SPOP", "s", "5") == "*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        #expect(h.send("EXISTS", "s") == ":0\r\n")
        h.send("SADD", "one", "x")
        #expect(h.send("SPOP", "one") == "$1\r\nx\r\n")
        #expect(h.send("EXISTS", "one") == ":0\r\n")
    }

    @Test func srandmemberCountsHaveRedisShapes() {
        let h = Harness()
        h.send(["SADD", "s"] + (1 ... 300).map { "m\($0)" })
        let distinct = h.send("SRANDMEMBER", "s", "50")
        #expect(distinct.hasPrefix("*50\r\n"))
        let lines = distinct.split(separator: "\r\n").filter { $0.hasPrefix("m") }
        #expect(Set(lines).count == 50)
        #expect(h.send("SRANDMEMBER", "s", "-1000").hasPrefix("*1000\r\n"))
        #expect(h.send("SRANDMEMBER", "s", "1000").hasPrefix("*300\r\n"))
        h.send("SADD", "small", "1", "2", "3")
        let repeats = h.send("SRANDMEMBER", "small", "-7")
        #expect(repeats.hasPrefix("*7\r\n"))
    }

    @Test func sscanOfAHashtableVisitsEveryMember() {
        let h = Harness()
        h.send(["SADD", "big"] + (1 ... 1000).map { "m\($0)" })
        var cursor = "0"
        var seen = Set<Substring>()
        var calls = 0
        repeat {
            let reply = h.send("SSCAN", "big", cursor, "COUNT", "20")
            let parts = reply.split(separator: "\r\n")
            cursor = String(parts[2])
            for part in parts where part.hasPrefix("m") { seen.insert(part) }
            calls += 1
        } while cursor != "0" && calls < 10_000
        #expect(seen.count == 1000)
        #expect(calls > 1)
        let matched = h.send("SSCAN", "big", "0", "MATCH", "nomatch*", "COUNT", "5000")
        #expect(matched == "*2\r\n$1\r\n0\r\n*0\r\n")
    }

    @Test func storeCommandsReplaceTheDestinationAndCanReadIt() {
        let h = Harness()
        h.send("SADD", "a", "1", "2", "3")
        h.send("SADD", "b", "2", "3", "4")
        #expect(h.send("SUNIONSTORE", "a", "a", "b") == ":4\r\n")
        #expect(h.send("SMEMBERS", "a") == "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n")
        #expect(h.send("SDIFFSTORE", "b", "a", "b") == ":1\r\n")
        #expect(h.send("SMEMBERS", "b") == "*1\r\n$1\r\n1\r\n")
        #expect(h.send("SINTERSTORE", "b", "b", "nokey") == ":0\r\n")
        #expect(h.send("EXISTS", "b") == ":0\r\n")
        h.send("LPUSH", "list", "x")
        // A destination of another type is simply replaced (only sources are type-checked).
        #expect(h.send("SUNIONSTORE", "str", "a") == ":4\r\n")
        #expect(h.send("TYPE", "str") == "+set\r\n")
    }

    @Test func manyKeysAcrossShardsAndDatabases() {
        let h = Harness()
        for i in 0 ..< 40 { h.send("SADD", "k\(i)", "common", "only\(i)") }
        let keys = (0 ..< 40).map { "k\($0)" }
        #expect(h.send(["SINTER"] + keys) == "*1\r\n$6\r\ncommon\r\n")
        #expect(h.send(["SINTERCARD", "40"] + keys) == ":1\r\n")
        #expect(h.send(["SUNIONSTORE", "all"] + keys) == ":41\r\n")
        #expect(h.send(["SDIFF", "all"] + keys) == "*0\r\n")
        for i in 0 ..< 40 { #expect(h.send("SMOVE", "k\(i)", "dest\(i)", "only\(i)") == ":1\r\n") }
        #expect(h.send("SCARD", "dest7") == ":1\r\n")
        h.send("SELECT", "1")
        #expect(h.send("SCARD", "all") == ":0\r\n")
        h.send("SELECT", "0")
        #expect(h.send("SCARD", "all") == ":41\r\n")
    }

    static let r72_2: [([String], String)] = [
        (["FLUSHALL"], "+OK\r\n"),
        (["SADD", "s", "3", "1", "2"], ":3\r\n"),
        (["SMEMBERS", "s"], "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n"),
        (["SADD", "s", "a"], ":1\r\n"),
        (["SMEMBERS", "s"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\na\r\n"),
        (["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n"),
        (["SADD", "s", "a", "b"], ":1\r\n"),
        (["SREM", "s", "1", "x"], ":1\r\n"),
        (["SCARD", "s"], ":4\r\n"),
        (["SISMEMBER", "s", "a"], ":1\r\n"),
        (["SISMEMBER", "s", "zz"], ":0\r\n"),
        (["SMISMEMBER", "s", "a", "zz", "2"], "*3\r\n:1\r\n:0\r\n:1\r\n"),
        (["SMISMEMBER", "nokey", "a", "b"], "*2\r\n:0\r\n:0\r\n"),
        (["SET", "str", "v"], "+OK\r\n"),
        (["SADD", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SREM", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SCARD", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMEMBERS", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMEMBERS", "nokey"], "*0\r\n"),
        (["SISMEMBER", "nokey", "a"], ":0\r\n"),
        (["SMISMEMBER", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SPOP", "nokey"], "$-1\r\n"),
        (["SPOP", "nokey", "3"], "*0\r\n"),
        (["SPOP", "s", "abc"], "-ERR value is out of range, must be positive\r\n"),
        (["SPOP", "s", "-1"], "-ERR value is out of range, must be positive\r\n"),
        (["SPOP", "s", "1", "2"], "-ERR syntax error\r\n"),
        (["SPOP", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SPOP", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SPOP", "s", "0"], "*0\r\n"),
        (["SPOP", "nokey", "abc"], "-ERR value is out of range, must be positive\r\n"),
        (["SRANDMEMBER", "nokey"], "$-1\r\n"),
        (["SRANDMEMBER", "nokey", "5"], "*0\r\n"),
        (["SRANDMEMBER", "nokey", "abc"], "-ERR value is not an integer or out of range\r\n"),
        (["SRANDMEMBER", "s", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
        (["SRANDMEMBER", "s", "99999999999999999999"], "-ERR value is not an integer or out of range\r\n"),
        (["SRANDMEMBER", "s", "1", "2"], "-ERR syntax error\r\n"),
        (["SRANDMEMBER", "str", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SRANDMEMBER", "s", "0"], "*0\r\n"),
        (["SINTERCARD", "0", "a"], "-ERR numkeys should be greater than 0\r\n"),
        (["SINTERCARD", "abc", "a"], "-ERR numkeys should be greater than 0\r\n"),
        (["SINTERCARD", "-1", "a"], "-ERR numkeys should be greater than 0\r\n"),
        (["SINTERCARD", "3", "a", "b"], "-ERR Number of keys can't be greater than number of args\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT"], "-ERR syntax error\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "-1"], "-ERR LIMIT can't be negative\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "abc"], "-ERR LIMIT can't be negative\r\n"),
        (["SINTERCARD", "1", "s", "bogus", "1"], "-ERR syntax error\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "1"], ":1\r\n"),
        (["SINTERCARD", "2", "s", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SINTERCARD", "2", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "0", "LIMIT", "2"], ":2\r\n"),
        (["SINTER", "s", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SINTER", "nokey", "s"], "*0\r\n"),
        (["SINTERSTORE", "d", "nokey", "s"], ":0\r\n"),
        (["SINTERSTORE", "d", "str", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SUNION", "s", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SUNION", "nokey", "nokey2"], "*0\r\n"),
        (["SUNIONSTORE", "d", "nokey"], ":0\r\n"),
        (["SDIFF", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SDIFF", "s", "s"], "*0\r\n"),
        (["SSCAN", "nokey", "0", "COUNT", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"),
        (["SSCAN", "s", "abc"], "-ERR invalid cursor\r\n"),
        (["SSCAN", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SSCAN", "s", "0", "COUNT", "0"], "-ERR syntax error\r\n"),
        (["SSCAN", "s", "0", "COUNT", "abc"], "-ERR value is not an integer or out of range\r\n"),
        (["SSCAN", "s", "0", "MATCH"], "-ERR syntax error\r\n"),
        (["SSCAN", "s", "0", "TYPE", "set"], "-ERR syntax error\r\n"),
        (["SSCAN", "s", "5", "MATCH", "a*"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"),
        (["SSCAN", "s", "0", "bogus"], "-ERR syntax error\r\n"),
        (["SMOVE", "nokey", "str", "a"], ":0\r\n"),
        (["SMOVE", "s", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMOVE", "str", "s", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMOVE", "s", "s", "a"], ":1\r\n"),
        (["SMOVE", "s", "s", "zz"], ":0\r\n"),
        (["SMOVE", "s", "d2", "a"], ":1\r\n"),
        (["OBJECT", "ENCODING", "d2"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "d2"], "*1\r\n$1\r\na\r\n"),
        (["SADD", "ints", "5"], ":1\r\n"),
        (["SMOVE", "s", "ints", "b"], ":1\r\n"),
        (["OBJECT", "ENCODING", "ints"], "$8\r\nlistpack\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "9223372036854775807"], ":2\r\n"),
        (["SINTERCARD", "9223372036854775807", "s"], "-ERR Number of keys can't be greater than number of args\r\n"),
        (["SPOP", "s", "9223372036854775807"], "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (["EXISTS", "s"], ":0\r\n"),
    ]


    static let r72_3: [([String], String)] = [
        (["FLUSHALL"], "+OK\r\n"),
        (["SADD", "s", "3", "1", "2"], ":3\r\n"),
        (["SMEMBERS", "s"], "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (["OBJECT", "ENCODING", "s"], "$6\r\nintset\r\n"),
        (["SADD", "s", "a"], ":1\r\n"),
        (["SMEMBERS", "s"], "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\na\r\n"),
        (["OBJECT", "ENCODING", "s"], "$8\r\nlistpack\r\n"),
        (["SADD", "s", "a", "b"], ":1\r\n"),
        (["SREM", "s", "1", "x"], ":1\r\n"),
        (["SCARD", "s"], ":4\r\n"),
        (["SISMEMBER", "s", "a"], ":1\r\n"),
        (["SISMEMBER", "s", "zz"], ":0\r\n"),
        (["SMISMEMBER", "s", "a", "zz", "2"], "*3\r\n:1\r\n:0\r\n:1\r\n"),
        (["SMISMEMBER", "nokey", "a", "b"], "*2\r\n:0\r\n:0\r\n"),
        (["SET", "str", "v"], "+OK\r\n"),
        (["SADD", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SREM", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SCARD", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMEMBERS", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMEMBERS", "nokey"], "~0\r\n"),
        (["SISMEMBER", "nokey", "a"], ":0\r\n"),
        (["SMISMEMBER", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SPOP", "nokey"], "_\r\n"),
        (["SPOP", "nokey", "3"], "~0\r\n"),
        (["SPOP", "s", "abc"], "-ERR value is out of range, must be positive\r\n"),
        (["SPOP", "s", "-1"], "-ERR value is out of range, must be positive\r\n"),
        (["SPOP", "s", "1", "2"], "-ERR syntax error\r\n"),
        (["SPOP", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SPOP", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SPOP", "s", "0"], "~0\r\n"),
        (["SPOP", "nokey", "abc"], "-ERR value is out of range, must be positive\r\n"),
        (["SRANDMEMBER", "nokey"], "_\r\n"),
        (["SRANDMEMBER", "nokey", "5"], "*0\r\n"),
        (["SRANDMEMBER", "nokey", "abc"], "-ERR value is not an integer or out of range\r\n"),
        (["SRANDMEMBER", "s", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
        (["SRANDMEMBER", "s", "99999999999999999999"], "-ERR value is not an integer or out of range\r\n"),
        (["SRANDMEMBER", "s", "1", "2"], "-ERR syntax error\r\n"),
        (["SRANDMEMBER", "str", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SRANDMEMBER", "s", "0"], "*0\r\n"),
        (["SINTERCARD", "0", "a"], "-ERR numkeys should be greater than 0\r\n"),
        (["SINTERCARD", "abc", "a"], "-ERR numkeys should be greater than 0\r\n"),
        (["SINTERCARD", "-1", "a"], "-ERR numkeys should be greater than 0\r\n"),
        (["SINTERCARD", "3", "a", "b"], "-ERR Number of keys can't be greater than number of args\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT"], "-ERR syntax error\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "-1"], "-ERR LIMIT can't be negative\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "abc"], "-ERR LIMIT can't be negative\r\n"),
        (["SINTERCARD", "1", "s", "bogus", "1"], "-ERR syntax error\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "1"], ":1\r\n"),
        (["SINTERCARD", "2", "s", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SINTERCARD", "2", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "0", "LIMIT", "2"], ":2\r\n"),
        (["SINTER", "s", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SINTER", "nokey", "s"], "~0\r\n"),
        (["SINTERSTORE", "d", "nokey", "s"], ":0\r\n"),
        (["SINTERSTORE", "d", "str", "s"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SUNION", "s", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SUNION", "nokey", "nokey2"], "~0\r\n"),
        (["SUNIONSTORE", "d", "nokey"], ":0\r\n"),
        (["SDIFF", "nokey", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SDIFF", "s", "s"], "~0\r\n"),
        (["SSCAN", "nokey", "0", "COUNT", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"),
        (["SSCAN", "s", "abc"], "-ERR invalid cursor\r\n"),
        (["SSCAN", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SSCAN", "s", "0", "COUNT", "0"], "-ERR syntax error\r\n"),
        (["SSCAN", "s", "0", "COUNT", "abc"], "-ERR value is not an integer or out of range\r\n"),
        (["SSCAN", "s", "0", "MATCH"], "-ERR syntax error\r\n"),
        (["SSCAN", "s", "0", "TYPE", "set"], "-ERR syntax error\r\n"),
        (["SSCAN", "s", "5", "MATCH", "a*"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"),
        (["SSCAN", "s", "0", "bogus"], "-ERR syntax error\r\n"),
        (["SMOVE", "nokey", "str", "a"], ":0\r\n"),
        (["SMOVE", "s", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMOVE", "str", "s", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
        (["SMOVE", "s", "s", "a"], ":1\r\n"),
        (["SMOVE", "s", "s", "zz"], ":0\r\n"),
        (["SMOVE", "s", "d2", "a"], ":1\r\n"),
        (["OBJECT", "ENCODING", "d2"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "d2"], "~1\r\n$1\r\na\r\n"),
        (["SADD", "ints", "5"], ":1\r\n"),
        (["SMOVE", "s", "ints", "b"], ":1\r\n"),
        (["OBJECT", "ENCODING", "ints"], "$8\r\nlistpack\r\n"),
        (["SINTERCARD", "1", "s", "LIMIT", "9223372036854775807"], ":2\r\n"),
        (["SINTERCARD", "9223372036854775807", "s"], "-ERR Number of keys can't be greater than number of args\r\n"),
        (["SPOP", "s", "9223372036854775807"], "~2\r\n$1\r\n2\r\n$1\r\n3\r\n"),
        (["EXISTS", "s"], ":0\r\n"),
    ]


    static let r72b_2: [([String], String)] = [
        (["FLUSHALL"], "+OK\r\n"),
        (["SADD", "a", "c", "b", "3", "1", "a", "2"], ":6\r\n"),
        (["SADD", "b", "2", "a", "x", "1"], ":4\r\n"),
        (["SINTER", "a", "b"], "*3\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"),
        (["SINTERSTORE", "d", "a", "b"], ":3\r\n"),
        (["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "d"], "*3\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"),
        (["SUNION", "a", "b"], "*7\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nx\r\n"),
        (["SUNIONSTORE", "u", "b", "a"], ":7\r\n"),
        (["OBJECT", "ENCODING", "u"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "u"], "*7\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n"),
        (["SDIFF", "a", "b"], "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n"),
        (["SDIFFSTORE", "df", "a", "b", "nokey"], ":3\r\n"),
        (["SMEMBERS", "df"], "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n"),
        (["OBJECT", "ENCODING", "df"], "$8\r\nlistpack\r\n"),
        (["SADD", "i1", "5", "3", "9", "1"], ":4\r\n"),
        (["SADD", "i2", "9", "1", "7"], ":3\r\n"),
        (["SINTERSTORE", "di", "i1", "i2"], ":2\r\n"),
        (["OBJECT", "ENCODING", "di"], "$6\r\nintset\r\n"),
        (["SMEMBERS", "di"], "*2\r\n$1\r\n1\r\n$1\r\n9\r\n"),
        (["SINTERCARD", "2", "i1", "i2"], ":2\r\n"),
        (["SINTERCARD", "2", "i1", "i2", "LIMIT", "1"], ":1\r\n"),
        (["SUNION", "i1", "i2"], "*5\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$1\r\n7\r\n$1\r\n9\r\n"),
        (["SDIFF", "i1", "i2"], "*2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (["SET", "str", "hello"], "+OK\r\n"),
        (["EXPIRE", "str", "100"], ":1\r\n"),
        (["SINTERSTORE", "str", "i1", "i2"], ":2\r\n"),
        (["TTL", "str"], ":-1\r\n"),
        (["TYPE", "str"], "+set\r\n"),
        (["SMEMBERS", "str"], "*2\r\n$1\r\n1\r\n$1\r\n9\r\n"),
        (["SINTERSTORE", "i1", "i1", "i2"], ":2\r\n"),
        (["SMEMBERS", "i1"], "*2\r\n$1\r\n1\r\n$1\r\n9\r\n"),
        (["SUNIONSTORE", "i2", "i2", "nokey"], ":3\r\n"),
        (["SDIFFSTORE", "i2", "i2", "i2"], ":0\r\n"),
        (["EXISTS", "i2"], ":0\r\n"),
        (["DEBUG", "DIGEST-VALUE", "a", "b", "i1", "d"], "*4\r\n+c1c3c7d2576a2b431d7257e334e6e5862fb961d2\r\n+ca990b5c82f6764b82ccd5956ef1e7dfe48c9637\r\n+8d0dacfefeca40125dab0ab229e9b3385fa989da\r\n+db6fa6d247dc5fcf296628e955a082dc9cd0b645\r\n"),
        (["SADD", "big", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"], ":20\r\n"),
        (["SPOP", "big", "20"], "*20\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n$2\r\n10\r\n$2\r\n11\r\n$2\r\n12\r\n$2\r\n13\r\n$2\r\n14\r\n$2\r\n15\r\n$2\r\n16\r\n$2\r\n17\r\n$2\r\n18\r\n$2\r\n19\r\n$2\r\n20\r\n"),
        (["SADD", "lp", "3", "1", "b", "2"], ":4\r\n"),
        (["SPOP", "lp", "10"], "*4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        (["SADD", "neg", "-5", "100000", "-3000000000", "7"], ":4\r\n"),
        (["SMEMBERS", "neg"], "*4\r\n$11\r\n-3000000000\r\n$2\r\n-5\r\n$1\r\n7\r\n$6\r\n100000\r\n"),
        (["SADD", "neg", "x"], ":1\r\n"),
        (["SMEMBERS", "neg"], "*5\r\n$11\r\n-3000000000\r\n$2\r\n-5\r\n$1\r\n7\r\n$6\r\n100000\r\n$1\r\nx\r\n"),
        (["OBJECT", "ENCODING", "neg"], "$8\r\nlistpack\r\n"),
        (["SADD", "lv", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n"),
        (["OBJECT", "ENCODING", "lv"], "$8\r\nlistpack\r\n"),
        (["SADD", "lv2", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n"),
        (["OBJECT", "ENCODING", "lv2"], "$9\r\nhashtable\r\n"),
        (["SADD", "iv", "1"], ":1\r\n"),
        (["SADD", "iv", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n"),
        (["OBJECT", "ENCODING", "iv"], "$9\r\nhashtable\r\n"),
        (["SADD", "ilong", "12345678901234567890"], ":1\r\n"),
        (["OBJECT", "ENCODING", "ilong"], "$8\r\nlistpack\r\n"),
        (["SADD", "ilong2", "-9223372036854775808", "9223372036854775807"], ":2\r\n"),
        (["SMEMBERS", "ilong2"], "*2\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n"),
        (["OBJECT", "ENCODING", "ilong2"], "$6\r\nintset\r\n"),
        (["SADD", "ilong2", "x"], ":1\r\n"),
        (["OBJECT", "ENCODING", "ilong2"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "ilong2"], "*3\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n$1\r\nx\r\n"),
        (["SRANDMEMBER", "ilong2", "3"], "*3\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n$1\r\nx\r\n"),
        (["SRANDMEMBER", "ilong2", "10"], "*3\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n$1\r\nx\r\n"),
        (["SMISMEMBER", "ilong2", "x", "9223372036854775807", "-9223372036854775808", "y"], "*4\r\n:1\r\n:1\r\n:1\r\n:0\r\n"),
    ]


    static let r72b_3: [([String], String)] = [
        (["FLUSHALL"], "+OK\r\n"),
        (["SADD", "a", "c", "b", "3", "1", "a", "2"], ":6\r\n"),
        (["SADD", "b", "2", "a", "x", "1"], ":4\r\n"),
        (["SINTER", "a", "b"], "~3\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"),
        (["SINTERSTORE", "d", "a", "b"], ":3\r\n"),
        (["OBJECT", "ENCODING", "d"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "d"], "~3\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"),
        (["SUNION", "a", "b"], "~7\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nx\r\n"),
        (["SUNIONSTORE", "u", "b", "a"], ":7\r\n"),
        (["OBJECT", "ENCODING", "u"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "u"], "~7\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n"),
        (["SDIFF", "a", "b"], "~3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n"),
        (["SDIFFSTORE", "df", "a", "b", "nokey"], ":3\r\n"),
        (["SMEMBERS", "df"], "~3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\n3\r\n"),
        (["OBJECT", "ENCODING", "df"], "$8\r\nlistpack\r\n"),
        (["SADD", "i1", "5", "3", "9", "1"], ":4\r\n"),
        (["SADD", "i2", "9", "1", "7"], ":3\r\n"),
        (["SINTERSTORE", "di", "i1", "i2"], ":2\r\n"),
        (["OBJECT", "ENCODING", "di"], "$6\r\nintset\r\n"),
        (["SMEMBERS", "di"], "~2\r\n$1\r\n1\r\n$1\r\n9\r\n"),
        (["SINTERCARD", "2", "i1", "i2"], ":2\r\n"),
        (["SINTERCARD", "2", "i1", "i2", "LIMIT", "1"], ":1\r\n"),
        (["SUNION", "i1", "i2"], "~5\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$1\r\n7\r\n$1\r\n9\r\n"),
        (["SDIFF", "i1", "i2"], "~2\r\n$1\r\n3\r\n$1\r\n5\r\n"),
        (["SET", "str", "hello"], "+OK\r\n"),
        (["EXPIRE", "str", "100"], ":1\r\n"),
        (["SINTERSTORE", "str", "i1", "i2"], ":2\r\n"),
        (["TTL", "str"], ":-1\r\n"),
        (["TYPE", "str"], "+set\r\n"),
        (["SMEMBERS", "str"], "~2\r\n$1\r\n1\r\n$1\r\n9\r\n"),
        (["SINTERSTORE", "i1", "i1", "i2"], ":2\r\n"),
        (["SMEMBERS", "i1"], "~2\r\n$1\r\n1\r\n$1\r\n9\r\n"),
        (["SUNIONSTORE", "i2", "i2", "nokey"], ":3\r\n"),
        (["SDIFFSTORE", "i2", "i2", "i2"], ":0\r\n"),
        (["EXISTS", "i2"], ":0\r\n"),
        (["DEBUG", "DIGEST-VALUE", "a", "b", "i1", "d"], "*4\r\n+c1c3c7d2576a2b431d7257e334e6e5862fb961d2\r\n+ca990b5c82f6764b82ccd5956ef1e7dfe48c9637\r\n+8d0dacfefeca40125dab0ab229e9b3385fa989da\r\n+db6fa6d247dc5fcf296628e955a082dc9cd0b645\r\n"),
        (["SADD", "big", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "20"], ":20\r\n"),
        (["SPOP", "big", "20"], "~20\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n$1\r\n7\r\n$1\r\n8\r\n$1\r\n9\r\n$2\r\n10\r\n$2\r\n11\r\n$2\r\n12\r\n$2\r\n13\r\n$2\r\n14\r\n$2\r\n15\r\n$2\r\n16\r\n$2\r\n17\r\n$2\r\n18\r\n$2\r\n19\r\n$2\r\n20\r\n"),
        (["SADD", "lp", "3", "1", "b", "2"], ":4\r\n"),
        (["SPOP", "lp", "10"], "~4\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        (["SADD", "neg", "-5", "100000", "-3000000000", "7"], ":4\r\n"),
        (["SMEMBERS", "neg"], "~4\r\n$11\r\n-3000000000\r\n$2\r\n-5\r\n$1\r\n7\r\n$6\r\n100000\r\n"),
        (["SADD", "neg", "x"], ":1\r\n"),
        (["SMEMBERS", "neg"], "~5\r\n$11\r\n-3000000000\r\n$2\r\n-5\r\n$1\r\n7\r\n$6\r\n100000\r\n$1\r\nx\r\n"),
        (["OBJECT", "ENCODING", "neg"], "$8\r\nlistpack\r\n"),
        (["SADD", "lv", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n"),
        (["OBJECT", "ENCODING", "lv"], "$8\r\nlistpack\r\n"),
        (["SADD", "lv2", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n"),
        (["OBJECT", "ENCODING", "lv2"], "$9\r\nhashtable\r\n"),
        (["SADD", "iv", "1"], ":1\r\n"),
        (["SADD", "iv", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"], ":1\r\n"),
        (["OBJECT", "ENCODING", "iv"], "$9\r\nhashtable\r\n"),
        (["SADD", "ilong", "12345678901234567890"], ":1\r\n"),
        (["OBJECT", "ENCODING", "ilong"], "$8\r\nlistpack\r\n"),
        (["SADD", "ilong2", "-9223372036854775808", "9223372036854775807"], ":2\r\n"),
        (["SMEMBERS", "ilong2"], "~2\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n"),
        (["OBJECT", "ENCODING", "ilong2"], "$6\r\nintset\r\n"),
        (["SADD", "ilong2", "x"], ":1\r\n"),
        (["OBJECT", "ENCODING", "ilong2"], "$8\r\nlistpack\r\n"),
        (["SMEMBERS", "ilong2"], "~3\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n$1\r\nx\r\n"),
        (["SRANDMEMBER", "ilong2", "3"], "*3\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n$1\r\nx\r\n"),
        (["SRANDMEMBER", "ilong2", "10"], "*3\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n$1\r\nx\r\n"),
        (["SMISMEMBER", "ilong2", "x", "9223372036854775807", "-9223372036854775808", "y"], "*4\r\n:1\r\n:1\r\n:1\r\n:0\r\n"),
    ]

}
