import ApusCommands
import ApusRESP
import ApusStore
import Testing

// Expected replies were taken from redis-server 7.0.15 (t_string.c is the same in 7.2.4 for
// every reply checked here).

/// A collection object for WRONGTYPE tests (the list family is not needed to make one).

extension Harness {
    /// The live entry's encoding and TTL, read straight from the store (no OBJECT/PTTL needed).
    fileprivate func inspect(_ key: String) -> (encoding: StringEncoding?, expireAt: Int64?, clock: UInt32)? {
        let bytes = Array(key.utf8)
        return bytes.withUnsafeBytes { raw in
            server.keyspace.databases[client.db].withShard(for: raw) { shard, hash in
                shard.lookup(raw, hash: hash, now: currentTimeMillis()).map {
                    ($0.type == .string ? StringEncoding(rawValue: $0.encoding) : nil, $0.expireAt, $0.accessClock)
                }
            }
        }
    }

    fileprivate func encoding(_ key: String) -> StringEncoding? { inspect(key)?.encoding }

    /// Milliseconds to live, -1 without TTL, -2 when missing (like PTTL).
    fileprivate func pttl(_ key: String) -> Int64 {
        guard let info = inspect(key) else { return -2 }
        guard let at = info.expireAt else { return -1 }
        return at - currentTimeMillis()
    }

    /// Stores a non-string value under `key` (a list, as far as TYPE is concerned).
    fileprivate func makeList(_ key: String) {
        let bytes = Array(key.utf8)
        bytes.withUnsafeBytes { raw in
            server.keyspace.databases[client.db].withShard(for: raw) { shard, hash in
                let entry = Entry.allocate(key: raw, object: ListObject(), type: .list, encoding: 0, expireAt: nil)
                shard.insert(entry, hash: hash)
            }
        }
    }

    fileprivate var dirty: Int { client.worker.dirty }

    fileprivate func bytesReply(_ args: [UInt8]...) -> [UInt8] { raw(args) }
}

private let wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
private let notInteger = "-ERR value is not an integer or out of range\r\n"
private let notFloat = "-ERR value is not a valid float\r\n"
private let syntaxError = "-ERR syntax error\r\n"
private let tooLarge = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"

/// `Harness()` with its default (throwing-typed) configure closure needs `try` under `rethrows`;
/// an explicit non-throwing closure does not.
private func makeHarness() -> Harness { Harness { _ in } }

private func bulk(_ s: String) -> String { "$\(s.utf8.count)\r\n\(s)\r\n" }

@Suite struct StringCommandsTests {
    // MARK: GET / SET basics

    @Test func getReturnsValueOrNull() {
        let h = makeHarness()
        #expect(h.send("GET", "k") == "$-1\r\n")
        #expect(h.send("SET", "k", "v") == "+OK\r\n")
        #expect(h.send("GET", "k") == "$1\r\nv\r\n")
        #expect(h.send("SET", "e", "") == "+OK\r\n")
        #expect(h.send("GET", "e") == "$0\r\n\r\n")
        h.makeList("l")
        #expect(h.send("GET", "l") == wrongType)
    }

    @Test func resp3NullsAreUnderscore() {
        let h = makeHarness()
        _ = h.send("HELLO", "3")
        #expect(h.send("GET", "nokey") == "_\r\n")
        #expect(h.send("SET", "k", "v", "XX") == "_\r\n")
        #expect(h.send("SET", "k", "v", "NX", "GET") == "_\r\n")
        #expect(h.send("GETEX", "nokey") == "_\r\n")
        #expect(h.send("GETDEL", "nokey") == "_\r\n")
        #expect(h.send("GETSET", "nokey2", "v") == "_\r\n")
        #expect(h.send("MGET", "nokey", "k") == "*2\r\n_\r\n$1\r\nv\r\n")
        // GETRANGE of a missing key is an empty bulk string in both protocols.
        #expect(h.send("GETRANGE", "nokey", "0", "1") == "$0\r\n\r\n")
    }

    @Test func setIsBinarySafe() {
        let h = makeHarness()
        let value: [UInt8] = [0, 13, 10, 255, 0x41]
        #expect(h.raw([Array("SET".utf8), [0, 1], value]) == Array("+OK\r\n".utf8))
        #expect(h.raw([Array("GET".utf8), [0, 1]]) == Array("$5\r\n".utf8) + value + [13, 10])
        #expect(h.raw([Array("GET".utf8), [0, 2]]) == Array("$-1\r\n".utf8))
    }

    @Test func setOverwritesAnyTypeAndClearsTTL() {
        let h = makeHarness()
        h.makeList("l")
        #expect(h.send("SET", "l", "v") == "+OK\r\n")
        #expect(h.send("GET", "l") == "$1\r\nv\r\n")
        #expect(h.send("SET", "k", "v", "EX", "100") == "+OK\r\n")
        #expect(h.pttl("k") > 99_000)
        #expect(h.send("SET", "k", "w") == "+OK\r\n")
        #expect(h.pttl("k") == -1)
    }

    @Test func setEncodingsFollowRedis() {
        let h = makeHarness()
        h.send("SET", "i", "12345")
        #expect(h.encoding("i") == .int)
        h.send("SET", "i", "-9223372036854775808")
        #expect(h.encoding("i") == .int)
        h.send("SET", "s", "012")
        #expect(h.encoding("s") == .embstr)
        h.send("SET", "s", String(repeating: "x", count: 44))
        #expect(h.encoding("s") == .embstr)
        h.send("SET", "s", String(repeating: "x", count: 45))
        #expect(h.encoding("s") == .raw)
        // Same length, different content: overwritten in place, encoding recomputed.
        h.send("SET", "s", "123")
        h.send("SET", "s", "abc")
        #expect(h.encoding("s") == .embstr)
        #expect(h.send("GET", "s") == bulk("abc"))
    }

    // MARK: SET options

