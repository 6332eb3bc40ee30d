// apus-commandgen: generates ApusCommands' command table from Redis's command JSON specs.
//
//     swift run apus-commandgen ../shared/redis-commands Sources/ApusCommands/Generated
//
// Reads every `*.json` in the input folder (one command or subcommand each; a subcommand names
// its `container`), checks them the way Redis's utils/generate-command-code.py does, and writes
// `CommandTable.swift` plus one `CommandTable+<Group>.swift` per command group. Output is
// deterministic: the same specs give byte-identical files.
//
// The generated code holds the metadata as declared; `CommandSpec.init` derives what Redis
// derives at startup (implied ACL categories, `movablekeys`, the legacy key range).

import Foundation

// MARK: - Model

struct GeneratorError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

typealias JSONObject = [String: Any]

struct Argument {
    let name: String
    let type: String
    let keySpecIndex: Int?
    let token: String?
    let summary: String?
    let since: String?
    let optional: Bool
    let multiple: Bool
    let multipleToken: Bool
    let deprecatedSince: String?
    let display: String?
    let arguments: [Argument]
}

struct KeySpecDescription {
    let notes: String?
    let flags: [String]
    let beginSearch: String
    let findKeys: String
}

final class Command {
    /// Lowercase name as Redis declares it ("get", "no-evict").
    let name: String
    /// Lowercase container name for subcommands.
    let container: String?
    var group: String
    let arity: Int
    let summary: String?
    let since: String?
    let complexity: String?
    let docFlags: [String]
    let deprecatedSince: String?
    let replacedBy: String?
    let history: [(String, String)]
    let flags: [String]
    let aclCategories: [String]
    let tips: [String]
    let keySpecs: [KeySpecDescription]
    let arguments: [Argument]
    let keysProcedure: String?
    var subcommands: [Command] = []

    var fullName: String { container.map { "\($0)|\(name)" } ?? name }

    init(name: String, json: JSONObject, file: String) throws {
        func string(_ key: String) throws -> String? {
            guard let value = json[key] else { return nil }
            guard let s = value as? String else { throw GeneratorError("\(file): \(key) is not a string") }
            return s
        }
        func strings(_ key: String) throws -> [String] {
            guard let value = json[key] else { return [] }
            guard let list = value as? [String] else { throw GeneratorError("\(file): \(key) is not a list of strings") }
            return list
        }
        self.name = name.lowercased()
        container = try string("container")?.lowercased()
        guard let group = try string("group") else { throw GeneratorError("\(file): no group") }
        self.group = group
        guard let arity = json["arity"] as? Int else { throw GeneratorError("\(file): no arity") }
        self.arity = arity
        summary = try string("summary")
        since = try string("since")
        complexity = try string("complexity")
        docFlags = try strings("doc_flags")
        deprecatedSince = try string("deprecated_since")
        replacedBy = try string("replaced_by")
        if let raw = json["history"] {
            guard let entries = raw as? [[String]], entries.allSatisfy({ $0.count == 2 }) else {
                throw GeneratorError("\(file): history is not a list of [since, changes]")
            }
            history = entries.map { ($0[0], $0[1]) }
        } else {
            history = []
        }
        flags = try strings("command_flags")
        aclCategories = try strings("acl_categories")
        tips = try strings("command_tips").map { $0.lowercased() }
        let specs = (json["key_specs"] as? [JSONObject]) ?? []
        keySpecs = try specs.map { try parseKeySpec($0, file: file) }
        let args = (json["arguments"] as? [JSONObject]) ?? []
        arguments = try args.map { try parseArgument($0, file: file) }
        try checkUniqueNames(arguments, in: "\(file) \(name)")
        keysProcedure = try string("get_keys_function")
    }
}

