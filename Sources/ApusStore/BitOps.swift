import ApusRESP

// Bit-level Op functions over string values (GETBIT SETBIT BITCOUNT BITPOS BITOP BITFIELD),
// Redis's bitops.c semantics.
//
// Bit numbering follows Redis: bit 0 is the most significant bit of the first byte, so a
// bitmap reads left to right like a big-endian number. Bytes past the end of a string read
// as zero everywhere (a bitmap is conceptually zero padded on the right).

// MARK: Counting and searching

/// Number of set bits in `bytes`, eight bytes at a time.
@inlinable
public func popcount(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard let base = bytes.baseAddress else { return 0 }
    let n = bytes.count
    var i = 0
    // Four independent accumulators keep the adds off one dependency chain.
    var a = 0, b = 0, c = 0, d = 0
    while i &+ 32 <= n {
        a &+= base.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
        b &+= base.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self).nonzeroBitCount
        c &+= base.loadUnaligned(fromByteOffset: i &+ 16, as: UInt64.self).nonzeroBitCount
        d &+= base.loadUnaligned(fromByteOffset: i &+ 24, as: UInt64.self).nonzeroBitCount
        i &+= 32
    }
    while i &+ 8 <= n {
        a &+= base.loadUnaligned(fromByteOffset: i, as: UInt64.self).nonzeroBitCount
        i &+= 8
    }
    while i < n {
        b &+= base.load(fromByteOffset: i, as: UInt8.self).nonzeroBitCount
        i &+= 1
    }
    return a &+ b &+ c &+ d
}

/// Number of set bits among bit positions `first...last` (inclusive, both inside `bytes`).
@inlinable
public func popcount(_ bytes: UnsafeRawBufferPointer, firstBit: Int, lastBit: Int) -> Int {
    guard firstBit <= lastBit else { return 0 }
    let firstByte = firstBit >> 3
    let lastByte = lastBit >> 3
    var count = popcount(UnsafeRawBufferPointer(rebasing: bytes[firstByte...lastByte]))
    // Take back the bits of the edge bytes that lie outside the range.
    let before = ~(UInt8(0xFF) >> UInt8(firstBit & 7))
    let after = UInt8(0xFF) >> UInt8((lastBit & 7) &+ 1)
    count &-= (bytes[firstByte] & before).nonzeroBitCount
    count &-= (bytes[lastByte] & after).nonzeroBitCount
    return count
}

/// The position of the first bit equal to `bit` among positions `firstBit...lastBit`
/// (inclusive, inside `bytes`), or nil when there is none. Skips eight bytes at a time.
@inlinable
public func findBit(_ bit: Bool, in bytes: UnsafeRawBufferPointer, firstBit: Int, lastBit: Int) -> Int? {
    guard firstBit <= lastBit, let base = bytes.baseAddress else { return nil }
    // Searching for a clear bit is searching for a set bit in the complement.
    let flip: UInt8 = bit ? 0 : 0xFF
    let firstByte = firstBit >> 3
    let lastByte = lastBit >> 3
    let headMask = UInt8(0xFF) >> UInt8(firstBit & 7)
    let tailMask = UInt8(0xFF) << UInt8(7 &- (lastBit & 7))

    var head = (base.load(fromByteOffset: firstByte, as: UInt8.self) ^ flip) & headMask
    if firstByte == lastByte {
        head &= tailMask
        return head == 0 ? nil : firstByte &* 8 &+ head.leadingZeroBitCount
    }
    if head != 0 { return firstByte &* 8 &+ head.leadingZeroBitCount }

    var i = firstByte &+ 1
    let flipWord: UInt64 = bit ? 0 : ~0
    while i &+ 8 <= lastByte {
        // Big-endian view: the first byte is the most significant, so leading zeros count bits.
        let word = UInt64(bigEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) ^ flipWord
        if word != 0 { return i &* 8 &+ word.leadingZeroBitCount }
        i &+= 8
    }
    while i < lastByte {
        let byte = base.load(fromByteOffset: i, as: UInt8.self) ^ flip
        if byte != 0 { return i &* 8 &+ byte.leadingZeroBitCount }
        i &+= 1
    }
    let tail = (base.load(fromByteOffset: lastByte, as: UInt8.self) ^ flip) & tailMask
    return tail == 0 ? nil : lastByte &* 8 &+ tail.leadingZeroBitCount
}

