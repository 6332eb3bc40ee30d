import ApusCommands
import ApusStore
import Testing

/// MULTI / EXEC / DISCARD / WATCH / UNWATCH through the real dispatcher (replies byte for
/// byte as redis-server 7.2 sends them).
@Suite struct TransactionCommandsTests {
    @Test func queuesAndExecutesInOrder() {
        let h = Harness()
        #expect(h.send("MULTI") == "+OK\r\n")
        #expect(h.send("SET", "a", "1") == "+QUEUED\r\n")
        #expect(h.send("INCR", "a") == "+QUEUED\r\n")
        #expect(h.send("LPUSH", "a", "x") == "+QUEUED\r\n")
        #expect(h.send("GET", "a") == "+QUEUED\r\n")
        // Runtime errors are reported per command; the others still run.
        #expect(h.send("EXEC") == "*4\r\n+OK\r\n:2\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n$1\r\n2\r\n")
        #expect(h.send("GET", "a") == "$1\r\n2\r\n")
    }

    @Test func emptyTransactionAndErrorsOutsideMulti() {
        let h = Harness()
        #expect(h.send("EXEC") == "-ERR EXEC without MULTI\r\n")
        #expect(h.send("DISCARD") == "-ERR DISCARD without MULTI\r\n")
        #expect(h.send("MULTI") == "+OK\r\n")
        #expect(h.send("MULTI") == "-ERR MULTI calls can not be nested\r\n")
        #expect(h.send("WATCH", "x") == "-ERR WATCH inside MULTI is not allowed\r\n")
        // Neither error aborts the transaction.
        #expect(h.send("EXEC") == "*0\r\n")
    }

    @Test func queuingErrorsAbortWithExecAbort() {
        let h = Harness()
        h.send("MULTI")
        #expect(h.send("SET", "a", "1") == "+QUEUED\r\n")
        #expect(h.send("NOSUCHCOMMAND").hasPrefix("-ERR unknown command 'NOSUCHCOMMAND'"))
        #expect(h.send("SET", "a") == "-ERR wrong number of arguments for 'set' command\r\n")
        #expect(h.send("EXEC") == "-EXECABORT Transaction discarded because of previous errors.\r\n")
        #expect(h.send("GET", "a") == "$-1\r\n")
        // The transaction is over.
        #expect(h.send("EXEC") == "-ERR EXEC without MULTI\r\n")
        h.send("MULTI")
        #expect(h.send("CONFIG", "NOSUCH").hasPrefix("-ERR unknown subcommand 'NOSUCH'"))
        #expect(h.send("EXEC") == "-EXECABORT Transaction discarded because of previous errors.\r\n")
    }

    @Test func commandsNotAllowedInMulti() {
        let h = Harness()
        h.send("MULTI")
        // SAVE-like no-multi commands are refused (WAIT, ...): use one this build registers.
        let refused = h.server.commands.registeredCommands.first { $0.flags.contains(.noMulti) && $0.isRegistered && $0.spec.name != "multi" && $0.spec.name != "watch" }
        if let refused {
            let name = refused.spec.fullName.split(separator: "|").map(String.init)
            var args = name
            while args.count < abs(refused.arity) { args.append("x") }
            #expect(h.send(args) == "-ERR Command not allowed inside a transaction\r\n")
            #expect(h.send("EXEC") == "-EXECABORT Transaction discarded because of previous errors.\r\n")
        }
    }

    @Test func discardDropsQueueAndWatches() {
        let h = Harness()
        h.send("WATCH", "a")
        h.send("MULTI")
        h.send("SET", "a", "1")
        #expect(h.send("DISCARD") == "+OK\r\n")
        #expect(h.send("GET", "a") == "$-1\r\n")
        // The watch went with DISCARD: a change now does not fail the next transaction.
        let other = h.makeClient()
        h.send(as: other, "SET", "a", "2")
        h.send("MULTI")
        h.send("GET", "a")
        #expect(h.send("EXEC") == "*1\r\n$1\r\n2\r\n")
    }

    @Test func watchedKeyModifiedFailsExec() {
        let h = Harness()
        let other = h.makeClient()
        h.send("SET", "x", "30")
        #expect(h.send("WATCH", "x") == "+OK\r\n")
        h.send(as: other, "INCR", "x")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*-1\r\n")
        // EXEC unwatched everything: the next one runs.
        h.send(as: other, "INCR", "x")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*1\r\n+PONG\r\n")
    }

    @Test func watchedKeyNotModifiedRuns() {
        let h = Harness()
        let other = h.makeClient()
        h.send("SET", "x", "30")
        h.send("WATCH", "x", "y")
        h.send(as: other, "GET", "x")
        h.send(as: other, "SET", "z", "1")
        h.send("MULTI")
        h.send("INCR", "x")
        #expect(h.send("EXEC") == "*1\r\n:31\r\n")
    }

