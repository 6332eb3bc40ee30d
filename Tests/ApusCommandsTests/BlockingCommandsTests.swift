import Testing

/// Blocking pops through the dispatcher with several clients of one server: a blocked
/// command replies nothing at first; the write that makes its key ready serves it (the reply
/// is delivered to the blocked client), FIFO per key, like Redis's blocked.c.
@Suite struct BlockingCommandsTests {
    @Test func blpopServesAtOnceWhenAListHasElements() {
        let h = Harness()
        h.send("RPUSH", "b", "x", "y")
        #expect(h.send("BLPOP", "a", "b", "0") == "*2\r\n$1\r\nb\r\n$1\r\nx\r\n")
        #expect(h.send("BRPOP", "a", "b", "0") == "*2\r\n$1\r\nb\r\n$1\r\ny\r\n")
        #expect(h.send("EXISTS", "b") == ":0\r\n")
    }

    @Test func aPushServesTheBlockedClientAfterItCompletes() {
        let h = Harness()
        let waiter = h.makeClient()
        #expect(h.send(as: waiter, "BLPOP", "k", "0") == "")
        #expect(h.send("INFO", "clients").contains("blocked_clients:1\r\n"))
        #expect(h.send("LPUSH", "k", "v") == ":1\r\n")
        #expect(waiter.delivered == ["*2\r\n$1\r\nk\r\n$1\r\nv\r\n"])
        #expect(h.send("EXISTS", "k") == ":0\r\n")
        #expect(h.send("INFO", "clients").contains("blocked_clients:0\r\n"))
    }

    @Test func waitersAreServedInArrivalOrder() {
        let h = Harness()
        let first = h.makeClient()
        let second = h.makeClient()
        let third = h.makeClient()
        h.send(as: first, "BLPOP", "k", "0")
        h.send(as: second, "BRPOP", "other", "k", "0")
        h.send(as: third, "BLPOP", "k", "0")
        // LPUSH k a b leaves [b, a]: the first waiter pops the head, the second the tail.
        #expect(h.send("LPUSH", "k", "a", "b") == ":2\r\n")
        #expect(first.delivered == ["*2\r\n$1\r\nk\r\n$1\r\nb\r\n"])
        #expect(second.delivered == ["*2\r\n$1\r\nk\r\n$1\r\na\r\n"])
        #expect(third.delivered.isEmpty)
        h.send("RPUSH", "k", "c")
        #expect(third.delivered == ["*2\r\n$1\r\nk\r\n$1\r\nc\r\n"])
    }

    @Test func aKeyOfAnotherTypeLeavesWaitersBlocked() {
        let h = Harness()
        let waiter = h.makeClient()
        h.send(as: waiter, "BLPOP", "k", "0")
        h.send("SET", "k", "string")
        #expect(waiter.delivered.isEmpty)
        h.send("DEL", "k")
        h.send("RPUSH", "k", "v")
        #expect(waiter.delivered == ["*2\r\n$1\r\nk\r\n$1\r\nv\r\n"])
    }

    @Test func blmoveChainsWakeUpsInOnePass() {
        let h = Harness()
        let mover = h.makeClient()
        let popper = h.makeClient()
        #expect(h.send(as: mover, "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0") == "")
        #expect(h.send(as: popper, "BLPOP", "dst", "0") == "")
        #expect(h.send("RPUSH", "src", "v") == ":1\r\n")
        #expect(mover.delivered == ["$1\r\nv\r\n"])
        #expect(popper.delivered == ["*2\r\n$3\r\ndst\r\n$1\r\nv\r\n"])
        #expect(h.send("EXISTS", "src", "dst") == ":0\r\n")
    }

    @Test func brpoplpushIntoAStringIsServedWithWrongType() {
        let h = Harness()
        let waiter = h.makeClient()
        h.send("SET", "dst", "x")
        h.send(as: waiter, "BRPOPLPUSH", "src", "dst", "0")
        h.send("RPUSH", "src", "v")
        #expect(waiter.delivered == ["-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"])
        #expect(h.send("LRANGE", "src", "0", "-1") == "*1\r\n$1\r\nv\r\n")
    }

    @Test func blmpopServesUpToCountFromTheFirstReadyKey() {
        let h = Harness()
        let waiter = h.makeClient()
        h.send(as: waiter, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "5")
        h.send("RPUSH", "b", "1", "2", "3")
        #expect(waiter.delivered == ["*2\r\n$1\r\nb\r\n*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n"])
    }

    @Test func clientUnblockEndsTheWaitAsTimeoutOrError() {
        let h = Harness()
        let waiter = h.makeClient()
        let id = "\(waiter.session.id)"
        h.send(as: waiter, "BLPOP", "k", "0")
        #expect(h.send("CLIENT", "UNBLOCK", id) == ":1\r\n")
        #expect(waiter.delivered == ["*-1\r\n"])
        #expect(h.send("CLIENT", "UNBLOCK", id) == ":0\r\n")
        h.send(as: waiter, "BLMOVE", "a", "b", "LEFT", "LEFT", "0")
        #expect(h.send("CLIENT", "UNBLOCK", id, "ERROR") == ":1\r\n")
        #expect(waiter.delivered.last == "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n")
        h.send(as: waiter, "BLMOVE", "a", "b", "LEFT", "LEFT", "0")
        #expect(h.send("CLIENT", "UNBLOCK", id, "TIMEOUT") == ":1\r\n")
        #expect(waiter.delivered.last == "$-1\r\n")
        // Nothing is left waiting: a push is not served to anyone.
        h.send("RPUSH", "k", "v")
        #expect(h.send("LLEN", "k") == ":1\r\n")
        #expect(h.send("CLIENT", "UNBLOCK", "99", "FOO") == "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n")
        #expect(h.send("CLIENT", "UNBLOCK", "abc") == "-ERR value is not an integer or out of range\r\n")
    }