// MARK: Ranges (BITCOUNT / BITPOS)

/// Resolves a BITCOUNT/BITPOS `start end` pair the way Redis does: negative values count from
/// the end, then both are clamped into the string. `length` is in the range's unit (bytes, or
/// bits for `BIT`). Returns nil for an empty range.
@inlinable
public func resolveBitRange(start: Int, end: Int, length: Int) -> ClosedRange<Int>? {
    var s = start, e = end
    if s < 0 { s = length &+ s }
    if e < 0 { e = length &+ e }
    if s < 0 { s = 0 }
    if e < 0 { e = 0 }
    if e >= length { e = length &- 1 }
    return s <= e ? s...e : nil
}

// MARK: BITOP

/// The BITOP operations.
public enum BitOperation: Sendable {
    case and, or, xor, not
}

/// Combines `source` into `destination` with `op` (AND, OR or XOR), treating bytes past the
/// end of `source` as zero. `destination` already holds the previous sources' result.
@inlinable
public func combineBits(_ op: BitOperation, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
    let n = Swift.min(source.count, destination.count)
    var i = 0
    if let dst = destination.baseAddress, let src = source.baseAddress {
        switch op {
        case .and:
            while i &+ 8 <= n {
                let v = dst.loadUnaligned(fromByteOffset: i, as: UInt64.self) & src.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                dst.storeBytes(of: v, toByteOffset: i, as: UInt64.self)
                i &+= 8
            }
            while i < n { destination[i] &= source[i]; i &+= 1 }
        case .or:
            while i &+ 8 <= n {
                let v = dst.loadUnaligned(fromByteOffset: i, as: UInt64.self) | src.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                dst.storeBytes(of: v, toByteOffset: i, as: UInt64.self)
                i &+= 8
            }
            while i < n { destination[i] |= source[i]; i &+= 1 }
        case .xor:
            while i &+ 8 <= n {
                let v = dst.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ src.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                dst.storeBytes(of: v, toByteOffset: i, as: UInt64.self)
                i &+= 8
            }
            while i < n { destination[i] ^= source[i]; i &+= 1 }
        case .not:
            preconditionFailure("NOT takes a single source")
        }
    }
    // x AND 0 = 0 past the source's end; OR and XOR with 0 leave the bytes alone.
    if op == .and && n < destination.count {
        (destination.baseAddress! + n).initializeMemory(as: UInt8.self, repeating: 0, count: destination.count &- n)
    }
}

