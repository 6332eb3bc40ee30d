#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Redis's HyperLogLog (hyperloglog.c), byte for byte. A HyperLogLog is a plain string value:
//
//     "HYLL" | encoding (0 dense, 1 sparse) | 3 unused bytes | cached cardinality (8 bytes LE)
//
// followed by the registers. The cardinality cache is valid while the top bit of its last byte
// is clear. Dense: 16384 registers of 6 bits packed from the least significant bit (12288
// bytes). Sparse: run-length opcodes ZERO `00xxxxxx` (1-64 zero registers), XZERO
// `01xxxxxx yyyyyyyy` (1-16384 zero registers) and VAL `1vvvvvxx` (1-4 registers of value
// 1-32). GET/SET/DUMP carry the bytes, so every byte written here is the one Redis writes:
// the same opcode splits and merges, the same promotion points, the same stale cache bytes.
//
// A sparse value is valid when its opcodes cover exactly 16384 registers. Redis 7.2.4 still
// accepted opcodes after the last register when a VAL came first; the fix of CVE-2025-32023
// (Redis 7.2.10, and the Debian 7.0.15 oracle) rejects any opcode that runs past the end, in
// PFCOUNT, PFMERGE and the conversion to dense alike. Apus follows the fixed releases.
//
// Redis edits the sds in place and relies on its NUL terminator: a two-byte XZERO cut short at
// the end of a (corrupted) value reads the terminator as its second byte. `HyperLogLogBuffer`
// keeps that byte explicitly; values read straight from an entry see 0 there.

/// Why a HyperLogLog Op failed.
public enum HyperLogLogError: Error, Sendable, Equatable {
    /// The string is not a HyperLogLog (`WRONGTYPE Key is not a valid HyperLogLog string value.`).
    case notHyperLogLog
    /// A sparse HyperLogLog whose opcodes do not cover exactly 16384 registers
    /// (`INVALIDOBJ Corrupted HLL object detected`).
    case corrupted
}

public enum HyperLogLog {
    /// Registers (2^14) and the bits the hash leaves for the zero run (64 - 14).
    public static let registerCount = 16384
    static let indexBits = 14
    static let runBits = 50
    /// The 16-byte header in front of the registers.
    public static let headerSize = 16
    /// Length of a dense value: header + 16384 × 6 bits.
    public static let denseSize = 16 + 12288
    /// What `PFADD` stores for a new key: the header and one XZERO of 16384 registers.
    public static let emptySparseSize = 18

    public enum Encoding: UInt8, Sendable {
        case dense = 0
        case sparse = 1
    }

    // MARK: Hashing

