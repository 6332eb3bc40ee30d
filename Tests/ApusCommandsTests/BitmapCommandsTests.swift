import ApusStore
import Testing

// Expected replies were checked against redis-server 7.0.15 (bitops.c is unchanged in 7.2.4
// apart from a variable initialisation).

private let wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
private let notInteger = "-ERR value is not an integer or out of range\r\n"
private let syntaxError = "-ERR syntax error\r\n"
private let offsetError = "-ERR bit offset is not an integer or out of range\r\n"
private let typeError = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"

extension Harness {
    /// SET with a binary value.
    fileprivate func setBytes(_ key: String, _ value: [UInt8]) {
        _ = raw([Array("SET".utf8), Array(key.utf8), value])
    }

    /// GET's value bytes, or nil for a missing key.
    fileprivate func getBytes(_ key: String) -> [UInt8]? {
        let reply = raw([Array("GET".utf8), Array(key.utf8)])
        if reply == Array("$-1\r\n".utf8) { return nil }
        let header = reply.firstIndex(of: UInt8(ascii: "\r"))!
        let length = Int(String(decoding: reply[1..<header], as: UTF8.self))!
        return Array(reply[(header + 2)..<(header + 2 + length)])
    }

    /// Sends a command with one binary argument in place of "<bytes>".
    fileprivate func send(_ args: [String], bytes: [UInt8]) -> String {
        String(decoding: raw(args.map { $0 == "<bytes>" ? bytes : Array($0.utf8) }), as: UTF8.self)
    }

    /// Puts a non-string value at `key` (the collection families are written elsewhere).
    fileprivate func makeNonString(_ key: String) {
        var name = key
        name.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            server.keyspace.databases[0].withShard(for: raw) { shard, hash in
                shard.insert(Entry.allocate(key: raw, object: ListObject(), type: .list, encoding: 0, expireAt: nil), hash: hash)
            }
        }
    }

    fileprivate var dirty: Int { server.workers[0].dirty }
}

private func integer(_ n: Int) -> String { ":\(n)\r\n" }

private func array(_ items: String...) -> String { "*\(items.count)\r\n" + items.joined() }

// MARK: - A bit-by-bit model of BITCOUNT / BITPOS (checked against redis-server 7.0.15 with
// 20,000 random cases).

private enum Model {
    static func bit(_ v: [UInt8], _ i: Int) -> Int { Int(v[i >> 3] >> UInt8(7 - (i & 7))) & 1 }

    static func resolve(_ start: Int, _ end: Int, _ n: Int) -> (Int, Int)? {
        var s = start, e = end
        if s < 0 { s += n }
        if e < 0 { e += n }
        s = max(s, 0)
        e = max(e, 0)
        if e >= n { e = n - 1 }
        return s <= e ? (s, e) : nil
    }

    /// Inclusive bit span of a range; nil range = the whole string.
    static func span(_ v: [UInt8], _ range: (Int, Int, Bool)?) -> (Int, Int)? {
        guard let (s, e, inBits) = range else { return v.isEmpty ? nil : (0, v.count * 8 - 1) }
        if inBits { return resolve(s, e, v.count * 8) }
        guard let (a, b) = resolve(s, e, v.count) else { return nil }
        return (a * 8, b * 8 + 7)
    }

    static func bitcount(_ v: [UInt8], _ range: (Int, Int, Bool)?) -> Int {
        if let (s, e, _) = range, s < 0 && e < 0 && s > e { return 0 }
        guard let (a, b) = span(v, range) else { return 0 }
        return (a...b).reduce(0) { $0 + bit(v, $1) }
    }

    static func bitpos(_ v: [UInt8], _ target: Int, start: Int?, end: Int?, inBits: Bool) -> Int {
        let range: (Int, Int, Bool)?
        let endGiven = end != nil
        if let start { range = (start, end ?? -1, inBits) } else { range = nil }
        guard let (a, b) = span(v, range) else { return -1 }
        for i in a...b where bit(v, i) == target { return i }
        return target == 1 || endGiven ? -1 : b + 1
    }
}

/// A small deterministic generator (SplitMix64), so failures reproduce.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func randomBitmap(_ rng: inout SplitMix) -> [UInt8] {
    let n = [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 40, 64, 100].randomElement(using: &rng)!
    let style = Int.random(in: 0..<4, using: &rng)
    return (0..<n).map { _ in
        switch style {
        case 0: return [0x00, 0xFF].randomElement(using: &rng)!  // long runs exercise the word skips
        case 1: return [0x00, 0xFF, UInt8.random(in: 0...255, using: &rng)].randomElement(using: &rng)!
        default: return UInt8.random(in: 0...255, using: &rng)
        }
    }
}

@Suite("Bitmap commands")
struct BitmapCommandsTests {
    // MARK: GETBIT / SETBIT

    @Test func setbitReturnsThePreviousBitAndGrowsWithZeros() {
        let h = Harness()
        #expect(h.send("SETBIT", "k", "7", "1") == ":0\r\n")
        #expect(h.getBytes("k") == [0x01])
        #expect(h.send("SETBIT", "k", "7", "1") == ":1\r\n")
        #expect(h.send("SETBIT", "k", "7", "0") == ":1\r\n")
        #expect(h.send("SETBIT", "k", "0", "1") == ":0\r\n")
        #expect(h.send("SETBIT", "k", "23", "1") == ":0\r\n")
        #expect(h.getBytes("k") == [0x80, 0x00, 0x01])
        #expect(h.send("GETBIT", "k", "0") == ":1\r\n")
        #expect(h.send("GETBIT", "k", "1") == ":0\r\n")
        #expect(h.send("GETBIT", "k", "23") == ":1\r\n")
        #expect(h.send("GETBIT", "k", "24") == ":0\r\n")
        #expect(h.send("GETBIT", "k", "4294967295") == ":0\r\n")
        #expect(h.send("GETBIT", "missing", "3") == ":0\r\n")
        #expect(h.send("STRLEN", "k") == ":3\r\n")
    }

