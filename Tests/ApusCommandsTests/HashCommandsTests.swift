import ApusCommands
import ApusConfig
import Testing

/// Replies recorded from redis-server 7.2.4 (built from the tag) for the same commands, in RESP2
/// and RESP3: error strings, reply shapes, OBJECT ENCODING after each conversion point, and the
/// pair order wherever Redis's is deterministic (listpack: insertion order). Hashtable-encoded
/// hashes are checked structurally below (their order is the table's, as in Redis).
@Suite struct HashCommandsTests {
    private func debugHarness() -> Harness {
        (try? Harness(configure: { try $0.applyArguments(["--enable-debug-command", "yes"]) })) ?? Harness()
    }

    @Test func hsetCountsNewFieldsAndHmsetRepliesOK() {
        let h = Harness()
        #expect(h.send("HSET", "h", "a", "1", "b", "2") == ":2\r\n")
        #expect(h.send("HSET", "h", "a", "10", "c", "3") == ":1\r\n")
        #expect(h.send("HMSET", "h", "d", "4") == "+OK\r\n")
        #expect(h.send("HMSET", "h", "a", "1", "a", "2") == "+OK\r\n")
        #expect(h.send("HSET", "h", "a", "1", "b") == "-ERR wrong number of arguments for 'hset' command\r\n")
        #expect(h.send("HMSET", "h", "a", "1", "b") == "-ERR wrong number of arguments for 'hmset' command\r\n")
        #expect(h.send("HGETALL", "h") == "*8\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n")
        #expect(h.send("HLEN", "h") == ":4\r\n")
    }

    @Test func readsOfAListpackHashFollowInsertionOrder() {
        let h = Harness()
        #expect(h.send("HSET", "h", "z", "26", "a", "1", "m", "13") == ":3\r\n")
        #expect(h.send("HSET", "h", "a", "one") == ":0\r\n")
        #expect(h.send("HDEL", "h", "z") == ":1\r\n")
        #expect(h.send("HSET", "h", "z", "again") == ":1\r\n")
        #expect(h.send("HKEYS", "h") == "*3\r\n$1\r\na\r\n$1\r\nm\r\n$1\r\nz\r\n")
        #expect(h.send("HVALS", "h") == "*3\r\n$3\r\none\r\n$2\r\n13\r\n$5\r\nagain\r\n")
        #expect(h.send("HGETALL", "h") == "*6\r\n$1\r\na\r\n$3\r\none\r\n$1\r\nm\r\n$2\r\n13\r\n$1\r\nz\r\n$5\r\nagain\r\n")
        #expect(h.send("HGET", "h", "a") == "$3\r\none\r\n")
        #expect(h.send("HGET", "h", "nope") == "$-1\r\n")
        #expect(h.send("HMGET", "h", "m", "nope", "a") == "*3\r\n$2\r\n13\r\n$-1\r\n$3\r\none\r\n")
        #expect(h.send("HSTRLEN", "h", "a") == ":3\r\n")
        #expect(h.send("HSTRLEN", "h", "nope") == ":0\r\n")
        #expect(h.send("HEXISTS", "h", "m") == ":1\r\n")
        #expect(h.send("HEXISTS", "h", "nope") == ":0\r\n")
        #expect(h.send("OBJECT", "ENCODING", "h") == "$8\r\nlistpack\r\n")
    }

    @Test func missingKeysAreEmptyHashesInRESP2() {
        let h = Harness()
        #expect(h.send("HGET", "no", "f") == "$-1\r\n")
        #expect(h.send("HMGET", "no", "a", "b") == "*2\r\n$-1\r\n$-1\r\n")
        #expect(h.send("HLEN", "no") == ":0\r\n")
        #expect(h.send("HSTRLEN", "no", "f") == ":0\r\n")
        #expect(h.send("HEXISTS", "no", "f") == ":0\r\n")
        #expect(h.send("HKEYS", "no") == "*0\r\n")
        #expect(h.send("HVALS", "no") == "*0\r\n")
        #expect(h.send("HGETALL", "no") == "*0\r\n")
        #expect(h.send("HDEL", "no", "f") == ":0\r\n")
        #expect(h.send("HRANDFIELD", "no") == "$-1\r\n")
        #expect(h.send("HRANDFIELD", "no", "3") == "*0\r\n")
        #expect(h.send("HRANDFIELD", "no", "-3", "WITHVALUES") == "*0\r\n")
        #expect(h.send("HSCAN", "no", "0") == "*2\r\n$1\r\n0\r\n*0\r\n")
        #expect(h.send("HSCAN", "no", "0", "COUNT", "0") == "*2\r\n$1\r\n0\r\n*0\r\n")
        #expect(h.send("HSCAN", "no", "0", "bogus") == "*2\r\n$1\r\n0\r\n*0\r\n")
        #expect(h.send("EXISTS", "no") == ":0\r\n")
    }

