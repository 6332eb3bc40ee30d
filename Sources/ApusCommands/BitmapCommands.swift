import ApusRESP
import ApusStore

/// Bitmap commands: GETBIT SETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO (Redis's bitops.c).
public enum BitmapCommands {
    public static func register(into registry: CommandRegistry) {
        registry.register("getbit", getbit)
        registry.register("setbit", setbit)
        registry.register("bitcount", bitcount)
        registry.register("bitpos", bitpos)
        registry.register("bitop", bitop)
        registry.register("bitfield", bitfield)
        registry.register("bitfield_ro", bitfieldReadOnly)
    }

    // MARK: Offsets

    /// proto-max-bulk-len, read from the config only when an offset is large enough to need it
    /// (the setting cannot go below 1MB) and at most once per command.
    struct BulkLimit {
        static let configMinimum = 1 << 20
        var bytes: Int?

        mutating func allows(byteIndex: Int, _ server: ServerContext) -> Bool {
            if byteIndex < BulkLimit.configMinimum { return true }
            if bytes == nil { bytes = Swift.min(server.config.int("proto-max-bulk-len"), maxBitmapBytes) }
            return byteIndex < bytes!
        }
    }

    /// Redis's `getBitOffsetFromArgument`: a non-negative bit offset whose byte lies below
    /// proto-max-bulk-len. With `fieldBits` (BITFIELD), `#n` means n fields of that width; the
    /// product wraps like Redis's, so an overflowing `#n` may land on a valid offset.
    static func parseBitOffset(_ raw: UnsafeRawBufferPointer, fieldBits: Int?, limit: inout BulkLimit,
                               server: ServerContext) -> UInt64? {
        var text = raw
        let hashForm = fieldBits != nil && raw.count > 0 && raw[0] == UInt8(ascii: "#")
        if hashForm { text = UnsafeRawBufferPointer(rebasing: raw[1...]) }
        guard var offset = parseInteger(text) else { return nil }
        if hashForm, let fieldBits { offset = offset &* fieldBits }
        guard offset >= 0, limit.allows(byteIndex: offset >> 3, server) else { return nil }
        return UInt64(offset)
    }

    static let offsetError: StaticString = "ERR bit offset is not an integer or out of range"

    // MARK: GETBIT / SETBIT

    static func getbit(_ c: inout CommandContext) {
        var limit = BulkLimit()
        guard let offset = parseBitOffset(c.args[2], fieldBits: nil, limit: &limit, server: c.server) else {
            return c.reply.error(offsetError)
        }
        let key = c.args[1]
        let db = c.db
        db.withShard(for: key) { shard, hash in
            guard let entry = shard.lookup(key, hash: hash, now: c.now) else { return c.reply.integer(0) }
            guard entry.type == .string else { return c.wrongType() }
            c.touch(entry)
            let byte = Int(offset >> 3)
            let value = entry.value
            let set = byte < value.count && value[byte] & (UInt8(0x80) >> UInt8(offset & 7)) != 0
            c.reply.integer(set ? 1 : 0)
        }
    }

    static func setbit(_ c: inout CommandContext) {
        var limit = BulkLimit()
        guard let offset = parseBitOffset(c.args[2], fieldBits: nil, limit: &limit, server: c.server) else {
            return c.reply.error(offsetError)
        }
        guard let on = parseInteger(c.args[3]), on & ~1 == 0 else {
            return c.reply.error("ERR bit is not an integer or out of range")
        }
        let key = c.args[1]
        let db = c.db
        let byte = Int(offset >> 3)
        let mask = UInt8(0x80) >> UInt8(offset & 7)
        db.withShard(for: key) { shard, hash in
            switch shard.stringForBitWrite(key, hash: hash, now: c.now, byteCount: byte + 1) {
            case .wrongType:
                c.wrongType()
            case .string(let entry, let grew):
                c.touch(entry)
                let value = entry.mutableValue
                let was = value[byte] & mask != 0
                c.reply.integer(was ? 1 : 0)
                // A created or lengthened string counts as a change even if the bit stays.
                guard grew || was != (on == 1) else { return }
                if on == 1 { value[byte] |= mask } else { value[byte] &= ~mask }
                c.keyModified(key)
                c.notify(.string, "setbit", key)
            }
        }
    }

    // MARK: BITCOUNT / BITPOS

