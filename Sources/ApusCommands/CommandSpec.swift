/// Command flags, as Redis's command JSON specs name them (`command_flags`), plus the ones
/// Redis derives (`movablekeys`).
public struct CommandFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let write = CommandFlags(rawValue: 1 << 0)
    public static let readonly = CommandFlags(rawValue: 1 << 1)
    public static let denyoom = CommandFlags(rawValue: 1 << 2)
    public static let module = CommandFlags(rawValue: 1 << 3)
    public static let admin = CommandFlags(rawValue: 1 << 4)
    public static let pubsub = CommandFlags(rawValue: 1 << 5)
    public static let noscript = CommandFlags(rawValue: 1 << 6)
    public static let blocking = CommandFlags(rawValue: 1 << 7)
    public static let loading = CommandFlags(rawValue: 1 << 8)
    public static let stale = CommandFlags(rawValue: 1 << 9)
    public static let skipMonitor = CommandFlags(rawValue: 1 << 10)
    public static let skipSlowlog = CommandFlags(rawValue: 1 << 11)
    public static let asking = CommandFlags(rawValue: 1 << 12)
    public static let fast = CommandFlags(rawValue: 1 << 13)
    public static let noAuth = CommandFlags(rawValue: 1 << 14)
    public static let mayReplicate = CommandFlags(rawValue: 1 << 15)
    public static let sentinel = CommandFlags(rawValue: 1 << 16)
    public static let onlySentinel = CommandFlags(rawValue: 1 << 17)
    public static let noMandatoryKeys = CommandFlags(rawValue: 1 << 18)
    public static let protected = CommandFlags(rawValue: 1 << 19)
    public static let moduleGetkeys = CommandFlags(rawValue: 1 << 20)
    public static let moduleNoCluster = CommandFlags(rawValue: 1 << 21)
    public static let noAsyncLoading = CommandFlags(rawValue: 1 << 22)
    public static let noMulti = CommandFlags(rawValue: 1 << 23)
    public static let movableKeys = CommandFlags(rawValue: 1 << 24)
    public static let allowBusy = CommandFlags(rawValue: 1 << 25)
    public static let touchesArbitraryKeys = CommandFlags(rawValue: 1 << 26)

    /// The flags `COMMAND INFO` shows, in Redis's order (`addReplyFlagsForCommand`). The
    /// others (`may_replicate`, `sentinel`, `only_sentinel`, `protected`,
    /// `touches_arbitrary_keys`, the module ones) are hidden on purpose, as in Redis.
    public static let replyNames: [(flag: CommandFlags, name: StaticString)] = [
        (.write, "write"), (.readonly, "readonly"), (.denyoom, "denyoom"), (.module, "module"),
        (.admin, "admin"), (.pubsub, "pubsub"), (.noscript, "noscript"), (.blocking, "blocking"),
        (.loading, "loading"), (.stale, "stale"), (.skipMonitor, "skip_monitor"),
        (.skipSlowlog, "skip_slowlog"), (.asking, "asking"), (.fast, "fast"), (.noAuth, "no_auth"),
        (.noMandatoryKeys, "no_mandatory_keys"), (.noAsyncLoading, "no_async_loading"),
        (.noMulti, "no_multi"), (.movableKeys, "movablekeys"), (.allowBusy, "allow_busy"),
    ]
}