    @Test func missingKeysAreEmptyHashesInRESP3() {
        let h = Harness()
        h.send("HELLO", "3")
        #expect(h.send("HGET", "no", "f") == "_\r\n")
        #expect(h.send("HMGET", "no", "a", "b") == "*2\r\n_\r\n_\r\n")
        #expect(h.send("HGETALL", "no") == "%0\r\n")
        #expect(h.send("HKEYS", "no") == "*0\r\n")
        #expect(h.send("HRANDFIELD", "no") == "_\r\n")
        #expect(h.send("HRANDFIELD", "no", "3") == "*0\r\n")
        #expect(h.send("HSCAN", "no", "0") == "*2\r\n$1\r\n0\r\n*0\r\n")
    }

    @Test func resp3RepliesAMapForHgetallAndPairsForHrandfieldWithValues() {
        let h = Harness()
        h.send("HELLO", "3")
        #expect(h.send("HSET", "h", "a", "1", "b", "2", "c", "3") == ":3\r\n")
        #expect(h.send("HGETALL", "h") == "%3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n")
        #expect(h.send("HKEYS", "h") == "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        #expect(h.send("HVALS", "h") == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n")
        #expect(h.send("HMGET", "h", "a", "x") == "*2\r\n$1\r\n1\r\n_\r\n")
        #expect(h.send("HGET", "h", "x") == "_\r\n")
        #expect(h.send("HRANDFIELD", "h", "10", "WITHVALUES") == "*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")
        #expect(h.send("HRANDFIELD", "h", "3") == "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        #expect(h.send("HRANDFIELD", "h", "3", "withvalues") == "*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n")
        #expect(h.send("HSCAN", "h", "0") == "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "a", "0.5") == "$3\r\n1.5\r\n")
        #expect(h.send("HINCRBY", "h", "b", "5") == ":7\r\n")
        #expect(h.send("HSET", "one", "f", "v") == ":1\r\n")
        #expect(h.send("HRANDFIELD", "one", "-3", "WITHVALUES") == "*3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
        #expect(h.send("HRANDFIELD", "one", "-2") == "*2\r\n$1\r\nf\r\n$1\r\nf\r\n")
        #expect(h.send("HRANDFIELD", "one", "1", "WITHVALUES") == "*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
        #expect(h.send("HRANDFIELD", "one") == "$1\r\nf\r\n")
    }

    @Test func everyCommandRejectsAnotherType() {
        let h = Harness()
        #expect(h.send("SET", "s", "v") == "+OK\r\n")
        #expect(h.send("HSET", "s", "a", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HMSET", "s", "a", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HSETNX", "s", "a", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HGET", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HMGET", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HDEL", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HLEN", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HSTRLEN", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HEXISTS", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HINCRBY", "s", "a", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HINCRBYFLOAT", "s", "a", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HKEYS", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HVALS", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HGETALL", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HRANDFIELD", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HRANDFIELD", "s", "2") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HRANDFIELD", "s", "2", "WITHVALUES") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HSCAN", "s", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("HINCRBY", "s", "a", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HINCRBYFLOAT", "s", "a", "x") == "-ERR value is not a valid float\r\n")
        #expect(h.send("HRANDFIELD", "s", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HSCAN", "s", "x") == "-ERR invalid cursor\r\n")
        #expect(h.send("HSCAN", "s", "0", "COUNT", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("GET", "s") == "$1\r\nv\r\n")
    }