    @Test func setbitLeavesARawStringAndKeepsTheTTL() {
        let h = Harness()
        h.send("SET", "n", "12345")
        #expect(h.send("OBJECT", "ENCODING", "n") == "$3\r\nint\r\n")
        // GETBIT reads an integer-looking value's digits.
        #expect(h.send("GETBIT", "n", "1") == ":0\r\n")  // '1' = 0x31 = 00110001
        #expect(h.send("GETBIT", "n", "2") == ":1\r\n")
        // Redis unshares into a raw string even when the bit does not change.
        #expect(h.send("SETBIT", "n", "0", "0") == ":0\r\n")
        #expect(h.send("OBJECT", "ENCODING", "n") == "$3\r\nraw\r\n")
        #expect(h.send("GET", "n") == "$5\r\n12345\r\n")
        h.send("SET", "t", "a", "EX", "100")
        #expect(h.send("SETBIT", "t", "100", "1") == ":0\r\n")
        #expect(h.send("TTL", "t") == ":100\r\n")
        #expect(h.send("OBJECT", "ENCODING", "t") == "$3\r\nraw\r\n")
        #expect(h.send("SETBIT", "fresh", "1", "0") == ":0\r\n")
        #expect(h.send("OBJECT", "ENCODING", "fresh") == "$3\r\nraw\r\n")
        #expect(h.getBytes("fresh") == [0])
    }

    @Test func setbitCountsAChangeOnlyWhenTheStringChanges() {
        let h = Harness()
        let d0 = h.dirty
        h.send("SETBIT", "k", "3", "0")  // created: a change although the bit stays 0
        #expect(h.dirty == d0 + 1)
        h.send("SETBIT", "k", "3", "0")
        #expect(h.dirty == d0 + 1)
        h.send("SETBIT", "k", "3", "1")
        #expect(h.dirty == d0 + 2)
        h.send("SETBIT", "k", "15", "0")  // grown
        #expect(h.dirty == d0 + 3)
    }

    @Test func getbitAndSetbitErrors() {
        let h = Harness()
        h.send("SET", "k", "x")
        for offset in ["-1", "x", "", "1.5", "#1", "4294967296", "99999999999999999999"] {
            #expect(h.send("GETBIT", "k", offset) == offsetError)
            #expect(h.send("SETBIT", "k", offset, "1") == offsetError)
        }
        for value in ["2", "-1", "x", "", "01", "1.0"] {
            #expect(h.send("SETBIT", "k", "1", value) == "-ERR bit is not an integer or out of range\r\n")
        }
        // The offset is checked before the key, the value before the type.
        #expect(h.send("GETBIT", "missing", "-1") == offsetError)
        h.makeNonString("l")
        #expect(h.send("GETBIT", "l", "0") == wrongType)
        #expect(h.send("SETBIT", "l", "0", "1") == wrongType)
        #expect(h.send("SETBIT", "l", "0", "2") == "-ERR bit is not an integer or out of range\r\n")
        #expect(h.send("GETBIT", "k") == "-ERR wrong number of arguments for 'getbit' command\r\n")
        #expect(h.send("SETBIT", "k", "1") == "-ERR wrong number of arguments for 'setbit' command\r\n")
    }

    @Test func offsetsAreBoundedByProtoMaxBulkLen() throws {
        let h = try Harness { try $0.set([(name: "proto-max-bulk-len", value: "2mb")]) }
        #expect(h.send("GETBIT", "k", "16777215") == ":0\r\n")  // byte 2097151
        #expect(h.send("GETBIT", "k", "16777216") == offsetError)
        #expect(h.send("SETBIT", "k", "16777216", "1") == offsetError)
        #expect(h.send("BITFIELD", "k", "GET", "u8", "#2097152") == offsetError)
        #expect(h.send("BITFIELD", "k", "GET", "u8", "#2097151") == array(":0\r\n"))
        #expect(h.send("SETBIT", "k", "16777215", "1") == ":0\r\n")
        #expect(h.send("STRLEN", "k") == ":2097152\r\n")
    }

    // MARK: BITCOUNT

    @Test func bitcountRangesInBytesAndBits() {
        let h = Harness()
        h.send("SET", "k", "foobar")
        #expect(h.send("BITCOUNT", "k") == ":26\r\n")
        #expect(h.send("BITCOUNT", "k", "0", "0") == ":4\r\n")
        #expect(h.send("BITCOUNT", "k", "1", "1") == ":6\r\n")
        #expect(h.send("BITCOUNT", "k", "1", "1", "BYTE") == ":6\r\n")
        #expect(h.send("BITCOUNT", "k", "5", "30", "BIT") == ":17\r\n")
        #expect(h.send("BITCOUNT", "k", "5", "30", "bit") == ":17\r\n")
        #expect(h.send("BITCOUNT", "k", "-2", "-1") == ":7\r\n")
        #expect(h.send("BITCOUNT", "k", "0", "-1") == ":26\r\n")
        #expect(h.send("BITCOUNT", "k", "0", "1000") == ":26\r\n")
        #expect(h.send("BITCOUNT", "k", "-100", "-1") == ":26\r\n")
        #expect(h.send("BITCOUNT", "k", "4", "2") == ":0\r\n")
        // Both negative and reversed: 0 at once (otherwise both would clamp to byte 0).
        #expect(h.send("BITCOUNT", "k", "-5", "-10") == ":0\r\n")
        #expect(h.send("BITCOUNT", "k", "-10", "-5") == ":10\r\n")
        #expect(h.send("BITCOUNT", "missing") == ":0\r\n")
        h.send("SET", "empty", "")
        #expect(h.send("BITCOUNT", "empty") == ":0\r\n")
        #expect(h.send("BITCOUNT", "empty", "0", "-1", "BIT") == ":0\r\n")
    }

