import ApusRESP
import ApusStore
import NIOCore

/// The HASH family (Redis's t_hash.c): argument parsing, locking and replies around the
/// `HashObject` Ops.
public enum HashCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("hset", hset)
        registry.register("hmset", hmset)
        registry.register("hsetnx", hsetnx)
        registry.register("hget", hget)
        registry.register("hmget", hmget)
        registry.register("hdel", hdel)
        registry.register("hlen", hlen)
        registry.register("hstrlen", hstrlen)
        registry.register("hexists", hexists)
        registry.register("hincrby", hincrby)
        registry.register("hincrbyfloat", hincrbyfloat)
        registry.register("hkeys", hkeys)
        registry.register("hvals", hvals)
        registry.register("hgetall", hgetall)
        registry.register("hrandfield", hrandfield)
        registry.register("hscan", hscan)
    }

    typealias Lookup = CollectionLookup<HashObject>

    static func hash(of entry: Entry?) -> Lookup { Lookup(entry, type: .hash) }

    /// hashTypeLookupWriteOrCreate: the hash at `key`, created empty (listpack) when missing;
    /// nil when the key holds another type.
    static func lookupOrCreate(_ c: inout CommandContext, _ shard: Shard, _ key: UnsafeRawBufferPointer,
                               hash: UInt64) -> HashObject? {
        switch HashCommands.hash(of: c.lookupWrite(shard, key, hash: hash)) {
        case .found(let object): return object
        case .wrongType: return nil
        case .missing:
            let object = HashObject()
            shard.insertCollection(key, object, type: .hash, hash: hash)
            c.notify(.new, "new", key)
            return object
        }
    }

    /// hashTypeTryConversion over the field/value arguments from `start` to the end.
    static func tryConversion(_ object: HashObject, _ args: CommandArguments, from start: Int, limits: CollectionLimits) {
        guard object.encoding == .listpack else { return }
        var longest = 0
        var total = 0
        for i in start ..< args.count {
            let n = args[i].count
            if n > longest { longest = n }
            total &+= n
        }
        object.tryConversion(newFields: (args.count - start) / 2, longestArgument: longest, totalBytes: total,
                             limits: limits)
    }

    // MARK: HSET HMSET HSETNX

    static func hset(_ c: inout CommandContext) { setFields(&c, replyOK: false) }

    /// HMSET is HSET with `+OK` for a reply.
    static func hmset(_ c: inout CommandContext) { setFields(&c, replyOK: true) }

    static func setFields(_ c: inout CommandContext, replyOK: Bool) {
        // The dispatcher checked "at least 4"; an odd field/value list is an arity error too.
        if c.args.count % 2 == 1 { return c.wrongArity(replyOK ? "hmset" : "hset") }
        let key = c.args[1]
        let limits = c.server.collectionLimits
        let created: Int? = c.db.withShard(for: key) { shard, hash in
            guard let object = lookupOrCreate(&c, shard, key, hash: hash) else { return nil }
            tryConversion(object, c.args, from: 2, limits: limits)
            var created = 0
            var i = 2
            while i < c.args.count {
                if object.set(c.args[i], c.args[i + 1], limits: limits) { created += 1 }
                i += 2
            }
            // Redis counts every pair as a change, updates and no-op rewrites included.
            c.keyModified(key, changes: (c.args.count - 2) / 2)
            c.notify(.hash, "hset", key)
            return created
        }
        guard let created else { return c.wrongType() }
        if replyOK { c.reply.ok() } else { c.reply.integer(created) }
    }

    static func hsetnx(_ c: inout CommandContext) {
        let key = c.args[1]
        let limits = c.server.collectionLimits
        let set: Bool? = c.db.withShard(for: key) { shard, hash in
            guard let object = lookupOrCreate(&c, shard, key, hash: hash) else { return nil }
            if object.contains(c.args[2]) { return false }
            tryConversion(object, c.args, from: 2, limits: limits)
            object.set(c.args[2], c.args[3], limits: limits)
            c.keyModified(key)
            c.notify(.hash, "hset", key)
            return true
        }
        guard let set else { return c.wrongType() }
        c.reply.integer(set ? 1 : 0)
    }

    // MARK: HGET HMGET HEXISTS HSTRLEN HLEN

    static func hget(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.null()
            case .found(let object):
                if object.withValue(forField: c.args[2], { c.reply.bulk($0) }) == nil { c.reply.null() }
            }
        }
    }

    /// HMGET: a missing key is an empty hash (all nulls).
    static func hmget(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let object: HashObject?
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: object = nil
            case .found(let o): object = o
            }
            c.reply.arrayHeader(c.args.count - 2)
            for i in 2 ..< c.args.count {
                if object?.withValue(forField: c.args[i], { c.reply.bulk($0) }) == nil { c.reply.null() }
            }
        }
    }

    /// The commands answering one integer about a hash, 0 for a missing key.
    static func replyInteger(_ c: inout CommandContext, _ value: (HashObject, CommandArguments) -> Int) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.integer(0)
            case .found(let object): c.reply.integer(value(object, c.args))
            }
        }
    }

    static func hexists(_ c: inout CommandContext) {
        replyInteger(&c) { object, args in object.contains(args[2]) ? 1 : 0 }
    }

    static func hstrlen(_ c: inout CommandContext) {
        replyInteger(&c) { object, args in object.valueLength(forField: args[2]) }
    }

    static func hlen(_ c: inout CommandContext) {
        replyInteger(&c) { object, _ in object.count }
    }

    // MARK: HDEL

    static func hdel(_ c: inout CommandContext) {
        let key = c.args[1]
        let deleted: Int? = c.db.withShard(for: key) { shard, hash in
            switch HashCommands.hash(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType: return nil
            case .missing: return 0
            case .found(let object):
                var deleted = 0
                var emptied = false
                for i in 2 ..< c.args.count where object.remove(c.args[i]) {
                    deleted += 1
                    if object.count == 0 {
                        // Redis stops at the emptied hash: later fields are not counted.
                        shard.delete(key, hash: hash)
                        emptied = true
                        break
                    }
                }
                if deleted > 0 {
                    c.keyModified(key, changes: deleted)
                    c.notify(.hash, "hdel", key)
                    if emptied { c.notify(.generic, "del", key) }
                }
                return deleted
            }
        }
        guard let deleted else { return c.wrongType() }
        c.reply.integer(deleted)
    }

    // MARK: HINCRBY HINCRBYFLOAT

    static func reply(_ c: inout CommandContext, _ error: HashOpError) {
        switch error {
        case .notInteger: c.reply.error("ERR hash value is not an integer")
        case .overflow: c.reply.error("ERR increment or decrement would overflow")
        case .notFloat: c.reply.error("ERR hash value is not a float")
        case .nanOrInfinity: c.reply.error("ERR increment would produce NaN or Infinity")
        }
    }

    /// HINCRBY: the increment is checked before the key (a bad increment wins over WRONGTYPE).
    static func hincrby(_ c: inout CommandContext) {
        guard let increment = c.integerArgument(3) else { return }
        let key = c.args[1]
        let limits = c.server.collectionLimits
        enum Outcome { case wrongType, failed(HashOpError), value(Int) }
        let outcome: Outcome = c.db.withShard(for: key) { shard, hash in
            guard let object = lookupOrCreate(&c, shard, key, hash: hash) else { return .wrongType }
            do throws(HashOpError) {
                let value = try object.incrementInteger(c.args[2], by: increment, limits: limits)
                c.keyModified(key)
                c.notify(.hash, "hincrby", key)
                return .value(value)
            } catch {
                return .failed(error)
            }
        }
        switch outcome {
        case .wrongType: c.wrongType()
        case .failed(let error): reply(&c, error)
        case .value(let value):
            c.reply.integer(value)
        }
    }

    /// HINCRBYFLOAT: the increment must parse as a long double and be finite, before the key
    /// is looked at.
    static func hincrbyfloat(_ c: inout CommandContext) {
        guard let increment = parseLongDouble(c.args[3]) else { return c.notFloat() }
        if increment.isNaN || increment.isInfinite { return c.reply.error("ERR value is NaN or Infinity") }
        let key = c.args[1]
        let limits = c.server.collectionLimits
        _ = c.db.withShard(for: key) { shard, hash -> Bool in
            guard let object = lookupOrCreate(&c, shard, key, hash: hash) else {
                c.wrongType()
                return false
            }
            do throws(HashOpError) {
                try object.incrementFloat(c.args[2], by: increment, limits: limits) { c.reply.bulk($0) }
                c.keyModified(key)
                c.notify(.hash, "hincrbyfloat", key)
                return true
            } catch {
                reply(&c, error)
                return false
            }
        }
    }

    // MARK: HKEYS HVALS HGETALL

    static func hkeys(_ c: inout CommandContext) { replyAll(&c, fields: true, values: false) }
    static func hvals(_ c: inout CommandContext) { replyAll(&c, fields: false, values: true) }
    static func hgetall(_ c: inout CommandContext) { replyAll(&c, fields: true, values: true) }

    /// genericHgetallCommand: HGETALL answers a map (an empty map for a missing key), HKEYS and
    /// HVALS a flat array.
    static func replyAll(_ c: inout CommandContext, fields: Bool, values: Bool) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let object: HashObject
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: return fields && values ? c.reply.mapHeader(0) : c.reply.arrayHeader(0)
            case .found(let o): object = o
            }
            if fields && values { c.reply.mapHeader(object.count) } else { c.reply.arrayHeader(object.count) }
            object.forEach { field, value in
                if fields { c.reply.bulk(field) }
                if values { c.reply.bulk(value) }
            }
        }
    }

    // MARK: HRANDFIELD

    /// A reply of random fields bigger than this is cut short and the connection closed, as
    /// Redis does when a client passes its output buffer limit (CLIENT_CLOSE_ASAP), rather than
    /// exhausting memory on `HRANDFIELD key -9223372036854775807`.
    static let randomReplyLimit = 1 << 30

    /// HRANDFIELD key [count [WITHVALUES]]: the count is validated (and the WITHVALUES syntax)
    /// before the key is looked up.
    static func hrandfield(_ c: inout CommandContext) {
        guard c.args.count >= 3 else { return hrandfieldOne(&c) }
        guard let value = parseInteger(c.args[2]) else { return c.notInteger() }
        // getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX)
        guard value != Int.min else {
            return c.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        if c.args.count > 4 || (c.args.count == 4 && !c.args.isToken(3, "withvalues")) { return c.syntaxError() }
        let withValues = c.args.count == 4
        // With values the reply has twice as many elements: Redis caps the count at LONG_MAX / 2.
        if withValues && (value < -(Int.max / 2) || value > Int.max / 2) {
            return c.reply.error("ERR value is out of range")
        }
        hrandfieldWithCount(&c, value, withValues: withValues)
    }

    static func hrandfieldOne(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.null()
            case .found(let object):
                var rng = FastRandomGenerator()
                object.withRandomPair(using: &rng) { field, _ in c.reply.bulk(field) }
            }
        }
    }

    /// hrandfieldWithCountCommand: a negative count (or 1) picks with repeats in random order;
    /// a count at least the hash's size answers the whole hash; a smaller one distinct fields.
    /// With WITHVALUES, RESP2 gets a flat field/value array, RESP3 an array of pairs.
    static func hrandfieldWithCount(_ c: inout CommandContext, _ value: Int, withValues: Bool) {
        let key = c.args[1]
        let count = Int(value.magnitude)
        let unique = value >= 0
        c.db.withShard(for: key) { shard, hash in
            let object: HashObject
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: return c.reply.arrayHeader(0)
            case .found(let o): object = o
            }
            if count == 0 { return c.reply.arrayHeader(0) }
            let flat = withValues && c.reply.version != .resp3
            let pairs = withValues && c.reply.version == .resp3
            func write(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ reply: inout ReplyWriter) {
                if pairs { reply.arrayHeader(2) }
                reply.bulk(field)
                if withValues { reply.bulk(value) }
            }
            var rng = FastRandomGenerator()
            if !unique || count == 1 {
                c.reply.arrayHeader(flat ? count * 2 : count)
                let start = c.reply.buffer.writerIndex
                object.forEachRandomPair(picks: count, using: &rng) { field, value in
                    write(field, value, &c.reply)
                    if c.reply.buffer.writerIndex - start > randomReplyLimit {
                        c.client.closeAfterReply = true
                        return false
                    }
                    return true
                }
                return
            }
            let size = object.count
            let replied = min(count, size)
            c.reply.arrayHeader(flat ? replied * 2 : replied)
            if count >= size {
                object.forEach { field, value in write(field, value, &c.reply) }
            } else {
                object.forEachRandomDistinctPair(count: count, using: &rng) { field, value in
                    write(field, value, &c.reply)
                }
            }
        }
    }

    // MARK: HSCAN

    /// HSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is checked first, then the
    /// key, then the options (a missing key answers an empty scan whatever the options).
    static func hscan(_ c: inout CommandContext) {
        guard let cursor = c.scanCursorArgument(2) else { return }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let object: HashObject
            switch HashCommands.hash(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing:
                c.reply.arrayHeader(2)
                c.reply.bulk("0")
                c.reply.arrayHeader(0)
                return
            case .found(let o): object = o
            }
            guard let options = c.parseScanOptions(from: 3, allowType: false) else { return }
            // The element count comes before the elements: gather them in a side buffer.
            var elements = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 256), version: c.reply.version)
            var found = 0
            let next = object.scan(cursor: cursor, count: options.count) { field, value in
                guard options.matches(field) else { return }
                elements.bulk(field)
                elements.bulk(value)
                found += 2
            }
            c.reply.arrayHeader(2)
            c.reply.bulkDecimal(Int(truncatingIfNeeded: next))
            c.reply.arrayHeader(found)
            c.reply.buffer.writeBuffer(&elements.buffer)
        }
    }
}

// MARK: DEBUG DIGEST

/// debug.c xorObjectDigest for a hash: per pair, the field then the value mixed into a fresh
/// digest, whose SHA-1 is xored into the total (so neither order nor encoding matters).
extension HashObject: DigestibleCollection {
    func mixDigest(into digest: inout [UInt8]) {
        forEach { field, value in
            var element = [UInt8](repeating: 0, count: 20)
            DebugCommands.mix(&element, field)
            DebugCommands.mix(&element, value)
            element.withUnsafeBytes { DebugCommands.xor(&digest, $0) }
        }
    }
}