    @Test func setNXAndXX() {
        let h = makeHarness()
        #expect(h.send("SET", "k", "v", "XX") == "$-1\r\n")
        #expect(h.send("GET", "k") == "$-1\r\n")
        #expect(h.send("SET", "k", "v", "NX") == "+OK\r\n")
        #expect(h.send("SET", "k", "w", "nx") == "$-1\r\n")
        #expect(h.send("GET", "k") == bulk("v"))
        #expect(h.send("SET", "k", "w", "xx") == "+OK\r\n")
        #expect(h.send("GET", "k") == bulk("w"))
        #expect(h.send("SET", "k", "w", "NX", "NX") == "$-1\r\n")
    }

    @Test func setGetOption() {
        let h = makeHarness()
        #expect(h.send("SET", "k", "v", "GET") == "$-1\r\n")
        #expect(h.send("SET", "k", "w", "GET", "GET") == bulk("v"))
        #expect(h.send("GET", "k") == bulk("w"))
        // NX + GET with an existing key: the old value, nothing stored.
        #expect(h.send("SET", "k", "x", "NX", "GET") == bulk("w"))
        #expect(h.send("GET", "k") == bulk("w"))
        // XX + GET with a missing key: nil, nothing stored.
        #expect(h.send("SET", "n", "x", "XX", "GET") == "$-1\r\n")
        #expect(h.send("GET", "n") == "$-1\r\n")
        #expect(h.send("SET", "n", "x", "NX", "GET") == "$-1\r\n")
        #expect(h.send("GET", "n") == bulk("x"))
        #expect(h.send("SET", "k", "y", "XX", "GET") == bulk("w"))
        #expect(h.send("GET", "k") == bulk("y"))
        // Wrong type: WRONGTYPE, even with NX, and nothing stored.
        h.makeList("l")
        #expect(h.send("SET", "l", "v", "GET") == wrongType)
        #expect(h.send("SET", "l", "v", "NX", "GET") == wrongType)
        #expect(h.send("GET", "l") == wrongType)
    }

    @Test func setExpireOptions() {
        let h = makeHarness()
        #expect(h.send("SET", "k", "v", "EX", "100") == "+OK\r\n")
        #expect((99_000...100_000).contains(h.pttl("k")))
        #expect(h.send("SET", "k", "v", "PX", "5000") == "+OK\r\n")
        #expect((4_000...5_000).contains(h.pttl("k")))
        let now = currentTimeMillis()
        #expect(h.send("SET", "k", "v", "EXAT", String(now / 1000 + 200)) == "+OK\r\n")
        #expect((198_000...200_000).contains(h.pttl("k")))
        #expect(h.send("SET", "k", "v", "PXAT", String(now + 300_000)) == "+OK\r\n")
        #expect(h.inspect("k")?.expireAt == now + 300_000)
        // Repeating the same form is allowed; the last value wins.
        #expect(h.send("SET", "k", "v", "EX", "10", "ex", "20") == "+OK\r\n")
        #expect((19_000...20_000).contains(h.pttl("k")))
        // KEEPTTL keeps it; a plain SET clears it.
        #expect(h.send("SET", "k", "w", "KEEPTTL") == "+OK\r\n")
        #expect((19_000...20_000).contains(h.pttl("k")))
        #expect(h.send("SET", "k", "w", "XX", "PX", "10000") == "+OK\r\n")
        #expect((9_000...10_000).contains(h.pttl("k")))
        #expect(h.send("SET", "k", "w") == "+OK\r\n")
        #expect(h.pttl("k") == -1)
        // The largest absolute times are accepted.
        #expect(h.send("SET", "k", "v", "EXAT", "9223372036854775") == "+OK\r\n")
        #expect(h.inspect("k")?.expireAt == 9_223_372_036_854_775_000)
        #expect(h.send("SET", "k", "v", "PXAT", "9223372036854775807") == "+OK\r\n")
        #expect(h.inspect("k")?.expireAt == Int64.max)
    }

    @Test func setWithPastAbsoluteTimeStoresAnAlreadyExpiredKey() {
        let h = makeHarness()
        h.send("SET", "k", "old")
        #expect(h.send("SET", "k", "v", "PXAT", "1", "GET") == bulk("old"))
        #expect(h.send("GET", "k") == "$-1\r\n")
        #expect(h.send("SET", "k", "v", "EXAT", "1") == "+OK\r\n")
        #expect(h.send("GET", "k") == "$-1\r\n")
    }

    @Test func setSyntaxErrors() {
        let h = makeHarness()
        for args in [
            ["SET", "k", "v", "NX", "XX"], ["SET", "k", "v", "XX", "NX"], ["SET", "k", "v", "EX", "10", "PX", "10"],
            ["SET", "k", "v", "PX", "10", "EXAT", "10"], ["SET", "k", "v", "EXAT", "10", "PXAT", "10"],
            ["SET", "k", "v", "KEEPTTL", "EX", "10"], ["SET", "k", "v", "PX", "10", "KEEPTTL"], ["SET", "k", "v", "EX"],
            ["SET", "k", "v", "PERSIST"], ["SET", "k", "v", "FOO"], ["SET", "k", "v", "GETX"], ["SET", "k", "v", "EX", "10", "NX", "PXAT"],
        ] {
            #expect(h.send(args) == syntaxError, "\(args)")
        }
        #expect(h.send("GET", "k") == "$-1\r\n")
    }

    @Test func setExpireErrors() {
        let h = makeHarness()
        let invalid = "-ERR invalid expire time in 'set' command\r\n"
        #expect(h.send("SET", "k", "v", "EX", "abc") == notInteger)
        #expect(h.send("SET", "k", "v", "EX", "0") == invalid)
        #expect(h.send("SET", "k", "v", "EX", "-1") == invalid)
        #expect(h.send("SET", "k", "v", "PX", "0") == invalid)
        #expect(h.send("SET", "k", "v", "EXAT", "0") == invalid)
        #expect(h.send("SET", "k", "v", "PXAT", "-5") == invalid)
        // Seconds beyond LLONG_MAX/1000, and relative times that overflow when now is added.
        #expect(h.send("SET", "k", "v", "EX", "9223372036854776") == invalid)
        #expect(h.send("SET", "k", "v", "EX", "9223372036854775") == invalid)
        #expect(h.send("SET", "k", "v", "PX", "9223372036854775807") == invalid)
        #expect(h.send("SET", "k", "v", "EXAT", "9223372036854776") == invalid)
        #expect(h.send("SET", "k", "v", "EX", "9223372036854775808") == notInteger)
        #expect(h.send("GET", "k") == "$-1\r\n")
    }