    /// A `start end [BYTE|BIT]` range as given, before the string's length is known.
    struct RequestedRange {
        var start = 0
        var end = 0
        var inBits = false
        var endGiven = false
        var whole = true
    }

    /// Parses the BYTE|BIT unit token.
    static func parseUnit(_ raw: UnsafeRawBufferPointer) -> Bool? {
        if raw.equalsIgnoringCase("bit") { return true }
        if raw.equalsIgnoringCase("byte") { return false }
        return nil
    }

    /// Resolves a range against a string of `length` bytes to inclusive bit positions, or nil
    /// when it is empty.
    static func bitSpan(_ range: RequestedRange, length: Int) -> (first: Int, last: Int)? {
        if range.whole { return length > 0 ? (0, length * 8 - 1) : nil }
        guard let r = resolveBitRange(start: range.start, end: range.end, length: range.inBits ? length * 8 : length) else {
            return nil
        }
        return range.inBits ? (r.lowerBound, r.upperBound) : (r.lowerBound * 8, r.upperBound * 8 + 7)
    }

    /// What BITCOUNT's arguments ask for; Redis only looks at them once the key exists and
    /// holds a string (a missing key answers 0 whatever follows).
    enum BitcountRequest {
        case range(RequestedRange)
        case zero
        case error(StaticString)
    }

    static func parseBitcount(_ args: CommandArguments) -> BitcountRequest {
        var range = RequestedRange()
        switch args.count {
        case 2:
            return .range(range)
        case 4, 5:
            guard let start = parseInteger(args[2]), let end = parseInteger(args[3]) else {
                return .error("ERR value is not an integer or out of range")
            }
            // Redis answers this before even looking at the unit token.
            if start < 0 && end < 0 && start > end { return .zero }
            if args.count == 5 {
                guard let inBits = parseUnit(args[4]) else { return .error("ERR syntax error") }
                range.inBits = inBits
            }
            range.start = start
            range.end = end
            range.endGiven = true
            range.whole = false
            return .range(range)
        default:
            return .error("ERR syntax error")
        }
    }

    static func bitcount(_ c: inout CommandContext) {
        let request = parseBitcount(c.args)
        let key = c.args[1]
        let db = c.db
        db.withShard(for: key) { shard, hash in
            guard let entry = shard.lookup(key, hash: hash, now: c.now) else { return c.reply.integer(0) }
            guard entry.type == .string else { return c.wrongType() }
            c.touch(entry)
            switch request {
            case .error(let message):
                c.reply.error(message)
            case .zero:
                c.reply.integer(0)
            case .range(let range):
                let value = entry.value
                guard let span = bitSpan(range, length: value.count) else { return c.reply.integer(0) }
                c.reply.integer(popcount(value, firstBit: span.first, lastBit: span.last))
            }
        }
    }

    /// BITPOS's range arguments, checked in Redis's order: start, the unit token, then end.
    static func parseBitposRange(_ args: CommandArguments) -> Result<RequestedRange, BitmapArgumentError> {
        var range = RequestedRange()
        switch args.count {
        case 3:
            return .success(range)
        case 4, 5, 6:
            guard let start = parseInteger(args[3]) else { return .failure(.notInteger) }
            range.start = start
            if args.count == 6 {
                guard let inBits = parseUnit(args[5]) else { return .failure(.syntax) }
                range.inBits = inBits
            }
            if args.count >= 5 {
                guard let end = parseInteger(args[4]) else { return .failure(.notInteger) }
                range.end = end
                range.endGiven = true
            } else {
                range.end = -1  // through the last byte
            }
            range.whole = false
            return .success(range)
        default:
            return .failure(.syntax)
        }
    }

    enum BitmapArgumentError: Error {
        case notInteger, syntax
    }

