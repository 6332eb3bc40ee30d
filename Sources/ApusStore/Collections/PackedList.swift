import ApusRESP

/// A small collection's elements packed into one byte buffer: the role of Redis's listpack
/// (small hashes, sets, sorted sets and quicklist nodes). One allocation for the whole
/// collection instead of one or more per element, at the price of O(n) search and insertion,
/// which is why collections convert to full structures past Redis's size thresholds.
///
/// Element layout: `[length: LEB128][bytes][back-length]`, where back-length is the size of
/// the first two parts written so it reads *backwards* (least significant 7-bit group last,
/// high bit = more groups before it), so the list walks in both directions (RPOP, reverse
/// ranges) without an index.
///
/// An element is addressed by its byte offset; offsets stay valid until the next mutation.
/// The format is Apus's own (RDB/DUMP serialise elements, not this buffer).
public struct PackedList: Sendable {
    @usableFromInline var storage: ContiguousArray<UInt8>
    /// Number of elements.
    @usableFromInline var elementCount: Int
    /// Number of elements.
    @inlinable public var count: Int { elementCount }

    @inlinable
    public init() {
        storage = []
        elementCount = 0
    }

    /// Bytes used by the packed elements (what the size thresholds and MEMORY USAGE look at).
    @inlinable
    public var byteCount: Int { storage.count }

    /// Bytes allocated for the buffer.
    @inlinable
    public var allocatedBytes: Int { storage.capacity }

    /// Heap bytes of the buffer (its malloc block, header included; 0 when nothing is
    /// allocated), in O(1).
    @inlinable
    public var heapBytes: Int { heapByteArrayBytes(capacity: storage.capacity) }

    /// Calls `body` with the buffer's heap object, if one is allocated (tests ask the allocator
    /// about it).
    func withStorageObject(_ body: (UnsafeRawPointer) -> Void) {
        guard storage.capacity > 0 else { return }
        storage.withUnsafeBytes { body($0.baseAddress! - 32) }
    }

    /// A copy with a buffer of its own (COPY's deep copy: a shared buffer would be counted
    /// twice by memory accounting until the first write split it).
    public func deepCopy() -> PackedList {
        var copy = PackedList()
        copy.storage = storage.ownCopy()
        copy.elementCount = elementCount
        return copy
    }

    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with a read-only view of the elements; the view must not escape.
    @inlinable
    public func withElements<R>(_ body: (PackedElements) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(PackedElements(raw: $0)) }
    }

    // MARK: Mutation

    /// Appends `element` at the end.
    @inlinable
    public mutating func append(_ element: UnsafeRawBufferPointer) {
        insert(element, at: storage.count)
    }

    /// Inserts `element` before the element at `offset` (`byteCount` appends).
    @inlinable
    public mutating func insert(_ element: UnsafeRawBufferPointer, at offset: Int) {
        precondition(offset >= 0 && offset <= storage.count)
        var encoded = PackedElementHeader(length: element.count)
        let size = encoded.totalSize
        reserve(adding: size)
        storage.insert(contentsOf: repeatElement(0, count: size), at: offset)
        storage.withUnsafeMutableBytes { raw in
            encoded.write(element, into: raw.baseAddress! + offset)
        }
        elementCount &+= 1
    }

    /// Removes the element at `offset`.
    @inlinable
    public mutating func remove(at offset: Int) {
        let size = withElements { $0.size(at: offset) }
        storage.removeSubrange(offset ..< offset &+ size)
        elementCount &-= 1
    }

    /// Removes `n` consecutive elements starting at `offset` (fewer if the list ends first);
    /// returns how many were removed.
    @inlinable
    @discardableResult
    public mutating func remove(from offset: Int, count n: Int) -> Int {
        var end = offset
        var removed = 0
        withElements { view in
            while removed < n && end < view.endIndex {
                end = view.index(after: end)
                removed &+= 1
            }
        }
        storage.removeSubrange(offset ..< end)
        elementCount &-= removed
        return removed
    }

    /// Replaces the element at `offset` with `element`; the offset stays valid for it.
    @inlinable
    public mutating func replace(at offset: Int, with element: UnsafeRawBufferPointer) {
        let oldSize = withElements { $0.size(at: offset) }
        var encoded = PackedElementHeader(length: element.count)
        let newSize = encoded.totalSize
        if newSize != oldSize {
            if newSize > oldSize { reserve(adding: newSize &- oldSize) }
            storage.replaceSubrange(offset ..< offset &+ oldSize, with: repeatElement(0, count: newSize))
        }
        storage.withUnsafeMutableBytes { raw in
            encoded.write(element, into: raw.baseAddress! + offset)
        }
    }

    /// Removes every element, keeping the buffer when `keepingCapacity`.
    @inlinable
    public mutating func removeAll(keepingCapacity: Bool = false) {
        storage.removeAll(keepingCapacity: keepingCapacity)
        elementCount = 0
    }

    /// Grows the buffer by 1/8 (at least 16 bytes) instead of the array's doubling when it is
    /// full: packed collections are many and small, and doubling left them up to half empty
    /// (measured: 57.2 → 48.2 MB for 200k five-field hashes). The extra copying stays
    /// amortised O(1) per byte, and packed buffers are bounded by the listpack thresholds.
    @inlinable
    mutating func reserve(adding bytes: Int) {
        let needed = storage.count &+ bytes
        if needed > storage.capacity { storage.reserveCapacity(needed &+ Swift.max(needed / 8, 16)) }
    }

    /// Gives back unused capacity (after a big deletion): reallocates to the exact size.
    public mutating func shrinkToFit() {
        guard storage.capacity > storage.count &+ storage.count / 4 &+ 16 else { return }
        let count = storage.count
        let exact = storage.withUnsafeBytes { source in
            ContiguousArray<UInt8>(unsafeUninitializedCapacity: count) { buffer, initialized in
                if count > 0 { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source) }
                initialized = count
            }
        }
        storage = exact
    }
}