    /// MurmurHash2, 64-bit version (MurmurHash64A), reading words little endian as Redis does
    /// on every architecture.
    public static func murmurHash64A(_ key: UnsafeRawBufferPointer, seed: UInt32) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        // Redis passes the length as a C int.
        let length = Int(Int32(truncatingIfNeeded: key.count))
        var h = UInt64(seed) ^ (UInt64(bitPattern: Int64(length)) &* m)
        let count = key.count
        let wordsEnd = count - (count & 7)
        var i = 0
        while i < wordsEnd {
            var k = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            k &*= m
            k ^= k >> r
            k &*= m
            h ^= k
            h &*= m
            i &+= 8
        }
        let rest = count & 7
        if rest > 0 {
            var j = rest - 1
            while j >= 0 {
                h ^= UInt64(key[wordsEnd + j]) << UInt64(8 * j)
                j -= 1
            }
            h &*= m
        }
        h ^= h >> r
        h &*= m
        h ^= h >> r
        return h
    }

    /// Redis's `hllPatLen`: the register an element maps to (low 14 bits of its hash) and the
    /// length of the `000...1` pattern in the remaining 50 bits (1...51).
    @inlinable
    public static func patternLength(_ element: UnsafeRawBufferPointer) -> (index: Int, count: UInt8) {
        let hash = murmurHash64A(element, seed: 0xadc8_3b19)
        let index = Int(hash & 0x3fff)
        let rest = (hash >> 14) | (1 << 50)
        return (index, UInt8(rest.trailingZeroBitCount + 1))
    }

    // MARK: Header

    /// Redis's `isHLLObjectOrReply` for a string value: at least a header, the "HYLL" magic, a
    /// known encoding, and exactly `denseSize` bytes when dense.
    public static func validate(_ value: UnsafeRawBufferPointer) throws(HyperLogLogError) {
        guard value.count >= headerSize,
              value[0] == UInt8(ascii: "H"), value[1] == UInt8(ascii: "Y"),
              value[2] == UInt8(ascii: "L"), value[3] == UInt8(ascii: "L"),
              value[4] <= Encoding.sparse.rawValue,
              value[4] != Encoding.dense.rawValue || value.count == denseSize
        else { throw .notHyperLogLog }
    }

    /// The encoding of a validated value.
    public static func encoding(of value: UnsafeRawBufferPointer) -> Encoding {
        value[4] == Encoding.dense.rawValue ? .dense : .sparse
    }

    /// The cached cardinality, or nil when the cache is marked invalid.
    public static func cachedCardinality(_ value: UnsafeRawBufferPointer) -> UInt64? {
        guard value[15] & 0x80 == 0 else { return nil }
        return UInt64(littleEndian: value.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    static func storeCardinality(_ card: UInt64, into value: UnsafeMutableRawPointer) {
        value.storeBytes(of: card.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    static func invalidateCache(_ value: UnsafeMutableRawPointer) {
        let byte = value.load(fromByteOffset: 15, as: UInt8.self)
        value.storeBytes(of: byte | 0x80, toByteOffset: 15, as: UInt8.self)
    }

    // MARK: Dense registers

    /// Register `index` of dense `registers` (6 bits from the least significant bit on). The
    /// last register lies wholly in its byte, so no byte past the array is read.
    @inlinable
    static func denseRegister(_ registers: UnsafeRawPointer, _ index: Int) -> UInt8 {
        let byte = (index &* 6) &>> 3
        let shift = index &* 6 & 7
        var v = UInt(registers.load(fromByteOffset: byte, as: UInt8.self)) &>> shift
        if shift > 2 { v |= UInt(registers.load(fromByteOffset: byte &+ 1, as: UInt8.self)) &<< (8 &- shift) }
        return UInt8(truncatingIfNeeded: v & 63)
    }

    @inlinable
    static func setDenseRegister(_ registers: UnsafeMutableRawPointer, _ index: Int, _ value: UInt8) {
        let byte = (index &* 6) &>> 3
        let shift = index &* 6 & 7
        let v = UInt(value)
        var b0 = UInt(registers.load(fromByteOffset: byte, as: UInt8.self))
        b0 &= ~(UInt(63) &<< shift)
        b0 |= v &<< shift
        registers.storeBytes(of: UInt8(truncatingIfNeeded: b0), toByteOffset: byte, as: UInt8.self)
        if shift > 2 {
            var b1 = UInt(registers.load(fromByteOffset: byte &+ 1, as: UInt8.self))
            b1 &= ~(UInt(63) &>> (8 &- shift))
            b1 |= v &>> (8 &- shift)
            registers.storeBytes(of: UInt8(truncatingIfNeeded: b1), toByteOffset: byte &+ 1, as: UInt8.self)
        }
    }

    /// `hllDenseSet`: raises register `index` to `count`; returns whether it changed.
    @inlinable
    static func denseSet(_ registers: UnsafeMutableRawPointer, _ index: Int, _ count: UInt8) -> Bool {
        guard count > denseRegister(registers, index) else { return false }
        setDenseRegister(registers, index, count)
        return true
    }

    /// PFADD into a dense value in place (`value` is `denseSize` bytes); returns how many
    /// registers changed. The caller invalidates the cache when any did.
    static func denseAdd(_ value: UnsafeMutableRawBufferPointer, _ elements: UnsafeBufferPointer<UnsafeRawBufferPointer>) -> Int {
        let registers = value.baseAddress! + headerSize
        var updated = 0
        for element in elements {
            let (index, count) = patternLength(element)
            if denseSet(registers, index, count) { updated &+= 1 }
        }
        return updated
    }

    // MARK: Sparse opcodes

    /// One sparse opcode: a run of `length` registers holding `value` (0 for ZERO/XZERO).
    struct SparseOpcode {
        var value: Int
        var length: Int
        var isValue: Bool { value != 0 }
    }

    /// Walks the opcodes of a sparse value (after the header) like Redis's loops: a trailing
    /// XZERO cut short reads `terminator` (the sds NUL) as its second byte.
    struct SparseOpcodes: IteratorProtocol {
        let base: UnsafeRawPointer?
        let end: Int
        let terminator: UInt8
        var offset: Int

        init(_ value: UnsafeRawBufferPointer, terminator: UInt8 = 0) {
            base = value.baseAddress
            end = value.count
            self.terminator = terminator
            offset = HyperLogLog.headerSize
        }

        mutating func next() -> SparseOpcode? {
            guard offset < end, let base else { return nil }
            let b = base.load(fromByteOffset: offset, as: UInt8.self)
            if b & 0xc0 == 0 {
                offset &+= 1
                return SparseOpcode(value: 0, length: Int(b & 0x3f) &+ 1)
            }
            if b & 0x80 == 0 {
                let low = offset &+ 1 < end ? base.load(fromByteOffset: offset &+ 1, as: UInt8.self) : terminator
                offset &+= 2
                return SparseOpcode(value: 0, length: (Int(b & 0x3f) &<< 8 | Int(low)) &+ 1)
            }
            offset &+= 1
            return SparseOpcode(value: Int(b &>> 2 & 0x1f) &+ 1, length: Int(b & 3) &+ 1)
        }
    }

    /// `hllSparseToDense`'s walk: writes the registers of sparse `value` into dense
    /// `registers` (zeroed); false when the opcodes do not cover exactly 16384 registers.
    static func expandSparse(_ value: UnsafeRawBufferPointer, terminator: UInt8,
                             into registers: UnsafeMutableRawPointer) -> Bool {
        var opcodes = SparseOpcodes(value, terminator: terminator)
        var index = 0
        while let op = opcodes.next() {
            if op.length &+ index > registerCount { return false }
            if op.isValue {
                for i in index ..< index &+ op.length { setDenseRegister(registers, i, UInt8(op.value)) }
            }
            index &+= op.length
        }
        return index == registerCount
    }

    /// `hllMerge`: raises `max[i]` to register i of validated `value`; false when a sparse
    /// value is corrupted (some registers may have been merged already, as in Redis).
    public static func merge(_ value: UnsafeRawBufferPointer, into max: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        if encoding(of: value) == .dense {
            let registers = value.baseAddress! + headerSize
            for i in 0 ..< registerCount {
                let v = denseRegister(registers, i)
                if v > max[i] { max[i] = v }
            }
            return true
        }
        var opcodes = SparseOpcodes(value)
        var index = 0
        while let op = opcodes.next() {
            if op.length &+ index > registerCount { return false }
            if op.isValue {
                let v = UInt8(op.value)
                for i in index ..< index &+ op.length where v > max[i] { max[i] = v }
            }
            index &+= op.length
        }
        return index == registerCount
    }

    // MARK: Cardinality

    /// `hllCount` of a validated value; nil when a sparse value is corrupted. Ignores the cache.
    public static func count(_ value: UnsafeRawBufferPointer) -> UInt64? {
        count(value, terminator: 0)
    }

    static func count(_ value: UnsafeRawBufferPointer, terminator: UInt8) -> UInt64? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { histogram in
            histogram.initialize(repeating: 0)
            if encoding(of: value) == .dense {
                denseHistogram(value.baseAddress! + headerSize, histogram)
            } else {
                var opcodes = SparseOpcodes(value, terminator: terminator)
                var index = 0
                while let op = opcodes.next() {
                    if op.length &+ index > registerCount { return nil }
                    index &+= op.length
                    histogram[op.value] &+= op.length
                }
                if index != registerCount { return nil }
            }
            return estimate(histogram)
        }
    }

    /// `hllCount` of plain byte registers (PFCOUNT of several keys merges into these).
    public static func count(registers: UnsafeBufferPointer<UInt8>) -> UInt64 {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 64) { histogram in
            histogram.initialize(repeating: 0)
            for v in registers { histogram[Int(v & 63)] &+= 1 }
            return estimate(histogram)
        }
    }

    /// Histogram of dense register values, 16 registers (12 bytes) at a time.
    static func denseHistogram(_ registers: UnsafeRawPointer, _ histogram: UnsafeMutableBufferPointer<Int>) {
        var r = registers
        for _ in 0 ..< registerCount / 16 {
            // Four groups of three bytes, each holding four registers.
            for g in 0 ..< 4 {
                let b0 = UInt(r.load(fromByteOffset: g &* 3, as: UInt8.self))
                let b1 = UInt(r.load(fromByteOffset: g &* 3 &+ 1, as: UInt8.self))
                let b2 = UInt(r.load(fromByteOffset: g &* 3 &+ 2, as: UInt8.self))
                histogram[Int(b0 & 63)] &+= 1
                histogram[Int((b0 &>> 6 | b1 &<< 2) & 63)] &+= 1
                histogram[Int((b1 &>> 4 | b2 &<< 4) & 63)] &+= 1
                histogram[Int(b2 &>> 2 & 63)] &+= 1
            }
            r += 12
        }
    }

    /// The estimator of Redis 7 ("New cardinality estimation algorithms for HyperLogLog
    /// sketches", Otmar Ertl, arXiv:1702.01284), with Redis's rounding: `llroundl`, whose
    /// overflow (an all-high sketch divides by zero) yields LLONG_MIN, read back as 2^63.
    static func estimate(_ histogram: UnsafeMutableBufferPointer<Int>) -> UInt64 {
        let m = Double(registerCount)
        var z = m * tau((m - Double(histogram[runBits + 1])) / m)
        var j = runBits
        while j >= 1 {
            z += Double(histogram[j])
            z *= 0.5
            j -= 1
        }
        z += m * sigma(Double(histogram[0]) / m)
        let e = 0.721347520444481703680 * m * m / z
        guard e.isFinite, e < 9_223_372_036_854_775_808.0, e > -9_223_372_036_854_775_808.0 else { return 1 << 63 }
        return UInt64(bitPattern: Int64(e.rounded(.toNearestOrAwayFromZero)))
    }

    static func sigma(_ x: Double) -> Double {
        if x == 1 { return .infinity }
        var x = x
        var zPrime: Double
        var y = 1.0
        var z = x
        repeat {
            x *= x
            zPrime = z
            z += x * y
            y += y
        } while zPrime != z
        return z
    }

    static func tau(_ x: Double) -> Double {
        if x == 0 || x == 1 { return 0 }
        var x = x
        var zPrime: Double
        var y = 1.0
        var z = 1 - x
        repeat {
            x = x.squareRoot()
            zPrime = z
            y *= 0.5
            // pow(1 - x, 2) in Redis; compilers fold it to a product, which is exact here.
            let d = 1 - x
            z -= d * d * y
        } while zPrime != z
        return z / 3
    }

    // MARK: PFDEBUG DECODE

    /// `PFDEBUG DECODE`: the sparse opcodes as text ("z:3 Z:100 v:2,1 ...").
    public static func decode(_ value: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        guard let base = value.baseAddress else { return out }
        var p = headerSize
        while p < value.count {
            let b = base.load(fromByteOffset: p, as: UInt8.self)
            let text: String
            if b & 0xc0 == 0 {
                text = "z:\(Int(b & 0x3f) + 1) "
                p += 1
            } else if b & 0x80 == 0 {
                let low = p + 1 < value.count ? value[p + 1] : 0
                text = "Z:\((Int(b & 0x3f) << 8 | Int(low)) + 1) "
                p += 2
            } else {
                text = "v:\(Int(b >> 2 & 0x1f) + 1),\(Int(b & 3) + 1) "
                p += 1
            }
            out.append(contentsOf: text.utf8)
        }
        while out.last == UInt8(ascii: " ") { out.removeLast() }
        return out
    }

    // MARK: PFSELFTEST

    /// `PFSELFTEST`: random register writes read back from the dense packing, then `elements`
    /// distinct elements added to a dense and a sparse sketch at once, checking at 1, 10, 100...
    /// that small sketches stay sparse, that both estimate the same and that the error stays
    /// within 6 standard errors. Returns Redis's failure message, or nil when every check passed.
    public static func selfTest(sparseMaxBytes: Int, elements: Int = 10_000_000, seed: UInt64) -> String? {
        var rng = SplitMix64(seed: seed)
        let dense = UnsafeMutableRawBufferPointer.allocate(byteCount: denseSize, alignment: 8)
        defer { dense.deallocate() }
        dense.initializeMemory(as: UInt8.self, repeating: 0)
        let registers = dense.baseAddress! + headerSize
        var expected = [UInt8](repeating: 0, count: registerCount)
        for _ in 0 ..< 1000 {
            for i in 0 ..< registerCount {
                let r = UInt8(truncatingIfNeeded: rng.next() & 63)
                expected[i] = r
                setDenseRegister(registers, i, r)
            }
            for i in 0 ..< registerCount {
                let v = denseRegister(registers, i)
                if v != expected[i] { return "TESTFAILED Register \(i) should be \(expected[i]) but is \(v)" }
            }
        }

        registers.initializeMemory(as: UInt8.self, repeating: 0, count: denseSize - headerSize)
        var sparse = HyperLogLogBuffer()
        let relativeError = 1.04 / Double(registerCount).squareRoot()
        var checkpoint = 1
        let elementSeed = rng.next()
        var j = 1
        while j <= elements {
            var element = (UInt64(j) ^ elementSeed).littleEndian
            withUnsafeBytes(of: &element) { bytes in
                let (index, count) = patternLength(bytes)
                _ = denseSet(registers, index, count)
                _ = sparse.add(bytes, sparseMaxBytes: sparseMaxBytes)
            }
            if j == checkpoint {
                if j < sparseMaxBytes / 2 && sparse.encoding != .sparse { return "TESTFAILED sparse encoding not used" }
                let denseCount = count(UnsafeRawBufferPointer(dense)) ?? 0
                if denseCount != sparse.count() { return "TESTFAILED dense/sparse disagree" }
                var maxError = UInt64((relativeError * 6 * Double(checkpoint)).rounded(.up))
                if j == 10 { maxError = 1 }
                let absError = (Int64(checkpoint) &- Int64(bitPattern: denseCount)).magnitude
                if absError > maxError { return "TESTFAILED Too big error. card:\(checkpoint) abserr:\(absError)" }
                checkpoint *= 10
            }
            j += 1
        }
        return nil
    }
}

/// SplitMix64: PFSELFTEST's register values (16M of them) without a syscall each.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

// MARK: - Working copy

/// A HyperLogLog being edited, laid out like Redis's sds: `length` value bytes followed by the
/// terminator byte, which Redis's sparse code may read (a trailing XZERO cut short) or even
/// overwrite (replacing such an opcode); only the `length` bytes are ever stored.
public struct HyperLogLogBuffer: ~Copyable {
    var storage: UnsafeMutablePointer<UInt8>
    var capacity: Int
    public private(set) var length: Int

    /// Redis's `createHLLObject`: a sparse sketch of one XZERO covering every register, with a
    /// zero cache (valid, and right: the cardinality of nothing is 0).
    public init() {
        capacity = 64
        storage = .allocate(capacity: capacity)
        length = HyperLogLog.emptySparseSize
        storage.initialize(repeating: 0, count: capacity)
        storage[0] = UInt8(ascii: "H")
        storage[1] = UInt8(ascii: "Y")
        storage[2] = UInt8(ascii: "L")
        storage[3] = UInt8(ascii: "L")
        storage[4] = HyperLogLog.Encoding.sparse.rawValue
        storage[16] = 0x7f  // XZERO of 16384: 0b01_111111 11111111
        storage[17] = 0xff
    }

    /// A copy of a stored (validated) value.
    public init(copying value: UnsafeRawBufferPointer) {
        capacity = value.count + 64
        storage = .allocate(capacity: capacity)
        length = value.count
        if let base = value.baseAddress { storage.initialize(from: base.assumingMemoryBound(to: UInt8.self), count: length) }
        (storage + length).initialize(repeating: 0, count: capacity - length)
    }

    deinit { storage.deallocate() }

    /// The value bytes (valid until the next mutation).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: length) }

    public var encoding: HyperLogLog.Encoding {
        storage[4] == HyperLogLog.Encoding.dense.rawValue ? .dense : .sparse
    }

    public mutating func invalidateCache() { storage[15] |= 0x80 }

    /// The estimate ignoring the cache (0 for a corrupted sparse sketch, like Redis's internal
    /// callers that pass no `invalid` flag).
    public func count() -> UInt64 {
        HyperLogLog.count(bytes, terminator: storage[length]) ?? 0
    }

    /// Makes room for `needed` value bytes plus the terminator.
    mutating func reserve(_ needed: Int) {
        guard needed + 1 > capacity else { return }
        let newCapacity = Swift.max(needed + 1, capacity * 2)
        let new = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        new.initialize(from: storage, count: capacity)
        (new + capacity).initialize(repeating: 0, count: newCapacity - capacity)
        storage.deallocate()
        storage = new
        capacity = newCapacity
    }

    /// sds's `sdsIncrLen`: moves the end and writes a terminator there.
    mutating func changeLength(by delta: Int) {
        length += delta
        storage[length] = 0
    }

    /// `hllAdd`: 1 when a register changed, 0 when not, -1 for a corrupted sparse sketch.
    public mutating func add(_ element: UnsafeRawBufferPointer, sparseMaxBytes: Int) -> Int {
        let (index, count) = HyperLogLog.patternLength(element)
        return set(index, count, sparseMaxBytes: sparseMaxBytes)
    }

    /// Raises register `index` to `count` in either encoding (`hllDenseSet` / `hllSparseSet`).
    public mutating func set(_ index: Int, _ count: UInt8, sparseMaxBytes: Int) -> Int {
        if encoding == .dense {
            return HyperLogLog.denseSet(storage + HyperLogLog.headerSize, index, count) ? 1 : 0
        }
        return sparseSet(index, count, sparseMaxBytes: sparseMaxBytes)
    }

    /// `hllSparseToDense`: false (and unchanged) when the sparse opcodes are corrupted. The
    /// header, cached cardinality included, is kept.
    public mutating func toDense() -> Bool {
        guard encoding == .sparse else { return true }
        let newCapacity = HyperLogLog.denseSize + 1
        let dense = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        dense.initialize(repeating: 0, count: newCapacity)
        dense.initialize(from: storage, count: HyperLogLog.headerSize)
        dense[4] = HyperLogLog.Encoding.dense.rawValue
        guard HyperLogLog.expandSparse(bytes, terminator: storage[length],
                                       into: UnsafeMutableRawPointer(dense + HyperLogLog.headerSize)) else {
            dense.deallocate()
            return false
        }
        storage.deallocate()
        storage = dense
        capacity = newCapacity
        length = HyperLogLog.denseSize
        return true
    }

    /// `hllSparseSet`: raises register `index` to `count`, splitting the opcode that covers it
    /// and merging equal neighbours, or promotes to dense when `count` exceeds the VAL range
    /// or the value would outgrow `sparseMaxBytes`.
    mutating func sparseSet(_ index: Int, _ count: UInt8, sparseMaxBytes: Int) -> Int {
        if count > 32 { return promote(index, count) }
        // The worst split (XZERO into XZERO-VAL-XZERO) adds 3 bytes.
        reserve(length + 3)
        let s = storage
        var end = length
        var p = HyperLogLog.headerSize
        var first = 0
        var prev = -1
        var span = 0

        // Step 1: find the opcode covering `index`.
        while p < end {
            var opLength = 1
            let b = s[p]
            if b & 0xc0 == 0 {
                span = Int(b & 0x3f) + 1
            } else if b & 0x80 != 0 {
                span = Int(b & 3) + 1
            } else {
                span = (Int(b & 0x3f) << 8 | Int(s[p + 1])) + 1
                opLength = 2
            }
            if index <= first + span - 1 { break }
            prev = p
            p += opLength
            first += span
        }
        if span == 0 || p >= end { return -1 }

        let op = s[p]
        let isXZero = op & 0xc0 == 0x40
        let isZero = op & 0xc0 == 0
        let isValue = op & 0x80 != 0
        var next: Int? = isXZero ? p + 2 : p + 1
        if next! >= end { next = nil }
        let runLength: Int
        if isZero {
            runLength = Int(op & 0x3f) + 1
        } else if isXZero {
            runLength = (Int(op & 0x3f) << 8 | Int(s[p + 1])) + 1
        } else {
            runLength = Int(op & 3) + 1
        }

        updated: do {
            // Step 2: the cases that need no split.
            if isValue {
                let old = Int(op >> 2 & 0x1f) + 1
                if old >= Int(count) { return 0 }
                if runLength == 1 {
                    s[p] = Self.valueOpcode(Int(count), 1)
                    break updated
                }
            }
            if isZero && runLength == 1 {
                s[p] = Self.valueOpcode(Int(count), 1)
                break updated
            }

            // The general case: the covering opcode becomes up to three.
            var seq: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
            let seqLength = withUnsafeMutableBytes(of: &seq) { seq -> Int in
                var n = 0
                let last = first + span - 1
                if isZero || isXZero {
                    if index != first { n += Self.zeroOpcodes(index - first, into: seq, at: n) }
                    seq[n] = Self.valueOpcode(Int(count), 1)
                    n += 1
                    if index != last { n += Self.zeroOpcodes(last - index, into: seq, at: n) }
                } else {
                    let current = Int(op >> 2 & 0x1f) + 1
                    if index != first {
                        seq[n] = Self.valueOpcode(current, index - first)
                        n += 1
                    }
                    seq[n] = Self.valueOpcode(Int(count), 1)
                    n += 1
                    if index != last {
                        seq[n] = Self.valueOpcode(current, last - index)
                        n += 1
                    }
                }
                return n
            }

            // Step 3: put the new sequence in place of the old opcode.
            let delta = seqLength - (isXZero ? 2 : 1)
            if delta > 0 && length + delta > sparseMaxBytes { return promote(index, count) }
            if delta != 0, let next { (s + next + delta).update(from: s + next, count: end - next) }
            changeLength(by: delta)
            withUnsafeBytes(of: &seq) { seq in
                for i in 0 ..< seqLength { s[p + i] = seq[i] }
            }
            end += delta
        }

        // Step 4: merge adjacent VAL opcodes of equal value, scanning up to 5 opcodes from
        // the one before the change.
        p = prev >= 0 ? prev : HyperLogLog.headerSize
        var scan = 5
        while p < end {
            if scan == 0 { break }
            scan -= 1
            let b = s[p]
            if b & 0xc0 == 0x40 {
                p += 2
                continue
            } else if b & 0xc0 == 0 {
                p += 1
                continue
            }
            if p + 1 < end && s[p + 1] & 0x80 != 0 {
                let v1 = Int(b >> 2 & 0x1f) + 1
                let v2 = Int(s[p + 1] >> 2 & 0x1f) + 1
                if v1 == v2 {
                    let merged = Int(b & 3) + 1 + Int(s[p + 1] & 3) + 1
                    if merged <= 4 {
                        s[p + 1] = Self.valueOpcode(v1, merged)
                        // Like Redis's memmove(p, p+1, end-p): the terminator moves too.
                        (s + p).update(from: s + p + 1, count: end - p)
                        changeLength(by: -1)
                        end -= 1
                        continue
                    }
                }
            }
            p += 1
        }
        invalidateCache()
        return 1
    }

    /// Converts to dense and sets the register there (a promotion always changes it).
    mutating func promote(_ index: Int, _ count: UInt8) -> Int {
        guard toDense() else { return -1 }
        _ = HyperLogLog.denseSet(storage + HyperLogLog.headerSize, index, count)
        return 1
    }

    static func valueOpcode(_ value: Int, _ length: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (value - 1) << 2 | (length - 1)) | 0x80
    }

    /// Writes a ZERO (up to 64) or XZERO run of `length` registers; returns its byte count.
    static func zeroOpcodes(_ length: Int, into seq: UnsafeMutableRawBufferPointer, at n: Int) -> Int {
        if length > 64 {
            let l = length - 1
            seq[n] = UInt8(truncatingIfNeeded: l >> 8) | 0x40
            seq[n + 1] = UInt8(truncatingIfNeeded: l & 0xff)
            return 2
        }
        seq[n] = UInt8(truncatingIfNeeded: length - 1)
        return 1
    }
}