func parseArgument(_ json: JSONObject, file: String) throws -> Argument {
    guard let rawName = json["name"] as? String, let type = json["type"] as? String else {
        throw GeneratorError("\(file): argument without name or type: \(json)")
    }
    let name = rawName.lowercased()
    if name.contains("_") { throw GeneratorError("\(file): argument name '\(name)' contains an underscore") }
    guard argumentTypes[type] != nil else { throw GeneratorError("\(file): unknown argument type '\(type)'") }
    var subarguments: [Argument] = []
    if type == "oneof" || type == "block" {
        let list = (json["arguments"] as? [JSONObject]) ?? []
        subarguments = try list.map { try parseArgument($0, file: file) }
        if subarguments.count < 2 { throw GeneratorError("\(file): \(name) has fewer than two subarguments") }
        try checkUniqueNames(subarguments, in: "\(file) \(name)")
    }
    let multiple = json["multiple"] as? Bool ?? false
    let multipleToken = json["multiple_token"] as? Bool ?? false
    if multipleToken && !multiple { throw GeneratorError("\(file): \(name) is multiple_token but not multiple") }
    return Argument(
        name: name,
        type: type,
        keySpecIndex: json["key_spec_index"] as? Int,
        token: (json["token"] as? String)?.uppercased(),
        summary: json["summary"] as? String,
        since: json["since"] as? String,
        optional: json["optional"] as? Bool ?? false,
        multiple: multiple,
        multipleToken: multipleToken,
        deprecatedSince: json["deprecated_since"] as? String,
        // Redis shows the display text in lowercase, and none for oneof/block.
        display: (type == "oneof" || type == "block") ? nil : (json["display"] as? String)?.lowercased(),
        arguments: subarguments
    )
}

func checkUniqueNames(_ arguments: [Argument], in context: String) throws {
    var seen = Set<String>()
    for argument in arguments where !seen.insert(argument.name).inserted {
        throw GeneratorError("\(context): duplicate argument name '\(argument.name)'")
    }
}

func parseKeySpec(_ json: JSONObject, file: String) throws -> KeySpecDescription {
    guard let flags = json["flags"] as? [String] else { throw GeneratorError("\(file): key spec without flags") }
    for flag in flags where !keySpecFlags.contains(flag) {
        throw GeneratorError("\(file): unknown key spec flag '\(flag)'")
    }
    guard let begin = json["begin_search"] as? JSONObject, let find = json["find_keys"] as? JSONObject else {
        throw GeneratorError("\(file): key spec without begin_search/find_keys")
    }
    let beginSearch: String
    if let index = begin["index"] as? JSONObject, let position = index["pos"] as? Int {
        beginSearch = ".index(\(position))"
    } else if let keyword = begin["keyword"] as? JSONObject, let word = keyword["keyword"] as? String,
              let startFrom = keyword["startfrom"] as? Int {
        beginSearch = ".keyword(\(literal(word)), startFrom: \(startFrom))"
    } else if begin.keys.contains("unknown") {
        beginSearch = ".unknown"
    } else {
        throw GeneratorError("\(file): invalid begin_search \(begin)")
    }
    let findKeys: String
    if let range = find["range"] as? JSONObject, let last = range["lastkey"] as? Int,
       let step = range["step"] as? Int, let limit = range["limit"] as? Int {
        findKeys = ".range(lastKey: \(last), step: \(step), limit: \(limit))"
    } else if let keynum = find["keynum"] as? JSONObject, let index = keynum["keynumidx"] as? Int,
              let first = keynum["firstkey"] as? Int, let step = keynum["step"] as? Int {
        findKeys = ".keyNum(keyNumIndex: \(index), firstKey: \(first), step: \(step))"
    } else if find.keys.contains("unknown") {
        findKeys = ".unknown"
    } else {
        throw GeneratorError("\(file): invalid find_keys \(find)")
    }
    return KeySpecDescription(notes: json["notes"] as? String, flags: flags, beginSearch: beginSearch, findKeys: findKeys)
}

// MARK: - Vocabularies (checked, so a new spec value fails here rather than in the compiler)

