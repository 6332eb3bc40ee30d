import ApusRESP

/// A key argument found in a command: its index in the arguments (the command name is 0)
/// and how the command uses it.
public struct KeyReference: Sendable, Equatable {
    public var position: Int
    public var flags: KeySpecFlags

    public init(position: Int, flags: KeySpecFlags) {
        self.position = position
        self.flags = flags
    }
}

/// Options of a key-spec search (`GET_KEYSPEC_*` in Redis).
public struct KeySearchOptions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Also return the arguments of `not_key` specs (shard channels), as cluster routing does.
    public static let includeNotKeys = KeySearchOptions(rawValue: 1 << 0)
    /// Skip invalid and incomplete specs but keep the keys the others found.
    public static let returnPartial = KeySearchOptions(rawValue: 1 << 1)
}

extension CommandSpec {
    /// Whether the command can have key arguments at all (Redis's `doesCommandHaveKeys`):
    /// it has a keys procedure or a key spec that is not `not_key`.
    public var hasKeyArguments: Bool {
        keysProcedure != nil || keySpecs.contains { !$0.flags.contains(.notKey) }
    }

    /// The key arguments of `args` (the full command, name at index 0), the way Redis's
    /// `getKeysFromCommandWithSpecs` finds them: from the key specs when they are complete and
    /// their flags fixed, otherwise from the command's keys procedure. Empty when the
    /// arguments are malformed (the command itself reports the error). `args` must satisfy the
    /// command's arity, as after the dispatcher's check.
    public func keyReferences(in args: CommandArguments, options: KeySearchOptions = []) -> [KeyReference] {
        let flagsMissingSomewhere = keySpecs.reduce(KeySpecFlags()) { $0.union(KeySpecFlags(rawValue: ~$1.flags.rawValue)) }
        let flagsAnywhere = keySpecs.reduce(KeySpecFlags()) { $0.union($1.flags) }
        // Prefer the specs when at least one is a real key and none has argument-dependent flags.
        if flagsMissingSomewhere.contains(.notKey) && !flagsAnywhere.contains(.variableFlags) {
            if let keys = keyReferencesFromKeySpecs(in: args, options: options) { return keys }
        }
        guard let procedure = keysProcedure else { return [] }
        return procedure.keys(in: args)
    }

    /// Redis's older `getKeysFromCommand`, which 7.2's cluster routing still uses: the keys
    /// procedure when the command has one, otherwise the legacy (first, last, step) range, with
    /// no flags. `not_key` arguments (shard channels) count as keys here.
    public func legacyKeyReferences(in args: CommandArguments) -> [KeyReference] {
        if let procedure = keysProcedure { return procedure.keys(in: args) }
        let range = legacyKeyRange
        guard range.step > 0 else { return [] }
        let last = range.last < 0 ? args.count + range.last : range.last
        var keys: [KeyReference] = []
        var i = range.first
        while i <= last {
            // Too few arguments for the range: the command reports its own arity error.
            if i >= args.count { return [] }
            keys.append(KeyReference(position: i, flags: []))
            i += range.step
        }
        return keys
    }

