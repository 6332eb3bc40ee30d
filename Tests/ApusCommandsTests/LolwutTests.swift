@testable import ApusCommands
import ApusRESP
import Testing

/// The text of a RESP2 bulk reply (LOLWUT's reply without HELLO 3). Works on bytes: as
/// Characters, the drawing's last "\n" and the reply's "\r\n" would not split cleanly.
private func bulkText(_ reply: String) -> String {
    let bytes = Array(reply.utf8)
    guard bytes.first == UInt8(ascii: "$"), let cr = bytes.firstIndex(of: 0x0D), bytes.count >= cr + 4 else {
        return "<not a bulk: \(reply.prefix(60))>"
    }
    return String(decoding: bytes[(cr + 2)..<(bytes.count - 2)], as: UTF8.self)
}

private let notInteger = "-ERR value is not an integer or out of range\r\n"
private let schotterTrailer = "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.2.4\n"
private let skylineTrailer = "\nDedicated to the 8 bit game developers of past and present.\n"
    + "Original 8 bit image from Plaguemon by hikikomori. Redis ver. 7.2.4\n"

/// Splits a drawing from its trailer and returns its text lines.
private func drawingLines(_ text: String, trailer: String) -> [Substring] {
    guard text.hasSuffix(trailer) else { return ["<no trailer>"] }
    let drawing = String(decoding: text.utf8.dropLast(trailer.utf8.count), as: UTF8.self)
    return drawing.split(separator: "\n", omittingEmptySubsequences: false)
}

/// Terminal cells per line of a skyline (each cell ends with ESC[0m).
private func skylineCells(_ line: Substring) -> Int { line.components(separatedBy: "\u{1B}[0m").count - 1 }

@Suite struct LolwutTests {
    // MARK: Versions and replies

    @Test func withoutADrawingVersionLolwutPrintsTheVersionLineAndIgnoresItsArguments() {
        let h = Harness()
        for args in [["lolwut"], ["lolwut", "version"], ["lolwut", "VeRsIoN", "7"], ["lolwut", "version", "0"],
                     ["lolwut", "version", "-1"], ["lolwut", "version", "59"], ["lolwut", "version", "4294967295"],
                     ["lolwut", "version", "9223372036854775807"], ["lolwut", "foo", "5"], ["lolwut", "versions", "5"],
                     ["lolwut", "version", "7", "abc", "\u{0}"], ["lolwut", "abc", "abc"]] {
            #expect(h.send(args) == "$17\r\nRedis ver. 7.2.4\n\r\n", "\(args)")
        }
    }

    @Test func theReplyIsAVerbatimStringInRESP3() {
        let h = Harness()
        h.send("hello", "3")
        #expect(h.send("lolwut") == "=21\r\ntxt:Redis ver. 7.2.4\n\r\n")
        let reply = h.send("lolwut", "version", "5", "1", "1", "1")
        #expect(reply == "=73\r\ntxt:⠋\n" + schotterTrailer + "\r\n")
        #expect(h.send("lolwut", "version", "6", "1", "1").hasPrefix("=149\r\ntxt:\u{1B}[0;97;107m \u{1B}[0m\nDedicated"))
    }

    /// Redis formats the version with "%u" after a cast to unsigned int: only the low 32 bits count.
    @Test func onlyTheLow32BitsOfTheVersionSelectTheDrawing() {
        let h = Harness()
        #expect(bulkText(h.send("lolwut", "version", "4294967301", "1", "1", "1")) == "⠋\n" + schotterTrailer)
        #expect(bulkText(h.send("lolwut", "version", "-4294967291", "1", "1", "1")) == "⠋\n" + schotterTrailer)
        #expect(bulkText(h.send("lolwut", "version", "4294967302", "1", "1")).hasSuffix(skylineTrailer))
    }

    // MARK: Argument errors

