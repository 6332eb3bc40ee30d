// Parsing, validating, storing and printing parameter values: the per-type `set` and
// `get` functions of Redis's config.c. Everything here runs under the registry's lock.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The catalog of parameters, built once from `configTable`.
struct ConfigCatalog: Sendable {
    struct Entry: Sendable {
        let name: String
        let index: Int
        let isAlias: Bool
    }

    let parameters: [ConfigParameter]
    /// Lowercased name or alias → entry. Redis looks names up case-insensitively.
    let byName: [String: Entry]
    /// Primary names and aliases in table order (each alias right after its primary):
    /// the order CONFIG GET patterns are matched in.
    let entries: [Entry]

    init(_ table: [ConfigParameter]) {
        parameters = table
        var byName: [String: Entry] = [:]
        var entries: [Entry] = []
        for (index, parameter) in table.enumerated() {
            let primary = Entry(name: parameter.name, index: index, isAlias: false)
            precondition(byName[parameter.name] == nil, "duplicate config \(parameter.name)")
            byName[parameter.name] = primary
            entries.append(primary)
            if let alias = parameter.alias {
                let entry = Entry(name: alias, index: index, isAlias: true)
                precondition(byName[alias] == nil, "duplicate config \(alias)")
                byName[alias] = entry
                entries.append(entry)
            }
        }
        self.byName = byName
        self.entries = entries
    }

    func lookup(_ name: String) -> Entry? {
        byName[asciiLowercased(name)]
    }

    func index(of name: String) -> Int? {
        lookup(name)?.index
    }
}

let configCatalog = ConfigCatalog(configTable)

/// Redis's NET_HOST_STR_LEN.
private let hostnameLengthLimit = 256

struct ConfigState {
    var values: [ConfigValue]
    var configFilePath: String?
    /// Redis resets the default save rules at the first `save` line read from a config
    /// file, then appends: `save 900 1` + `save 300 10` give both rules.
    var saveRulesReadFromFile = false

    init() {
        values = configCatalog.parameters.map { parameter in
            switch parameter.kind {
            case .bool(let value): return .bool(value)
            case .string(let value, _): return .string(value)
            case .enumeration(_, let value): return .enumeration(value)
            case .numeric(let spec): return .number(spec.defaultValue)
            case .special(let special):
                switch special {
                case .dir: return .directory(currentWorkingDirectory() ?? "")
                case .save: return .save(defaultSaveRules)
                case .clientOutputBufferLimit: return .clientOutputBufferLimits(defaultClientOutputBufferLimits)
                case .oomScoreAdjValues: return .oomScoreAdjValues(defaultOOMScoreAdjValues)
                case .notifyKeyspaceEvents: return .keyspaceEvents([])
                case .bind: return .bind(defaultBindAddresses)
                case .replicaOf: return .replicaOf(nil)
                case .latencyTrackingInfoPercentiles: return .percentiles(defaultLatencyPercentiles)
                }
            }
        }
    }

    // MARK: - Reading

    func value(named name: String) -> ConfigValue {
        values[configCatalog.index(of: name)!]
    }

    func number(_ name: String) -> Int64 {
        if case .number(let n) = value(named: name) { return n }
        return 0
    }

    func flag(_ name: String) -> Bool {
        if case .bool(let b) = value(named: name) { return b }
        return false
    }

    func enumeration(_ name: String) -> Int {
        if case .enumeration(let e) = value(named: name) { return e }
        return 0
    }

    func optionalString(_ name: String) -> String? {
        if case .string(let s) = value(named: name) { return s }
        return nil
    }

    var directory: String {
        if case .directory(let d) = value(named: "dir") { return d }
        return "/"
    }

