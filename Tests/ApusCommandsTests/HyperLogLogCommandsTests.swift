import ApusCommands
import ApusConfig
import Testing

/// Replies recorded from redis-server 7.0.15 and 7.2.4 (identical, RESP2 and RESP3 alike) for
/// the same command script: every error string, the exact bytes GET returns for the sketches
/// (sparse, dense, cache valid or not), estimates, and the TTL a HyperLogLog write keeps.
@Suite struct HyperLogLogCommandsTests {
    enum Reply {
        case text(String)
        case hex(String)

        var bytes: [UInt8] {
            switch self {
            case .text(let s): return Array(s.utf8)
            case .hex(let h):
                var out: [UInt8] = []
                var i = h.startIndex
                while i < h.endIndex {
                    let j = h.index(i, offsetBy: 2)
                    out.append(UInt8(h[i ..< j], radix: 16)!)
                    i = j
                }
                return out
            }
        }
    }

    static func t(_ s: String) -> Reply { .text(s) }
    static func x(_ h: String) -> Reply { .hex(h) }

    /// Arguments are written with `\u{XX}` escapes for raw bytes (Latin-1 code points).
    private func bytes(_ arg: String) -> [UInt8] { arg.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }

    private func replay(resp3: Bool) {
        let h = Harness()
        if resp3 { h.send("HELLO", "3") }
        for (args, expected) in Self.script {
            let reply = h.raw(args.map(bytes))
            #expect(reply == expected.bytes, "\(args.joined(separator: " "))")
        }
    }

    @Test func scriptMatchesRedisInRESP2() { replay(resp3: false) }
    @Test func scriptMatchesRedisInRESP3() { replay(resp3: true) }

    @Test func getregListsEveryRegisterAndConvertsToDense() {
        let h = Harness()
        h.send("PFADD", "h", "a")
        let reply = h.send("PFDEBUG", "GETREG", "h")
        #expect(reply.hasPrefix("*16384\r\n"))
        // "a" sets register 12711 to 2 (its bytes are checked against Redis in the store tests).
        let values = reply.split(separator: "\r\n").dropFirst().map { $0.dropFirst() }
        #expect(values.count == 16384)
        #expect(values[12711] == "2")
        #expect(values.filter { $0 != "0" }.count == 1)
        #expect(h.send("PFDEBUG", "ENCODING", "h") == "+dense\r\n")
        #expect(h.send("STRLEN", "h") == ":12304\r\n")
    }

