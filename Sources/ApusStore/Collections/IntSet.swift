/// Distinct 64-bit integers kept sorted in one byte buffer at the narrowest width that holds all
/// of them (2, 4 or 8 bytes per element): the role of Redis's intset, the encoding of small
/// all-integer sets. Lookups are binary searches; an insertion shifts the tail, and a value that
/// needs a wider width re-packs the whole buffer first (it then lies beyond either end, so it
/// is prepended or appended). Like Redis's, the width never narrows again after removals.
public struct IntSet: Sendable {
    @usableFromInline var storage: ContiguousArray<UInt8>
    /// log2 of the bytes per element: 1 (Int16), 2 (Int32) or 3 (Int64).
    @usableFromInline var widthShift: UInt8

    @inlinable
    public init() {
        storage = []
        widthShift = 1
    }

    /// Number of elements.
    @inlinable
    public var count: Int { storage.count &>> Int(widthShift) }

    @inlinable
    public var isEmpty: Bool { storage.isEmpty }

    /// Bytes per element (2, 4 or 8).
    @inlinable
    public var width: Int { 1 &<< Int(widthShift) }

    /// Bytes used by the elements (memory accounting).
    @inlinable
    public var byteCount: Int { storage.count }

    /// Heap bytes of the buffer (its malloc block; 0 when nothing is allocated), in O(1).
    @inlinable
    public var heapBytes: Int { heapByteArrayBytes(capacity: storage.capacity) }

    /// A copy with a buffer of its own (COPY: see `PackedList.deepCopy`).
    public func deepCopy() -> IntSet {
        var copy = IntSet()
        copy.storage = storage.ownCopy()
        copy.widthShift = widthShift
        return copy
    }

    /// The element at `index` (0 is the smallest).
    @inlinable
    public subscript(index: Int) -> Int64 {
        precondition(index >= 0 && index < count)
        return storage.withUnsafeBytes { IntSet.load($0, index, widthShift) }
    }

    /// The smallest element; the set must not be empty.
    @inlinable
    public var min: Int64 { self[0] }

    /// The largest element; the set must not be empty.
    @inlinable
    public var max: Int64 { self[count &- 1] }

    @inlinable
    static func load(_ raw: UnsafeRawBufferPointer, _ index: Int, _ shift: UInt8) -> Int64 {
        switch shift {
        case 1: Int64(raw.loadUnaligned(fromByteOffset: index &<< 1, as: Int16.self))
        case 2: Int64(raw.loadUnaligned(fromByteOffset: index &<< 2, as: Int32.self))
        default: raw.loadUnaligned(fromByteOffset: index &<< 3, as: Int64.self)
        }
    }

    @inlinable
    static func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int, _ shift: UInt8, _ value: Int64) {
        switch shift {
        case 1: raw.storeBytes(of: Int16(truncatingIfNeeded: value), toByteOffset: index &<< 1, as: Int16.self)
        case 2: raw.storeBytes(of: Int32(truncatingIfNeeded: value), toByteOffset: index &<< 2, as: Int32.self)
        default: raw.storeBytes(of: value, toByteOffset: index &<< 3, as: Int64.self)
        }
    }

    /// The width (as log2 bytes) `value` needs, like Redis's _intsetValueEncoding.
    @inlinable
    static func widthShift(for value: Int64) -> UInt8 {
        if value < Int64(Int32.min) || value > Int64(Int32.max) { return 3 }
        if value < Int64(Int16.min) || value > Int64(Int16.max) { return 2 }
        return 1
    }

    // MARK: Search

    /// Whether `value` is present, and the index where it is or would be inserted.
    @inlinable
    public func search(_ value: Int64) -> (found: Bool, index: Int) {
        let n = count
        if n == 0 { return (false, 0) }
        return storage.withUnsafeBytes { raw in
            let shift = widthShift
            // Redis checks both ends first: appends of ascending values are the common case.
            if value > IntSet.load(raw, n &- 1, shift) { return (false, n) }
            if value < IntSet.load(raw, 0, shift) { return (false, 0) }
            var low = 0
            var high = n &- 1
            while low <= high {
                let mid = (low &+ high) &>> 1
                let current = IntSet.load(raw, mid, shift)
                if current < value {
                    low = mid &+ 1
                } else if current > value {
                    high = mid &- 1
                } else {
                    return (true, mid)
                }
            }
            return (false, low)
        }
    }

    @inlinable
    public func contains(_ value: Int64) -> Bool {
        IntSet.widthShift(for: value) <= widthShift && search(value).found
    }

    // MARK: Mutation

    /// Adds `value`; returns false when it was already present.
    @inlinable
    @discardableResult
    public mutating func insert(_ value: Int64) -> Bool {
        let needed = IntSet.widthShift(for: value)
        if needed > widthShift {
            upgrade(to: needed, adding: value)
            return true
        }
        let (found, index) = search(value)
        if found { return false }
        let width = self.width
        storage.insert(contentsOf: repeatElement(0, count: width), at: index &<< Int(widthShift))
        let shift = widthShift
        storage.withUnsafeMutableBytes { IntSet.store($0, index, shift, value) }
        return true
    }

    /// Re-packs every element at the wider width and adds `value`, which lies outside the
    /// current range (it needs more bytes than any element): first if negative, else last.
    @usableFromInline
    mutating func upgrade(to shift: UInt8, adding value: Int64) {
        let n = count
        let oldShift = widthShift
        let prepend = value < 0 ? 1 : 0
        var wider = ContiguousArray<UInt8>(repeating: 0, count: (n &+ 1) &<< Int(shift))
        storage.withUnsafeBytes { old in
            wider.withUnsafeMutableBytes { new in
                for i in 0 ..< n { IntSet.store(new, i &+ prepend, shift, IntSet.load(old, i, oldShift)) }
                IntSet.store(new, prepend == 1 ? 0 : n, shift, value)
            }
        }
        storage = wider
        widthShift = shift
    }

    /// Removes `value`; returns false when it was not present.
    @inlinable
    @discardableResult
    public mutating func remove(_ value: Int64) -> Bool {
        guard IntSet.widthShift(for: value) <= widthShift else { return false }
        let (found, index) = search(value)
        if !found { return false }
        remove(at: index)
        return true
    }

    /// Removes the element at `index`.
    @inlinable
    public mutating func remove(at index: Int) {
        precondition(index >= 0 && index < count)
        let start = index &<< Int(widthShift)
        storage.removeSubrange(start ..< start &+ width)
    }

    /// Removes every element (the width goes back to 2 bytes, as for a new intset).
    @inlinable
    public mutating func removeAll() {
        storage = []
        widthShift = 1
    }

    /// Calls `body` with every element in ascending order.
    @inlinable
    public func forEach(_ body: (Int64) throws -> Void) rethrows {
        let n = count
        let shift = widthShift
        try storage.withUnsafeBytes { raw in
            for i in 0 ..< n { try body(IntSet.load(raw, i, shift)) }
        }
    }
}