    /// CONFIG GET's text for a parameter.
    func render(_ index: Int) -> String {
        let parameter = configCatalog.parameters[index]
        switch values[index] {
        case .bool(let b):
            return b ? "yes" : "no"
        case .string(let s):
            return s ?? ""
        case .enumeration(let v):
            guard case .enumeration(let table, _) = parameter.kind else { return "" }
            return table.name(of: v, bitFlags: parameter.flags.contains(.multiArgument))
        case .number(let n):
            guard case .numeric(let spec) = parameter.kind else { return "\(n)" }
            if spec.unit == .memoryOrPercent && n < 0 { return "\(-n)%" }
            switch spec.unit {
            case .memory, .memoryOrPercent: return String(UInt64(bitPattern: n))
            case .octal: return String(n, radix: 8)
            case .integer: return String(n)
            }
        case .directory(let d):
            return d
        case .save(let rules):
            return rules.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
        case .clientOutputBufferLimits(let limits):
            return ClientBufferClass.allCases.map { c in
                let l = limits[c.rawValue]
                return "\(c.getName) \(l.hardLimitBytes) \(l.softLimitBytes) \(l.softLimitSeconds)"
            }.joined(separator: " ")
        case .oomScoreAdjValues(let values):
            return values.map(String.init).joined(separator: " ")
        case .keyspaceEvents(let flags):
            return flags.classes
        case .bind(let addresses):
            return addresses.joined(separator: " ")
        case .replicaOf(let target):
            guard let target else { return "" }
            return "\(target.host) \(target.port)"
        case .percentiles(let percentiles):
            return percentiles.map(formatTrimmedDouble).joined(separator: " ")
        }
    }

    // MARK: - Writing

    /// Parses `arguments` for parameter `index` and stores the result. Returns whether it
    /// counts as a change (Redis's set() returning 1 rather than 2); change hooks only run
    /// for changes. `readingFile` is true while loading a config file or arguments.
    mutating func assign(_ index: Int, _ arguments: [String], readingFile: Bool) throws(ConfigReason) -> Bool {
        let parameter = configCatalog.parameters[index]
        let isVolatile = parameter.flags.contains(.volatile)
        let argument = arguments.first ?? ""

        switch parameter.kind {
        case .bool:
            let newValue: Bool
            if asciiCaseEqual(argument, "yes") {
                newValue = true
            } else if asciiCaseEqual(argument, "no") {
                newValue = false
            } else {
                throw ConfigReason("argument must be 'yes' or 'no'")
            }
            try validate(parameter, .bool(newValue), argument)
            return store(index, .bool(newValue), volatile: isVolatile)

        case .string(_, let emptyIsNull):
            // A multi-argument string (db-maxmemory 1 100mb 2 1gb) keeps its words.
            let text = parameter.flags.contains(.multiArgument) ? arguments.joined(separator: " ") : argument
            try validate(parameter, .string(text), text)
            let newValue: String? = (emptyIsNull && text.isEmpty) ? nil : text
            return store(index, .string(newValue), volatile: isVolatile)

        case .enumeration(let table, _):
            guard let newValue = table.value(of: arguments, bitFlags: parameter.flags.contains(.multiArgument)) else {
                throw ConfigReason(table.errorText)
            }
            try validate(parameter, .enumeration(newValue), argument)
            return store(index, .enumeration(newValue), volatile: isVolatile)

        case .numeric(let spec):
            var newValue = try parseNumber(argument, spec)
            try checkBounds(newValue, spec)
            if parameter.name == "hz" {
                // Redis's updateHZ: out-of-range hz is accepted but capped (CONFIG_MIN_HZ..CONFIG_MAX_HZ).
                newValue = min(max(newValue, 1), 500)
            }
            return store(index, .number(newValue), volatile: isVolatile)

        case .special(let special):
            return try assignSpecial(index, special, arguments, readingFile: readingFile)
        }
    }

    private mutating func store(_ index: Int, _ newValue: ConfigValue, volatile: Bool) -> Bool {
        if values[index] != newValue {
            values[index] = newValue
            return true
        }
        return volatile
    }