    @Test func sparsePromotesPastHllSparseMaxBytes() {
        let h = Harness()
        h.send("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
        h.send("PFADD", "hll", "a", "b", "c", "d", "e", "d", "g", "h", "i", "j", "k")
        #expect(h.send("PFDEBUG", "ENCODING", "hll") == "+sparse\r\n")
        h.send("CONFIG", "SET", "hll-sparse-max-bytes", "30")
        h.send("PFADD", "hll", "new_element")
        #expect(h.send("PFDEBUG", "ENCODING", "hll") == "+dense\r\n")
        for limit in [100, 500, 3000] {
            h.send("CONFIG", "SET", "hll-sparse-max-bytes", "\(limit)")
            h.send("DEL", "hll")
            h.send("PFADD", "hll")
            var n = 0
            var length = 18
            while length <= limit {
                #expect(h.send("PFDEBUG", "ENCODING", "hll") == "+sparse\r\n")
                h.send(["PFADD", "hll"] + (0 ..< 10).map { "e\(n + $0)" })
                n += 10
                let strlen = h.send("STRLEN", "hll")
                length = Int(strlen.dropFirst().prefix { $0.isNumber })!
            }
            #expect(h.send("PFDEBUG", "ENCODING", "hll") == "+dense\r\n")
        }
    }

    @Test func estimatesMatchRedisForLargeSetsAndUnions() {
        let h = Harness()
        h.send(["PFADD", "a"] + (0 ..< 10000).map { "e\($0)" })
        #expect(h.send("PFCOUNT", "a") == ":9973\r\n")
        h.send(["PFADD", "b"] + (0 ..< 500).map { "f\($0)" })
        h.send(["PFADD", "c"] + (0 ..< 300).map { "e\($0)" })
        #expect(h.send("PFCOUNT", "b", "c") == ":808\r\n")
        h.send("PFMERGE", "m", "b", "c")
        #expect(h.send("PFCOUNT", "m") == ":808\r\n")
        #expect(h.send("STRLEN", "m") == ":1584\r\n")
    }

    static let script: [([String], Reply)] = [
        (["PFADD", "h"], t(":1\r\n")),
        (["PFADD", "h"], t(":0\r\n")),
        (["GET", "h"], x("2431380d0a48594c4c0100000000000000000000807fff0d0a")),
        (["PFCOUNT", "h"], t(":0\r\n")),
        (["GET", "h"], x("2431380d0a48594c4c0100000000000000000000007fff0d0a")),
        (["PFADD", "h", "a", "b", "c"], t(":1\r\n")),
        (["PFADD", "h", "a", "b", "c"], t(":0\r\n")),
        (["PFADD", "h", "A", "c"], t(":1\r\n")),
        (["GET", "h"], x("2433300d0a48594c4c01000000000000000000008060f3804f4a804165844bfb80425a0d0a")),
        (["PFCOUNT", "h"], t(":4\r\n")),
        (["GETRANGE", "h", "15", "15"], x("24310d0a000d0a")),
        (["PFADD", "h", "1", "2", "3"], t(":1\r\n")),
        (["GETRANGE", "h", "15", "15"], x("24310d0a800d0a")),
        (["OBJECT", "ENCODING", "h"], t("$3\r\nraw\r\n")),
        (["PFDEBUG", "ENCODING", "h"], t("+sparse\r\n")),
        (["PFDEBUG", "DECODE", "h"], t("$93\r\nZ:7527 v:1,1 Z:908 v:1,1 Z:2536 v:1,1 Z:1378 v:1,1 Z:358 v:2,1 Z:2659 v:4,1 Z:408 v:1,1 Z:603\r\n")),
        (["PFCOUNT", "nokey"], t(":0\r\n")),
        (["PFCOUNT", "nokey", "nokey2"], t(":0\r\n")),
        (["PFCOUNT", "h", "nokey"], t(":7\r\n")),
        (["PFCOUNT", "h", "h"], t(":7\r\n")),
        (["SET", "s", "foo"], t("+OK\r\n")),
        (["PFADD", "s", "x"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFCOUNT", "s"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFCOUNT", "h", "s"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFMERGE", "d", "s"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFMERGE", "s", "h"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFDEBUG", "ENCODING", "s"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["EXISTS", "d"], t(":0\r\n")),
        (["RPUSH", "l", "x"], t(":1\r\n")),
        (["PFADD", "l", "x"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFCOUNT", "l"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFCOUNT", "h", "l"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFMERGE", "l", "h"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFMERGE", "h", "l"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFDEBUG", "GETREG", "l"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFMERGE", "h", "nokey", "l"], t("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")),
        (["PFMERGE", "new"], t("+OK\r\n")),
        (["EXISTS", "new"], t(":1\r\n")),
        (["GET", "new"], x("2431380d0a48594c4c0100000000000000000000807fff0d0a")),
        (["PFCOUNT", "new"], t(":0\r\n")),
        (["GET", "new"], x("2431380d0a48594c4c0100000000000000000000007fff0d0a")),
        (["PFMERGE", "new2", "nokey", "nokey2"], t("+OK\r\n")),
        (["GET", "new2"], x("2431380d0a48594c4c0100000000000000000000807fff0d0a")),
        (["PFADD", "h2", "x", "y", "z", "w"], t(":1\r\n")),
        (["PFMERGE", "m", "h", "h2"], t("+OK\r\n")),
        (["GET", "m"], x("2435300d0a48594c4c0100000000000000000000805047844d1d80438b80408f8049568045618041658448ab8841b58c419780425084080d0a")),
        (["PFCOUNT", "m"], t(":11\r\n")),
        (["PFMERGE", "h2", "h2"], t("+OK\r\n")),
        (["PFCOUNT", "h2"], t(":4\r\n")),
        (["PFMERGE", "h2"], t("+OK\r\n")),
        (["PFCOUNT", "h2"], t(":4\r\n")),
        (["PFDEBUG", "TODENSE", "h2"], t(":1\r\n")),
        (["PFDEBUG", "TODENSE", "h2"], t(":0\r\n")),
        (["PFDEBUG", "ENCODING", "h2"], t("+dense\r\n")),
        (["STRLEN", "h2"], t(":12304\r\n")),
        (["PFDEBUG", "DECODE", "h2"], t("-ERR HLL encoding is not sparse\r\n")),
        (["PFCOUNT", "h2"], t(":4\r\n")),
        (["PFADD", "h2", "x"], t(":0\r\n")),
        (["PFADD", "h2", "new-one"], t(":1\r\n")),
        (["PFCOUNT", "h2"], t(":5\r\n")),
        (["PFMERGE", "m", "h2"], t("+OK\r\n")),
        (["PFDEBUG", "ENCODING", "m"], t("+dense\r\n")),
        (["PFCOUNT", "m"], t(":12\r\n")),
        (["PFCOUNT", "m", "h", "h2"], t(":12\r\n")),
        (["PFDEBUG", "GETREG", "nokey"], t("-ERR The specified key does not exist\r\n")),
        (["PFDEBUG", "FOO", "h"], t("-ERR Unknown PFDEBUG subcommand 'FOO'\r\n")),
        (["PFDEBUG", "foo", "nokey"], t("-ERR The specified key does not exist\r\n")),
        (["PFDEBUG", "enCoding", "h"], t("+sparse\r\n")),
        (["PFDEBUG", "GETREG", "h", "extra"], t("-ERR wrong number of arguments for 'pfdebug' command\r\n")),
        (["PFADD"], t("-ERR wrong number of arguments for 'pfadd' command\r\n")),
        (["PFCOUNT"], t("-ERR wrong number of arguments for 'pfcount' command\r\n")),
        (["PFMERGE"], t("-ERR wrong number of arguments for 'pfmerge' command\r\n")),
        (["PFDEBUG", "GETREG"], t("-ERR wrong number of arguments for 'pfdebug' command\r\n")),
        (["PFSELFTEST", "x"], t("-ERR wrong number of arguments for 'pfselftest' command\r\n")),
        (["PFADD", "c1", "a"], t(":1\r\n")),
        (["APPEND", "c1", "hello"], t(":26\r\n")),
        (["PFCOUNT", "c1"], t("-INVALIDOBJ Corrupted HLL object detected\r\n")),
        (["PFADD", "c1", "zz"], t(":1\r\n")),
        (["PFCOUNT", "c1", "h"], t("-INVALIDOBJ Corrupted HLL object detected\r\n")),
        (["PFMERGE", "c2", "c1"], t("-INVALIDOBJ Corrupted HLL object detected\r\n")),
        (["PFDEBUG", "TODENSE", "c1"], t("-INVALIDOBJ Corrupted HLL object detected\r\n")),
        (["PFDEBUG", "GETREG", "c1"], t("-INVALIDOBJ Corrupted HLL object detected\r\n")),
        (["PFDEBUG", "DECODE", "c1"], t("$56\r\nZ:2778 v:1,1 Z:9932 v:2,1 Z:3672 Z:10342 Z:11373 Z:12033\r\n")),
        (["PFADD", "c3", "a"], t(":1\r\n")),
        (["SETRANGE", "c3", "0", "0123"], t(":21\r\n")),
        (["PFCOUNT", "c3"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFADD", "c4", "a"], t(":1\r\n")),
        (["SETRANGE", "c4", "4", "x"], t(":21\r\n")),
        (["PFCOUNT", "c4"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFADD", "c5", "a"], t(":1\r\n")),
        (["SETRANGE", "c5", "4", "\u{0}"], t(":21\r\n")),
        (["PFCOUNT", "c5"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["PFADD", "c5", "b"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
        (["SET", "e", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{80}\u{7f}\u{ff}"], t("+OK\r\n")),
        (["OBJECT", "ENCODING", "e"], t("$6\r\nembstr\r\n")),
        (["PFCOUNT", "e"], t(":0\r\n")),
        (["OBJECT", "ENCODING", "e"], t("$3\r\nraw\r\n")),
        (["GET", "e"], x("2431380d0a48594c4c0100000000000000000000007fff0d0a")),
        (["SET", "e2", "HYLL\u{1}\u{0}\u{0}\u{0}\u{5}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}garbage"], t("+OK\r\n")),
        (["PFCOUNT", "e2"], t(":5\r\n")),
        (["PFCOUNT", "e2", "nokey"], t("-INVALIDOBJ Corrupted HLL object detected\r\n")),
        (["SET", "t", "HYLL\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{7f}\u{ff}", "EX", "1000"], t("+OK\r\n")),
        (["PFADD", "t", "a", "b"], t(":1\r\n")),
        (["TTL", "t"], t(":1000\r\n")),
        (["PFMERGE", "t", "h"], t("+OK\r\n")),
        (["TTL", "t"], t(":1000\r\n")),
        (["PFDEBUG", "TODENSE", "t"], t(":1\r\n")),
        (["TTL", "t"], t(":1000\r\n")),
        (["SET", "i", "12345678901234567"], t("+OK\r\n")),
        (["PFCOUNT", "i"], t("-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")),
    ]
}
