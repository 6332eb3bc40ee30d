import ApusRESP
import ApusStore

/// The list family (t_list.c), non-blocking part: LINDEX LINSERT LLEN LMOVE LMPOP LPOP LPOS
/// LPUSH LPUSHX LRANGE LREM LSET LTRIM RPOP RPOPLPUSH RPUSH RPUSHX.
///
/// The blocking variants reuse `popFirstNonEmpty` (BLPOP, BRPOP, BLMPOP) and `moveLocked`
/// (BLMOVE, BRPOPLPUSH), which run with the keys' shard locks held and report when there was
/// nothing to serve, so the caller can block while still holding them.
public enum ListCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("lpush", lpush)
        registry.register("rpush", rpush)
        registry.register("lpushx", lpushx)
        registry.register("rpushx", rpushx)
        registry.register("linsert", linsert)
        registry.register("llen", llen)
        registry.register("lindex", lindex)
        registry.register("lset", lset)
        registry.register("lrange", lrange)
        registry.register("ltrim", ltrim)
        registry.register("lpos", lpos)
        registry.register("lrem", lrem)
        registry.register("lpop", lpop)
        registry.register("rpop", rpop)
        registry.register("lmpop", lmpop)
        registry.register("lmove", lmove)
        registry.register("rpoplpush", rpoplpush)
    }

    /// The list object of an entry whose type is `.list`.
    @inlinable
    static func list(_ entry: Entry) -> ListObject { unsafeDowncast(entry.object, to: ListObject.self) }

    // MARK: LPUSH RPUSH LPUSHX RPUSHX

    static func lpush(_ c: inout CommandContext) { push(&c, to: .head, onlyIfExists: false) }
    static func rpush(_ c: inout CommandContext) { push(&c, to: .tail, onlyIfExists: false) }
    static func lpushx(_ c: inout CommandContext) { push(&c, to: .head, onlyIfExists: true) }
    static func rpushx(_ c: inout CommandContext) { push(&c, to: .tail, onlyIfExists: true) }

    /// pushGenericCommand: every element from argument 2 on, in argument order.
    static func push(_ c: inout CommandContext, to end: ListEnd, onlyIfExists: Bool) {
        let key = c.args[1]
        let server = c.server
        c.db.withShard(for: key) { shard, hash in
            let object: ListObject
            if let entry = c.lookupWrite(shard, key, hash: hash) {
                guard entry.type == .list else { return c.wrongType() }
                object = list(entry)
            } else {
                if onlyIfExists { return c.reply.integer(0) }
                object = ListObject()
                shard.insertCollection(key, object, type: .list, hash: hash)
                c.notify(.new, "new", key)
            }
            object.push(c.args, from: 2, to: end, limits: server.collectionLimits)
            c.reply.integer(object.count)
            c.keyModified(key, changes: c.args.count - 2)
            c.notify(.list, end == .head ? "lpush" : "rpush", key)
        }
    }

    // MARK: LINSERT LLEN LINDEX LSET

    /// LINSERT key BEFORE|AFTER pivot element: the new length, -1 without the pivot, 0
    /// without the key.
    static func linsert(_ c: inout CommandContext) {
        let after: Bool
        if c.args.isToken(2, "after") {
            after = true
        } else if c.args.isToken(2, "before") {
            after = false
        } else {
            return c.syntaxError()
        }
        let key = c.args[1]
        let server = c.server
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupWrite(shard, key, hash: hash) else { return c.reply.integer(0) }
            guard entry.type == .list else { return c.wrongType() }
            guard let length = list(entry).insert(c.args[4], pivot: c.args[3], after: after, limits: server.collectionLimits) else {
                return c.reply.integer(-1)
            }
            c.keyModified(key)
            c.notify(.list, "linsert", key)
            c.reply.integer(length)
        }
    }

    static func llen(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.integer(0) }
            guard entry.type == .list else { return c.wrongType() }
            c.reply.integer(list(entry).count)
        }
    }

    /// LINDEX: Redis looks the key up before it parses the index, so a missing key answers
    /// nil even for a bad index.
    static func lindex(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.null() }
            guard entry.type == .list else { return c.wrongType() }
            guard let index = c.integerArgument(2) else { return }
            let found = list(entry).withElement(at: index) { c.reply.bulk($0) }
            if found == nil { c.reply.null() }
        }
    }

    /// LSET: the key is checked before the index is parsed, as in Redis. Redis 7.2 passes the
    /// index through an `int` parameter (listTypeReplaceAtIndex), so it is truncated to 32 bits:
    /// `LSET k 4294967295 v` sets the last element (7.0 answered "index out of range").
    static func lset(_ c: inout CommandContext) {
        let key = c.args[1]
        let server = c.server
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupWrite(shard, key, hash: hash) else { return c.reply.error("ERR no such key") }
            guard entry.type == .list else { return c.wrongType() }
            guard let index = c.integerArgument(2) else { return }
            let truncated = Int(Int32(truncatingIfNeeded: index))
            guard list(entry).replace(at: truncated, with: c.args[3], limits: server.collectionLimits) else {
                return c.reply.error("ERR index out of range")
            }
            c.keyModified(key)
            c.notify(.list, "lset", key)
            c.reply.ok()
        }
    }

    // MARK: LRANGE LTRIM

    /// The inclusive range `start...stop` (negative indexes count from the tail) of a list of
    /// `length` elements, clamped as addListRangeReply does; nil when empty.
    @inlinable
    static func clampedRange(start: Int, stop: Int, length: Int) -> (start: Int, count: Int)? {
        var start = start < 0 ? length &+ start : start
        var stop = stop < 0 ? length &+ stop : stop
        if start < 0 { start = 0 }
        if start > stop || start >= length { return nil }
        if stop >= length { stop = length &- 1 }
        return (start, stop &- start &+ 1)
    }

    static func lrange(_ c: inout CommandContext) {
        guard let start = c.integerArgument(2), let stop = c.integerArgument(3) else { return }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.arrayHeader(0) }
            guard entry.type == .list else { return c.wrongType() }
            let object = list(entry)
            guard let range = clampedRange(start: start, stop: stop, length: object.count) else {
                return c.reply.arrayHeader(0)
            }
            c.reply.arrayHeader(range.count)
            object.forEach(from: range.start, count: range.count) { c.reply.bulk($0) }
        }
    }

    /// LTRIM: OK even without the key; an emptied list is deleted.
    static func ltrim(_ c: inout CommandContext) {
        guard let start = c.integerArgument(2), let stop = c.integerArgument(3) else { return }
        let key = c.args[1]
        let server = c.server
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupWrite(shard, key, hash: hash) else { return c.reply.ok() }
            guard entry.type == .list else { return c.wrongType() }
            let object = list(entry)
            let removed = object.trim(start: start, stop: stop, limits: server.collectionLimits)
            c.notify(.list, "ltrim", key)
            if object.count == 0 {
                shard.delete(key, hash: hash)
                c.notify(.generic, "del", key)
            }
            // Redis signals the key even when nothing was trimmed.
            c.keyModified(key, changes: removed)
            c.reply.ok()
        }
    }

    // MARK: LPOS LREM

    /// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: every option is parsed
    /// (and may repeat, the last one winning) before the key is looked up.
    static func lpos(_ c: inout CommandContext) {
        var rank = 1
        var count: Int?
        var maxlen = 0
        var j = 3
        while j < c.args.count {
            let hasValue = j + 1 < c.args.count
            if c.args.isToken(j, "rank") && hasValue {
                j += 1
                guard let value = parseInteger(c.args[j]) else { return c.notInteger() }
                guard value != Int.min else {
                    return c.reply.error(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
                }
                guard value != 0 else {
                    return c.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the "
                        + "second ... or use negative to start from the end of the list")
                }
                rank = value
            } else if c.args.isToken(j, "count") && hasValue {
                j += 1
                guard let value = parseInteger(c.args[j]), value >= 0 else {
                    return c.reply.error("ERR COUNT can't be negative")
                }
                count = value
            } else if c.args.isToken(j, "maxlen") && hasValue {
                j += 1
                guard let value = parseInteger(c.args[j]), value >= 0 else {
                    return c.reply.error("ERR MAXLEN can't be negative")
                }
                maxlen = value
            } else {
                return c.syntaxError()
            }
            j += 1
        }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else {
                return count == nil ? c.reply.null() : c.reply.arrayHeader(0)
            }
            guard entry.type == .list else { return c.wrongType() }
            let object = list(entry)
            let element = c.args[2]
            guard let count else {
                var match: Int?
                object.positions(of: element, rank: rank, limit: 1, maxlen: maxlen) { match = $0 }
                if let match { c.reply.integer(match) } else { c.reply.null() }
                return
            }
            var matches: [Int] = []
            object.positions(of: element, rank: rank, limit: count, maxlen: maxlen) { matches.append($0) }
            c.reply.arrayHeader(matches.count)
            for index in matches { c.reply.integer(index) }
        }
    }

    /// LREM key count element.
    static func lrem(_ c: inout CommandContext) {
        guard let count = c.integerArgument(2) else { return }
        let key = c.args[1]
        let server = c.server
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupWrite(shard, key, hash: hash) else { return c.reply.integer(0) }
            guard entry.type == .list else { return c.wrongType() }
            let object = list(entry)
            let removed = object.remove(c.args[3], count: count, limits: server.collectionLimits)
            if removed > 0 { c.notify(.list, "lrem", key) }
            if object.count == 0 {
                shard.delete(key, hash: hash)
                c.notify(.generic, "del", key)
            }
            if removed > 0 { c.keyModified(key, changes: removed) }
            c.reply.integer(removed)
        }
    }

    // MARK: Pops

    /// How a pop replies: LPOP (one bulk), LPOP with a count (array), BLPOP/BRPOP (key and
    /// element), LMPOP/BLMPOP (key and array).
    public enum PopReply: Sendable {
        case element
        case elements
        case keyAndElement
        case keyAndElements
    }

    static func lpop(_ c: inout CommandContext) { pop(&c, from: .head, name: "lpop") }
    static func rpop(_ c: inout CommandContext) { pop(&c, from: .tail, name: "rpop") }

    /// popGenericCommand: LPOP/RPOP key [count]. Without a count a missing key is a null bulk,
    /// with one a null array; a count of 0 answers an empty array when the key exists.
    static func pop(_ c: inout CommandContext, from end: ListEnd, name: String) {
        guard c.args.count <= 3 else { return c.wrongArity(name) }
        var count: Int?
        if c.args.count == 3 {
            guard let n = parseInteger(c.args[2]), n >= 0 else {
                return c.reply.error("ERR value is out of range, must be positive")
            }
            count = n
        }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupWrite(shard, key, hash: hash) else {
                return count == nil ? c.reply.null() : c.reply.nullArray()
            }
            guard entry.type == .list else { return c.wrongType() }
            if let count {
                if count == 0 { return c.reply.arrayHeader(0) }
                popAndReply(&c, shard: shard, entry: entry, key: key, hash: hash, from: end, count: count,
                            reply: .elements)
            } else {
                popAndReply(&c, shard: shard, entry: entry, key: key, hash: hash, from: end, count: 1,
                            reply: .element)
            }
        }
    }

    /// Pops up to `count` (≥ 1) elements from the non-empty list at `entry` (of `key`, in
    /// `shard`, whose lock is held), writes the reply in the `reply` shape, deletes the key if
    /// it is emptied and records the change.
    public static func popAndReply(_ c: inout CommandContext, shard: Shard, entry: Entry, key: UnsafeRawBufferPointer,
                                   hash: UInt64, from end: ListEnd, count: Int, reply: PopReply) {
        let object = list(entry)
        let n = Swift.min(count, object.count)
        switch reply {
        case .element:
            break
        case .elements:
            c.reply.arrayHeader(n)
        case .keyAndElement:
            c.reply.arrayHeader(2)
            c.reply.bulk(key)
        case .keyAndElements:
            c.reply.arrayHeader(2)
            c.reply.bulk(key)
            c.reply.arrayHeader(n)
        }
        let server = c.server
        object.pop(from: end, count: n, limits: server.collectionLimits) { c.reply.bulk($0) }
        c.notify(.list, end == .head ? "lpop" : "rpop", key)
        if object.count == 0 {
            shard.delete(key, hash: hash)
            c.notify(.generic, "del", key)
        }
        c.keyModified(key, changes: n)
    }

    /// mpopGenericCommand / the serving half of blockingPopGenericCommand: pops from the first
    /// of the keys at argument indexes `keys` that holds a non-empty list. Returns true when it
    /// served one, false when every key is missing or empty (nothing written: reply null or
    /// block), nil after replying WRONGTYPE for a key of another type met first. The shard
    /// locks of all `keys` must be held.
    public static func popFirstNonEmpty(_ c: inout CommandContext, keys: Range<Int>, from end: ListEnd, count: Int,
                                        reply: PopReply) -> Bool? {
        let db = c.db
        for i in keys {
            let key = c.args[i]
            let hash = keyHash(key)
            let shard = db.shard(hash: hash)
            guard let entry = c.lookupWrite(shard, key, hash: hash) else { continue }
            guard entry.type == .list else {
                c.wrongType()
                return nil
            }
            if list(entry).count == 0 { continue }
            popAndReply(&c, shard: shard, entry: entry, key: key, hash: hash, from: end, count: count, reply: reply)
            return true
        }
        return false
    }

    /// The arguments of LMPOP (`numkeysIndex` 1) and BLMPOP (2): numkeys, the keys, LEFT|RIGHT
    /// and an optional COUNT, with Redis's errors; nil after replying with one.
    public static func parseMultiPop(_ c: inout CommandContext, numkeysIndex: Int)
        -> (keys: Range<Int>, end: ListEnd, count: Int)? {
        guard let numkeys = parseInteger(c.args[numkeysIndex]), numkeys >= 1 else {
            c.reply.error("ERR numkeys should be greater than 0")
            return nil
        }
        let argc = c.args.count
        guard numkeys < argc - numkeysIndex - 1 else {
            c.syntaxError()
            return nil
        }
        let whereIndex = numkeysIndex + numkeys + 1
        guard let end = listEnd(&c, whereIndex) else { return nil }
        var count = -1
        var j = whereIndex + 1
        while j < argc {
            if count == -1 && c.args.isToken(j, "count") && j + 1 < argc {
                j += 1
                guard let n = parseInteger(c.args[j]), n >= 1 else {
                    c.reply.error("ERR count should be greater than 0")
                    return nil
                }
                count = n
            } else {
                c.syntaxError()
                return nil
            }
            j += 1
        }
        return ((numkeysIndex + 1) ..< whereIndex, end, count == -1 ? 1 : count)
    }

    /// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
    static func lmpop(_ c: inout CommandContext) {
        guard let (keys, end, count) = parseMultiPop(&c, numkeysIndex: 1) else { return }
        let db = c.db
        let mask = db.shardMask(for: keys.lazy.map { [args = c.args] in args[$0] })
        db.lockShards(mask)
        defer { db.unlockShards(mask) }
        if popFirstNonEmpty(&c, keys: keys, from: end, count: count, reply: .keyAndElements) == false {
            c.reply.nullArray()
        }
    }

    // MARK: LMOVE RPOPLPUSH

    /// LEFT or RIGHT (getListPositionFromObjectOrReply).
    public static func listEnd(_ c: inout CommandContext, _ i: Int) -> ListEnd? {
        if c.args.isToken(i, "left") { return .head }
        if c.args.isToken(i, "right") { return .tail }
        c.syntaxError()
        return nil
    }

    /// LMOVE source destination LEFT|RIGHT LEFT|RIGHT.
    static func lmove(_ c: inout CommandContext) {
        guard let from = listEnd(&c, 3), let to = listEnd(&c, 4) else { return }
        move(&c, from: from, to: to)
    }

    /// RPOPLPUSH source destination: LMOVE source destination RIGHT LEFT.
    static func rpoplpush(_ c: inout CommandContext) {
        move(&c, from: .tail, to: .head)
    }

    static func move(_ c: inout CommandContext, from: ListEnd, to: ListEnd) {
        let db = c.db
        let mask = db.shardMask(for: [c.args[1], c.args[2]])
        db.lockShards(mask)
        defer { db.unlockShards(mask) }
        if moveLocked(&c, from: from, to: to) == false { c.reply.null() }
    }

    /// lmoveGenericCommand with the shard locks of arguments 1 (source) and 2 (destination)
    /// held: pops from the source's `from` end, pushes at the destination's `to` end (creating
    /// it), replies with the element. Returns false when the source is missing (nothing
    /// written: reply null or block), nil after replying WRONGTYPE (source or destination).
    public static func moveLocked(_ c: inout CommandContext, from: ListEnd, to: ListEnd) -> Bool? {
        let sourceKey = c.args[1]
        let destinationKey = c.args[2]
        let db = c.db
        let sourceHash = keyHash(sourceKey)
        let sourceShard = db.shard(hash: sourceHash)
        guard let sourceEntry = c.lookupWrite(sourceShard, sourceKey, hash: sourceHash) else { return false }
        guard sourceEntry.type == .list else {
            c.wrongType()
            return nil
        }
        let source = list(sourceEntry)
        if source.count == 0 { return false }
        let destinationHash = keyHash(destinationKey)
        let destinationShard = db.shard(hash: destinationHash)
        let destinationEntry = c.lookupWrite(destinationShard, destinationKey, hash: destinationHash)
        if let destinationEntry, destinationEntry.type != .list {
            c.wrongType()
            return nil
        }
        let destination = destinationEntry.map(list) ?? ListObject()
        let server = c.server
        source.move(from: from, to: destination, at: to, limits: server.collectionLimits) { c.reply.bulk($0) }
        // Redis's order: the push on the destination, then the pop, then the emptied source.
        if destinationEntry == nil {
            destinationShard.insertCollection(destinationKey, destination, type: .list, hash: destinationHash)
            c.notify(.new, "new", destinationKey)
        }
        c.notify(.list, to == .head ? "lpush" : "rpush", destinationKey)
        c.notify(.list, from == .head ? "lpop" : "rpop", sourceKey)
        if source.count == 0 {
            sourceShard.delete(sourceKey, hash: sourceHash)
            c.notify(.generic, "del", sourceKey)
        }
        c.keyModified(destinationKey, changes: 0)
        c.keyModified(sourceKey, changes: 1)
        return true
    }
}

// MARK: DEBUG DIGEST

extension ListObject: DigestibleCollection {
    /// debug.c: each element mixed in order, head to tail.
    func mixDigest(into digest: inout [UInt8]) {
        forEachElement { DebugCommands.mix(&digest, $0) }
    }
}
