import ApusRESP
import ApusStore

/// The hyperloglog family (hyperloglog.c): PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST.
///
/// A HyperLogLog is a string value in Redis's exact byte layout (see `HyperLogLog`), so GET,
/// SET, APPEND and DUMP carry it unchanged. Strings that are not HyperLogLogs answer
/// `WRONGTYPE Key is not a valid HyperLogLog string value.`; sparse ones whose opcodes do not
/// add up answer `INVALIDOBJ Corrupted HLL object detected`.
public enum HyperLogLogCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("pfadd", pfadd)
        registry.register("pfcount", pfcount)
        registry.register("pfmerge", pfmerge)
        registry.register("pfdebug", pfdebug)
        registry.register("pfselftest", pfselftest)
    }

    static func sparseMaxBytes(_ c: CommandContext) -> Int {
        c.server.config.int("hll-sparse-max-bytes")
    }

    static func reply(_ c: inout CommandContext, _ error: HyperLogLogError) {
        switch error {
        case .notHyperLogLog: c.reply.error("WRONGTYPE Key is not a valid HyperLogLog string value.")
        case .corrupted: c.reply.error("INVALIDOBJ Corrupted HLL object detected")
        }
    }

    /// Redis replies with the cardinality as a C `long long`: an overflowing estimate (2^63)
    /// prints as LLONG_MIN.
    static func replyCardinality(_ c: inout CommandContext, _ card: UInt64) {
        c.reply.integer(Int(Int64(bitPattern: card)))
    }

    /// PFADD key [element ...]: 1 when the key was created or a register changed, else 0.
    static func pfadd(_ c: inout CommandContext) {
        let key = c.args[1]
        let elements = UnsafeBufferPointer(rebasing: c.args.views[2...])
        let maxBytes = sparseMaxBytes(c)
        c.db.withShard(for: key) { shard, hash in
            let existing = c.lookupWrite(shard, key, hash: hash)
            if let existing, existing.type != .string { return c.wrongType() }
            do throws(HyperLogLogError) {
                let updated = try shard.hyperLogLogAdd(key, hash: hash, elements: elements, existing: existing,
                                                       sparseMaxBytes: maxBytes)
                if updated > 0 {
                    c.keyModified(key, changes: updated)
                    c.notify(.string, "pfadd", key)
                }
                c.reply.integer(updated > 0 ? 1 : 0)
            } catch {
                reply(&c, error)
            }
        }
    }

    /// PFCOUNT key [key ...]. One key: the cached cardinality, or a fresh estimate that is
    /// cached in the value (a write, though the command is read-only). Several keys: the
    /// estimate of their union, computed without touching any of them.
    static func pfcount(_ c: inout CommandContext) {
        if c.args.count > 2 { return pfcountUnion(&c) }
        let key = c.args[1]
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupRead(shard, key, hash: hash) else { return c.reply.integer(0) }
            guard entry.type == .string else { return c.wrongType() }
            do throws(HyperLogLogError) {
                let (card, recomputed) = try shard.hyperLogLogCount(entry)
                if recomputed { c.keyModified(key) }
                replyCardinality(&c, card)
            } catch {
                reply(&c, error)
            }
        }
    }

    static func pfcountUnion(_ c: inout CommandContext) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HyperLogLog.registerCount) { max in
            max.initialize(repeating: 0)
            var merged = false
            StringCommands.withLockedKeys(&c, first: 1, step: 1) { c, db, hashes in
                merged = mergeSources(&c, db, hashes, into: max) != nil
            }
            if merged { replyCardinality(&c, HyperLogLog.count(registers: UnsafeBufferPointer(max))) }
        }
    }

    /// Raises `max` to the registers of the keys at arguments 1... (locked, hashes in
    /// `hashes`). Missing keys count as empty. Returns whether any source was dense, or nil
    /// after replying with the error of the first key that is not a valid HyperLogLog.
    static func mergeSources(_ c: inout CommandContext, _ db: Database, _ hashes: UnsafeMutableBufferPointer<UInt64>,
                             into max: UnsafeMutableBufferPointer<UInt8>) -> Bool? {
        var dense = false
        for i in 0 ..< hashes.count {
            let hash = hashes[i]
            guard let entry = c.lookupRead(db.shard(hash: hash), c.args[i + 1], hash: hash) else { continue }
            guard entry.type == .string else {
                c.wrongType()
                return nil
            }
            do throws(HyperLogLogError) {
                try HyperLogLog.validate(entry.value)
            } catch {
                reply(&c, error)
                return nil
            }
            if HyperLogLog.encoding(of: entry.value) == .dense { dense = true }
            guard HyperLogLog.merge(entry.value, into: max) else {
                reply(&c, .corrupted)
                return nil
            }
        }
        return dense
    }

    /// PFMERGE destkey [sourcekey ...]: the destination (itself one of the sources) becomes
    /// the union; a missing destination is created, even with no sources. Dense when any input
    /// was dense, else sparse (promoted as it grows). The destination keeps its TTL.
    static func pfmerge(_ c: inout CommandContext) {
        let maxBytes = sparseMaxBytes(c)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: HyperLogLog.registerCount) { max in
            max.initialize(repeating: 0)
            StringCommands.withLockedKeys(&c, first: 1, step: 1) { c, db, hashes in
                guard let dense = mergeSources(&c, db, hashes, into: max) else { return }
                let key = c.args[1]
                let shard = db.shard(hash: hashes[0])
                let existing = c.lookupWrite(shard, key, hash: hashes[0])
                do throws(HyperLogLogError) {
                    try shard.hyperLogLogStoreMerge(key, hash: hashes[0], max: UnsafeBufferPointer(max), dense: dense,
                                                    existing: existing, sparseMaxBytes: maxBytes)
                } catch {
                    return reply(&c, error)
                }
                c.keyModified(key)
                c.notify(.string, "pfadd", key)
                c.reply.ok()
            }
        }
    }

    /// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. The key is checked before the subcommand,
    /// and the value is unshared (raw) whatever the subcommand. Redis compares the subcommand
    /// as a C string, so "getreg\0anything" is GETREG.
    static func pfdebug(_ c: inout CommandContext) {
        let key = c.args[2]
        let whole = c.args[1]
        let subcommand = UnsafeRawBufferPointer(rebasing: whole[..<(whole.firstIndex(of: 0) ?? whole.count)])
        c.db.withShard(for: key) { shard, hash in
            guard let entry = c.lookupWrite(shard, key, hash: hash) else {
                return c.reply.error("ERR The specified key does not exist")
            }
            guard entry.type == .string else { return c.wrongType() }
            do throws(HyperLogLogError) {
                try HyperLogLog.validate(entry.value)
                entry.encoding = StringEncoding.raw.rawValue
                if subcommand.equalsIgnoringCase("getreg") {
                    let (dense, converted) = try shard.hyperLogLogToDense(entry, hash: hash)
                    if converted { c.addDirty(1) }
                    let value = dense.value
                    c.reply.arrayHeader(HyperLogLog.registerCount)
                    for i in 0 ..< HyperLogLog.registerCount { c.reply.integer(Int(HyperLogLog.register(value, i))) }
                } else if subcommand.equalsIgnoringCase("decode") {
                    guard HyperLogLog.encoding(of: entry.value) == .sparse else {
                        return c.reply.error("ERR HLL encoding is not sparse")
                    }
                    HyperLogLog.decode(entry.value).withUnsafeBytes { c.reply.bulk($0) }
                } else if subcommand.equalsIgnoringCase("encoding") {
                    switch HyperLogLog.encoding(of: entry.value) {
                    case .dense: c.reply.simpleString("dense")
                    case .sparse: c.reply.simpleString("sparse")
                    }
                } else if subcommand.equalsIgnoringCase("todense") {
                    let (_, converted) = try shard.hyperLogLogToDense(entry, hash: hash)
                    if converted { c.addDirty(1) }
                    c.reply.integer(converted ? 1 : 0)
                } else {
                    c.reply.error(bytes: Array("ERR Unknown PFDEBUG subcommand '".utf8) + Array(subcommand)
                        + Array("'".utf8))
                }
            } catch {
                reply(&c, error)
            }
        }
    }

    /// PFSELFTEST: Redis's self test of the register packing and of the estimator's error.
    static func pfselftest(_ c: inout CommandContext) {
        if let failure = HyperLogLog.selfTest(sparseMaxBytes: sparseMaxBytes(c), seed: UInt64.random(in: .min ... .max)) {
            c.reply.error("ERR " + failure)
        } else {
            c.reply.ok()
        }
    }
}
