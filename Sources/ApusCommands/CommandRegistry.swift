import ApusRESP
import NIOConcurrencyHelpers

/// A command name folded to lowercase and held inline, so lookups from request bytes are
/// case-insensitive and allocation-free. Names longer than `capacity` are never commands.
public struct CommandName: Hashable, Sendable {
    public static let capacity = 31
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    @inlinable
    public init?(_ raw: UnsafeRawBufferPointer) {
        guard raw.count <= CommandName.capacity else { return nil }
        withUnsafeMutableBytes(of: &words) { dst in
            for i in 0..<raw.count {
                var c = raw[i]
                if c >= 0x41 && c <= 0x5A { c |= 0x20 }
                dst[i] = c
            }
            dst[31] = UInt8(truncatingIfNeeded: raw.count)
        }
    }

    public init?(_ string: String) {
        var s = string
        guard let name = s.withUTF8({ CommandName(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = name
    }

    /// A cheap hash for the fixed command table (the names are ours, so SipHash's flooding
    /// resistance buys nothing here; it cost ~250 instructions per command).
    @inlinable
    var quickHash: UInt64 {
        var h = words.0 &* 0x9E37_79B9_7F4A_7C15
        h ^= words.1 &* 0xC2B2_AE3D_27D4_EB4F
        h ^= words.2 &* 0x1656_67B1_9E37_79F9
        h ^= words.3 &* 0x85EB_CA77_C2B2_AE63
        return h ^ (h >> 29)
    }

    @inlinable
    public static func == (a: CommandName, b: CommandName) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

/// A command (or subcommand) of the table with its handler, once a family registers one.
public final class Command: @unchecked Sendable {
    public let spec: CommandSpec
    /// Dense index for per-worker statistics arrays.
    public let id: Int
    /// Copied out of `spec` so the dispatcher's checks touch no Strings or arrays.
    public let arity: Int
    public let flags: CommandFlags
    public let isContainer: Bool
    public internal(set) var handler: CommandHandler?
    public internal(set) var subcommands: [CommandName: Command] = [:] {
        didSet { subcommandRefs = subcommands.mapValues { Unmanaged.passUnretained($0) } }
    }
    /// `subcommands` as unmanaged references (kept alive by the registry) for the dispatcher.
    @usableFromInline var subcommandRefs: [CommandName: Unmanaged<Command>] = [:]
    public weak var parent: Command?
    /// Has a handler, or (a container) a registered subcommand; fixed once families registered.
    public internal(set) var isRegistered = false

    /// How the command behaves after MULTI: queued (most), or run at once.
    public enum TransactionRole: Sendable {
        case queued
        /// EXEC and DISCARD end the transaction (and are never refused for memory).
        case exec, discard
        /// MULTI (error: nested) and WATCH (error: inside MULTI) run at once.
        case immediate
        /// QUIT and RESET run at once and are never refused for memory.
        case leaves
    }
    public let transactionRole: TransactionRole

    init(spec: CommandSpec, id: Int) {
        self.spec = spec
        self.id = id
        self.arity = spec.arity
        self.flags = spec.flags
        self.isContainer = !spec.subcommands.isEmpty
        switch spec.fullName {
        case "exec": transactionRole = .exec
        case "discard": transactionRole = .discard
        case "multi", "watch": transactionRole = .immediate
        case "quit", "reset": transactionRole = .leaves
        default: transactionRole = .queued
        }
    }

    /// Registered subcommands, sorted by name.
    public var registeredSubcommands: [Command] {
        subcommands.values.filter { $0.isRegistered }.sorted { $0.spec.name < $1.spec.name }
    }
}

/// The command table: every command Redis 7.2 defines (from the generated specs) and the
/// handlers the command families register for them.
public final class CommandRegistry: @unchecked Sendable {
    private var table: [CommandName: Command] = [:] {
        didSet { refs = table.mapValues { Unmanaged.passUnretained($0) } }
    }
    /// `table` as unmanaged references: the registry keeps every command alive for the server's
    /// life, so the dispatcher looks commands up without reference counting on shared objects.
    @usableFromInline var refs: [CommandName: Unmanaged<Command>] = [:]
    /// Every command and subcommand, indexed by `Command.id`.
    public private(set) var all: [Command] = []

    public init(specs: [CommandSpec]) {
        for spec in specs {
            let command = Command(spec: spec, id: all.count)
            all.append(command)
            for sub in spec.subcommands {
                let child = Command(spec: sub, id: all.count)
                child.parent = command
                all.append(child)
                if let key = CommandName(sub.name) { command.subcommands[key] = child }
            }
            if let key = CommandName(spec.name) { table[key] = command }
        }
        // Observers don't run inside init: build the unmanaged views here.
        refs = table.mapValues { Unmanaged.passUnretained($0) }
        for (name, ref) in refs { fastTable.insert(name, ref) }
        for command in all { command.subcommandRefs = command.subcommands.mapValues { Unmanaged.passUnretained($0) } }
    }

    /// Registers the handler for "name" or "container|sub".
    public func register(_ fullName: String, _ handler: @escaping CommandHandler) {
        guard let command = find(fullName: fullName) else {
            preconditionFailure("no spec for command '\(fullName)'")
        }
        command.handler = handler
        command.isRegistered = true
        command.parent?.isRegistered = true
    }

    /// The command (registered or not) for "name" or "container|sub".
    public func find(fullName: String) -> Command? {
        let parts = fullName.lowercased().split(separator: "|", maxSplits: 1)
        guard let first = parts.first, let key = CommandName(String(first)), let command = table[key] else { return nil }
        if parts.count == 1 { return command }
        guard let subKey = CommandName(String(parts[1])) else { return nil }
        return command.subcommands[subKey]
    }

    /// Top-level lookup by request bytes (registered or not).
    @inlinable
    public func lookup(_ name: UnsafeRawBufferPointer) -> Command? {
        guard let key = CommandName(name) else { return nil }
        return lookup(key)
    }

    @usableFromInline
    func lookup(_ key: CommandName) -> Command? { table[key] }

    /// Top-level lookup by request bytes without retaining the command.
    @inlinable
    public func lookupRef(_ name: UnsafeRawBufferPointer) -> Unmanaged<Command>? {
        guard let key = CommandName(name) else { return nil }
        return fastTable.find(key)
    }

    /// Open-addressing table over `refs`, built once after registration.
    @usableFromInline var fastTable = CommandLookupTable(capacity: 1024)

    /// Registered top-level commands, sorted by name.
    public var registeredCommands: [Command] {
        table.values.filter { $0.isRegistered }.sorted { $0.spec.name < $1.spec.name }
    }
}

/// A fixed open-addressing map from command name to command: linear probing, cheap hash,
/// no reference counting on lookup.
@usableFromInline
struct CommandLookupTable {
    @usableFromInline var names: [CommandName?]
    @usableFromInline var commands: [Unmanaged<Command>?]
    @usableFromInline let mask: Int

    init(capacity: Int) {
        precondition(capacity & (capacity - 1) == 0)
        names = Array(repeating: nil, count: capacity)
        commands = Array(repeating: nil, count: capacity)
        mask = capacity - 1
    }

    mutating func insert(_ name: CommandName, _ command: Unmanaged<Command>) {
        var i = Int(truncatingIfNeeded: name.quickHash) & mask
        while let existing = names[i], existing != name { i = (i + 1) & mask }
        names[i] = name
        commands[i] = command
    }

    @inlinable
    func find(_ name: CommandName) -> Unmanaged<Command>? {
        var i = Int(truncatingIfNeeded: name.quickHash) & mask
        while let existing = names[i] {
            if existing == name { return commands[i] }
            i = (i &+ 1) & mask
        }
        return nil
    }
}