let commandFlags: Set<String> = [
    "WRITE", "READONLY", "DENYOOM", "MODULE", "ADMIN", "PUBSUB", "NOSCRIPT", "BLOCKING", "LOADING",
    "STALE", "SKIP_MONITOR", "SKIP_SLOWLOG", "ASKING", "FAST", "NO_AUTH", "MAY_REPLICATE", "SENTINEL",
    "ONLY_SENTINEL", "NO_MANDATORY_KEYS", "PROTECTED", "NO_ASYNC_LOADING", "NO_MULTI", "ALLOW_BUSY",
    "TOUCHES_ARBITRARY_KEYS",
]
let aclCategoryNames: [String: String] = [
    "KEYSPACE": "keyspace", "READ": "read", "WRITE": "write", "SET": "set", "SORTEDSET": "sortedSet",
    "LIST": "list", "HASH": "hash", "STRING": "string", "BITMAP": "bitmap", "HYPERLOGLOG": "hyperloglog",
    "GEO": "geo", "STREAM": "stream", "PUBSUB": "pubsub", "ADMIN": "admin", "FAST": "fast", "SLOW": "slow",
    "BLOCKING": "blocking", "DANGEROUS": "dangerous", "CONNECTION": "connection",
    "TRANSACTION": "transaction", "SCRIPTING": "scripting",
]
let keySpecFlags: Set<String> = [
    "RO", "RW", "OW", "RM", "ACCESS", "UPDATE", "INSERT", "DELETE", "NOT_KEY", "INCOMPLETE", "VARIABLE_FLAGS",
]
let docFlagNames: Set<String> = ["DEPRECATED", "SYSCMD"]
let argumentTypes: [String: String] = [
    "string": "string", "integer": "integer", "double": "double", "key": "key", "pattern": "pattern",
    "unix-time": "unixTime", "pure-token": "pureToken", "oneof": "oneOf", "block": "block",
]
let groups: [String: String] = [
    "generic": "Generic", "string": "String", "list": "List", "set": "Set", "sorted_set": "SortedSet",
    "hash": "Hash", "pubsub": "PubSub", "transactions": "Transactions", "connection": "Connection",
    "server": "Server", "scripting": "Scripting", "hyperloglog": "HyperLogLog", "cluster": "Cluster",
    "sentinel": "Sentinel", "geo": "Geo", "stream": "Stream", "bitmap": "Bitmap",
]
/// `get_keys_function` names → `KeysProcedure` cases.
let keysProcedures: [String: String] = [
    "bitfieldGetKeys": "bitfield", "blmpopGetKeys": "blmpop", "evalGetKeys": "eval",
    "functionGetKeys": "function", "georadiusGetKeys": "georadius", "lmpopGetKeys": "lmpop",
    "migrateGetKeys": "migrate", "setGetKeys": "set", "sintercardGetKeys": "sintercard",
    "sortGetKeys": "sort", "sortROGetKeys": "sortRO", "xreadGetKeys": "xread", "zmpopGetKeys": "zmpop",
    "zunionInterDiffGetKeys": "zunionInterDiff", "zunionInterDiffStoreGetKeys": "zunionInterDiffStore",
]

/// "SKIP_MONITOR" → "skipMonitor".
func camelCase(_ words: String, separators: Set<Character> = ["_", "-", "|", ":", " "]) -> String {
    var result = ""
    var upperNext = false
    for ch in words.lowercased() {
        if separators.contains(ch) {
            upperNext = !result.isEmpty
        } else if upperNext {
            result += ch.uppercased()
            upperNext = false
        } else {
            result.append(ch)
        }
    }
    return result
}