    private mutating func assignSpecial(_ index: Int, _ special: SpecialConfig, _ arguments: [String],
                                        readingFile: Bool) throws(ConfigReason) -> Bool {
        switch special {
        case .dir:
            guard arguments.count == 1 else { throw ConfigReason("wrong number of arguments") }
            switch resolveDirectory(arguments[0], relativeTo: directory) {
            case .success(let path): values[index] = .directory(path)
            case .failure(let reason): throw reason
            }
            return true

        case .save:
            var arguments = arguments
            guard case .save(var rules) = values[index] else { return false }
            if arguments.count == 1 && arguments[0].isEmpty {
                // `save ""` means no snapshots at all.
                rules = []
                arguments = []
            }
            if arguments.count % 2 != 0 { throw ConfigReason("Invalid save parameters") }
            var parsed: [Int64] = []
            for (j, argument) in arguments.enumerated() {
                guard let value = parseCStrtoll(argument),
                      (j % 2 == 0 && value >= 1) || (j % 2 == 1 && value >= 0) else {
                    throw ConfigReason("Invalid save parameters")
                }
                parsed.append(value)
            }
            if !readingFile {
                rules = []
            } else if !saveRulesReadFromFile {
                saveRulesReadFromFile = true
                rules = []
            }
            for j in stride(from: 0, to: parsed.count, by: 2) {
                // Redis keeps `changes` in a C int.
                rules.append(SaveRule(seconds: Int(parsed[j]), changes: Int(Int32(truncatingIfNeeded: parsed[j + 1]))))
            }
            values[index] = .save(rules)
            return true

        case .clientOutputBufferLimit:
            guard arguments.count % 4 == 0 else {
                throw ConfigReason("Wrong number of arguments in buffer limit configuration.")
            }
            guard case .clientOutputBufferLimits(var limits) = values[index] else { return false }
            var updates: [(ClientBufferClass, ClientOutputBufferLimit)] = []
            for j in stride(from: 0, to: arguments.count, by: 4) {
                guard let bufferClass = clientBufferClass(named: arguments[j]) else {
                    throw ConfigReason("Invalid client class specified in buffer limit configuration.")
                }
                let hard = memoryToUInt64(arguments[j + 1])
                let soft = memoryToUInt64(arguments[j + 2])
                // Redis stores soft_seconds in an int before checking its sign.
                let seconds = parseCStrtoll(arguments[j + 3]).map { Int(Int32(truncatingIfNeeded: $0)) }
                guard let hard, let soft, let seconds, seconds >= 0 else {
                    throw ConfigReason("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
                }
                updates.append((bufferClass, ClientOutputBufferLimit(hardLimitBytes: hard, softLimitBytes: soft,
                                                                     softLimitSeconds: seconds)))
            }
            for (bufferClass, limit) in updates { limits[bufferClass.rawValue] = limit }
            values[index] = .clientOutputBufferLimits(limits)
            return true

        case .oomScoreAdjValues:
            guard arguments.count == 3 else { throw ConfigReason("wrong number of arguments") }
            var parsed: [Int] = []
            for argument in arguments {
                guard let value = parseCStrtoll(argument), value >= -2000, value <= 2000 else {
                    throw ConfigReason("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
                }
                parsed.append(Int(value))
            }
            return store(index, .oomScoreAdjValues(parsed), volatile: false)

        case .notifyKeyspaceEvents:
            guard arguments.count == 1 else { throw ConfigReason("wrong number of arguments") }
            guard let flags = KeyspaceEventFlags(classes: arguments[0]) else {
                throw ConfigReason("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
            }
            values[index] = .keyspaceEvents(flags)
            return true

        case .bind:
            if arguments.count > maximumBindAddresses { throw ConfigReason("Too many bind addresses specified.") }
            let addresses = (arguments.count == 1 && arguments[0].isEmpty) ? [] : arguments
            values[index] = .bind(addresses)
            return true

        case .replicaOf:
            guard arguments.count == 2 else { throw ConfigReason("wrong number of arguments") }
            if asciiCaseEqual(arguments[0], "no") && asciiCaseEqual(arguments[1], "one") {
                values[index] = .replicaOf(nil)
                return true
            }
            guard let port = parseCStrtoll(arguments[1]), port >= 0, port <= 65535 else {
                throw ConfigReason("Invalid master port")
            }
            values[index] = .replicaOf(ReplicaOfTarget(host: arguments[0], port: Int(port)))
            return true

        case .latencyTrackingInfoPercentiles:
            var percentiles: [Double] = []
            if !(arguments.count == 1 && arguments[0].isEmpty) {
                for argument in arguments {
                    guard let value = parseStrictDouble(argument) else {
                        throw ConfigReason("Invalid latency-tracking-info-percentiles parameters")
                    }
                    if value > 100 || value < 0 {
                        throw ConfigReason("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
                    }
                    percentiles.append(value)
                }
            }
            values[index] = .percentiles(percentiles)
            return true
        }
    }

    // MARK: - Numbers

    /// `numericParseString`: memory first, then percent, then octal, then plain integer.
    private func parseNumber(_ text: String, _ spec: NumericSpec) throws(ConfigReason) -> Int64 {
        switch spec.unit {
        case .memory, .memoryOrPercent:
            if let value = memoryToUInt64(text) { return Int64(bitPattern: value) }
            if spec.unit == .memoryOrPercent {
                let bytes = Array(text.utf8)
                if bytes.count > 1, bytes.last == UInt8(ascii: "%"),
                   let percent = parseStrictInt64(String(decoding: bytes.dropLast(), as: UTF8.self)), percent >= 0 {
                    // Redis stores a percentage as a negative number.
                    return -percent
                }
                throw ConfigReason("argument must be a memory or percent value")
            }
            throw ConfigReason("argument must be a memory value")
        case .octal:
            if let value = parseCStrtoll(text, base: 8, rejectOverflow: true) { return value }
            throw ConfigReason("argument couldn't be parsed as an octal number")
        case .integer:
            if let value = parseStrictInt64(text) { return value }
            throw ConfigReason("argument couldn't be parsed into an integer")
        }
    }

    /// `numericBoundaryCheck`.
    private func checkBounds(_ value: Int64, _ spec: NumericSpec) throws(ConfigReason) {
        if spec.storage.comparesUnsigned {
            let v = UInt64(bitPattern: value)
            let lower = UInt64(bitPattern: spec.lower), upper = UInt64(bitPattern: spec.upper)
            if v > upper || v < lower {
                if spec.unit == .octal {
                    throw ConfigReason("argument must be between \(String(lower, radix: 8)) and \(String(upper, radix: 8)) inclusive")
                }
                throw ConfigReason("argument must be between \(lower) and \(upper) inclusive")
            }
        } else if spec.unit == .memoryOrPercent && value < 0 {
            if value < spec.lower {
                throw ConfigReason("percentage argument must be less or equal to \(-spec.lower)")
            }
        } else if value > spec.upper || value < spec.lower {
            throw ConfigReason("argument must be between \(spec.lower) and \(spec.upper) inclusive")
        }
    }

    // MARK: - Validation

    private func validate(_ parameter: ConfigParameter, _ value: ConfigValue, _ text: String) throws(ConfigReason) {
        guard let validation = parameter.validation else { return }
        switch validation {
        case .activeDefrag:
            // Like a Redis built without HAVE_DEFRAG (the Debian build, for one): Apus has
            // no active defragmentation, so it refuses to pretend to turn it on.
            if value == .bool(true) {
                throw ConfigReason("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution")
            }
        case .dbFilename:
            if !isBaseName(text) { throw ConfigReason("dbfilename can't be a path, just a filename") }
        case .aofFilename:
            if text.isEmpty { throw ConfigReason("appendfilename can't be empty") }
            if !isBaseName(text) { throw ConfigReason("appendfilename can't be a path, just a filename") }
        case .aofDirname:
            if text.isEmpty { throw ConfigReason("appenddirname can't be empty") }
            if !isBaseName(text) { throw ConfigReason("appenddirname can't be a path, just a dirname") }
        case .databaseQuotas:
            let words = text.split(separator: " ", omittingEmptySubsequences: true)
            if words.count % 2 != 0 { throw ConfigReason("db-maxmemory takes pairs of <db> <bytes>") }
            var databases = 16
            if case .number(let n) = self.value(named: "databases") { databases = Int(n) }
            var i = 0
            while i < words.count {
                guard let db = Int(words[i]), db >= 0, db < databases else {
                    throw ConfigReason("Invalid database index '\(words[i])' (databases: \(databases))")
                }
                guard let bytes = parseMemory(String(words[i + 1])), bytes >= 0 else {
                    throw ConfigReason("argument must be a memory value")
                }
                _ = bytes
                i += 2
            }
        case .shutdownFlags:
            if case .enumeration(let flags) = value, flags & 1 != 0, flags & 2 != 0 {
                throw ConfigReason("shutdown options SAVE and NOSAVE can't be used simultaneously")
            }
        case .hostname:
            if text.utf8.count >= hostnameLengthLimit {
                throw ConfigReason("Hostnames must be less than \(hostnameLengthLimit) characters")
            }
            for c in text.utf8 {
                let ok = (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
                if !ok {
                    throw ConfigReason("Hostnames may only contain alphanumeric characters, hyphens or dots")
                }
            }
        case .humanNodename:
            // Cluster aux fields may not contain these (isValidAuxChar).
            let forbidden = Set("!#$%&()*+:;<>?@[]^{|}~".utf8)
            if text.utf8.contains(where: { forbidden.contains($0) }) {
                throw ConfigReason("Announced human node name contained invalid character")
            }
        case .procTitleTemplate:
            if !isValidProcTitleTemplate(text) {
                throw ConfigReason("template format is invalid or contains unknown variables")
            }
        }
    }

    /// `validateProcTitleTemplate`: every `{variable}` must be known and the expansion
    /// (with an empty title) must not be blank.
    private func isValidProcTitleTemplate(_ template: String) -> Bool {
        let bytes = Array(template.utf8)
        var result: [UInt8] = []
        var p = 0
        while p < bytes.count {
            guard let open = bytes[p...].firstIndex(of: UInt8(ascii: "{")) else {
                result += bytes[p...]
                break
            }
            result += bytes[p..<open]
            var start = open + 1
            if start >= bytes.count { return false }
            if bytes[start] == UInt8(ascii: "{") {
                result.append(UInt8(ascii: "{"))
                p = start + 1
                continue
            }
            guard let close = bytes[start...].firstIndex(of: UInt8(ascii: "}")) else { return false }
            guard let expansion = procTitleVariable(String(decoding: bytes[start..<close], as: UTF8.self)) else {
                return false
            }
            result += expansion.utf8
            start = close + 1
            p = start
        }
        return result.contains { $0 != UInt8(ascii: " ") }
    }

    private func procTitleVariable(_ name: String) -> String? {
        let port = number("port"), tlsPort = number("tls-port")
        switch name {
        case "title":
            return ""
        case "listen-addr":
            if port != 0 || tlsPort != 0 {
                var firstBind = "*"
                if case .bind(let addresses) = value(named: "bind"), let first = addresses.first { firstBind = first }
                return "\(firstBind):\(port != 0 ? port : tlsPort)"
            }
            return "unixsocket:\(optionalString("unixsocket") ?? "")"
        case "server-mode":
            return flag("cluster-enabled") ? "[cluster]" : ""
        case "config-file":
            return configFilePath ?? "-"
        case "port":
            return String(port)
        case "tls-port":
            return String(tlsPort)
        case "unixsocket":
            return optionalString("unixsocket") ?? ""
        default:
            return nil
        }
    }
}

private func clientBufferClass(named name: String) -> ClientBufferClass? {
    switch asciiLowercased(name) {
    case "normal": return .normal
    case "slave", "replica": return .replica
    case "pubsub": return .pubsub
    default: return nil  // includes "master", which Redis refuses here
    }
}

/// Redis's `pathIsBaseName`.
private func isBaseName(_ path: String) -> Bool {
    !path.utf8.contains(UInt8(ascii: "/")) && !path.utf8.contains(UInt8(ascii: "\\"))
}

func currentWorkingDirectory() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Makes a path absolute against `base` (a directory), without touching the file system.
func absolutePath(_ path: String, relativeTo base: String) -> String {
    if path.hasPrefix("/") { return path }
    return base.hasSuffix("/") ? base + path : base + "/" + path
}

/// What Redis's `chdir` would accept for `dir`, as a canonical absolute path, or the
/// `strerror` text Redis replies with. The registry does not chdir itself (that is
/// process-wide state the server owns, through an `onChange("dir")` hook); relative
/// paths resolve against the current `dir`, as they would after Redis's chdir.
func resolveDirectory(_ path: String, relativeTo base: String) -> Result<String, ConfigReason> {
    if path.isEmpty { return .failure(ConfigReason(errnoDescription(ENOENT))) }
    let absolute = absolutePath(path, relativeTo: base)
    guard let resolved = realpath(absolute, nil) else { return .failure(ConfigReason(errnoDescription(errno))) }
    defer { free(resolved) }
    let canonical = String(cString: resolved)
    var info = stat()
    guard stat(canonical, &info) == 0 else { return .failure(ConfigReason(errnoDescription(errno))) }
    guard (info.st_mode & S_IFMT) == S_IFDIR else { return .failure(ConfigReason(errnoDescription(ENOTDIR))) }
    guard access(canonical, X_OK) == 0 else { return .failure(ConfigReason(errnoDescription(errno))) }
    return .success(canonical)
}