    @Test func hsetnxSetsOnlyAbsentFields() {
        let h = Harness()
        #expect(h.send("HSETNX", "h", "a", "1") == ":1\r\n")
        #expect(h.send("HSETNX", "h", "a", "2") == ":0\r\n")
        #expect(h.send("HGET", "h", "a") == "$1\r\n1\r\n")
        #expect(h.send("HSETNX", "h", "b", "3") == ":1\r\n")
        #expect(h.send("HGETALL", "h") == "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n3\r\n")
    }

    @Test func hdelCountsRemovedFieldsAndDeletesTheEmptiedKey() {
        let h = Harness()
        #expect(h.send("HSET", "h", "a", "1", "b", "2", "c", "3") == ":3\r\n")
        #expect(h.send("HDEL", "h", "x") == ":0\r\n")
        #expect(h.send("HDEL", "h", "a", "x", "a") == ":1\r\n")
        #expect(h.send("HDEL", "h", "b", "c", "b", "zz") == ":2\r\n")
        #expect(h.send("EXISTS", "h") == ":0\r\n")
        #expect(h.send("HLEN", "h") == ":0\r\n")
        #expect(h.send("HSET", "h", "a", "1") == ":1\r\n")
        #expect(h.send("HDEL", "h", "a", "a") == ":1\r\n")
        #expect(h.send("EXISTS", "h") == ":0\r\n")
    }

    @Test func hincrbyParsesStrictlyAndDetectsOverflow() {
        let h = Harness()
        #expect(h.send("HINCRBY", "h", "c", "5") == ":5\r\n")
        #expect(h.send("HINCRBY", "h", "c", "-7") == ":-2\r\n")
        #expect(h.send("HINCRBY", "h", "c", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HINCRBY", "h", "c", "1.5") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HINCRBY", "h", "c", "99999999999999999999") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HSET", "h", "max", "9223372036854775807", "min", "-9223372036854775808") == ":2\r\n")
        #expect(h.send("HINCRBY", "h", "max", "1") == "-ERR increment or decrement would overflow\r\n")
        #expect(h.send("HINCRBY", "h", "min", "-1") == "-ERR increment or decrement would overflow\r\n")
        #expect(h.send("HINCRBY", "h", "min", "9223372036854775807") == ":-1\r\n")
        #expect(h.send("HINCRBY", "h", "max", "-9223372036854775808") == ":-1\r\n")
        #expect(h.send("HSET", "h", "sp", " 1", "tr", "1 ", "fl", "1.5", "z", "007", "neg0", "-0") == ":5\r\n")
        #expect(h.send("HINCRBY", "h", "sp", "1") == "-ERR hash value is not an integer\r\n")
        #expect(h.send("HINCRBY", "h", "tr", "1") == "-ERR hash value is not an integer\r\n")
        #expect(h.send("HINCRBY", "h", "fl", "1") == "-ERR hash value is not an integer\r\n")
        #expect(h.send("HINCRBY", "h", "z", "1") == "-ERR hash value is not an integer\r\n")
        #expect(h.send("HINCRBY", "h", "neg0", "1") == "-ERR hash value is not an integer\r\n")
        #expect(h.send("HINCRBY", "h", "new", "-9223372036854775808") == ":-9223372036854775808\r\n")
        #expect(h.send("HINCRBY", "h", "new", "-1") == "-ERR increment or decrement would overflow\r\n")
        #expect(h.send("HINCRBY", "nk", "f", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("EXISTS", "nk") == ":0\r\n")
        #expect(h.send("HGETALL", "h") == "*18\r\n$1\r\nc\r\n$2\r\n-2\r\n$3\r\nmax\r\n$2\r\n-1\r\n$3\r\nmin\r\n$2\r\n-1\r\n$2\r\nsp\r\n$2\r\n 1\r\n$2\r\ntr\r\n$2\r\n1 \r\n$2\r\nfl\r\n$3\r\n1.5\r\n$1\r\nz\r\n$3\r\n007\r\n$4\r\nneg0\r\n$2\r\n-0\r\n$3\r\nnew\r\n$20\r\n-9223372036854775808\r\n")
    }

