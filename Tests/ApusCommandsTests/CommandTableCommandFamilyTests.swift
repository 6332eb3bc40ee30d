import ApusCommands
import ApusRESP
import Testing

/// The COMMAND family's replies, byte for byte where Redis 7.2's shape is fixed (golden replies
/// checked against a real redis-server where 7.0 and 7.2 agree).
@Suite struct CommandTableCommandFamilyTests {
    /// A parsed reply, enough to check shapes.
    indirect enum Reply: Equatable {
        case status(String)
        case error(String)
        case integer(Int)
        case bulk(String)
        case null
        case array([Reply])
        case set([Reply])
        case map([(Reply, Reply)])

        static func == (a: Reply, b: Reply) -> Bool { "\(a)" == "\(b)" }

        static func parse(_ text: String) -> Reply {
            var bytes = Array(text.utf8)[...]
            return parse(&bytes)
        }

        private static func parse(_ bytes: inout ArraySlice<UInt8>) -> Reply {
            let type = bytes.removeFirst()
            let end = bytes.firstIndex(of: 0x0D)!
            let line = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
            bytes = bytes[(end + 2)...]
            switch type {
            case UInt8(ascii: "+"): return .status(line)
            case UInt8(ascii: "-"): return .error(line)
            case UInt8(ascii: ":"): return .integer(Int(line)!)
            case UInt8(ascii: "_"): return .null
            case UInt8(ascii: "$"):
                let n = Int(line)!
                if n < 0 { return .null }
                let value = String(decoding: bytes.prefix(n), as: UTF8.self)
                bytes = bytes.dropFirst(n + 2)
                return .bulk(value)
            case UInt8(ascii: "*"), UInt8(ascii: "~"):
                let n = Int(line)!
                if n < 0 { return .null }
                let items = (0..<n).map { _ in parse(&bytes) }
                return type == UInt8(ascii: "*") ? .array(items) : .set(items)
            case UInt8(ascii: "%"):
                return .map((0..<Int(line)!).map { _ in (parse(&bytes), parse(&bytes)) })
            default:
                fatalError("unexpected reply type \(type)")
            }
        }

        var items: [Reply] {
            switch self {
            case .array(let items), .set(let items): return items
            case .map(let pairs): return pairs.flatMap { [$0.0, $0.1] }
            default: return []
            }
        }

        /// The value of `key` in a map reply.
        subscript(key: String) -> Reply? {
            guard case .map(let pairs) = self else { return nil }
            return pairs.first { $0.0.text == key }?.1
        }

        /// The keys of a map reply.
        var keys: [String] {
            guard case .map(let pairs) = self else { return [] }
            return pairs.map { $0.0.text ?? "" }
        }

        var text: String? {
            switch self {
            case .bulk(let s), .status(let s), .error(let s): return s
            default: return nil
            }
        }
    }

    let h: Harness

    init() throws { h = try Harness() }

    // MARK: COMMAND INFO

    static let getInfoRESP2 = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
    static let getInfoRESP3 = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"

    @Test func infoOfGetMatchesRedisInBothProtocols() {
        #expect(h.send("COMMAND", "INFO", "get") == Self.getInfoRESP2)
        #expect(h.send("COMMAND", "INFO", "GET") == Self.getInfoRESP2)
        h.client.resp = .resp3
        #expect(h.send("COMMAND", "INFO", "get") == Self.getInfoRESP3)
    }

    @Test func infoHidesInternalFlagsAndOrdersCategoriesLikeRedis() {
        let getkeys = Reply.parse(h.send("COMMAND", "INFO", "command|getkeys")).items[0].items
        #expect(getkeys[0] == .bulk("command|getkeys"))
        #expect(getkeys[1] == .integer(-3))
        // SENTINEL is declared but hidden.
        #expect(getkeys[2] == .array([.status("loading"), .status("stale")]))
        #expect(Array(getkeys[3...5]) == [.integer(0), .integer(0), .integer(0)])
        #expect(getkeys[6] == .array([.status("@slow"), .status("@connection")]))
        let info = Reply.parse(h.send("COMMAND", "INFO", "command|info")).items[0].items
        #expect(info[7] == .array([.bulk("nondeterministic_output_order")]))
    }