// MARK: - Shard Ops

extension Shard {
    /// PFADD: adds `elements` to the HyperLogLog in `existing` (a string entry, or nil to
    /// create one) and returns Redis's `updated` count: registers changed, plus one for a new
    /// key (so PFADD replies 1 for a new key even without elements). Dense sketches change in
    /// place; sparse ones are edited in a copy and stored back. A corrupted sparse sketch
    /// throws after storing what the elements before the failing one changed, as Redis does.
    public func hyperLogLogAdd(_ key: UnsafeRawBufferPointer, hash: UInt64,
                               elements: UnsafeBufferPointer<UnsafeRawBufferPointer>,
                               existing: Entry?, sparseMaxBytes: Int) throws(HyperLogLogError) -> Int {
        guard let entry = existing else {
            var sketch = HyperLogLogBuffer()
            for element in elements { _ = sketch.add(element, sparseMaxBytes: sparseMaxBytes) }
            sketch.invalidateCache()
            putString(key, hash: hash, value: sketch.bytes, encoding: .raw, expireAt: nil, keepTTL: false, existing: nil)
            return 1
        }
        try HyperLogLog.validate(entry.value)
        entry.encoding = StringEncoding.raw.rawValue
        if HyperLogLog.encoding(of: entry.value) == .dense {
            let updated = HyperLogLog.denseAdd(entry.mutableValue, elements)
            if updated > 0 { HyperLogLog.invalidateCache(entry.mutableValue.baseAddress!) }
            return updated
        }
        var sketch = HyperLogLogBuffer(copying: entry.value)
        var updated = 0
        var failed = false
        for element in elements {
            let result = sketch.add(element, sparseMaxBytes: sparseMaxBytes)
            if result < 0 {
                failed = true
                break
            }
            updated += result
        }
        if updated > 0 {
            if !failed { sketch.invalidateCache() }
            putString(key, hash: hash, value: sketch.bytes, encoding: .raw, expireAt: nil, keepTTL: true, existing: entry)
        }
        if failed { throw .corrupted }
        return updated
    }