    @Test func setChecksExpireBeforeTypeBeforeNX() {
        let h = makeHarness()
        h.makeList("l")
        // The expire value is validated before GET looks at the type.
        #expect(h.send("SET", "l", "v", "EX", "abc", "GET") == notInteger)
        #expect(h.send("SET", "l", "v", "GET", "EX", "0") == "-ERR invalid expire time in 'set' command\r\n")
        // Syntax errors come before everything.
        #expect(h.send("SET", "l", "v", "GET", "EX", "0", "BAD") == syntaxError)
        // Without GET a wrong-typed key is just overwritten.
        #expect(h.send("SET", "l", "v", "XX") == "+OK\r\n")
        #expect(h.send("GET", "l") == bulk("v"))
    }

    // MARK: SETNX / SETEX / PSETEX / GETSET

    @Test func setnx() {
        let h = makeHarness()
        #expect(h.send("SETNX", "k", "v") == ":1\r\n")
        #expect(h.send("SETNX", "k", "w") == ":0\r\n")
        #expect(h.send("GET", "k") == bulk("v"))
        h.makeList("l")
        #expect(h.send("SETNX", "l", "w") == ":0\r\n")
        // An expired key counts as missing.
        h.send("SET", "x", "1", "PXAT", "1")
        #expect(h.send("SETNX", "x", "2") == ":1\r\n")
        #expect(h.send("GET", "x") == bulk("2"))
    }

    @Test func setexAndPsetex() {
        let h = makeHarness()
        #expect(h.send("SETEX", "k", "100", "v") == "+OK\r\n")
        #expect(h.send("GET", "k") == bulk("v"))
        #expect((99_000...100_000).contains(h.pttl("k")))
        #expect(h.send("PSETEX", "p", "5000", "v") == "+OK\r\n")
        #expect((4_000...5_000).contains(h.pttl("p")))
        #expect(h.send("SETEX", "k", "0", "v") == "-ERR invalid expire time in 'setex' command\r\n")
        #expect(h.send("SETEX", "k", "-10", "v") == "-ERR invalid expire time in 'setex' command\r\n")
        #expect(h.send("SETEX", "k", "x", "v") == notInteger)
        #expect(h.send("PSETEX", "k", "0", "v") == "-ERR invalid expire time in 'psetex' command\r\n")
        #expect(h.send("PSETEX", "k", "9223372036854775807", "v") == "-ERR invalid expire time in 'psetex' command\r\n")
        #expect(h.send("SETEX", "k", "10") == "-ERR wrong number of arguments for 'setex' command\r\n")
        h.makeList("l")
        #expect(h.send("SETEX", "l", "10", "v") == "+OK\r\n")
        #expect(h.send("GET", "l") == bulk("v"))
    }

    @Test func getsetReturnsOldValueAndClearsTTL() {
        let h = makeHarness()
        #expect(h.send("GETSET", "k", "v") == "$-1\r\n")
        #expect(h.send("GETSET", "k", "w") == bulk("v"))
        #expect(h.send("GET", "k") == bulk("w"))
        h.send("SET", "t", "1", "EX", "100")
        #expect(h.send("GETSET", "t", "2") == bulk("1"))
        #expect(h.pttl("t") == -1)
        h.makeList("l")
        #expect(h.send("GETSET", "l", "v") == wrongType)
        #expect(h.send("GETSET", "k") == "-ERR wrong number of arguments for 'getset' command\r\n")
    }

    // MARK: GETDEL / GETEX

    @Test func getdel() {
        let h = makeHarness()
        h.send("SET", "k", "v")
        let before = h.dirty
        #expect(h.send("GETDEL", "k") == bulk("v"))
        #expect(h.dirty == before + 1)
        #expect(h.send("GETDEL", "k") == "$-1\r\n")
        #expect(h.dirty == before + 1)
        #expect(h.send("GET", "k") == "$-1\r\n")
        h.makeList("l")
        #expect(h.send("GETDEL", "l") == wrongType)
        #expect(h.inspect("l") != nil)
    }

    @Test func getexOptions() {
        let h = makeHarness()
        h.send("SET", "k", "v")
        #expect(h.send("GETEX", "k") == bulk("v"))
        #expect(h.pttl("k") == -1)
        #expect(h.send("GETEX", "k", "EX", "100") == bulk("v"))
        #expect((99_000...100_000).contains(h.pttl("k")))
        #expect(h.send("GETEX", "k", "PX", "5000") == bulk("v"))
        #expect((4_000...5_000).contains(h.pttl("k")))
        let now = currentTimeMillis()
        #expect(h.send("GETEX", "k", "EXAT", String(now / 1000 + 200)) == bulk("v"))
        #expect((198_000...200_000).contains(h.pttl("k")))
        #expect(h.send("GETEX", "k", "PXAT", String(now + 300_000)) == bulk("v"))
        #expect(h.inspect("k")?.expireAt == now + 300_000)
        #expect(h.send("GETEX", "k", "PERSIST") == bulk("v"))
        #expect(h.pttl("k") == -1)
        // PERSIST on a persistent key changes nothing (not counted as a write).
        let before = h.dirty
        #expect(h.send("GETEX", "k", "persist", "PERSIST") == bulk("v"))
        #expect(h.dirty == before)
        #expect(h.send("GETEX", "k", "ex", "10", "EX", "20") == bulk("v"))
        #expect((19_000...20_000).contains(h.pttl("k")))
        #expect(h.dirty == before + 1)
    }

    @Test func getexWithPastAbsoluteTimeDeletesAfterReplying() {
        let h = makeHarness()
        h.send("SET", "k", "v")
        #expect(h.send("GETEX", "k", "EXAT", "1") == bulk("v"))
        #expect(h.inspect("k") == nil)
        h.send("SET", "k", "v")
        #expect(h.send("GETEX", "k", "PXAT", "1") == bulk("v"))
        #expect(h.send("GET", "k") == "$-1\r\n")
    }