    @Test func infoOfUnknownOrMalformedNamesIsNull() {
        #expect(h.send("COMMAND", "INFO", "nosuch") == "*1\r\n$-1\r\n")
        let reply = Reply.parse(h.send("COMMAND", "INFO", "command|count", "COMMAND|COUNT", "command|", "get|x",
                                       "command|count|x", "|count", ""))
        #expect(reply.items.count == 7)
        #expect(reply.items[0].items.first == .bulk("command|count"))
        #expect(reply.items[1].items.first == .bulk("command|count"))
        #expect(Array(reply.items[2...]) == [.null, .null, .null, .null, .null])
        h.client.resp = .resp3
        #expect(h.send("COMMAND", "INFO", "nosuch") == "*1\r\n_\r\n")
    }

    @Test func unregisteredCommandsAreAbsent() {
        // Sentinel-only commands are never registered outside sentinel mode; take any other
        // unregistered command too, as long as there is one.
        var absent = ["sentinel"]
        if let other = h.server.commands.all.first(where: { $0.parent == nil && !$0.isRegistered && $0.spec.name != "sentinel" }) {
            absent.append(other.spec.name)
        }
        for name in absent {
            #expect(h.send("COMMAND", "INFO", name) == "*1\r\n$-1\r\n", "\(name)")
            #expect(h.send("COMMAND", "DOCS", name) == "*0\r\n", "\(name)")
            #expect(h.send("COMMAND", "GETKEYS", name, "x") == "-ERR Invalid command specified\r\n", "\(name)")
            #expect(!Reply.parse(h.send("COMMAND", "LIST")).items.contains(.bulk(name)), "\(name)")
        }
    }

    @Test func countAndCommandCoverExactlyTheRegisteredCommands() {
        let registered = h.server.commands.registeredCommands.map(\.spec.fullName)
        #expect(h.send("COMMAND", "COUNT") == ":\(registered.count)\r\n")
        let all = Reply.parse(h.send("COMMAND")).items
        #expect(all.map { $0.items.first?.text ?? "" } == registered)
        #expect(Reply.parse(h.send("COMMAND", "INFO")).items.count == registered.count)
        #expect(registered.contains("command"))
    }

