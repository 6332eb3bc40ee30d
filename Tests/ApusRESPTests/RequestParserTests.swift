import Testing
import Foundation
@testable import ApusRESP

/// What one `parse` call produced, with arguments copied out of the transient views.
private enum Parsed: Equatable {
    case command([[UInt8]], inline: Bool)
    case error(String)
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Plays a connection: appends each chunk to a read buffer (a fresh array each time, so the
/// buffer moves and partial progress must survive rebasing), then parses every complete
/// command and drops the consumed bytes. Stops after a protocol error, as the server closes.
/// A reused parser is reset first, as for a new connection.
private func feed(_ chunks: [[UInt8]], parser: RequestParser = RequestParser()) -> [Parsed] {
    parser.reset()  // a new connection
    var buffer: [UInt8] = []
    var results: [Parsed] = []
    for chunk in chunks {
        buffer = buffer + chunk
        while true {
            let outcome = buffer.withUnsafeBytes { parser.parse($0) }
            switch outcome {
            case .command(let consumed):
                let args = (0..<parser.arguments.count).map { Array(parser.arguments[$0]) }
                if !args.isEmpty { results.append(.command(args, inline: parser.lastWasInline)) }
                buffer.removeFirst(consumed)
            case .incomplete:
                break
            case .protocolError(let message):
                results.append(.error(message))
                return results
            }
            if case .incomplete = outcome { break }
        }
    }
    return results
}

private func feed(_ text: String, parser: RequestParser = RequestParser()) -> [Parsed] {
    feed([bytes(text)], parser: parser)
}

private func multibulk(_ args: [[UInt8]]) -> [UInt8] {
    var out = bytes("*\(args.count)\r\n")
    for arg in args { out += bytes("$\(arg.count)\r\n") + arg + bytes("\r\n") }
    return out
}

private func command(_ args: String..., inline: Bool = false) -> Parsed {
    .command(args.map(bytes), inline: inline)
}

@Suite struct RequestParserTests {
    // MARK: Multibulk

    @Test func parsesOneMultibulkCommandAsViewsIntoTheInput() {
        let parser = RequestParser()
        let input = bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        input.withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .command(consumed: raw.count))
            #expect(parser.arguments.count == 3)
            #expect(!parser.lastWasInline)
            // Multibulk arguments point into the caller's buffer: no copy.
            #expect(parser.arguments[1].baseAddress == raw.baseAddress! + 17)
            #expect(Array(parser.arguments[2]) == bytes("value"))
        }
    }