    /// PFCOUNT of one key: the cached cardinality, or a fresh estimate stored into the cache
    /// in place (`recomputed`: the value changed, so Redis counts a write).
    public func hyperLogLogCount(_ entry: Entry) throws(HyperLogLogError) -> (cardinality: UInt64, recomputed: Bool) {
        try HyperLogLog.validate(entry.value)
        entry.encoding = StringEncoding.raw.rawValue
        if let cached = HyperLogLog.cachedCardinality(entry.value) { return (cached, false) }
        guard let card = HyperLogLog.count(entry.value) else { throw .corrupted }
        HyperLogLog.storeCardinality(card, into: entry.mutableValue.baseAddress!)
        return (card, true)
    }

    /// PFMERGE's store: raises the registers of the destination (`existing`, already validated
    /// as a source, or nil to create an empty sparse sketch) to `max`, converting it to dense
    /// first when `dense` (some source was dense), and invalidates its cache. The TTL stays.
    public func hyperLogLogStoreMerge(_ key: UnsafeRawBufferPointer, hash: UInt64, max: UnsafeBufferPointer<UInt8>,
                                      dense: Bool, existing: Entry?, sparseMaxBytes: Int) throws(HyperLogLogError) {
        var sketch = existing.map { HyperLogLogBuffer(copying: $0.value) } ?? HyperLogLogBuffer()
        if dense && !sketch.toDense() { throw .corrupted }
        for i in 0 ..< HyperLogLog.registerCount where max[i] != 0 {
            _ = sketch.set(i, max[i], sparseMaxBytes: sparseMaxBytes)
        }
        sketch.invalidateCache()
        putString(key, hash: hash, value: sketch.bytes, encoding: .raw, expireAt: nil, keepTTL: true, existing: existing)
    }

    /// PFDEBUG TODENSE / GETREG: converts a sparse sketch to dense (keeping its header and
    /// TTL). Returns the entry now holding the value and whether it was converted.
    public func hyperLogLogToDense(_ entry: Entry, hash: UInt64) throws(HyperLogLogError) -> (Entry, converted: Bool) {
        guard HyperLogLog.encoding(of: entry.value) == .sparse else { return (entry, false) }
        var sketch = HyperLogLogBuffer(copying: entry.value)
        guard sketch.toDense() else { throw .corrupted }
        let stored = putString(entry.key, hash: hash, value: sketch.bytes, encoding: .raw, expireAt: nil,
                               keepTTL: true, existing: entry)
        return (stored, true)
    }
}

extension HyperLogLog {
    /// Dense register `index` of a validated dense value.
    public static func register(_ value: UnsafeRawBufferPointer, _ index: Int) -> UInt8 {
        denseRegister(value.baseAddress! + headerSize, index)
    }
}
