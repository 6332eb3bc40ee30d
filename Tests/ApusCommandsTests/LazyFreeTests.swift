import ApusStore
import Testing

/// UNLINK, FLUSHALL/FLUSHDB ASYNC and the lazyfree-lazy-* settings (Redis's lazyfree.c).
/// The background freer is process-wide, so counts are compared as deltas of at least the
/// objects this test queued (other suites may free concurrently).
@Suite(.serialized) struct LazyFreeTests {
    private func freed() -> Int {
        LazyFree.shared.drain()
        return LazyFree.shared.freed.load(ordering: .relaxed)
    }

    @Test func flushallAsyncEmptiesAtOnceAndFreesInTheBackground() {
        let h = Harness()
        for i in 0 ..< 500 { h.send("SET", "k\(i)", "v") }
        h.send("SELECT", "3")
        for i in 0 ..< 100 { h.send("SET", "k\(i)", "v") }
        let before = freed()
        #expect(h.send("FLUSHALL", "ASYNC") == "+OK\r\n")
        #expect(h.send("DBSIZE") == ":0\r\n")
        h.send("SELECT", "0")
        #expect(h.send("DBSIZE") == ":0\r\n")
        #expect(freed() - before >= 600)
        // The database works normally right after.
        #expect(h.send("SET", "k1", "again") == "+OK\r\n")
        #expect(h.send("GET", "k1") == "$5\r\nagain\r\n")
    }

    @Test func flushdbFollowsLazyfreeLazyUserFlush() {
        let h = Harness()
        #expect(h.send("CONFIG", "SET", "lazyfree-lazy-user-flush", "yes") == "+OK\r\n")
        for i in 0 ..< 300 { h.send("SET", "k\(i)", "v") }
        let before = freed()
        #expect(h.send("FLUSHDB") == "+OK\r\n")
        #expect(h.send("DBSIZE") == ":0\r\n")
        #expect(freed() - before >= 300)
        // SYNC overrides the setting: nothing is queued.
        for i in 0 ..< 300 { h.send("SET", "k\(i)", "v") }
        #expect(h.send("FLUSHDB", "SYNC") == "+OK\r\n")
        #expect(h.send("DBSIZE") == ":0\r\n")
        #expect(h.send("FLUSHDB", "LAZY") == "-ERR syntax error\r\n")
        #expect(h.send("FLUSHALL", "ASYNC", "SYNC") == "-ERR syntax error\r\n")
    }

    @Test func infoReportsLazyfreeCountersAndResetstatClearsThem() {
        let h = Harness()
        for i in 0 ..< 200 { h.send("SET", "k\(i)", "v") }
        h.send("FLUSHALL", "ASYNC")
        _ = freed()
        let info = h.send("INFO", "memory")
        #expect(info.contains("lazyfree_pending_objects:"))
        let line = info.split(separator: "\r\n").first { $0.hasPrefix("lazyfreed_objects:") }
        #expect((line.flatMap { Int($0.dropFirst("lazyfreed_objects:".count)) } ?? 0) >= 200)
        h.send("CONFIG", "RESETSTAT")
        let after = h.send("INFO", "memory").split(separator: "\r\n").first { $0.hasPrefix("lazyfreed_objects:") }
        // Counted from the reset: below what this test alone freed before it.
        #expect((after.flatMap { Int($0.dropFirst("lazyfreed_objects:".count)) } ?? .max) < 200)
    }

    @Test func unlinkAndDelRemoveStringsAtOnce() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("SET", "b", "2")
        #expect(h.send("UNLINK", "a", "b", "c") == ":2\r\n")
        #expect(h.send("EXISTS", "a", "b") == ":0\r\n")
        #expect(h.send("CONFIG", "SET", "lazyfree-lazy-user-del", "yes") == "+OK\r\n")
        h.send("SET", "a", "1")
        #expect(h.send("DEL", "a") == ":1\r\n")
        #expect(h.send("GET", "a") == "$-1\r\n")
    }

    @Test func bigValuesGoInTheBackgroundOnUnlinkAndServerSideDeletes() {
        let h = Harness()
        func fill(_ key: String) {
            // 200 string members: a hashtable-encoded set, worth freeing in the background.
            h.send(["SADD", key] + (0 ..< 200).map { "member:\($0)" })
        }
        fill("big")
        var before = freed()
        #expect(h.send("UNLINK", "big") == ":1\r\n")
        #expect(h.send("EXISTS", "big") == ":0\r\n")
        #expect(freed() - before >= 1)
        // A small value is freed at once even by UNLINK (not worth the queue).
        h.send("SADD", "small", "a", "b")
        #expect(h.send("UNLINK", "small") == ":1\r\n")
        // lazyfree-lazy-server-del: a SET over a big set frees the old value in the background.
        #expect(h.send("CONFIG", "SET", "lazyfree-lazy-server-del", "yes") == "+OK\r\n")
        fill("big")
        before = freed()
        #expect(h.send("SET", "big", "now a string") == "+OK\r\n")
        #expect(h.send("GET", "big") == "$12\r\nnow a string\r\n")
        #expect(freed() - before >= 1)
        #expect(h.send("CONFIG", "SET", "lazyfree-lazy-server-del", "no") == "+OK\r\n")
    }
}