    /// Redis's `getKeysUsingKeySpecs`: the keys the key specs describe, or nil when a spec
    /// cannot be applied (unknown, incomplete, or the arguments do not fit it) unless
    /// `.returnPartial` is given.
    public func keyReferencesFromKeySpecs(in args: CommandArguments,
                                          options: KeySearchOptions = []) -> [KeyReference]? {
        let argc = args.count
        var keys: [KeyReference] = []
        for spec in keySpecs {
            if spec.flags.contains(.notKey) && !options.contains(.includeNotKeys) { continue }
            var valid = true
            searching: do {
                var first = 0
                switch spec.beginSearch {
                case .index(let position):
                    first = position
                case .keyword(let keyword, let startFrom):
                    // Redis scans up to, not including, the last argument (forward) or the
                    // first argument after the name (backward): a keyword there has no key after it.
                    let start = startFrom > 0 ? startFrom : argc + startFrom
                    let end = startFrom > 0 ? argc - 1 : 1
                    var i = start
                    while i != end {
                        if i >= argc || i < 1 { break }
                        if args[i].equalsIgnoringCaseASCII(keyword) {
                            first = i + 1
                            break
                        }
                        i = start <= end ? i + 1 : i - 1
                    }
                    if first == 0 { continue } // Keyword absent: this spec has no keys.
                case .unknown:
                    valid = false
                    break searching
                }

                let last: Int
                let step: Int
                switch spec.findKeys {
                case .range(let lastKey, let keyStep, let limit):
                    step = keyStep
                    if lastKey >= 0 {
                        last = first + lastKey
                    } else if limit == 0 {
                        last = argc + lastKey
                    } else {
                        last = first + ((argc - first) / limit + lastKey)
                    }
                case .keyNum(let keyNumIndex, let firstKey, let keyStep):
                    step = keyStep
                    guard keyNumIndex < argc, first + keyNumIndex < argc,
                          let count = parseInteger(args[first + keyNumIndex]), count >= 0 else {
                        valid = false
                        break searching
                    }
                    first += firstKey
                    // Redis casts numkeys to int; a huge count then fails the bounds check below.
                    last = first + Int(Int32(truncatingIfNeeded: count)) - 1
                case .unknown:
                    valid = false
                    break searching
                }

                // An out-of-bounds first or last key means a syntax error in the command.
                if last >= argc || last < first || first >= argc {
                    valid = false
                    break searching
                }
                var i = first
                while i <= last {
                    keys.append(KeyReference(position: i, flags: spec.flags))
                    i += max(step, 1)
                }
                // Incomplete specs fail only after their keys were added, for `.returnPartial`.
                if spec.flags.contains(.incomplete) { valid = false }
            }
            if !valid && !options.contains(.returnPartial) { return nil }
        }
        return keys
    }
}

extension KeysProcedure {
    /// The command-specific key finders of Redis's db.c (`sortGetKeys`, `migrateGetKeys`, ...).
    public func keys(in args: CommandArguments) -> [KeyReference] {
        switch self {
        case .sintercard, .zunionInterDiff, .lmpop, .zmpop:
            return numberedKeys(args, storeKeyAt: 0, countAt: 1, firstKeyAt: 2)
        case .zunionInterDiffStore:
            return numberedKeys(args, storeKeyAt: 1, countAt: 2, firstKeyAt: 3)
        case .eval, .function, .blmpop:
            return numberedKeys(args, storeKeyAt: 0, countAt: 2, firstKeyAt: 3)
        case .sortRO:
            return [KeyReference(position: 1, flags: [.ro, .access])]
        case .sort:
            return sortKeys(args)
        case .migrate:
            return migrateKeys(args)
        case .georadius:
            return georadiusKeys(args)
        case .xread:
            return xreadKeys(args)
        case .set:
            return setKeys(args)
        case .bitfield:
            return bitfieldKeys(args)
        }
    }

    /// Redis's `genericGetKeys`: `[store] numkeys key [key ...]`, the store key last. Flags
    /// are empty: these commands' key specs are complete, so this runs only for bad input.
    private func numberedKeys(_ args: CommandArguments, storeKeyAt: Int, countAt: Int,
                              firstKeyAt: Int) -> [KeyReference] {
        guard countAt < args.count else { return [] }
        let count = parseCInteger(args[countAt])
        // No keys when the command is going to reply with a syntax error.
        if count < 1 || count > (args.count - firstKeyAt) { return [] }
        var keys = (0..<count).map { KeyReference(position: firstKeyAt + $0, flags: []) }
        if storeKeyAt != 0 { keys.append(KeyReference(position: storeKeyAt, flags: [])) }
        return keys
    }