    @Test func hincrbyfloatFormatsLikeRedisAndRejectsNonFiniteResults() {
        let h = Harness()
        #expect(h.send("HINCRBYFLOAT", "h", "f", "1.23") == "$4\r\n1.23\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "0.77") == "$1\r\n2\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "-0.1") == "$3\r\n1.9\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "g", "3.0e3") == "$4\r\n3000\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "g", "5.0000000000000001") == "$4\r\n3005\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "i", "10") == "$2\r\n10\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "i", "-10") == "$1\r\n0\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "j", ".5") == "$3\r\n0.5\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "j", "-1e-5") == "$7\r\n0.49999\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "k", "0x1p3") == "$1\r\n8\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "inf") == "-ERR value is NaN or Infinity\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "-inf") == "-ERR value is NaN or Infinity\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "+inf") == "-ERR value is NaN or Infinity\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "nan") == "-ERR value is not a valid float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "abc") == "-ERR value is not a valid float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "") == "-ERR value is not a valid float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", " 1") == "-ERR value is not a valid float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "f", "1e") == "-ERR value is not a valid float\r\n")
        #expect(h.send("HSET", "h", "sp", " 1", "nul", "1\02", "word", "abc", "huge", "1e4932") == ":4\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "sp", "1") == "-ERR hash value is not a float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "nul", "1") == "-ERR hash value is not a float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "word", "1") == "-ERR hash value is not a float\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "huge", "1e4932") == "-ERR increment would produce NaN or Infinity\r\n")
        #expect(h.send("HGET", "h", "huge") == "$6\r\n1e4932\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "huge", "-1e4932") == "$1\r\n0\r\n")
        #expect(h.send("HINCRBYFLOAT", "nk", "f", "inf") == "-ERR value is NaN or Infinity\r\n")
        #expect(h.send("EXISTS", "nk") == ":0\r\n")
        #expect(h.send("HGETALL", "h") == "*18\r\n$1\r\nf\r\n$3\r\n1.9\r\n$1\r\ng\r\n$4\r\n3005\r\n$1\r\ni\r\n$1\r\n0\r\n$1\r\nj\r\n$7\r\n0.49999\r\n$1\r\nk\r\n$1\r\n8\r\n$2\r\nsp\r\n$2\r\n 1\r\n$3\r\nnul\r\n$3\r\n1\02\r\n$4\r\nword\r\n$3\r\nabc\r\n$4\r\nhuge\r\n$1\r\n0\r\n")
    }

    @Test func hrandfieldValidatesTheCountBeforeTheKey() {
        let h = Harness()
        #expect(h.send("HSET", "h", "a", "1", "b", "2", "c", "3") == ":3\r\n")
        #expect(h.send("HRANDFIELD", "h", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HRANDFIELD", "h", "1.5") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HRANDFIELD", "h", "") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HRANDFIELD", "h", "-9223372036854775808") == "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
        #expect(h.send("HRANDFIELD", "no", "-9223372036854775808") == "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
        #expect(h.send("HRANDFIELD", "h", "-9223372036854775808", "WITHVALUES") == "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
        #expect(h.send("HRANDFIELD", "h", "-9223372036854770000", "withvalues") == "-ERR value is out of range\r\n")
        #expect(h.send("HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == "-ERR value is out of range\r\n")
        #expect(h.send("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES") == "-ERR value is out of range\r\n")
        #expect(h.send("HRANDFIELD", "h", "1", "WITHVALUE") == "-ERR syntax error\r\n")
        #expect(h.send("HRANDFIELD", "h", "1", "WITHVALUES", "x") == "-ERR syntax error\r\n")
        #expect(h.send("HRANDFIELD", "h", "x", "WITHVALUES") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HRANDFIELD", "no", "1", "bogus") == "-ERR syntax error\r\n")
        #expect(h.send("HRANDFIELD", "h", "0") == "*0\r\n")
        #expect(h.send("HRANDFIELD", "h", "0", "WITHVALUES") == "*0\r\n")
        #expect(h.send("HRANDFIELD", "h", "3") == "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        #expect(h.send("HRANDFIELD", "h", "4611686018427387903", "WITHVALUES") == "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n")
        #expect(h.send("HRANDFIELD", "h", "9223372036854775807") == "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
    }

