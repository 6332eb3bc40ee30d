// CONFIG GET and CONFIG SET semantics (config.c configGetCommand / configSetCommand).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ConfigRegistry {
    /// CONFIG GET: the parameters matching any of the glob patterns (case-insensitive),
    /// each once, with their values.
    ///
    /// A pattern without `*`, `?` or `[` is an exact lookup and is answered under the name
    /// as given (`CONFIG GET MAXMEMORY` answers `MAXMEMORY`), hidden parameters included.
    /// Patterns match primary names and aliases alike (`*ziplist*` lists the old names)
    /// but never hidden parameters.
    ///
    /// Order: Redis replies in hash-table order, which changes from run to run (RESP3
    /// clients get a map), so no client can depend on it. Here it is deterministic:
    /// patterns in argument order, and within a pattern Redis's table order with each
    /// alias right after its primary name.
    public func get(patterns: [String]) -> [(name: String, value: String)] {
        state.withLock { state in
            var seen = Set<String>()
            var result: [(name: String, value: String)] = []
            for pattern in patterns {
                let isGlob = pattern.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
                if !isGlob {
                    let folded = asciiLowercased(pattern)
                    if seen.contains(folded) { continue }
                    if let entry = configCatalog.lookup(pattern) {
                        seen.insert(folded)
                        result.append((pattern, state.render(entry.index)))
                    }
                    continue
                }
                for entry in configCatalog.entries {
                    if configCatalog.parameters[entry.index].flags.contains(.hidden) { continue }
                    if seen.contains(entry.name) { continue }
                    if configNameMatches(pattern: pattern, name: entry.name) {
                        seen.insert(entry.name)
                        result.append((entry.name, state.render(entry.index)))
                    }
                }
            }
            return result
        }
    }

    /// CONFIG SET with the raw arguments after `SET` (`name value [name value ...]`):
    /// "ERR syntax error" for an odd count, otherwise `set(_:)`.
    public func set(arguments: [String], clientIsLocal: Bool = false, serverIsLoading: Bool = false) throws(ConfigError) {
        if arguments.count % 2 != 0 { throw ConfigError("ERR syntax error") }
        let pairs = stride(from: 0, to: arguments.count, by: 2).map { (name: arguments[$0], value: arguments[$0 + 1]) }
        try set(pairs, clientIsLocal: clientIsLocal, serverIsLoading: serverIsLoading)
    }

    /// CONFIG SET: changes several parameters atomically.
    ///
    /// Every name is checked first (unknown, immutable, protected, refused while
    /// loading, duplicate); then all values are parsed and stored; then change hooks
    /// run. If any value is refused or any hook throws, every parameter of the command
    /// is restored (and the hooks of those already changed run again with the old
    /// values). Errors are Redis's replies, e.g.
    /// `ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value`.
    ///
    /// - Parameters:
    ///   - clientIsLocal: the client is on a local connection (loopback or unix socket),
    ///     which `enable-protected-configs local` allows to set protected parameters.
    ///   - serverIsLoading: the dataset is being loaded; `dir`, `appendonly` and
    ///     `repl-diskless-load` are refused with `LOADING ...` then.
    public func set(_ pairs: [(name: String, value: String)], clientIsLocal: Bool = false,
                    serverIsLoading: Bool = false) throws(ConfigError) {
        try serialized { () throws(ConfigError) in
            try setSerialized(pairs, clientIsLocal: clientIsLocal, serverIsLoading: serverIsLoading)
        }
    }

    private func setSerialized(_ pairs: [(name: String, value: String)], clientIsLocal: Bool,
                               serverIsLoading: Bool) throws(ConfigError) {
        // 1. Resolve names. As in Redis the first problem found wins, except that a
        //    refusal because of loading takes precedence in the reply.
        let protectedMode = state.withLock { $0.enumeration("enable-protected-configs") }
        let protectedAllowed = protectedMode == 1 || (protectedMode == 2 && clientIsLocal)
        var entries: [ConfigCatalog.Entry] = []
        var unknownName: String?
        var refusal: (name: String, reason: String)?
        var refusedWhileLoading = false
        var invalid = false
        for pair in pairs {
            guard let entry = configCatalog.lookup(pair.name) else {
                if !invalid {
                    unknownName = pair.name
                    invalid = true
                }
                continue
            }
            if invalid { continue }
            let flags = configCatalog.parameters[entry.index].flags
            if flags.contains(.immutable) || (flags.contains(.protected) && !protectedAllowed) {
                refusal = (pair.name, flags.contains(.immutable) ? "can't set immutable config" : "can't set protected config")
                invalid = true
                continue
            }
            if serverIsLoading && flags.contains(.denyLoading) {
                refusedWhileLoading = true
                invalid = true
                continue
            }
            // An alias and its primary name are distinct entries in Redis, so
            // `replica-read-only yes slave-read-only no` is not a duplicate (the last wins).
            if entries.contains(where: { $0.index == entry.index && $0.isAlias == entry.isAlias }) {
                refusal = (pair.name, "duplicate parameter")
                invalid = true
                continue
            }
            entries.append(entry)
        }
        if refusedWhileLoading { throw ConfigError("LOADING Redis is loading the dataset in memory") }
        if let unknownName { throw ConfigError("ERR Unknown option or number of arguments for CONFIG SET - '\(unknownName)'") }
        if let refusal { throw setFailure(refusal.name, refusal.reason) }

        // 2. Parse and store every value; on the first refusal restore them all.
        typealias Change = (index: Int, name: String, value: String)
        let outcome = state.withLock { state -> Result<(backup: [ConfigValue], changed: [Change]), ConfigError> in
            let backup = state.values
            var changedEntries: [ConfigCatalog.Entry] = []
            for (entry, pair) in zip(entries, pairs) {
                let parameter = configCatalog.parameters[entry.index]
                let arguments = parameter.flags.contains(.multiArgument) ? splitOnSpaces(pair.value) : [pair.value]
                do throws(ConfigReason) {
                    if try state.assign(entry.index, arguments, readingFile: false),
                       !changedEntries.contains(where: { $0.index == entry.index }) {
                        changedEntries.append(entry)
                    }
                } catch {
                    state.values = backup
                    return .failure(setFailure(entry.name, error.text))
                }
            }
            for index in configCatalog.parameters.indices where state.values[index] != backup[index] {
                fastValues.publish(index, state.values[index])
            }
            return .success((backup, changedEntries.map { ($0.index, $0.name, state.render($0.index)) }))
        }
        let (backup, changed) = try outcome.get()

        // 3. Apply: built-in checks Redis makes in its apply functions, then the hooks.
        var failure: ConfigError?
        for change in changed {
            if configCatalog.parameters[change.index].name == "locale-collate" && !isValidCollationLocale(change.value) {
                failure = setFailure(change.name, "Invalid locale name")
                break
            }
            if let error = runHooks(change.index, value: change.value) {
                failure = setFailure(change.name, error.message)
                break
            }
        }
        guard let failure else { return }

        let restored = state.withLock { state -> [(Int, String)] in
            let changedValues = state.values
            state.values = backup
            for index in configCatalog.parameters.indices where changedValues[index] != backup[index] {
                fastValues.publish(index, backup[index])
            }
            return changed.map { ($0.index, state.render($0.index)) }
        }
        for (index, value) in restored {
            _ = runHooks(index, value: value)
        }
        throw failure
    }
}

func setFailure(_ name: String, _ reason: String) -> ConfigError {
    if reason.isEmpty { return ConfigError("ERR CONFIG SET failed (possibly related to argument '\(name)')") }
    return ConfigError("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
}

/// Whether `setlocale(LC_COLLATE, name)` would succeed, checked without changing the
/// process locale (Redis's updateLocaleCollate applies it; the server's hook may).
private func isValidCollationLocale(_ name: String) -> Bool {
    guard let locale = newlocale(LC_COLLATE_MASK, name, nil) else { return false }
    freelocale(locale)
    return true
}
