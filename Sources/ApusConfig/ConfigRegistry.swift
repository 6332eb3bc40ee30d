// The configuration registry: every Redis 7.2 parameter with its current value, read
// by the server and changed by config files, `--name value` arguments and CONFIG SET.
//
// Behaviour follows Redis 7.2's config.c (checked against redis-server 7.0.15 by the
// differential tests in Tests/ApusConfigTests/RedisOracleTests.swift). Deliberate
// differences:
// - CONFIG GET and the lines CONFIG REWRITE appends follow the table order; Redis uses
//   hash-table order, which differs from run to run.
// - `dir` is validated and stored as a canonical absolute path, but the registry never
//   calls chdir (process-wide state): the server does, in an `onChange("dir")` hook.
// - Change hooks (Redis's apply functions) also run while a file or arguments load.
// - `activedefrag yes` is refused, as by a Redis built without jemalloc defrag support
//   (the Debian build, for one), since Apus has no active defragmentation.
// - An `include` cycle is a config error after 64 levels; Redis overflows its stack.
// - `user` and `loadmodule` lines are rewritten only through an `onRewrite` provider.
// - Values are Swift Strings: bytes that are not UTF-8 (possible in CONFIG SET
//   arguments and `\xHH` escapes) become U+FFFD.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Called with a parameter's new value (as CONFIG GET prints it) after it changed.
/// Throwing rejects the change: CONFIG SET rolls every parameter of the command back
/// and replies with the error; a config file or argument load fails.
public typealias ConfigChangeHook = @Sendable (_ newValue: String) throws(ConfigError) -> Void

/// Called while loading for a file-only directive (`user`, `rename-command`,
/// `loadmodule`) with its arguments after the directive name. Throwing fails the load,
/// with the error's message as the reason line.
public typealias ConfigDirectiveHandler = @Sendable (_ arguments: [String]) throws(ConfigError) -> Void

/// A pre-resolved parameter, for reading hot values without a name lookup.
public struct ConfigKey: Sendable, Hashable {
    let index: Int
}

/// All configuration parameters of Redis 7.2 (names, aliases, types, bounds, defaults,
/// flags), their current values, and the CONFIG GET/SET/REWRITE semantics.
///
/// Thread-safe. Reads (`int`, `bool` are lock-free; `string`, `get` take a short lock)
/// may happen from any thread at any time. Changes (`set`, `loadFile`,
/// `applyArguments`, `rewrite`) are serialised; change hooks run outside the value lock,
/// so a hook may read the registry, but must not change it (that would deadlock).
public final class ConfigRegistry: @unchecked Sendable {
    /// The Redis version whose configuration this mirrors (shown in fatal config errors).
    public static let redisVersion = "7.2.4"

    let state: Mutex<ConfigState>
    /// Serialises everything that changes values, so a CONFIG SET's hooks and rollback
    /// cannot interleave with another change.
    let changeLock = Mutex<Void>(())
    let registrations = Mutex<Registrations>(Registrations())
    let fastValues: FastValues
    /// The process umask, for the mode of files CONFIG REWRITE writes.
    let umaskValue: UInt32

    struct Registrations {
        var changeHooks: [Int: [ConfigChangeHook]] = [:]
        var directiveHandlers: [String: [ConfigDirectiveHandler]] = [:]
        var rewriteProviders: [String: @Sendable () -> [String]] = [:]
    }

    /// Directives the registry keeps for the server without interpreting them.
    struct FileDirectives {
        var users: [[String]] = []
        var loadModules: [[String]] = []
        var commandRenames: [(from: String, to: String)] = []
        var moduleConfigs: [(name: String, value: String)] = []
    }

    let fileDirectives = Mutex<FileDirectives>(FileDirectives())

    /// All parameters at their defaults (`dir` is the current working directory).
    public init() {
        let initial = ConfigState()
        state = Mutex(initial)
        fastValues = FastValues(count: configCatalog.parameters.count)
        umaskValue = currentUmask()
        for index in configCatalog.parameters.indices {
            fastValues.publish(index, initial.values[index])
        }
    }

    /// The absolute path of the config file given to `loadFile` or `applyArguments`, if
    /// any: the file CONFIG REWRITE rewrites.
    public var configFilePath: String? {
        state.withLock { $0.configFilePath }
    }

    // MARK: - Lookup