/// ACL categories (`@read`, `@string`, ...), in Redis's order (`ACLCommandCategories`), which
/// is also the order `COMMAND INFO` lists them in.
public struct ACLCategories: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let keyspace = ACLCategories(rawValue: 1 << 0)
    public static let read = ACLCategories(rawValue: 1 << 1)
    public static let write = ACLCategories(rawValue: 1 << 2)
    public static let set = ACLCategories(rawValue: 1 << 3)
    public static let sortedSet = ACLCategories(rawValue: 1 << 4)
    public static let list = ACLCategories(rawValue: 1 << 5)
    public static let hash = ACLCategories(rawValue: 1 << 6)
    public static let string = ACLCategories(rawValue: 1 << 7)
    public static let bitmap = ACLCategories(rawValue: 1 << 8)
    public static let hyperloglog = ACLCategories(rawValue: 1 << 9)
    public static let geo = ACLCategories(rawValue: 1 << 10)
    public static let stream = ACLCategories(rawValue: 1 << 11)
    public static let pubsub = ACLCategories(rawValue: 1 << 12)
    public static let admin = ACLCategories(rawValue: 1 << 13)
    public static let fast = ACLCategories(rawValue: 1 << 14)
    public static let slow = ACLCategories(rawValue: 1 << 15)
    public static let blocking = ACLCategories(rawValue: 1 << 16)
    public static let dangerous = ACLCategories(rawValue: 1 << 17)
    public static let connection = ACLCategories(rawValue: 1 << 18)
    public static let transaction = ACLCategories(rawValue: 1 << 19)
    public static let scripting = ACLCategories(rawValue: 1 << 20)

    /// Every category with its name (without the `@`), in Redis's order.
    public static let named: [(category: ACLCategories, name: String)] = [
        (.keyspace, "keyspace"), (.read, "read"), (.write, "write"), (.set, "set"),
        (.sortedSet, "sortedset"), (.list, "list"), (.hash, "hash"), (.string, "string"),
        (.bitmap, "bitmap"), (.hyperloglog, "hyperloglog"), (.geo, "geo"), (.stream, "stream"),
        (.pubsub, "pubsub"), (.admin, "admin"), (.fast, "fast"), (.slow, "slow"),
        (.blocking, "blocking"), (.dangerous, "dangerous"), (.connection, "connection"),
        (.transaction, "transaction"), (.scripting, "scripting"),
    ]

    /// The category called `name` (ASCII case-insensitive, without the `@`), as
    /// `ACLGetCommandCategoryFlagByName` finds it; nil when there is none.
    public init?(name: String) {
        let lower = name.lowercased()
        guard lower.utf8.count == name.utf8.count,
              let match = ACLCategories.named.first(where: { $0.name == lower }) else { return nil }
        self = match.category
    }

    /// The names of the categories in this set, in Redis's order.
    public var names: [String] {
        ACLCategories.named.compactMap { contains($0.category) ? $0.name : nil }
    }
}

/// `doc_flags` of a command.
public struct CommandDocFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let deprecated = CommandDocFlags(rawValue: 1 << 0)
    public static let syscmd = CommandDocFlags(rawValue: 1 << 1)

    public static let replyNames: [(flag: CommandDocFlags, name: StaticString)] = [
        (.deprecated, "deprecated"), (.syscmd, "syscmd"),
    ]
}

/// One entry of a command's `history`: the version and what changed in it.
public struct CommandHistoryEntry: Sendable, Equatable {
    public let since: String
    public let changes: String

    public init(_ since: String, _ changes: String) {
        self.since = since
        self.changes = changes
    }
}

/// The kind of an argument in a command's documentation (`ARG_TYPE_STR` in Redis).
public enum ArgumentType: String, Sendable {
    case string
    case integer
    case double
    case key
    case pattern
    case unixTime = "unix-time"
    case pureToken = "pure-token"
    case oneOf = "oneof"
    case block
}

/// `optional` / `multiple` / `multiple_token` of an argument.
public struct ArgumentFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let optional = ArgumentFlags(rawValue: 1 << 0)
    public static let multiple = ArgumentFlags(rawValue: 1 << 1)
    public static let multipleToken = ArgumentFlags(rawValue: 1 << 2)

    public static let replyNames: [(flag: ArgumentFlags, name: StaticString)] = [
        (.optional, "optional"), (.multiple, "multiple"), (.multipleToken, "multiple_token"),
    ]
}

/// One node of a command's argument tree, as `COMMAND DOCS` describes it.
public struct CommandArgument: Sendable {
    /// Lowercase name ("key", "condition").
    public let name: String
    public let type: ArgumentType
    /// The key spec this key argument belongs to.
    public let keySpecIndex: Int?
    /// The literal token that introduces the argument, uppercase ("NX", "STORE").
    public let token: String?
    public let summary: String?
    public let since: String?
    public let flags: ArgumentFlags
    public let deprecatedSince: String?
    /// How the docs name the value; `nil` means the name (lowercase when present).
    public let displayText: String?
    /// The alternatives of a `oneof`, the parts of a `block`.
    public let arguments: [CommandArgument]

    public init(_ name: String, _ type: ArgumentType, keySpecIndex: Int? = nil, token: String? = nil,
                summary: String? = nil, since: String? = nil, flags: ArgumentFlags = [],
                deprecatedSince: String? = nil, displayText: String? = nil,
                arguments: [CommandArgument] = []) {
        self.name = name
        self.type = type
        self.keySpecIndex = keySpecIndex
        self.token = token
        self.summary = summary
        self.since = since
        self.flags = flags
        self.deprecatedSince = deprecatedSince
        self.displayText = displayText
        self.arguments = arguments
    }
}