    @Test func getexErrorsAndTheirOrder() {
        let h = makeHarness()
        let invalid = "-ERR invalid expire time in 'getex' command\r\n"
        h.send("SET", "k", "v")
        for args in [
            ["GETEX", "k", "NX"], ["GETEX", "k", "XX"], ["GETEX", "k", "GET"], ["GETEX", "k", "KEEPTTL"],
            ["GETEX", "k", "PERSIST", "EX", "1"], ["GETEX", "k", "EX", "1", "PERSIST"], ["GETEX", "k", "EX", "1", "PX", "1"],
            ["GETEX", "k", "EX"], ["GETEX", "nokey", "foo"],
        ] {
            #expect(h.send(args) == syntaxError, "\(args)")
        }
        #expect(h.send("GETEX", "k", "EX", "0") == invalid)
        #expect(h.send("GETEX", "k", "PX", "-1") == invalid)
        #expect(h.send("GETEX", "k", "EX", "abc") == notInteger)
        #expect(h.pttl("k") == -1)
        // The key is looked at before the expire value: a missing key is nil, a list is WRONGTYPE.
        #expect(h.send("GETEX", "nokey", "EX", "0") == "$-1\r\n")
        #expect(h.send("GETEX", "nokey", "EX", "abc") == "$-1\r\n")
        h.makeList("l")
        #expect(h.send("GETEX", "l", "EX", "abc") == wrongType)
        #expect(h.send("GETEX") == "-ERR wrong number of arguments for 'getex' command\r\n")
    }

    // MARK: MGET / MSET / MSETNX

    @Test func mget() {
        let h = makeHarness()
        h.send("SET", "a", "1")
        h.send("SET", "b", "2")
        h.makeList("l")
        #expect(h.send("MGET", "a", "b", "nokey", "l", "a") == "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$1\r\n1\r\n")
        #expect(h.send("MGET", "nokey") == "*1\r\n$-1\r\n")
        #expect(h.send("MGET") == "-ERR wrong number of arguments for 'mget' command\r\n")
    }

    @Test func mgetOfManyKeysAcrossAllShards() {
        let h = makeHarness()
        var args = ["MGET"]
        var expected = "*300\r\n"
        for i in 0..<300 {
            if i % 3 != 0 { h.send("SET", "key:\(i)", "value-\(i)") }
            args.append("key:\(i)")
            expected += i % 3 != 0 ? bulk("value-\(i)") : "$-1\r\n"
        }
        #expect(h.send(args) == expected)
    }

    @Test func mset() {
        let h = makeHarness()
        let before = h.dirty
        #expect(h.send("MSET", "a", "1", "b", "2", "a", "3") == "+OK\r\n")
        #expect(h.dirty == before + 3)
        #expect(h.send("MGET", "a", "b") == "*2\r\n$1\r\n3\r\n$1\r\n2\r\n")
        h.send("SET", "t", "x", "EX", "100")
        h.makeList("l")
        #expect(h.send("MSET", "t", "y", "l", "z") == "+OK\r\n")
        #expect(h.pttl("t") == -1)
        #expect(h.send("GET", "l") == bulk("z"))
        #expect(h.encoding("a") == .int)
        #expect(h.send("MSET", "a") == "-ERR wrong number of arguments for 'mset' command\r\n")
        #expect(h.send("MSET", "a", "1", "b") == "-ERR wrong number of arguments for 'mset' command\r\n")
        #expect(h.send("MSETNX", "a", "1", "b") == "-ERR wrong number of arguments for 'msetnx' command\r\n")
    }

    @Test func msetnxIsAllOrNothing() {
        let h = makeHarness()
        #expect(h.send("MSETNX", "x1", "1", "x2", "2") == ":1\r\n")
        #expect(h.send("MSETNX", "x2", "3", "x3", "3") == ":0\r\n")
        #expect(h.send("MGET", "x2", "x3") == "*2\r\n$1\r\n2\r\n$-1\r\n")
        // The same new key twice: stored, the last value wins.
        #expect(h.send("MSETNX", "y", "1", "y", "2") == ":1\r\n")
        #expect(h.send("GET", "y") == bulk("2"))
        #expect(h.send("MSETNX", "y", "1", "y", "2") == ":0\r\n")
        h.makeList("l")
        #expect(h.send("MSETNX", "z", "1", "l", "2") == ":0\r\n")
        #expect(h.send("GET", "z") == "$-1\r\n")
        // An expired key does not exist.
        h.send("SET", "e", "1", "PXAT", "1")
        #expect(h.send("MSETNX", "e", "2", "f", "3") == ":1\r\n")
        // Many keys over every shard.
        var args = ["MSETNX"]
        for i in 0..<100 { args += ["m\(i)", "\(i)"] }
        #expect(h.send(args) == ":1\r\n")
        #expect(h.send("GET", "m99") == bulk("99"))
        args[args.count - 1] = "new"
        #expect(h.send(args) == ":0\r\n")
        #expect(h.send("GET", "m99") == bulk("99"))
    }

    // MARK: INCR family

    @Test func incrAndDecr() {
        let h = makeHarness()
        #expect(h.send("INCR", "n") == ":1\r\n")
        #expect(h.encoding("n") == .int)
        #expect(h.send("INCR", "n") == ":2\r\n")
        #expect(h.send("DECR", "n") == ":1\r\n")
        #expect(h.send("DECR", "m") == ":-1\r\n")
        #expect(h.send("INCRBY", "n", "100") == ":101\r\n")
        #expect(h.send("INCRBY", "n", "-200") == ":-99\r\n")
        #expect(h.send("DECRBY", "n", "1") == ":-100\r\n")
        #expect(h.send("DECRBY", "nn", "-5") == ":5\r\n")
        #expect(h.send("GET", "n") == bulk("-100"))
        h.send("SET", "big", "17179869184")
        #expect(h.send("INCRBY", "big", "17179869184") == ":34359738368\r\n")
        #expect(h.send("DECRBY", "big", "17179869185") == ":17179869183\r\n")
    }