/// Writes the first BITOP source into `destination` (zero padded): as is, or inverted for NOT.
@inlinable
public func startBits(_ op: BitOperation, _ source: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) {
    let n = Swift.min(source.count, destination.count)
    if n > 0 { destination.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: n) }
    if n < destination.count {
        (destination.baseAddress! + n).initializeMemory(as: UInt8.self, repeating: 0, count: destination.count &- n)
    }
    if op == .not, let dst = destination.baseAddress {
        var i = 0
        while i &+ 8 <= destination.count {
            dst.storeBytes(of: ~dst.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        while i < destination.count { destination[i] = ~destination[i]; i &+= 1 }
    }
}

// MARK: Bitfields

/// A BITFIELD integer type: `i1`...`i64` or `u1`...`u63`.
public struct BitfieldType: Sendable, Equatable {
    public var signed: Bool
    public var bits: Int

    @inlinable
    public init(signed: Bool, bits: Int) {
        self.signed = signed
        self.bits = bits
    }

    /// Parses `i<bits>` / `u<bits>`. Like Redis, the width is read up to the first NUL byte
    /// (it uses `strlen`), so `i8\0junk` is `i8`. u64 is refused: its values would not fit the
    /// protocol's signed 64-bit integers.
    @inlinable
    public init?(_ raw: UnsafeRawBufferPointer) {
        guard raw.count >= 1 else { return nil }
        let sign = raw[0]
        guard sign == UInt8(ascii: "i") || sign == UInt8(ascii: "u") else { return nil }
        var end = 1
        while end < raw.count && raw[end] != 0 { end &+= 1 }
        guard let width = parseInteger(UnsafeRawBufferPointer(rebasing: raw[1..<end])) else { return nil }
        let signed = sign == UInt8(ascii: "i")
        guard width >= 1 && width <= (signed ? 64 : 63) else { return nil }
        self.init(signed: signed, bits: width)
    }
}

/// How BITFIELD SET/INCRBY handle values that do not fit the type.
public enum BitfieldOverflow: Sendable {
    /// Keep the low bits (two's complement wrap-around).
    case wrap
    /// Clamp to the type's minimum or maximum.
    case saturate
    /// Refuse the write; the reply for that operation is nil.
    case fail
}

/// Reads `bits` (1...64) bits at bit `offset` as an unsigned number; bytes past the end of
/// `bytes` read as zero.
@inlinable
public func readBitfield(_ bytes: UnsafeRawBufferPointer, offset: UInt64, bits: Int) -> UInt64 {
    let first = Int(truncatingIfNeeded: offset >> 3)
    let shift = Int(offset & 7)
    // A field of up to 64 bits spans at most 9 bytes: load them into a 128-bit window whose
    // top byte is the field's first byte.
    var window: UInt128 = 0
    var i = 0
    let span = (shift &+ bits &+ 7) >> 3
    while i < span {
        let index = first &+ i
        let byte: UInt8 = index < bytes.count ? bytes[index] : 0
        window |= UInt128(byte) << UInt128(120 &- 8 &* i)
        i &+= 1
    }
    // Drop the bits before the field, then keep its `bits` top bits.
    return UInt64(truncatingIfNeeded: (window << UInt128(shift)) >> UInt128(128 &- bits))
}

/// Writes the low `bits` (1...64) bits of `value` at bit `offset`; every byte the field
/// touches must be inside `bytes`.
@inlinable
public func writeBitfield(_ bytes: UnsafeMutableRawBufferPointer, offset: UInt64, bits: Int, value: UInt64) {
    let first = Int(truncatingIfNeeded: offset >> 3)
    let shift = Int(offset & 7)
    let span = (shift &+ bits &+ 7) >> 3
    precondition(first &+ span <= bytes.count)
    var window: UInt128 = 0
    var i = 0
    while i < span {
        window |= UInt128(bytes[first &+ i]) << UInt128(120 &- 8 &* i)
        i &+= 1
    }
    let low: UInt128 = bits == 64 ? UInt128(UInt64.max) : (UInt128(1) << UInt128(bits)) &- 1
    let position = UInt128(128 &- shift &- bits)
    window = (window & ~(low << position)) | ((UInt128(value) & low) << position)
    i = 0
    while i < span {
        bytes[first &+ i] = UInt8(truncatingIfNeeded: window >> UInt128(120 &- 8 &* i))
        i &+= 1
    }
}

/// Sign-extends a `bits`-wide two's complement number.
@inlinable
public func signExtend(_ raw: UInt64, bits: Int) -> Int64 {
    guard bits < 64 else { return Int64(bitPattern: raw) }
    let unused = UInt64(64 &- bits)
    return Int64(bitPattern: raw << unused) >> Int64(unused)
}

/// Outcome of adding `increment` to a bitfield value: whether it fits, and the value to store
/// when it does not (under WRAP or SAT; unused under FAIL).
public struct BitfieldOverflowCheck: Sendable {
    /// 0 fits, 1 overflow, -1 underflow.
    public var direction: Int
    public var limit: UInt64

    @inlinable
    public init(direction: Int, limit: UInt64) {
        self.direction = direction
        self.limit = limit
    }
}

/// Redis's `checkUnsignedBitfieldOverflow`: `value` + `increment` in a `bits`-wide unsigned
/// field. A SET passes its value with increment 0, so a negative SET value (reinterpreted as a
/// huge unsigned number) overflows: `OVERFLOW SAT SET u8 0 -1` stores 255, as in Redis.
@inlinable
public func checkUnsignedBitfield(_ value: UInt64, increment: Int64, bits: Int, overflow: BitfieldOverflow) -> BitfieldOverflowCheck {
    let max: UInt64 = bits == 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) &- 1
    let maxIncrement = Int64(bitPattern: max &- value)
    let minIncrement = Int64(bitPattern: 0 &- value)
    let wrapped = (value &+ UInt64(bitPattern: increment)) & max
    if value > max || (increment > 0 && increment > maxIncrement) {
        return BitfieldOverflowCheck(direction: 1, limit: overflow == .saturate ? max : wrapped)
    }
    if increment < 0 && increment < minIncrement {
        return BitfieldOverflowCheck(direction: -1, limit: overflow == .saturate ? 0 : wrapped)
    }
    return BitfieldOverflowCheck(direction: 0, limit: 0)
}

