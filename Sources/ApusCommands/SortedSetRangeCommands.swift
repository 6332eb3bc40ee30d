import ApusRESP
import ApusStore

/// The range commands of the sorted-set family: ZRANGE (BYSCORE BYLEX REV LIMIT WITHSCORES),
/// ZRANGESTORE, the older Z[REV]RANGE[BYSCORE|BYLEX] forms, ZCOUNT, ZLEXCOUNT and
/// ZREMRANGEBYRANK/SCORE/LEX.
///
/// Every range becomes a window of ranks (`RankWindow`) found with O(log N) searches in the
/// full encoding, then the elements are written straight from the set while the lock is held.
extension SortedSetCommands {
    static func registerRangeCommands(into registry: CommandRegistry) {
        registry.register("zrange", zrange)
        registry.register("zrevrange", zrevrange)
        registry.register("zrangebyscore", zrangebyscore)
        registry.register("zrevrangebyscore", zrevrangebyscore)
        registry.register("zrangebylex", zrangebylex)
        registry.register("zrevrangebylex", zrevrangebylex)
        registry.register("zrangestore", zrangestore)
        registry.register("zcount", zcount)
        registry.register("zlexcount", zlexcount)
        registry.register("zremrangebyrank", zremrangebyrank)
        registry.register("zremrangebyscore", zremrangebyscore)
        registry.register("zremrangebylex", zremrangebylex)
    }

    // MARK: Range arguments

    /// zslParseRange: `(` makes an end exclusive; the rest is read by strtod (see parseScoreBound).
    static func scoreRange(_ c: inout CommandContext, min: Int, max: Int) -> ZScoreRange? {
        func bound(_ raw: UnsafeRawBufferPointer) -> (Double, Bool)? {
            if raw.count > 0 && raw[0] == UInt8(ascii: "(") {
                return parseScoreBound(UnsafeRawBufferPointer(rebasing: raw[1...])).map { ($0, true) }
            }
            return parseScoreBound(raw).map { ($0, false) }
        }
        guard let (low, lowExclusive) = bound(c.args[min]), let (high, highExclusive) = bound(c.args[max]) else {
            c.reply.error("ERR min or max is not a float")
            return nil
        }
        return ZScoreRange(min: low, max: high, minExclusive: lowExclusive, maxExclusive: highExclusive)
    }

    /// zslParseLexRange: each end is `-`, `+`, `[member` or `(member`.
    static func lexRange(_ c: inout CommandContext, min: Int, max: Int) -> ZLexRange? {
        guard let low = ZLexBound(parsing: c.args[min]), let high = ZLexBound(parsing: c.args[max]) else {
            c.reply.error("ERR min or max not valid string range item")
            return nil
        }
        return ZLexRange(min: low, max: high)
    }

    /// A parsed range of one of the three kinds.
    enum ParsedRange {
        case rank(start: Int, end: Int)
        case score(ZScoreRange)
        case lex(ZLexRange)
    }

    /// `count` elements from rank `start`, walking down when `reverse`.
    struct RankWindow {
        var start = 0
        var count = 0
        var reverse = false

        static let empty = RankWindow()
    }

    /// The ranks a range selects, as Redis's genericZrangeby{rank,score,lex}Command walk them:
    /// rank indexes are clamped; a score or lex range starts at its first (last, reversed)
    /// element, skips `offset` elements, then runs while the elements stay within the far end,
    /// at most `limit` of them (a negative limit is no limit, a negative offset selects nothing).
    static func window(_ range: ParsedRange, in zset: ZSetObject, reverse: Bool, offset: Int, limit: Int) -> RankWindow {
        let length = zset.count
        switch range {
        case .rank(var start, var end):
            if start < 0 { start = length + start }
            if end < 0 { end = length + end }
            if start < 0 { start = 0 }
            if start > end || start >= length { return .empty }
            if end >= length { end = length - 1 }
            let n = end - start + 1
            return RankWindow(start: reverse ? length - 1 - start : start, count: n, reverse: reverse)
        case .score(let spec):
            return window(spec, in: zset, reverse: reverse, offset: offset, limit: limit)
        case .lex(let spec):
            return window(spec, in: zset, reverse: reverse, offset: offset, limit: limit)
        }
    }