    @Test func incrKeepsTTLAndMakesIntEncoding() {
        let h = makeHarness()
        h.send("SET", "n", "1")
        h.send("APPEND", "n", "2")
        #expect(h.encoding("n") == .raw)
        #expect(h.send("INCR", "n") == ":13\r\n")
        #expect(h.encoding("n") == .int)
        h.send("SET", "t", "99", "EX", "100")
        #expect(h.send("INCR", "t") == ":100\r\n")
        #expect((99_000...100_000).contains(h.pttl("t")))
        #expect(h.send("DECRBY", "t", "1000") == ":-900\r\n")
        #expect((99_000...100_000).contains(h.pttl("t")))
    }

    @Test func incrErrors() {
        let h = makeHarness()
        let overflow = "-ERR increment or decrement would overflow\r\n"
        for bad in ["abc", " 1", "1 ", "01", "-0", "1.0", "", "+1", "9223372036854775808"] {
            h.send("SET", "s", bad)
            #expect(h.send("INCR", "s") == notInteger, "\(bad)")
            #expect(h.send("GET", "s") == bulk(bad))
        }
        h.send("SET", "n", "9223372036854775807")
        #expect(h.send("INCR", "n") == overflow)
        #expect(h.send("INCRBY", "n", "1") == overflow)
        #expect(h.send("DECR", "n") == ":9223372036854775806\r\n")
        h.send("SET", "n", "-9223372036854775808")
        #expect(h.send("DECR", "n") == overflow)
        #expect(h.send("INCRBY", "n", "-1") == overflow)
        #expect(h.send("INCRBY", "n", "9223372036854775807") == ":-1\r\n")
        #expect(h.send("DECRBY", "n", "-9223372036854775808") == "-ERR decrement would overflow\r\n")
        #expect(h.send("DECRBY", "nokey", "-9223372036854775808") == "-ERR decrement would overflow\r\n")
        #expect(h.send("INCRBY", "n", "abc") == notInteger)
        #expect(h.send("INCRBY", "n", "9223372036854775808") == notInteger)
        #expect(h.send("DECRBY", "n", "1.5") == notInteger)
        h.makeList("l")
        #expect(h.send("INCR", "l") == wrongType)
        #expect(h.send("DECR", "l") == wrongType)
        #expect(h.send("INCRBY", "l", "1") == wrongType)
        // The increment is parsed before the key is looked at.
        #expect(h.send("INCRBY", "l", "x") == notInteger)
        #expect(h.send("DECRBY", "l", "-9223372036854775808") == "-ERR decrement would overflow\r\n")
    }

    @Test func incrbyfloat() {
        let h = makeHarness()
        #expect(h.send("INCRBYFLOAT", "f", "1") == bulk("1"))
        #expect(h.send("INCRBYFLOAT", "f", "0.25") == bulk("1.25"))
        #expect(h.send("GET", "f") == bulk("1.25"))
        h.send("SET", "f", "10.5")
        #expect(h.send("INCRBYFLOAT", "f", "0.1") == bulk("10.6"))
        #expect(h.send("INCRBYFLOAT", "f", "-10.6") == bulk("0"))
        h.send("SET", "f", "17179869184")
        #expect(h.send("INCRBYFLOAT", "f", "1.5") == bulk("17179869185.5"))
        h.send("SET", "f", "5.0e3")
        #expect(h.send("INCRBYFLOAT", "f", "2.0e2") == bulk("5200"))
        #expect(h.send("INCRBYFLOAT", "g", "0.1") == bulk("0.1"))
        #expect(h.send("INCRBYFLOAT", "g", "0.2") == bulk("0.3"))
        #expect(h.send("INCRBYFLOAT", "h", "-0") == bulk("0"))
        #expect(h.send("INCRBYFLOAT", "x", "0x10") == bulk("16"))
        #expect(h.send("INCRBYFLOAT", "y", ".5") == bulk("0.5"))
        #expect(h.send("INCRBYFLOAT", "y", "5.") == bulk("5.5"))
        h.send("SET", "z", "1")
        #expect(h.send("INCRBYFLOAT", "z", "-1.1") == bulk("-0.1"))
        #expect(h.send("INCRBYFLOAT", "q", String(1.0 / 41)) == bulk("0.02439024390243902"))
        #expect(h.send("INCRBYFLOAT", "q", String(-1.0 / 41)) == bulk("0"))
    }

    @Test func incrbyfloatEncodingAndTTL() {
        let h = makeHarness()
        h.send("SET", "f", "1", "EX", "100")
        #expect(h.send("INCRBYFLOAT", "f", "1") == bulk("2"))
        // Redis stores the formatted result as a plain string, never int.
        #expect(h.encoding("f") == .embstr)
        #expect((99_000...100_000).contains(h.pttl("f")))
        #expect(h.send("INCRBYFLOAT", "f", "1e50") == bulk("100000000000000000003583830118858923890798487404544"))
        #expect(h.encoding("f") == .raw)
    }

    @Test func incrbyfloatErrors() {
        let h = makeHarness()
        h.send("SET", "f", "1")
        #expect(h.send("INCRBYFLOAT", "f", "abc") == notFloat)
        #expect(h.send("INCRBYFLOAT", "f", "nan") == notFloat)
        #expect(h.send("INCRBYFLOAT", "f", " 1") == notFloat)
        #expect(h.send("INCRBYFLOAT", "f", "") == notFloat)
        #expect(h.send("INCRBYFLOAT", "f", "inf") == "-ERR increment would produce NaN or Infinity\r\n")
        #expect(h.send("INCRBYFLOAT", "f", "+inf") == "-ERR increment would produce NaN or Infinity\r\n")
        #expect(h.send("GET", "f") == bulk("1"))
        for bad in ["    11", "11    ", " 11 ", "abc", ""] {
            h.send("SET", "s", bad)
            #expect(h.send("INCRBYFLOAT", "s", "1.0") == notFloat, "\(bad)")
        }
        // An embedded NUL ends strtold early: not a float.
        h.send("SET", "s", "1")
        h.send("SETRANGE", "s", "2", "2")
        #expect(h.send("INCRBYFLOAT", "s", "1") == notFloat)
        h.makeList("l")
        #expect(h.send("INCRBYFLOAT", "l", "1") == wrongType)
        // The type is checked before the increment is parsed.
        #expect(h.send("INCRBYFLOAT", "l", "abc") == wrongType)
    }