    @Test func hscanOfAListpackReturnsEverythingAtOnce() {
        let h = Harness()
        #expect(h.send("HSET", "h", "k1", "1", "k2", "2", "x1", "3", "k3", "4") == ":4\r\n")
        #expect(h.send("HSCAN", "h", "0") == "*2\r\n$1\r\n0\r\n*8\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nx1\r\n$1\r\n3\r\n$2\r\nk3\r\n$1\r\n4\r\n")
        #expect(h.send("HSCAN", "h", "17") == "*2\r\n$1\r\n0\r\n*8\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nx1\r\n$1\r\n3\r\n$2\r\nk3\r\n$1\r\n4\r\n")
        #expect(h.send("HSCAN", "h", "0", "MATCH", "k*") == "*2\r\n$1\r\n0\r\n*6\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nk3\r\n$1\r\n4\r\n")
        #expect(h.send("HSCAN", "h", "0", "MATCH", "*", "COUNT", "1") == "*2\r\n$1\r\n0\r\n*8\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nx1\r\n$1\r\n3\r\n$2\r\nk3\r\n$1\r\n4\r\n")
        #expect(h.send("HSCAN", "h", "0", "match", "x?", "count", "100") == "*2\r\n$1\r\n0\r\n*2\r\n$2\r\nx1\r\n$1\r\n3\r\n")
        #expect(h.send("HSCAN", "h", "0", "COUNT", "0") == "-ERR syntax error\r\n")
        #expect(h.send("HSCAN", "h", "0", "COUNT", "-1") == "-ERR syntax error\r\n")
        #expect(h.send("HSCAN", "h", "0", "COUNT", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("HSCAN", "h", "0", "MATCH") == "-ERR syntax error\r\n")
        #expect(h.send("HSCAN", "h", "0", "TYPE", "hash") == "-ERR syntax error\r\n")
        #expect(h.send("HSCAN", "h", "x") == "-ERR invalid cursor\r\n")
        #expect(h.send("HSCAN", "h", "-1") == "*2\r\n$1\r\n0\r\n*8\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nx1\r\n$1\r\n3\r\n$2\r\nk3\r\n$1\r\n4\r\n")
        #expect(h.send("HSCAN", "h", "18446744073709551615") == "*2\r\n$1\r\n0\r\n*8\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nx1\r\n$1\r\n3\r\n$2\r\nk3\r\n$1\r\n4\r\n")
        #expect(h.send("HSCAN", "h", "18446744073709551616") == "-ERR invalid cursor\r\n")
        #expect(h.send("HSCAN", "h", "0", "COUNT", "9223372036854775807") == "*2\r\n$1\r\n0\r\n*8\r\n$2\r\nk1\r\n$1\r\n1\r\n$2\r\nk2\r\n$1\r\n2\r\n$2\r\nx1\r\n$1\r\n3\r\n$2\r\nk3\r\n$1\r\n4\r\n")
    }

    @Test func arityErrorsNameTheCommand() {
        let h = Harness()
        #expect(h.send("HSET", "h", "a") == "-ERR wrong number of arguments for 'hset' command\r\n")
        #expect(h.send("HGET", "h") == "-ERR wrong number of arguments for 'hget' command\r\n")
        #expect(h.send("HMGET", "h") == "-ERR wrong number of arguments for 'hmget' command\r\n")
        #expect(h.send("HSETNX", "h", "a") == "-ERR wrong number of arguments for 'hsetnx' command\r\n")
        #expect(h.send("HDEL", "h") == "-ERR wrong number of arguments for 'hdel' command\r\n")
        #expect(h.send("HLEN") == "-ERR wrong number of arguments for 'hlen' command\r\n")
        #expect(h.send("HSTRLEN", "h") == "-ERR wrong number of arguments for 'hstrlen' command\r\n")
        #expect(h.send("HEXISTS", "h") == "-ERR wrong number of arguments for 'hexists' command\r\n")
        #expect(h.send("HINCRBY", "h", "a") == "-ERR wrong number of arguments for 'hincrby' command\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "a") == "-ERR wrong number of arguments for 'hincrbyfloat' command\r\n")
        #expect(h.send("HKEYS") == "-ERR wrong number of arguments for 'hkeys' command\r\n")
        #expect(h.send("HVALS", "h", "x") == "-ERR wrong number of arguments for 'hvals' command\r\n")
        #expect(h.send("HGETALL") == "-ERR wrong number of arguments for 'hgetall' command\r\n")
        #expect(h.send("HRANDFIELD") == "-ERR wrong number of arguments for 'hrandfield' command\r\n")
        #expect(h.send("HSCAN", "h") == "-ERR wrong number of arguments for 'hscan' command\r\n")
        #expect(h.send("HMSET", "h", "a") == "-ERR wrong number of arguments for 'hmset' command\r\n")
    }