    /// A key for `int(_:)`/`bool(_:)` without a name lookup. The name must exist.
    public func key(_ name: String) -> ConfigKey {
        guard let index = configCatalog.index(of: name) else { preconditionFailure("unknown config parameter '\(name)'") }
        return ConfigKey(index: index)
    }

    /// Whether `name` is a parameter or an alias (case-insensitive).
    public func isKnown(_ name: String) -> Bool {
        configCatalog.lookup(name) != nil
    }

    /// The flags of a parameter (e.g. `.sensitive`, to redact CONFIG SET arguments), or
    /// nil for an unknown name.
    public func flags(of name: String) -> ConfigFlags? {
        configCatalog.lookup(name).map { configCatalog.parameters[$0.index].flags }
    }

    /// The primary name of a parameter or alias (`slaveof` → `replicaof`).
    public func canonicalName(of name: String) -> String? {
        configCatalog.lookup(name).map { configCatalog.parameters[$0.index].name }
    }

    // MARK: - Typed reads

    /// The value of a numeric, bool (1/0), enum (Redis's enum constant) or
    /// `notify-keyspace-events` (flag bits) parameter. Memory values are bytes;
    /// `maxmemory-clients` is negative for a percentage (`10%` is -10), as in Redis.
    /// Unsigned values above `Int.max` read as `Int.max`. Lock-free.
    public func int(_ name: String) -> Int {
        int(key(name))
    }

    public func int(_ key: ConfigKey) -> Int {
        precondition(fastValues.readable[key.index], "config parameter '\(configCatalog.parameters[key.index].name)' is not numeric")
        return fastValues.load(key.index)
    }

    /// The value of a yes/no parameter. Lock-free.
    public func bool(_ name: String) -> Bool {
        bool(key(name))
    }

    public func bool(_ key: ConfigKey) -> Bool {
        guard case .bool = configCatalog.parameters[key.index].kind else {
            preconditionFailure("config parameter '\(configCatalog.parameters[key.index].name)' is not yes/no")
        }
        return fastValues.load(key.index) != 0
    }

    /// A parameter's value exactly as CONFIG GET prints it ("" for unset strings).
    public func string(_ name: String) -> String {
        let index = key(name).index
        return state.withLock { $0.render(index) }
    }

    /// The `save` rules; empty when snapshotting is off.
    public func saveRules() -> [SaveRule] {
        if case .save(let rules) = state.withLock({ $0.value(named: "save") }) { return rules }
        return []
    }

    /// `client-output-buffer-limit` for one client class.
    public func clientOutputBufferLimit(_ bufferClass: ClientBufferClass) -> ClientOutputBufferLimit {
        if case .clientOutputBufferLimits(let limits) = state.withLock({ $0.value(named: "client-output-buffer-limit") }) {
            return limits[bufferClass.rawValue]
        }
        return defaultClientOutputBufferLimits[bufferClass.rawValue]
    }

    /// `bind` addresses (may be empty: listen on no TCP address).
    public func bindAddresses() -> [String] {
        if case .bind(let addresses) = state.withLock({ $0.value(named: "bind") }) { return addresses }
        return []
    }

    /// `replicaof` target, nil for a primary.
    public func replicaOf() -> ReplicaOfTarget? {
        if case .replicaOf(let target) = state.withLock({ $0.value(named: "replicaof") }) { return target }
        return nil
    }

    /// `notify-keyspace-events`.
    public func keyspaceEvents() -> KeyspaceEventFlags {
        KeyspaceEventFlags(rawValue: int("notify-keyspace-events"))
    }

    /// `oom-score-adj-values` (primary, replica, background child).
    public func oomScoreAdjValues() -> [Int] {
        if case .oomScoreAdjValues(let values) = state.withLock({ $0.value(named: "oom-score-adj-values") }) { return values }
        return defaultOOMScoreAdjValues
    }

    /// `latency-tracking-info-percentiles`.
    public func latencyTrackingInfoPercentiles() -> [Double] {
        if case .percentiles(let values) = state.withLock({ $0.value(named: "latency-tracking-info-percentiles") }) {
            return values
        }
        return []
    }

    /// Arguments of every `user` directive read from config files, in order.
    public func userDirectives() -> [[String]] {
        fileDirectives.withLock { $0.users }
    }

    /// `loadmodule <path> [args...]` directives read from config files, in order.
    public func loadModuleDirectives() -> [[String]] {
        fileDirectives.withLock { $0.loadModules }
    }