/// Redis's `checkSignedBitfieldOverflow`, including its quirks: the intermediate differences
/// wrap like the C code's, so e.g. `OVERFLOW SAT SET i8 0 -9223372036854775808` counts as an
/// overflow upward and stores 127, exactly as Redis does.
@inlinable
public func checkSignedBitfield(_ value: Int64, increment: Int64, bits: Int, overflow: BitfieldOverflow) -> BitfieldOverflowCheck {
    let max: Int64 = bits == 64 ? Int64.max : (Int64(1) << Int64(bits &- 1)) &- 1
    let min: Int64 = (0 &- max) &- 1
    let maxIncrement = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
    let minIncrement = min &- value
    var sum = UInt64(bitPattern: value) &+ UInt64(bitPattern: increment)
    if bits < 64 {
        let mask = UInt64.max << UInt64(bits)
        if sum & (UInt64(1) << UInt64(bits &- 1)) != 0 { sum |= mask } else { sum &= ~mask }
    }
    if value > max || (bits != 64 && increment > maxIncrement) || (value >= 0 && increment > 0 && increment > maxIncrement) {
        return BitfieldOverflowCheck(direction: 1, limit: overflow == .saturate ? UInt64(bitPattern: max) : sum)
    }
    if value < min || (bits != 64 && increment < minIncrement) || (value < 0 && increment < 0 && increment < minIncrement) {
        return BitfieldOverflowCheck(direction: -1, limit: overflow == .saturate ? UInt64(bitPattern: min) : sum)
    }
    return BitfieldOverflowCheck(direction: 0, limit: 0)
}

/// What one BITFIELD SET or INCRBY does to a field.
public struct BitfieldWrite: Sendable {
    /// The reply: the old value (SET) or the new one (INCRBY); nil when OVERFLOW FAIL refused.
    public var reply: Int64?
    /// Whether the stored bits changed.
    public var changed: Bool

    @inlinable
    public init(reply: Int64?, changed: Bool) {
        self.reply = reply
        self.changed = changed
    }
}