    @Test func infoOfAContainerListsItsRegisteredSubcommands() {
        let command = Reply.parse(h.send("COMMAND", "INFO", "command")).items[0].items
        #expect(command[0] == .bulk("command"))
        #expect(command[1] == .integer(-1))
        let subcommands = command[9].items.map { $0.items.first?.text ?? "" }
        #expect(subcommands == ["command|count", "command|docs", "command|getkeys", "command|getkeysandflags",
                                "command|help", "command|info", "command|list"])
        // A command without subcommands ends with an empty set, a container with an array.
        h.client.resp = .resp3
        #expect(h.send("COMMAND", "INFO", "command|count").hasSuffix("~0\r\n"))
        #expect(h.send("COMMAND", "INFO", "command").contains("\r\n*7\r\n*10\r\n$13\r\ncommand|count\r\n"))
    }

    // MARK: COMMAND DOCS

    static let getDocsRESP2 = "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
    static let getDocsRESP3 = "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$34\r\nReturns the string value of a key.\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$12\r\ndisplay_text\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"

    @Test func docsOfGetMatchesRedis72InBothProtocols() {
        #expect(h.send("COMMAND", "DOCS", "get") == Self.getDocsRESP2)
        #expect(h.send("COMMAND", "DOCS", "nosuch", "get") == Self.getDocsRESP2)
        #expect(h.send("COMMAND", "DOCS", "nosuch") == "*0\r\n")
        h.client.resp = .resp3
        #expect(h.send("COMMAND", "DOCS", "get") == Self.getDocsRESP3)
        #expect(h.send("COMMAND", "DOCS", "nosuch") == "%0\r\n")
    }

    @Test func docsDescribeArgumentTreesHistoryAndSubcommands() throws {
        h.client.resp = .resp3
        let docs = try #require(Reply.parse(h.send("COMMAND", "DOCS", "command"))["command"])
        #expect(docs.keys == ["summary", "since", "group", "complexity", "subcommands"])
        let subcommands = try #require(docs["subcommands"])
        #expect(subcommands.keys.contains("command|list"))
        let list = try #require(subcommands["command|list"])
        // FILTERBY is a oneof: no display_text, a token, flags, and its alternatives.
        let filterBy = try #require(list["arguments"]?.items.first)
        #expect(filterBy.keys == ["name", "type", "token", "flags", "arguments"])
        #expect(filterBy["flags"] == .set([.status("optional")]))
        #expect(filterBy["arguments"]?.items.count == 3)
        #expect(filterBy["arguments"]?.items.first?.keys == ["name", "type", "display_text", "token"])
        let history = try #require(subcommands["command|info"]?["history"])
        #expect(history == .set([.array([.bulk("7.0.0"), .bulk("Allowed to be called with no argument to get info on all commands.")])]))
    }

    // MARK: COMMAND LIST

    @Test func listNamesCommandsThenTheirSubcommandsWithFilters() {
        let all = Reply.parse(h.send("COMMAND", "LIST")).items.compactMap(\.text)
        #expect(all.contains("get"))
        #expect(all.firstIndex(of: "command")! + 1 == all.firstIndex(of: "command|count")!)
        #expect(Set(all).count == all.count)
        #expect(h.send("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND*") ==
            "*8\r\n$7\r\ncommand\r\n$13\r\ncommand|count\r\n$12\r\ncommand|docs\r\n$15\r\ncommand|getkeys\r\n$23\r\ncommand|getkeysandflags\r\n$12\r\ncommand|help\r\n$12\r\ncommand|info\r\n$12\r\ncommand|list\r\n")
        let connection = Reply.parse(h.send("COMMAND", "LIST", "FILTERBY", "ACLCAT", "Connection")).items.compactMap(\.text)
        #expect(connection.contains("command|info"))
        #expect(!connection.contains("get"))
        #expect(h.send("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == "*0\r\n")
        #expect(h.send("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == "*0\r\n")
        #expect(h.send("COMMAND", "LIST", "FILTERBY", "bogus", "x") == "-ERR syntax error\r\n")
        #expect(h.send("COMMAND", "LIST", "FILTERBY", "PATTERN") == "-ERR syntax error\r\n")
        #expect(h.send("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "FILTERBY", "PATTERN", "b") == "-ERR syntax error\r\n")
    }

    // MARK: COMMAND GETKEYS / GETKEYSANDFLAGS

    @Test func getKeysRepliesTheKeyArguments() {
        #expect(h.send("COMMAND", "GETKEYS", "GET", "k") == "*1\r\n$1\r\nk\r\n")
        #expect(h.send("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2") == "*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        #expect(h.send("COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v", "GET") ==
            "*1\r\n*2\r\n$1\r\nk\r\n*3\r\n+RW\r\n+access\r\n+update\r\n")
        h.client.resp = .resp3
        #expect(h.send("COMMAND", "GETKEYSANDFLAGS", "SET", "k", "v") == "*1\r\n*2\r\n$1\r\nk\r\n~2\r\n+OW\r\n+update\r\n")
    }

    @Test func getKeysErrorsLikeRedis() {
        #expect(h.send("COMMAND", "GETKEYS", "nosuch", "k") == "-ERR Invalid command specified\r\n")
        #expect(h.send("COMMAND", "GETKEYS", "PING", "x") == "-ERR The command has no key arguments\r\n")
        #expect(h.send("COMMAND", "GETKEYS", "GET", "a", "b") == "-ERR Invalid number of arguments specified for command\r\n")
        #expect(h.send("COMMAND", "GETKEYSANDFLAGS", "MSET", "a") == "-ERR Invalid number of arguments specified for command\r\n")
        // Redis 7.2 lets GETKEYS take a bare command name (arity -3; 7.0 had -4).
        #expect(h.send("COMMAND", "GETKEYS", "GET") == "-ERR Invalid number of arguments specified for command\r\n")
        #expect(h.send("COMMAND", "GETKEYS", "PING") == "-ERR The command has no key arguments\r\n")
        #expect(h.send("COMMAND", "GETKEYS") == "-ERR wrong number of arguments for 'command|getkeys' command\r\n")
        // Commands count only once registered; stand-ins make these two present.
        for name in ["zunionstore", "eval"] where h.server.commands.find(fullName: name)?.isRegistered != true {
            h.server.commands.register(name) { $0.reply.ok() }
        }
        #expect(h.send("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "x", "a") == "-ERR Invalid arguments specified for command\r\n")
        #expect(h.send("COMMAND", "GETKEYS", "EVAL", "return 1", "0") == "*0\r\n")
    }

    // MARK: COMMAND HELP

    @Test func helpListsTheSubcommands() {
        let lines = Reply.parse(h.send("COMMAND", "HELP")).items.compactMap(\.text)
        #expect(lines.count == 21)
        #expect(lines.first == "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
        #expect(lines.contains("GETKEYSANDFLAGS <full-command>"))
        #expect(lines.last == "    Print this help.")
    }
}