    static func bitpos(_ c: inout CommandContext) {
        guard let bitArgument = parseInteger(c.args[2]) else { return c.notInteger() }
        guard bitArgument == 0 || bitArgument == 1 else {
            return c.reply.error("ERR The bit argument must be 1 or 0.")
        }
        let bit = bitArgument == 1
        let request = parseBitposRange(c.args)
        let key = c.args[1]
        let db = c.db
        db.withShard(for: key) { shard, hash in
            // A missing key is an endless run of zeros.
            guard let entry = shard.lookup(key, hash: hash, now: c.now) else { return c.reply.integer(bit ? -1 : 0) }
            guard entry.type == .string else { return c.wrongType() }
            c.touch(entry)
            let range: RequestedRange
            switch request {
            case .failure(.notInteger): return c.notInteger()
            case .failure(.syntax): return c.syntaxError()
            case .success(let r): range = r
            }
            let value = entry.value
            // An empty range holds neither a 0 nor a 1.
            guard let span = bitSpan(range, length: value.count) else { return c.reply.integer(-1) }
            if let position = findBit(bit, in: value, firstBit: span.first, lastBit: span.last) {
                return c.reply.integer(position)
            }
            // Without an explicit end the string counts as zero padded on the right, so the
            // first clear bit is the one just past it; with an end, there is none in range.
            c.reply.integer(bit || range.endGiven ? -1 : span.last + 1)
        }
    }

    // MARK: BITOP

    static func parseBitOperation(_ raw: UnsafeRawBufferPointer) -> BitOperation? {
        if raw.equalsIgnoringCase("and") { return .and }
        if raw.equalsIgnoringCase("or") { return .or }
        if raw.equalsIgnoringCase("xor") { return .xor }
        if raw.equalsIgnoringCase("not") { return .not }
        return nil
    }

    static func bitop(_ c: inout CommandContext) {
        guard let op = parseBitOperation(c.args[1]) else { return c.syntaxError() }
        if op == .not && c.args.count != 4 {
            return c.reply.error("ERR BITOP NOT must be called with a single source key.")
        }
        let db = c.db
        let keys = c.args.dropFirst(2)
        let destination = keys[0]
        let sources = 1..<keys.count
        // The result's length, and whether the destination changed; nil after WRONGTYPE.
        let outcome: (length: Int, changed: Bool)? = db.withShards(db.shardMask(for: keys.views)) {
            // First pass: type checks and the result's length (the longest source).
            var length = 0
            for j in sources {
                let hash = keyHash(keys[j])
                guard let entry = db.shard(hash: hash).lookup(keys[j], hash: hash, now: c.now) else { continue }
                guard entry.type == .string else {
                    c.wrongType()
                    return nil
                }
                c.touch(entry)
                length = Swift.max(length, entry.valueLength)
            }
            let destinationHash = keyHash(destination)
            let destinationShard = db.shard(hash: destinationHash)
            guard length > 0 else {
                // An empty result deletes the destination (Redis's dbDelete: no expiry check).
                let deleted = destinationShard.delete(destination, hash: destinationHash)
                if deleted {
                    c.keyModified(destination)
                    c.notify(.generic, "del", destination)
                }
                return (0, deleted)
            }
            // Second pass: combine the sources straight into the new entry's value. Like
            // Redis's setKey, the result replaces any value and TTL, and is raw-encoded.
            let result = Entry.allocate(key: destination, valueLength: length, type: .string,
                                        encoding: StringEncoding.raw.rawValue, expireAt: nil)
            let output = result.mutableValue
            for j in sources {
                let hash = keyHash(keys[j])
                let entry = db.shard(hash: hash).lookup(keys[j], hash: hash, now: c.now)
                let bytes = entry?.value ?? UnsafeRawBufferPointer(start: nil, count: 0)
                if j == sources.lowerBound { startBits(op, bytes, into: output) } else { combineBits(op, bytes, into: output) }
            }
            c.touch(result)
            destinationShard.storeBitmap(result, hash: destinationHash, now: c.now)
            c.keyModified(destination)
            c.notify(.string, "set", destination)
            return (length, true)
        }
        guard let outcome else { return }
        c.reply.integer(outcome.length)
    }

    // MARK: BITFIELD

    enum BitfieldOpKind { case get, set, incrby }

    struct BitfieldOp {
        var kind: BitfieldOpKind
        var type: BitfieldType
        var offset: UInt64
        var argument: Int64
        var overflow: BitfieldOverflow
    }

    enum BitfieldStep {
        case op(BitfieldOp)
        case end
        case error(StaticString)
    }

    /// Walks BITFIELD's subcommands. The handler walks them twice — once to validate and size
    /// the write, once to execute — so no operation list is allocated.
    struct BitfieldParser {
        var index = 2
        var overflow = BitfieldOverflow.wrap
        var limit = BulkLimit()