    @Test func reportsOnlyTheFirstOfPipelinedCommands() {
        let parser = RequestParser()
        let input = bytes("*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n")
        input.withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .command(consumed: 14))
        }
    }

    @Test func binarySafeBulksKeepCRLFAndNulBytes() {
        let payload: [UInt8] = [0, 13, 10, 0xFF, 42]
        #expect(feed([multibulk([bytes("SET"), bytes("k"), payload])])
            == [.command([bytes("SET"), bytes("k"), payload], inline: false)])
    }

    @Test func emptyBulkIsAnEmptyArgument() {
        #expect(feed("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n") == [command("ECHO", "")])
    }

    @Test func zeroAndNegativeCountsAreSilentlyIgnoredCommands() {
        // Redis skips `*0`, `*-1` and even `*-5` and goes on with the next command.
        #expect(feed("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n") == [command("PING")])
        let parser = RequestParser()
        bytes("*-1\r\n").withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .command(consumed: 5))
            #expect(parser.arguments.count == 0)
        }
    }

    @Test func byteAfterCarriageReturnAndBulkTerminatorAreNotChecked() {
        // Redis skips two bytes after a header's '\r' and after a bulk without looking at them.
        #expect(feed("*1\rX$4\r\nPING\r\n") == [command("PING")])
        #expect(feed("*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n") == [command("PING"), command("PING")])
    }

    @Test func everySplitPointOfPipelinedCommandsResumes() {
        let stream = multibulk([bytes("SET"), bytes("key"), bytes("a\r\nb")])
            + bytes("PING\r\n")
            + multibulk([bytes("GET"), bytes("key")])
            + bytes("*0\r\n")
            + bytes("ECHO \"x y\"\n")
            + multibulk([bytes("DEL"), [], bytes("k2")])
        let expected: [Parsed] = [
            command("SET", "key", "a\r\nb"), command("PING", inline: true), command("GET", "key"),
            command("ECHO", "x y", inline: true), command("DEL", "", "k2"),
        ]
        #expect(feed([stream]) == expected)
        let parser = RequestParser()  // reused across runs: state must not leak
        for split in 0...stream.count {
            #expect(feed([Array(stream[..<split]), Array(stream[split...])], parser: parser) == expected,
                    "split at \(split)")
        }
        for first in stride(from: 0, through: stream.count, by: 3) {
            for second in first...stream.count {
                let chunks = [Array(stream[..<first]), Array(stream[first..<second]), Array(stream[second...])]
                #expect(feed(chunks, parser: parser) == expected, "splits at \(first), \(second)")
            }
        }
        #expect(feed(stream.map { [$0] }, parser: parser) == expected)
    }

    @Test func partialCommandSurvivesTheBufferMoving() {
        let parser = RequestParser()
        let first = bytes("*2\r\n$3\r\nGET\r\n$3\r\nke")
        first.withUnsafeBytes { #expect(parser.parse($0) == .incomplete) }
        // A different allocation holding the same bytes and more.
        let whole = [UInt8](repeating: 0, count: 7) + first + bytes("y\r\n")
        whole.withUnsafeBytes { raw in
            let moved = UnsafeRawBufferPointer(rebasing: raw[7...])
            #expect(parser.parse(moved) == .command(consumed: moved.count))
            #expect(Array(parser.arguments[0]) == bytes("GET"))
            #expect(parser.arguments[0].baseAddress == moved.baseAddress! + 8)
            #expect(Array(parser.arguments[1]) == bytes("key"))
        }
    }

    @Test func oneMegabyteBulkArrivesInChunks() {
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let stream = multibulk([bytes("SET"), bytes("big"), big]) + multibulk([bytes("PING")])
        var chunks: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let end = min(offset + 65_536 - 7, stream.count)
            chunks.append(Array(stream[offset..<end]))
            offset = end
        }
        #expect(feed(chunks) == [.command([bytes("SET"), bytes("big"), big], inline: false), command("PING")])
    }

    @Test func argumentStorageIsReusedOnceWarm() {
        let parser = RequestParser()
        let input = multibulk([bytes("MSET"), bytes("a"), bytes("1"), bytes("b"), bytes("2")])
        var storage: UnsafePointer<UnsafeRawBufferPointer>?
        for round in 0..<100 {
            input.withUnsafeBytes { raw in
                #expect(parser.parse(raw) == .command(consumed: raw.count))
                if round == 0 { storage = parser.arguments.views.baseAddress }
                #expect(parser.arguments.views.baseAddress == storage)
            }
        }
    }

    @Test func manyArgumentsGrowTheVector() {
        let args = (0..<5000).map { bytes("arg\($0)") }
        #expect(feed([multibulk(args)]) == [.command(args, inline: false)])
    }

    // MARK: Multibulk errors

    @Test func invalidMultibulkLengths() {
        for header in ["*\r\n", "*+1\r\n", "*01\r\n", "*-0\r\n", "*x\r\n", "*1x\r\n", "* 1\r\n", "*2147483648\r\n",
                       "*99999999999999999999\r\n", "*3\n$3\r\n"] {
            #expect(feed(header) == [.error("Protocol error: invalid multibulk length")], "\(header)")
        }
        // INT_MAX itself is accepted and just waits for its arguments.
        #expect(feed("*2147483647\r\n").isEmpty)
    }

    @Test func multibulkCountLimitIsConfigurable() {
        let parser = RequestParser(limits: RequestLimits(maxMultibulkCount: 3))
        #expect(feed("*4\r\n", parser: parser) == [.error("Protocol error: invalid multibulk length")])
        #expect(feed("*3\r\n", parser: parser).isEmpty)
    }

    @Test func invalidBulkLengths() {
        for header in ["$-1", "$-0", "$00", "$x", "$", "$ 3", "$3 ", "$+3", "$99999999999", "$4\nPING"] {
            #expect(feed("*1\r\n\(header)\r\n") == [.error("Protocol error: invalid bulk length")], "\(header)")
        }
    }

    @Test func bulkLengthAboveProtoMaxBulkLenIsRejected() {
        let parser = RequestParser(limits: RequestLimits(maxBulkLength: 100))
        #expect(feed("*1\r\n$100\r\n", parser: parser).isEmpty)
        #expect(feed("*1\r\n$101\r\n", parser: parser) == [.error("Protocol error: invalid bulk length")])
    }

    @Test func expectedDollarReportsTheByteFound() {
        #expect(feed("*1\r\nx4\r\n") == [.error("Protocol error: expected '$', got 'x'")])
        #expect(feed("*2\r\n$1\r\na\r\n:1\r\n") == [.error("Protocol error: expected '$', got ':'")])
        // An empty line: the '\r' itself (the reply writer turns it into a space, as Redis does).
        #expect(feed("*1\r\n\r\n") == [.error("Protocol error: expected '$', got '\r'")])
    }

    @Test func headerLinesWithoutCarriageReturnWaitUntilTheInlineLimit() {
        let small = RequestLimits(maxInlineLength: 16)
        #expect(feed("*12345678901234", parser: RequestParser(limits: small)).isEmpty)
        #expect(feed("*1234567890123456", parser: RequestParser(limits: small))
            == [.error("Protocol error: too big mbulk count string")])
        #expect(feed("*1\r\n$1234567890123", parser: RequestParser(limits: small)).isEmpty)
        #expect(feed("*1\r\n$12345678901234567", parser: RequestParser(limits: small))
            == [.error("Protocol error: too big bulk count string")])
        let endless = "*1\r\n$" + String(repeating: "1", count: 70_000)
        #expect(feed(endless) == [.error("Protocol error: too big bulk count string")])
    }

    @Test func nulByteHidesTheLineEndLikeStrchr() {
        // Redis looks for '\r' with strchr, which stops at NUL: such a header never completes.
        #expect(feed([bytes("*1") + [0] + bytes("\r\n$4\r\nPING\r\n")]).isEmpty)
        let small = RequestParser(limits: RequestLimits(maxInlineLength: 8))
        #expect(feed([bytes("*1") + [0] + bytes("\r\n$4\r\nPING\r\n")], parser: small)
            == [.error("Protocol error: too big mbulk count string")])
    }

    @Test func unauthenticatedClientsGetTighterLimits() {
        let parser = RequestParser()
        parser.authRequired = true
        #expect(feed("*10\r\n", parser: parser).isEmpty)
        #expect(feed("*11\r\n", parser: parser) == [.error("Protocol error: unauthenticated multibulk length")])
        #expect(feed("*1\r\n$16384\r\n", parser: parser).isEmpty)
        #expect(feed("*1\r\n$16385\r\n", parser: parser) == [.error("Protocol error: unauthenticated bulk length")])
        // The generic checks come first.
        #expect(feed("*2147483648\r\n", parser: parser) == [.error("Protocol error: invalid multibulk length")])
        #expect(feed("*1\r\n$-1\r\n", parser: parser) == [.error("Protocol error: invalid bulk length")])
        parser.authRequired = false
        #expect(feed("*11\r\n$16385\r\n", parser: parser).isEmpty)
    }

    @Test func resetDropsAPartialCommand() {
        let parser = RequestParser()
        bytes("*2\r\n$3\r\nGET\r\n").withUnsafeBytes { #expect(parser.parse($0) == .incomplete) }
        parser.reset()
        bytes("PING\r\n").withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .command(consumed: 6))
            #expect(parser.lastWasInline)
            #expect(parser.arguments.count == 1)
        }
    }

    @Test func emptyInputIsIncomplete() {
        let parser = RequestParser()
        [UInt8]().withUnsafeBytes { #expect(parser.parse($0) == .incomplete) }
    }

    // MARK: Inline

    @Test func inlineCommandsSplitOnBlanks() {
        #expect(feed("SET key value\r\n") == [command("SET", "key", "value", inline: true)])
        #expect(feed("  GET\t key  \r\n") == [command("GET", "key", inline: true)])
        // A lone '\n' ends a line too, and a '\r' mid-line separates arguments.
        #expect(feed("PING\nECHO a\rb\r\n") == [command("PING", inline: true), command("ECHO", "a", "b", inline: true)])
    }

    @Test func emptyInlineLinesAreSilentlySkipped() {
        #expect(feed("\r\n\n   \r\nPING\r\n") == [command("PING", inline: true)])
        let parser = RequestParser()
        bytes("\n").withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .command(consumed: 1))
            #expect(parser.arguments.count == 0)
            #expect(parser.lastWasInline)
        }
    }

    @Test func inlineQuotingAndEscapes() {
        #expect(feed("ECHO \"a\\x41\\n\\r\\t\\b\\a\\q\\\\\\\"\"\r\n")
            == [.command([bytes("ECHO"), bytes("aA\n\r\t") + [8, 7] + bytes("q\\\"")], inline: true)])
        #expect(feed("ECHO 'it\\'s' 'a\\nb'\r\n") == [command("ECHO", "it's", "a\\nb", inline: true)])
        #expect(feed("SET \"\" ''\r\n") == [command("SET", "", "", inline: true)])
        // Quotes may open mid-argument, and "\x" without two hex digits is a plain escape.
        #expect(feed("ECHO a\"b c\"d\r\n") == [.error("Protocol error: unbalanced quotes in request")])
        #expect(feed("ECHO a\"b c\" d\r\n") == [command("ECHO", "ab c", "d", inline: true)])
        #expect(feed("ECHO \"\\x4g\" \"\\xFf\"\r\n")
            == [.command([bytes("ECHO"), bytes("x4g"), [0xFF]], inline: true)])
    }

    @Test func inlineBlankRulesFollowSdssplitargs() {
        // '\v' and '\f' separate arguments only where blanks are skipped, not inside one.
        #expect(feed("ECHO a\u{0B}b\r\n") == [command("ECHO", "a\u{0B}b", inline: true)])
        #expect(feed("ECHO \u{0B}a\r\n") == [command("ECHO", "a", inline: true)])
        // After a closing quote '\v' counts as a blank.
        #expect(feed("ECHO \"a\"\u{0B}b\r\n") == [command("ECHO", "a", "b", inline: true)])
    }

    @Test func unbalancedQuotes() {
        for line in ["ECHO \"a", "ECHO 'a", "ECHO \"a\"b", "ECHO 'a'b", "ECHO \"a\\", "\""] {
            #expect(feed(line + "\r\n") == [.error("Protocol error: unbalanced quotes in request")], "\(line)")
        }
    }

    @Test func inlineArgumentsAreCopiedIntoScratch() {
        let parser = RequestParser()
        bytes("ECHO hello\r\n").withUnsafeBytes { raw in
            #expect(parser.parse(raw) == .command(consumed: 12))
            let view = parser.arguments[1]
            #expect(Array(view) == bytes("hello"))
            #expect(!(raw.baseAddress!..<raw.baseAddress! + raw.count).contains(view.baseAddress!))
        }
    }

    @Test func tooBigInlineRequest() {
        let limit = 64 << 10
        #expect(feed(String(repeating: "a", count: limit)).isEmpty)
        #expect(feed(String(repeating: "a", count: limit + 1)) == [.error("Protocol error: too big inline request")])
        // Only a missing newline is limited: a long line that arrives whole is accepted.
        let long = String(repeating: "b", count: limit * 2)
        #expect(feed("ECHO \(long)\r\n") == [command("ECHO", long, inline: true)])
        // A NUL hides the newline from strchr, so the line waits for the limit.
        #expect(feed([bytes("PI") + [0] + bytes("NG\r\n")]).isEmpty)
        #expect(feed([bytes("PI") + [0] + bytes("NG\r\n")], parser: RequestParser(limits: RequestLimits(maxInlineLength: 4)))
            == [.error("Protocol error: too big inline request")])
    }

    // MARK: Differential

    /// Streams recorded from redis-server 7.0.15 (random ECHO/PING requests, inline and
    /// multibulk, some mutated, each sent on a fresh connection; 8,000 agreed in all).
    @Test func agreesWithRedisOnRecordedStreams() {
        for line in Self.redisStreams { checkRecordedStream(line) }
    }

    /// The same check over a whole recorded corpus named by `APUS_PROTOCOL_CORPUS`.
    @Test func agreesWithRedisOnCorpusFileWhenAvailable() {
        guard let path = ProcessInfo.processInfo.environment["APUS_PROTOCOL_CORPUS"],
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") { checkRecordedStream(line) }
    }

    /// A line is the hex of the bytes sent, then Redis's replies as tokens: `E:<hex>` for a
    /// bulk, `PONG`, `P:<hex>` for a protocol error's message, `OTHER` for any other error
    /// (`-` when there were none).
    private func checkRecordedStream(_ line: Substring) {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        func unhex(_ s: Substring) -> [UInt8] {
            if s == "-" { return [] }
            var out: [UInt8] = [], i = s.startIndex
            while i < s.endIndex { let j = s.index(i, offsetBy: 2); out.append(UInt8(s[i..<j], radix: 16)!); i = j }
            return out
        }
        let fields = line.split(separator: " ")
        let expected = fields[1] == "-" ? [] : fields[1].split(separator: ",").map(String.init)
        let predicted = feed([unhex(fields[0])]).map { parsed -> String in
            switch parsed {
            case .command(let args, _):
                let name = String(decoding: args[0], as: UTF8.self).lowercased()
                if name == "echo" && args.count == 2 { return "E:" + hex(args[1]) }
                if name == "ping" && args.count == 1 { return "PONG" }
                if name == "ping" && args.count == 2 { return "E:" + hex(args[1]) }
                return "OTHER"
            case .error(let message):
                // On the wire CR/LF become spaces, and Redis prints the offending byte raw.
                let wire = message.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? 0x20 : UInt8(truncatingIfNeeded: $0.value) }
                return "P:" + hex(wire)
            }
        }
        #expect(predicted == expected, "\(fields[0])")
    }

    static let redisStreams: [Substring] = [
        "2a310d0a24340d0a50494e470d0a2a320d0a2434620a6563686f0d0a24330d0a24240a0d0a0d0a6563686f20200a PONG,P:50726f746f636f6c206572726f723a20696e76616c69642062756c6b206c656e677468",
        "2a2d300d582430340d0a50494e470d0a2a310d0a24340d0a50494e470d0a6563686f2020300d0a2a2d310d0a2a310d0a24340d0a50494e470d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a2d370d0a204543484f090d0d0a2a2b310a2430340d0a50494e472a320d0a24340d0a6563686f0d0a24330d0a226627620a4543484f200a OTHER,P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a320d0a24340d0a6563686f0d0a24300d0a0d0a2a320a242d310d0a50494e470d0a2a320d0a24340d0a6563686f0d0a24320d0a0d6e0d0a E:,P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "6563206f20200a0a204543484f0966222420240b0a204543484f09270900340a OTHER,P:50726f746f636f6c206572726f723a20756e62616c616e6365642071756f74657320696e2072657175657374",
        "2a310d24340d0a50244e470d0a2a2d300d58242d310d0a494e470d0a P:50726f746f636f6c206572726f723a206578706563746564202724272c20676f7420273427",
        "2a320d0a24340d0a45484f0d0a24350d0a610a3000310d0a6563686f20200b00090d0a P:50726f746f636f6c206572726f723a206578706563746564202724272c20676f7420273527",
        "4543484f202d30220b0a24660d0a2a320d0a24340d0a4543484f0d0a24310d0a780d0a6563686f2020e924300a P:50726f746f636f6c206572726f723a20756e62616c616e6365642071756f74657320696e2072657175657374",
        "2a0d58242d310d0a50494e4758592a30310a24340d0a50494e470d0a2a320d0a24340d0a4543484f0d0a24320d0a6e310d0a2a320d0a24340d0a6563686f0d0a24350d0ae90d22202d0d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a320d5824340d0a50494e472a2d300d0a242d310d0a50494e4758592a320d0a24340d0a6563686f0d0a24300d0a0d0a P:50726f746f636f6c206572726f723a206578706563746564202724272c20676f7420273027",
        "2a2b310d0a2430340d0a50494e470a0d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a2b310d5824780d0a50494e47 P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a2b310d0a2430340d0a50494e4758596563686f20202a22610d0a2a2d370d0a2a310d0a24340d0a504e470d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a320d582a2d310d0a50494e470d0a2a780d5824340d0a50494e4758594543484f200b09620d66620d0a50494e47340a0d0a P:50726f746f636f6c206572726f723a206578706563746564202724272c20676f7420272a27",
        "2a780a2430340d0a50494e470d0a2a2d370d0a2a320d0a2430340d0a50494e470d0a2a2b310d58242d310d0a50494e475859320d0a24340d0a4543484f0d0a24310d0a780d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "4543484f20782a20612d0a2a320d0a24340d0a4543484f0d0a24320d0a62090d0a2a0d5824780d0a50494e4758592a780d0a24780d0a50494e472a30310d5824780d0a50494e470d0a OTHER,E:6209,P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a320a2430340d0a50494e470d0a2a310d0a24340d0a50494e470d0a2a300d0a2a30310a24780d0a50494e470d0a2a200d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a310d0a24780d0a50490d472a0d0a24340d0a50494e472a310d58240d0a50494e4758592a30310d0a24780d0a50494e4758592a320d0a24340d0a4543484f0d0a24310d0a200d0a P:50726f746f636f6c206572726f723a20696e76616c69642062756c6b206c656e677468",
        "2a2d370d0a2a0d0a2430310d0a50494e472a2d300d0a2430340d0a50494e470d0a204543484f09096678e92d0b5c0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a0d0a24330d0a50494e476563686f20207830610d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a310a24780d0a505c472a320d0a240d0a45432d4f0d0a24360d0a623027340d310d0a2a320d0a24340d0a6563686f0d0a24320d0a612a0d0a P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a30310d58242d310d0a50494e47 P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a310d0a24340d0a50494e470d0a2a310d0a24340d0a50494e470d0a2a780d0a24340d0a50494e47 PONG,PONG,P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a320d5824330d0a50494e470d0a2a310d0a24340d0a50494e470d0a2a0a24340d0a50494e47 P:50726f746f636f6c206572726f723a206578706563746564202724272c20676f7420272027",
        "2a320d0a24340d0a6563686f0d0a24320d0a272a0d0a0d0a204543484f092a22780a2a320d0a24340d0a4543484f0d0a24360d0a6124203024660d0a50490a47e900663434620b0d0a E:272a,P:50726f746f636f6c206572726f723a20756e62616c616e6365642071756f74657320696e2072657175657374",
        "4543274f200a620a270b0a2a320d0a24340d0a6563686f0d0a24320d0a34340d0a6563626f2020305c662a002a31300a P:50726f746f636f6c206572726f723a20756e62616c616e6365642071756f74657320696e2072657175657374",
        "2a320d0a24340d226563686f0d0a24330d0a2d66240d0a2a2b310a2430340d0a50494e476563682720202a5c343062660a E:2d6624,P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "6563686f20206e225c0d0a2a320d0a24340d0a4543484f0d0a24320d0a24340d0a4543484f2009612d0a220d0a50494e4778786e0a2a320d0a24340d0a6563686f0d0a24300d0a0d0a P:50726f746f636f6c206572726f723a20756e62616c616e6365642071756f74657320696e2072657175657374",
        "50494e470a6563686f2020092d0a2a30310d58242d310d0a50494e470d0a2a310d0a24340d0a5049470d0a PONG,E:2d,P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a2b310d0a24330d0a50494e47 P:50726f746f636f6c206572726f723a20696e76616c6964206d756c746962756c6b206c656e677468",
        "2a320d0a24340d0a4543484f0d0a24360d0a0b34310978e90d0a E:0b34310978e9",
        "2a2d310d0a204543484f09342a242a0d0a2a320d0a24340d0a4543484f0d0a24360d0a5c3424660a780d0a E:342a242a,E:5c3424660a78",
        "50494e470d0a2a320d0a24340d0a4543484f0d0a24300d0a0d0a PONG,E:",
        "2a2d310d0a2a320d0a24340d0a4543484f0d0a24310d0ae90d0a2a320d0a24340d0a6563686f0d0a24350d0a0d785c0a660d0a50494e476e0d0a204543484f09e90d0a E:e9,E:0d785c0a66,OTHER,E:e9",
        "204543484f092d34610a50494e47340d0b0de934620d0a4543484f20096e78203100340d0a2a320d0a24340d0a6563686f0d0a24340d0a660078090d0a2a320d0a24340d0a4543484f0d0a24310d0a6e0d0a E:2d3461,OTHER",
        "2a310d0a24340d0a50494e470d0a2a320d0a24340d0a4543484f0d0a24340d0a2a0061200d0a50494e47300d0a0d0a PONG,E:2a006120,OTHER",
        "2a320d0a24340d0a4543484f0d0a24330d0a6e34000d0a2a320d0a24340d0a6563686f0d0a24330d0a34610d0d0a E:6e3400,E:34610d",
        "2a320d0a24340d0a6563686f0d0a24310d0a0b0d0a2a320d0a24340d0a6563686f0d0a24300d0a0d0a E:0b,E:",
        "43484f2061e90d0a4543484f202d0b5c0b78310d0a2a320d0a24340d0a6563686f0d0a24300d0a0d0a OTHER,E:2d0b5c0b7831,E:",
        "2a2d370d0a2a320d0a24340d0a6563686f0d0a24300d0a0d0a2a320d0a24340d0a6563686f0d0a24350d0a22200d61240d0a E:,E:22200d6124",
    ]
}
