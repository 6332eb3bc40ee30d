import ApusCommands
import ApusRESP
import ApusStore
import Dispatch
import Testing

// MARK: Helpers

/// A parsed RESP reply, enough for the key commands' array replies.
private indirect enum Reply: Equatable {
    case simple(String)
    case error(String)
    case integer(Int)
    case bulk(String)
    case null
    case array([Reply])

    var strings: [String] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { if case .bulk(let s) = $0 { s } else { nil } }
    }
}

private func parse(_ text: String) -> Reply {
    var bytes = Array(text.utf8)[...]
    return parseValue(&bytes)
}

private func parseValue(_ bytes: inout ArraySlice<UInt8>) -> Reply {
    func line() -> String {
        let end = bytes.firstIndex(of: 0x0D)!
        let s = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        bytes = bytes[(end + 2)...]
        return s
    }
    let kind = bytes.removeFirst()
    switch kind {
    case UInt8(ascii: "+"): return .simple(line())
    case UInt8(ascii: "-"): return .error(line())
    case UInt8(ascii: ":"): return .integer(Int(line())!)
    case UInt8(ascii: "_"): _ = line(); return .null
    case UInt8(ascii: "$"):
        let n = Int(line())!
        if n < 0 { return .null }
        let s = String(decoding: bytes.prefix(n), as: UTF8.self)
        bytes = bytes.dropFirst(n + 2)
        return .bulk(s)
    case UInt8(ascii: "*"):
        let n = Int(line())!
        if n < 0 { return .null }
        return .array((0..<n).map { _ in parseValue(&bytes) })
    default:
        Issue.record("unexpected RESP type \(kind)")
        return .null
    }
}

extension Harness {
    fileprivate func scanAll(_ extra: [String] = []) -> [String] {
        var cursor = "0"
        var keys: [String] = []
        var calls = 0
        repeat {
            guard case .array(let parts) = parse(send(["SCAN", cursor] + extra)), parts.count == 2,
                  case .bulk(let next) = parts[0] else {
                Issue.record("bad SCAN reply")
                return keys
            }
            keys += parts[1].strings
            cursor = next
            calls += 1
        } while cursor != "0" && calls < 100_000
        return keys
    }

    /// Stores a string directly in the keyspace, optionally with an expire time that may be past
    /// (a key the lazy expiry has not reclaimed yet).
    fileprivate func store(_ key: String, _ value: String = "v", db: Int = 0, expireAt: Int64? = nil) {
        let database = server.keyspace.databases[db]
        Array(key.utf8).withUnsafeBytes { k in
            Array(value.utf8).withUnsafeBytes { v in
                database.withShard(for: k) { shard, hash in
                    let existing = shard.table.find(k, hash: hash)
                    shard.putString(k, hash: hash, value: v, encoding: stringEncoding(for: v), expireAt: expireAt, keepTTL: false, existing: existing)
                }
            }
        }
    }

    fileprivate func entryClock(_ key: String, db: Int = 0) -> UInt32? {
        Array(key.utf8).withUnsafeBytes { k in
            server.keyspace.databases[db].withShard(for: k) { shard, hash in shard.table.find(k, hash: hash)?.accessClock }
        }
    }

    fileprivate func setEntryClock(_ key: String, _ clock: UInt32) {
        Array(key.utf8).withUnsafeBytes { k in
            server.keyspace.databases[0].withShard(for: k) { shard, hash in shard.table.find(k, hash: hash)?.accessClock = clock }
        }
    }

    fileprivate func keyCount(db: Int = 0) -> Int { server.keyspace.databases[db].keyCount }
}

private let past = currentTimeMillis() - 10_000

// MARK: DEL UNLINK EXISTS TOUCH TYPE

@Suite struct KeyCommandsTests {
    @Test func delCountsDeletedKeysOnceEach() {
        let h = Harness()
        #expect(h.send("DEL", "k") == ":0\r\n")
        for k in ["a", "b", "c", "d"] { h.send("SET", k, "1") }
        #expect(h.send("DEL", "a") == ":1\r\n")
        #expect(h.send("DEL", "a", "b", "c", "b", "zz") == ":2\r\n")
        #expect(h.send("UNLINK", "d", "d") == ":1\r\n")
        #expect(h.keyCount() == 0)
    }

    @Test func delOfAnExpiredKeyCountsZero() {
        let h = Harness()
        h.store("gone", expireAt: past)
        #expect(h.send("DEL", "gone") == ":0\r\n")
        #expect(h.send("UNLINK", "gone") == ":0\r\n")
        #expect(h.keyCount() == 0)
    }