    @Test func argumentsAreCheckedLikeRedis() {
        let h = Harness()
        #expect(h.send("BLPOP", "k", "abc") == "-ERR timeout is not a float or out of range\r\n")
        #expect(h.send("BLPOP", "k", "-1") == "-ERR timeout is negative\r\n")
        #expect(h.send("BLPOP", "k", "-inf") == "-ERR timeout is negative\r\n")
        // Redis 7.2 refuses a timeout whose milliseconds overflow (7.0 said "negative").
        #expect(h.send("BLPOP", "k", "1e30") == "-ERR timeout is out of range\r\n")
        #expect(h.send("BLMPOP", "abc", "0", "k", "LEFT") == "-ERR numkeys should be greater than 0\r\n")
        #expect(h.send("BLMPOP", "xx", "1", "k", "LEFT") == "-ERR timeout is not a float or out of range\r\n")
        #expect(h.send("BLMPOP", "0", "1", "k", "MIDDLE") == "-ERR syntax error\r\n")
        #expect(h.send("BLMOVE", "a", "b", "LEFT", "UP", "0") == "-ERR syntax error\r\n")
        #expect(h.send("BLMOVE", "a", "b", "LEFT", "RIGHT", "x") == "-ERR timeout is not a float or out of range\r\n")
        h.send("SET", "s", "x")
        #expect(h.send("BLPOP", "missing", "s", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
        #expect(h.send("BLMOVE", "s", "d", "LEFT", "LEFT", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
    }

    @Test func swapdbWakesClientsWhoseKeyAppears() {
        let h = Harness()
        let waiter = h.makeClient()
        h.send(as: waiter, "BLPOP", "k", "0")
        h.send("SELECT", "1")
        h.send("RPUSH", "k", "from-db1")
        #expect(waiter.delivered.isEmpty)
        h.send("SWAPDB", "0", "1")
        #expect(waiter.delivered == ["*2\r\n$1\r\nk\r\n$8\r\nfrom-db1\r\n"])
    }

    @Test func bzpopminIsServedByAZaddAndRepliesKeyMemberScore() {
        let h = Harness()
        let waiter = h.makeClient()
        #expect(h.send(as: waiter, "BZPOPMIN", "zk", "0") == "")
        #expect(h.send("ZADD", "zk", "1", "a") == ":1\r\n")
        #expect(waiter.delivered == ["*3\r\n$2\r\nzk\r\n$1\r\na\r\n$1\r\n1\r\n"])
        #expect(h.send("EXISTS", "zk") == ":0\r\n")
        // A list pushed to a key a zset pop waits on does not wake it.
        h.send(as: waiter, "BZPOPMAX", "zk", "0")
        h.send("RPUSH", "zk", "x")
        #expect(waiter.delivered.count == 1)
        h.send("DEL", "zk")
        h.send("ZADD", "zk", "5", "e", "7", "g")
        #expect(waiter.delivered.last == "*3\r\n$2\r\nzk\r\n$1\r\ng\r\n$1\r\n7\r\n")
    }

    @Test func bzmpopServesCountPairsNested() {
        let h = Harness()
        let waiter = h.makeClient()
        h.send(as: waiter, "BZMPOP", "0", "1", "zk", "MAX", "COUNT", "2")
        h.send("ZADD", "zk", "1", "a", "2", "b", "3", "c")
        #expect(waiter.delivered == ["*2\r\n$2\r\nzk\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"])
        #expect(h.send("ZCARD", "zk") == ":1\r\n")
        // Served at once when a set is there; errors as redis-server gives them.
        #expect(h.send("BZPOPMIN", "nokey", "zk", "0") == "*3\r\n$2\r\nzk\r\n$1\r\na\r\n$1\r\n1\r\n")
        #expect(h.send("BZMPOP", "1", "0", "zk", "MIN") == "-ERR numkeys should be greater than 0\r\n")
        #expect(h.send("BZMPOP", "x", "1", "zk", "MIN") == "-ERR timeout is not a float or out of range\r\n")
        #expect(h.send("BZPOPMIN", "zk", "-1") == "-ERR timeout is negative\r\n")
        #expect(h.send("BZMPOP", "0", "1", "zk", "MIDDLE") == "-ERR syntax error\r\n")
        h.send("SET", "s", "x")
        #expect(h.send("BZPOPMAX", "nokey", "s", "0") == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
    }

    /// A blocked call is counted once, when its wait ends (served, unblocked, timed out), and
    /// CLIENT UNBLOCK ... ERROR counts as a failed call with an UNBLOCKED error (redis-server).
    @Test func blockedCallsAreCountedWhenTheirWaitEnds() {
        let h = Harness()
        let waiter = h.makeClient()
        let id = "\(waiter.session.id)"
        h.send(as: waiter, "BLPOP", "k", "0")
        #expect(!h.send("INFO", "commandstats").contains("cmdstat_blpop"))
        h.send("CLIENT", "UNBLOCK", id, "ERROR")
        #expect(h.send("INFO", "commandstats").contains("cmdstat_blpop:calls=1,"))
        #expect(h.send("INFO", "commandstats").contains("failed_calls=1"))
        #expect(h.send("INFO", "errorstats").contains("errorstat_UNBLOCKED:count=1"))
        h.send(as: waiter, "BLPOP", "k", "0")
        h.send("CLIENT", "UNBLOCK", id)
        h.send(as: waiter, "BLPOP", "k", "0")
        h.send("RPUSH", "k", "v")
        #expect(h.send("INFO", "commandstats").contains("cmdstat_blpop:calls=3,"))
    }
}