    @Test func encodingsConvertWhereRedisConverts() {
        let h = Harness()
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-entries", "2") == "+OK\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-value", "8") == "+OK\r\n")
        #expect(h.send("HSET", "a", "f1", "v1", "f2", "v2") == ":2\r\n")
        #expect(h.send("OBJECT", "ENCODING", "a") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSET", "a", "f1", "v1b") == ":0\r\n")
        #expect(h.send("OBJECT", "ENCODING", "a") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSET", "a", "f3", "v3") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "a") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSET", "b", "x", "1", "x", "2", "x", "3") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "b") == "$9\r\nhashtable\r\n")
        #expect(h.send("HLEN", "b") == ":1\r\n")
        #expect(h.send("HSET", "d", "abcdefgh", "12345678") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "d") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSET", "e", "abcdefghi", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "e") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSET", "f", "a", "123456789") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "f") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSETNX", "g", "a", "1") == ":1\r\n")
        #expect(h.send("HSETNX", "g", "b", "2") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "g") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSETNX", "g", "a", "123456789") == ":0\r\n")
        #expect(h.send("OBJECT", "ENCODING", "g") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSETNX", "g", "c", "3") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "g") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSET", "h", "tmp", "0") == ":1\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "tmp", "0.000005") == "$8\r\n0.000005\r\n")
        #expect(h.send("OBJECT", "ENCODING", "h") == "$8\r\nlistpack\r\n")
        #expect(h.send("HINCRBYFLOAT", "h", "tmp", "0.0000005") == "$9\r\n0.0000055\r\n")
        #expect(h.send("OBJECT", "ENCODING", "h") == "$9\r\nhashtable\r\n")
        #expect(h.send("HINCRBYFLOAT", "i", "abcdefgh", "1") == "$1\r\n1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "i") == "$8\r\nlistpack\r\n")
        #expect(h.send("HINCRBYFLOAT", "j", "abcdefghi", "1") == "$1\r\n1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "j") == "$9\r\nhashtable\r\n")
        #expect(h.send("HINCRBY", "k", "abcdefghi", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "k") == "$9\r\nhashtable\r\n")
        #expect(h.send("HINCRBY", "l", "f", "99999999") == ":99999999\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("HINCRBY", "l", "f", "1") == ":100000000\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nhashtable\r\n")
        #expect(h.send("HINCRBY", "m", "a", "1") == ":1\r\n")
        #expect(h.send("HINCRBY", "m", "b", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "m") == "$8\r\nlistpack\r\n")
        #expect(h.send("HINCRBY", "m", "c", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "m") == "$9\r\nhashtable\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-entries", "0") == "+OK\r\n")
        #expect(h.send("HSET", "n", "a", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "n") == "$9\r\nhashtable\r\n")
        #expect(h.send("HINCRBY", "o", "a", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "o") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSETNX", "p", "a", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "p") == "$9\r\nhashtable\r\n")
        #expect(h.send("HINCRBYFLOAT", "q", "a", "1") == "$1\r\n1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "q") == "$9\r\nhashtable\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-entries", "128") == "+OK\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-value", "64") == "+OK\r\n")
        #expect(h.send("HSET", "r", "a", "1", "b", "2", "c", "3", "d", "4") == ":4\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-entries", "2") == "+OK\r\n")
        #expect(h.send("HSETNX", "r", "a", "1") == ":0\r\n")
        #expect(h.send("OBJECT", "ENCODING", "r") == "$8\r\nlistpack\r\n")
        #expect(h.send("HDEL", "r", "a") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "r") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSET", "r", "a", "5") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "r") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSET", "s", "a", "1", "b", "2") == ":2\r\n")
        #expect(h.send("HDEL", "s", "a", "b") == ":2\r\n")
        #expect(h.send("HSET", "s", "a", "1", "b", "2", "c", "3") == ":3\r\n")
        #expect(h.send("HDEL", "s", "a", "b") == ":2\r\n")
        #expect(h.send("HSET", "s", "x", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "s") == "$9\r\nhashtable\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-entries", "128") == "+OK\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-value", "0") == "+OK\r\n")
        #expect(h.send("HSET", "u", "a", "1") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "u") == "$9\r\nhashtable\r\n")
        #expect(h.send("HSET", "v", "", "") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "v") == "$8\r\nlistpack\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-value", "64") == "+OK\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-ziplist-entries", "3") == "+OK\r\n")
        #expect(h.send("HSET", "w", "a", "1", "b", "2", "c", "3") == ":3\r\n")
        #expect(h.send("OBJECT", "ENCODING", "w") == "$8\r\nlistpack\r\n")
        #expect(h.send("HSET", "w", "d", "4") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "w") == "$9\r\nhashtable\r\n")
    }