    // MARK: APPEND / SETRANGE / GETRANGE / STRLEN

    @Test func append() {
        let h = makeHarness()
        #expect(h.send("APPEND", "a", "123") == ":3\r\n")
        #expect(h.encoding("a") == .int)
        #expect(h.send("APPEND", "a", "") == ":3\r\n")
        #expect(h.encoding("a") == .raw)
        #expect(h.send("APPEND", "a", "45") == ":5\r\n")
        #expect(h.send("GET", "a") == bulk("12345"))
        #expect(h.send("APPEND", "b", "hello") == ":5\r\n")
        #expect(h.encoding("b") == .embstr)
        #expect(h.send("APPEND", "c", String(repeating: "x", count: 50)) == ":50\r\n")
        #expect(h.encoding("c") == .raw)
        h.send("SET", "t", "x", "EX", "100")
        #expect(h.send("APPEND", "t", "y") == ":2\r\n")
        #expect((99_000...100_000).contains(h.pttl("t")))
        #expect(h.send("GET", "t") == bulk("xy"))
        h.makeList("l")
        #expect(h.send("APPEND", "l", "x") == wrongType)
    }

    @Test func appendSizeLimit() throws {
        let h = makeHarness()
        try h.server.config.set(arguments: ["proto-max-bulk-len", "1mb"])
        #expect(h.send("SETRANGE", "k", "1048570", "abcd") == ":1048574\r\n")
        #expect(h.send("APPEND", "k", "xy") == ":1048576\r\n")
        #expect(h.send("APPEND", "k", "z") == tooLarge)
        #expect(h.send("STRLEN", "k") == ":1048576\r\n")
        // Even an empty append is refused once the value is over the (lowered) limit.
        #expect(h.send("SETRANGE", "k", "1048576", "x") == tooLarge)
        #expect(h.send("APPEND", "k", "") == ":1048576\r\n")
    }

    @Test func setrange() {
        let h = makeHarness()
        #expect(h.send("SETRANGE", "e", "0", "") == ":0\r\n")
        #expect(h.inspect("e") == nil)
        #expect(h.send("SETRANGE", "e", "5", "x") == ":6\r\n")
        #expect(h.raw([Array("GET".utf8), Array("e".utf8)]) == Array("$6\r\n".utf8) + [0, 0, 0, 0, 0, 0x78, 13, 10])
        #expect(h.encoding("e") == .raw)
        h.send("SET", "g", "123")
        #expect(h.send("SETRANGE", "g", "0", "") == ":3\r\n")
        #expect(h.encoding("g") == .int)
        #expect(h.send("SETRANGE", "g", "1", "9") == ":3\r\n")
        #expect(h.encoding("g") == .raw)
        #expect(h.send("GET", "g") == bulk("193"))
        h.send("SET", "w", "Hello World")
        #expect(h.send("SETRANGE", "w", "6", "Redis") == ":11\r\n")
        #expect(h.send("GET", "w") == bulk("Hello Redis"))
        #expect(h.send("SETRANGE", "w", "6", "Redis!!") == ":13\r\n")
        #expect(h.send("GET", "w") == bulk("Hello Redis!!"))
        h.send("SET", "t", "abc", "PX", "100000")
        #expect(h.send("SETRANGE", "t", "10", "z") == ":11\r\n")
        #expect((99_000...100_000).contains(h.pttl("t")))
    }

    @Test func setrangeErrors() {
        let h = makeHarness()
        #expect(h.send("SETRANGE", "k", "-1", "x") == "-ERR offset is out of range\r\n")
        #expect(h.send("SETRANGE", "k", "x", "x") == notInteger)
        #expect(h.send("SETRANGE", "k", "9223372036854775808", "x") == notInteger)
        #expect(h.send("SETRANGE", "k", "536870912", "x") == tooLarge)
        #expect(h.send("SETRANGE", "k", "9223372036854775807", "x") == tooLarge)
        #expect(h.send("SETRANGE", "k", "2147483647", "x") == tooLarge)
        // Nothing to write: no size check, no key.
        #expect(h.send("SETRANGE", "k", "536870912", "") == ":0\r\n")
        #expect(h.inspect("k") == nil)
        h.makeList("l")
        #expect(h.send("SETRANGE", "l", "0", "x") == wrongType)
        #expect(h.send("SETRANGE", "l", "0", "") == wrongType)
        #expect(h.send("SETRANGE", "l", "-1", "x") == "-ERR offset is out of range\r\n")
    }

    @Test func getrangeIndexes() {
        let h = makeHarness()
        h.send("SET", "s", "Hello World")
        let cases: [(Int, Int, String)] = [
            (0, 3, "Hell"), (-3, -1, "rld"), (0, -1, "Hello World"), (10, 100, "d"), (-1, -5, ""), (5, 3, ""),
            (-100, -90, "H"), (-100, 2, "Hel"), (0, -100, "H"), (-5, -100, ""), (100, 200, ""), (11, 11, ""),
            (0, 4_294_967_297, "Hello World"), (Int.max, Int.min, ""), (Int.min, Int.max, "Hello World"),
        ]
        for (start, end, expected) in cases {
            #expect(h.send("GETRANGE", "s", String(start), String(end)) == bulk(expected), "\(start) \(end)")
            #expect(h.send("SUBSTR", "s", String(start), String(end)) == bulk(expected), "\(start) \(end)")
        }
        h.send("SET", "e", "")
        #expect(h.send("GETRANGE", "e", "0", "-1") == "$0\r\n\r\n")
        #expect(h.send("GETRANGE", "e", "-1", "0") == "$0\r\n\r\n")
        h.send("SET", "i", "12345")
        #expect(h.send("GETRANGE", "i", "1", "2") == bulk("23"))
    }

    @Test func getrangeErrors() {
        let h = makeHarness()
        #expect(h.send("GETRANGE", "nokey", "0", "1") == "$0\r\n\r\n")
        #expect(h.send("GETRANGE", "nokey", "a", "1") == notInteger)
        #expect(h.send("GETRANGE", "nokey", "0", "1.5") == notInteger)
        h.makeList("l")
        #expect(h.send("GETRANGE", "l", "0", "1") == wrongType)
        #expect(h.send("GETRANGE", "l", "x", "1") == notInteger)
        #expect(h.send("SUBSTR", "l", "0", "1") == wrongType)
    }

