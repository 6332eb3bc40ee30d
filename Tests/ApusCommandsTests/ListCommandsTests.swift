import ApusCommands
import ApusRESP
import ApusStore
import Testing

// Expected replies were recorded from redis-server 7.2.4 (RESP2 unless the test says HELLO 3).

extension Harness {
    /// The list object stored at `key` in database 0.
    fileprivate func listObject(_ key: [UInt8]) -> ListObject? {
        key.withUnsafeBytes { k in
            server.keyspace.databases[0].withShard(for: k) { shard, hash in
                shard.table.find(k, hash: hash)?.collection(ListObject.self)
            }
        }
    }
}

@Suite struct ListCommandsTests {
    @Test func pushesReturnTheLengthAndCreateOnlyWithoutX() {
        let h = Harness()
        #expect(h.send("LPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("RPUSH", "l", "d", "e") == ":5\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*5\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n")
        #expect(h.send("LLEN", "l") == ":5\r\n")
        #expect(h.send("LPUSHX", "nokey", "a") == ":0\r\n")
        #expect(h.send("RPUSHX", "nokey", "a") == ":0\r\n")
        #expect(h.send("EXISTS", "nokey") == ":0\r\n")
        #expect(h.send("LPUSHX", "l", "x") == ":6\r\n")
        #expect(h.send("RPUSHX", "l", "y", "z") == ":8\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*8\r\n$1\r\nx\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\ny\r\n$1\r\nz\r\n")
        #expect(h.send("LLEN", "nokey") == ":0\r\n")
    }