func validate(_ command: Command, file: String) throws {
    guard groups[command.group] != nil else { throw GeneratorError("\(file): unknown group '\(command.group)'") }
    for flag in command.flags where !commandFlags.contains(flag) {
        throw GeneratorError("\(file): unknown command flag '\(flag)'")
    }
    for category in command.aclCategories where aclCategoryNames[category] == nil {
        throw GeneratorError("\(file): unknown ACL category '\(category)'")
    }
    for flag in command.docFlags where !docFlagNames.contains(flag) {
        throw GeneratorError("\(file): unknown doc flag '\(flag)'")
    }
    if let procedure = command.keysProcedure, keysProcedures[procedure] == nil {
        throw GeneratorError("\(file): unknown get_keys_function '\(procedure)'")
    }
    // Every key_spec_index must name a spec, and (unless a spec is not_key) every spec must be
    // used by an argument, as Redis's generator checks.
    var used = Set<Int>()
    func collect(_ arguments: [Argument]) throws {
        for argument in arguments {
            if let index = argument.keySpecIndex {
                guard index >= 0 && index < command.keySpecs.count else {
                    throw GeneratorError("\(file): argument \(argument.name) has key_spec_index \(index) out of range")
                }
                used.insert(index)
            }
            try collect(argument.arguments)
        }
    }
    try collect(command.arguments)
    if !command.keySpecs.contains(where: { $0.flags.contains("NOT_KEY") }) && used.count != command.keySpecs.count {
        throw GeneratorError("\(file): \(command.fullName) has key specs no argument uses")
    }
}

// MARK: - Loading

func loadCommands(from directory: URL) throws -> [Command] {
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { $0.hasSuffix(".json") }
        .sorted()
    var commands: [String: Command] = [:]
    var subcommands: [Command] = []
    for file in files {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        guard let object = try JSONSerialization.jsonObject(with: data) as? JSONObject else {
            throw GeneratorError("\(file): not a JSON object")
        }
        for (name, value) in object.sorted(by: { $0.key < $1.key }) {
            guard let json = value as? JSONObject else { throw GeneratorError("\(file): \(name) is not an object") }
            let command = try Command(name: name, json: json, file: file)
            try validate(command, file: file)
            if command.container != nil {
                subcommands.append(command)
            } else {
                guard commands[command.name] == nil else { throw GeneratorError("\(file): duplicate command \(name)") }
                commands[command.name] = command
            }
        }
    }
    for sub in subcommands {
        guard let container = commands[sub.container!] else {
            throw GeneratorError("\(sub.fullName): no container command '\(sub.container!)'")
        }
        guard sub.group == container.group else {
            throw GeneratorError("\(sub.fullName): group \(sub.group) differs from its container's \(container.group)")
        }
        if container.subcommands.contains(where: { $0.name == sub.name }) {
            throw GeneratorError("duplicate subcommand \(sub.fullName)")
        }
        container.subcommands.append(sub)
    }
    for command in commands.values { command.subcommands.sort { $0.name < $1.name } }
    return commands.values.sorted { $0.name < $1.name }
}

// MARK: - Swift emission

/// A Swift string literal for `text`.
func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

func optionalLiteral(_ text: String?) -> String { text.map(literal) ?? "nil" }

/// `[.a, .b]` from spec names, duplicates dropped, in declaration order.
func optionSet(_ names: [String], map: (String) -> String) -> String {
    var seen = Set<String>()
    let members = names.map(map).filter { seen.insert($0).inserted }
    return "[" + members.map { ".\($0)" }.joined(separator: ", ") + "]"
}

let swiftKeywords: Set<String> = [
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
    "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
    "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
    "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Type",
    "Any", "some", "any",
]

/// The Swift function that builds `command`'s spec ("configGet", "restoreAsking").
func functionName(_ command: Command) -> String {
    let name = camelCase(command.fullName)
    return swiftKeywords.contains(name) ? "`\(name)`" : name
}

final class SourceWriter {
    var text = ""
    private var indent = 0

    func line(_ s: String = "") {
        text += s.isEmpty ? "\n" : String(repeating: "    ", count: indent) + s + "\n"
    }

    func block(_ open: String, _ close: String, _ body: () -> Void) {
        line(open)
        indent += 1
        body()
        indent -= 1
        line(close)
    }
}

