import ApusRESP
import ApusStore
import NIOCore

/// The string family (t_string.c): APPEND DECR DECRBY GET GETDEL GETEX GETRANGE GETSET INCR
/// INCRBY INCRBYFLOAT LCS MGET MSET MSETNX PSETEX SET SETEX SETNX SETRANGE STRLEN SUBSTR.
///
/// GET/SET/INCR/MGET are the hot path: replies are written from the entry's bytes while the
/// shard lock is held, and nothing is allocated per command except the entry a write stores.
public enum StringCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("get", get)
        registry.register("set", set)
        registry.register("setnx", setnx)
        registry.register("setex", setex)
        registry.register("psetex", psetex)
        registry.register("getset", getset)
        registry.register("getdel", getdel)
        registry.register("getex", getex)
        registry.register("mget", mget)
        registry.register("mset", mset)
        registry.register("msetnx", msetnx)
        registry.register("incr", incr)
        registry.register("decr", decr)
        registry.register("incrby", incrby)
        registry.register("decrby", decrby)
        registry.register("incrbyfloat", incrbyfloat)
        registry.register("append", append)
        registry.register("setrange", setrange)
        registry.register("getrange", getrange)
        registry.register("substr", getrange)
        registry.register("strlen", strlen)
        registry.register("lcs", lcs)
    }

    // MARK: Options of SET and GETEX (parseExtendedStringArgumentsOrReply)

    struct StringOptions: OptionSet {
        let rawValue: UInt16
        init(rawValue: UInt16) { self.rawValue = rawValue }

        static let nx = StringOptions(rawValue: 1 << 0)
        static let xx = StringOptions(rawValue: 1 << 1)
        static let ex = StringOptions(rawValue: 1 << 2)
        static let px = StringOptions(rawValue: 1 << 3)
        static let keepTTL = StringOptions(rawValue: 1 << 4)
        static let get = StringOptions(rawValue: 1 << 5)
        static let exat = StringOptions(rawValue: 1 << 6)
        static let pxat = StringOptions(rawValue: 1 << 7)
        static let persist = StringOptions(rawValue: 1 << 8)

        static let anyExpire: StringOptions = [.ex, .px, .exat, .pxat]
    }

    /// The command running, for the expire-time error ("invalid expire time in 'set' command").
    enum ExpireCommand {
        case set, setex, psetex, getex

        var invalidExpireTime: StaticString {
            switch self {
            case .set: "ERR invalid expire time in 'set' command"
            case .setex: "ERR invalid expire time in 'setex' command"
            case .psetex: "ERR invalid expire time in 'psetex' command"
            case .getex: "ERR invalid expire time in 'getex' command"
            }
        }
    }

    /// Parses the options of SET (from argument 3) or GETEX (from argument 2) with Redis's
    /// conflict rules: NX/XX exclude each other, the expire forms exclude each other and
    /// KEEPTTL/PERSIST, an option may repeat (the last expire value wins), and an expire
    /// option without a value is a syntax error. Returns the options and the expire argument's
    /// index (0 = none), or nil after replying with the syntax error.
    static func parseStringOptions(_ c: inout CommandContext, forSet: Bool) -> (StringOptions, Int)? {
        var options: StringOptions = []
        var expireIndex = 0
        var j = forSet ? 3 : 2
        let argc = c.args.count
        while j < argc {
            let opt = c.args[j]
            let hasNext = j + 1 < argc
            if forSet && opt.equalsIgnoringCase("nx") && !options.contains(.xx) {
                options.insert(.nx)
            } else if forSet && opt.equalsIgnoringCase("xx") && !options.contains(.nx) {
                options.insert(.xx)
            } else if forSet && opt.equalsIgnoringCase("get") {
                options.insert(.get)
            } else if forSet && opt.equalsIgnoringCase("keepttl") && options.isDisjoint(with: StringOptions.anyExpire.union(.persist)) {
                options.insert(.keepTTL)
            } else if !forSet && opt.equalsIgnoringCase("persist") && options.isDisjoint(with: StringOptions.anyExpire.union(.keepTTL)) {
                options.insert(.persist)
            } else if hasNext, let form = expireForm(opt), options.isDisjoint(with: StringOptions.anyExpire.subtracting(form).union([.keepTTL, .persist])) {
                options.insert(form)
                expireIndex = j + 1
                j += 1
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return (options, expireIndex)
    }

    static func expireForm(_ opt: UnsafeRawBufferPointer) -> StringOptions? {
        if opt.equalsIgnoringCase("ex") { return .ex }
        if opt.equalsIgnoringCase("px") { return .px }
        if opt.equalsIgnoringCase("exat") { return .exat }
        if opt.equalsIgnoringCase("pxat") { return .pxat }
        return nil
    }

    /// The absolute expire time in ms of the expire argument at `index` (getExpireMillisecondsOrReply):
    /// EX/EXAT are seconds, PX/PXAT milliseconds, EX/PX relative to the command's time. Zero,
    /// negative and overflowing times are "invalid expire time" errors.
    static func expireTime(_ c: inout CommandContext, index: Int, options: StringOptions,
                           command: ExpireCommand) -> Int64? {
        guard var ms = parseInteger(c.args[index]) else {
            c.notInteger()
            return nil
        }
        let seconds = options.contains(.ex) || options.contains(.exat)
        if ms <= 0 || (seconds && ms > Int.max / 1000) {
            c.reply.error(command.invalidExpireTime)
            return nil
        }
        if seconds { ms *= 1000 }
        // Redis adds in C and checks the sign afterwards: an overflow wraps negative.
        if options.contains(.ex) || options.contains(.px) { ms = ms &+ Int(c.now) }
        if ms <= 0 {
            c.reply.error(command.invalidExpireTime)
            return nil
        }
        return Int64(ms)
    }

    /// proto-max-bulk-len, consulted only when `total` could exceed it (it is never below 1mb).
    static func bulkLimit(_ server: ServerContext, total: Int) -> Int {
        total <= 1_048_576 && total >= 0 ? Int.max : server.config.int("proto-max-bulk-len")
    }

    // MARK: GET family

    static func get(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.null() }
            guard entry.type == .string else { return c.wrongType() }
            c.reply.bulk(entry.value)
        }
    }

    static func getdel(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.null() }
            guard entry.type == .string else { return c.wrongType() }
            c.reply.bulk(entry.value)
            shard.delete(key, hash: hash)
            c.keyModified(key)
            c.notify(.generic, "del", key)
        }
    }

    /// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]. Redis checks the key (nil,
    /// WRONGTYPE) before it validates the expire value, so a missing key answers nil even for
    /// `EX abc`.
    static func getex(_ c: inout CommandContext) {
        guard let (options, expireIndex) = parseStringOptions(&c, forSet: false) else { return }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.null() }
            guard entry.type == .string else { return c.wrongType() }
            var expireAt: Int64?
            if expireIndex != 0 {
                guard let at = expireTime(&c, index: expireIndex, options: options, command: .getex) else { return }
                expireAt = at
            }
            c.reply.bulk(entry.value)
            if let expireAt {
                // An absolute time already past deletes the key (not on replicas: the primary
                // sends the DEL).
                if options.contains(.exat) || options.contains(.pxat), expireAt <= c.now, shard.expiryEnabled {
                    shard.delete(key, hash: hash)
                    c.keyModified(key)
                    c.notify(.generic, "del", key)
                } else {
                    shard.setExpire(entry, hash: hash, expireAt: expireAt)
                    c.keyModified(key)
                    c.notify(.generic, "expire", key)
                }
            } else if options.contains(.persist) && entry.hasExpire {
                shard.setExpire(entry, hash: hash, expireAt: nil)
                c.keyModified(key)
                c.notify(.generic, "persist", key)
            }
        }
    }

    static func getrange(_ c: inout CommandContext) {
        guard var start = c.integerArgument(2), var end = c.integerArgument(3) else { return }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return emptyBulk(&c) }
            guard entry.type == .string else { return c.wrongType() }
            let value = entry.value
            let length = value.count
            if start < 0 && end < 0 && start > end { return emptyBulk(&c) }
            if start < 0 { start += length }
            if end < 0 { end += length }
            if start < 0 { start = 0 }
            if end < 0 { end = 0 }
            if end >= length { end = length - 1 }
            if start > end || length == 0 { return emptyBulk(&c) }
            c.reply.bulk(UnsafeRawBufferPointer(rebasing: value[start...end]))
        }
    }

    static func strlen(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.integer(0) }
            guard entry.type == .string else { return c.wrongType() }
            c.reply.integer(entry.valueLength)
        }
    }

    static func emptyBulk(_ c: inout CommandContext) {
        c.reply.buffer.writeStaticString("$0\r\n\r\n")
    }

    /// MGET answers from one consistent snapshot, like Redis: every shard involved is locked
    /// (ascending order) for the whole reply. Key hashes live in a temporary buffer (on the stack
    /// up to ~128 keys), so a 100-key MGET allocates nothing. Missing keys and non-strings are nil.
    static func mget(_ c: inout CommandContext) {
        let count = c.args.count - 1
        withLockedKeys(&c, first: 1, step: 1) { c, db, hashes in
            c.reply.arrayHeader(count)
            for i in 0..<count {
                let key = c.args[i + 1]
                let hash = hashes[i]
                if let entry = c.lookupRead(db.shard(hash: hash), key, hash: hash), entry.type == .string {
                    c.reply.bulk(entry.value)
                } else {
                    c.reply.null()
                }
            }
        }
    }

    /// Hashes the keys at `first`, `first + step`, ... once, into a temporary buffer, locks their
    /// shards in ascending order (`Database.lockShards`) and runs `body` with the database and the
    /// hashes (in key order). Like `Database.shardMask(for:)` but keeps the hashes for the lookups.
    static func withLockedKeys(_ c: inout CommandContext, first: Int, step: Int,
                               _ body: (inout CommandContext, Database, UnsafeMutableBufferPointer<UInt64>) -> Void) {
        let count = (c.args.count - first + step - 1) / step
        let db = c.db
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { hashes in
            var mask: UInt64 = 0
            for i in 0..<count {
                let hash = keyHash(c.args[first + i * step])
                hashes[i] = hash
                mask |= 1 << UInt64(db.shardIndex(hash: hash))
            }
            db.lockShards(mask)
            defer { db.unlockShards(mask) }
            body(&c, db, hashes)
        }
    }

    // MARK: SET family

    /// What a SET variant replies when it stores, or when NX/XX stop it.
    enum SetReplies {
        /// SET, SETEX, PSETEX: +OK / nil.
        case okOrNull
        /// SETNX: :1 / :0.
        case oneOrZero
    }

    static func set(_ c: inout CommandContext) {
        guard let (options, expireIndex) = parseStringOptions(&c, forSet: true) else { return }
        setGeneric(&c, valueIndex: 2, options: options, expireIndex: expireIndex, command: .set, replies: .okOrNull)
    }

    static func setnx(_ c: inout CommandContext) {
        setGeneric(&c, valueIndex: 2, options: .nx, expireIndex: 0, command: .set, replies: .oneOrZero)
    }

    static func setex(_ c: inout CommandContext) {
        setGeneric(&c, valueIndex: 3, options: .ex, expireIndex: 2, command: .setex, replies: .okOrNull)
    }

    static func psetex(_ c: inout CommandContext) {
        setGeneric(&c, valueIndex: 3, options: .px, expireIndex: 2, command: .psetex, replies: .okOrNull)
    }

    /// GETSET is SET ... GET: the old value (or nil), and the TTL is cleared.
    static func getset(_ c: inout CommandContext) {
        setGeneric(&c, valueIndex: 2, options: .get, expireIndex: 0, command: .set, replies: .okOrNull)
    }

    /// setGenericCommand: the expire value is validated first, then GET replies with the old
    /// value (WRONGTYPE stops everything), then NX/XX decide whether to store.
    static func setGeneric(_ c: inout CommandContext, valueIndex: Int, options: StringOptions, expireIndex: Int,
                           command: ExpireCommand, replies: SetReplies) {
        var expireAt: Int64?
        if expireIndex != 0 {
            guard let at = expireTime(&c, index: expireIndex, options: options, command: command) else { return }
            expireAt = at
        }
        let key = c.args[1]
        let value = c.args[valueIndex]
        c.db.withShard(for: key) { shard, hash in
            // With GET, Redis's getGenericCommand does a read lookup (keyspace hit/miss) first.
            let existing = options.contains(.get) ? c.lookupRead(shard, key, hash: hash)
                                                  : shard.lookup(key, hash: hash, now: c.now)
            if let existing { c.touch(existing) }
            if options.contains(.get) {
                if let existing {
                    guard existing.type == .string else { return c.wrongType() }
                    c.reply.bulk(existing.value)
                } else {
                    c.reply.null()
                }
            }
            if (options.contains(.nx) && existing != nil) || (options.contains(.xx) && existing == nil) {
                if !options.contains(.get) {
                    switch replies {
                    case .okOrNull: c.reply.null()
                    case .oneOrZero: c.reply.integer(0)
                    }
                }
                return
            }
            shard.putString(key, hash: hash, value: value, encoding: stringEncoding(for: value), expireAt: expireAt,
                            keepTTL: options.contains(.keepTTL), existing: existing)
            c.keyModified(key)
            if existing == nil { c.notify(.new, "new", key) }
            c.notify(.string, "set", key)
            if expireAt != nil { c.notify(.generic, "expire", key) }
            if !options.contains(.get) {
                switch replies {
                case .okOrNull: c.reply.ok()
                case .oneOrZero: c.reply.integer(1)
                }
            }
        }
    }

    static func mset(_ c: inout CommandContext) { msetGeneric(&c, onlyIfNoneExist: false) }

    static func msetnx(_ c: inout CommandContext) { msetGeneric(&c, onlyIfNoneExist: true) }

    /// MSET / MSETNX, atomic across shards: all involved shards stay locked while MSETNX checks
    /// that no key exists and while the pairs are stored (a repeated key: the last value wins).
    static func msetGeneric(_ c: inout CommandContext, onlyIfNoneExist: Bool) {
        guard c.args.count % 2 == 1 else { return c.wrongArity(onlyIfNoneExist ? "msetnx" : "mset") }
        let pairs = (c.args.count - 1) / 2
        withLockedKeys(&c, first: 1, step: 2) { c, db, hashes in
            if onlyIfNoneExist {
                for i in 0..<pairs {
                    let hash = hashes[i]
                    if let existing = db.shard(hash: hash).lookup(c.args[1 + 2 * i], hash: hash, now: c.now) {
                        c.touch(existing)
                        return c.reply.integer(0)
                    }
                }
            }
            for i in 0..<pairs {
                let key = c.args[1 + 2 * i]
                let value = c.args[2 + 2 * i]
                let hash = hashes[i]
                let shard = db.shard(hash: hash)
                let existing = shard.lookup(key, hash: hash, now: c.now)
                if let existing { c.touch(existing) }
                shard.putString(key, hash: hash, value: value, encoding: stringEncoding(for: value), expireAt: nil,
                                keepTTL: false, existing: existing)
                c.keyModified(key)
                if existing == nil { c.notify(.new, "new", key) }
                c.notify(.string, "set", key)
            }
            if onlyIfNoneExist { c.reply.integer(1) } else { c.reply.ok() }
        }
    }

    // MARK: Counters

    static func incr(_ c: inout CommandContext) { incrDecr(&c, by: 1) }

    static func decr(_ c: inout CommandContext) { incrDecr(&c, by: -1) }

    static func incrby(_ c: inout CommandContext) {
        guard let increment = c.integerArgument(2) else { return }
        incrDecr(&c, by: increment)
    }

    static func decrby(_ c: inout CommandContext) {
        guard let decrement = c.integerArgument(2) else { return }
        // -LLONG_MIN does not exist: Redis refuses before looking at the key.
        guard decrement != Int.min else { return c.reply.error("ERR decrement would overflow") }
        incrDecr(&c, by: -decrement)
    }

    static func incrDecr(_ c: inout CommandContext, by increment: Int) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let existing = shard.lookup(key, hash: hash, now: c.now)
            if let existing {
                c.touch(existing)
                guard existing.type == .string else { return c.wrongType() }
            }
            do throws(StringOpError) {
                let value = try shard.incrementInteger(key, hash: hash, by: increment, existing: existing)
                c.keyModified(key)
                if existing == nil { c.notify(.new, "new", key) }
                c.notify(.string, "incrby", key)
                c.reply.integer(value)
            } catch {
                reply(&c, error)
            }
        }
    }

    static func incrbyfloat(_ c: inout CommandContext) {
        let key = c.args[1]
        let increment = c.args[2]
        c.db.withShard(for: key) { shard, hash in
            let existing = shard.lookup(key, hash: hash, now: c.now)
            if let existing {
                c.touch(existing)
                guard existing.type == .string else { return c.wrongType() }
            }
            do throws(StringOpError) {
                let entry = try shard.incrementFloat(key, hash: hash, by: increment, existing: existing)
                c.keyModified(key)
                if existing == nil { c.notify(.new, "new", key) }
                c.notify(.string, "incrbyfloat", key)
                c.reply.bulk(entry.value)
            } catch {
                reply(&c, error)
            }
        }
    }

    // MARK: Editing

    static func append(_ c: inout CommandContext) {
        let key = c.args[1]
        let suffix = c.args[2]
        c.db.withShard(for: key) { shard, hash in
            let existing = shard.lookup(key, hash: hash, now: c.now)
            var limit = Int.max
            if let existing {
                c.touch(existing)
                guard existing.type == .string else { return c.wrongType() }
                limit = bulkLimit(c.server, total: existing.valueLength &+ suffix.count)
            }
            do throws(StringOpError) {
                let length = try shard.appendString(key, hash: hash, suffix: suffix, limit: limit, existing: existing)
                c.keyModified(key)
                if existing == nil { c.notify(.new, "new", key) }
                c.notify(.string, "append", key)
                c.reply.integer(length)
            } catch {
                reply(&c, error)
            }
        }
    }

    static func setrange(_ c: inout CommandContext) {
        guard let offset = c.integerArgument(2) else { return }
        guard offset >= 0 else { return c.reply.error("ERR offset is out of range") }
        let key = c.args[1]
        let bytes = c.args[3]
        let limit = bulkLimit(c.server, total: offset &+ bytes.count)
        c.db.withShard(for: key) { shard, hash in
            let existing = shard.lookup(key, hash: hash, now: c.now)
            if let existing {
                c.touch(existing)
                guard existing.type == .string else { return c.wrongType() }
            }
            do throws(StringOpError) {
                let length = try shard.setRange(key, hash: hash, offset: offset, bytes: bytes, limit: limit,
                                                existing: existing)
                if !bytes.isEmpty {
                    c.keyModified(key)
                    if existing == nil { c.notify(.new, "new", key) }
                    c.notify(.string, "setrange", key)
                }
                c.reply.integer(length)
            } catch {
                reply(&c, error)
            }
        }
    }

    /// Maps a string Op failure to Redis's reply.
    static func reply(_ c: inout CommandContext, _ error: StringOpError) {
        switch error {
        case .notInteger: c.notInteger()
        case .notFloat: c.notFloat()
        case .overflow: c.reply.error("ERR increment or decrement would overflow")
        case .nanOrInfinity: c.reply.error("ERR increment would produce NaN or Infinity")
        case .tooLarge: c.reply.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
        }
    }

    // MARK: LCS

    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]. Missing keys are empty
    /// strings. The values are copied out under the locks and the quadratic work runs unlocked.
    static func lcs(_ c: inout CommandContext) {
        var a: [UInt8] = []
        var b: [UInt8] = []
        var wrongType = false
        withLockedKeys(&c, first: 1, step: 1) { c, db, hashes in
            let first = c.lookupRead(db.shard(hash: hashes[0]), c.args[1], hash: hashes[0])
            let second = c.lookupRead(db.shard(hash: hashes[1]), c.args[2], hash: hashes[1])
            if let first, first.type != .string { wrongType = true }
            if let second, second.type != .string { wrongType = true }
            guard !wrongType else { return }
            if let first { a = Array(first.value) }
            if let second { b = Array(second.value) }
        }
        guard !wrongType else { return c.reply.error("ERR The specified keys must contain string values") }

        var wantLength = false
        var wantIndexes = false
        var withMatchLength = false
        var minMatchLength = 0
        var j = 3
        while j < c.args.count {
            let more = c.args.count - 1 - j
            if c.args.isToken(j, "idx") {
                wantIndexes = true
            } else if c.args.isToken(j, "len") {
                wantLength = true
            } else if c.args.isToken(j, "withmatchlen") {
                withMatchLength = true
            } else if c.args.isToken(j, "minmatchlen") && more > 0 {
                guard let n = c.integerArgument(j + 1) else { return }
                minMatchLength = max(n, 0)
                j += 1
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        if wantLength && wantIndexes {
            return c.reply.error("ERR If you want both the length and indexes, please just use IDX.")
        }
        if a.count >= Int(UInt32.max) - 1 || b.count >= Int(UInt32.max) - 1 {
            return c.reply.error("ERR String too long for LCS")
        }
        let tableBytes = LCSTable.byteCount(a.count, b.count)
        if let tableBytes, tableBytes > bulkLimit(c.server, total: tableBytes) {
            return c.reply.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
        }
        a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                guard let table = LCSTable(a, b) else {
                    return c.reply.error("ERR Insufficient memory, failed allocating transient memory for LCS")
                }
                let length = table.length
                if wantIndexes {
                    var matches: [LCSMatch] = []
                    table.backtrack(into: nil) { match in
                        if minMatchLength == 0 || match.length >= minMatchLength { matches.append(match) }
                    }
                    c.reply.mapHeader(2)
                    c.reply.bulk("matches")
                    c.reply.arrayHeader(matches.count)
                    for match in matches {
                        c.reply.arrayHeader(withMatchLength ? 3 : 2)
                        c.reply.arrayHeader(2)
                        c.reply.integer(match.aStart)
                        c.reply.integer(match.aEnd)
                        c.reply.arrayHeader(2)
                        c.reply.integer(match.bStart)
                        c.reply.integer(match.bEnd)
                        if withMatchLength { c.reply.integer(match.length) }
                    }
                    c.reply.bulk("len")
                    c.reply.integer(length)
                } else if wantLength {
                    c.reply.integer(length)
                } else {
                    var result = [UInt8](repeating: 0, count: length)
                    result.withUnsafeMutableBytes { out in table.backtrack(into: out) { _ in } }
                    result.withUnsafeBytes { c.reply.bulk($0) }
                }
            }
        }
    }
}