    @Test func bitcountErrorsInRedisOrder() {
        let h = Harness()
        h.send("SET", "k", "foobar")
        #expect(h.send("BITCOUNT", "k", "1") == syntaxError)
        #expect(h.send("BITCOUNT", "k", "1", "2", "bit", "extra") == syntaxError)
        #expect(h.send("BITCOUNT", "k", "1", "2", "foo") == syntaxError)
        #expect(h.send("BITCOUNT", "k", "a", "2") == notInteger)
        #expect(h.send("BITCOUNT", "k", "1", "b", "foo") == notInteger)
        // The reversed-negative shortcut comes before the unit token is read.
        #expect(h.send("BITCOUNT", "k", "-1", "-2", "foo") == ":0\r\n")
        // A missing key answers 0 before any argument is looked at.
        #expect(h.send("BITCOUNT", "missing", "1") == ":0\r\n")
        #expect(h.send("BITCOUNT", "missing", "a", "b", "c", "d") == ":0\r\n")
        h.makeNonString("l")
        #expect(h.send("BITCOUNT", "l") == wrongType)
        #expect(h.send("BITCOUNT", "l", "1") == wrongType)
        #expect(h.send("BITCOUNT") == "-ERR wrong number of arguments for 'bitcount' command\r\n")
    }

    @Test func bitcountOfALargeBitmapUsesWholeWords() {
        let h = Harness()
        var bytes = [UInt8](repeating: 0, count: 10_007)
        var rng = SplitMix(state: 42)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        h.setBytes("big", bytes)
        let expected = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(h.send("BITCOUNT", "big") == integer(expected))
        let inner = bytes[3...9_000].reduce(0) { $0 + $1.nonzeroBitCount }
        #expect(h.send("BITCOUNT", "big", "3", "9000") == integer(inner))
    }

    // MARK: BITPOS

    @Test func bitposFindsSetAndClearBits() {
        let h = Harness()
        h.setBytes("k", [0xFF, 0xF0, 0x00])
        #expect(h.send("BITPOS", "k", "0") == ":12\r\n")
        #expect(h.send("BITPOS", "k", "1") == ":0\r\n")
        #expect(h.send("BITPOS", "k", "1", "2") == ":-1\r\n")
        #expect(h.send("BITPOS", "k", "1", "1") == ":8\r\n")
        #expect(h.send("BITPOS", "k", "0", "2", "-1") == ":16\r\n")
        #expect(h.send("BITPOS", "k", "1", "7", "15", "BIT") == ":7\r\n")
        #expect(h.send("BITPOS", "k", "0", "7", "15", "bit") == ":12\r\n")
        #expect(h.send("BITPOS", "k", "1", "12", "-1", "BIT") == ":-1\r\n")
        #expect(h.send("BITPOS", "k", "0", "0", "-1", "byte") == ":12\r\n")
        // Unlike BITCOUNT, reversed negative ranges are clamped, not short-circuited.
        #expect(h.send("BITPOS", "k", "1", "-5", "-10") == ":0\r\n")
        #expect(h.send("BITPOS", "k", "0", "-5", "-10") == ":-1\r\n")
        #expect(h.send("BITPOS", "k", "1", "5", "3") == ":-1\r\n")
        #expect(h.send("BITPOS", "missing", "1") == ":-1\r\n")
        #expect(h.send("BITPOS", "missing", "0") == ":0\r\n")
        #expect(h.send("BITPOS", "missing", "0", "a", "b", "c") == ":0\r\n")
    }

    @Test func bitposClearBitPastTheEndOnlyWithoutAnExplicitEnd() {
        let h = Harness()
        h.setBytes("ff", [0xFF, 0xFF])
        #expect(h.send("BITPOS", "ff", "0") == ":16\r\n")
        #expect(h.send("BITPOS", "ff", "0", "0") == ":16\r\n")
        #expect(h.send("BITPOS", "ff", "0", "1") == ":16\r\n")
        #expect(h.send("BITPOS", "ff", "0", "2") == ":-1\r\n")  // empty range
        #expect(h.send("BITPOS", "ff", "0", "0", "-1") == ":-1\r\n")
        #expect(h.send("BITPOS", "ff", "0", "0", "1") == ":-1\r\n")
        #expect(h.send("BITPOS", "ff", "0", "0", "15", "BIT") == ":-1\r\n")
        #expect(h.send("BITPOS", "ff", "0", "3", "9", "BIT") == ":-1\r\n")
        h.send("SET", "empty", "")
        #expect(h.send("BITPOS", "empty", "0") == ":-1\r\n")
        #expect(h.send("BITPOS", "empty", "1") == ":-1\r\n")
    }

