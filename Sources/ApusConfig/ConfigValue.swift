// Stored values and the public types of the special (multi-part) parameters.

/// One `save <seconds> <changes>` rule.
public struct SaveRule: Sendable, Equatable {
    public var seconds: Int
    public var changes: Int
    public init(seconds: Int, changes: Int) {
        self.seconds = seconds
        self.changes = changes
    }
}

/// Client classes of `client-output-buffer-limit`, in Redis's order.
public enum ClientBufferClass: Int, Sendable, CaseIterable {
    case normal = 0, replica = 1, pubsub = 2

    /// The name CONFIG GET prints (Redis still says "slave" there, but "replica" in CONFIG REWRITE).
    var getName: String { ["normal", "slave", "pubsub"][rawValue] }
    var rewriteName: String { ["normal", "replica", "pubsub"][rawValue] }
}

/// One class's `client-output-buffer-limit <class> <hard> <soft> <soft-seconds>`.
public struct ClientOutputBufferLimit: Sendable, Equatable {
    public var hardLimitBytes: UInt64
    public var softLimitBytes: UInt64
    public var softLimitSeconds: Int
    public init(hardLimitBytes: UInt64, softLimitBytes: UInt64, softLimitSeconds: Int) {
        self.hardLimitBytes = hardLimitBytes
        self.softLimitBytes = softLimitBytes
        self.softLimitSeconds = softLimitSeconds
    }
}

/// `replicaof <host> <port>`.
public struct ReplicaOfTarget: Sendable, Equatable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Keyspace notification classes (`notify-keyspace-events`), Redis's NOTIFY_* bits.
public struct KeyspaceEventFlags: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let keyspace = KeyspaceEventFlags(rawValue: 1 << 0)   // K
    public static let keyevent = KeyspaceEventFlags(rawValue: 1 << 1)   // E
    public static let generic = KeyspaceEventFlags(rawValue: 1 << 2)    // g
    public static let string = KeyspaceEventFlags(rawValue: 1 << 3)     // $
    public static let list = KeyspaceEventFlags(rawValue: 1 << 4)       // l
    public static let set = KeyspaceEventFlags(rawValue: 1 << 5)        // s
    public static let hash = KeyspaceEventFlags(rawValue: 1 << 6)       // h
    public static let zset = KeyspaceEventFlags(rawValue: 1 << 7)       // z
    public static let expired = KeyspaceEventFlags(rawValue: 1 << 8)    // x
    public static let evicted = KeyspaceEventFlags(rawValue: 1 << 9)    // e
    public static let stream = KeyspaceEventFlags(rawValue: 1 << 10)    // t
    public static let keyMiss = KeyspaceEventFlags(rawValue: 1 << 11)   // m (not part of A)
    public static let loaded = KeyspaceEventFlags(rawValue: 1 << 12)    // modules only
    public static let module = KeyspaceEventFlags(rawValue: 1 << 13)    // d
    public static let new = KeyspaceEventFlags(rawValue: 1 << 14)       // n (not part of A)
    /// `A`: every class except key-miss and new-key.
    public static let all: KeyspaceEventFlags = [.generic, .string, .list, .set, .hash, .zset, .expired, .evicted,
                                                 .stream, .module]

    /// `keyspaceEventsStringToFlags`; nil for a character outside `Ag$lshzxeKEtmdn`.
    public init?(classes: String) {
        var flags: KeyspaceEventFlags = []
        for c in classes.utf8 {
            switch c {
            case UInt8(ascii: "A"): flags.formUnion(.all)
            case UInt8(ascii: "g"): flags.insert(.generic)
            case UInt8(ascii: "$"): flags.insert(.string)
            case UInt8(ascii: "l"): flags.insert(.list)
            case UInt8(ascii: "s"): flags.insert(.set)
            case UInt8(ascii: "h"): flags.insert(.hash)
            case UInt8(ascii: "z"): flags.insert(.zset)
            case UInt8(ascii: "x"): flags.insert(.expired)
            case UInt8(ascii: "e"): flags.insert(.evicted)
            case UInt8(ascii: "K"): flags.insert(.keyspace)
            case UInt8(ascii: "E"): flags.insert(.keyevent)
            case UInt8(ascii: "t"): flags.insert(.stream)
            case UInt8(ascii: "m"): flags.insert(.keyMiss)
            case UInt8(ascii: "d"): flags.insert(.module)
            case UInt8(ascii: "n"): flags.insert(.new)
            default: return nil
            }
        }
        self = flags
    }

    /// `keyspaceEventsFlagsToString`: "A" when all of A is set, then K, E, m.
    public var classes: String {
        var out = ""
        if isSuperset(of: .all) {
            out += "A"
        } else {
            let order: [(KeyspaceEventFlags, String)] = [(.generic, "g"), (.string, "$"), (.list, "l"), (.set, "s"),
                                                         (.hash, "h"), (.zset, "z"), (.expired, "x"), (.evicted, "e"),
                                                         (.stream, "t"), (.module, "d"), (.new, "n")]
            for (flag, letter) in order where contains(flag) { out += letter }
        }
        if contains(.keyspace) { out += "K" }
        if contains(.keyevent) { out += "E" }
        if contains(.keyMiss) { out += "m" }
        return out
    }
}

/// A parameter's current value.
enum ConfigValue: Equatable, Sendable {
    case bool(Bool)
    case string(String?)
    case enumeration(Int)
    case number(Int64)
    case directory(String)
    case save([SaveRule])
    case clientOutputBufferLimits([ClientOutputBufferLimit])
    case oomScoreAdjValues([Int])
    case keyspaceEvents(KeyspaceEventFlags)
    case bind([String])
    case replicaOf(ReplicaOfTarget?)
    case percentiles([Double])
}

let defaultSaveRules = [SaveRule(seconds: 3600, changes: 1), SaveRule(seconds: 300, changes: 100),
                        SaveRule(seconds: 60, changes: 10000)]

let defaultClientOutputBufferLimits = [
    ClientOutputBufferLimit(hardLimitBytes: 0, softLimitBytes: 0, softLimitSeconds: 0),
    ClientOutputBufferLimit(hardLimitBytes: 256 * 1024 * 1024, softLimitBytes: 64 * 1024 * 1024, softLimitSeconds: 60),
    ClientOutputBufferLimit(hardLimitBytes: 32 * 1024 * 1024, softLimitBytes: 8 * 1024 * 1024, softLimitSeconds: 60),
]

let defaultOOMScoreAdjValues = [0, 200, 800]

let defaultBindAddresses = ["*", "-::*"]

let defaultLatencyPercentiles = [50.0, 99.0, 99.9]

/// Redis's CONFIG_BINDADDR_MAX.
let maximumBindAddresses = 16