    /// `rename-command <from> <to>` directives, in order (`to` is empty to remove a command).
    public func commandRenames() -> [(from: String, to: String)] {
        fileDirectives.withLock { $0.commandRenames }
    }

    /// Module parameters (`module.name value`) read from config files; the last
    /// occurrence of a name wins. Redis refuses to start when no loaded module claims them.
    public func moduleConfigs() -> [(name: String, value: String)] {
        fileDirectives.withLock { $0.moduleConfigs }
    }

    // MARK: - Registration

    /// Runs `hook` with the new value whenever the parameter changes (CONFIG SET, config
    /// file, arguments). Several hooks per parameter run in registration order; an alias
    /// registers on its primary. A failing hook rejects the change.
    public func onChange(_ name: String, _ hook: @escaping ConfigChangeHook) {
        let index = key(name).index
        registrations.withLock { $0.changeHooks[index, default: []].append(hook) }
    }

    /// Lets the server check a file-only directive while it is read: `user` (ACL rules),
    /// `rename-command` (the command table), `loadmodule`. Without a handler the directive
    /// is only recorded (see `userDirectives()` etc.).
    public func onDirective(_ directive: String, _ handler: @escaping ConfigDirectiveHandler) {
        registrations.withLock { $0.directiveHandlers[asciiLowercased(directive), default: []].append(handler) }
    }

    /// Supplies the current lines for a directive the registry cannot reconstruct when
    /// it rewrites the config file: `user` (the ACL users, e.g. `user default on nopass ~* &* +@all`)
    /// and `loadmodule`. Lines are complete (`"user alice on ..."`). Without a provider
    /// those lines are left as they are in the file.
    public func onRewrite(_ directive: String, _ lines: @escaping @Sendable () -> [String]) {
        registrations.withLock { $0.rewriteProviders[asciiLowercased(directive)] = lines }
    }

    func hooks(for index: Int) -> [ConfigChangeHook] {
        registrations.withLock { $0.changeHooks[index] ?? [] }
    }

    /// Runs the hooks of a parameter that changed; returns the first failure.
    func runHooks(_ index: Int, value: String) -> ConfigError? {
        for hook in hooks(for: index) {
            do throws(ConfigError) {
                try hook(value)
            } catch {
                return error
            }
        }
        return nil
    }

    /// Stores a parsed change and publishes it to the lock-free readers.
    func assign(_ index: Int, _ arguments: [String], readingFile: Bool) throws(ConfigReason) -> (changed: Bool, rendered: String) {
        let result = state.withLock { state -> Result<(Bool, String), ConfigReason> in
            do throws(ConfigReason) {
                let changed = try state.assign(index, arguments, readingFile: readingFile)
                fastValues.publish(index, state.values[index])
                return .success((changed, state.render(index)))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let reason): throw reason
        }
    }

    /// Runs `body` with all changes serialised.
    func serialized<T: Sendable>(_ body: () throws(ConfigError) -> T) throws(ConfigError) -> T {
        let result = changeLock.withLock { _ -> Result<T, ConfigError> in
            do throws(ConfigError) {
                return .success(try body())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Lock-free copies of the numeric, bool and enum values, so the hot path can read
/// e.g. `maxmemory` on every write without taking a lock.
final class FastValues: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Atomic<Int>>
    private let count: Int
    /// Which parameters `int()` may read.
    let readable: [Bool]

    init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        for i in 0..<count { (slots + i).initialize(to: Atomic<Int>(0)) }
        readable = configCatalog.parameters.map { parameter in
            switch parameter.kind {
            case .bool, .enumeration, .numeric: return true
            case .special(let special): return special == .notifyKeyspaceEvents
            case .string: return false
            }
        }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func load(_ index: Int) -> Int {
        slots[index].load(ordering: .relaxed)
    }

    func publish(_ index: Int, _ value: ConfigValue) {
        let number: Int
        switch value {
        case .bool(let b): number = b ? 1 : 0
        case .enumeration(let e): number = e
        case .number(let n):
            if case .numeric(let spec) = configCatalog.parameters[index].kind, spec.storage.comparesUnsigned, n < 0 {
                number = Int.max
            } else {
                number = Int(n)
            }
        case .keyspaceEvents(let flags): number = flags.rawValue
        default: return
        }
        slots[index].store(number, ordering: .relaxed)
    }
}

private func currentUmask() -> UInt32 {
    let mask = umask(0)
    umask(mask)
    return UInt32(mask)
}