func emitArguments(_ arguments: [Argument], into out: SourceWriter, label: String, suffix: String) {
    out.block("\(label)[", "]\(suffix)") {
        for argument in arguments {
            var parts = [literal(argument.name), ".\(argumentTypes[argument.type]!)"]
            if let index = argument.keySpecIndex { parts.append("keySpecIndex: \(index)") }
            if let token = argument.token { parts.append("token: \(literal(token))") }
            if let summary = argument.summary { parts.append("summary: \(literal(summary))") }
            if let since = argument.since { parts.append("since: \(literal(since))") }
            var flags: [String] = []
            if argument.optional { flags.append("optional") }
            if argument.multiple { flags.append("multiple") }
            if argument.multipleToken { flags.append("multipleToken") }
            if !flags.isEmpty { parts.append("flags: " + optionSet(flags) { $0 }) }
            if let deprecated = argument.deprecatedSince { parts.append("deprecatedSince: \(literal(deprecated))") }
            if let display = argument.display { parts.append("displayText: \(literal(display))") }
            let head = "CommandArgument(" + parts.joined(separator: ", ")
            if argument.arguments.isEmpty {
                out.line(head + "),")
            } else {
                emitArguments(argument.arguments, into: out, label: head + ", arguments: ", suffix: "),")
            }
        }
    }
}

func emitFunction(_ command: Command, into out: SourceWriter) {
    out.block("@_optimize(none) static func \(functionName(command))() -> CommandSpec {", "}") {
        out.block("CommandSpec(", ")") {
            // Scalar fields: identity on the first line, then one per line.
            var fields: [String] = []
            func simple(_ text: String) { fields.append(text) }
            simple("name: \(literal(command.name))")
            simple("fullName: \(literal(command.fullName))")
            simple("arity: \(command.arity)")
            simple("flags: " + optionSet(command.flags) { camelCase($0) })
            simple("group: \(literal(command.group))")
            if !command.subcommands.isEmpty {
                let calls = command.subcommands.map { "\(functionName($0))()" }
                simple("subcommands: [" + calls.joined(separator: ", ") + "]")
            }
            if !command.aclCategories.isEmpty {
                simple("aclCategories: " + optionSet(command.aclCategories) { aclCategoryNames[$0]! })
            }
            if let summary = command.summary { simple("summary: \(literal(summary))") }
            if let since = command.since { simple("since: \(literal(since))") }
            if let complexity = command.complexity { simple("complexity: \(literal(complexity))") }
            if !command.docFlags.isEmpty { simple("docFlags: " + optionSet(command.docFlags) { camelCase($0) }) }
            if let deprecated = command.deprecatedSince { simple("deprecatedSince: \(literal(deprecated))") }
            if let replaced = command.replacedBy { simple("replacedBy: \(literal(replaced))") }
            // Aggregate fields follow as blocks; each writes its own lines and ends with `suffix`.
            var blocks: [(_ suffix: String) -> Void] = []
            if !command.history.isEmpty {
                blocks.append({ suffix in
                    out.block("history: [", "]\(suffix)") {
                        for (since, changes) in command.history {
                            out.line("CommandHistoryEntry(\(literal(since)), \(literal(changes))),")
                        }
                    }
                })
            }
            if !command.tips.isEmpty {
                let tips = command.tips.map(literal).joined(separator: ", ")
                blocks.append { suffix in out.line("tips: [\(tips)]\(suffix)") }
            }
            if !command.keySpecs.isEmpty {
                blocks.append({ suffix in
                    out.block("keySpecs: [", "]\(suffix)") {
                        for spec in command.keySpecs {
                            var parts: [String] = []
                            if let notes = spec.notes { parts.append("notes: \(literal(notes))") }
                            parts.append("flags: " + optionSet(spec.flags) { camelCase($0) })
                            parts.append("beginSearch: \(spec.beginSearch)")
                            parts.append("findKeys: \(spec.findKeys)")
                            out.line("KeySpec(" + parts.joined(separator: ", ") + "),")
                        }
                    }
                })
            }
            if !command.arguments.isEmpty {
                blocks.append({ suffix in
                    emitArguments(command.arguments, into: out, label: "arguments: ", suffix: suffix)
                })
            }
            if let procedure = command.keysProcedure {
                let name = keysProcedures[procedure]!
                blocks.append { suffix in out.line("keysProcedure: .\(name)\(suffix)") }
            }
            let lines = [fields.prefix(5).joined(separator: ", ")] + fields.dropFirst(5)
            for (i, line) in lines.enumerated() {
                out.line(line + (i == lines.count - 1 && blocks.isEmpty ? "" : ","))
            }
            for (i, block) in blocks.enumerated() {
                block(i == blocks.count - 1 ? "" : ",")
            }
        }
    }
}

