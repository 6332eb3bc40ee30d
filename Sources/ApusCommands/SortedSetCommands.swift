import ApusRESP
import ApusStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The sorted-set family (Redis's t_zset.c): argument parsing, locking and replies around the
/// `ZSetObject` Ops. Range commands (ZRANGE and friends, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*,
/// ZRANGESTORE) live in SortedSetRangeCommands.swift.
///
/// Replies are written from the elements' bytes while the shard lock is held. Scores are RESP3
/// doubles (bulk strings in RESP2); WITHSCORES pairs are flat in RESP2 and nested two-element
/// arrays in RESP3, as Redis 7.2 replies.
public enum SortedSetCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("zadd", zadd)
        registry.register("zincrby", zincrby)
        registry.register("zrem", zrem)
        registry.register("zcard", zcard)
        registry.register("zscore", zscore)
        registry.register("zmscore", zmscore)
        registry.register("zrank", zrank)
        registry.register("zrevrank", zrevrank)
        registry.register("zpopmin", zpopmin)
        registry.register("zpopmax", zpopmax)
        registry.register("zmpop", zmpop)
        registry.register("zrandmember", zrandmember)
        registry.register("zscan", zscan)
        registry.register("zunion", zunion)
        registry.register("zunionstore", zunionstore)
        registry.register("zinter", zinter)
        registry.register("zinterstore", zinterstore)
        registry.register("zintercard", zintercard)
        registry.register("zdiff", zdiff)
        registry.register("zdiffstore", zdiffstore)
        registerRangeCommands(into: registry)
    }

    // MARK: Shared helpers

    /// What a lookup found: a sorted set, nothing, or a key of another type.
    typealias Lookup = CollectionLookup<ZSetObject>

    static func zset(of entry: Entry?) -> Lookup { Lookup(entry, type: .zset) }

    /// One element of a member list: the member, then its score when `withScores` (a nested
    /// pair in RESP3).
    static func replyElement(_ reply: inout ReplyWriter, _ member: UnsafeRawBufferPointer, _ score: Double,
                             withScores: Bool) {
        if withScores && reply.version == .resp3 { reply.arrayHeader(2) }
        reply.bulk(member)
        if withScores { reply.double(score) }
    }

    /// The array header for `count` elements with or without scores (flat pairs in RESP2).
    static func replyElementsHeader(_ reply: inout ReplyWriter, count: Int, withScores: Bool) {
        reply.arrayHeader(withScores && reply.version != .resp3 ? count &* 2 : count)
    }

    /// Stores `object` (nil or empty: deletes the key) as `key`'s new value, dropping any TTL
    /// (Redis's setKey / dbDelete for the STORE commands). Returns whether the keyspace changed.
    @discardableResult
    static func store(_ object: ZSetObject?, as key: UnsafeRawBufferPointer, shard: Shard, hash: UInt64,
                      _ c: inout CommandContext) -> Bool {
        let existing = c.lookupWrite(shard, key, hash: hash)
        guard let object, object.count > 0 else {
            guard existing != nil else { return false }
            shard.delete(key, hash: hash)
            c.notify(.generic, "del", key)
            return true
        }
        if let existing {
            let entry = Entry.allocate(key: key, object: object, type: .zset, encoding: 0, expireAt: nil)
            shard.replace(existing, with: entry, hash: hash)
        } else {
            shard.insertCollection(key, object, type: .zset, hash: hash)
            c.notify(.new, "new", key)
        }
        if c.server.notifier.flags.load(ordering: .relaxed) != 0 { notifyStored(&c, key) }
        return true
    }

    /// The event of the STORE command running (Redis names GEORADIUS[BYMEMBER] ... STORE
    /// "georadiusstore").
    static func notifyStored(_ c: inout CommandContext, _ key: UnsafeRawBufferPointer) {
        switch c.client.lastCommand?.spec.fullName ?? "" {
        case "zunionstore": c.notify(.zset, "zunionstore", key)
        case "zinterstore": c.notify(.zset, "zinterstore", key)
        case "zdiffstore": c.notify(.zset, "zdiffstore", key)
        case "zrangestore": c.notify(.zset, "zrangestore", key)
        case "geosearchstore": c.notify(.zset, "geosearchstore", key)
        default: c.notify(.zset, "georadiusstore", key)
        }
    }

    /// Parses argument `i` as a C `long` for options Redis reads with getRangeLongFromObjectOrReply
    /// and a custom message (used for both bad syntax and out-of-range values).
    static func longArgument(_ c: inout CommandContext, _ i: Int, in range: ClosedRange<Int>,
                             message: StaticString) -> Int? {
        guard let v = parseInteger(c.args[i]), range.contains(v) else {
            c.reply.error(message)
            return nil
        }
        return v
    }

    // MARK: ZADD ZINCRBY

    static func zadd(_ c: inout CommandContext) { zaddGeneric(&c, incr: false) }

    static func zincrby(_ c: inout CommandContext) { zaddGeneric(&c, incr: true) }

    /// zaddGenericCommand: options (any order, case-insensitive) up to the first argument that
    /// is not one, then score-member pairs. Every score is parsed before anything changes.
    static func zaddGeneric(_ c: inout CommandContext, incr: Bool) {
        var options: ZAddOptions = incr ? [.incr] : []
        var changed = false
        var scoreIndex = 2
        while scoreIndex < c.args.count {
            let option = c.args[scoreIndex]
            if option.equalsIgnoringCase("nx") {
                options.insert(.nx)
            } else if option.equalsIgnoringCase("xx") {
                options.insert(.xx)
            } else if option.equalsIgnoringCase("ch") {
                changed = true
            } else if option.equalsIgnoringCase("incr") {
                options.insert(.incr)
            } else if option.equalsIgnoringCase("gt") {
                options.insert(.gt)
            } else if option.equalsIgnoringCase("lt") {
                options.insert(.lt)
            } else {
                break
            }
            scoreIndex += 1
        }
        let elements = c.args.count - scoreIndex
        guard elements > 0, elements % 2 == 0 else { return c.syntaxError() }
        let pairs = elements / 2
        if options.contains(.nx) && options.contains(.xx) {
            return c.reply.error("ERR XX and NX options at the same time are not compatible")
        }
        if (options.contains(.gt) && options.contains(.nx)) || (options.contains(.lt) && options.contains(.nx))
            || (options.contains(.gt) && options.contains(.lt)) {
            return c.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if options.contains(.incr) && pairs > 1 {
            return c.reply.error("ERR INCR option supports a single increment-element pair")
        }
        withUnsafeTemporaryAllocation(of: Double.self, capacity: pairs) { scores in
            for j in 0..<pairs {
                guard let score = parseDouble(c.args[scoreIndex + 2 * j]) else { return c.notFloat() }
                scores[j] = score
            }
            addScores(&c, options: options, changed: changed, scores: UnsafeBufferPointer(scores),
                      firstMember: scoreIndex + 1, memberStride: 2)
        }
    }

    /// The rest of zaddGenericCommand once every score is parsed: the key lookup (WRONGTYPE),
    /// creation or conversion, the adds, and the reply. Pair j's member is argument
    /// `firstMember + memberStride * j`. Shared with GEOADD, which Redis runs as a ZADD of
    /// the encoded scores (GeoCommands), so geo sets convert and reply exactly like ZADD.
    static func addScores(_ c: inout CommandContext, options: ZAddOptions, changed: Bool,
                          scores: UnsafeBufferPointer<Double>, firstMember: Int, memberStride: Int) {
        let isIncr = options.contains(.incr)
        let pairs = scores.count
        let key = c.args[1]
        let limits = c.server.collectionLimits
        enum Outcome {
            case wrongType
            case notANumber(changes: Int)
            case done(added: Int, updated: Int, processed: Int, score: Double)
        }
        let outcome: Outcome = c.db.withShard(for: key) { shard, hash in
            let zset: ZSetObject
            switch SortedSetCommands.zset(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                return .wrongType
            case .found(let existing):
                zset = existing
                zset.maybeConvert(sizeHint: pairs, limits: limits)
            case .missing:
                if options.contains(.xx) { return .done(added: 0, updated: 0, processed: 0, score: 0) }
                zset = ZSetObject.create(sizeHint: pairs, valueLengthHint: c.args[firstMember].count, limits: limits)
                shard.insertCollection(key, zset, type: .zset, hash: hash)
                c.notify(.new, "new", key)
            }
            var added = 0, updated = 0, processed = 0
            var last = 0.0
            for j in 0..<pairs {
                switch zset.add(c.args[firstMember + memberStride * j], score: scores[j], options: options, limits: limits) {
                case .added(let s):
                    added += 1
                    processed += 1
                    last = s
                case .updated(let s):
                    updated += 1
                    processed += 1
                    last = s
                case .unchanged(let s):
                    processed += 1
                    last = s
                case .skipped:
                    break
                case .notANumber:
                    if added + updated > 0 {
                        c.keyModified(key, changes: added + updated)
                        c.notify(.zset, isIncr ? "zincr" : "zadd", key)
                    }
                    return .notANumber(changes: added + updated)
                }
            }
            if added + updated > 0 {
                c.keyModified(key, changes: added + updated)
                c.notify(.zset, isIncr ? "zincr" : "zadd", key)
            }
            return .done(added: added, updated: updated, processed: processed, score: last)
        }
        switch outcome {
        case .wrongType:
            c.wrongType()
        case .notANumber:
            c.reply.error("ERR resulting score is not a number (NaN)")
        case .done(let added, let updated, let processed, let score):
            if isIncr {
                if processed > 0 { c.reply.double(score) } else { c.reply.null() }
            } else {
                c.reply.integer(changed ? added + updated : added)
            }
        }
    }

    // MARK: ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK

    static func zrem(_ c: inout CommandContext) {
        let key = c.args[1]
        let removed: Int? = c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType: return nil
            case .missing: return 0
            case .found(let zset):
                var removed = 0
                var emptied = false
                for i in 2..<c.args.count {
                    if zset.remove(c.args[i]) { removed += 1 }
                    if zset.count == 0 {
                        shard.delete(key, hash: hash)
                        emptied = true
                        break
                    }
                }
                if removed > 0 {
                    c.keyModified(key, changes: removed)
                    c.notify(.zset, "zrem", key)
                    if emptied { c.notify(.generic, "del", key) }
                }
                return removed
            }
        }
        guard let removed else { return c.wrongType() }
        c.reply.integer(removed)
    }

    static func zcard(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.integer(0)
            case .found(let zset): c.reply.integer(zset.count)
            }
        }
    }

    static func zscore(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.null()
            case .found(let zset):
                if let score = zset.score(of: c.args[2]) { c.reply.double(score) } else { c.reply.null() }
            }
        }
    }

    static func zmscore(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let zset: ZSetObject?
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: zset = nil
            case .found(let z): zset = z
            }
            c.reply.arrayHeader(c.args.count - 2)
            for i in 2..<c.args.count {
                if let score = zset?.score(of: c.args[i]) { c.reply.double(score) } else { c.reply.null() }
            }
        }
    }

    static func zrank(_ c: inout CommandContext) { zrankGeneric(&c, reverse: false) }

    static func zrevrank(_ c: inout CommandContext) { zrankGeneric(&c, reverse: true) }

    /// ZRANK / ZREVRANK key member [WITHSCORE] (7.2): with WITHSCORE the reply is [rank, score],
    /// and a missing member or key is a null array instead of a null.
    static func zrankGeneric(_ c: inout CommandContext, reverse: Bool) {
        if c.args.count > 4 { return c.wrongArity(reverse ? "zrevrank" : "zrank") }
        var withScore = false
        if c.args.count == 4 {
            guard c.args.isToken(3, "withscore") else { return c.syntaxError() }
            withScore = true
        }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType:
                c.wrongType()
            case .missing:
                if withScore { c.reply.nullArray() } else { c.reply.null() }
            case .found(let zset):
                guard let (rank, score) = zset.rank(of: c.args[2]) else {
                    return withScore ? c.reply.nullArray() : c.reply.null()
                }
                if withScore { c.reply.arrayHeader(2) }
                c.reply.integer(reverse ? zset.count - 1 - rank : rank)
                if withScore { c.reply.double(score) }
            }
        }
    }

    // MARK: ZPOPMIN ZPOPMAX ZMPOP

    /// How a pop reply is laid out (genericZpopCommand's emitkey / use_nested_array).
    enum PopReplyShape {
        /// ZPOPMIN/ZPOPMAX in RESP2, or without COUNT: [member, score, member, score, ...].
        case flat
        /// ZPOPMIN/ZPOPMAX with COUNT in RESP3: [[member, score], ...].
        case nested
        /// BZPOPMIN/BZPOPMAX: [key, member, score].
        case keyFlat
        /// ZMPOP/BZMPOP: [key, [[member, score], ...]].
        case keyNested
    }

    /// The pop shared by ZPOPMIN/ZPOPMAX/ZMPOP and the blocking BZPOPMIN/BZPOPMAX/BZMPOP: pops up
    /// to `count` (≥ 1) elements of `zset` (stored at `key` in `shard`, whose lock is held) from
    /// the low end, or the high end when `max`, writes the reply in `shape`, deletes the key if
    /// the set is emptied and counts the changes. Returns how many elements were popped.
    @discardableResult
    static func popAndReply(_ c: inout CommandContext, zset: ZSetObject, key: UnsafeRawBufferPointer,
                            shard: Shard, hash: UInt64, max: Bool, count: Int, shape: PopReplyShape) -> Int {
        let n = Swift.min(count, zset.count)
        switch shape {
        case .flat:
            c.reply.arrayHeader(n * 2)
        case .nested:
            c.reply.arrayHeader(n)
        case .keyFlat:
            c.reply.arrayHeader(n * 2 + 1)
            c.reply.bulk(key)
        case .keyNested:
            c.reply.arrayHeader(2)
            c.reply.bulk(key)
            c.reply.arrayHeader(n)
        }
        let nested = shape == .nested || shape == .keyNested
        zset.pop(max: max, count: n) { member, score in
            if nested { c.reply.arrayHeader(2) }
            c.reply.bulk(member)
            c.reply.double(score)
        }
        if n > 0 {
            c.notify(.zset, max ? "zpopmax" : "zpopmin", key)
            if zset.count == 0 {
                shard.delete(key, hash: hash)
                c.notify(.generic, "del", key)
            }
            c.keyModified(key, changes: n)
        } else if zset.count == 0 {
            shard.delete(key, hash: hash)
        }
        return n
    }

    static func zpopmin(_ c: inout CommandContext) { zpopMinMax(&c, max: false) }

    static func zpopmax(_ c: inout CommandContext) { zpopMinMax(&c, max: true) }

    /// ZPOPMIN/ZPOPMAX key [count]: a count is a non-negative long ("must be positive" for
    /// anything else); count 0 and a missing key answer an empty array.
    static func zpopMinMax(_ c: inout CommandContext, max: Bool) {
        if c.args.count > 3 { return c.syntaxError() }
        var count = 1
        var hasCount = false
        if c.args.count == 3 {
            guard let n = longArgument(&c, 2, in: 0...Int.max, message: "ERR value is out of range, must be positive")
            else { return }
            count = n
            hasCount = true
        }
        let shape: PopReplyShape = hasCount && c.reply.version == .resp3 ? .nested : .flat
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                c.wrongType()
            case .missing:
                c.reply.arrayHeader(0)
            case .found(let zset):
                if count == 0 { return c.reply.arrayHeader(0) }
                popAndReply(&c, zset: zset, key: key, shard: shard, hash: hash, max: max, count: count, shape: shape)
            }
        }
    }

    /// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first non-empty key;
    /// a null array when every key is missing.
    static func zmpop(_ c: inout CommandContext) {
        guard let numkeys = parseMpopArguments(&c, numkeysIndex: 1) else { return }
        let (keyCount, max, count) = numkeys
        withLockedKeys(&c, 2..<(2 + keyCount)) { c, db, hashes in
            for i in 0..<keyCount {
                let key = c.args[2 + i]
                let shard = db.shard(hash: hashes[i])
                switch SortedSetCommands.zset(of: c.lookupWrite(shard, key, hash: hashes[i])) {
                case .wrongType:
                    return c.wrongType()
                case .missing:
                    continue
                case .found(let zset):
                    popAndReply(&c, zset: zset, key: key, shard: shard, hash: hashes[i], max: max, count: count,
                                shape: .keyNested)
                    return
                }
            }
            c.reply.nullArray()
        }
    }

    /// Parses ZMPOP/BZMPOP's `numkeys key... MIN|MAX [COUNT count]` (zmpopGenericCommand) with
    /// `numkeys` at argument `numkeysIndex`: returns (number of keys, pop max?, count), or nil
    /// after replying with the error.
    static func parseMpopArguments(_ c: inout CommandContext, numkeysIndex: Int) -> (Int, Bool, Int)? {
        guard let numkeys = longArgument(&c, numkeysIndex, in: 1...Int.max, message: "ERR numkeys should be greater than 0")
        else { return nil }
        // where = numkeysIndex + numkeys + 1, compared without overflowing.
        guard numkeys < c.args.count - numkeysIndex - 1 else {
            c.syntaxError()
            return nil
        }
        let whereIndex = numkeysIndex + numkeys + 1
        let max: Bool
        if c.args.isToken(whereIndex, "min") {
            max = false
        } else if c.args.isToken(whereIndex, "max") {
            max = true
        } else {
            c.syntaxError()
            return nil
        }
        var count = -1
        var j = whereIndex + 1
        while j < c.args.count {
            let moreArgs = c.args.count - 1 - j
            if count == -1 && c.args.isToken(j, "count") && moreArgs > 0 {
                j += 1
                guard let n = longArgument(&c, j, in: 1...Int.max, message: "ERR count should be greater than 0")
                else { return nil }
                count = n
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return (numkeys, max, count == -1 ? 1 : count)
    }

    /// Hashes the keys at `keys` once, locks their shards in ascending order and runs `body`
    /// with the database and the hashes (`hashes[i]` is argument `keys.lowerBound + i`); `extra`
    /// adds one more key (a STORE destination) whose hash is last.
    static func withLockedKeys<R>(_ c: inout CommandContext, _ keys: Range<Int>, extra: Int? = nil,
                                  _ body: (inout CommandContext, Database, UnsafeMutableBufferPointer<UInt64>) -> R) -> R {
        let db = c.db
        let total = keys.count + (extra == nil ? 0 : 1)
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: total) { hashes in
            var mask: UInt64 = 0
            for i in 0..<keys.count {
                let hash = keyHash(c.args[keys.lowerBound + i])
                hashes[i] = hash
                mask |= 1 << UInt64(db.shardIndex(hash: hash))
            }
            if let extra {
                let hash = keyHash(c.args[extra])
                hashes[keys.count] = hash
                mask |= 1 << UInt64(db.shardIndex(hash: hash))
            }
            return db.withShards(mask) { body(&c, db, hashes) }
        }
    }

    // MARK: ZRANDMEMBER

    /// ZRANDMEMBER key [count [WITHSCORES]]: a negative count allows repeats; a positive one
    /// gives distinct members (the whole set, in order, when it asks for at least as many).
    static func zrandmember(_ c: inout CommandContext) {
        let key = c.args[1]
        guard c.args.count >= 3 else {
            return c.db.withShard(for: key) { shard, hash in
                switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
                case .wrongType: c.wrongType()
                case .missing: c.reply.null()
                case .found(let zset):
                    var rng = FastRandomGenerator()
                    zset.withRandomElement(using: &rng) { member, _ in c.reply.bulk(member) }
                }
            }
        }
        guard let value = parseInteger(c.args[2]) else { return c.notInteger() }
        if value == Int.min {
            return c.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        if c.args.count > 4 || (c.args.count == 4 && !c.args.isToken(3, "withscores")) { return c.syntaxError() }
        let withScores = c.args.count == 4
        if withScores && (value < -(Int.max / 2) || value > Int.max / 2) {
            return c.reply.error("ERR value is out of range")
        }
        c.db.withShard(for: key) { shard, hash in
            let zset: ZSetObject
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: return c.reply.arrayHeader(0)
            case .found(let z): zset = z
            }
            let count = value.magnitude
            if count == 0 { return c.reply.arrayHeader(0) }
            var rng = FastRandomGenerator()
            if value < 0 || count == 1 {
                replyElementsHeader(&c.reply, count: Int(count), withScores: withScores)
                zset.forEachRandomPick(Int(count), using: &rng) { member, score in
                    replyElement(&c.reply, member, score, withScores: withScores)
                }
                return
            }
            if count >= UInt(zset.count) {
                // The whole set, in the order Redis's zuiNext walks it: from the highest score.
                replyElementsHeader(&c.reply, count: zset.count, withScores: withScores)
                zset.forEach(fromRank: zset.count - 1, reverse: true) { member, score in
                    replyElement(&c.reply, member, score, withScores: withScores)
                    return true
                }
                return
            }
            let n = Int(count)
            replyElementsHeader(&c.reply, count: n, withScores: withScores)
            zset.forEachRandomDistinct(n, using: &rng) { member, score in
                replyElement(&c.reply, member, score, withScores: withScores)
            }
        }
    }

    // MARK: ZSCAN

    /// ZSCAN key cursor [MATCH pattern] [COUNT count]: cursor first, then the key, then the
    /// options (Redis's order). A listpack set is reported whole with cursor 0, its scores as
    /// the listpack holds them (d2string); the full encoding formats scores with `%.17Lg`.
    static func zscan(_ c: inout CommandContext) {
        guard let cursor = c.scanCursorArgument(2) else { return }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let zset: ZSetObject
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing:
                c.reply.arrayHeader(2)
                c.reply.bulk("0")
                c.reply.arrayHeader(0)
                return
            case .found(let z): zset = z
            }
            guard let options = c.parseScanOptions(from: 3, allowType: false) else { return }
            let packed = zset.encoding == .listpack
            var matched: [(UnsafeRawBufferPointer, Double)] = []
            let next = zset.scan(cursor: cursor, count: options.count) { member, score in
                if options.matches(member) { matched.append((member, score)) }
            }
            c.reply.arrayHeader(2)
            c.reply.bulkDecimal(Int(next))
            c.reply.arrayHeader(matched.count * 2)
            for (member, score) in matched {
                c.reply.bulk(member)
                withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
                    let n = packed ? formatDouble(score, into: buffer) : formatScanScore(score, into: buffer)
                    c.reply.bulk(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
            }
        }
    }

    /// ld2string(LD_STR_AUTO): `%.17Lg` of the score as a long double.
    static func formatScanScore(_ score: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
        if score.isInfinite { return copyText(score < 0 ? "-inf" : "inf", into: out) }
        let text = out.baseAddress!.assumingMemoryBound(to: CChar.self)
        #if arch(x86_64) || arch(i386)
        let n = Int(withVaList([LongDouble(score)]) { vsnprintf(text, out.count, "%.17Lg", $0) })
        #else
        let n = Int(withVaList([score]) { vsnprintf(text, out.count, "%.17g", $0) })
        #endif
        return Swift.max(0, Swift.min(n, out.count - 1))
    }

    static func copyText(_ s: StaticString, into out: UnsafeMutableRawBufferPointer) -> Int {
        out.baseAddress!.copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        return s.utf8CodeUnitCount
    }

    // MARK: ZUNION ZINTER ZDIFF (and STORE), ZINTERCARD

    enum SetOperation { case union, inter, diff }

    enum Aggregate { case sum, min, max }

    static func zunion(_ c: inout CommandContext) { setOperation(&c, .union, destination: false, command: "zunion") }
    static func zunionstore(_ c: inout CommandContext) { setOperation(&c, .union, destination: true, command: "zunionstore") }
    static func zinter(_ c: inout CommandContext) { setOperation(&c, .inter, destination: false, command: "zinter") }
    static func zinterstore(_ c: inout CommandContext) { setOperation(&c, .inter, destination: true, command: "zinterstore") }
    static func zdiff(_ c: inout CommandContext) { setOperation(&c, .diff, destination: false, command: "zdiff") }
    static func zdiffstore(_ c: inout CommandContext) { setOperation(&c, .diff, destination: true, command: "zdiffstore") }
    static func zintercard(_ c: inout CommandContext) {
        setOperation(&c, .inter, destination: false, command: "zintercard", cardinalityOnly: true)
    }

    /// One input of a set operation: a sorted set, a plain set (every member scores 1), or a
    /// missing key (empty).
    struct Source {
        var zset: ZSetObject?
        var set: SetObject?
        var weight = 1.0

        var count: Int { zset?.count ?? set?.count ?? 0 }

        /// The member's score in this input, if present.
        func score(of member: UnsafeRawBufferPointer) -> Double? {
            if let zset { return zset.score(of: member) }
            if let set { return set.contains(member) ? 1 : nil }
            return nil
        }

        func forEach(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
            if let zset {
                zset.forEach(body)
            } else if let set {
                set.forEachMember { body($0, 1) }
            }
        }

        /// Same object as `other` (a key given twice).
        func isSame(as other: Source) -> Bool {
            if let a = zset, let b = other.zset { return a === b }
            if let a = set, let b = other.set { return a === b }
            return false
        }
    }

    /// zunionInterAggregate: SUM turns the NaN of inf + -inf into 0.
    @inline(__always)
    static func aggregate(_ target: Double, _ value: Double, _ how: Aggregate) -> Double {
        switch how {
        case .sum:
            let sum = target + value
            return sum.isNaN ? 0 : sum
        case .min:
            return value < target ? value : target
        case .max:
            return value > target ? value : target
        }
    }

    /// zunionInterDiffGenericCommand. Order of checks as Redis: numkeys, key count, the input
    /// keys' types, then the options.
    static func setOperation(_ c: inout CommandContext, _ op: SetOperation, destination: Bool, command: String,
                             cardinalityOnly: Bool = false) {
        let numkeysIndex = destination ? 2 : 1
        guard let setCount = c.integerArgument(numkeysIndex) else { return }
        if setCount < 1 {
            return c.reply.error("ERR at least 1 input key is needed for '\(command)' command")
        }
        guard setCount <= c.args.count - (numkeysIndex + 1) else { return c.syntaxError() }
        let firstKey = numkeysIndex + 1
        let limits = c.server.collectionLimits
        withLockedKeys(&c, firstKey..<(firstKey + setCount), extra: destination ? 1 : nil) { c, db, hashes in
            var sources: [Source] = []
            sources.reserveCapacity(setCount)
            for i in 0..<setCount {
                let entry = c.lookupRead(db.shard(hash: hashes[i]), c.args[firstKey + i], hash: hashes[i])
                guard let entry else {
                    sources.append(Source())
                    continue
                }
                switch entry.type {
                case .zset: sources.append(Source(zset: entry.collection(ZSetObject.self)))
                case .set: sources.append(Source(set: entry.collection(SetObject.self)))
                default: return c.wrongType()
                }
            }
            // Options.
            var how = Aggregate.sum
            var withScores = false
            var limit = 0
            var j = firstKey + setCount
            while j < c.args.count {
                let remaining = c.args.count - j
                if op != .diff && !cardinalityOnly && remaining >= setCount + 1 && c.args.isToken(j, "weights") {
                    j += 1
                    for i in 0..<setCount {
                        guard let weight = parseDouble(c.args[j]) else {
                            return c.reply.error("ERR weight value is not a float")
                        }
                        sources[i].weight = weight
                        j += 1
                    }
                } else if op != .diff && !cardinalityOnly && remaining >= 2 && c.args.isToken(j, "aggregate") {
                    j += 1
                    if c.args.isToken(j, "sum") {
                        how = .sum
                    } else if c.args.isToken(j, "min") {
                        how = .min
                    } else if c.args.isToken(j, "max") {
                        how = .max
                    } else {
                        return c.syntaxError()
                    }
                    j += 1
                } else if !destination && !cardinalityOnly && c.args.isToken(j, "withscores") {
                    withScores = true
                    j += 1
                } else if cardinalityOnly && remaining >= 2 && c.args.isToken(j, "limit") {
                    guard let n = longArgument(&c, j + 1, in: 0...Int.max, message: "ERR LIMIT can't be negative")
                    else { return }
                    limit = n
                    j += 2
                } else {
                    return c.syntaxError()
                }
            }
            if op != .diff {
                // Smallest input first (a stable sort, like glibc's qsort on small arrays).
                sources = sources.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }
                    .map(\.element)
            }
            if cardinalityOnly {
                return c.reply.integer(interCard(sources, limit: limit))
            }
            var result = ZSetAccumulator()
            switch op {
            case .inter: intersect(sources, how, into: &result)
            case .union: unite(sources, how, into: &result)
            case .diff: subtract(sources, into: &result)
            }
            if destination {
                let key = c.args[1]
                let hash = hashes[setCount]
                let shard = db.shard(hash: hash)
                let object = result.makeObject(limits: limits)
                let stored = object?.count ?? 0
                if store(object, as: key, shard: shard, hash: hash, &c) { c.keyModified(key) }
                c.reply.integer(stored)
                return
            }
            let sorted = result.sortedEntries()
            replyElementsHeader(&c.reply, count: sorted.count, withScores: withScores)
            for entry in sorted { replyElement(&c.reply, entry.key, entry.memberScore, withScores: withScores) }
        }
    }

    static func intersect(_ sources: [Source], _ how: Aggregate, into result: inout ZSetAccumulator) {
        guard let first = sources.first, first.count > 0 else { return }
        first.forEach { member, score in
            var total = first.weight * score
            if total.isNaN { total = 0 }
            for j in 1..<sources.count {
                let other = sources[j]
                let value: Double
                if other.isSame(as: first) {
                    value = score * other.weight
                } else if let s = other.score(of: member) {
                    value = s * other.weight
                } else {
                    return
                }
                total = aggregate(total, value, how)
            }
            result.insert(member, score: total)
        }
    }

    static func interCard(_ sources: [Source], limit: Int) -> Int {
        guard let first = sources.first, first.count > 0 else { return 0 }
        var cardinality = 0
        // Stops at the limit: iteration of the first input cannot be interrupted, so count
        // through and cap (the result is the same).
        first.forEach { member, _ in
            if limit > 0 && cardinality >= limit { return }
            for j in 1..<sources.count where !sources[j].isSame(as: first) {
                if sources[j].score(of: member) == nil { return }
            }
            cardinality += 1
        }
        return cardinality
    }

    static func unite(_ sources: [Source], _ how: Aggregate, into result: inout ZSetAccumulator) {
        for source in sources where source.count > 0 {
            source.forEach { member, score in
                var value = source.weight * score
                if value.isNaN { value = 0 }
                result.merge(member, score: value) { aggregate($0, $1, how) }
            }
        }
    }

    static func subtract(_ sources: [Source], into result: inout ZSetAccumulator) {
        guard let first = sources.first, first.count > 0 else { return }
        // A key given again as a subtrahend removes everything.
        if sources.dropFirst().contains(where: { $0.isSame(as: first) }) { return }
        first.forEach { member, score in
            for j in 1..<sources.count where sources[j].score(of: member) != nil { return }
            result.insert(member, score: score)
        }
    }
}

