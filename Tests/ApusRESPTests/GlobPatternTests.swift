import Testing
import Foundation
@testable import ApusRESP

private func matches(_ pattern: [UInt8], _ string: [UInt8], ignoreCase: Bool = false) -> Bool {
    pattern.withUnsafeBytes { p in string.withUnsafeBytes { s in globMatch(pattern: p, string: s, ignoreCase: ignoreCase) } }
}

private func matches(_ pattern: String, _ string: String, ignoreCase: Bool = false) -> Bool {
    matches(Array(pattern.utf8), Array(string.utf8), ignoreCase: ignoreCase)
}

private func hexBytes(_ hex: Substring) -> [UInt8] {
    if hex == "-" { return [] }
    var out: [UInt8] = []
    var i = hex.startIndex
    while i < hex.endIndex {
        let j = hex.index(i, offsetBy: 2)
        out.append(UInt8(hex[i..<j], radix: 16)!)
        i = j
    }
    return out
}

@Suite struct GlobPatternTests {
    @Test(arguments: [
        ("h?llo", "hello", true), ("h*llo", "heeeello", true), ("h*llo", "hllo", true), ("h[ae]llo", "hallo", true),
        ("h[^e]llo", "hello", false), ("h[a-b]llo", "hbllo", true), ("h\\*llo", "h*llo", true),
        ("h\\*llo", "hello", false), ("*", "anything", true), ("a*", "a", true), ("a**", "a", true),
        ("a*?", "a", false), ("?", "", false), ("", "", true), ("**", "", false), ("[^a-c]x", "dx", true),
        ("\\a", "a", true), ("*a*b*c", "xxaxxbxxc", true), ("*a*b*c", "xxaxxbxx", false),
        // Redis quirks, checked against redis-server's KEYS:
        ("[abc", "b", true),        // an unterminated class closes at the end of the pattern
        ("[", "[", false), ("a[", "a", false), ("a[b", "ab", true),
        ("[^", "x", true), ("[^]", "x", true), ("[]", "]", false), ("[]]", "]", false),
        ("[\\]]", "]", true), ("[\\", "\\", true), ("\\", "\\", true), ("a\\", "a\\", true),
        ("[z-a]", "m", true),       // reversed ranges are swapped
        ("[-a]", "-", true), ("[a-c-e]", "d", false), ("[a-c-e]", "-", true),
        ("[a-]", "_", true), ("[a-]", "]", true), ("[a-]", "-", false), ("[a-]b", "_", true),  // ']' ends a range, not the class
    ])
    func matchesLikeStringmatchlen(pattern: String, string: String, expected: Bool) {
        #expect(matches(pattern, string) == expected)
    }

    @Test func starAloneDoesNotMatchTheEmptyString() {
        // stringmatchlen("*", "") is 0; KEYS and SCAN special-case a lone "*" before matching.
        #expect(!matches("*", ""))
    }

    @Test func rangeBoundsCompareAsSignedChars() {
        // [a-\xff] is -1...97 with x86-64's signed char.
        let pattern: [UInt8] = [0x5B, 0x61, 0x2D, 0xFF, 0x5D]
        #expect(matches(pattern, [0x00]))
        #expect(matches(pattern, [0xFF]))
        #expect(!matches(pattern, [0x62]))
        #expect(!matches(pattern, [0xFE]))
        #expect(matches([0x5B, 0x00, 0x2D, 0x62, 0x5D], [0x61]))
    }

    @Test func nulBytesAreOrdinaryBytes() {
        #expect(matches([0x2A, 0x61], [0x00, 0x61]))
        #expect(matches([0x61, 0x00, 0x2A], [0x61, 0x00, 0x62]))
        #expect(!matches([0x61, 0x00], [0x61]))
    }

    @Test func ignoreCaseFoldsAsciiLettersOnly() {
        #expect(matches("HELLO*", "hello world", ignoreCase: true))
        #expect(!matches("HELLO*", "hello world"))
        #expect(matches("[A-Z]", "q", ignoreCase: true))
        #expect(matches("h[AE]llo", "hello", ignoreCase: true))
        #expect(matches("[^A]", "a") && !matches("[^A]", "a", ignoreCase: true))
        // Escapes inside a class compare exactly.
        #expect(!matches("[\\A]", "a", ignoreCase: true))
        // Bounds are folded after being ordered: [Z-a] becomes the empty range z...a.
        #expect(matches("[Z-a]", "_"))
        #expect(!matches("[Z-a]", "_", ignoreCase: true))
        #expect(!matches("\u{C9}", "\u{E9}", ignoreCase: true))
    }