/// Flags of a key spec: how the command uses the keys it finds.
public struct KeySpecFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Read-only.
    public static let ro = KeySpecFlags(rawValue: 1 << 0)
    /// Read-write.
    public static let rw = KeySpecFlags(rawValue: 1 << 1)
    /// Overwrite.
    public static let ow = KeySpecFlags(rawValue: 1 << 2)
    /// Remove.
    public static let rm = KeySpecFlags(rawValue: 1 << 3)
    public static let access = KeySpecFlags(rawValue: 1 << 4)
    public static let update = KeySpecFlags(rawValue: 1 << 5)
    public static let insert = KeySpecFlags(rawValue: 1 << 6)
    public static let delete = KeySpecFlags(rawValue: 1 << 7)
    /// Not a key (a shard channel) though cluster routing treats it as one.
    public static let notKey = KeySpecFlags(rawValue: 1 << 8)
    /// The spec may not find every key (e.g. MIGRATE's KEYS).
    public static let incomplete = KeySpecFlags(rawValue: 1 << 9)
    /// The flags depend on the arguments (SET ... GET, BITFIELD).
    public static let variableFlags = KeySpecFlags(rawValue: 1 << 10)

    /// Names as `COMMAND INFO` / `COMMAND GETKEYSANDFLAGS` show them, in Redis's order.
    public static let replyNames: [(flag: KeySpecFlags, name: StaticString)] = [
        (.ro, "RO"), (.rw, "RW"), (.ow, "OW"), (.rm, "RM"), (.access, "access"),
        (.update, "update"), (.insert, "insert"), (.delete, "delete"), (.notKey, "not_key"),
        (.incomplete, "incomplete"), (.variableFlags, "variable_flags"),
    ]
}

/// Where the search for a key spec's keys starts.
public enum KeySpecBeginSearch: Sendable, Equatable {
    /// At a fixed argument index (the command name is index 0).
    case index(Int)
    /// After the first occurrence of `keyword` (ASCII case-insensitive), searching forward
    /// from `startFrom`, or backward from the end when `startFrom` is negative.
    case keyword(String, startFrom: Int)
    /// Cannot be described; only the command's keys procedure knows.
    case unknown
}

/// How a key spec finds its keys from where the search began.
public enum KeySpecFindKeys: Sendable, Equatable {
    /// Keys from the start to `lastKey` (relative to the start; negative counts from the end
    /// of the arguments), every `step`-th argument. With `limit` > 1 and `lastKey` -1, only
    /// the first 1/`limit` of the remaining arguments (XREAD's keys before their IDs).
    case range(lastKey: Int, step: Int, limit: Int)
    /// The argument at `keyNumIndex` (relative to the start) holds the number of keys, which
    /// begin at `firstKey` (relative to the start), every `step`-th argument.
    case keyNum(keyNumIndex: Int, firstKey: Int, step: Int)
    case unknown
}

/// A key spec (Redis 7 `key_specs`): how to find one group of key arguments.
public struct KeySpec: Sendable, Equatable {
    public let notes: String?
    public let flags: KeySpecFlags
    public let beginSearch: KeySpecBeginSearch
    public let findKeys: KeySpecFindKeys

    public init(notes: String? = nil, flags: KeySpecFlags, beginSearch: KeySpecBeginSearch,
                findKeys: KeySpecFindKeys) {
        self.notes = notes
        self.flags = flags
        self.beginSearch = beginSearch
        self.findKeys = findKeys
    }
}

/// The (first, last, step) key triple `COMMAND INFO` shows: positions of the keys when they
/// form one plain range; all zero when they do not. `last` is absolute, or negative to count
/// from the end (-1 = the last argument).
public struct LegacyKeyRange: Sendable, Equatable {
    public let first: Int
    public let last: Int
    public let step: Int

    public static let none = LegacyKeyRange(first: 0, last: 0, step: 0)

    public init(first: Int, last: Int, step: Int) {
        self.first = first
        self.last = last
        self.step = step
    }
}

/// Command-specific key finders Redis uses when the key specs cannot describe the keys
/// (`get_keys_function` in the JSON specs; see `KeyExtraction.swift`).
public enum KeysProcedure: String, Sendable {
    case bitfield
    case blmpop
    case eval
    case function
    case georadius
    case lmpop
    case migrate
    case set
    case sintercard
    case sort
    case sortRO
    case xread
    case zmpop
    case zunionInterDiff
    case zunionInterDiffStore
}