    @Test func popsWithAndWithoutCountInRESP2() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "a", "b", "c", "d", "e") == ":5\r\n")
        #expect(h.send("LPOP", "l") == "$1\r\na\r\n")
        #expect(h.send("RPOP", "l") == "$1\r\ne\r\n")
        #expect(h.send("LPOP", "l", "2") == "*2\r\n$1\r\nb\r\n$1\r\nc\r\n")
        #expect(h.send("RPOP", "l", "0") == "*0\r\n")
        #expect(h.send("RPOP", "l", "9") == "*1\r\n$1\r\nd\r\n")
        #expect(h.send("EXISTS", "l") == ":0\r\n")
        #expect(h.send("LPOP", "l") == "$-1\r\n")
        #expect(h.send("LPOP", "l", "1") == "*-1\r\n")
        #expect(h.send("RPOP", "l", "0") == "*-1\r\n")
        #expect(h.send("LPOP", "l", "1", "2") == "-ERR wrong number of arguments for 'lpop' command\r\n")
        #expect(h.send("LPOP", "l", "-1") == "-ERR value is out of range, must be positive\r\n")
        #expect(h.send("LPOP", "l", "abc") == "-ERR value is out of range, must be positive\r\n")
        #expect(h.send("RPOP", "l", "1.5") == "-ERR value is out of range, must be positive\r\n")
    }

    @Test func popsWithAndWithoutCountInRESP3() {
        let h = Harness()
        h.send("HELLO", "3")
        #expect(h.send("RPUSH", "l", "a", "b") == ":2\r\n")
        #expect(h.send("LPOP", "nokey") == "_\r\n")
        #expect(h.send("LPOP", "nokey", "1") == "_\r\n")
        #expect(h.send("LPOP", "nokey", "0") == "_\r\n")
        #expect(h.send("RPOP", "l", "5") == "*2\r\n$1\r\nb\r\n$1\r\na\r\n")
        #expect(h.send("LMPOP", "1", "nokey", "LEFT") == "_\r\n")
        #expect(h.send("LINDEX", "nokey", "0") == "_\r\n")
        #expect(h.send("LPOS", "nokey", "a") == "_\r\n")
        #expect(h.send("LPOS", "nokey", "a", "COUNT", "0") == "*0\r\n")
        #expect(h.send("LMOVE", "nokey", "l", "LEFT", "LEFT") == "_\r\n")
        #expect(h.send("RPOPLPUSH", "nokey", "l") == "_\r\n")
        #expect(h.send("LRANGE", "nokey", "0", "-1") == "*0\r\n")
    }

    @Test func lindexAndLsetAcceptNegativeIndexes() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("LINDEX", "l", "0") == "$1\r\na\r\n")
        #expect(h.send("LINDEX", "l", "-1") == "$1\r\nc\r\n")
        #expect(h.send("LINDEX", "l", "-3") == "$1\r\na\r\n")
        #expect(h.send("LINDEX", "l", "-4") == "$-1\r\n")
        #expect(h.send("LINDEX", "l", "3") == "$-1\r\n")
        #expect(h.send("LINDEX", "l", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("LINDEX", "nokey", "abc") == "$-1\r\n")
        #expect(h.send("LSET", "l", "-1", "z") == "+OK\r\n")
        #expect(h.send("LSET", "l", "0", "y") == "+OK\r\n")
        #expect(h.send("LSET", "l", "3", "x") == "-ERR index out of range\r\n")
        #expect(h.send("LSET", "l", "-4", "x") == "-ERR index out of range\r\n")
        #expect(h.send("LSET", "l", "abc", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("LSET", "nokey", "0", "x") == "-ERR no such key\r\n")
        #expect(h.send("LSET", "nokey", "abc", "x") == "-ERR no such key\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*3\r\n$1\r\ny\r\n$1\r\nb\r\n$1\r\nz\r\n")
    }

    @Test func lrangeClampsLikeRedis() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "1", "2", "3", "4", "5") == ":5\r\n")
        #expect(h.send("LRANGE", "l", "1", "3") == "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n")
        #expect(h.send("LRANGE", "l", "-2", "-1") == "*2\r\n$1\r\n4\r\n$1\r\n5\r\n")
        #expect(h.send("LRANGE", "l", "-100", "100") == "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n")
        #expect(h.send("LRANGE", "l", "3", "1") == "*0\r\n")
        #expect(h.send("LRANGE", "l", "5", "10") == "*0\r\n")
        #expect(h.send("LRANGE", "l", "-9223372036854775808", "9223372036854775807") == "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n")
        #expect(h.send("LRANGE", "l", "0", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("LRANGE", "nokey", "0", "-1") == "*0\r\n")
        #expect(h.send("LRANGE", "nokey", "x", "1") == "-ERR value is not an integer or out of range\r\n")
    }

    @Test func linsertBeforeAndAfterThePivot() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("LINSERT", "l", "BEFORE", "a", "x") == ":4\r\n")
        #expect(h.send("LINSERT", "l", "after", "c", "y") == ":5\r\n")
        #expect(h.send("LINSERT", "l", "before", "b", "b0") == ":6\r\n")
        #expect(h.send("LINSERT", "l", "AFTER", "missing", "z") == ":-1\r\n")
        #expect(h.send("LINSERT", "l", "MIDDLE", "a", "z") == "-ERR syntax error\r\n")
        #expect(h.send("LINSERT", "nokey", "BEFORE", "a", "z") == ":0\r\n")
        #expect(h.send("LINSERT", "nokey", "middle", "a", "z") == "-ERR syntax error\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*6\r\n$1\r\nx\r\n$1\r\na\r\n$2\r\nb0\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\ny\r\n")
    }

    @Test func lposRankCountAndMaxlen() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c") == ":8\r\n")
        #expect(h.send("LPOS", "l", "a") == ":0\r\n")
        #expect(h.send("LPOS", "l", "c") == ":2\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "2") == ":6\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "-1") == ":7\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "-3") == ":2\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "4") == "$-1\r\n")
        #expect(h.send("LPOS", "l", "c", "COUNT", "0") == "*3\r\n:2\r\n:6\r\n:7\r\n")
        #expect(h.send("LPOS", "l", "c", "COUNT", "2") == "*2\r\n:2\r\n:6\r\n")
        #expect(h.send("LPOS", "l", "c", "COUNT", "2", "RANK", "-1") == "*2\r\n:7\r\n:6\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "2", "COUNT", "0") == "*2\r\n:6\r\n:7\r\n")
        #expect(h.send("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3") == "*1\r\n:2\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "-1", "MAXLEN", "1") == ":7\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "-2", "MAXLEN", "1") == "$-1\r\n")
        #expect(h.send("LPOS", "l", "c", "MAXLEN", "2") == "$-1\r\n")
        #expect(h.send("LPOS", "l", "x") == "$-1\r\n")
        #expect(h.send("LPOS", "l", "x", "COUNT", "5") == "*0\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "1", "RANK", "-1") == ":7\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "0") == "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "-9223372036854775808") == "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "9223372036854775807") == "$-1\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("LPOS", "l", "c", "COUNT", "-1") == "-ERR COUNT can't be negative\r\n")
        #expect(h.send("LPOS", "l", "c", "COUNT", "x") == "-ERR COUNT can't be negative\r\n")
        #expect(h.send("LPOS", "l", "c", "MAXLEN", "-1") == "-ERR MAXLEN can't be negative\r\n")
        #expect(h.send("LPOS", "l", "c", "MAXLEN", "x") == "-ERR MAXLEN can't be negative\r\n")
        #expect(h.send("LPOS", "l", "c", "RANK") == "-ERR syntax error\r\n")
        #expect(h.send("LPOS", "l", "c", "FOO", "1") == "-ERR syntax error\r\n")
        #expect(h.send("LPOS", "nokey", "c") == "$-1\r\n")
        #expect(h.send("LPOS", "nokey", "c", "COUNT", "1") == "*0\r\n")
        #expect(h.send("LPOS", "nokey", "c", "RANK", "0") == "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n")
    }

    @Test func lremFromEitherEnd() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "a", "b", "a", "c", "a", "d", "a") == ":7\r\n")
        #expect(h.send("LREM", "l", "2", "a") == ":2\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\na\r\n")
        #expect(h.send("LREM", "l", "-1", "a") == ":1\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n")
        #expect(h.send("RPUSH", "l", "a", "a") == ":6\r\n")
        #expect(h.send("LREM", "l", "0", "a") == ":3\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n")
        #expect(h.send("LREM", "l", "0", "zz") == ":0\r\n")
        #expect(h.send("LREM", "l", "x", "a") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("LREM", "nokey", "1", "a") == ":0\r\n")
        #expect(h.send("LREM", "l", "0", "b") == ":1\r\n")
        #expect(h.send("LREM", "l", "-9223372036854775808", "c") == ":1\r\n")
        #expect(h.send("LREM", "l", "1", "d") == ":1\r\n")
        #expect(h.send("EXISTS", "l") == ":0\r\n")
    }

    @Test func ltrimKeepsTheRangeAndDeletesAnEmptyList() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "1", "2", "3", "4", "5", "6") == ":6\r\n")
        #expect(h.send("LTRIM", "l", "1", "-2") == "+OK\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n")
        #expect(h.send("LTRIM", "l", "-100", "100") == "+OK\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*4\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n")
        #expect(h.send("LTRIM", "l", "2", "1") == "+OK\r\n")
        #expect(h.send("EXISTS", "l") == ":0\r\n")
        #expect(h.send("LTRIM", "nokey", "0", "1") == "+OK\r\n")
        #expect(h.send("LTRIM", "l", "x", "1") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("RPUSH", "l", "a") == ":1\r\n")
        #expect(h.send("LTRIM", "l", "0", "0") == "+OK\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*1\r\n$1\r\na\r\n")
    }

    @Test func lmpopTakesFromTheFirstNonEmptyList() {
        let h = Harness()
        #expect(h.send("RPUSH", "b", "1", "2", "3") == ":3\r\n")
        #expect(h.send("RPUSH", "c", "x") == ":1\r\n")
        #expect(h.send("LMPOP", "3", "a", "b", "c", "LEFT") == "*2\r\n$1\r\nb\r\n*1\r\n$1\r\n1\r\n")
        #expect(h.send("LMPOP", "3", "a", "b", "c", "RIGHT", "COUNT", "10") == "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n")
        #expect(h.send("LMPOP", "3", "a", "b", "c", "RIGHT", "COUNT", "10") == "*2\r\n$1\r\nc\r\n*1\r\n$1\r\nx\r\n")
        #expect(h.send("LMPOP", "3", "a", "b", "c", "LEFT") == "*-1\r\n")
        #expect(h.send("LMPOP", "2", "a", "b", "LEFT", "COUNT", "1") == "*-1\r\n")
        #expect(h.send("EXISTS", "b", "c") == ":0\r\n")
        #expect(h.send("LMPOP", "0", "a", "LEFT") == "-ERR numkeys should be greater than 0\r\n")
        #expect(h.send("LMPOP", "-1", "a", "LEFT") == "-ERR numkeys should be greater than 0\r\n")
        #expect(h.send("LMPOP", "x", "a", "LEFT") == "-ERR numkeys should be greater than 0\r\n")
        #expect(h.send("LMPOP", "2", "a", "LEFT") == "-ERR syntax error\r\n")
        #expect(h.send("LMPOP", "9223372036854775807", "a", "LEFT") == "-ERR syntax error\r\n")
        #expect(h.send("LMPOP", "1", "a", "MIDDLE") == "-ERR syntax error\r\n")
        #expect(h.send("LMPOP", "1", "a", "LEFT", "COUNT") == "-ERR syntax error\r\n")
        #expect(h.send("LMPOP", "1", "a", "LEFT", "COUNT", "0") == "-ERR count should be greater than 0\r\n")
        #expect(h.send("LMPOP", "1", "a", "LEFT", "COUNT", "-1") == "-ERR count should be greater than 0\r\n")
        #expect(h.send("LMPOP", "1", "a", "LEFT", "COUNT", "x") == "-ERR count should be greater than 0\r\n")
        #expect(h.send("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1") == "-ERR syntax error\r\n")
        #expect(h.send("LMPOP", "1", "a", "LEFT", "FOO") == "-ERR syntax error\r\n")
        #expect(h.send("SET", "s", "x") == "+OK\r\n")
        #expect(h.send("LMPOP", "2", "a", "s", "LEFT") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("RPUSH", "a", "1") == ":1\r\n")
        #expect(h.send("LMPOP", "2", "a", "s", "LEFT") == "*2\r\n$1\r\na\r\n*1\r\n$1\r\n1\r\n")
    }

    @Test func lmoveBetweenListsAndOntoItself() {
        let h = Harness()
        #expect(h.send("RPUSH", "src", "a", "b", "c") == ":3\r\n")
        #expect(h.send("LMOVE", "src", "dst", "LEFT", "RIGHT") == "$1\r\na\r\n")
        #expect(h.send("LMOVE", "src", "dst", "RIGHT", "LEFT") == "$1\r\nc\r\n")
        #expect(h.send("LRANGE", "src", "0", "-1") == "*1\r\n$1\r\nb\r\n")
        #expect(h.send("LRANGE", "dst", "0", "-1") == "*2\r\n$1\r\nc\r\n$1\r\na\r\n")
        #expect(h.send("LMOVE", "src", "src", "LEFT", "RIGHT") == "$1\r\nb\r\n")
        #expect(h.send("LMOVE", "dst", "dst", "RIGHT", "LEFT") == "$1\r\na\r\n")
        #expect(h.send("LRANGE", "dst", "0", "-1") == "*2\r\n$1\r\na\r\n$1\r\nc\r\n")
        #expect(h.send("LMOVE", "src", "dst", "LEFT", "LEFT") == "$1\r\nb\r\n")
        #expect(h.send("EXISTS", "src") == ":0\r\n")
        #expect(h.send("LMOVE", "src", "dst", "LEFT", "LEFT") == "$-1\r\n")
        #expect(h.send("RPOPLPUSH", "dst", "other") == "$1\r\nc\r\n")
        #expect(h.send("RPOPLPUSH", "dst", "other") == "$1\r\na\r\n")
        #expect(h.send("RPOPLPUSH", "dst", "other") == "$1\r\nb\r\n")
        #expect(h.send("EXISTS", "dst") == ":0\r\n")
        #expect(h.send("LRANGE", "other", "0", "-1") == "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n")
        #expect(h.send("LMOVE", "other", "dst", "UP", "LEFT") == "-ERR syntax error\r\n")
        #expect(h.send("LMOVE", "other", "dst", "LEFT", "DOWN") == "-ERR syntax error\r\n")
        #expect(h.send("LMOVE", "nokey", "dst", "UP", "LEFT") == "-ERR syntax error\r\n")
        #expect(h.send("SET", "s", "x") == "+OK\r\n")
        #expect(h.send("LMOVE", "other", "s", "LEFT", "LEFT") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("RPOPLPUSH", "other", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LMOVE", "s", "other", "LEFT", "LEFT") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LMOVE", "nokey", "s", "LEFT", "LEFT") == "$-1\r\n")
        #expect(h.send("LRANGE", "other", "0", "-1") == "*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n")
    }

    @Test func everyCommandRejectsAnotherType() {
        let h = Harness()
        #expect(h.send("SET", "s", "x") == "+OK\r\n")
        #expect(h.send("LPUSH", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("RPUSH", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LPUSHX", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("RPUSHX", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LINSERT", "s", "BEFORE", "a", "b") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LLEN", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LINDEX", "s", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LINDEX", "s", "x") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LSET", "s", "0", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LSET", "s", "x", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LRANGE", "s", "0", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LTRIM", "s", "0", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LPOS", "s", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LPOS", "s", "a", "COUNT", "1") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LREM", "s", "0", "a") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LPOP", "s") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LPOP", "s", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("RPOP", "s", "2") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LMPOP", "1", "s", "LEFT") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("RPOPLPUSH", "s", "d") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("LMOVE", "s", "d", "LEFT", "LEFT") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("GET", "s") == "$1\r\nx\r\n")
    }

    @Test func encodingFollowsTheListpackLimit() {
        let h = Harness()
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "3") == "+OK\r\n")
        #expect(h.send("RPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("RPUSH", "l", "d") == ":4\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("RPOP", "l", "3") == "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("LINSERT", "l", "AFTER", "b", "x") == ":4\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("LSET", "l", "5", "x") == "-ERR index out of range\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", "a", "a", "a", "d") == ":4\r\n")
        #expect(h.send("LREM", "l", "3", "a") == ":3\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", "a", "b", "c", "d") == ":4\r\n")
        #expect(h.send("LTRIM", "l", "1", "1") == "+OK\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "0") == "+OK\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", "a") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("RPUSH", "l", "b") == ":2\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "-1") == "+OK\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", String(repeating: "x", count: 4089)) == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", String(repeating: "x", count: 4090)) == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", "a", "b", "c", String(repeating: "x", count: 5000)) == ":4\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("RPOP", "l") == "$5000\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", String(repeating: "x", count: 5000), "a", "b") == ":3\r\n")
        #expect(h.send("RPOP", "l", "2") == "*2\r\n$1\r\nb\r\n$1\r\na\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("LSET", "l", "-1", "c") == "+OK\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "-6") == "+OK\r\n")
        #expect(h.send("DEL", "l") == ":1\r\n")
        #expect(h.send("RPUSH", "l", String(repeating: "x", count: 60000)) == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$8\r\nlistpack\r\n")
        #expect(h.send("RPUSH", "l", String(repeating: "x", count: 5536)) == ":2\r\n")
        #expect(h.send("OBJECT", "ENCODING", "l") == "$9\r\nquicklist\r\n")
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "-2") == "+OK\r\n")
    }

    @Test func lmoveCountsAnIntegerFromAQuicklistAsNoBytes() {
        let h = Harness()
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "-1") == "+OK\r\n")
        #expect(h.send("RPUSH", "src", String(repeating: "x", count: 5000), "12345") == ":2\r\n")
        #expect(h.send("RPUSH", "dst", String(repeating: "x", count: 4050), "abcdefghijklmnopqrstuvwxyz012") == ":2\r\n")
        #expect(h.send("OBJECT", "ENCODING", "dst") == "$8\r\nlistpack\r\n")
        #expect(h.send("LMOVE", "src", "dst", "RIGHT", "RIGHT") == "$5\r\n12345\r\n")
        #expect(h.send("OBJECT", "ENCODING", "dst") == "$8\r\nlistpack\r\n")
        #expect(h.send("DEL", "dst") == ":1\r\n")
        #expect(h.send("RPUSH", "dst", String(repeating: "x", count: 4050), "abcdefghijklmnopqrstuvwxyz012") == ":2\r\n")
        #expect(h.send("RPUSH", "lp", "12345") == ":1\r\n")
        #expect(h.send("LMOVE", "lp", "dst", "RIGHT", "RIGHT") == "$5\r\n12345\r\n")
        #expect(h.send("OBJECT", "ENCODING", "dst") == "$9\r\nquicklist\r\n")
        #expect(h.send("CONFIG", "SET", "list-max-listpack-size", "-2") == "+OK\r\n")
    }

    @Test func lsetTruncatesTheIndexTo32Bits() {
        let h = Harness()
        #expect(h.send("RPUSH", "l", "a", "b", "c") == ":3\r\n")
        #expect(h.send("LSET", "l", "9223372036854775807", "X") == "+OK\r\n")
        #expect(h.send("LSET", "l", "4294967296", "Y") == "+OK\r\n")
        #expect(h.send("LSET", "l", "2147483648", "Z") == "-ERR index out of range\r\n")
        #expect(h.send("LSET", "l", "-4294967295", "W") == "+OK\r\n")
        #expect(h.send("LRANGE", "l", "0", "-1") == "*3\r\n$1\r\nY\r\n$1\r\nW\r\n$1\r\nX\r\n")
        #expect(h.send("LINDEX", "l", "4294967296") == "$-1\r\n")
    }

    /// Quicklist shapes after splits, merges, LSET and pops: the node count and summed listpack
    /// bytes redis-server 7.2.4's DEBUG OBJECT printed (ql_nodes, ql_uncompressed_size) after
    /// each step ("l" = listpack, "-" = not checked). Compression changes nothing about them.
    @Test(arguments: ["0", "1"])
    func quicklistShapesMatchRedis(compressDepth: String) {
        let h = Harness()
        h.send("CONFIG", "SET", "list-compress-depth", compressDepth)
        let steps: [([String], String)] = [
            (["CONFIG", "SET", "list-max-listpack-size", "4"], "-"),
            (["DEL", "l"], "none"),
            (["RPUSH", "l", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"], "q:3:45"),
            (["LINSERT", "l", "AFTER", "2", String(repeating: "x", count: 900)], "q:4:956"),
            (["LINSERT", "l", "BEFORE", "8", String(repeating: "x", count: 30)], "q:5:995"),
            (["LSET", "l", "12", "y"], "q:5:996"),
            (["LINSERT", "l", "AFTER", "6", "x"], "q:5:999"),
            (["LINSERT", "l", "AFTER", "8", "x"], "q:5:1002"),
            (["LREM", "l", "0", "x"], "q:5:996"),
            (["LINSERT", "l", "BEFORE", "3", String(repeating: "x", count: 900)], "q:5:1900"),
            (["LSET", "l", "-17", "y"], "q:5:1900"),
            (["LINSERT", "l", "AFTER", "2", String(repeating: "x", count: 30)], "q:5:1932"),
            (["LINSERT", "l", "AFTER", "1", String(repeating: "x", count: 900)], "q:6:2843"),
            (["LREM", "l", "0", "x"], "q:6:2843"),
            (["LINSERT", "l", "BEFORE", "9", String(repeating: "x", count: 30)], "q:6:2875"),
            (["LINSERT", "l", "BEFORE", "11", String(repeating: "x", count: 900)], "q:7:3786"),
            (["LINSERT", "l", "AFTER", "3", String(repeating: "x", count: 900)], "q:7:4690"),
            (["LSET", "l", "0", String(repeating: "y", count: 500)], "q:7:5192"),
            (["LSET", "l", "9", String(repeating: "y", count: 500)], "q:7:5694"),
            (["LINSERT", "l", "BEFORE", "2", "x"], "q:7:5697"),
            (["LSET", "l", "13", String(repeating: "y", count: 500)], "q:7:6199"),
            (["RPOP", "l", "19"], "l"),
            (["LSET", "l", "-16", "y"], "l"),
            (["LSET", "l", "-10", String(repeating: "y", count: 500)], "l"),
            (["LINSERT", "l", "AFTER", "7", "x"], "l"),
            (["LPOP", "l", "36"], "none"),
            (["LSET", "l", "0", String(repeating: "y", count: 500)], "none"),
            (["LSET", "l", "18", String(repeating: "y", count: 500)], "none"),
            (["LTRIM", "l", "0", "2"], "none"),
            (["CONFIG", "SET", "list-max-listpack-size", "-1"], "-"),
            (["DEL", "l"], "none"),
            (["RPUSH", "l"] + (0 ..< 300).map { String(repeating: "v\($0)", count: 40) }, "q:12:44784"),
            (["LSET", "l", "9", "y"], "q:12:44704"),
            (["LREM", "l", "0", "x"], "q:12:44704"),
            (["RPOP", "l", "5"], "q:12:43884"),
            (["LINSERT", "l", "AFTER", String(repeating: "v158", count: 40), String(repeating: "x", count: 30)], "q:12:43916"),
            (["LREM", "l", "0", "x"], "q:12:43916"),
            (["RPOP", "l", "2"], "q:11:43581"),
            (["RPOP", "l", "11"], "q:11:41777"),
            (["LSET", "l", "11", "y"], "q:11:41657"),
            (["LINSERT", "l", "BEFORE", String(repeating: "v147", count: 40), String(repeating: "x", count: 900)], "q:12:42568"),
            (["LINSERT", "l", "AFTER", String(repeating: "v200", count: 40), "x"], "q:12:42571"),
            (["LINSERT", "l", "AFTER", String(repeating: "v205", count: 40), "x"], "q:12:42574"),
            (["LREM", "l", "0", "x"], "q:12:42568"),
            (["RPOP", "l", "27"], "q:11:38133"),
            (["RPOP", "l", "15"], "q:10:35666"),
            (["LINSERT", "l", "BEFORE", String(repeating: "v90", count: 40), "x"], "q:10:35669"),
            (["LSET", "l", "-20", String(repeating: "y", count: 500)], "q:10:36009"),
            (["LREM", "l", "0", "x"], "q:10:36006"),
            (["LINSERT", "l", "BEFORE", String(repeating: "v144", count: 40), "x"], "q:10:36009"),
            (["LINSERT", "l", "AFTER", String(repeating: "v189", count: 40), "x"], "q:10:36012"),
            (["LSET", "l", "12", "y"], "q:10:35892"),
            (["LINSERT", "l", "AFTER", String(repeating: "v286", count: 40), String(repeating: "x", count: 30)], "q:10:35892"),
            (["LINSERT", "l", "AFTER", String(repeating: "v53", count: 40), String(repeating: "x", count: 900)], "q:11:36803"),
            (["LINSERT", "l", "BEFORE", String(repeating: "v97", count: 40), "x"], "q:11:36806"),
            (["LINSERT", "l", "AFTER", String(repeating: "v56", count: 40), String(repeating: "x", count: 900)], "q:11:37710"),
            (["LINSERT", "l", "BEFORE", String(repeating: "v0", count: 40), String(repeating: "x", count: 900)], "q:12:38621"),
            (["LTRIM", "l", "0", "2"], "q:2:1084"),
        ]
        for (n, (args, expected)) in steps.enumerated() {
            h.send(args)
            guard expected != "-" else { continue }
            var actual = "none"
            if let object = h.listObject(Array("l".utf8)) {
                actual = object.encoding == .quicklist ? "q:\(object.nodeCount):\(object.quicklistBytes)" : "l"
            }
            #expect(actual == expected, "step \(n): \(args.prefix(4))")
        }
    }

    @Test func digestMixesTheElementsInOrder() throws {
        let h = try Harness(configure: { try $0.applyArguments(["--enable-debug-command", "yes"]) })
        h.send("RPUSH", "l", "a", "1", String(repeating: "x", count: 100))
        #expect(h.send("DEBUG", "DIGEST-VALUE", "l") == "*1\r\n+9cb7a9b4612984067ba942a0a33bfae3ca281951\r\n")
    }
}
