import ApusRESP
import ApusStore
import NIOCore

/// The generic key commands (Redis's db.c, expire.c and OBJECT): DEL UNLINK EXISTS TOUCH TYPE
/// TTL PTTL EXPIRETIME PEXPIRETIME EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST KEYS SCAN RANDOMKEY
/// RENAME RENAMENX MOVE COPY OBJECT.
public enum KeyCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("del", del)
        registry.register("unlink", unlink)
        registry.register("exists", exists)
        registry.register("touch", touch)
        registry.register("type", type)
        registry.register("ttl", ttl)
        registry.register("pttl", pttl)
        registry.register("expiretime", expiretime)
        registry.register("pexpiretime", pexpiretime)
        registry.register("expire", expire)
        registry.register("pexpire", pexpire)
        registry.register("expireat", expireat)
        registry.register("pexpireat", pexpireat)
        registry.register("persist", persist)
        registry.register("keys", keys)
        registry.register("scan", scan)
        registry.register("randomkey", randomkey)
        registry.register("rename", rename)
        registry.register("renamenx", renamenx)
        registry.register("move", move)
        registry.register("copy", copy)
        registry.register("object|help", objectHelp)
        registry.register("object|encoding", objectEncoding)
        registry.register("object|freq", objectFreq)
        registry.register("object|idletime", objectIdletime)
        registry.register("object|refcount", objectRefcount)
    }

    /// The access clock a touching lookup stores, or nil under CLIENT NO-TOUCH (as `c.touch`).
    @inlinable
    static func accessClock(_ c: borrowing CommandContext) -> AccessTouch? {
        c.client.noTouch ? nil : c.accessTouch
    }

    /// Counts a reading lookup for INFO keyspace_hits / keyspace_misses. Redis counts the reads
    /// of EXISTS, TYPE, TTL & co., TOUCH, OBJECT, COPY's source and SCAN's TYPE check; write
    /// lookups (EXPIRE, RENAME, MOVE, ...) are not counted.
    @inlinable
    static func countLookup(_ c: borrowing CommandContext, found: Bool) {
        if found { c.worker.keyspaceHits &+= 1 } else { c.worker.keyspaceMisses &+= 1 }
    }

    // MARK: DEL UNLINK EXISTS TOUCH TYPE

    /// DEL and UNLINK. Both free values inline: there is no lazy-free thread yet (UNLINK of a
    /// large collection will want one once collections exist).
    static func del(_ c: inout CommandContext) {
        delete(&c, lazily: c.server.lazyUserDel.load(ordering: .relaxed))
    }

    /// UNLINK: DEL that frees big values in the background (Redis's dbAsyncDelete).
    static func unlink(_ c: inout CommandContext) {
        delete(&c, lazily: true)
    }

    static func delete(_ c: inout CommandContext, lazily: Bool) {
        let now = c.now
        var deleted = 0
        c.db.forEachKey(c.args.dropFirst(1)) { key, shard, hash in
            if shard.deleteKey(key, hash: hash, now: now, lazily: lazily) {
                deleted += 1
                c.keyModified(key)
                c.notify(.generic, "del", key)
            }
        }
        c.reply.integer(deleted)
    }

    /// EXISTS counts a key once per mention (EXISTS k k replies 2) and does not touch it.
    static func exists(_ c: inout CommandContext) {
        let now = c.now
        var found = 0
        c.db.forEachKey(c.args.dropFirst(1)) { key, shard, hash in
            let exists = shard.lookup(key, hash: hash, now: now) != nil
            countLookup(c, found: exists)
            if exists { found += 1 }
        }
        c.reply.integer(found)
    }

    /// TOUCH updates the access time even for a CLIENT NO-TOUCH client (Redis exempts it).
    static func touch(_ c: inout CommandContext) {
        let now = c.now
        let clock = c.accessTouch
        var touched = 0
        c.db.forEachKey(c.args.dropFirst(1)) { key, shard, hash in
            let exists = shard.lookup(key, hash: hash, now: now, accessClock: clock) != nil
            countLookup(c, found: exists)
            if exists { touched += 1 }
        }
        c.reply.integer(touched)
    }

    static func type(_ c: inout CommandContext) {
        let key = c.args[1]
        let now = c.now
        let type = c.db.withShard(for: key) { shard, hash in shard.lookup(key, hash: hash, now: now)?.type }
        countLookup(c, found: type != nil)
        c.reply.simpleString(type?.name ?? "none")
    }

    // MARK: TTL PTTL EXPIRETIME PEXPIRETIME

    static func ttl(_ c: inout CommandContext) { replyExpiry(&c, milliseconds: false, absolute: false) }
    static func pttl(_ c: inout CommandContext) { replyExpiry(&c, milliseconds: true, absolute: false) }
    static func expiretime(_ c: inout CommandContext) { replyExpiry(&c, milliseconds: false, absolute: true) }
    static func pexpiretime(_ c: inout CommandContext) { replyExpiry(&c, milliseconds: true, absolute: true) }

    /// -2 for a missing key, -1 without TTL, else the remaining (or absolute) time, never
    /// negative; seconds are rounded to the nearest (Redis's `(ttl+500)/1000`, computed without
    /// overflow for expire times near the 64-bit limit).
    static func replyExpiry(_ c: inout CommandContext, milliseconds: Bool, absolute: Bool) {
        let key = c.args[1]
        let now = c.now
        let expiry = c.db.withShard(for: key) { shard, hash in shard.expiry(key, hash: hash, now: now) }
        countLookup(c, found: expiry != .missing)
        switch expiry {
        case .missing: c.reply.integer(-2)
        case .persistent: c.reply.integer(-1)
        case .at(let at):
            let ms = Swift.max(absolute ? at : at &- now, 0)
            c.reply.integer(milliseconds ? Int(ms) : Int(ms / 1000 + (ms % 1000 + 500) / 1000))
        }
    }

    // MARK: EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST

    static func expire(_ c: inout CommandContext) { setExpire(&c, "expire", relative: true, seconds: true) }
    static func pexpire(_ c: inout CommandContext) { setExpire(&c, "pexpire", relative: true, seconds: false) }
    static func expireat(_ c: inout CommandContext) { setExpire(&c, "expireat", relative: false, seconds: true) }
    static func pexpireat(_ c: inout CommandContext) { setExpire(&c, "pexpireat", relative: false, seconds: false) }

    /// The shared body of the four EXPIRE commands, checking in Redis's order: options, the
    /// number, overflow of unit conversion and base-time addition, then the key.
    static func setExpire(_ c: inout CommandContext, _ name: StaticString, relative: Bool, seconds: Bool) {
        var condition: ExpireCondition = []
        var i = 3
        while i < c.args.count {
            if c.args.isToken(i, "nx") {
                condition.insert(.nx)
            } else if c.args.isToken(i, "xx") {
                condition.insert(.xx)
            } else if c.args.isToken(i, "gt") {
                condition.insert(.gt)
            } else if c.args.isToken(i, "lt") {
                condition.insert(.lt)
            } else {
                return c.reply.error("ERR Unsupported option \(cString(c.args[i]))")
            }
            i += 1
        }
        if condition.contains(.nx) && !condition.isDisjoint(with: [.xx, .gt, .lt]) {
            return c.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if condition.isSuperset(of: [.gt, .lt]) {
            return c.reply.error("ERR GT and LT options at the same time are not compatible")
        }
        guard var when = c.integerArgument(2) else { return }
        if seconds {
            // C's LLONG_MIN / 1000 truncates toward zero, as Swift's division does.
            guard when <= Int.max / 1000 && when >= Int.min / 1000 else { return invalidExpireTime(&c, name) }
            when *= 1000
        }
        let base = relative ? Int(c.now) : 0
        guard when <= Int.max - base else { return invalidExpireTime(&c, name) }
        when += base

        let key = c.args[1]
        let now = c.now
        let clock = accessClock(c)
        let outcome = c.db.withShard(for: key) { shard, hash in
            let outcome = shard.expire(key, hash: hash, at: Int64(when), condition: condition, now: now, accessClock: clock)
            if outcome == .updated || outcome == .deleted { c.keyModified(key) }
            return outcome
        }
        switch outcome {
        case .missing, .unchanged:
            c.reply.integer(0)
        case .updated, .deleted:
            // TODO(replication): propagate as PEXPIREAT / DEL.
            c.notify(.generic, outcome == .updated ? "expire" : "del", key)
            c.reply.integer(1)
        }
    }

    /// The C string Redis prints for an argument: the bytes up to the first NUL, lossy UTF-8.
    static func cString(_ raw: UnsafeRawBufferPointer) -> String {
        let end = raw.firstIndex(of: 0) ?? raw.count
        return String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<end]), as: UTF8.self)
    }

    static func invalidExpireTime(_ c: inout CommandContext, _ name: StaticString) {
        c.reply.error("ERR invalid expire time in '\(name)' command")
    }

    static func persist(_ c: inout CommandContext) {
        let key = c.args[1]
        let now = c.now
        let clock = accessClock(c)
        let removed = c.db.withShard(for: key) { shard, hash in
            let removed = shard.persist(key, hash: hash, now: now, accessClock: clock)
            if removed { c.keyModified(key) }
            return removed
        }
        if removed { c.notify(.generic, "persist", key) }
        c.reply.integer(removed ? 1 : 0)
    }

    // MARK: KEYS SCAN RANDOMKEY

    static func keys(_ c: inout CommandContext) {
        let pattern = c.args[1]
        let matchAll = pattern.count == 1 && pattern[0] == UInt8(ascii: "*")
        // Keys are written to a side buffer while each shard is locked; the count is known at the end.
        var list = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 256), version: c.reply.version)
        var count = 0
        c.db.forEachKey(matching: matchAll ? nil : pattern, now: c.now) { key in
            list.bulk(key)
            count += 1
        }
        c.reply.arrayHeader(count)
        c.reply.buffer.writeBuffer(&list.buffer)
    }

    static func scan(_ c: inout CommandContext) {
        guard let cursor = c.scanCursorArgument(1),
              let options = c.parseScanOptions(from: 2, allowType: true) else { return }
        let count = options.count
        let pattern = options.pattern
        let typeFilter: ScanTypeFilter = options.typeName.map { ScanTypeFilter($0) } ?? .any
        var list = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 256), version: c.reply.version)
        var found = 0
        let next = c.db.scan(cursor: cursor, count: count, pattern: pattern, now: c.now) { entry in
            switch typeFilter {
            case .any: break
            case .only(let type):
                // Redis 7.2 checks the type with a reading lookup (counted as a keyspace hit).
                countLookup(c, found: true)
                if entry.type != type { return }
            case .unknown:
                countLookup(c, found: true)
                return
            }
            list.bulk(entry.key)
            found += 1
        }
        c.reply.arrayHeader(2)
        c.reply.bulk(String(next))
        c.reply.arrayHeader(found)
        c.reply.buffer.writeBuffer(&list.buffer)
    }

    /// SCAN's TYPE option.
    enum ScanTypeFilter {
        case any
        case only(ValueType)
        /// A name that is no type. Redis 7.2 accepts it and then matches no key (8.0 will
        /// reply an error); the walk still advances the cursor.
        case unknown

        init(_ name: UnsafeRawBufferPointer) {
            let types: [ValueType] = [.string, .list, .set, .zset, .hash, .stream]
            for type in types where name.equalsIgnoringCase(type.name) {
                self = .only(type)
                return
            }
            self = .unknown
        }
    }

    /// Redis reads the cursor with `strtoul` and rejects leading space, trailing bytes and
    /// overflow. Hence "" is 0, a sign is accepted, and "-1" is 2^64-1 (a negated unsigned).
    /// Like the C string it reads, the argument ends at a NUL byte.
    static func parseScanCursor(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        let end = raw.firstIndex(of: 0) ?? raw.count
        var i = 0
        if i < end && isCSpace(raw[i]) { return nil }
        var negative = false
        if i < end && (raw[i] == UInt8(ascii: "+") || raw[i] == UInt8(ascii: "-")) {
            negative = raw[i] == UInt8(ascii: "-")
            i += 1
        }
        var value: UInt64 = 0
        var digits = 0
        while i < end, raw[i] >= 0x30, raw[i] <= 0x39 {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(raw[i] - 0x30))
            if o1 || o2 { return nil }
            value = sum
            digits += 1
            i += 1
        }
        // strtoul without digits consumes nothing: the end pointer is the start again.
        if digits == 0 { return end == 0 ? 0 : nil }
        guard i == end else { return nil }
        return negative ? 0 &- value : value
    }

    static func randomkey(_ c: inout CommandContext) {
        let db = c.db
        let found = db.randomKey(now: c.now) { key in c.reply.bulk(key) }
        if !found { c.reply.null() }
    }

    // MARK: RENAME RENAMENX MOVE COPY

    static func rename(_ c: inout CommandContext) { renameGeneric(&c, replacing: true) }
    static func renamenx(_ c: inout CommandContext) { renameGeneric(&c, replacing: false) }

    static func renameGeneric(_ c: inout CommandContext, replacing: Bool) {
        let source = c.args[1]
        let target = c.args[2]
        let outcome = c.db.rename(source, to: target, replacing: replacing, now: c.now, accessClock: accessClock(c)) {
            c.keyModified(source, changes: 0)
            c.keyModified(target)
        }
        switch outcome {
        case .noSuchKey:
            c.reply.error("ERR no such key")
        case .sameKey:
            if replacing { c.reply.ok() } else { c.reply.integer(0) }
        case .targetExists:
            c.reply.integer(0)
        case .renamed:
            // Redis counts one change.
            c.notify(.generic, "rename_from", source)
            c.notify(.generic, "rename_to", target)
            if replacing { c.reply.ok() } else { c.reply.integer(1) }
        }
    }

    /// A database index argument: a C `int` (Redis's `getIntFromObjectOrReply`), then in range.
    static func databaseArgument(_ c: inout CommandContext, _ i: Int) -> Database? {
        guard let index = c.integerArgument(i) else { return nil }
        guard index >= Int(Int32.min) && index <= Int(Int32.max) else {
            c.reply.error("ERR value is out of range, value must between -2147483648 and 2147483647")
            return nil
        }
        let databases = c.server.keyspace.databases
        guard index >= 0 && index < databases.count else {
            c.reply.error("ERR DB index is out of range")
            return nil
        }
        return databases[index]
    }

    static func move(_ c: inout CommandContext) {
        let source = c.db
        guard let target = databaseArgument(&c, 2) else { return }
        if target === source { return c.reply.error("ERR source and destination objects are the same") }
        let key = c.args[1]
        let outcome = c.server.keyspace.move(key, from: source, to: target, now: c.now, accessClock: accessClock(c)) {
            c.keyModified(key)
            c.keyModified(key, in: target, changes: 0)
        }
        switch outcome {
        case .missing, .targetExists:
            c.reply.integer(0)
        case .moved:
            c.notify(.generic, "move_from", key)
            c.notify(.generic, "move_to", key, database: target.index)
            c.reply.integer(1)
        }
    }

    static func copy(_ c: inout CommandContext) {
        let source = c.db
        var target = source
        var replace = false
        var i = 3
        while i < c.args.count {
            if c.args.isToken(i, "replace") {
                replace = true
            } else if c.args.isToken(i, "db") && i + 1 < c.args.count {
                guard let db = databaseArgument(&c, i + 1) else { return }
                target = db
                i += 1
            } else {
                return c.syntaxError()
            }
            i += 1
        }
        let key = c.args[1]
        let newKey = c.args[2]
        if target === source && key.bytesEqual(newKey) {
            return c.reply.error("ERR source and destination objects are the same")
        }
        let outcome = c.server.keyspace.copy(key, from: source, to: newKey, in: target, replace: replace,
                                             now: c.now, accessClock: accessClock(c),
                                             copyClock: c.server.eviction.initialClock(nowMillis: c.now)) {
            c.keyModified(newKey, in: target)
        }
        countLookup(c, found: outcome != .missing)
        switch outcome {
        case .missing, .targetExists:
            c.reply.integer(0)
        case .unsupportedType:
            c.reply.error("ERR unknown type object")
        case .copied:
            c.notify(.generic, "copy_to", newKey, database: target.index)
            c.reply.integer(1)
        }
    }

    // MARK: OBJECT

    static func objectHelp(_ c: inout CommandContext) {
        c.replyHelp("OBJECT", [
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
        ])
    }

    /// What OBJECT reports about an entry, read under its shard lock without touching it.
    struct ObjectInfo {
        var encodingName: StaticString
        var accessClock: UInt32
        var sharedInteger: Bool
    }

    static func objectInfo(_ c: inout CommandContext) -> ObjectInfo? {
        let key = c.args[2]
        let now = c.now
        let info = c.db.withShard(for: key) { shard, hash -> ObjectInfo? in
            guard let entry = shard.lookup(key, hash: hash, now: now) else { return nil }
            var shared = false
            if entry.type == .string && entry.encoding == StringEncoding.int.rawValue,
               let value = parseInteger(entry.value) {
                shared = value >= 0 && value < sharedIntegerCount
            }
            return ObjectInfo(encodingName: entry.encodingName, accessClock: entry.accessClock, sharedInteger: shared)
        }
        countLookup(c, found: info != nil)
        if info == nil { c.reply.null() }
        return info
    }

    /// Redis keeps the integers 0..9999 as shared objects (OBJ_SHARED_INTEGERS).
    static let sharedIntegerCount = 10000

    /// Redis's MAXMEMORY_FLAG_LRU / MAXMEMORY_FLAG_LFU bits of the `maxmemory-policy` constant.
    static let lruPolicyFlag = 1 << 0
    static let lfuPolicyFlag = 1 << 1

    static func isLFUPolicy(_ c: borrowing CommandContext) -> Bool {
        c.server.config.int("maxmemory-policy") & lfuPolicyFlag != 0
    }

    static func objectEncoding(_ c: inout CommandContext) {
        guard let info = objectInfo(&c) else { return }
        c.reply.bulk(info.encodingName)
    }

    /// Redis answers INT_MAX for a shared integer: the values 0..9999, which it shares unless
    /// maxmemory is set with an LRU/LFU policy (those need a per-key access clock).
    static func objectRefcount(_ c: inout CommandContext) {
        guard let info = objectInfo(&c) else { return }
        var shared = info.sharedInteger
        if shared && c.server.config.int("maxmemory") != 0 {
            shared = c.server.config.int("maxmemory-policy") & (lruPolicyFlag | lfuPolicyFlag) == 0
        }
        c.reply.integer(shared ? Int(Int32.max) : 1)
    }

    static func objectIdletime(_ c: inout CommandContext) {
        guard let info = objectInfo(&c) else { return }
        if isLFUPolicy(c) {
            return c.reply.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
        c.reply.integer(lruIdleSeconds(accessClock: info.accessClock, nowMillis: c.now))
    }

    static func objectFreq(_ c: inout CommandContext) {
        guard let info = objectInfo(&c) else { return }
        if !isLFUPolicy(c) {
            return c.reply.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        }
        let decay = c.server.config.int("lfu-decay-time")
        c.reply.integer(lfuDecayedCounter(accessClock: info.accessClock, nowMillis: c.now, decayMinutes: decay))
    }
}
