#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A binary-safe byte string. Redis keys and values are bytes, never `String`: Swift's
/// `String` compares by Unicode canonical equivalence, so two different keys could collide.
///
/// Up to `inlineCapacity` bytes live inside the value itself (no allocation); longer strings
/// share one immutable heap buffer.
public struct Bytes: Sendable {
    public static let inlineCapacity = 15

    @usableFromInline
    enum Storage: Sendable {
        case inline(InlineBytes)
        case heap(HeapBytes)
    }

    @usableFromInline var storage: Storage

    @inlinable
    public init() { storage = .inline(InlineBytes()) }

    @inlinable
    public init(_ raw: UnsafeRawBufferPointer) {
        if raw.count <= Bytes.inlineCapacity {
            storage = .inline(InlineBytes(raw))
        } else {
            storage = .heap(HeapBytes.make(raw))
        }
    }

    @inlinable
    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let array = ContiguousArray(bytes)
        self = array.withUnsafeBytes { Bytes($0) }
    }

    @inlinable
    public init(_ string: String) {
        var copy = string
        self = copy.withUTF8 { Bytes(UnsafeRawBufferPointer($0)) }
    }

    @inlinable
    public var count: Int {
        switch storage {
        case .inline(let small): return Int(small.count)
        case .heap(let heap): return heap.count
        }
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with a view of the bytes; the view must not escape.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .inline(var small):
            return try small.withUnsafeBytes(body)
        case .heap(let heap):
            return try heap.withUnsafeBytes(body)
        }
    }

    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Lossy UTF-8 rendering for logs, error messages and config values — never for keys.
    public var description: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}

extension Bytes: Equatable, Hashable, Comparable {
    @inlinable
    public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in l.elementsEqual(r) } }
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
        hasher.combine(count)
    }

    /// Byte-wise ordering, like Redis's `memcmp`-then-length comparison.
    @inlinable
    public static func < (lhs: Bytes, rhs: Bytes) -> Bool {
        lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in compareBytes(l, r) < 0 } }
    }
}

extension Bytes: CustomStringConvertible {}

extension Bytes: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

/// Three-way byte comparison (memcmp, then the shorter string first).
@inlinable
public func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let common = Swift.min(a.count, b.count)
    if common > 0 {
        let result = memcmpBytes(a.baseAddress!, b.baseAddress!, common)
        if result != 0 { return result }
    }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

@inlinable
func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Int {
    Int(memcmp(a, b, n))
}

/// Inline storage: 15 bytes of data and a length byte.
@usableFromInline
struct InlineBytes: Sendable {
    @usableFromInline var data: (UInt64, UInt64)

    @inlinable
    init() { data = (0, 0) }

    @inlinable
    init(_ raw: UnsafeRawBufferPointer) {
        data = (0, 0)
        let n = raw.count
        withUnsafeMutableBytes(of: &data) { dst in
            if n > 0 { dst.baseAddress!.copyMemory(from: raw.baseAddress!, byteCount: n) }
            dst[15] = UInt8(truncatingIfNeeded: n)
        }
    }

    @inlinable
    var count: UInt8 { UInt8(truncatingIfNeeded: data.1 >> 56) }

    @inlinable
    mutating func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = Int(count)
        return try Swift.withUnsafeBytes(of: &data) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
}

/// Out-of-line storage: one allocation holding the bytes, shared by copies.
@usableFromInline
final class HeapBytes: @unchecked Sendable {
    @usableFromInline let count: Int
    @usableFromInline let pointer: UnsafeMutableRawPointer

    @inlinable
    init(count: Int, pointer: UnsafeMutableRawPointer) {
        self.count = count
        self.pointer = pointer
    }

    @inlinable
    static func make(_ raw: UnsafeRawBufferPointer) -> HeapBytes {
        let p = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(raw.count, 1), alignment: 8)
        if raw.count > 0 { p.copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
        return HeapBytes(count: raw.count, pointer: p)
    }

    deinit { pointer.deallocate() }

    @inlinable
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