    static func window<S: ZRangeSpec>(_ spec: S, in zset: ZSetObject, reverse: Bool, offset: Int, limit: Int) -> RankWindow {
        guard offset >= 0 else { return .empty }
        var n: Int
        let start: Int
        if reverse {
            guard let last = zset.lastRank(in: spec), offset <= last else { return .empty }
            start = last - offset
            n = start - zset.backwardStart(from: start, in: spec) + 1
        } else {
            guard let first = zset.firstRank(in: spec), offset < zset.count - first else { return .empty }
            start = first + offset
            n = zset.forwardEnd(from: start, in: spec) - start
        }
        if limit >= 0 { n = Swift.min(n, limit) }
        return RankWindow(start: start, count: Swift.max(n, 0), reverse: reverse)
    }

    /// Calls `body` for each element of `window`.
    static func forEach(in window: RankWindow, of zset: ZSetObject, _ body: (UnsafeRawBufferPointer, Double) -> Void) {
        guard window.count > 0 else { return }
        var left = window.count
        zset.forEach(fromRank: window.start, reverse: window.reverse) { member, score in
            body(member, score)
            left -= 1
            return left > 0
        }
    }

    // MARK: ZRANGE and friends

    enum RangeKind { case auto, rank, score, lex }

    static func zrange(_ c: inout CommandContext) { zrangeGeneric(&c, source: 1, store: false, kind: .auto, reverse: nil) }
    static func zrevrange(_ c: inout CommandContext) { zrangeGeneric(&c, source: 1, store: false, kind: .rank, reverse: true) }
    static func zrangebyscore(_ c: inout CommandContext) { zrangeGeneric(&c, source: 1, store: false, kind: .score, reverse: false) }
    static func zrevrangebyscore(_ c: inout CommandContext) { zrangeGeneric(&c, source: 1, store: false, kind: .score, reverse: true) }
    static func zrangebylex(_ c: inout CommandContext) { zrangeGeneric(&c, source: 1, store: false, kind: .lex, reverse: false) }
    static func zrevrangebylex(_ c: inout CommandContext) { zrangeGeneric(&c, source: 1, store: false, kind: .lex, reverse: true) }
    static func zrangestore(_ c: inout CommandContext) { zrangeGeneric(&c, source: 2, store: true, kind: .auto, reverse: nil) }

    /// zrangeGenericCommand: `<src> <min> <max>` at `source`, then options. Options a command
    /// fixes itself (BYSCORE for ZRANGEBYSCORE, REV for ZREVRANGE, WITHSCORES for ZRANGESTORE)
    /// are syntax errors; LIMIT needs BYSCORE/BYLEX and WITHSCORES excludes BYLEX.
    static func zrangeGeneric(_ c: inout CommandContext, source: Int, store: Bool, kind: RangeKind, reverse: Bool?) {
        var kind = kind
        var reverse = reverse
        var withScores = false
        var offset = 0
        var limit = -1
        var j = source + 3
        while j < c.args.count {
            let left = c.args.count - j - 1
            if !store && c.args.isToken(j, "withscores") {
                withScores = true
            } else if c.args.isToken(j, "limit") && left >= 2 {
                guard let o = c.integerArgument(j + 1), let l = c.integerArgument(j + 2) else { return }
                offset = o
                limit = l
                j += 2
            } else if reverse == nil && c.args.isToken(j, "rev") {
                reverse = true
            } else if kind == .auto && c.args.isToken(j, "bylex") {
                kind = .lex
            } else if kind == .auto && c.args.isToken(j, "byscore") {
                kind = .score
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        let isReverse = reverse ?? false
        if kind == .auto { kind = .rank }
        // Redis tells "no LIMIT" by a count of -1, so `LIMIT x -1` passes this check.
        if limit != -1 && kind == .rank {
            return c.reply.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
        }
        if withScores && kind == .lex {
            return c.reply.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
        }
        var minIndex = source + 1, maxIndex = source + 2
        if isReverse && kind != .rank { swap(&minIndex, &maxIndex) }
        let range: ParsedRange
        switch kind {
        case .auto, .rank:
            guard let start = c.integerArgument(minIndex), let end = c.integerArgument(maxIndex) else { return }
            range = .rank(start: start, end: end)
        case .score:
            guard let spec = scoreRange(&c, min: minIndex, max: maxIndex) else { return }
            range = .score(spec)
        case .lex:
            guard let spec = lexRange(&c, min: minIndex, max: maxIndex) else { return }
            range = .lex(spec)
        }
        if store {
            return rangeStore(&c, source: source, range: range, kind: kind, reverse: isReverse, offset: offset, limit: limit)
        }
        let key = c.args[source]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType:
                c.wrongType()
            case .missing:
                c.reply.arrayHeader(0)
            case .found(let zset):
                let window = window(range, in: zset, reverse: isReverse, offset: offset, limit: limit)
                replyElementsHeader(&c.reply, count: window.count, withScores: withScores)
                forEach(in: window, of: zset) { member, score in
                    replyElement(&c.reply, member, score, withScores: withScores)
                }
            }
        }
    }