/// One command's metadata, generated from Redis's JSON specs (`Generated/CommandTable*.swift`,
/// `CommandTable.specs`). The dispatcher uses `name`, `fullName`, `arity`, `flags` and
/// `subcommands`; `COMMAND`, ACL and cluster routing use the rest.
public struct CommandSpec: Sendable {
    /// Lowercase name ("get"; "get" also for the subcommand `config|get`).
    public let name: String
    /// "get", or "config|get" for a subcommand (what error messages and COMMAND show).
    public let fullName: String
    /// Redis arity: N = exactly N arguments including the name; -N = at least N.
    public let arity: Int
    /// The declared flags plus `movableKeys` when the key specs are not one plain range
    /// (what Redis's `populateCommandLegacyRangeSpec` adds).
    public let flags: CommandFlags
    /// The JSON spec's group ("string", "sorted_set", ...); see `docsGroup`.
    public let group: String
    public let subcommands: [CommandSpec]

    /// The declared categories plus the ones Redis implies from the flags
    /// (`setImplicitACLCategories`): @write, @read, @admin + @dangerous, @pubsub, @fast,
    /// @blocking, and @slow for everything not @fast.
    public let aclCategories: ACLCategories
    public let summary: String?
    public let since: String?
    public let complexity: String?
    public let docFlags: CommandDocFlags
    public let deprecatedSince: String?
    public let replacedBy: String?
    public let history: [CommandHistoryEntry]
    /// Command tips, lowercase ("nondeterministic_output", "request_policy:all_shards").
    public let tips: [String]
    public let keySpecs: [KeySpec]
    public let arguments: [CommandArgument]
    /// The command-specific key finder Redis falls back to (`get_keys_function`).
    public let keysProcedure: KeysProcedure?
    /// The legacy (first, last, step) triple derived from the key specs.
    public let legacyKeyRange: LegacyKeyRange

    /// `aclCategories` and `flags` are the declared ones; the implied categories, the
    /// `movableKeys` flag and `legacyKeyRange` are derived here, as Redis derives them when it
    /// populates its command table.
    public init(name: String, fullName: String, arity: Int, flags: CommandFlags, group: String,
                subcommands: [CommandSpec] = [], aclCategories: ACLCategories = [],
                summary: String? = nil, since: String? = nil, complexity: String? = nil,
                docFlags: CommandDocFlags = [], deprecatedSince: String? = nil,
                replacedBy: String? = nil, history: [CommandHistoryEntry] = [], tips: [String] = [],
                keySpecs: [KeySpec] = [], arguments: [CommandArgument] = [],
                keysProcedure: KeysProcedure? = nil) {
        self.name = name
        self.fullName = fullName
        self.arity = arity
        self.group = group
        self.subcommands = subcommands
        self.summary = summary
        self.since = since
        self.complexity = complexity
        self.docFlags = docFlags
        self.deprecatedSince = deprecatedSince
        self.replacedBy = replacedBy
        self.history = history
        self.tips = tips
        self.keySpecs = keySpecs
        self.arguments = arguments
        self.keysProcedure = keysProcedure
        self.aclCategories = CommandSpec.impliedCategories(declared: aclCategories, flags: flags)
        let derived = LegacyKeyRange.derive(from: keySpecs)
        self.legacyKeyRange = derived.range
        self.flags = derived.movableKeys ? flags.union(.movableKeys) : flags
    }

    /// Redis's `setImplicitACLCategories`.
    static func impliedCategories(declared: ACLCategories, flags: CommandFlags) -> ACLCategories {
        var categories = declared
        if flags.contains(.write) { categories.insert(.write) }
        // Scripting commands are kept out of @read even when read-only.
        if flags.contains(.readonly) && !declared.contains(.scripting) { categories.insert(.read) }
        if flags.contains(.admin) { categories.formUnion([.admin, .dangerous]) }
        if flags.contains(.pubsub) { categories.insert(.pubsub) }
        if flags.contains(.fast) { categories.insert(.fast) }
        if flags.contains(.blocking) { categories.insert(.blocking) }
        if !categories.contains(.fast) { categories.insert(.slow) }
        return categories
    }

    /// The group as `COMMAND DOCS` names it ("sorted-set" for the JSON's "sorted_set").
    public var docsGroup: String {
        group == "sorted_set" ? "sorted-set" : group
    }

    /// The subcommand called `name` (lowercase), registered or not.
    public func subcommand(named name: String) -> CommandSpec? {
        subcommands.first { $0.name == name }
    }
}

/// The generated command table (`Generated/CommandTable*.swift`, written by apus-commandgen
/// from Redis 7.2's JSON specs): `CommandTable.specs` holds every command.
public enum CommandTable {}
