// The shape of one configuration parameter: the Swift counterpart of a `standardConfig`
// entry in Redis's config.c. The table itself is data, in ConfigTable.swift.

/// Per-parameter flags, named after Redis's `*_CONFIG` flags.
public struct ConfigFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Set only at startup (file or arguments); CONFIG SET refuses it.
    public static let immutable = ConfigFlags(rawValue: 1 << 0)
    /// Holds a secret: the command layer redacts the value from SLOWLOG/MONITOR.
    public static let sensitive = ConfigFlags(rawValue: 1 << 1)
    /// Useful in debug reports (Redis's DEBUG_CONFIG).
    public static let debug = ConfigFlags(rawValue: 1 << 2)
    /// Takes several arguments (`save 3600 1 300 100`); CONFIG SET splits its value on spaces.
    public static let multiArgument = ConfigFlags(rawValue: 1 << 3)
    /// Not matched by CONFIG GET patterns, only by its exact name.
    public static let hidden = ConfigFlags(rawValue: 1 << 4)
    /// CONFIG SET refuses it unless `enable-protected-configs` allows the client.
    public static let protected = ConfigFlags(rawValue: 1 << 5)
    /// CONFIG SET refuses it while the dataset is loading (-LOADING).
    public static let denyLoading = ConfigFlags(rawValue: 1 << 6)
    /// The stored value refers to something outside (a file): setting the same value
    /// again still counts as a change, so change hooks run (e.g. to reload a TLS cert).
    public static let volatile = ConfigFlags(rawValue: 1 << 7)
}

/// How a numeric parameter accepts and prints values.
enum NumericUnit: Sendable {
    /// Plain integer (`string2ll`: no spaces, no `+`, no leading zeros).
    case integer
    /// Memory: `1k 1kb 1m 1mb 1g 1gb` (case-insensitive), printed as plain bytes.
    case memory
    /// Memory or `N%` (stored negative, printed back as `N%`), like `maxmemory-clients`.
    case memoryOrPercent
    /// Octal, like `unixsocketperm 700`.
    case octal
}

/// The C type Redis stores a numeric parameter in. Only matters for which bounds
/// check Redis applies: unsigned types compare as unsigned 64-bit numbers, so `-1`
/// becomes 18446744073709551615 and fails "argument must be between ...".
enum NumericStorage: Sendable {
    case int, uint, long, ulong, longLong, ulongLong, sizeT, ssizeT, offT, timeT

    var comparesUnsigned: Bool { self == .uint || self == .ulongLong || self == .sizeT }
}

struct NumericSpec: Sendable {
    let storage: NumericStorage
    /// Bounds as Redis's `long long` fields: ULLONG_MAX is stored as -1 and only
    /// meaningful through the unsigned comparison.
    let lower: Int64
    let upper: Int64
    let defaultValue: Int64
    let unit: NumericUnit
}

/// Name/value pairs of an enumerated parameter, in Redis's declaration order (which is
/// the order of the "must be one of the following" error and of bit-flag rendering).
struct ConfigEnum: Sendable {
    let entries: [(name: String, value: Int)]

    var errorText: String {
        // Redis copies the message into a 256-byte buffer.
        let text = "argument(s) must be one of the following: " + entries.map(\.name).joined(separator: ", ")
        return String(text.utf8.prefix(255)) ?? text
    }

    /// `configEnumGetValue`: one name, or several OR-ed together for bit flags.
    func value(of arguments: [String], bitFlags: Bool) -> Int? {
        if arguments.isEmpty || (!bitFlags && arguments.count != 1) { return nil }
        var result = 0
        for argument in arguments {
            var matched = false
            for entry in entries where asciiCaseEqual(argument, entry.name) {
                result |= entry.value
                matched = true
            }
            if !matched { return nil }
        }
        return result
    }

    /// `configEnumGetName`: the first exact match, else (bit flags) the names of the set
    /// bits in declaration order, else "unknown".
    func name(of value: Int, bitFlags: Bool) -> String {
        var names: [String] = []
        var unmatched = value
        for entry in entries {
            if value == entry.value { return entry.name }
            if bitFlags && entry.value != 0 && entry.value == (unmatched & entry.value) {
                names.append(entry.name)
                unmatched &= ~entry.value
            }
        }
        if names.isEmpty || unmatched != 0 { return "unknown" }
        return names.joined(separator: " ")
    }
}

/// Extra checks Redis runs before accepting a value (its `is_valid_fn`s).
enum ConfigValidation: Sendable {
    case activeDefrag, dbFilename, aofFilename, aofDirname, shutdownFlags
    case hostname, humanNodename, procTitleTemplate
    /// `db-maxmemory` (Apus): pairs of database index and memory size.
    case databaseQuotas
}

/// Parameters with their own parsing and printing (Redis's `createSpecialConfig`).
enum SpecialConfig: Sendable {
    case dir, save, clientOutputBufferLimit, oomScoreAdjValues, notifyKeyspaceEvents
    case bind, replicaOf, latencyTrackingInfoPercentiles
}

enum ConfigKind: Sendable {
    case bool(defaultValue: Bool)
    /// Redis's string and sds configs behave the same from outside. With `emptyIsNull`,
    /// "" means "unset": such a parameter disappears from the file on CONFIG REWRITE.
    case string(defaultValue: String?, emptyIsNull: Bool)
    case enumeration(ConfigEnum, defaultValue: Int)
    case numeric(NumericSpec)
    case special(SpecialConfig)
}

struct ConfigParameter: Sendable {
    let name: String
    let alias: String?
    let flags: ConfigFlags
    let kind: ConfigKind
    let validation: ConfigValidation?

    static func bool(_ name: String, alias: String? = nil, _ flags: ConfigFlags, default value: Bool,
                     validation: ConfigValidation? = nil) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, flags: flags, kind: .bool(defaultValue: value), validation: validation)
    }

    static func string(_ name: String, alias: String? = nil, _ flags: ConfigFlags, default value: String?,
                       emptyIsNull: Bool, validation: ConfigValidation? = nil) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, flags: flags,
                        kind: .string(defaultValue: value, emptyIsNull: emptyIsNull), validation: validation)
    }

    static func enumeration(_ name: String, alias: String? = nil, _ flags: ConfigFlags, _ table: ConfigEnum,
                            default value: Int, validation: ConfigValidation? = nil) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, flags: flags, kind: .enumeration(table, defaultValue: value),
                        validation: validation)
    }

    static func numeric(_ name: String, alias: String? = nil, _ flags: ConfigFlags, _ storage: NumericStorage,
                        _ bounds: ClosedRange<Int64>, default value: Int64, _ unit: NumericUnit) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, flags: flags,
                        kind: .numeric(NumericSpec(storage: storage, lower: bounds.lowerBound, upper: bounds.upperBound,
                                                   defaultValue: value, unit: unit)),
                        validation: nil)
    }

    /// For bounds whose upper end is ULLONG_MAX (not representable as a ClosedRange of Int64).
    static func numeric(_ name: String, alias: String? = nil, _ flags: ConfigFlags, _ storage: NumericStorage,
                        lower: Int64, upper: Int64, default value: Int64, _ unit: NumericUnit) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, flags: flags,
                        kind: .numeric(NumericSpec(storage: storage, lower: lower, upper: upper,
                                                   defaultValue: value, unit: unit)),
                        validation: nil)
    }

    static func special(_ name: String, alias: String? = nil, _ flags: ConfigFlags, _ special: SpecialConfig) -> ConfigParameter {
        ConfigParameter(name: name, alias: alias, flags: flags, kind: .special(special), validation: nil)
    }
}