    @Test func bitposErrorsInRedisOrder() {
        let h = Harness()
        h.send("SET", "k", "foobar")
        #expect(h.send("BITPOS", "k", "2") == "-ERR The bit argument must be 1 or 0.\r\n")
        #expect(h.send("BITPOS", "k", "-1") == "-ERR The bit argument must be 1 or 0.\r\n")
        #expect(h.send("BITPOS", "k", "x") == notInteger)
        #expect(h.send("BITPOS", "k", "01") == notInteger)
        #expect(h.send("BITPOS", "k", "0", "a") == notInteger)
        #expect(h.send("BITPOS", "k", "0", "1", "a") == notInteger)
        // The unit token is checked before the end value.
        #expect(h.send("BITPOS", "k", "0", "1", "a", "foo") == syntaxError)
        #expect(h.send("BITPOS", "k", "0", "a", "1", "foo") == notInteger)
        #expect(h.send("BITPOS", "k", "0", "0", "-1", "bit", "x") == syntaxError)
        h.makeNonString("l")
        #expect(h.send("BITPOS", "l", "1") == wrongType)
        #expect(h.send("BITPOS", "l", "2") == "-ERR The bit argument must be 1 or 0.\r\n")
        #expect(h.send("BITPOS", "k") == "-ERR wrong number of arguments for 'bitpos' command\r\n")
    }

    @Test func bitposSkipsLongRunsWordByWord() {
        let h = Harness()
        var bytes = [UInt8](repeating: 0, count: 4099)
        h.setBytes("zeros", bytes)
        #expect(h.send("BITPOS", "zeros", "1") == ":-1\r\n")
        #expect(h.send("BITPOS", "zeros", "0") == ":0\r\n")
        bytes[4001] = 0x10
        h.setBytes("zeros", bytes)
        #expect(h.send("BITPOS", "zeros", "1") == integer(4001 * 8 + 3))
        #expect(h.send("BITPOS", "zeros", "1", "4002") == ":-1\r\n")
        h.setBytes("ones", [UInt8](repeating: 0xFF, count: 4099))
        #expect(h.send("BITPOS", "ones", "0") == integer(4099 * 8))
        #expect(h.send("BITPOS", "ones", "0", "0", "-1") == ":-1\r\n")
    }