        mutating func next(_ args: CommandArguments, server: ServerContext) -> BitfieldStep {
            while index < args.count {
                let remaining = args.count - index - 1
                let kind: BitfieldOpKind
                if args.isToken(index, "get") && remaining >= 2 {
                    kind = .get
                } else if args.isToken(index, "set") && remaining >= 3 {
                    kind = .set
                } else if args.isToken(index, "incrby") && remaining >= 3 {
                    kind = .incrby
                } else if args.isToken(index, "overflow") && remaining >= 1 {
                    let name = args[index + 1]
                    if name.equalsIgnoringCase("wrap") {
                        overflow = .wrap
                    } else if name.equalsIgnoringCase("sat") {
                        overflow = .saturate
                    } else if name.equalsIgnoringCase("fail") {
                        overflow = .fail
                    } else {
                        return .error("ERR Invalid OVERFLOW type specified")
                    }
                    index += 2
                    continue
                } else {
                    return .error("ERR syntax error")
                }
                guard let type = BitfieldType(args[index + 1]) else {
                    return .error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
                }
                guard let offset = parseBitOffset(args[index + 2], fieldBits: type.bits, limit: &limit, server: server) else {
                    return .error(offsetError)
                }
                var argument: Int64 = 0
                if kind != .get {
                    guard let value = parseInteger(args[index + 3]) else {
                        return .error("ERR value is not an integer or out of range")
                    }
                    argument = Int64(value)
                }
                index += kind == .get ? 3 : 4
                return .op(BitfieldOp(kind: kind, type: type, offset: offset, argument: argument, overflow: overflow))
            }
            return .end
        }
    }

    static func bitfield(_ c: inout CommandContext) { bitfieldGeneric(&c, readOnly: false) }

    static func bitfieldReadOnly(_ c: inout CommandContext) { bitfieldGeneric(&c, readOnly: true) }

    static func bitfieldGeneric(_ c: inout CommandContext, readOnly: Bool) {
        // Validate everything first: Redis replies with the first error before touching the key.
        var parser = BitfieldParser()
        var count = 0
        var writes = false
        var highestBit: UInt64 = 0
        validation: while true {
            switch parser.next(c.args, server: c.server) {
            case .error(let message): return c.reply.error(message)
            case .end: break validation
            case .op(let op):
                count += 1
                if op.kind != .get {
                    writes = true
                    highestBit = Swift.max(highestBit, op.offset + UInt64(op.type.bits) - 1)
                }
            }
        }
        if writes && readOnly {
            return c.reply.error("ERR BITFIELD_RO only supports the GET subcommand")
        }
        let key = c.args[1]
        let db = c.db
        let limit = parser.limit
        db.withShard(for: key) { shard, hash in
            var target: Entry?
            var grew = false
            if writes {
                switch shard.stringForBitWrite(key, hash: hash, now: c.now, byteCount: Int(highestBit >> 3) + 1) {
                case .wrongType:
                    c.wrongType()
                    return
                case .string(let entry, let lengthened):
                    target = entry
                    grew = lengthened
                }
            } else if let entry = shard.lookup(key, hash: hash, now: c.now) {
                guard entry.type == .string else {
                    c.wrongType()
                    return
                }
                target = entry
            }
            if let target { c.touch(target) }
            c.reply.arrayHeader(count)
            var changes = 0
            var parser = BitfieldParser(limit: limit)
            while case .op(let op) = parser.next(c.args, server: c.server) {
                switch op.kind {
                case .get:
                    let bytes = target?.value ?? UnsafeRawBufferPointer(start: nil, count: 0)
                    let raw = readBitfield(bytes, offset: op.offset, bits: op.type.bits)
                    c.reply.integer(Int(op.type.signed ? signExtend(raw, bits: op.type.bits) : Int64(bitPattern: raw)))
                case .set, .incrby:
                    let result = applyBitfield(target!.mutableValue, type: op.type, offset: op.offset,
                                               argument: op.argument, increment: op.kind == .incrby, overflow: op.overflow)
                    guard let reply = result.reply else {
                        c.reply.null()
                        continue
                    }
                    c.reply.integer(Int(reply))
                    if grew || result.changed { changes += 1 }
                }
            }
            if changes > 0 {
                c.keyModified(key, changes: changes)
                c.notify(.string, "setbit", key)
            }
        }
    }
}
