import ApusRESP
import ApusStore
import NIOCore

/// The SET family (Redis's t_set.c): argument parsing, locking and replies around the
/// `SetObject` Ops.
public enum SetCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("sadd", sadd)
        registry.register("srem", srem)
        registry.register("smove", smove)
        registry.register("sismember", sismember)
        registry.register("smismember", smismember)
        registry.register("scard", scard)
        registry.register("spop", spop)
        registry.register("srandmember", srandmember)
        registry.register("smembers", smembers)
        registry.register("sinter", sinter)
        registry.register("sintercard", sintercard)
        registry.register("sinterstore", sinterstore)
        registry.register("sunion", sunion)
        registry.register("sunionstore", sunionstore)
        registry.register("sdiff", sdiff)
        registry.register("sdiffstore", sdiffstore)
        registry.register("sscan", sscan)
    }

    typealias Lookup = CollectionLookup<SetObject>

    static func set(of entry: Entry?) -> Lookup { Lookup(entry, type: .set) }

    /// Writes one member as a bulk string.
    static func reply(_ member: SetMember, into reply: inout ReplyWriter) {
        switch member {
        case .integer(let v): reply.bulkDecimal(Int(v))
        case .bytes(let b): reply.bulk(b)
        }
    }

    /// Writes a whole set as a RESP3 set (an array in RESP2).
    static func replySet(_ set: SetObject, into reply: inout ReplyWriter) {
        reply.setHeader(set.count)
        set.forEach { member in SetCommands.reply(member, into: &reply) }
    }

    /// Hashes the keys at `keys` once into a temporary buffer, locks their shards in ascending
    /// order and runs `body` with the database and the hashes (`hashes[i]` is argument
    /// `keys.lowerBound + i`).
    static func withLockedKeys<R>(_ c: inout CommandContext, _ keys: Range<Int>,
                                  _ body: (inout CommandContext, Database, UnsafeMutableBufferPointer<UInt64>) -> R) -> R {
        let db = c.db
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: keys.count) { hashes in
            var mask: UInt64 = 0
            for i in 0 ..< keys.count {
                let hash = keyHash(c.args[keys.lowerBound + i])
                hashes[i] = hash
                mask |= 1 << UInt64(db.shardIndex(hash: hash))
            }
            return db.withShards(mask) { body(&c, db, hashes) }
        }
    }

    // MARK: SADD SREM SMOVE

    static func sadd(_ c: inout CommandContext) {
        let key = c.args[1]
        let limits = c.server.collectionLimits
        let hint = c.args.count - 2
        let added: Int? = c.db.withShard(for: key) { shard, hash in
            let set: SetObject
            switch SetCommands.set(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                return nil
            case .found(let existing):
                set = existing
                set.maybeConvert(sizeHint: hint, limits: limits)
            case .missing:
                set = SetObject.create(firstMember: c.args[2], sizeHint: hint, limits: limits)
                shard.insertCollection(key, set, type: .set, hash: hash)
                c.notify(.new, "new", key)
            }
            var added = 0
            for i in 2 ..< c.args.count where set.add(c.args[i], limits: limits) { added += 1 }
            if added > 0 {
                c.keyModified(key, changes: added)
                c.notify(.set, "sadd", key)
            }
            return added
        }
        guard let added else { return c.wrongType() }
        c.reply.integer(added)
    }

    static func srem(_ c: inout CommandContext) {
        let key = c.args[1]
        let removed: Int? = c.db.withShard(for: key) { shard, hash in
            let entry = c.lookupWrite(shard, key, hash: hash)
            switch SetCommands.set(of: entry) {
            case .wrongType: return nil
            case .missing: return 0
            case .found(let set):
                var removed = 0
                var deleted = false
                for i in 2 ..< c.args.count where set.remove(c.args[i]) {
                    removed += 1
                    if set.count == 0 {
                        shard.delete(key, hash: hash)
                        deleted = true
                        break
                    }
                }
                if removed > 0 {
                    c.keyModified(key, changes: removed)
                    c.notify(.set, "srem", key)
                    if deleted { c.notify(.generic, "del", key) }
                }
                return removed
            }
        }
        guard let removed else { return c.wrongType() }
        c.reply.integer(removed)
    }

    /// SMOVE: both keys are looked up first; a missing source answers 0 before any type check,
    /// then the source's and the destination's types are checked, and moving a member onto its
    /// own set only reports whether it is there.
    static func smove(_ c: inout CommandContext) {
        let limits = c.server.collectionLimits
        enum Outcome { case wrongType, moved(toDestination: Bool), unchanged(Int) }
        let outcome: Outcome = withLockedKeys(&c, 1 ..< 3) { c, db, hashes in
            let source = c.args[1], destination = c.args[2], member = c.args[3]
            let sourceShard = db.shard(hash: hashes[0]), destinationShard = db.shard(hash: hashes[1])
            let sourceLookup = SetCommands.set(of: c.lookupWrite(sourceShard, source, hash: hashes[0]))
            let destinationLookup = SetCommands.set(of: c.lookupWrite(destinationShard, destination, hash: hashes[1]))
            let sourceSet: SetObject
            switch sourceLookup {
            case .missing: return .unchanged(0)
            case .wrongType: return .wrongType
            case .found(let set): sourceSet = set
            }
            var destinationSet: SetObject?
            switch destinationLookup {
            case .wrongType: return .wrongType
            case .missing: destinationSet = nil
            case .found(let set): destinationSet = set
            }
            if destinationSet === sourceSet { return .unchanged(sourceSet.contains(member) ? 1 : 0) }
            if !sourceSet.remove(member) { return .unchanged(0) }
            c.notify(.set, "srem", source)
            if sourceSet.count == 0 {
                sourceShard.delete(source, hash: hashes[0])
                c.notify(.generic, "del", source)
            }
            if destinationSet == nil {
                let created = SetObject.create(firstMember: member, sizeHint: 1, limits: limits)
                destinationShard.insertCollection(destination, created, type: .set, hash: hashes[1])
                destinationSet = created
                c.notify(.new, "new", destination)
            }
            let added = destinationSet!.add(member, limits: limits)
            c.keyModified(source)
            if added {
                c.keyModified(destination)
                c.notify(.set, "sadd", destination)
            }
            return .moved(toDestination: added)
        }
        switch outcome {
        case .wrongType:
            c.wrongType()
        case .unchanged(let n):
            c.reply.integer(n)
        case .moved:
            c.reply.integer(1)
        }
    }

    // MARK: SISMEMBER SMISMEMBER SCARD

    static func sismember(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SetCommands.set(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.integer(0)
            case .found(let set): c.reply.integer(set.contains(c.args[2]) ? 1 : 0)
            }
        }
    }

    /// SMISMEMBER: a missing key is an empty set (all zeros).
    static func smismember(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let set: SetObject?
            switch SetCommands.set(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: set = nil
            case .found(let s): set = s
            }
            c.reply.arrayHeader(c.args.count - 2)
            for i in 2 ..< c.args.count {
                c.reply.integer(set?.contains(c.args[i]) == true ? 1 : 0)
            }
        }
    }

    static func scard(_ c: inout CommandContext) {
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SetCommands.set(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.integer(0)
            case .found(let set): c.reply.integer(set.count)
            }
        }
    }

    // MARK: SPOP SRANDMEMBER

    static func spop(_ c: inout CommandContext) {
        if c.args.count == 3 { return spopWithCount(&c) }
        if c.args.count > 3 { return c.syntaxError() }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SetCommands.set(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                c.wrongType()
            case .missing:
                c.reply.null()
            case .found(let set):
                var rng = FastRandomGenerator()
                set.popRandom(using: &rng) { SetCommands.reply($0, into: &c.reply) }
                c.notify(.set, "spop", key)
                if set.count == 0 {
                    shard.delete(key, hash: hash)
                    c.notify(.generic, "del", key)
                }
                c.keyModified(key)
            }
        }
    }

    /// SPOP key count: the count is validated first (Redis's getPositiveLongFromObjectOrReply,
    /// whose one message covers non-integers too), then the key.
    static func spopWithCount(_ c: inout CommandContext) {
        guard let count = parseInteger(c.args[2]), count >= 0 else {
            return c.reply.error("ERR value is out of range, must be positive")
        }
        let key = c.args[1]
        let limits = c.server.collectionLimits
        _ = c.db.withShard(for: key) { shard, hash -> Int in
            let set: SetObject
            switch SetCommands.set(of: c.lookupWrite(shard, key, hash: hash)) {
            case .wrongType:
                c.wrongType()
                return 0
            case .missing:
                c.reply.setHeader(0)
                return 0
            case .found(let s):
                set = s
            }
            if count == 0 {
                c.reply.setHeader(0)
                return 0
            }
            let size = set.count
            if count >= size {
                // Redis answers with SUNION of the one key: for a listpack that is the order of
                // a set rebuilt from it (integers first, ascending, while they last).
                replySet(set.encoding == .listpack ? SetObject.union([set], limits: limits) : set, into: &c.reply)
                shard.delete(key, hash: hash)
                c.keyModified(key, changes: size)
                c.notify(.set, "spop", key)
                c.notify(.generic, "del", key)
                return size
            }
            c.reply.setHeader(count)
            var rng = FastRandomGenerator()
            set.popRandom(count: count, limits: limits, using: &rng) { SetCommands.reply($0, into: &c.reply) }
            c.keyModified(key, changes: count)
            c.notify(.set, "spop", key)
            return count
        }
    }

    /// A reply of random members bigger than this is cut short and the connection closed,
    /// as Redis does when a client passes its output buffer limit (CLIENT_CLOSE_ASAP) rather
    /// than exhausting memory on `SRANDMEMBER key -9223372036854775807`.
    static let randomReplyLimit = 1 << 30

    static func srandmember(_ c: inout CommandContext) {
        if c.args.count == 3 { return srandmemberWithCount(&c) }
        if c.args.count > 3 { return c.syntaxError() }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            switch SetCommands.set(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: c.wrongType()
            case .missing: c.reply.null()
            case .found(let set):
                var rng = FastRandomGenerator()
                set.withRandomMember(using: &rng) { SetCommands.reply($0, into: &c.reply) }
            }
        }
    }

    /// SRANDMEMBER key count: count in [-LONG_MAX, LONG_MAX]; negative means repeats allowed.
    static func srandmemberWithCount(_ c: inout CommandContext) {
        guard let value = parseInteger(c.args[2]) else { return c.notInteger() }
        guard value != Int.min else {
            return c.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
        }
        let unique = value >= 0
        let count = value.magnitude
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let set: SetObject
            switch SetCommands.set(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing: return c.reply.arrayHeader(0)
            case .found(let s): set = s
            }
            if count == 0 { return c.reply.arrayHeader(0) }
            var rng = FastRandomGenerator()
            let size = set.count
            if !unique || count == 1 {
                c.reply.arrayHeader(Int(count))
                let start = c.reply.buffer.writerIndex
                set.forEachRandomMember(picks: Int(count), using: &rng) { member in
                    SetCommands.reply(member, into: &c.reply)
                    if c.reply.buffer.writerIndex - start > randomReplyLimit {
                        c.client.closeAfterReply = true
                        return false
                    }
                    return true
                }
                return
            }
            if count >= UInt(size) {
                return replyArray(set, into: &c.reply)
            }
            c.reply.arrayHeader(Int(count))
            set.forEachRandomDistinctMember(count: Int(count), using: &rng) { SetCommands.reply($0, into: &c.reply) }
        }
    }

    /// Writes a whole set as an array (SRANDMEMBER's reply type).
    static func replyArray(_ set: SetObject, into reply: inout ReplyWriter) {
        reply.arrayHeader(set.count)
        set.forEach { member in SetCommands.reply(member, into: &reply) }
    }

    // MARK: SINTER SMEMBERS SINTERCARD SINTERSTORE

    static func smembers(_ c: inout CommandContext) {
        intersect(&c, keys: 1 ..< 2, destination: nil, cardinalityLimit: nil)
    }

    static func sinter(_ c: inout CommandContext) {
        intersect(&c, keys: 1 ..< c.args.count, destination: nil, cardinalityLimit: nil)
    }

    static func sinterstore(_ c: inout CommandContext) {
        intersect(&c, keys: 2 ..< c.args.count, destination: 1, cardinalityLimit: nil)
    }

    /// SINTERCARD numkeys key [key ...] [LIMIT limit]: every argument is checked before any key
    /// is read; Redis's custom messages also cover non-integer values.
    static func sintercard(_ c: inout CommandContext) {
        guard let numkeys = parseInteger(c.args[1]), numkeys >= 1 else {
            return c.reply.error("ERR numkeys should be greater than 0")
        }
        guard numkeys <= c.args.count - 2 else {
            return c.reply.error("ERR Number of keys can't be greater than number of args")
        }
        var limit = 0
        var i = 2 + numkeys
        while i < c.args.count {
            if c.args.isToken(i, "limit") && i + 1 < c.args.count {
                guard let n = parseInteger(c.args[i + 1]), n >= 0 else {
                    return c.reply.error("ERR LIMIT can't be negative")
                }
                limit = n
                i += 2
            } else {
                return c.syntaxError()
            }
        }
        intersect(&c, keys: 2 ..< 2 + numkeys, destination: nil, cardinalityLimit: limit)
    }

    /// Reads the source keys in order like Redis's lookupKeyRead loop: the first key of another
    /// type answers WRONGTYPE (even after a missing key); nil entries are missing keys.
    static func readSources(_ c: inout CommandContext, _ db: Database, _ keys: Range<Int>,
                            _ hashes: UnsafeMutableBufferPointer<UInt64>, offset: Int) -> [SetObject?]? {
        var sets: [SetObject?] = []
        sets.reserveCapacity(keys.count)
        for (n, i) in keys.enumerated() {
            let hash = hashes[offset + n]
            switch set(of: c.lookupRead(db.shard(hash: hash), c.args[i], hash: hash)) {
            case .wrongType: return nil
            case .missing: sets.append(nil)
            case .found(let s): sets.append(s)
            }
        }
        return sets
    }

    /// Replaces `destination`'s value with `result` (no TTL, whatever type it had), or deletes
    /// it when `result` is empty; replies with the result's size (setKey / dbDelete).
    static func store(_ c: inout CommandContext, _ result: SetObject, destination index: Int, in db: Database,
                      hash: UInt64) {
        let key = c.args[index]
        let shard = db.shard(hash: hash)
        let existed = shard.lookup(key, hash: hash, now: c.now) != nil
        if existed { shard.delete(key, hash: hash) }
        if result.count > 0 {
            shard.insertCollection(key, result, type: .set, hash: hash)
            c.keyModified(key)
            if !existed { c.notify(.new, "new", key) }
            // The command's own name: SINTERSTORE, SUNIONSTORE or SDIFFSTORE.
            switch c.args[0].count > 1 ? c.args[0][1] | 0x20 : 0 {
            case UInt8(ascii: "i"): c.notify(.set, "sinterstore", key)
            case UInt8(ascii: "u"): c.notify(.set, "sunionstore", key)
            default: c.notify(.set, "sdiffstore", key)
            }
        } else if existed {
            c.keyModified(key)
            c.notify(.generic, "del", key)
        }
        c.reply.integer(result.count)
    }

    /// sinterGenericCommand. `destination` is SINTERSTORE's key (argument index), which sits
    /// right before `keys`; `cardinalityLimit` is SINTERCARD's LIMIT (0 = none).
    static func intersect(_ c: inout CommandContext, keys: Range<Int>, destination: Int?, cardinalityLimit: Int?) {
        let limits = c.server.collectionLimits
        let locked = destination.map { $0 ..< keys.upperBound } ?? keys
        let offset = keys.lowerBound - locked.lowerBound
        withLockedKeys(&c, locked) { c, db, hashes in
            guard let found = readSources(&c, db, keys, hashes, offset: offset) else { return c.wrongType() }
            var sets: [SetObject] = []
            sets.reserveCapacity(found.count)
            for set in found {
                guard let set else {
                    // An intersection with an empty set is empty.
                    if let destination {
                        store(&c, SetObject(encoding: .intset), destination: destination, in: db, hash: hashes[0])
                    } else if cardinalityLimit != nil {
                        c.reply.integer(0)
                    } else {
                        c.reply.setHeader(0)
                    }
                    return
                }
                sets.append(set)
            }
            if let limit = cardinalityLimit {
                var cardinality = 0
                SetObject.intersect(sets) { _ in
                    cardinality += 1
                    return limit == 0 || cardinality < limit
                }
                return c.reply.integer(cardinality)
            }
            if let destination {
                let result = SetObject.intersection(sets, limits: limits)
                return store(&c, result, destination: destination, in: db, hash: hashes[0])
            }
            if sets.allSatisfy({ $0 === sets[0] }) {
                // SMEMBERS (or SINTER of one key repeated): the size is known up front.
                return replySet(sets[0], into: &c.reply)
            }
            // The size is known only at the end (Redis's deferred length): collect first.
            var members = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 256), version: c.reply.version)
            var cardinality = 0
            SetObject.intersect(sets) { member in
                SetCommands.reply(member, into: &members)
                cardinality += 1
                return true
            }
            c.reply.setHeader(cardinality)
            c.reply.buffer.writeBuffer(&members.buffer)
        }
    }

    // MARK: SUNION SDIFF and their STORE forms

    static func sunion(_ c: inout CommandContext) {
        unionOrDifference(&c, keys: 1 ..< c.args.count, destination: nil, union: true)
    }

    static func sunionstore(_ c: inout CommandContext) {
        unionOrDifference(&c, keys: 2 ..< c.args.count, destination: 1, union: true)
    }

    static func sdiff(_ c: inout CommandContext) {
        unionOrDifference(&c, keys: 1 ..< c.args.count, destination: nil, union: false)
    }

    static func sdiffstore(_ c: inout CommandContext) {
        unionOrDifference(&c, keys: 2 ..< c.args.count, destination: 1, union: false)
    }

    /// sunionDiffGenericCommand: the result is built as a new set (its encoding and order are
    /// Redis's), then stored or sent.
    static func unionOrDifference(_ c: inout CommandContext, keys: Range<Int>, destination: Int?, union: Bool) {
        let limits = c.server.collectionLimits
        let locked = destination.map { $0 ..< keys.upperBound } ?? keys
        let offset = keys.lowerBound - locked.lowerBound
        withLockedKeys(&c, locked) { c, db, hashes in
            guard let sets = readSources(&c, db, keys, hashes, offset: offset) else { return c.wrongType() }
            let result = union ? SetObject.union(sets, limits: limits) : SetObject.difference(sets, limits: limits)
            if let destination {
                store(&c, result, destination: destination, in: db, hash: hashes[0])
            } else {
                replySet(result, into: &c.reply)
            }
        }
    }

    // MARK: SSCAN

    /// SSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is parsed first, then the key
    /// (a missing key answers an empty page before the options are looked at), then the options.
    static func sscan(_ c: inout CommandContext) {
        guard let cursor = c.scanCursorArgument(2) else { return }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            let set: SetObject
            switch SetCommands.set(of: c.lookupRead(shard, key, hash: hash)) {
            case .wrongType: return c.wrongType()
            case .missing:
                c.reply.arrayHeader(2)
                c.reply.bulk("0")
                c.reply.arrayHeader(0)
                return
            case .found(let s): set = s
            }
            guard let options = c.parseScanOptions(from: 3, allowType: false) else { return }
            var members = ReplyWriter(buffer: ByteBufferAllocator().buffer(capacity: 256), version: c.reply.version)
            var found = 0
            let next = set.scan(cursor: cursor, count: options.count) { member in
                member.withBytes { bytes in
                    guard options.matches(bytes) else { return }
                    members.bulk(bytes)
                    found += 1
                }
            }
            c.reply.arrayHeader(2)
            c.reply.bulkDecimal(Int(truncatingIfNeeded: next))
            c.reply.arrayHeader(found)
            c.reply.buffer.writeBuffer(&members.buffer)
        }
    }
}

// MARK: DEBUG DIGEST

/// debug.c xorObjectDigest for a set: the SHA-1 of every member (as a string) xored together,
/// so the digest does not depend on the encoding or the order.
extension SetObject: DigestibleCollection {
    func mixDigest(into digest: inout [UInt8]) {
        forEachMember { DebugCommands.xor(&digest, $0) }
    }
}