    @Test func digestsMatchRedisInBothEncodings() {
        let h = debugHarness()
        #expect(h.send("HSET", "small", "a", "1", "b", "", "c", "hello world") == ":3\r\n")
        #expect(h.send("DEBUG", "DIGEST-VALUE", "small") == "*1\r\n+98e3d23df33851ae27427d92da1cf7d242066c90\r\n")
        #expect(h.send("CONFIG", "SET", "hash-max-listpack-entries", "1") == "+OK\r\n")
        #expect(h.send("HSET", "big", "a", "1", "b", "", "c", "hello world") == ":3\r\n")
        #expect(h.send("OBJECT", "ENCODING", "big") == "$9\r\nhashtable\r\n")
        #expect(h.send("DEBUG", "DIGEST-VALUE", "big") == "*1\r\n+98e3d23df33851ae27427d92da1cf7d242066c90\r\n")
        #expect(h.send("HSET", "one", "f", "v") == ":1\r\n")
        #expect(h.send("DEBUG", "DIGEST-VALUE", "one", "nokey") == "*2\r\n+90c76e9e9f4c62d642a34fc97c7dad503b51f906\r\n+0000000000000000000000000000000000000000\r\n")
    }

    // MARK: Hashtable encoding (order is the table's: checked as sets)

    /// Splits a flat RESP array of bulk strings (no nesting) into its strings.
    private func bulks(_ reply: String) -> [String] {
        var lines = reply.components(separatedBy: "\r\n")
        lines.removeFirst()
        var out: [String] = []
        var i = 0
        while i < lines.count {
            if lines[i].hasPrefix("$") { out.append(lines[i + 1]); i += 2 } else { i += 1 }
        }
        return out
    }

    private func bigHash(_ h: Harness, _ n: Int) {
        var args = ["HSET", "big"]
        for i in 0 ..< n { args += ["f\(i)", "v\(i)"] }
        h.send(args)
    }

    @Test func hgetallOfAHashtableHasEveryPair() {
        let h = Harness()
        bigHash(h, 600)  // past the default hash-max-listpack-entries (512)
        #expect(h.send("OBJECT", "ENCODING", "big") == "$9\r\nhashtable\r\n")
        let all = bulks(h.send("HGETALL", "big"))
        #expect(all.count == 1_200)
        var pairs: [String: String] = [:]
        for i in stride(from: 0, to: all.count, by: 2) { pairs[all[i]] = all[i + 1] }
        #expect(pairs == Dictionary(uniqueKeysWithValues: (0 ..< 600).map { ("f\($0)", "v\($0)") }))
        #expect(Set(bulks(h.send("HKEYS", "big"))) == Set((0 ..< 600).map { "f\($0)" }))
        #expect(Set(bulks(h.send("HVALS", "big"))) == Set((0 ..< 600).map { "v\($0)" }))
        #expect(h.send("HLEN", "big") == ":600\r\n")
        #expect(h.send("HGET", "big", "f299") == "$4\r\nv299\r\n")
        #expect(h.send("HDEL", "big", "f0", "f1", "nope") == ":2\r\n")
        #expect(h.send("OBJECT", "ENCODING", "big") == "$9\r\nhashtable\r\n")
    }