// MARK: DEBUG DIGEST

extension ZSetObject: DigestibleCollection {
    /// debug.c xorObjectDigest for a sorted set: per element, mix the member then the score as
    /// fpconv_dtoa prints it; xor the element digests.
    func mixDigest(into digest: inout [UInt8]) {
        forEach { member, score in
            var element = [UInt8](repeating: 0, count: 20)
            DebugCommands.mix(&element, member)
            withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { buffer in
                let n = SortedSetCommands.fpconvFormat(score, into: buffer)
                DebugCommands.mix(&element, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            element.withUnsafeBytes { DebugCommands.xor(&digest, $0) }
        }
    }
}

extension SortedSetCommands {
    /// fpconv_dtoa's text: `formatDouble` without d2string's integer shortcut, so integral
    /// values with many trailing zeros print in exponent form (1e+20, 1e+8) as fpconv does.
    static func fpconvFormat(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
        guard value.isFinite, value != 0, value.magnitude <= 0x1p62, value == value.rounded(.towardZero) else {
            return formatDouble(value, into: out)
        }
        // Integral: digits of the integer without trailing zeros, K = zeros dropped.
        var magnitude = UInt64(value.magnitude)
        var k = 0
        while magnitude % 10 == 0 {
            magnitude /= 10
            k += 1
        }
        var digits: [UInt8] = []
        while magnitude > 0 {
            digits.append(UInt8(magnitude % 10) + 0x30)
            magnitude /= 10
        }
        digits.reverse()
        let negative = value < 0
        var n = 0
        func put(_ byte: UInt8) {
            out[n] = byte
            n += 1
        }
        if negative { put(UInt8(ascii: "-")) }
        let ndigits = digits.count
        let exp = k + ndigits - 1
        // emit_digits: plain while the exponent is small.
        if exp < ndigits + 7 {
            for d in digits { put(d) }
            for _ in 0..<k { put(UInt8(ascii: "0")) }
            return n
        }
        let kept = Swift.min(ndigits, negative ? 17 : 18)
        put(digits[0])
        if kept > 1 {
            put(UInt8(ascii: "."))
            for d in digits[1..<kept] { put(d) }
        }
        put(UInt8(ascii: "e"))
        put(UInt8(ascii: "+"))
        if exp > 99 { put(UInt8(exp / 100) + 0x30) }
        if exp > 9 { put(UInt8(exp / 10 % 10) + 0x30) }
        put(UInt8(exp % 10) + 0x30)
        return n
    }
}