    /// `SORT key ... [STORE dest] ...`: the sorted key and the last STORE destination.
    private func sortKeys(_ args: CommandArguments) -> [KeyReference] {
        var keys = [KeyReference(position: 1, flags: [.ro, .access])]
        var store: Int?
        // Options are assumed to take no value except LIMIT (2), GET and BY (1 each). The key
        // after STORE is not skipped: Redis's scan looks at it as an option too.
        var i = 2
        while i < args.count {
            let arg = args[i]
            if arg.equalsIgnoringCase("limit") {
                i += 2
            } else if arg.equalsIgnoringCase("store") && i + 1 < args.count {
                store = i + 1 // The last STORE wins, as in SORT itself.
            } else if arg.equalsIgnoringCase("get") || arg.equalsIgnoringCase("by") {
                i += 1
            }
            i += 1
        }
        if let store { keys.append(KeyReference(position: store, flags: [.ow, .update])) }
        return keys
    }

    /// `MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key ...]`.
    private func migrateKeys(_ args: CommandArguments) -> [KeyReference] {
        var first = 3
        var count = 1
        if args.count > 6 {
            var i = 6
            while i < args.count {
                let arg = args[i]
                if arg.equalsIgnoringCase("keys") {
                    if args[3].count > 0 {
                        // A key together with KEYS is a syntax error MIGRATE reports itself.
                        count = 0
                    } else {
                        first = i + 1
                        count = args.count - first
                    }
                    break
                }
                if arg.equalsIgnoringCase("auth") {
                    i += 1
                } else if arg.equalsIgnoringCase("auth2") {
                    i += 2
                }
                i += 1
            }
        }
        return (0..<count).map { KeyReference(position: first + $0, flags: [.rw, .access, .delete]) }
    }

    /// `GEORADIUS[BYMEMBER] key ... [STORE key | STOREDIST key]`: the last STORE/STOREDIST wins.
    private func georadiusKeys(_ args: CommandArguments) -> [KeyReference] {
        var stored: Int?
        var i = 5
        while i < args.count {
            let arg = args[i]
            if (arg.equalsIgnoringCase("store") || arg.equalsIgnoringCase("storedist")) && i + 1 < args.count {
                stored = i + 1
                i += 1
            }
            i += 1
        }
        var keys = [KeyReference(position: 1, flags: [])]
        if let stored { keys.append(KeyReference(position: stored, flags: [])) }
        return keys
    }

    /// `XREAD[GROUP] [options] STREAMS key [key ...] id [id ...]`: the first half after STREAMS.
    private func xreadKeys(_ args: CommandArguments) -> [KeyReference] {
        // Walk the options to find the real STREAMS: it can also be a group, consumer or key name.
        var streamsAt: Int?
        var i = 1
        while i < args.count {
            let arg = args[i]
            if arg.equalsIgnoringCase("block") || arg.equalsIgnoringCase("count") {
                i += 1
            } else if arg.equalsIgnoringCase("group") {
                i += 2
            } else if arg.equalsIgnoringCase("noack") {
                // No value.
            } else if arg.equalsIgnoringCase("streams") {
                streamsAt = i
                break
            } else {
                break // Syntax error.
            }
            i += 1
        }
        guard let streamsAt else { return [] }
        let remaining = args.count - streamsAt - 1
        if remaining == 0 || remaining % 2 != 0 { return [] }
        return (0..<remaining / 2).map { KeyReference(position: streamsAt + 1 + $0, flags: []) }
    }

    /// `SET key value [...] [GET]`: the key is read as well when GET is given.
    private func setKeys(_ args: CommandArguments) -> [KeyReference] {
        var i = 3
        while i < args.count {
            if args[i].equalsIgnoringCase("get") {
                return [KeyReference(position: 1, flags: [.rw, .access, .update])]
            }
            i += 1
        }
        return [KeyReference(position: 1, flags: [.ow, .update])]
    }

    /// `BITFIELD key [GET ...] [SET ...] [INCRBY ...] [OVERFLOW ...]`: read-only when only GETs.
    private func bitfieldKeys(_ args: CommandArguments) -> [KeyReference] {
        var readOnly = true
        var i = 2
        while i < args.count {
            let remaining = args.count - i - 1
            let arg = args[i]
            if arg.equalsIgnoringCase("get") && remaining >= 2 {
                i += 2
            } else if (arg.equalsIgnoringCase("set") || arg.equalsIgnoringCase("incrby")) && remaining >= 3 {
                readOnly = false
                break
            } else if arg.equalsIgnoringCase("overflow") && remaining >= 1 {
                i += 1
            } else {
                readOnly = false // A syntax error: safer to assume a write.
                break
            }
            i += 1
        }
        return [KeyReference(position: 1, flags: readOnly ? [.ro, .access] : [.rw, .access, .update])]
    }
}