/// Performs BITFIELD SET (`increment == false`: `argument` is the new value) or INCRBY on the
/// field of `type` at `offset` (every byte of which lies inside `bytes`).
@inlinable
public func applyBitfield(_ bytes: UnsafeMutableRawBufferPointer, type: BitfieldType, offset: UInt64,
                          argument: Int64, increment: Bool, overflow: BitfieldOverflow) -> BitfieldWrite {
    let raw = readBitfield(UnsafeRawBufferPointer(bytes), offset: offset, bits: type.bits)
    let reply: Int64
    if type.signed {
        let old = signExtend(raw, bits: type.bits)
        let check: BitfieldOverflowCheck
        let new: Int64
        if increment {
            check = checkSignedBitfield(old, increment: argument, bits: type.bits, overflow: overflow)
            new = check.direction != 0 ? Int64(bitPattern: check.limit) : old &+ argument
            reply = new
        } else {
            check = checkSignedBitfield(argument, increment: 0, bits: type.bits, overflow: overflow)
            new = check.direction != 0 ? Int64(bitPattern: check.limit) : argument
            reply = old
        }
        if check.direction != 0 && overflow == .fail { return BitfieldWrite(reply: nil, changed: false) }
        writeBitfield(bytes, offset: offset, bits: type.bits, value: UInt64(bitPattern: new))
        return BitfieldWrite(reply: reply, changed: old != new)
    } else {
        let check: BitfieldOverflowCheck
        let new: UInt64
        if increment {
            check = checkUnsignedBitfield(raw, increment: argument, bits: type.bits, overflow: overflow)
            new = check.direction != 0 ? check.limit : raw &+ UInt64(bitPattern: argument)
            reply = Int64(bitPattern: new)
        } else {
            let value = UInt64(bitPattern: argument)
            check = checkUnsignedBitfield(value, increment: 0, bits: type.bits, overflow: overflow)
            new = check.direction != 0 ? check.limit : value
            reply = Int64(bitPattern: raw)
        }
        if check.direction != 0 && overflow == .fail { return BitfieldWrite(reply: nil, changed: false) }
        writeBitfield(bytes, offset: offset, bits: type.bits, value: new)
        return BitfieldWrite(reply: reply, changed: raw != new)
    }
}

// MARK: Shard ops

/// The most bytes a bitmap may grow to: an entry's value length is a 32-bit field. Offsets
/// are bounded by proto-max-bulk-len first (512MB by default); this only matters when that
/// is configured above 4GB. The slack covers a BITFIELD field that starts just below the limit.
public let maxBitmapBytes = Int(UInt32.max) - 16

/// Result of looking a key up for a bit write.
public enum BitmapWriteLookup {
    /// The key holds a non-string value.
    case wrongType
    /// The string entry now in the table, long enough for the write; `grew` when it was
    /// created or lengthened (Redis counts that as a change even if no bit flips).
    case string(Entry, grew: Bool)
}

extension Shard {
    /// Redis's `lookupStringForBitCommand`: the string at `key`, created or zero-extended so
    /// that it holds at least `byteCount` bytes. Like Redis, the value ends up raw-encoded
    /// (Redis unshares it into a raw sds before writing bits), even when no byte is added.
    @inlinable
    public func stringForBitWrite(_ key: UnsafeRawBufferPointer, hash: UInt64, now: Int64, byteCount: Int) -> BitmapWriteLookup {
        if let entry = lookup(key, hash: hash, now: now) {
            guard entry.type == .string else { return .wrongType }
            if entry.valueLength >= byteCount {
                entry.encoding = StringEncoding.raw.rawValue
                return .string(entry, grew: false)
            }
            return .string(resizeString(entry, hash: hash, newLength: byteCount), grew: true)
        }
        let entry = Entry.allocate(key: key, valueLength: byteCount, type: .string,
                                   encoding: StringEncoding.raw.rawValue, expireAt: nil)
        if byteCount > 0 {
            entry.mutableValue.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        }
        insert(entry, hash: hash)
        return .string(entry, grew: true)
    }

    /// Stores a freshly built raw string entry for its key (BITOP's destination), replacing any
    /// value of any type and dropping its TTL, as Redis's `setKey` does.
    @inlinable
    public func storeBitmap(_ entry: Entry, hash: UInt64, now: Int64) {
        if let old = lookup(entry.key, hash: hash, now: now) {
            replace(old, with: entry, hash: hash)
        } else {
            insert(entry, hash: hash)
        }
    }
}
