#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ApusRESP

// Shard-local operations of the string family (t_string.c). The command layer looks the key up,
// checks its type and passes the live string entry (or nil) as `existing`; these Ops change the
// value and report failures as `StringOpError`, which the command maps to Redis's error replies.
// Every Op runs with the shard's lock held.

/// Why a string Op did not change anything.
public enum StringOpError: Error, Sendable, Equatable {
    /// The stored value is not a 64-bit integer (`ERR value is not an integer or out of range`).
    case notInteger
    /// The stored value or the increment is not a float (`ERR value is not a valid float`).
    case notFloat
    /// `ERR increment or decrement would overflow`.
    case overflow
    /// `ERR increment would produce NaN or Infinity`.
    case nanOrInfinity
    /// `ERR string exceeds maximum allowed size (proto-max-bulk-len)`.
    case tooLarge
}

extension Shard {
    /// Stores a string value for `key` and returns the entry now in the table.
    ///
    /// `existing` is the live entry for `key` (any type) or nil. The TTL becomes `expireAt`, or the
    /// existing one with `keepTTL`. An overwritten entry keeps its access clock (Redis's
    /// `dbSetValue`); a new one starts with the current clock (`Entry.allocate`). Same-shape
    /// overwrites happen in place, without allocating.
    @inlinable
    @discardableResult
    public func putString(_ key: UnsafeRawBufferPointer, hash: UInt64, value: UnsafeRawBufferPointer,
                          encoding: StringEncoding, expireAt: Int64?, keepTTL: Bool, existing: Entry?) -> Entry {
        guard let old = existing else {
            let new = Entry.allocate(key: key, valueLength: value.count, type: .string,
                                     encoding: encoding.rawValue, expireAt: expireAt)
            if value.count > 0 { new.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
            insert(new, hash: hash)
            return new
        }
        let ttl = keepTTL ? old.expireAt : expireAt
        if old.type == .string, old.valueLength == value.count, old.hasExpire == (ttl != nil) {
            if let ttl { old.setExpireInPlace(ttl) }
            if value.count > 0 { old.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
            old.encoding = encoding.rawValue
            return old
        }
        let new = Entry.allocate(key: key, valueLength: value.count, type: .string,
                                 encoding: encoding.rawValue, expireAt: ttl)
        if value.count > 0 { new.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
        new.accessClock = old.accessClock
        replace(old, with: new, hash: hash)
        return new
    }

    /// INCR / DECR / INCRBY / DECRBY: adds `increment` to the integer in `existing` (0 when
    /// missing) and returns the result. The TTL is kept; the value becomes int-encoded.
    @inlinable
    public func incrementInteger(_ key: UnsafeRawBufferPointer, hash: UInt64, by increment: Int,
                                 existing: Entry?) throws(StringOpError) -> Int {
        var current = 0
        if let existing {
            guard let parsed = parseInteger(existing.value) else { throw .notInteger }
            current = parsed
        }
        let (result, overflow) = current.addingReportingOverflow(increment)
        if overflow { throw .overflow }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            let n = formatDecimal(result, into: buffer)
            putString(key, hash: hash, value: UnsafeRawBufferPointer(rebasing: buffer[0..<n]), encoding: .int,
                      expireAt: nil, keepTTL: true, existing: existing)
        }
        return result
    }

    /// INCRBYFLOAT: adds the float `increment` (argument bytes) to the float in `existing` (0 when
    /// missing) and returns the entry holding the result, formatted like Redis's
    /// `ld2string(LD_STR_HUMAN)`. The TTL is kept. The result is a plain string object in Redis
    /// (embstr up to 44 bytes, raw beyond), never int-encoded, even when it reads as an integer.
    public func incrementFloat(_ key: UnsafeRawBufferPointer, hash: UInt64, by increment: UnsafeRawBufferPointer,
                               existing: Entry?) throws(StringOpError) -> Entry {
        var current: LongDouble = 0
        if let existing {
            guard let parsed = parseLongDouble(existing.value) else { throw .notFloat }
            current = parsed
        }
        guard let delta = parseLongDouble(increment) else { throw .notFloat }
        let result = current + delta
        if result.isNaN || result.isInfinite { throw .nanOrInfinity }
        return withUnsafeTemporaryAllocation(byteCount: maxLongDoubleChars, alignment: 1) { buffer in
            let n = formatLongDouble(result, into: buffer)
            return putString(key, hash: hash, value: UnsafeRawBufferPointer(rebasing: buffer[0..<n]),
                             encoding: n <= 44 ? .embstr : .raw, expireAt: nil, keepTTL: true,
                             existing: existing)
        }
    }

    /// APPEND: appends `suffix` and returns the new length. A new key is encoded like SET would
    /// (int / embstr / raw); an existing one becomes raw even when `suffix` is empty, as Redis
    /// unshares the value before appending. `limit` is proto-max-bulk-len.
    @inlinable
    public func appendString(_ key: UnsafeRawBufferPointer, hash: UInt64, suffix: UnsafeRawBufferPointer,
                             limit: Int, existing: Entry?) throws(StringOpError) -> Int {
        guard let old = existing else {
            putString(key, hash: hash, value: suffix, encoding: stringEncoding(for: suffix), expireAt: nil,
                      keepTTL: false, existing: nil)
            return suffix.count
        }
        let oldLength = old.valueLength
        let total = try checkedStringLength(oldLength, suffix.count, limit: limit)
        if suffix.isEmpty {
            old.encoding = StringEncoding.raw.rawValue
            return oldLength
        }
        let entry = resizeString(old, hash: hash, newLength: total)
        (entry.mutableValue.baseAddress! + oldLength).copyMemory(from: suffix.baseAddress!, byteCount: suffix.count)
        return total
    }

    /// SETRANGE: writes `bytes` at `offset` (≥ 0), zero-padding, and returns the new length.
    /// Writing nothing changes nothing (and never creates the key). Changed values become raw.
    @inlinable
    public func setRange(_ key: UnsafeRawBufferPointer, hash: UInt64, offset: Int, bytes: UnsafeRawBufferPointer,
                         limit: Int, existing: Entry?) throws(StringOpError) -> Int {
        guard !bytes.isEmpty else { return existing?.valueLength ?? 0 }
        let total = try checkedStringLength(offset, bytes.count, limit: limit)
        let entry: Entry
        if let old = existing {
            if total > old.valueLength {
                entry = resizeString(old, hash: hash, newLength: total)
            } else {
                entry = old
                entry.encoding = StringEncoding.raw.rawValue
            }
        } else {
            entry = Entry.allocate(key: key, valueLength: total, type: .string,
                                   encoding: StringEncoding.raw.rawValue, expireAt: nil)
            if offset > 0 { entry.mutableValue.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: offset) }
            insert(entry, hash: hash)
        }
        (entry.mutableValue.baseAddress! + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        return entry.valueLength
    }
}

/// Redis's `checkStringLength`: `size + extra` must not exceed `limit` (proto-max-bulk-len) nor
/// overflow. Entries also store lengths in 32 bits, so larger strings are refused the same way.
@inlinable
func checkedStringLength(_ size: Int, _ extra: Int, limit: Int) throws(StringOpError) -> Int {
    let (total, overflow) = size.addingReportingOverflow(extra)
    if overflow || total > limit || total > Int(UInt32.max) { throw .tooLarge }
    return total
}

// MARK: - LCS

/// One run of the longest common subsequence: `a[aStart...aEnd]` equals `b[bStart...bEnd]`.
public struct LCSMatch: Sendable, Equatable {
    public var aStart: Int
    public var aEnd: Int
    public var bStart: Int
    public var bEnd: Int

    public init(aStart: Int, aEnd: Int, bStart: Int, bEnd: Int) {
        self.aStart = aStart
        self.aEnd = aEnd
        self.bStart = bStart
        self.bEnd = bEnd
    }

    public var length: Int { aEnd - aStart + 1 }
}

/// The dynamic-programming table of the LCS command: entry (i, j) is the length of the longest
/// common subsequence of `a[..<i]` and `b[..<j]`. Uses `(a.count + 1) * (b.count + 1)` UInt32s of
/// transient memory, which the caller limits (Redis: proto-max-bulk-len).
public struct LCSTable: ~Copyable {
    let cells: UnsafeMutablePointer<UInt32>
    let a: UnsafeRawBufferPointer
    let b: UnsafeRawBufferPointer
    let stride: Int

    /// Bytes the table for strings of these lengths needs, or nil on overflow.
    public static func byteCount(_ aLength: Int, _ bLength: Int) -> Int? {
        let (cells, o1) = (aLength + 1).multipliedReportingOverflow(by: bLength + 1)
        let (bytes, o2) = cells.multipliedReportingOverflow(by: MemoryLayout<UInt32>.stride)
        return o1 || o2 ? nil : bytes
    }

    /// Builds the table for `a` and `b` (which must outlive it); nil when the memory is not available.
    public init?(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) {
        guard let bytes = LCSTable.byteCount(a.count, b.count), let raw = malloc(bytes) else { return nil }
        cells = raw.bindMemory(to: UInt32.self, capacity: bytes / MemoryLayout<UInt32>.stride)
        self.a = a
        self.b = b
        stride = b.count + 1
        for j in 0...b.count { cells[j] = 0 }
        var i = 1
        while i <= a.count {
            let row = cells + i * stride
            let above = row - stride
            row[0] = 0
            let ai = a[i - 1]
            var j = 1
            while j <= b.count {
                if ai == b[j - 1] {
                    row[j] = above[j - 1] &+ 1
                } else {
                    row[j] = Swift.max(above[j], row[j - 1])
                }
                j += 1
            }
            i += 1
        }
    }

    deinit { free(cells) }

    func cell(_ i: Int, _ j: Int) -> UInt32 { cells[i * stride + j] }

    /// Length of the longest common subsequence.
    public var length: Int { Int(cell(a.count, b.count)) }

    /// Walks the table back from the end as Redis does (on a tie it steps through `b`): writes the
    /// subsequence into `result` (`length` bytes) when given, and reports each maximal run of
    /// consecutive matches, last run first.
    public func backtrack(into result: UnsafeMutableRawBufferPointer?, _ run: (LCSMatch) -> Void) {
        var index = length
        var i = a.count
        var j = b.count
        var current: LCSMatch?
        while i > 0 && j > 0 {
            var emit = false
            if a[i - 1] == b[j - 1] {
                result?[index - 1] = a[i - 1]
                if var match = current {
                    if match.aStart == i && match.bStart == j {
                        match.aStart -= 1
                        match.bStart -= 1
                        current = match
                    } else {
                        emit = true
                    }
                } else {
                    current = LCSMatch(aStart: i - 1, aEnd: i - 1, bStart: j - 1, bEnd: j - 1)
                }
                if let match = current, match.aStart == 0 || match.bStart == 0 { emit = true }
                index -= 1
                i -= 1
                j -= 1
            } else {
                if cell(i - 1, j) > cell(i, j - 1) { i -= 1 } else { j -= 1 }
                if current != nil { emit = true }
            }
            if emit, let match = current {
                run(match)
                current = nil
            }
        }
    }
}