extension LegacyKeyRange {
    /// Redis's `populateCommandLegacyRangeSpec`: glues the index+range specs with step 1 that
    /// follow each other into one (first, last, step) triple, and reports whether the keys are
    /// "movable" (some spec is not such a range, or is incomplete).
    static func derive(from specs: [KeySpec]) -> (range: LegacyKeyRange, movableKeys: Bool) {
        if specs.isEmpty { return (.none, false) }
        if specs.count == 1, case .index(let position) = specs[0].beginSearch,
           case .range(let lastKey, let step, _) = specs[0].findKeys {
            let last = lastKey >= 0 ? position + lastKey : lastKey
            return (LegacyKeyRange(first: position, last: last, step: step), specs[0].flags.contains(.incomplete))
        }
        var movable = false
        var first = Int.max
        var last = 0
        var previousLast = 0
        for spec in specs {
            guard case .index(let position) = spec.beginSearch,
                  case .range(let lastKey, let step, _) = spec.findKeys else {
                movable = true
                continue
            }
            if step != 1 || (previousLast != 0 && previousLast != position - 1) {
                movable = true
                continue
            }
            if spec.flags.contains(.incomplete) { movable = true }
            first = min(first, position)
            let absoluteLast = lastKey >= 0 ? lastKey + position : lastKey
            // Redis compares as unsigned, so a "from the end" (negative) last key wins.
            last = UInt(bitPattern: last) >= UInt(bitPattern: absoluteLast) ? last : absoluteLast
            previousLast = last
        }
        if first == Int.max { return (.none, true) }
        return (LegacyKeyRange(first: first, last: last, step: 1), movable)
    }
}

// MARK: - Argument parsing the way Redis's key finders do it

extension UnsafeRawBufferPointer {
    /// ASCII case-insensitive equality with `token` (any case), like `strcasecmp`.
    func equalsIgnoringCaseASCII(_ token: String) -> Bool {
        var index = 0
        for expected in token.utf8 {
            guard index < count else { return false }
            if asciiLowercase(self[index]) != asciiLowercase(expected) { return false }
            index += 1
        }
        return index == count
    }
}

@inline(__always)
private func asciiLowercase(_ c: UInt8) -> UInt8 {
    c >= 0x41 && c <= 0x5A ? c | 0x20 : c
}

/// C's `atoi` as glibc implements it (`(int)strtol(s, NULL, 10)`): leading whitespace, a sign,
/// then as many digits as there are; 0 when none. Redis's numkeys-based key finders use it.
func parseCInteger(_ bytes: UnsafeRawBufferPointer) -> Int {
    var i = 0
    let n = bytes.count
    while i < n, bytes[i] == 0x20 || (bytes[i] >= 0x09 && bytes[i] <= 0x0D) { i += 1 }
    var negative = false
    if i < n, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
        negative = bytes[i] == UInt8(ascii: "-")
        i += 1
    }
    var magnitude: UInt64 = 0
    var saturated = false
    while i < n, bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") {
        // C strings end at the first NUL; a NUL is not a digit, so the loop stops there too.
        let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
        if o1 || o2 || sum > UInt64(Int64.max) + 1 { saturated = true; break }
        magnitude = sum
        i += 1
    }
    // strtol saturates at LONG_MIN/LONG_MAX; the cast to int keeps the low 32 bits.
    let long: Int64
    if saturated {
        long = negative ? Int64.min : Int64.max
    } else if negative {
        long = Int64(truncatingIfNeeded: 0 &- magnitude)
    } else {
        long = magnitude > UInt64(Int64.max) ? Int64.max : Int64(magnitude)
    }
    return Int(Int32(truncatingIfNeeded: long))
}