/// A read-only view of a `PackedList`'s elements, valid only inside `withElements`.
/// Indices are byte offsets: `startIndex` is the first element, `endIndex` is past the last.
public struct PackedElements: BidirectionalCollection {
    public let raw: UnsafeRawBufferPointer

    @inlinable
    init(raw: UnsafeRawBufferPointer) { self.raw = raw }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { raw.count }

    /// The bytes of the element at `offset`.
    @inlinable
    public subscript(offset: Int) -> UnsafeRawBufferPointer {
        let (length, headerSize) = readLength(at: offset)
        return UnsafeRawBufferPointer(rebasing: raw[(offset &+ headerSize) ..< (offset &+ headerSize &+ length)])
    }

    @inlinable
    public func index(after offset: Int) -> Int { offset &+ size(at: offset) }

    @inlinable
    public func index(before offset: Int) -> Int {
        // Back-length: least significant group in the last byte, high bit = more groups before.
        var p = offset &- 1
        var value = 0
        var shift = 0
        while true {
            let byte = raw[p]
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift &+= 7
            p &-= 1
        }
        return offset &- value &- PackedElementHeader.varintSize(value)
    }

    /// Total bytes of the element at `offset` (header, bytes, back-length).
    @inlinable
    public func size(at offset: Int) -> Int {
        let (length, headerSize) = readLength(at: offset)
        let forward = headerSize &+ length
        return forward &+ PackedElementHeader.varintSize(forward)
    }

    /// Offset of the first element from `start` (stepping `stride` elements at a time) whose
    /// bytes equal `element`; nil if none.
    @inlinable
    public func firstIndex(of element: UnsafeRawBufferPointer, from start: Int = 0, stride: Int = 1) -> Int? {
        var offset = start
        while offset < endIndex {
            let (length, headerSize) = readLength(at: offset)
            if length == element.count {
                let start = offset &+ headerSize
                if UnsafeRawBufferPointer(rebasing: raw[start ..< start &+ length]).bytesEqual(element) { return offset }
            }
            for _ in 0 ..< stride { offset = index(after: offset) }
        }
        return nil
    }

    @inlinable
    func readLength(at offset: Int) -> (length: Int, headerSize: Int) {
        var p = offset
        var value = 0
        var shift = 0
        while true {
            let byte = raw[p]
            value |= Int(byte & 0x7F) << shift
            p &+= 1
            if byte & 0x80 == 0 { break }
            shift &+= 7
        }
        return (value, p &- offset)
    }
}

/// Encodes one element's length prefix and back-length.
@usableFromInline
struct PackedElementHeader {
    @usableFromInline let length: Int

    @inlinable
    init(length: Int) { self.length = length }

    @inlinable
    static func varintSize(_ value: Int) -> Int {
        var size = 1
        var v = value >> 7
        while v > 0 { size &+= 1; v >>= 7 }
        return size
    }

    @inlinable
    var forwardSize: Int { PackedElementHeader.varintSize(length) &+ length }

    @inlinable
    var totalSize: Int { forwardSize &+ PackedElementHeader.varintSize(forwardSize) }

    @inlinable
    mutating func write(_ element: UnsafeRawBufferPointer, into p: UnsafeMutableRawPointer) {
        var q = p
        var v = length
        repeat {
            var byte = UInt8(v & 0x7F)
            v >>= 7
            if v > 0 { byte |= 0x80 }
            q.storeBytes(of: byte, as: UInt8.self)
            q += 1
        } while v > 0
        if length > 0 { q.copyMemory(from: element.baseAddress!, byteCount: length) }
        q += length
        // Back-length, most significant group first so the last byte holds the lowest group.
        let forward = forwardSize
        let groups = PackedElementHeader.varintSize(forward)
        for i in 0 ..< groups {
            let shift = (groups &- 1 &- i) &* 7
            var byte = UInt8((forward >> shift) & 0x7F)
            if i > 0 { byte |= 0x80 }  // a byte with more groups *before* it
            q.storeBytes(of: byte, as: UInt8.self)
            q += 1
        }
    }
}

extension ContiguousArray where Element == UInt8 {
    /// A copy in a buffer of its own, sized to the contents (an assignment would share the
    /// buffer, which memory accounting would count twice until the first write split it).
    func ownCopy() -> ContiguousArray<UInt8> {
        let count = self.count
        guard count > 0 else { return [] }
        return withUnsafeBytes { source in
            ContiguousArray<UInt8>(unsafeUninitializedCapacity: count) { buffer, initialized in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
                initialized = count
            }
        }
    }
}