    @Test func delCountsChangesForDirty() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("SET", "b", "1")
        let before = h.client.worker.dirty
        h.send("DEL", "a", "b", "c")
        #expect(h.client.worker.dirty - before == 2)
    }

    @Test func existsCountsEveryMention() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.store("old", expireAt: past)
        #expect(h.send("EXISTS", "a") == ":1\r\n")
        #expect(h.send("EXISTS", "a", "a", "b", "old") == ":2\r\n")
        #expect(h.send("EXISTS", "nothing") == ":0\r\n")
    }

    @Test func touchCountsExistingKeysAndUpdatesTheAccessClock() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("SET", "b", "1")
        h.setEntryClock("a", 5)
        #expect(h.send("TOUCH", "a", "b", "c", "a") == ":3\r\n")
        #expect(h.entryClock("a") != 5)
        // CLIENT NO-TOUCH does not apply to TOUCH itself (Redis exempts it).
        h.client.noTouch = true
        h.setEntryClock("a", 5)
        #expect(h.send("TOUCH", "a") == ":1\r\n")
        #expect(h.entryClock("a") != 5)
    }

    @Test func typeRepliesStatus() {
        let h = Harness()
        h.send("SET", "s", "x")
        h.store("old", expireAt: past)
        #expect(h.send("TYPE", "s") == "+string\r\n")
        #expect(h.send("TYPE", "nothing") == "+none\r\n")
        #expect(h.send("TYPE", "old") == "+none\r\n")
    }

    @Test func readingLookupsCountKeyspaceHitsAndMisses() {
        let h = Harness()
        h.send("SET", "a", "1")
        let worker = h.client.worker
        let (hits, misses) = (worker.keyspaceHits, worker.keyspaceMisses)
        // Same sequence as against redis-server 7.0: hits 8, misses 5.
        h.send("EXISTS", "a", "b")
        h.send("TYPE", "a")
        h.send("TYPE", "b")
        h.send("TTL", "a")
        h.send("OBJECT", "ENCODING", "a")
        h.send("OBJECT", "ENCODING", "b")
        h.send("TOUCH", "a", "b")
        h.send("COPY", "a", "c")
        h.send("COPY", "b", "d")
        h.send("SCAN", "0", "TYPE", "string")
        h.send("EXPIRE", "a", "100")
        h.send("RENAME", "a", "z")
        h.send("DEL", "zz")
        #expect(worker.keyspaceHits - hits == 8)
        #expect(worker.keyspaceMisses - misses == 5)
    }

    // MARK: TTL PTTL EXPIRETIME PEXPIRETIME

    @Test func ttlFamilyReportsMissingPersistentAndRemaining() {
        let h = Harness()
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            #expect(h.send(cmd, "nothing") == ":-2\r\n")
        }
        h.send("SET", "k", "v")
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            #expect(h.send(cmd, "k") == ":-1\r\n")
        }
        #expect(h.send("PEXPIRE", "k", "100499") == ":1\r\n")
        // 100.499 s rounds to 100; a ms or two may have passed.
        #expect(h.send("TTL", "k") == ":100\r\n")
        guard case .integer(let pttl) = parse(h.send("PTTL", "k")) else { Issue.record("PTTL"); return }
        #expect(pttl <= 100_499 && pttl > 99_000)
        #expect(h.send("PEXPIRE", "k", "100500") == ":1\r\n")
        let ttl = parse(h.send("TTL", "k"))
        #expect(ttl == .integer(101) || ttl == .integer(100))

        #expect(h.send("PEXPIREAT", "k", "4102444800499") == ":1\r\n")
        #expect(h.send("EXPIRETIME", "k") == ":4102444800\r\n")
        #expect(h.send("PEXPIRETIME", "k") == ":4102444800499\r\n")
        #expect(h.send("PEXPIREAT", "k", "4102444800500") == ":1\r\n")
        #expect(h.send("EXPIRETIME", "k") == ":4102444801\r\n")
    }

    @Test func ttlRoundingDoesNotOverflowAtTheLimit() {
        let h = Harness()
        h.send("SET", "k", "v")
        #expect(h.send("PEXPIREAT", "k", "9223372036854775807") == ":1\r\n")
        #expect(h.send("PEXPIRETIME", "k") == ":9223372036854775807\r\n")
        #expect(h.send("EXPIRETIME", "k") == ":9223372036854776\r\n")
    }

    @Test func ttlOfExpiredKeyIsMissing() {
        let h = Harness()
        h.store("old", expireAt: past)
        #expect(h.send("TTL", "old") == ":-2\r\n")
        #expect(h.send("PEXPIRETIME", "old") == ":-2\r\n")
    }

    // MARK: EXPIRE PEXPIRE EXPIREAT PEXPIREAT

    @Test func expireSetsTTLAndRepliesZeroForMissingKey() {
        let h = Harness()
        #expect(h.send("EXPIRE", "nothing", "10") == ":0\r\n")
        h.send("SET", "k", "v")
        #expect(h.send("EXPIRE", "k", "100") == ":1\r\n")
        #expect(h.send("TTL", "k") == ":100\r\n")
        #expect(h.send("PEXPIRE", "k", "5000") == ":1\r\n")
        #expect(h.send("TTL", "k") == ":5\r\n")
        #expect(h.send("EXPIREAT", "k", "4102444800") == ":1\r\n")
        #expect(h.send("EXPIRETIME", "k") == ":4102444800\r\n")
        #expect(h.send("PEXPIREAT", "k", "4102444800123") == ":1\r\n")
        #expect(h.send("PEXPIRETIME", "k") == ":4102444800123\r\n")
    }

    @Test func expireInThePastDeletesTheKey() {
        let h = Harness()
        for (cmd, arg) in [("EXPIRE", "-1"), ("PEXPIRE", "0"), ("EXPIREAT", "1"), ("PEXPIREAT", "1000")] {
            h.send("SET", "k", "v")
            let before = h.client.worker.dirty
            #expect(h.send(cmd, "k", arg) == ":1\r\n")
            #expect(h.send("EXISTS", "k") == ":0\r\n")
            #expect(h.client.worker.dirty - before == 1)
        }
    }

    @Test func expireConditions() {
        let h = Harness()
        h.send("SET", "k", "v")
        // No TTL counts as infinite: GT never holds, LT always does.
        #expect(h.send("EXPIRE", "k", "100", "XX") == ":0\r\n")
        #expect(h.send("EXPIRE", "k", "100", "gt") == ":0\r\n")
        #expect(h.send("EXPIRE", "k", "100", "nx") == ":1\r\n")
        #expect(h.send("EXPIRE", "k", "200", "NX") == ":0\r\n")
        #expect(h.send("EXPIRE", "k", "200", "lt") == ":0\r\n")
        #expect(h.send("EXPIRE", "k", "100", "lt") == ":0\r\n")
        #expect(h.send("EXPIRE", "k", "50", "LT") == ":1\r\n")
        #expect(h.send("EXPIRE", "k", "10", "GT") == ":0\r\n")
        #expect(h.send("EXPIRE", "k", "300", "gt") == ":1\r\n")
        #expect(h.send("EXPIRE", "k", "400", "xx", "gt") == ":1\r\n")
        #expect(h.send("TTL", "k") == ":400\r\n")
        #expect(h.send("EXPIRE", "k", "-1", "gt") == ":0\r\n")
        #expect(h.send("EXISTS", "k") == ":1\r\n")
        #expect(h.send("PERSIST", "k") == ":1\r\n")
        #expect(h.send("EXPIRE", "k", "-1", "lt") == ":1\r\n")
        #expect(h.send("EXISTS", "k") == ":0\r\n")
    }

    @Test func expireOptionErrorsComeFirst() {
        let h = Harness()
        h.send("SET", "k", "v")
        let nx = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
        #expect(h.send("EXPIRE", "k", "10", "nx", "xx") == nx)
        #expect(h.send("EXPIRE", "k", "10", "nx", "gt") == nx)
        #expect(h.send("PEXPIRE", "k", "10", "lt", "NX") == nx)
        #expect(h.send("EXPIRE", "k", "10", "NX", "XX", "GT") == nx)
        #expect(h.send("EXPIRE", "k", "10", "gt", "lt") == "-ERR GT and LT options at the same time are not compatible\r\n")
        #expect(h.send("EXPIRE", "k", "10", "foo") == "-ERR Unsupported option foo\r\n")
        // Options are parsed before the number.
        #expect(h.send("EXPIRE", "k", "abc", "foo") == "-ERR Unsupported option foo\r\n")
        #expect(h.send("EXPIRE", "k", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("EXPIRE", "nothing", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("TTL", "k") == ":-1\r\n")
    }

    @Test func expireOverflowIsAnInvalidExpireTime() {
        let h = Harness()
        h.send("SET", "k", "v")
        #expect(h.send("EXPIRE", "k", "9223372036854776") == "-ERR invalid expire time in 'expire' command\r\n")
        #expect(h.send("EXPIRE", "k", "-9223372036854776") == "-ERR invalid expire time in 'expire' command\r\n")
        // Fits after ×1000, overflows when the current time is added.
        #expect(h.send("EXPIRE", "k", "9223372036854775") == "-ERR invalid expire time in 'expire' command\r\n")
        #expect(h.send("PEXPIRE", "k", "9223372036854775807") == "-ERR invalid expire time in 'pexpire' command\r\n")
        #expect(h.send("EXPIREAT", "k", "9223372036854776") == "-ERR invalid expire time in 'expireat' command\r\n")
        #expect(h.send("EXPIREAT", "k", "9223372036854775") == ":1\r\n")
        #expect(h.send("EXPIRETIME", "k") == ":9223372036854775\r\n")
        #expect(h.send("PEXPIREAT", "k", "9223372036854775807") == ":1\r\n")
        // Very negative absolute times are past: the key goes.
        #expect(h.send("PEXPIREAT", "k", "-9223372036854775808") == ":1\r\n")
        #expect(h.send("EXISTS", "k") == ":0\r\n")
        #expect(h.send("EXPIRE", "nothing", "9223372036854776") == "-ERR invalid expire time in 'expire' command\r\n")
    }

    @Test func expireOnAReplicaKeepsAPastKey() {
        let h = Harness()
        h.send("SET", "k", "v")
        for shard in h.server.keyspace.databases[0].shards { shard.expiryEnabled = false }
        #expect(h.send("PEXPIREAT", "k", "1000") == ":1\r\n")
        // Kept until the primary's DEL: a replica does not expire keys itself.
        #expect(h.keyCount() == 1)
    }

    @Test func persistRemovesTTL() {
        let h = Harness()
        #expect(h.send("PERSIST", "nothing") == ":0\r\n")
        h.send("SET", "k", "v")
        #expect(h.send("PERSIST", "k") == ":0\r\n")
        h.send("EXPIRE", "k", "100")
        let before = h.client.worker.dirty
        #expect(h.send("PERSIST", "k") == ":1\r\n")
        #expect(h.client.worker.dirty - before == 1)
        #expect(h.send("TTL", "k") == ":-1\r\n")
        #expect(h.server.keyspace.databases[0].expiresCount == 0)
    }

    @Test func writeLookupsTouchUnlessNoTouch() {
        let h = Harness()
        h.send("SET", "k", "v")
        h.setEntryClock("k", 7)
        h.send("TTL", "k")
        h.send("EXISTS", "k")
        h.send("TYPE", "k")
        #expect(h.entryClock("k") == 7)
        h.client.noTouch = true
        h.send("EXPIRE", "k", "100")
        #expect(h.entryClock("k") == 7)
        h.client.noTouch = false
        h.send("EXPIRE", "k", "100")
        #expect(h.entryClock("k") != 7)
    }

    // MARK: KEYS

    @Test func keysMatchesPatternsAndSkipsExpired() {
        let h = Harness()
        for i in 0..<200 { h.send("SET", "key:\(i)", "v") }
        h.send("SET", "other", "v")
        h.store("key:old", expireAt: past)
        let all = parse(h.send("KEYS", "*")).strings
        #expect(all.count == 201)
        #expect(Set(all).count == 201)
        #expect(!all.contains("key:old"))
        let ones = Set(parse(h.send("KEYS", "key:1?")).strings)
        #expect(ones == Set((10..<20).map { "key:\($0)" }))
        #expect(parse(h.send("KEYS", "oth[a-f]r")).strings == ["other"])
        #expect(h.send("KEYS", "nomatch*") == "*0\r\n")
        // KEYS does not delete the expired key (Redis's keyIsExpired), a read does.
        #expect(h.keyCount() == 202)
    }

    @Test func keysInEmptyDatabase() {
        let h = Harness()
        #expect(h.send("KEYS", "*") == "*0\r\n")
    }

    // MARK: SCAN

    @Test func scanVisitsEveryKeyOnce() {
        let h = Harness()
        for i in 0..<500 { h.send("SET", "k\(i)", "v") }
        let keys = h.scanAll()
        #expect(keys.count == 500)
        #expect(Set(keys) == Set((0..<500).map { "k\($0)" }))
        let big = h.scanAll(["COUNT", "1000"])
        #expect(Set(big).count == 500)
    }

    @Test func scanMatchCountAndType() {
        let h = Harness()
        for i in 0..<100 { h.send("SET", "user:\(i)", "v") }
        for i in 0..<100 { h.send("SET", "item:\(i)", "v") }
        #expect(Set(h.scanAll(["MATCH", "user:*"])) == Set((0..<100).map { "user:\($0)" }))
        #expect(Set(h.scanAll(["match", "*", "count", "7"])).count == 200)
        #expect(Set(h.scanAll(["TYPE", "string"])).count == 200)
        #expect(Set(h.scanAll(["type", "STRING", "MATCH", "item:1*"])).count == 11)
        #expect(h.scanAll(["TYPE", "list"]).isEmpty)
        // An unknown type name is accepted in 7.2 and matches nothing.
        #expect(h.scanAll(["TYPE", "foo"]).isEmpty)
        // The last MATCH / COUNT wins.
        #expect(Set(h.scanAll(["MATCH", "user:*", "MATCH", "item:*"])) == Set((0..<100).map { "item:\($0)" }))
    }

    @Test func scanCountBoundsOneCall() {
        let h = Harness()
        for i in 0..<1000 { h.send("SET", "k\(i)", "v") }
        guard case .array(let parts) = parse(h.send("SCAN", "0", "COUNT", "5")) else { Issue.record("SCAN"); return }
        #expect(parts[0] != .bulk("0"))
        // A call stops after COUNT sampled entries, give or take one run of slots.
        #expect(parts[1].strings.count < 40)
    }

    @Test func scanArgumentErrors() {
        let h = Harness()
        h.send("SET", "a", "1")
        #expect(h.send("SCAN", "abc") == "-ERR invalid cursor\r\n")
        #expect(h.send("SCAN", "0x1") == "-ERR invalid cursor\r\n")
        #expect(h.send("SCAN", " 1") == "-ERR invalid cursor\r\n")
        #expect(h.send("SCAN", "1 ") == "-ERR invalid cursor\r\n")
        #expect(h.send("SCAN", "18446744073709551616") == "-ERR invalid cursor\r\n")
        #expect(h.send("SCAN", "abc", "COUNT", "0") == "-ERR invalid cursor\r\n")
        #expect(h.send("SCAN", "0", "COUNT", "0") == "-ERR syntax error\r\n")
        #expect(h.send("SCAN", "0", "COUNT", "-1") == "-ERR syntax error\r\n")
        #expect(h.send("SCAN", "0", "COUNT", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("SCAN", "0", "COUNT") == "-ERR syntax error\r\n")
        #expect(h.send("SCAN", "0", "MATCH") == "-ERR syntax error\r\n")
        #expect(h.send("SCAN", "0", "TYPE") == "-ERR syntax error\r\n")
        #expect(h.send("SCAN", "0", "foo", "bar") == "-ERR syntax error\r\n")
        // strtoul's forms: "" is 0, signs are accepted, huge counts are fine.
        #expect(h.send("SCAN", "") == "*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n")
        #expect(parse(h.send("SCAN", "-0")) == .array([.bulk("0"), .array([.bulk("a")])]))
        #expect(parse(h.send("SCAN", "+0", "COUNT", "9223372036854775807")) == .array([.bulk("0"), .array([.bulk("a")])]))
        #expect(parse(h.send("SCAN", "18446744073709551615")) == .array([.bulk("0"), .array([])]))
        #expect(parse(h.send("SCAN", "-1")) == .array([.bulk("0"), .array([])]))
    }

    @Test func scanSkipsAndReclaimsExpiredKeys() {
        let h = Harness()
        for i in 0..<50 { h.send("SET", "live\(i)", "v") }
        for i in 0..<50 { h.store("dead\(i)", expireAt: past) }
        // Like Redis 7.2, expired keys the MATCH pattern passes over are left alone...
        #expect(h.scanAll(["MATCH", "live*"]).count == 50)
        #expect(h.keyCount() == 100)
        // ...while a TYPE filter, even an unknown type, still reclaims the ones it meets.
        #expect(h.scanAll(["TYPE", "nosuchtype"]).isEmpty)
        #expect(h.keyCount() == 50)
        for i in 0..<50 { h.store("dead\(i)", expireAt: past) }
        let keys = h.scanAll()
        #expect(Set(keys) == Set((0..<50).map { "live\($0)" }))
        #expect(h.keyCount() == 50)
    }

    @Test func scanSeesEveryKeyPresentThroughoutWhileKeysComeAndGo() {
        let h = Harness()
        let stable = (0..<2000).map { "stable:\($0)" }
        let doomed = (0..<2000).map { "doomed:\($0)" }
        for k in stable { h.send("SET", k, "v") }
        for k in doomed { h.send("SET", k, "v") }
        var seen = Set<String>()
        var cursor = "0"
        var calls = 0
        var added = 0
        var removed = 0
        repeat {
            guard case .array(let parts) = parse(h.send("SCAN", cursor, "COUNT", "20")),
                  case .bulk(let next) = parts[0] else { Issue.record("SCAN"); return }
            seen.formUnion(parts[1].strings)
            cursor = next
            calls += 1
            // Between calls: grow the table (rehashes) and delete others (shrinks later on).
            for _ in 0..<40 {
                h.send("SET", "new:\(added)", "v")
                added += 1
            }
            for _ in 0..<30 where removed < doomed.count {
                h.send("DEL", doomed[removed])
                removed += 1
            }
            if calls % 50 == 0 {
                // Drop most of the new keys again so tables shrink mid-scan too.
                for i in Swift.max(0, added - 1500)..<added { h.send("DEL", "new:\(i)") }
            }
        } while cursor != "0" && calls < 10_000
        #expect(cursor == "0")
        let missing = stable.filter { !seen.contains($0) }
        #expect(missing.isEmpty, "missing \(missing.count) keys, e.g. \(missing.prefix(5))")
    }

    // MARK: RANDOMKEY

    @Test func randomkeyOfEmptyDatabaseIsNull() {
        let h = Harness()
        #expect(h.send("RANDOMKEY") == "$-1\r\n")
        h.send("HELLO", "3")
        #expect(h.send("RANDOMKEY") == "_\r\n")
    }

    @Test func randomkeyIsFairAcrossShards() {
        let h = Harness()
        let keys = (0..<8).map { "r\($0)" }
        for k in keys { h.send("SET", k, "v") }
        var counts: [String: Int] = [:]
        for _ in 0..<4000 {
            guard case .bulk(let k) = parse(h.send("RANDOMKEY")) else { Issue.record("RANDOMKEY"); return }
            counts[k, default: 0] += 1
        }
        #expect(Set(counts.keys) == Set(keys))
        // Expected 500 each; a shard-first pick would skew towards keys alone in their shard.
        for k in keys { #expect(counts[k]! > 350 && counts[k]! < 650, "\(k): \(counts[k]!)") }
    }

    @Test func randomkeySkipsAndReclaimsExpiredKeys() {
        let h = Harness()
        for i in 0..<20 { h.store("dead\(i)", expireAt: past) }
        #expect(h.send("RANDOMKEY") == "$-1\r\n")
        #expect(h.keyCount() == 0)
        for i in 0..<20 { h.store("dead\(i)", expireAt: past) }
        h.send("SET", "alive", "v")
        #expect(h.send("RANDOMKEY") == "$5\r\nalive\r\n")
    }

    @Test func randomkeyOnAReplicaEndsWithAnExpiredKey() {
        let h = Harness()
        h.store("dead", expireAt: past)
        for shard in h.server.keyspace.databases[0].shards { shard.expiryEnabled = false }
        #expect(h.send("RANDOMKEY") == "$4\r\ndead\r\n")
    }

    // MARK: RENAME RENAMENX

    @Test func renameMovesValueAndTTL() {
        let h = Harness()
        #expect(h.send("RENAME", "nothing", "x") == "-ERR no such key\r\n")
        #expect(h.send("RENAMENX", "nothing", "x") == "-ERR no such key\r\n")
        #expect(h.send("RENAME", "nothing", "nothing") == "-ERR no such key\r\n")
        h.send("SET", "a", "hello")
        h.send("PEXPIREAT", "a", "4102444800123")
        let before = h.client.worker.dirty
        #expect(h.send("RENAME", "a", "b") == "+OK\r\n")
        #expect(h.client.worker.dirty - before == 1)
        #expect(h.send("EXISTS", "a") == ":0\r\n")
        #expect(h.send("GET", "b") == "$5\r\nhello\r\n")
        #expect(h.send("PEXPIRETIME", "b") == ":4102444800123\r\n")
        #expect(h.server.keyspace.databases[0].expiresCount == 1)
        #expect(h.keyCount() == 1)
    }

    @Test func renameOverwritesAndDropsTargetTTL() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("SET", "b", "2")
        h.send("EXPIRE", "b", "100")
        #expect(h.send("RENAME", "a", "b") == "+OK\r\n")
        #expect(h.send("GET", "b") == "$1\r\n1\r\n")
        #expect(h.send("TTL", "b") == ":-1\r\n")
        #expect(h.server.keyspace.databases[0].expiresCount == 0)
    }

    @Test func renameSameKey() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("EXPIRE", "a", "100")
        #expect(h.send("RENAME", "a", "a") == "+OK\r\n")
        #expect(h.send("RENAMENX", "a", "a") == ":0\r\n")
        #expect(h.send("TTL", "a") == ":100\r\n")
    }

    @Test func renamenxOnlyToAbsentKey() {
        let h = Harness()
        h.send("SET", "a", "1")
        h.send("SET", "b", "2")
        #expect(h.send("RENAMENX", "a", "b") == ":0\r\n")
        #expect(h.send("GET", "b") == "$1\r\n2\r\n")
        #expect(h.send("RENAMENX", "a", "c") == ":1\r\n")
        #expect(h.send("GET", "c") == "$1\r\n1\r\n")
        // An expired target is absent.
        h.store("old", expireAt: past)
        #expect(h.send("RENAMENX", "c", "old") == ":1\r\n")
        #expect(h.send("GET", "old") == "$1\r\n1\r\n")
        #expect(h.send("TTL", "old") == ":-1\r\n")
    }

    @Test func renameOfExpiredSourceIsNoSuchKey() {
        let h = Harness()
        h.store("old", expireAt: past)
        #expect(h.send("RENAME", "old", "new") == "-ERR no such key\r\n")
        #expect(h.keyCount() == 0)
    }

    @Test func renameAcrossManyShards() {
        let h = Harness()
        for i in 0..<64 { h.send("SET", "src\(i)", "v\(i)") }
        for i in 0..<64 { #expect(h.send("RENAME", "src\(i)", "dst\(i)") == "+OK\r\n") }
        for i in 0..<64 { #expect(h.send("GET", "dst\(i)") == "$\("v\(i)".count)\r\nv\(i)\r\n") }
        #expect(h.keyCount() == 64)
    }

    // MARK: MOVE

    @Test func moveToAnotherDatabase() {
        let h = Harness()
        h.send("SET", "k", "v")
        h.send("PEXPIREAT", "k", "4102444800123")
        #expect(h.send("MOVE", "k", "1") == ":1\r\n")
        #expect(h.send("EXISTS", "k") == ":0\r\n")
        #expect(h.send("MOVE", "k", "1") == ":0\r\n")
        h.send("SELECT", "1")
        #expect(h.send("GET", "k") == "$1\r\nv\r\n")
        #expect(h.send("PEXPIRETIME", "k") == ":4102444800123\r\n")
        #expect(h.keyCount(db: 0) == 0)
        #expect(h.keyCount(db: 1) == 1)
        #expect(h.server.keyspace.databases[1].expiresCount == 1)
    }

    @Test func moveDoesNotOverwrite() {
        let h = Harness()
        h.send("SET", "k", "source")
        h.store("k", "target", db: 2)
        #expect(h.send("MOVE", "k", "2") == ":0\r\n")
        #expect(h.send("GET", "k") == "$6\r\nsource\r\n")
        // An expired key in the target database does not block the move.
        h.store("k", "stale", db: 3, expireAt: past)
        #expect(h.send("MOVE", "k", "3") == ":1\r\n")
    }

    @Test func moveErrors() {
        let h = Harness()
        h.send("SET", "s", "v")
        #expect(h.send("MOVE", "s", "0") == "-ERR source and destination objects are the same\r\n")
        #expect(h.send("MOVE", "s", "99") == "-ERR DB index is out of range\r\n")
        #expect(h.send("MOVE", "s", "-1") == "-ERR DB index is out of range\r\n")
        #expect(h.send("MOVE", "s", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("MOVE", "s", "4294967296") == "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n")
        #expect(h.send("MOVE", "nothing", "1") == ":0\r\n")
        #expect(h.send("MOVE", "nothing", "0") == "-ERR source and destination objects are the same\r\n")
    }

    // MARK: COPY

    @Test func copyWithinDatabase() {
        let h = Harness()
        h.send("SET", "a", "hello")
        h.send("PEXPIREAT", "a", "4102444800123")
        #expect(h.send("COPY", "a", "b") == ":1\r\n")
        #expect(h.send("GET", "b") == "$5\r\nhello\r\n")
        #expect(h.send("PEXPIRETIME", "b") == ":4102444800123\r\n")
        // The copy is independent.
        h.send("SET", "a", "changed")
        #expect(h.send("GET", "b") == "$5\r\nhello\r\n")
        #expect(h.send("COPY", "a", "b") == ":0\r\n")
        #expect(h.send("COPY", "a", "b", "REPLACE") == ":1\r\n")
        #expect(h.send("GET", "b") == "$7\r\nchanged\r\n")
        #expect(h.send("TTL", "b") == ":-1\r\n")
        #expect(h.send("COPY", "nothing", "b") == ":0\r\n")
    }

    @Test func copyToAnotherDatabase() {
        let h = Harness()
        h.send("SET", "s", "v")
        #expect(h.send("COPY", "s", "s", "DB", "1") == ":1\r\n")
        #expect(h.send("COPY", "s", "t", "db", "1") == ":1\r\n")
        #expect(h.send("COPY", "s", "t", "db", "1") == ":0\r\n")
        #expect(h.send("COPY", "s", "t", "REPLACE", "REPLACE", "DB", "2", "DB", "1") == ":1\r\n")
        #expect(h.keyCount(db: 1) == 2)
        #expect(h.keyCount(db: 2) == 0)
        #expect(h.send("GET", "s") == "$1\r\nv\r\n")
    }

    @Test func copyErrors() {
        let h = Harness()
        h.send("SET", "s", "v")
        let same = "-ERR source and destination objects are the same\r\n"
        #expect(h.send("COPY", "s", "s") == same)
        #expect(h.send("COPY", "s", "s", "DB", "0") == same)
        #expect(h.send("COPY", "nothing", "nothing") == same)
        #expect(h.send("COPY", "s", "t", "DB", "99") == "-ERR DB index is out of range\r\n")
        #expect(h.send("COPY", "s", "s", "DB", "99") == "-ERR DB index is out of range\r\n")
        #expect(h.send("COPY", "s", "t", "DB", "abc") == "-ERR value is not an integer or out of range\r\n")
        #expect(h.send("COPY", "s", "t", "DB", "-2147483649") == "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n")
        #expect(h.send("COPY", "s", "t", "foo") == "-ERR syntax error\r\n")
        #expect(h.send("COPY", "s", "t", "DB") == "-ERR syntax error\r\n")
        #expect(h.send("COPY", "s", "s", "foo") == "-ERR syntax error\r\n")
        #expect(h.send("EXISTS", "t") == ":0\r\n")
    }

    @Test func copyGivesTheNewKeyAFreshAccessClock() {
        let h = Harness()
        h.send("SET", "a", "v")
        h.setEntryClock("a", 3)
        h.client.noTouch = true
        #expect(h.send("COPY", "a", "b") == ":1\r\n")
        #expect(h.entryClock("a") == 3)
        #expect(h.entryClock("b") != 3)
    }

    // MARK: OBJECT

    @Test func objectEncoding() {
        let h = Harness()
        h.send("SET", "int", "12345")
        h.send("SET", "emb", "hello")
        h.send("SET", "raw", String(repeating: "x", count: 45))
        #expect(h.send("OBJECT", "ENCODING", "int") == "$3\r\nint\r\n")
        #expect(h.send("object", "encoding", "emb") == "$6\r\nembstr\r\n")
        #expect(h.send("OBJECT", "ENCODING", "raw") == "$3\r\nraw\r\n")
        #expect(h.send("OBJECT", "ENCODING", "nothing") == "$-1\r\n")
        h.send("HELLO", "3")
        #expect(h.send("OBJECT", "ENCODING", "nothing") == "_\r\n")
    }

    @Test func objectRefcountReportsSharedIntegers() {
        let h = Harness()
        h.send("SET", "small", "100")
        h.send("SET", "big", "10000")
        h.send("SET", "neg", "-1")
        h.send("SET", "s", "hello")
        #expect(h.send("OBJECT", "REFCOUNT", "small") == ":2147483647\r\n")
        #expect(h.send("OBJECT", "REFCOUNT", "big") == ":1\r\n")
        #expect(h.send("OBJECT", "REFCOUNT", "neg") == ":1\r\n")
        #expect(h.send("OBJECT", "REFCOUNT", "s") == ":1\r\n")
        #expect(h.send("OBJECT", "REFCOUNT", "nothing") == "$-1\r\n")
        // COPY duplicates the object (dupStringObject): a private int, even after RENAME.
        #expect(h.send("COPY", "small", "copied") == ":1\r\n")
        #expect(h.send("OBJECT", "REFCOUNT", "copied") == ":1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "copied") == "$3\r\nint\r\n")
        h.send("RENAME", "copied", "renamed")
        #expect(h.send("OBJECT", "REFCOUNT", "renamed") == ":1\r\n")
    }

    @Test func objectIdletimeAndFreqUnderLRU() {
        let h = Harness()
        h.send("SET", "k", "v")
        let now = lruClock(nowMillis: currentTimeMillis())
        h.setEntryClock("k", now &- 100)
        let idle = parse(h.send("OBJECT", "IDLETIME", "k"))
        #expect(idle == .integer(100) || idle == .integer(101))
        // OBJECT does not touch the key.
        h.send("OBJECT", "ENCODING", "k")
        h.send("OBJECT", "REFCOUNT", "k")
        #expect(h.entryClock("k") == now &- 100)
        h.send("TOUCH", "k")
        #expect(h.send("OBJECT", "IDLETIME", "k") == ":0\r\n")
        #expect(h.send("OBJECT", "IDLETIME", "nothing") == "$-1\r\n")
        #expect(h.send("OBJECT", "FREQ", "k") == "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
        // A missing key is checked first.
        #expect(h.send("OBJECT", "FREQ", "nothing") == "$-1\r\n")
    }

    @Test func objectIdletimeHandlesClockWrap() {
        #expect(lruIdleSeconds(accessClock: 0xFF_FFF0, nowMillis: 5_000) == 5 + 0xF)
    }

    @Test func objectFreqUnderLFU() throws {
        let h = Harness()
        try h.server.config.set([(name: "maxmemory-policy", value: "allkeys-lfu")])
        h.send("SET", "k", "v")
        let minutes = UInt32((currentTimeMillis() / 60_000) & 0xFFFF)
        h.setEntryClock("k", minutes << 8 | 5)
        #expect(h.send("OBJECT", "FREQ", "k") == ":5\r\n")
        // One period of lfu-decay-time (1 minute) per minute elapsed.
        h.setEntryClock("k", ((minutes &- 3) & 0xFFFF) << 8 | 5)
        #expect(h.send("OBJECT", "FREQ", "k") == ":2\r\n")
        #expect(h.send("OBJECT", "IDLETIME", "k") == "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n")
        #expect(h.send("OBJECT", "IDLETIME", "nothing") == "$-1\r\n")
    }

    @Test func objectHelpAndArity() {
        let h = Harness()
        guard case .array(let lines) = parse(h.send("OBJECT", "HELP")) else { Issue.record("HELP"); return }
        #expect(lines.count == 15)
        #expect(lines.first == .simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
        #expect(lines[1] == .simple("ENCODING <key>"))
        #expect(lines.last == .simple("    Print this help."))
        #expect(h.send("OBJECT", "foo") == "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n")
        #expect(h.send("OBJECT", "ENCODING") == "-ERR wrong number of arguments for 'object|encoding' command\r\n")
        #expect(h.send("OBJECT", "help", "x") == "-ERR wrong number of arguments for 'object|help' command\r\n")
    }

    // MARK: Arity (from the command table)

    @Test func arityErrorsComeFromTheTable() {
        let h = Harness()
        #expect(h.send("DEL") == "-ERR wrong number of arguments for 'del' command\r\n")
        #expect(h.send("EXPIRE", "k") == "-ERR wrong number of arguments for 'expire' command\r\n")
        #expect(h.send("RENAME", "a") == "-ERR wrong number of arguments for 'rename' command\r\n")
        #expect(h.send("RANDOMKEY", "x") == "-ERR wrong number of arguments for 'randomkey' command\r\n")
        #expect(h.send("SCAN") == "-ERR wrong number of arguments for 'scan' command\r\n")
        #expect(h.send("COPY", "a") == "-ERR wrong number of arguments for 'copy' command\r\n")
    }
}

// MARK: Store Ops under concurrency (lock order)

@Suite struct KeyOpsConcurrencyTests {
    /// Runs `body` with a `CommandArguments` view of `keys`.
    private func withArguments<R>(_ keys: [String], _ body: (CommandArguments) -> R) -> R {
        let storage = keys.map { key -> UnsafeMutableRawBufferPointer in
            let p = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(key.utf8.count, 1), alignment: 1)
            p.copyBytes(from: Array(key.utf8))
            return UnsafeMutableRawBufferPointer(rebasing: p[0..<key.utf8.count])
        }
        defer { for p in storage { p.deallocate() } }
        let views = storage.map { UnsafeRawBufferPointer($0) }
        return views.withUnsafeBufferPointer { body(CommandArguments($0)) }
    }

    private func set(_ db: Database, _ key: String, _ value: String) {
        Array(key.utf8).withUnsafeBytes { k in
            Array(value.utf8).withUnsafeBytes { v in
                db.withShard(for: k) { shard, hash in
                    shard.putString(k, hash: hash, value: v, encoding: stringEncoding(for: v), expireAt: nil, keepTTL: false,
                                    existing: shard.lookup(k, hash: hash, now: 0))
                }
            }
        }
    }

    private func exists(_ db: Database, _ key: String) -> Bool {
        Array(key.utf8).withUnsafeBytes { k in db.withShard(for: k) { shard, hash in shard.lookup(k, hash: hash, now: 0) != nil } }
    }

    @Test(.timeLimit(.minutes(1)))
    func multiShardAndCrossDatabaseOpsDoNotDeadlock() {
        let keyspace = Keyspace(databaseCount: 2, shardsPerDatabase: 8)
        let db0 = keyspace.databases[0]
        let db1 = keyspace.databases[1]
        let many = (0..<32).map { "m\($0)" }
        set(db0, "a", "1")
        set(db0, "moving", "x")
        for k in many { set(db0, k, "v"); set(db1, k, "v") }
        let rounds = 2000
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            for i in 0..<rounds {
                switch worker {
                case 0, 1:
                    // RENAME ping-pong between keys in (usually) different shards.
                    Array("a".utf8).withUnsafeBytes { a in
                        Array("b".utf8).withUnsafeBytes { b in
                            let (from, to) = (i + worker) % 2 == 0 ? (a, b) : (b, a)
                            _ = db0.rename(from, to: to, replacing: true, now: 0, accessClock: nil)
                        }
                    }
                case 2:
                    _ = Array("moving".utf8).withUnsafeBytes { keyspace.move($0, from: db0, to: db1, now: 0, accessClock: nil) }
                case 3:
                    _ = Array("moving".utf8).withUnsafeBytes { keyspace.move($0, from: db1, to: db0, now: 0, accessClock: nil) }
                case 4:
                    // Multi-key lookups over every shard of both databases.
                    withArguments(many) { keys in
                        db0.forEachKey(keys) { key, shard, hash in _ = shard.lookup(key, hash: hash, now: 0) }
                        db1.forEachKey(keys) { key, shard, hash in _ = shard.lookup(key, hash: hash, now: 0) }
                    }
                default:
                    // COPY in both directions between the databases.
                    let key = many[i % many.count]
                    Array(key.utf8).withUnsafeBytes { k in
                        _ = keyspace.copy(k, from: db0, to: k, in: db1, replace: true, now: 0, accessClock: nil, copyClock: 0)
                        _ = keyspace.copy(k, from: db1, to: k, in: db0, replace: true, now: 0, accessClock: nil, copyClock: 0)
                    }
                }
            }
        }
        #expect(exists(db0, "a") != exists(db0, "b"))
        #expect(exists(db0, "moving") != exists(db1, "moving"))
        #expect(db0.keyCount + db1.keyCount == 2 * many.count + 2)
    }

    @Test func scanCursorKeepsShardInLowBits() {
        let keyspace = Keyspace(databaseCount: 1, shardsPerDatabase: 8)
        let db = keyspace.databases[0]
        for i in 0..<100 { set(db, "k\(i)", "v") }
        var cursor: UInt64 = 0
        var seen = 0
        repeat {
            cursor = db.scan(cursor: cursor, count: 3, now: 0) { _ in seen += 1 }
            #expect(cursor & 63 < 8)
        } while cursor != 0
        #expect(seen == 100)
        // A cursor naming a shard this database does not have ends the scan.
        #expect(db.scan(cursor: 9, count: 10, now: 0) { _ in Issue.record("visited") } == 0)
    }
}