    @Test func strlen() {
        let h = makeHarness()
        #expect(h.send("STRLEN", "nokey") == ":0\r\n")
        h.send("SET", "k", "hello")
        #expect(h.send("STRLEN", "k") == ":5\r\n")
        h.send("SET", "i", "-12345")
        #expect(h.send("STRLEN", "i") == ":6\r\n")
        h.makeList("l")
        #expect(h.send("STRLEN", "l") == wrongType)
    }

    // MARK: LCS

    static let rna1 = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG"
    static let rna2 = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT"
    static let rnaLCS = "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT"

    @Test func lcsStringAndLength() {
        let h = makeHarness()
        h.send("MSET", "key1", "ohmytext", "key2", "mynewtext")
        #expect(h.send("LCS", "key1", "key2") == bulk("mytext"))
        #expect(h.send("LCS", "key1", "key2", "LEN") == ":6\r\n")
        #expect(h.send("LCS", "key1", "key2", "len", "withmatchlen") == ":6\r\n")
        #expect(h.send("LCS", "key1", "key2", "withmatchlen") == bulk("mytext"))
        #expect(h.send("LCS", "nokey", "key2") == "$0\r\n\r\n")
        #expect(h.send("LCS", "nokey", "nokey2", "LEN") == ":0\r\n")
        h.send("SET", "v1", Self.rna1)
        h.send("SET", "v2", Self.rna2)
        #expect(h.send("LCS", "v1", "v2") == bulk(Self.rnaLCS))
        #expect(h.send("LCS", "v1", "v2", "LEN") == ":\(Self.rnaLCS.utf8.count)\r\n")
    }