    @Test func randomBitcountAndBitposMatchTheModel() {
        let h = Harness()
        var rng = SplitMix(state: 7)
        for _ in 0..<1500 {
            let value = randomBitmap(&rng)
            h.setBytes("k", value)
            let limit = max(value.count * 8 + 10, 3)
            let s = Int.random(in: -limit...limit, using: &rng)
            let e = Int.random(in: -limit...limit, using: &rng)
            let unit = ["", "BIT", "BYTE", "bit"].randomElement(using: &rng)!
            let inBits = unit.lowercased() == "bit"

            let whole = Model.bitcount(value, nil)
            #expect(h.send("BITCOUNT", "k") == integer(whole), "BITCOUNT \(value)")
            var args = ["BITCOUNT", "k", "\(s)", "\(e)"]
            if !unit.isEmpty { args.append(unit) }
            let counted = Model.bitcount(value, (s, e, inBits))
            #expect(h.send(args) == integer(counted), "\(args) \(value)")

            let target = Int.random(in: 0...1, using: &rng)
            let t = "\(target)"
            #expect(h.send("BITPOS", "k", t) == integer(Model.bitpos(value, target, start: nil, end: nil, inBits: false)),
                    "BITPOS \(t) \(value)")
            #expect(h.send("BITPOS", "k", t, "\(s)") == integer(Model.bitpos(value, target, start: s, end: nil, inBits: false)),
                    "BITPOS \(t) \(s) \(value)")
            #expect(h.send("BITPOS", "k", t, "\(s)", "\(e)") == integer(Model.bitpos(value, target, start: s, end: e, inBits: false)),
                    "BITPOS \(t) \(s) \(e) \(value)")
            let u = inBits ? "BIT" : "BYTE"
            #expect(h.send("BITPOS", "k", t, "\(s)", "\(e)", u) == integer(Model.bitpos(value, target, start: s, end: e, inBits: inBits)),
                    "BITPOS \(t) \(s) \(e) \(u) \(value)")
        }
    }

    // MARK: BITOP

    @Test func bitopCombinesSourcesAcrossShards() {
        let h = Harness()
        h.setBytes("a", [0xF0, 0x0F, 0xFF])
        h.setBytes("b", [0xFF, 0x00])
        h.setBytes("c", [0x3C])
        #expect(h.send("BITOP", "AND", "dest", "a", "b") == ":3\r\n")
        #expect(h.getBytes("dest") == [0xF0, 0x00, 0x00])
        #expect(h.send("BITOP", "or", "dest", "a", "b", "c") == ":3\r\n")
        #expect(h.getBytes("dest") == [0xFF, 0x0F, 0xFF])
        #expect(h.send("BITOP", "Xor", "dest", "a", "b", "c") == ":3\r\n")
        #expect(h.getBytes("dest") == [0xF0 ^ 0xFF ^ 0x3C, 0x0F, 0xFF])
        #expect(h.send("BITOP", "NOT", "dest", "b") == ":2\r\n")
        #expect(h.getBytes("dest") == [0x00, 0xFF])
        // Missing sources are empty strings; AND with one is all zeros.
        #expect(h.send("BITOP", "AND", "dest", "a", "missing") == ":3\r\n")
        #expect(h.getBytes("dest") == [0, 0, 0])
        #expect(h.send("BITOP", "OR", "dest", "missing", "a") == ":3\r\n")
        #expect(h.getBytes("dest") == [0xF0, 0x0F, 0xFF])
        // The destination may be a source.
        #expect(h.send("BITOP", "XOR", "a", "a", "b") == ":3\r\n")
        #expect(h.getBytes("a") == [0x0F, 0x0F, 0xFF])
    }

    @Test func bitopWordPathMatchesByteModel() {
        let h = Harness()
        var rng = SplitMix(state: 99)
        for round in 0..<60 {
            let count = Int.random(in: 1...5, using: &rng)
            var sources: [[UInt8]] = []
            for i in 0..<count {
                let n = Int.random(in: 0...70, using: &rng)
                let value = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
                sources.append(value)
                h.setBytes("s\(i)", value)
                if n == 0 { h.send("DEL", "s\(i)") }
            }
            let names = (0..<count).map { "s\($0)" }
            let length = sources.map(\.count).max()!
            for op in ["AND", "OR", "XOR", "NOT"] {
                if op == "NOT" && count != 1 { continue }
                let reply = h.send(["BITOP", op, "d\(round)"] + names)
                #expect(reply == integer(length))
                var expected = [UInt8](repeating: 0, count: length)
                for j in 0..<length {
                    var out: UInt8 = j < sources[0].count ? sources[0][j] : 0
                    if op == "NOT" { out = ~out }
                    for s in sources.dropFirst() {
                        let byte: UInt8 = j < s.count ? s[j] : 0
                        switch op {
                        case "AND": out &= byte
                        case "OR": out |= byte
                        default: out ^= byte
                        }
                    }
                    expected[j] = out
                }
                #expect(h.getBytes("d\(round)") == (length == 0 ? nil : expected), "\(op) \(sources)")
            }
        }
    }

    @Test func bitopReplacesTheDestinationAsARawStringWithoutTTL() {
        let h = Harness()
        h.send("SET", "a", "x")
        h.send("SET", "dest", "old", "EX", "100")
        #expect(h.send("BITOP", "OR", "dest", "a") == ":1\r\n")
        #expect(h.send("TTL", "dest") == ":-1\r\n")
        #expect(h.send("OBJECT", "ENCODING", "dest") == "$3\r\nraw\r\n")
        #expect(h.send("GET", "dest") == "$1\r\nx\r\n")
        // A destination of another type is overwritten (only sources are type-checked).
        h.makeNonString("list")
        #expect(h.send("BITOP", "AND", "list", "a") == ":1\r\n")
        #expect(h.send("TYPE", "list") == "+string\r\n")
    }

    @Test func bitopWithAnEmptyResultDeletesTheDestination() {
        let h = Harness()
        h.send("SET", "dest", "value")
        let d0 = h.dirty
        #expect(h.send("BITOP", "OR", "dest", "missing1", "missing2") == ":0\r\n")
        #expect(h.send("EXISTS", "dest") == ":0\r\n")
        #expect(h.dirty == d0 + 1)
        #expect(h.send("BITOP", "OR", "dest", "missing1") == ":0\r\n")
        #expect(h.dirty == d0 + 1)
        h.send("SET", "empty", "")
        h.send("SET", "dest", "value")
        #expect(h.send("BITOP", "AND", "dest", "empty") == ":0\r\n")
        #expect(h.send("EXISTS", "dest") == ":0\r\n")
    }

    @Test func bitopErrors() {
        let h = Harness()
        h.send("SET", "a", "x")
        h.makeNonString("l")
        #expect(h.send("BITOP", "foo", "d", "a") == syntaxError)
        #expect(h.send("BITOP", "NOT", "d", "a", "a") == "-ERR BITOP NOT must be called with a single source key.\r\n")
        #expect(h.send("BITOP", "not", "d", "l", "a") == "-ERR BITOP NOT must be called with a single source key.\r\n")
        #expect(h.send("BITOP", "AND", "d", "a", "l") == wrongType)
        #expect(h.send("BITOP", "AND", "d", "l", "missing") == wrongType)
        #expect(h.send("EXISTS", "d") == ":0\r\n")
        #expect(h.send("BITOP", "NOT", "d") == "-ERR wrong number of arguments for 'bitop' command\r\n")
    }

    // MARK: BITFIELD

    @Test func bitfieldGetSetIncrby() {
        let h = Harness()
        #expect(h.send("BITFIELD", "k", "SET", "i8", "0", "100", "GET", "i8", "0") == array(":0\r\n", ":100\r\n"))
        #expect(h.send("BITFIELD", "k", "INCRBY", "i8", "0", "10", "GET", "u4", "0") == array(":110\r\n", ":6\r\n"))
        // Redis's own example: SET a 5-bit unsigned 23 at offset 7.
        #expect(h.send("BITFIELD", "e", "SET", "u5", "7", "23") == array(":0\r\n"))
        #expect(h.getBytes("e") == [0b0000_0001, 0b0111_0000])
        #expect(h.send("BITFIELD", "e", "GET", "u5", "7", "GET", "i5", "7", "GET", "u1", "7") == array(":23\r\n", ":-9\r\n", ":1\r\n"))
        // `#n` offsets count in fields of the type's width.
        #expect(h.send("BITFIELD", "h", "SET", "u8", "#1", "200", "GET", "u8", "8", "GET", "u8", "#0") == array(":0\r\n", ":200\r\n", ":0\r\n"))
        #expect(h.getBytes("h") == [0, 200])
        // Reads past the end are zero; GET alone does not create the key.
        #expect(h.send("BITFIELD", "h", "GET", "i64", "100") == array(":0\r\n"))
        #expect(h.send("BITFIELD", "none", "GET", "u8", "0") == array(":0\r\n"))
        #expect(h.send("EXISTS", "none") == ":0\r\n")
        #expect(h.send("BITFIELD", "none") == "*0\r\n")
        #expect(h.send("BITFIELD", "none", "OVERFLOW", "WRAP") == "*0\r\n")
    }

    @Test func bitfieldWideFieldsAndUnalignedOffsets() {
        let h = Harness()
        #expect(h.send("BITFIELD", "k", "SET", "i64", "3", "-2") == array(":0\r\n"))
        #expect(h.send("BITFIELD", "k", "GET", "i64", "3", "GET", "u63", "3", "GET", "u63", "4") ==
                array(":-2\r\n", ":9223372036854775807\r\n", ":9223372036854775806\r\n"))
        #expect(h.send("STRLEN", "k") == ":9\r\n")
        #expect(h.send("BITFIELD", "k", "SET", "i64", "3", "9223372036854775807", "GET", "i64", "3") ==
                array(":-2\r\n", ":9223372036854775807\r\n"))
        #expect(h.send("BITFIELD", "k", "INCRBY", "i64", "3", "1") == array(":-9223372036854775808\r\n"))
        #expect(h.send("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "3", "-1", "INCRBY", "i64", "3", "9223372036854775807") ==
                array(":-9223372036854775808\r\n", ":-1\r\n"))
        #expect(h.send("BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i64", "3", "-9223372036854775808", "INCRBY", "i64", "3", "1") ==
                array("$-1\r\n", ":0\r\n"))
        #expect(h.send("BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", "3", "9223372036854775807", "INCRBY", "i64", "3", "1") ==
                array(":9223372036854775807\r\n", ":9223372036854775807\r\n"))
    }

    @Test func bitfieldOverflowModes() {
        let h = Harness()
        // WRAP (the default)
        #expect(h.send("BITFIELD", "w", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "10") == array(":0\r\n", ":9\r\n"))
        #expect(h.send("BITFIELD", "w", "SET", "i8", "0", "127", "INCRBY", "i8", "0", "1") == array(":9\r\n", ":-128\r\n"))
        #expect(h.send("BITFIELD", "w", "SET", "u8", "0", "300", "GET", "u8", "0") == array(":128\r\n", ":44\r\n"))
        #expect(h.send("BITFIELD", "w", "SET", "i8", "0", "200", "GET", "i8", "0") == array(":44\r\n", ":-56\r\n"))
        // SAT
        #expect(h.send("BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "u4", "0", "100", "INCRBY", "u4", "0", "-100") == array(":15\r\n", ":0\r\n"))
        #expect(h.send("BITFIELD", "s", "OVERFLOW", "sat", "INCRBY", "i4", "0", "100", "INCRBY", "i4", "0", "-100") == array(":7\r\n", ":-8\r\n"))
        #expect(h.send("BITFIELD", "s", "OVERFLOW", "SAT", "SET", "u8", "8", "-1", "GET", "u8", "8") == array(":0\r\n", ":255\r\n"))
        // Redis's check wraps internally: SET of INT64_MIN into an i8 saturates *upwards*.
        #expect(h.send("BITFIELD", "s", "OVERFLOW", "SAT", "SET", "i8", "16", "-9223372036854775808", "GET", "i8", "16") == array(":0\r\n", ":127\r\n"))
        // FAIL: nil and no write; the mode applies to the operations after it.
        #expect(h.send("BITFIELD", "f", "SET", "u2", "0", "3", "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "1", "GET", "u2", "0") ==
                array(":0\r\n", "$-1\r\n", ":3\r\n"))
        #expect(h.send("BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "i2", "0", "2", "SET", "i2", "0", "1", "OVERFLOW", "WRAP", "INCRBY", "i2", "0", "1") ==
                array("$-1\r\n", ":-1\r\n", ":-2\r\n"))
        #expect(h.send("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u63", "0", "-1") == array(":4611686018427387903\r\n"))
        #expect(h.send("BITFIELD", "f2", "OVERFLOW", "FAIL", "INCRBY", "u63", "0", "-1") == array("$-1\r\n"))
        #expect(h.send("BITFIELD", "f2", "OVERFLOW", "SAT", "INCRBY", "u63", "0", "-1", "SET", "u63", "0", "-1") == array(":0\r\n", ":0\r\n"))
        #expect(h.send("BITFIELD", "f2", "GET", "u63", "0") == array(":9223372036854775807\r\n"))
    }

    @Test func bitfieldOverflowMatchesAWideArithmeticModel() {
        let h = Harness()
        var rng = SplitMix(state: 5)
        for _ in 0..<2000 {
            let signed = Bool.random(using: &rng)
            let bits = Int.random(in: 1...(signed ? 64 : 63), using: &rng)
            let type = (signed ? "i" : "u") + "\(bits)"
            let offset = Int.random(in: 0...20, using: &rng)
            let lowest = Int64.min >> Int64(64 - bits)  // the signed type's minimum
            let current: Int64 = signed ? Int64.random(in: lowest...(~lowest), using: &rng)
                                        : Int64.random(in: 0...Int64((UInt64(1) << UInt64(bits)) - 1), using: &rng)
            let increment: Int64 = [Int64.random(in: -300...300, using: &rng), Int64.random(in: Int64.min...Int64.max, using: &rng)]
                .randomElement(using: &rng)!
            h.send("DEL", "k")
            #expect(h.send("BITFIELD", "k", "SET", type, "\(offset)", "\(current)") == array(":0\r\n"))
            let minimum: Int128 = signed ? -(Int128(1) << (bits - 1)) : 0
            let maximum: Int128 = signed ? (Int128(1) << (bits - 1)) - 1 : (Int128(1) << bits) - 1
            let sum = Int128(current) + Int128(increment)
            let fits = sum >= minimum && sum <= maximum
            let modulus = Int128(1) << bits
            var wrapped = ((sum - minimum) % modulus + modulus) % modulus + minimum
            if !signed { wrapped = (sum % modulus + modulus) % modulus }
            let saturated = sum > maximum ? maximum : (sum < minimum ? minimum : sum)
            let mode = ["WRAP", "SAT", "FAIL"].randomElement(using: &rng)!
            let reply = h.send("BITFIELD", "k", "OVERFLOW", mode, "INCRBY", type, "\(offset)", "\(increment)")
            let expected: Int128? = fits ? sum : (mode == "WRAP" ? wrapped : (mode == "SAT" ? saturated : nil))
            #expect(reply == array(expected.map { ":\($0)\r\n" } ?? "$-1\r\n"), "\(mode) \(type) \(current) + \(increment)")
            let stored = expected ?? Int128(current)
            #expect(h.send("BITFIELD", "k", "GET", type, "\(offset)") == array(":\(stored)\r\n"))
        }
    }

    @Test func bitfieldRandomFieldsMatchABitModel() {
        let h = Harness()
        var rng = SplitMix(state: 11)
        var model = [UInt8](repeating: 0, count: 40)
        h.setBytes("k", model)
        for _ in 0..<1500 {
            let signed = Bool.random(using: &rng)
            let bits = Int.random(in: 1...(signed ? 64 : 63), using: &rng)
            let type = (signed ? "i" : "u") + "\(bits)"
            let offset = Int.random(in: 0...(40 * 8 - bits), using: &rng)
            var raw: UInt64 = 0
            for i in 0..<bits { raw = raw << 1 | UInt64(Model.bit(model, offset + i)) }
            let old: Int64 = signed && bits < 64 && raw >> UInt64(bits - 1) == 1 ? Int64(bitPattern: raw | (UInt64.max << UInt64(bits))) : Int64(bitPattern: raw)
            if Bool.random(using: &rng) {
                #expect(h.send("BITFIELD_RO", "k", "GET", type, "\(offset)") == array(":\(old)\r\n"), "GET \(type) \(offset)")
            } else {
                let value = UInt64.random(in: 0...UInt64.max, using: &rng) >> UInt64(64 - bits)
                let argument = signed ? (bits < 64 && value >> UInt64(bits - 1) == 1 ? Int64(bitPattern: value | (UInt64.max << UInt64(bits))) : Int64(bitPattern: value))
                                      : Int64(value)
                #expect(h.send("BITFIELD", "k", "SET", type, "\(offset)", "\(argument)") == array(":\(old)\r\n"), "SET \(type) \(offset)")
                for i in 0..<bits {
                    let b = (value >> UInt64(bits - 1 - i)) & 1
                    let position = offset + i
                    let mask = UInt8(0x80) >> UInt8(position & 7)
                    if b == 1 { model[position >> 3] |= mask } else { model[position >> 3] &= ~mask }
                }
                #expect(h.getBytes("k") == model)
            }
        }
    }

    @Test func bitfieldTypeAndOffsetErrors() {
        let h = Harness()
        for bad in ["i", "i0", "i65", "u64", "u0", "I8", "i08", "i+8", "", "x8", "8", "i-1", "u 8"] {
            #expect(h.send("BITFIELD", "k", "GET", bad, "0") == typeError, "\(bad)")
        }
        #expect(h.send("BITFIELD", "k", "GET", "u63", "0") == array(":0\r\n"))
        #expect(h.send("BITFIELD", "k", "GET", "i64", "0") == array(":0\r\n"))
        // Redis reads the width with strlen: a NUL ends it.
        #expect(h.send(["BITFIELD", "k", "GET", "<bytes>", "0"], bytes: Array("i8\0xyz".utf8)) == array(":0\r\n"))
        for bad in ["-1", "x", "#", "##1", "#-1", "#0x", "4294967296", "#536870912", "1.0"] {
            #expect(h.send("BITFIELD", "k", "GET", "i8", bad) == offsetError, "\(bad)")
        }
        #expect(h.send("BITFIELD", "k", "GET", "i8", "4294967295") == array(":0\r\n"))
        #expect(h.send("BITFIELD", "k", "GET", "i8", "#536870911") == array(":0\r\n"))
        // `#n` times the width wraps like Redis's long long product: 2^61 * 8 = 2^64 = 0.
        #expect(h.send("BITFIELD", "k", "GET", "u8", "#2305843009213693952") == array(":0\r\n"))
        #expect(h.send("BITFIELD", "k", "SET", "i8", "0", "x") == notInteger)
        #expect(h.send("BITFIELD", "k", "INCRBY", "i8", "0", "1.5") == notInteger)
        #expect(h.send("EXISTS", "k") == ":0\r\n")
    }

    @Test func bitfieldSyntaxErrors() {
        let h = Harness()
        #expect(h.send("BITFIELD", "k", "foo") == syntaxError)
        #expect(h.send("BITFIELD", "k", "GET", "i8") == syntaxError)
        #expect(h.send("BITFIELD", "k", "SET", "i8", "0") == syntaxError)
        #expect(h.send("BITFIELD", "k", "INCRBY", "i8", "0") == syntaxError)
        #expect(h.send("BITFIELD", "k", "OVERFLOW") == syntaxError)
        #expect(h.send("BITFIELD", "k", "GET", "i8", "0", "SET") == syntaxError)
        #expect(h.send("BITFIELD", "k", "OVERFLOW", "foo", "GET", "i8", "0") == "-ERR Invalid OVERFLOW type specified\r\n")
        // Errors anywhere stop the whole command before any write.
        #expect(h.send("BITFIELD", "k", "SET", "i8", "0", "1", "GET", "i9x", "0") == typeError)
        #expect(h.send("EXISTS", "k") == ":0\r\n")
        #expect(h.send("BITFIELD") == "-ERR wrong number of arguments for 'bitfield' command\r\n")
    }

    @Test func bitfieldOnWrongTypeAndEncoding() {
        let h = Harness()
        h.makeNonString("l")
        #expect(h.send("BITFIELD", "l", "GET", "i8", "0") == wrongType)
        #expect(h.send("BITFIELD", "l", "SET", "i8", "0", "1") == wrongType)
        #expect(h.send("BITFIELD", "l") == wrongType)
        #expect(h.send("BITFIELD", "l", "OVERFLOW", "WRAP") == wrongType)
        // Argument errors come before the type check.
        #expect(h.send("BITFIELD", "l", "SET", "i8", "0", "x") == notInteger)
        h.send("SET", "n", "1")
        #expect(h.send("BITFIELD", "n", "GET", "u8", "0") == array(":49\r\n"))
        #expect(h.send("OBJECT", "ENCODING", "n") == "$3\r\nint\r\n")
        // Any write subcommand unshares the value into a raw string, even a failed one.
        #expect(h.send("BITFIELD", "n", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "300") == array("$-1\r\n"))
        #expect(h.send("OBJECT", "ENCODING", "n") == "$3\r\nraw\r\n")
        #expect(h.send("GET", "n") == "$1\r\n1\r\n")
    }

    @Test func bitfieldCountsChanges() {
        let h = Harness()
        let d0 = h.dirty
        h.send("BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "0")  // created: both count
        #expect(h.dirty == d0 + 2)
        h.send("BITFIELD", "k", "SET", "u8", "0", "0", "SET", "u8", "8", "5", "GET", "u8", "0")
        #expect(h.dirty == d0 + 3)
        h.send("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "100", "1000")  // grown, but refused
        #expect(h.dirty == d0 + 3)
        #expect(h.send("STRLEN", "k") == ":14\r\n")
    }

    @Test func bitfieldReadOnlyAllowsOnlyGet() {
        let h = Harness()
        h.setBytes("k", [0x80, 0xFF])
        #expect(h.send("BITFIELD_RO", "k", "GET", "i8", "0", "GET", "u4", "#3") == array(":-128\r\n", ":15\r\n"))
        #expect(h.send("BITFIELD_RO", "k", "GET", "i8", "0", "OVERFLOW", "FAIL") == array(":-128\r\n"))
        #expect(h.send("BITFIELD_RO", "k", "SET", "i8", "0", "1") == "-ERR BITFIELD_RO only supports the GET subcommand\r\n")
        #expect(h.send("BITFIELD_RO", "k", "INCRBY", "i8", "0", "1") == "-ERR BITFIELD_RO only supports the GET subcommand\r\n")
        // Parse errors win over the read-only refusal, which wins over the type check.
        #expect(h.send("BITFIELD_RO", "k", "GET", "i8", "0", "INCRBY", "i8", "0", "x") == notInteger)
        #expect(h.send("BITFIELD_RO", "k", "GET", "i8", "0", "OVERFLOW", "bar") == "-ERR Invalid OVERFLOW type specified\r\n")
        h.makeNonString("l")
        #expect(h.send("BITFIELD_RO", "l", "SET", "i8", "0", "1") == "-ERR BITFIELD_RO only supports the GET subcommand\r\n")
        #expect(h.send("BITFIELD_RO", "l", "GET", "i8", "0") == wrongType)
        #expect(h.send("BITFIELD_RO", "missing", "GET", "i8", "0") == array(":0\r\n"))
        #expect(h.getBytes("k") == [0x80, 0xFF])
    }

    @Test func bitfieldRepliesNullInRESP3() {
        let h = Harness()
        h.send("HELLO", "3")
        #expect(h.send("BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u1", "0", "2") == array("_\r\n"))
    }

    // MARK: Ops

    @Test func popcountAndFindBitAgreeWithBitLoops() {
        var rng = SplitMix(state: 3)
        for _ in 0..<500 {
            let bytes = randomBitmap(&rng)
            guard !bytes.isEmpty else { continue }
            let total = bytes.count * 8
            let a = Int.random(in: 0..<total, using: &rng)
            let b = Int.random(in: a..<total, using: &rng)
            bytes.withUnsafeBytes { raw in
                #expect(popcount(raw) == bytes.reduce(0) { $0 + $1.nonzeroBitCount })
                #expect(popcount(raw, firstBit: a, lastBit: b) == (a...b).reduce(0) { $0 + Model.bit(bytes, $1) })
                for target in [false, true] {
                    let expected = (a...b).first { Model.bit(bytes, $0) == (target ? 1 : 0) }
                    #expect(findBit(target, in: raw, firstBit: a, lastBit: b) == expected)
                }
            }
        }
    }

    @Test func bitfieldTypeParsing() {
        func parse(_ s: String) -> BitfieldType? {
            Array(s.utf8).withUnsafeBytes { BitfieldType($0) }
        }
        #expect(parse("i1") == BitfieldType(signed: true, bits: 1))
        #expect(parse("u63") == BitfieldType(signed: false, bits: 63))
        #expect(parse("i64") == BitfieldType(signed: true, bits: 64))
        #expect(parse("u64") == nil)
        #expect(parse("i65") == nil)
        #expect(parse("i") == nil)
        #expect(parse("") == nil)
    }
}