    @Test func malformedIntegersAreRejectedWherever5And6ReadThem() {
        let h = Harness()
        for bad in ["\u{0}", "abc", " 5", "5 ", "+5", "05", "-0", "5.0", "1e3", "0x5", "", "99999999999999999999"] {
            for args in [["lolwut", "version", bad], ["lolwut", "version", "5", bad],
                         ["lolwut", "version", "5", "10", bad], ["lolwut", "version", "5", "10", "2", bad],
                         ["lolwut", "version", "5", bad, "zz", "zz"], ["lolwut", "version", "6", bad],
                         ["lolwut", "version", "6", "10", bad]] {
                #expect(h.send(args) == notInteger, "\(args)")
            }
            // Past the arguments a version reads, anything goes.
            #expect(h.send("lolwut", "version", "5", "1", "1", "1", bad).hasPrefix("$69\r\n"), "\(bad)")
            #expect(h.send("lolwut", "version", "6", "1", "1", bad).hasPrefix("$145\r\n"), "\(bad)")
        }
    }

    // MARK: Clamping and shape

    @Test func schotterSizeFollowsTheArguments() {
        let h = Harness()
        // Defaults: 66 columns; 8x12 squares of (132-4)/8 = 16 pixels, 16*12+4 = 196 pixel rows.
        let lines = drawingLines(bulkText(h.send("lolwut", "version", "5")), trailer: schotterTrailer)
        #expect(lines.count == 49 + 1)  // the last line ends with a line break before the trailer
        #expect(lines.dropLast().allSatisfy { $0.unicodeScalars.count == 66 })
        #expect(lines.last == "")
        // 30 columns, 4x200 squares: (60-4)/4 = 14 pixels, 2804 pixel rows = 701 lines.
        let tall = drawingLines(bulkText(h.send("lolwut", "version", "5", "30", "4", "200")), trailer: schotterTrailer)
        #expect(tall.count == 701 + 1)
        #expect(tall.dropLast().allSatisfy { $0.unicodeScalars.count == 30 })
    }

    /// A drawing whose last text line starts on the last pixel row gets no line break after it
    /// (4 columns, 3x1 squares: 1.33-pixel squares, 5 pixel rows).
    @Test func schotterOmitsTheLineBreakWhenTheLastLineStartsOnTheLastPixelRow() {
        let h = Harness()
        #expect(bulkText(h.send("lolwut", "version", "5", "4", "3", "1")) == "⢰⣲⣶⡆\n⠀⠀⠀⠀" + schotterTrailer)
    }