    @Test func hscanOfAHashtableWalksEveryFieldWithCursors() {
        let h = Harness()
        bigHash(h, 1_000)
        var cursor = "0"
        var seen: [String: String] = [:]
        var calls = 0
        var matched = Set<String>()
        repeat {
            let reply = h.send("HSCAN", "big", cursor, "COUNT", "20")
            let lines = reply.components(separatedBy: "\r\n")
            cursor = lines[2]
            let items = bulks("*" + lines.dropFirst(3).joined(separator: "\r\n"))
            #expect(items.count % 2 == 0)
            for i in stride(from: 0, to: items.count, by: 2) { seen[items[i]] = items[i + 1] }
            let filtered = bulks("*" + h.send("HSCAN", "big", cursor == "0" ? "0" : cursor, "MATCH", "f1*")
                .components(separatedBy: "\r\n").dropFirst(3).joined(separator: "\r\n"))
            for i in stride(from: 0, to: filtered.count, by: 2) {
                #expect(filtered[i].hasPrefix("f1"))
                matched.insert(filtered[i])
            }
            calls += 1
        } while cursor != "0" && calls < 10_000
        #expect(cursor == "0")
        #expect(seen.count == 1_000)
        #expect(seen["f123"] == "v123")
        #expect(calls > 10)
    }

    @Test(arguments: [false, true])
    func hrandfieldShapesInBothEncodingsAndProtocols(hashtable: Bool) {
        for resp3 in [false, true] {
            let h = Harness()
            if resp3 { h.send("HELLO", "3") }
            if hashtable { h.send("CONFIG", "SET", "hash-max-listpack-entries", "4") }
            for i in 0 ..< 10 { h.send("HSET", "h", "f\(i)", "v\(i)") }
            #expect(h.send("OBJECT", "ENCODING", "h") == (hashtable ? "$9\r\nhashtable\r\n" : "$8\r\nlistpack\r\n"))
            let fields = Set((0 ..< 10).map { "f\($0)" })
            // Negative counts repeat fields; the reply has exactly |count| picks.
            let repeated = h.send("HRANDFIELD", "h", "-1001")
            #expect(repeated.hasPrefix("*1001\r\n"))
            #expect(Set(bulks(repeated)).isSubset(of: fields))
            let withValues = h.send("HRANDFIELD", "h", "-20", "WITHVALUES")
            #expect(withValues.hasPrefix(resp3 ? "*20\r\n*2\r\n" : "*40\r\n"))
            let items = bulks(withValues)
            #expect(items.count == 40)
            for i in stride(from: 0, to: items.count, by: 2) { #expect("v" + items[i].dropFirst() == items[i + 1]) }
            // Positive counts are distinct.
            for n in [1, 2, 8, 9] {
                let picked = bulks(h.send("HRANDFIELD", "h", "\(n)"))
                #expect(picked.count == n)
                #expect(Set(picked).count == n)
                #expect(Set(picked).isSubset(of: fields))
                let pairs = h.send("HRANDFIELD", "h", "\(n)", "WITHVALUES")
                #expect(pairs.hasPrefix(resp3 ? "*\(n)\r\n*2\r\n" : "*\(2 * n)\r\n"))
            }
            #expect(Set(bulks(h.send("HRANDFIELD", "h", "10"))) == fields)
            let one = h.send("HRANDFIELD", "h")
            #expect(one.hasPrefix("$2\r\nf"))
            #expect(fields.contains(String(decoding: Array(one.utf8)[4 ..< 6], as: UTF8.self)))
        }
    }

    @Test func writesCountAsChangesLikeRedis() {
        let h = Harness()
        func dirty() -> Int {
            let info = h.send("INFO", "persistence")
            let line = info.components(separatedBy: "\r\n").first { $0.hasPrefix("rdb_changes_since_last_save:") }!
            return Int(line.split(separator: ":")[1])!
        }
        let start = dirty()
        h.send("HSET", "h", "a", "1", "b", "2")
        h.send("HSET", "h", "a", "1")            // a rewrite still counts
        h.send("HSETNX", "h", "a", "1")          // nothing set: no change
        h.send("HINCRBY", "h", "n", "1")
        h.send("HINCRBY", "h", "a", "x")         // error: no change
        h.send("HINCRBYFLOAT", "h", "n", "1.5")
        h.send("HDEL", "h", "a", "b", "zz")
        #expect(dirty() - start == 2 + 1 + 1 + 1 + 2)
    }
}