    @Test func resp3AbortedExecIsNull() {
        let h = Harness()
        let other = h.makeClient()
        h.send("HELLO", "3")
        h.send("WATCH", "k")
        h.send(as: other, "SET", "k", "1")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "_\r\n")
    }

    @Test func unwatchForgetsChanges() {
        let h = Harness()
        let other = h.makeClient()
        h.send("WATCH", "x")
        h.send(as: other, "SET", "x", "1")
        #expect(h.send("UNWATCH") == "+OK\r\n")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*1\r\n+PONG\r\n")
        #expect(h.send("UNWATCH") == "+OK\r\n")
    }

    @Test func watchRemembersTheDatabase() {
        let h = Harness()
        let other = h.makeClient()
        h.send("SELECT", "1")
        h.send("WATCH", "x")
        // The same name in database 0 is another key.
        h.send(as: other, "SET", "x", "1")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*1\r\n+PONG\r\n")
        h.send("WATCH", "x")
        h.send(as: other, "SELECT", "1")
        h.send(as: other, "SET", "x", "1")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*-1\r\n")
    }

    @Test func everyKindOfChangeTouchesWatchedKeys() {
        let h = Harness()
        let other = h.makeClient()
        let changes: [([String], [String])] = [
            (["SET", "k", "v"], ["EXPIRE", "k", "100"]),
            (["SET", "k", "v"], ["DEL", "k"]),
            (["SET", "k", "v"], ["RENAME", "k", "k2"]),
            (["SET", "src", "v"], ["RENAME", "src", "k"]),
            (["SET", "k", "v"], ["MOVE", "k", "1"]),
            (["SET", "src", "v"], ["COPY", "src", "k"]),
            (["HSET", "k", "f", "v"], ["HDEL", "k", "f"]),
            (["SADD", "k", "a"], ["SPOP", "k"]),
            (["SADD", "src", "a"], ["SMOVE", "src", "k", "a"]),
            (["ZADD", "k", "1", "a"], ["ZADD", "k", "2", "a"]),
            (["RPUSH", "k", "a"], ["LPOP", "k"]),
            (["SET", "k", "v"], ["FLUSHDB"]),
            (["SET", "k", "v"], ["FLUSHALL"]),
            (["SET", "k", "v"], ["SWAPDB", "0", "1"]),
            (["SET", "k", "v"], ["SETBIT", "k", "0", "1"]),
            (["SADD", "a", "1"], ["SINTERSTORE", "k", "a"]),
        ]
        for (setup, change) in changes {
            h.send("FLUSHALL")
            h.send(as: other, setup)
            h.send("WATCH", "k")
            h.send(as: other, change)
            h.send("MULTI")
            h.send("PING")
            #expect(h.send("EXEC") == "*-1\r\n", "\(change) should touch the watched key")
        }
    }

    @Test func evictionTouchesWatchedKeys() {
        let h = Harness()
        h.send("SET", "k", "v", "EX", "100")
        h.send("SET", "persistent", "v")
        h.send("WATCH", "k")
        h.send("CONFIG", "SET", "maxmemory-policy", "volatile-ttl")
        h.send("CONFIG", "SET", "maxmemory-eviction-tenacity", "100")
        h.send("CONFIG", "SET", "maxmemory", "1")
        h.send("PING")  // evicts every key with a TTL
        h.send("CONFIG", "SET", "maxmemory", "0")
        #expect(h.send("EXISTS", "k") == ":0\r\n")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*-1\r\n")
    }

    @Test func queuingIsRefusedWhenOutOfMemory() {
        let h = Harness()
        h.send("MULTI")
        h.send("CONFIG", "SET", "maxmemory", "1")  // queued
        #expect(h.send("EXEC") == "*1\r\n+OK\r\n")
        h.send("MULTI")
        // Under noeviction even a read is refused while queuing (queues grow without bound).
        #expect(h.send("GET", "a") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(h.send("EXEC") == "-EXECABORT Transaction discarded because of previous errors.\r\n")
        // Reaching the limit after queuing: EXEC of reads runs, EXEC with a write that may
        // grow memory is refused (and discarded) with the reason.
        let other = h.makeClient()
        h.send("CONFIG", "SET", "maxmemory", "0")
        h.send("SET", "x", "value")
        h.send("MULTI")
        h.send("GET", "x")
        h.send("PING")
        h.send(as: other, "CONFIG", "SET", "maxmemory", "1")
        #expect(h.send("EXEC") == "*2\r\n$5\r\nvalue\r\n+PONG\r\n")
        h.send(as: other, "CONFIG", "SET", "maxmemory", "0")
        h.send("MULTI")
        h.send("SET", "x", "1")
        h.send(as: other, "CONFIG", "SET", "maxmemory", "1")
        #expect(h.send("EXEC") == "-EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(h.send("EXEC") == "-ERR EXEC without MULTI\r\n")
        h.send(as: other, "CONFIG", "SET", "maxmemory", "0")
        #expect(h.send("GET", "x") == "$5\r\nvalue\r\n")
    }

    @Test func noOpWritesDoNotTouch() {
        let h = Harness()
        let other = h.makeClient()
        h.send("SADD", "k", "a")
        h.send("WATCH", "k")
        h.send(as: other, "SADD", "k", "a")
        h.send(as: other, "SREM", "k", "zz")
        h.send(as: other, "EXPIRE", "nosuch", "10")
        h.send(as: other, "FLUSHDB")  // k existed: this one touches
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*-1\r\n")
        // FLUSHDB of a database without the watched key leaves it alone.
        h.send("WATCH", "absent")
        h.send(as: other, "SET", "other", "1")
        h.send(as: other, "FLUSHDB")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*1\r\n+PONG\r\n")
    }

    @Test func expiredWatchedKeyFailsExec() throws {
        let h = Harness()
        h.send("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        h.send("SET", "k", "1", "PX", "30")
        h.send("WATCH", "k")
        // Past the TTL without anyone touching the key: EXEC sees it logically expired.
        let deadline = currentTimeMillis() + 60
        while currentTimeMillis() < deadline {}
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*-1\r\n")
    }

    @Test func keyAlreadyExpiredAtWatchIsNoChangeWhenDeleted() {
        let h = Harness()
        h.send("DEBUG", "SET-ACTIVE-EXPIRE", "0")
        h.send("SET", "k", "1", "PX", "1")
        let deadline = currentTimeMillis() + 5
        while currentTimeMillis() < deadline {}
        h.send("WATCH", "k")
        // Lazy expiry deletes it: logically it was already gone, so nothing changed.
        #expect(h.send("GET", "k") == "$-1\r\n")
        h.send("MULTI")
        h.send("PING")
        #expect(h.send("EXEC") == "*1\r\n+PONG\r\n")
    }

    @Test func blockingCommandsDoNotBlockInsideExec() {
        let h = Harness()
        h.send("MULTI")
        h.send("BLPOP", "empty", "0")
        h.send("BLMOVE", "empty", "dst", "LEFT", "RIGHT", "0")
        h.send("BZPOPMIN", "empty", "0")
        #expect(h.send("EXEC") == "*3\r\n*-1\r\n$-1\r\n*-1\r\n")
    }

    @Test func resetEndsTheTransaction() {
        let h = Harness()
        h.send("MULTI")
        h.send("SET", "a", "1")
        #expect(h.send("RESET") == "+RESET\r\n")
        #expect(h.send("EXEC") == "-ERR EXEC without MULTI\r\n")
        #expect(h.send("GET", "a") == "$-1\r\n")
    }

    @Test func execCountsEachCommandInCommandstats() {
        let h = Harness()
        h.send("MULTI")
        h.send("SET", "a", "1")
        h.send("SET", "b", "1")
        h.send("EXEC")
        let stats = h.send("INFO", "commandstats")
        #expect(stats.contains("cmdstat_set:calls=2,"))
        #expect(stats.contains("cmdstat_exec:calls=1,"))
        #expect(stats.contains("cmdstat_multi:calls=1,"))
    }

    @Test func clientListShowsTransactionState() {
        let h = Harness()
        h.send("MULTI")
        h.send("SET", "a", "b")
        h.send("CLIENT", "INFO")
        let exec = h.send("EXEC")
        // Inside EXEC the client is still in MULTI: flags x, the queue's size and memory
        // (argument bytes plus a pointer per argument), as redis-server reports them.
        #expect(exec.contains("flags=x db=0 sub=0 psub=0 ssub=0 multi=2 "))
        #expect(exec.contains(" multi-mem=55 "))
        h.send("WATCH", "a")
        h.send("SET", "a", "c")
        let info = h.send("CLIENT", "INFO")
        #expect(info.contains("flags=d db=0 sub=0 psub=0 ssub=0 multi=-1 "))
        #expect(info.contains(" multi-mem=0 "))
        h.send("UNWATCH")
        #expect(h.send("CLIENT", "INFO").contains("flags=N "))
    }

    @Test func execHoldsItsShardsUntilTheEnd() {
        let h = Harness()
        h.send("MULTI")
        for i in 0..<20 { h.send("SET", "key\(i)", "v") }
        h.send("EXEC")
        // Every lock the section took was released: another section can take them all again.
        #expect(!ExclusiveSection.isActive)
        #expect(ExclusiveSection.heldCount == 0)
        #expect(h.send("MGET", "key0", "key19") == "*2\r\n$1\r\nv\r\n$1\r\nv\r\n")
    }
}

extension Harness {
    @discardableResult
    func send(as other: HarnessClient, _ args: [String]) -> String {
        String(decoding: raw(args.map { Array($0.utf8) }, as: other.session), as: UTF8.self)
    }
}