let header = """
    // Generated by apus-commandgen from ../shared/redis-commands (Redis 7.2's command JSON specs).
    // Do not edit by hand: change the generator (Sources/apus-commandgen) and rerun
    //     swift run apus-commandgen ../shared/redis-commands Sources/ApusCommands/Generated

    """

func generate(_ commands: [Command]) -> [String: String] {
    var files: [String: String] = [:]

    let index = SourceWriter()
    index.text += header
    index.line()
    index.block("extension CommandTable {", "}") {
        index.line("/// Every Redis 7.2 command (\(commands.count)) with its subcommands, sorted by name.")
        index.block("public static let specs: [CommandSpec] = [", "]") {
            for command in commands { index.line("\(functionName(command))(),") }
        }
    }
    files["CommandTable.swift"] = index.text

    let byGroup = Dictionary(grouping: commands, by: \.group)
    for (group, members) in byGroup.sorted(by: { $0.key < $1.key }) {
        let out = SourceWriter()
        out.text += header
        out.line()
        out.line("// Group \"\(group)\": \(members.count) commands.")
        out.line("// Each spec is built once, at startup: `@_optimize(none)` keeps release builds from spending")
        out.line("// most of this module's compile time optimizing these constructors.")
        out.line()
        out.block("extension CommandTable {", "}") {
            var first = true
            for command in members {
                for spec in command.subcommands + [command] {
                    if !first { out.line() }
                    first = false
                    emitFunction(spec, into: out)
                }
            }
        }
        files["CommandTable+\(groups[group]!).swift"] = out.text
    }
    return files
}

// MARK: - Main

func run() throws {
    let arguments = CommandLine.arguments
    guard arguments.count == 3 else {
        throw GeneratorError("usage: apus-commandgen <redis-commands-json-dir> <output-dir>")
    }
    let input = URL(fileURLWithPath: arguments[1], isDirectory: true)
    let output = URL(fileURLWithPath: arguments[2], isDirectory: true)
    let commands = try loadCommands(from: input)

    var names = Set<String>()
    for command in commands {
        for spec in [command] + command.subcommands where !names.insert(functionName(spec)).inserted {
            throw GeneratorError("two commands map to the Swift name \(functionName(spec))")
        }
    }

    let files = generate(commands)
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    // Remove generated files that this run no longer writes (a group that disappeared).
    for existing in try FileManager.default.contentsOfDirectory(atPath: output.path)
    where existing.hasPrefix("CommandTable") && existing.hasSuffix(".swift") && files[existing] == nil {
        try FileManager.default.removeItem(at: output.appendingPathComponent(existing))
    }
    for (name, text) in files.sorted(by: { $0.key < $1.key }) {
        try Data(text.utf8).write(to: output.appendingPathComponent(name))
    }
    let subcommandCount = commands.reduce(0) { $0 + $1.subcommands.count }
    print("apus-commandgen: \(commands.count) commands, \(subcommandCount) subcommands, \(files.count) files → \(output.path)")
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("apus-commandgen: \(error)\n".utf8))
    exit(1)
}