    @Test func lcsIndexes() {
        let h = makeHarness()
        h.send("MSET", "key1", "ohmytext", "key2", "mynewtext")
        #expect(h.send("LCS", "key1", "key2", "IDX")
            == "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n")
        #expect(h.send("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
            == "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n")
        #expect(h.send("LCS", "key1", "key2", "idx", "withmatchlen")
            == "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n")
        #expect(h.send("LCS", "key1", "key2", "MINMATCHLEN", "-5", "IDX") == h.send("LCS", "key1", "key2", "IDX"))
        #expect(h.send("LCS", "nokey", "nokey2", "IDX") == "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n")
        _ = h.send("HELLO", "3")
        #expect(h.send("LCS", "key1", "key2", "IDX", "WITHMATCHLEN")
            == "%2\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n")
    }

    @Test func lcsIndexesOfLongStrings() {
        let h = makeHarness()
        h.send("SET", "v1", Self.rna1)
        h.send("SET", "v2", Self.rna2)
        func range(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ len: Int? = nil) -> String {
            "*\(len == nil ? 2 : 3)\r\n*2\r\n:\(a)\r\n:\(b)\r\n*2\r\n:\(c)\r\n:\(d)\r\n" + (len.map { ":\($0)\r\n" } ?? "")
        }
        let all = range(238, 238, 239, 239, 1) + range(236, 236, 238, 238, 1) + range(229, 230, 236, 237, 2)
            + range(224, 224, 235, 235, 1) + range(1, 222, 13, 234, 222)
        #expect(h.send("LCS", "v1", "v2", "IDX", "WITHMATCHLEN") == "*4\r\n$7\r\nmatches\r\n*5\r\n" + all + "$3\r\nlen\r\n:227\r\n")
        #expect(h.send("LCS", "v1", "v2", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "5")
            == "*4\r\n$7\r\nmatches\r\n*1\r\n" + range(1, 222, 13, 234, 222) + "$3\r\nlen\r\n:227\r\n")
    }

    @Test func lcsErrors() throws {
        let h = makeHarness()
        h.send("MSET", "key1", "ohmytext", "key2", "mynewtext")
        h.makeList("l")
        let notStrings = "-ERR The specified keys must contain string values\r\n"
        #expect(h.send("LCS", "l", "key2") == notStrings)
        // The type check comes before option parsing.
        #expect(h.send("LCS", "key1", "l", "foo") == notStrings)
        #expect(h.send("LCS", "key1", "key2", "LEN", "IDX") == "-ERR If you want both the length and indexes, please just use IDX.\r\n")
        #expect(h.send("LCS", "key1", "key2", "foo") == syntaxError)
        #expect(h.send("LCS", "key1", "key2", "MINMATCHLEN") == syntaxError)
        #expect(h.send("LCS", "key1", "key2", "MINMATCHLEN", "x") == notInteger)
        #expect(h.send("LCS", "key1") == "-ERR wrong number of arguments for 'lcs' command\r\n")
        try h.server.config.set(arguments: ["proto-max-bulk-len", "1mb"])
        h.send("SET", "a", String(repeating: "x", count: 600))
        h.send("SET", "b", String(repeating: "y", count: 600))
        #expect(h.send("LCS", "a", "b") == "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n")
        h.send("SET", "b", String(repeating: "y", count: 400))
        #expect(h.send("LCS", "a", "b", "LEN") == ":0\r\n")
    }

    @Test func lcsTableOp() {
        let a = Array("ohmytext".utf8)
        let b = Array("mynewtext".utf8)
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                guard let table = LCSTable(a, b) else {
                    Issue.record("no table")
                    return
                }
                #expect(table.length == 6)
                var runs: [LCSMatch] = []
                var text = [UInt8](repeating: 0, count: 6)
                text.withUnsafeMutableBytes { out in table.backtrack(into: out) { runs.append($0) } }
                #expect(String(decoding: text, as: UTF8.self) == "mytext")
                #expect(runs == [LCSMatch(aStart: 4, aEnd: 7, bStart: 5, bEnd: 8), LCSMatch(aStart: 2, aEnd: 3, bStart: 0, bEnd: 1)])
            }
        }
    }

    // MARK: Ops, without the command layer

    @Test func stringOpsOnAShard() throws {
        func raw(_ s: StaticString) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount) }
        let shard = Shard()
        let n = raw("n")
        let nh = keyHash(n)
        #expect(try shard.incrementInteger(n, hash: nh, by: 41, existing: nil) == 41)
        let entry = try #require(shard.lookup(n, hash: nh, now: 0))
        #expect(try shard.incrementInteger(n, hash: nh, by: 1, existing: entry) == 42)
        // Same length: updated in place.
        #expect(shard.lookup(n, hash: nh, now: 0)?.pointer == entry.pointer)
        #expect(String(decoding: entry.value, as: UTF8.self) == "42")
        #expect(throws: StringOpError.overflow) {
            try shard.incrementInteger(n, hash: nh, by: Int.max, existing: shard.lookup(n, hash: nh, now: 0))
        }

        let s = raw("s")
        let sh = keyHash(s)
        let abc = raw("abc")
        #expect(try shard.setRange(s, hash: sh, offset: 3, bytes: raw(""), limit: .max, existing: nil) == 0)
        #expect(shard.lookup(s, hash: sh, now: 0) == nil)
        #expect(try shard.setRange(s, hash: sh, offset: 2, bytes: abc, limit: .max, existing: nil) == 5)
        #expect(try shard.appendString(s, hash: sh, suffix: abc, limit: .max, existing: shard.lookup(s, hash: sh, now: 0)) == 8)
        #expect(throws: StringOpError.tooLarge) {
            try shard.appendString(s, hash: sh, suffix: abc, limit: 10, existing: shard.lookup(s, hash: sh, now: 0))
        }
        #expect(throws: StringOpError.notInteger) {
            try shard.incrementInteger(s, hash: sh, by: 1, existing: shard.lookup(s, hash: sh, now: 0))
        }
        #expect(throws: StringOpError.notFloat) {
            try shard.incrementFloat(s, hash: sh, by: abc, existing: nil)
        }
        let stored = try #require(shard.lookup(s, hash: sh, now: 0))
        #expect(Array(stored.value) == [0, 0] + Array("abcabc".utf8))
        #expect(StringEncoding(rawValue: stored.encoding) == .raw)
        #expect(shard.table.count == 2)
    }

    // MARK: Bookkeeping

    @Test func writesCountAsChangesAndFailuresDoNot() {
        let h = makeHarness()
        var expected = h.dirty
        func check(_ args: String..., changes: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            h.send(args)
            expected += changes
            #expect(h.dirty == expected, "\(args)", sourceLocation: sourceLocation)
        }
        check("SET", "k", "1", changes: 1)
        check("SET", "k", "1", "NX", changes: 0)
        check("SETNX", "k", "2", changes: 0)
        check("INCR", "k", changes: 1)
        check("INCRBYFLOAT", "k", "1.5", changes: 1)
        check("INCR", "k", changes: 0)
        check("APPEND", "k", "x", changes: 1)
        check("SETRANGE", "k", "0", "", changes: 0)
        check("SETRANGE", "k", "0", "y", changes: 1)
        check("GET", "k", changes: 0)
        check("MSET", "a", "1", "b", "2", changes: 2)
        check("MSETNX", "a", "1", "c", "2", changes: 0)
        check("GETSET", "k", "z", changes: 1)
        check("GETEX", "k", "EX", "100", changes: 1)
        check("GETEX", "k", "PERSIST", changes: 1)
        check("GETDEL", "k", changes: 1)
        check("SET", "k", "v", "EX", "0", changes: 0)
    }

    @Test func readLookupsCountKeyspaceHitsAndMisses() {
        let h = makeHarness()
        h.send("SET", "k", "v")
        let worker = h.client.worker
        var hits = worker.keyspaceHits
        var misses = worker.keyspaceMisses
        for args in [["GET", "k"], ["GET", "nokey"], ["MGET", "k", "nokey", "k"], ["STRLEN", "k"], ["GETRANGE", "nokey", "0", "1"],
                     ["SET", "k", "w", "GET"], ["LCS", "k", "nokey"], ["GETEX", "k"], ["GETDEL", "nokey"], ["GETSET", "nk", "1"]] {
            h.send(args)
        }
        #expect(worker.keyspaceHits - hits == 7)
        #expect(worker.keyspaceMisses - misses == 6)
        // Write lookups (lookupKeyWrite in Redis) count neither.
        hits = worker.keyspaceHits
        misses = worker.keyspaceMisses
        for args in [["INCR", "n"], ["APPEND", "k", "x"], ["SET", "k", "v"], ["MSETNX", "k", "1"], ["SETRANGE", "k", "0", "x"],
                     ["INCRBYFLOAT", "f", "1"], ["SET", "k", "v", "NX"], ["MSET", "a", "1"], ["SETNX", "zz", "1"], ["DECR", "n"]] {
            h.send(args)
        }
        #expect(worker.keyspaceHits == hits)
        #expect(worker.keyspaceMisses == misses)
    }

    @Test func lookupsTouchTheAccessClock() {
        let h = makeHarness()
        let now = lruClock(nowMillis: currentTimeMillis())
        for (setup, command) in [(["SET", "k", "v"], ["GET", "k"]), (["SET", "k", "1"], ["INCR", "k"]),
                                 (["SET", "k", "v"], ["MGET", "x", "k"]), (["SET", "k", "v"], ["APPEND", "k", "x"]),
                                 (["SET", "k", "v"], ["SET", "k", "w"])] {
            h.send(setup)
            let bytes = Array("k".utf8)
            bytes.withUnsafeBytes { raw in
                h.server.keyspace.databases[0].withShard(for: raw) { shard, hash in
                    shard.lookup(raw, hash: hash, now: currentTimeMillis())?.accessClock = 0
                }
            }
            h.send(command)
            #expect((h.inspect("k")?.clock ?? 0) &- now <= 1, "\(command)")
        }
        // CLIENT NO-TOUCH: reads leave the clock alone.
        h.client.noTouch = true
        h.send("SET", "t", "v")
        let bytes = Array("t".utf8)
        bytes.withUnsafeBytes { raw in
            h.server.keyspace.databases[0].withShard(for: raw) { shard, hash in
                shard.lookup(raw, hash: hash, now: currentTimeMillis())?.accessClock = 0
            }
        }
        h.send("GET", "t")
        #expect(h.inspect("t")?.clock == 0)
    }
}