    @Test func pathologicalPatternsFinishQuickly() {
        // Exponential for naive backtracking; skipLongerMatches stops after the first full scan.
        let pattern = String(repeating: "a*", count: 40) + "b"
        let string = String(repeating: "a", count: 5000)
        let start = ContinuousClock.now
        #expect(!matches(pattern, string))
        #expect(!matches(String(repeating: "*?", count: 500) + "b", string))
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func recursionDeeperThanAThousandStarsDoesNotMatch() {
        // Redis 7.2.6+ gives up past 1000 nested '*' instead of risking the stack.
        let string = String(repeating: "a", count: 1100)
        #expect(matches(String(repeating: "a*", count: 1001), string))
        #expect(!matches(String(repeating: "a*", count: 1002), string))
    }

    /// Pattern / string / expected triples (hex) drawn from a differential run of 30,000
    /// random cases against redis-server 7.0.15's KEYS, biased toward `[`, `\` and `*`.
    @Test func agreesWithRedisOnRandomPatterns() {
        for line in Self.redisCorpus {
            let fields = line.split(separator: " ")
            for i in stride(from: 0, to: fields.count, by: 3) {
                let pattern = hexBytes(fields[i]), string = hexBytes(fields[i + 1])
                #expect(matches(pattern, string) == (fields[i + 2] == "1"), "\(fields[i]) \(fields[i + 1])")
            }
        }
    }

    /// Runs the whole differential corpus when it is present (regenerate it with a KEYS loop
    /// against redis-server; see the test above).
    @Test func agreesWithRedisOnFullCorpusWhenAvailable() throws {
        guard let path = ProcessInfo.processInfo.environment["APUS_GLOB_CORPUS"],
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            #expect(matches(hexBytes(fields[0]), hexBytes(fields[1])) == (fields[2] == "1"), "\(line)")
        }
    }