    /// ZRANGESTORE: the selected elements go into a new sorted set created the way Redis's
    /// zrangeResultBeginStore does (sized by the rank range's length, 0 for score/lex ranges)
    /// and filled with zsetAdd, so it converts at the same points; an empty result deletes the
    /// destination.
    static func rangeStore(_ c: inout CommandContext, source: Int, range: ParsedRange, kind: RangeKind, reverse: Bool,
                           offset: Int, limit: Int) {
        let limits = c.server.collectionLimits
        let destination = c.args[1]
        enum Outcome { case wrongType, stored(Int, changed: Bool) }
        let outcome: Outcome = withLockedKeys(&c, source..<(source + 1), extra: 1) { c, db, hashes in
            let sourceShard = db.shard(hash: hashes[0])
            var result: ZSetObject? = nil
            switch SortedSetCommands.zset(of: c.lookupRead(sourceShard, c.args[source], hash: hashes[0])) {
            case .wrongType:
                return .wrongType
            case .missing:
                break
            case .found(let zset):
                let window = window(range, in: zset, reverse: reverse, offset: offset, limit: limit)
                let object = ZSetObject.create(sizeHint: kind == .rank ? window.count : 0, valueLengthHint: 0, limits: limits)
                forEach(in: window, of: zset) { member, score in _ = object.add(member, score: score, limits: limits) }
                result = object
            }
            let count = result?.count ?? 0
            let changed = store(result, as: destination, shard: db.shard(hash: hashes[1]), hash: hashes[1], &c)
            if changed { c.keyModified(destination) }
            return .stored(count, changed: changed)
        }
        switch outcome {
        case .wrongType:
            c.wrongType()
        case .stored(let count, _):
            c.reply.integer(count)
        }
    }

    // MARK: ZCOUNT ZLEXCOUNT

    static func zcount(_ c: inout CommandContext) {
        guard let spec = scoreRange(&c, min: 2, max: 3) else { return }
        countInRange(&c, spec)
    }

    static func zlexcount(_ c: inout CommandContext) {
        guard let spec = lexRange(&c, min: 2, max: 3) else { return }
        countInRange(&c, spec)
    }

    static func countInRange<S: ZRangeSpec>(_ c: inout CommandContext, _ spec: S) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.integer(0)
            case .found(let zset): c.reply.integer(zset.count(in: spec))
            }
        }
    }

    // MARK: ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX

    static func zremrangebyrank(_ c: inout CommandContext) {
        guard let start = c.integerArgument(2), let end = c.integerArgument(3) else { return }
        removeRange(&c, .rank(start: start, end: end))
    }

    static func zremrangebyscore(_ c: inout CommandContext) {
        guard let spec = scoreRange(&c, min: 2, max: 3) else { return }
        removeRange(&c, .score(spec))
    }

    static func zremrangebylex(_ c: inout CommandContext) {
        guard let spec = lexRange(&c, min: 2, max: 3) else { return }
        removeRange(&c, .lex(spec))
    }

    /// zremrangeGenericCommand: removes the range, deleting the key when it empties.
    static func removeRange(_ c: inout CommandContext, _ range: ParsedRange) {
        let key = c.args[1]
        let removed: Int? = c.db.withShard(for: key) { shard, hash in
            switch SortedSetCommands.zset(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                return nil
            case .missing:
                return 0
            case .found(let zset):
                let removed: Int
                switch range {
                case .rank:
                    let window = window(range, in: zset, reverse: false, offset: 0, limit: -1)
                    removed = zset.removeRanks(window.start..<(window.start + window.count))
                case .score(let spec):
                    removed = zset.removeRange(spec)
                case .lex(let spec):
                    removed = zset.removeRange(spec)
                }
                if removed > 0 {
                    c.keyModified(key, changes: removed)
                    switch range {
                    case .rank: c.notify(.zset, "zremrangebyrank", key)
                    case .score: c.notify(.zset, "zremrangebyscore", key)
                    case .lex: c.notify(.zset, "zremrangebylex", key)
                    }
                }
                if zset.count == 0 {
                    shard.delete(key, hash: hash)
                    if removed > 0 { c.notify(.generic, "del", key) }
                }
                return removed
            }
        }
        guard let removed else { return c.wrongType() }
        c.reply.integer(removed)
    }
}