    @Test func schotterClampsHugeAndNonPositiveSizes() {
        let h = Harness()
        let one = bulkText(h.send("lolwut", "version", "5", "1", "1", "1"))
        #expect(one == "⠋\n" + schotterTrailer)
        #expect(bulkText(h.send("lolwut", "version", "5", "0", "0", "0")) == one)
        #expect(bulkText(h.send("lolwut", "version", "5", "-9223372036854775808", "-5", "-5")) == one)
        // At most 1000 columns: 2000x2000 pixels for one square, 500 lines.
        let wide = drawingLines(bulkText(h.send("lolwut", "version", "5", "9223372036854775807", "1", "1")),
                                trailer: schotterTrailer)
        #expect(wide.count == 500 + 1)
        #expect(wide.dropLast().allSatisfy { $0.unicodeScalars.count == 1000 })
        // At most 200 squares per row (one row of squares has no randomness).
        #expect(bulkText(h.send("lolwut", "version", "5", "50", "99999", "1"))
            == bulkText(h.send("lolwut", "version", "5", "50", "200", "1")))
        // At most 200 per column: 1 column of 2-pixel squares, 400 pixel rows.
        let deep = drawingLines(bulkText(h.send("lolwut", "version", "5", "1", "1", "99999")), trailer: schotterTrailer)
        #expect(deep.count == 100 + 1)
    }

    @Test func skylineSizeFollowsTheArgumentsAndIsClamped() {
        let h = Harness()
        for (args, columns, rows) in [([String](), 80, 20), (["33"], 33, 20), (["7", "9"], 7, 9), (["0", "-4"], 1, 1),
                                      (["99999", "1"], 1000, 1), (["2", "9223372036854775807"], 2, 1000)] {
            let text = bulkText(h.send(["lolwut", "version", "6"] + args))
            let lines = drawingLines(text, trailer: skylineTrailer)
            #expect(lines.count == rows, "\(args)")
            #expect(lines.allSatisfy { skylineCells($0) == columns }, "\(args)")
        }
    }

    // MARK: Determinism: what Redis draws the same in every process

    /// Schotter only shakes squares from the third row on: with at most two rows the drawing is
    /// fixed (redis-server 7.0.15's output, version line aside).
    @Test func schotterWithTwoRowsIsFixed() {
        let h = Harness()
        let expected = "⢰⠒⠒⠒⣶⠒⠒⠒⡆\n⢸⠀⠀⠀⣿⠀⠀⠀⡇\n⢸⠛⠛⠛⣿⠛⠛⠛⡇\n⢸⠀⠀⠀⣿⠀⠀⠀⡇\n⠈⠉⠉⠉⠉⠉⠉⠉⠁\n" + schotterTrailer
        #expect(bulkText(h.send("lolwut", "version", "5", "9", "2", "2")) == expected)
        #expect(bulkText(h.send("lolwut", "version", "5", "9", "2", "2", "extra")) == expected)
    }

    /// With more rows, the top lines stay out of reach of the shaken squares (20 columns, 4x4
    /// squares of 9 pixels: row 2 reaches up to about pixel row 16, text line 4).
    @Test func schotterTopRowsMatchRedisInEveryProcess() {
        let h = Harness()
        let top = ["⠀⡤⠤⠤⠤⣤⠤⠤⠤⢤⡤⠤⠤⠤⣤⠤⠤⠤⢤⠀", "⠀⡇⠀⠀⠀⣿⠀⠀⠀⢸⡇⠀⠀⠀⣿⠀⠀⠀⢸⠀", "⠀⣧⣤⣤⣤⣿⣤⣤⣤⣼⣧⣤⣤⣤⣿⣤⣤⣤⣼⠀",
                   "⠀⡇⠀⠀⠀⣿⠀⠀⠀⢸⡇⠀⠀⠀⣿⠀⠀⠀⢸⠀"]
        for _ in 0..<3 {
            let lines = drawingLines(bulkText(h.send("lolwut", "version", "5", "20", "4", "4")), trailer: schotterTrailer)
            #expect(lines.count == 11)
            #expect(lines.prefix(4).map(String.init) == top)
        }
    }

    /// One row is too low for any building: just sky.
    @Test func aOneRowSkylineIsAllSky() {
        let h = Harness()
        let sky = String(repeating: "\u{1B}[0;97;107m \u{1B}[0m", count: 12)
        #expect(bulkText(h.send("lolwut", "version", "6", "12", "1")) == sky + skylineTrailer)
    }

    // MARK: Byte-identical to Redis given the same rand() state

    @Test func libcRandomIsGlibcRand() {
        var one = Lolwut.LibcRandom(seed: 1)
        #expect((0..<5).map { _ in one.next() } == [1804289383, 846930886, 1681692777, 1714636915, 1957747793])
        var zero = Lolwut.LibcRandom(seed: 0)  // glibc treats 0 as 1
        #expect((0..<5).map { _ in zero.next() } == [1804289383, 846930886, 1681692777, 1714636915, 1957747793])
        var other = Lolwut.LibcRandom(seed: 20240601)
        #expect((0..<5).map { _ in other.next() } == [488481743, 762492907, 1983212062, 1430794877, 694553925])
        var negative = Lolwut.LibcRandom(seed: 3000000000)  // a negative int32_t seed inside glibc
        #expect((0..<5).map { _ in negative.next() } == [2058147116, 854483408, 922419988, 286396165, 2068523933])
        var top = Lolwut.LibcRandom(seed: UInt32.max)
        #expect((0..<5).map { _ in top.next() } == [254925627, 1205188300, 366127624, 1401405153, 76053476])
    }

    /// redis-server 7.0.15 with rand() left unseeded (glibc's default state, seed 1) answered
    /// `LOLWUT VERSION 5 20 4 4`, then `VERSION 6 20 8`, then `VERSION 5`, then `VERSION 6` with these
    /// (version line rewritten to 7.2.4). The generator is shared, so the order matters.
    @Test func drawingsFromSeed1AreRedisOutputByteForByte() {
        var random = Lolwut.LibcRandom(seed: 1)
        let schotter = Lolwut.Schotter(columns: 20, squaresPerRow: 4, squaresPerColumn: 4, random: &random)
        #expect(schotter.text(version: "7.2.4") == """
            ⠀⡤⠤⠤⠤⣤⠤⠤⠤⢤⡤⠤⠤⠤⣤⠤⠤⠤⢤⠀
            ⠀⡇⠀⠀⠀⣿⠀⠀⠀⢸⡇⠀⠀⠀⣿⠀⠀⠀⢸⠀
            ⠀⣧⣤⣤⣤⣿⣤⣤⣤⣼⣧⣤⣤⣤⣿⣤⣤⣤⣼⠀
            ⠀⡇⠀⠀⠀⣿⠀⠀⠀⢸⡇⠀⠀⠀⣿⠀⠀⠀⢸⠀
            ⠀⣟⣒⣤⣀⣿⣠⣄⣀⣸⣇⣀⣀⣀⣿⣀⣤⣤⣼⠀
            ⡜⠀⠀⠀⢀⠏⡎⠀⠀⢨⡝⠒⠊⢹⡄⠀⠀⠀⢇⠀
            ⢑⣢⣄⣀⠎⣰⠥⣒⣄⢨⡇⣀⠀⠀⣧⠀⢀⣀⣸⠀
            ⢸⠀⠀⠹⡉⡇⠀⠀⡼⡟⠹⠬⢖⠒⠉⢉⠏⠒⠒⠤
            ⡇⠀⠀⠀⢱⡁⠀⢀⡸⡜⠀⢀⡨⠆⠀⡸⠀⠀⠀⢸
            ⠉⠉⠑⠒⠚⠑⠊⠁⠀⠘⠊⠁⠀⠀⠀⠉⠑⠒⠢⠇

            """ + schotterTrailer)

        let skyline = Lolwut.Skyline(columns: 20, rows: 8, random: &random)
        let grays = ["33333333333333333333", "33333333333333332222", "22223332222222222222", "22222222222222222222",
                     "12222222222111111100", "12222222211111111100", "00000000001111111100", "00000000000011111100"]
        #expect(skyline.pixels == grays.flatMap { $0.utf8.map { $0 - UInt8(ascii: "0") } })
        let text = skyline.text(version: "7.2.4")
        #expect(text.hasPrefix("\u{1B}[0;97;107m \u{1B}[0m\u{1B}[0;97;107m"))
        #expect(text.hasSuffix("\u{1B}[0;30;40m \u{1B}[0m" + skylineTrailer))

        let defaultSchotter = Lolwut.Schotter(columns: 66, squaresPerRow: 8, squaresPerColumn: 12, random: &random)
        let schotterText = Array(defaultSchotter.text(version: "7.2.4").utf8)
        #expect(schotterText.count == 9816)
        #expect(hex(SHA1.hash(schotterText)) == "be2ca54670177e72d7a47c9986ad110b79004c65")

        let defaultSkyline = Lolwut.Skyline(columns: 80, rows: 20, random: &random)
        let skylineText = Array(defaultSkyline.text(version: "7.2.4").utf8)
        #expect(skylineText.count == 24874)
        #expect(hex(SHA1.hash(skylineText)) == "d2f8221ed62424a39c2b55e3f9aa9f1144fc7044")
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