    static let redisCorpus: [String] = [
    "5b 61 0 3f612d2a2a 62612d2d 1 622a6262 626262 1 6141612a612a 6141616261612a41 1",
    "612a5e 61 0 e92a e961 1 3f623f5e5b 5b622d5e 0 615e2d2a 615e2d 1",
    "5c415d2d61412a 5ce961 0 5b416162615d2d 41e962615d 0 2a2a61415c 5d2a61415c 1 2a2d614161 2d614161 1",
    "622a5d5c 2a5b5b5c5d5e 0 61e92a2d41e9 61e92a2d41e9 1 4162622d625b 4162622d62 0 5c 5c 1",
    "2d2d5b622d615d61 2d2d5c622d6161 0 2a 5d 1 5b6161 e95e61 0 3f5b5c5b2a625d 635c61416261 0",
    "5ce9625d62 41412a5e5b5c5d2d 0 2a616161 2a61616161 1 2a613f 6161 1 625d62615e2d5c 625d62615e2d5c 1",
    "622a6262 625d626262 1 615b5b61e9612d 615b61e96161 0 3f613f612a62 62612a612d62 1 5b615b 615b 0",
    "5e2a61e92a5d2a3f 2d5c6341e961 0 2a615c 5ee9e9 0 4141612a2d 4141612d 1 2a 2d63 1",
    "5c61614161412d 5b5d 0 5c612d5ee9 62612d5e5b 0 622a3f416262 63415c5d 0 616261612a 61626161 1",
    "61e96161415e5c5b 61e96161412a5b 0 5e41612a2a 5e41615d5d 1 62615b5d2de95b62 62615d2de92a62 0 e9622a625d2a2a e962625d2a612a 1",
    "414141e9615be9 414141e9615be9 0 5d5b2a2d41 612d2a 0 5d5d5c2d5ee95d2a 63635b615e615b 0 61412a 5e41415c 0",
    "5c 5c 1 622a 6261 1 5b5e5c5e2d5b 6262 0 62e92a62 2a 0",
    "5d612a5ee9e9 5b5d5b612d5e615e 0 2a625d62 6162625d62 1 5b5b 2a5c6241612a61 0 625c2a 622d62 0",
    "625d2d5e622a 625d2d625b5d 0 2d5c 2d5c 1 2a 625d 1 3f2a 2d625e 1",
    "5e2a2a 5e5b2a 1 5b615d6241622a 5b61624162e9 0 e95e2a3f5b5b5c e95e615b635b5d 0 615c 615c 1",
    "5b3f5e 61 0 61e95c412a612a 61e95c415c41612d62 0 2ae9 e9e9 1 2a3f 5b 1",
    "622d62e9615c5b62 622d62e92a5c6262 0 2a2d 5c5b5d 0 2a 2d 1 5c5b2d 5b41412d2d 0",
    "412ae93f3f5b 41e95ee9 0 5c 5c 1 622a612a622a2a 6262616341612d6241 1 2a 62 1",
    "2a2a2d62 2d62 1 3f625b41 615d5e 0 62612a62 62615b2a62 1 415b62625b5c41 412d62625b5c41 0",
    "2a 41 1 2a612a5d5c 416261625d5c 1 625b41 2a5b41 0 415c 415c 1",
    "622a5c62 6261625c62 1 2a412a2a2d61 632a415b612d61 1 2a5c 5c 1 5c 5c 1",
    "e9415c2d62 62 0 2a 5c 1 62e9e9e9e93f622a 62e9e9e9e92d622a 1 2a5c61 5e5c61 1",
    "5c2d3fe9 612de9e9 0 5c3f612d5d 2d2d615de9 0 2a62 62 1 2a2a5c61e9616261 e95c61e9616261 1",
    "2a615b2a5b 61416141 0 5c 612a622d2a5c41 0 e95c623f5e e95c625e 0 5c 5c 1",
    "2a e95d5be95b615d63 1 62e9623f5d5b61 2d2d625b5d5b61 0 2a3f3f626261 5e6162626261 1 2ae9612a6162 5b62e96161616162 1",
    "615b 5ce9412a 0 62e962e95c5d615e 2a 0 e9615d2a61 e962415d61 0 e95e5c e95e5c 1",
    "5b 5b 0 e92d2d2a62 5e2d2d2d63 0 5ee962412d3f3f5c 5ee962412d5c5d5c 1 3f2a5d2d3f 2ae95d5d2d61 1",
    "2ae9 e9 1 61622d5d2a 61622d5d 1 5b62e962623f6162 5de96263626141 0 3f2a 5b5c5e 1",
    "625e5c 625e5c 1 e9e95e625c2a5d5e 5be95e625c 0 2d5d2a61 e9625e5d615d412a 0 5e625d61625b 62e96162 0",
    "5c62e95b3f5e41 5c625b615e41 0 2a 2d2d5d63625d612d 1 2a5d625c 6261625c 0 e92a622a6262 e9625b62 0",
    "3f613f2a 5e615e 1 e95d61613f5b62 e95d61612a62 1 5d2a626262 5d626262 1 625b5ce9 415e6141e9e95d 0",
    "5c623f625e 5c626262 0 2a2a5d 625b5d 1 622a2a2a 62635e5b5e 1 612d623f2a 612d62625d62 1",
    "61415de95c3f 416161 0 e962615b 616261 0 613f2a2a4162 615e2d62634162 1 62612a62615d 6261416261 0",
    "612a 616141 1 612a5ce92d2a5c 612d5b5ce92d615c 1 612a2d61 612d61 1 5c5e 5c2a 0",
    "e95b5b e95b 1 5b5b 5b 1 612a2d 61622d 1 622ae9615b5b5d2a 622ae9615b5b5d 1",
    "5b5b5b3f 5b2a2a 0 412a 412a 1 5b41e93f5ee92d 41e9615ee92d 0 5c615d5c62623f 5b61625c62625b 0",
    "626141612d2d2a3f 2a61635b2d2d5d 0 2a2a 625b2a61 1 41615e612a413f62 41615e614141415d62 1 e92a e96361 1",
    "e95c e95c 1 2a5c41 615d636262e9615d 0 5c 5c 1 2a415e 62415e 1",
    "61625c 61622d 0 61e9413f5b 61e9415d5b 0 3f412d5ee9e92a5c 6141615ee9e95ee95d 0 3f5c 2d5c 1",
    "6161615c 6161615c 1 5d5d412a5b2d415e 5d415e5b2d2d 0 2d2a3f61625d2a62 5b2d 0 61e941e962615b5e 61e941e9626141 1",
    "5c 5c 1 5d625c615c6261 625c2d5c6261 0 3f6141612a62625b 63 0 3f2d615c e92d615c 1",
    "5e415b62 e9 0 2d2a61 2d5d61 1 2a615d62 6162 0 412ae961e9 41e961e9 1",
    "622a 416161 0 2a41625d 6241625d 1 2a4141 4141 1 5b2a61 61 1",
    "3f3f612a 5d2a61e961 1 2a 61 1 5e2a2a 5e4163 1 615b 615b 0",
    "41615c 41615c 1 5d625b5b5d2a 625d2d 0 5de9613f615c e96162615c 0 2a6261e9 6261e9 1",
    "2a412a 41 1 2d622a41622a62 2d6241625e5e62 1 2d625c2a 2d625c5b 0 5b62615d61415b 5b61616161415b 0",
    "3f5b 61 0 e92d6261625d2a e92d62616262 0 5d5c5e6241 5c5e625e 0 2a5de93f61622d 5de95d61622d 1",
    "5e5d6262e95b2d 2a 0 2a613f 63615d 1 2a6161 5e2d6161 1 415c61 415c61 0",
    "5c 5c 1 612a6162e962 5e5d62 0 3f2a6161 2ae961615b 0 3f5b3f 616362 0",
    "5c615c61 62 0 2a625ee9e9e93f61 2a63625ee9e9e96161 1 e93f2a622a e9e96262 1 e9623fe9612a e9625be961 1",
    "5e5c3f625b615c5e 5c62625b615c 0 5c 5c 1 615e5d5c2d 615e5d5c2d 0 e92a62 e962 1",
    "5e5c2a622a5d5b 5c415ee9615d 0 613f416261615b 5c5d5e 0 3f3f622a2a61 625e5ce961 0 5b61412a614141 614163622d4141 0",
    "615c5d612a62 615ce9615b 0 3f2a3f2d5b6161 5c61612d5c6261 0 5e612a622d413f 5e61622d4163 1 2ae9 625be9 1",
    "622a61 625c61 1 622d5c615d5e5b 622d5c615d5e 0 e92a5d e9615d 1 612a6261e9625b 616261e962 0",
    "2a 616361e963 1 e95e3f2a623f5d e95e635d61625c5d 1 3f2a62 2a2d2d62 1 2a62625d 622a62625d 1",
    "622a5c41 625c41 1 5e2d612a3f6162 5e2d61416162 1 615b5e415e61 615b5e625e62 0 3f615d2a 5c615d 1",
    "3f2a61625c623f5c 415e612d625c625b61 0 6161612d625c62 6161612d626162 0 2a612d61 6262612d61 1 62615b61 62615b61 0",
    "2a 2a2a 1 62412d61622a 62412d61625b 1 2a 2a 1 415b5e5e5d412a 5e61e95d 0",
    "2a5d622d 625d5ee95c635e63 0 2d5d5c5e2a 61635b63 0 2a2d 2d 1 e9615b5c2ae9 e9615b5c2d5be9 0",
    "5b 6161 0 5b5d3f615c 5b2a2a6362 0 5c61625e412a 5e616241 0 5d61625b616241 61412a2de9635be9 0",
    "e95e61625d2a2d5d 61e962625c5c 0 2a61613f3fe961 5c6161614141e961 1 6162612a4162 616261614162 1 5c5de9614161e95b 5c5de9614161e9 0",
    "62622d5c5d2d3f 62412d5c5d2d62 0 2a 5c 1 5b41 632a 0 2d2d2ae961625d 612d622d61415d 0",
    "5d3f2a 2a615e2de9612a 0 612d2a61616261 5d 0 615de95b4162625b 61 0 625e5ce93f61 625e5ce96161 0",
    "5b5e62 5c636262616161 0 615e622a 615e625d 1 2a5d2a 2d5d5d2d 1 623f3f5d3f2a5d5c 6261625d5d5d5c 1",
    "2a 6262412d61 1 5b2d 2d 1 5b 5b 0 2a5b2d41 615b2d41 1",
    "2d5be92a5d5e5b5e 2de95e5e 1 5b615b2a616261 5b616162616263 0 2d5c415e5b3f4161 2d5c415e5b2a4161 0 625c5e612d5e61e9 6263612d5e61e9 0",
    "2a 5ee9 1 2a41 635e41 1 62625c5d6162 62625c5d6162 0 612de95c2a 612de95c2d5b 0",
    "e95c3f e95c5e 0 5b2d415c3f412a5b 5b2d415c2a412d 0 5c3f 2a 0 625d412a62 625d41625d62 1",
    "5be9615b e9615b 0 2a5b2d41615ee961 5b2d2a61e961 1 5b5e5e5d625b62 61612d 0 5b2d62 612d63 0",
    "5b2a5ce93f5b 2d5e5ce95e 0 5b3f61e95e61e9 5b4161e961e9 0 622a 62e961 1 2a e92ae95d2d 1",
    "5c62 5c62 0 61412a 614163 1 5b61 5b41 0 2a623f625c 635d625c625c 1",
    "622a 62635e 1 2a 415c6362 1 e93fe9625d612ae9 e9e9e9625d61625ee9 1 2a62 612a62 1",
    "e95e5c2d615b61 e95e5c2d6161 0 5c5e6162625d62 5b635b4141e9 0 2a62626261e92d 6262626261e92d 1 61622d2a2a 5d622d62415b5d 0",
    "625c612a5c2d4162 615c615c2d4162 0 3f612a615c615d 5d6162416163e963 0 2a415d e95c415d 1 612a61e95de9 616161e95de9 1",
    "6241612a612d622d 624161e961612d622d 1 2a41 5c5c41 1 5b415c5c6161 415c5c2d61 0 5b622d2d 62632a63635c61 0",
    ]
}
