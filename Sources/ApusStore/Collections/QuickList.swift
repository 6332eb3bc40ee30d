import ApusRESP
import Synchronization

// The building blocks of the list type (t_list.c / quicklist.c): a node of packed elements,
// Redis's listpack byte accounting, and the `list-max-listpack-size` limits.
//
// Apus stores elements in its own `PackedList` format, but every size decision (when a
// listpack becomes a quicklist, when a node is full, when two nodes merge, when a quicklist
// shrinks back to a listpack) is taken on the byte count *Redis's* listpack would have for the
// same elements, so node boundaries and `OBJECT ENCODING` follow Redis exactly.

/// Which end of a list: Redis's LIST_HEAD (LEFT) and LIST_TAIL (RIGHT).
public enum ListEnd: Sendable, Equatable {
    case head
    case tail
}

/// Sizes of Redis's listpack encoding (listpack.c), used only for accounting.
@usableFromInline
enum Listpack {
    /// lpNew: 6-byte header (total bytes, element count) + the 1-byte terminator.
    @usableFromInline static let emptyBytes = 7

    /// Bytes one element takes in a listpack: its encoding (integer forms for strings that
    /// `lpStringToInt64` accepts, 1/2/5-byte string headers otherwise) plus the back-length.
    @inlinable
    static func entrySize(_ element: UnsafeRawBufferPointer) -> Int {
        let n = element.count
        var encoded: Int
        // lpStringToInt64 is string2ll's strict form (no leading zeros, no "-0", < 21 bytes).
        if n > 0 && n < 21, let v = parseInteger(element) {
            switch v {
            case 0 ... 127: encoded = 1
            case -4096 ... 4095: encoded = 2
            case -32768 ... 32767: encoded = 3
            case -8_388_608 ... 8_388_607: encoded = 4
            case -2_147_483_648 ... 2_147_483_647: encoded = 5
            default: encoded = 9
            }
        } else {
            encoded = n < 64 ? 1 &+ n : (n < 4096 ? 2 &+ n : 5 &+ n)
        }
        return encoded &+ backlenSize(encoded)
    }

    /// lpEncodeBacklen's size for an entry of `length` bytes.
    @inlinable
    static func backlenSize(_ length: Int) -> Int {
        if length <= 127 { return 1 }
        if length < 16383 { return 2 }
        if length < 2_097_151 { return 3 }
        if length < 268_435_455 { return 4 }
        return 5
    }
}

/// The size or count cap `list-max-listpack-size` (a quicklist's "fill") puts on one node
/// (quicklistNodeLimit / quicklistNodeExceedsLimit): a positive fill caps the entries (and the
/// bytes at the 8 KiB safety limit), -1...-5 cap the bytes at 4...64 KiB.
@usableFromInline
struct ListNodeLimit: Sendable {
    /// Byte cap (`Int.max` when the fill counts entries).
    @usableFromInline let size: Int
    /// Entry cap (UINT_MAX when the fill caps bytes).
    @usableFromInline let entries: Int

    @usableFromInline static let noEntryLimit = Int(UInt32.max)
    /// SIZE_SAFETY_LIMIT: the byte cap of a node limited by entry count.
    @usableFromInline static let safetyLimit = 8192

    @inlinable
    init(fill: Int) {
        if fill >= 0 {
            entries = fill == 0 ? 1 : fill
            size = Int.max
        } else {
            let level = Swift.min(-(fill + 1), 4)
            size = 4096 << level
            entries = ListNodeLimit.noEntryLimit
        }
    }

    @inlinable
    func exceeded(bytes: Int, entries newCount: Int) -> Bool {
        if size != Int.max { return bytes > size }
        if bytes > ListNodeLimit.safetyLimit { return true }
        return newCount > entries
    }
}

/// One quicklist node (or the whole list when it is listpack-encoded): packed elements plus
/// the byte count Redis's listpack would have for them. A *plain* node holds one element
/// too big to pack (at least `ListObject.packedThreshold` bytes), as Redis does.
public struct ListNode: Sendable {
    @usableFromInline var elements: PackedList
    /// lpBytes of the equivalent listpack, or the element's size for a plain node (node->sz).
    @usableFromInline var listpackBytes: Int
    @usableFromInline var isPlain: Bool
    /// `elements`' buffer holds `NodeCompression` output (an interior node of a list with
    /// `list-compress-depth`); only the element count and byte accounting are usable then.
    @usableFromInline var isCompressed = false

    @inlinable
    init() {
        elements = PackedList()
        listpackBytes = Listpack.emptyBytes
        isPlain = false
    }

    /// A packed node holding just `element`.
    @inlinable
    init(single element: UnsafeRawBufferPointer) {
        self.init()
        append(element)
    }

    /// A plain node for a big element.
    @inlinable
    init(plain element: UnsafeRawBufferPointer) {
        elements = PackedList()
        elements.append(element)
        listpackBytes = element.count
        isPlain = true
    }

    // MARK: Compression (list-compress-depth)

    /// Redis's MIN_COMPRESS_BYTES: smaller nodes are not worth compressing.
    @usableFromInline static let minimumCompressedSize = 48

    /// Compresses the buffer if that saves at least 8 bytes (MIN_COMPRESS_IMPROVE).
    @usableFromInline
    mutating func compress() {
        guard !isCompressed, elements.byteCount >= ListNode.minimumCompressedSize else { return }
        guard let compressed = elements.storage.withUnsafeBytes({ NodeCompression.compress($0) }) else { return }
        elements.storage = compressed
        // The output buffer was sized for the worst case; keep only what it holds, or
        // compression would save no memory (quicklist.c reallocates its LZF node likewise).
        elements.shrinkToFit()
        isCompressed = true
    }

    @usableFromInline
    mutating func decompress() {
        guard isCompressed else { return }
        elements.storage = elements.storage.withUnsafeBytes { NodeCompression.decompress($0) }
        isCompressed = false
    }

    /// Reads the elements, decompressing a compressed node into a temporary buffer (the node
    /// itself stays compressed).
    @inlinable
    func withReadableElements<R>(_ body: (PackedElements) -> R) -> R {
        guard isCompressed else { return elements.withElements(body) }
        let raw = elements.storage.withUnsafeBytes { NodeCompression.decompress($0) }
        return raw.withUnsafeBytes { body(PackedElements(raw: $0)) }
    }

    @inlinable
    var count: Int { elements.count }

    /// A copy with a buffer of its own (see `PackedList.deepCopy`).
    func deepCopy() -> ListNode {
        var copy = self
        copy.elements = elements.deepCopy()
        return copy
    }

    @inlinable
    mutating func append(_ element: UnsafeRawBufferPointer) {
        elements.append(element)
        listpackBytes &+= Listpack.entrySize(element)
    }

    @inlinable
    mutating func prepend(_ element: UnsafeRawBufferPointer) {
        elements.insert(element, at: 0)
        listpackBytes &+= Listpack.entrySize(element)
    }

    /// Byte offset of the element at `position`.
    @inlinable
    func offset(of position: Int) -> Int {
        let n = count
        return elements.withElements { $0.offset(ofElement: position, count: n) }
    }

    /// Inserts `element` so that it becomes the element at `position` (`count` appends).
    @inlinable
    mutating func insert(_ element: UnsafeRawBufferPointer, at position: Int) {
        let offset = position == count ? elements.byteCount : self.offset(of: position)
        elements.insert(element, at: offset)
        listpackBytes &+= Listpack.entrySize(element)
    }

    @inlinable
    mutating func replace(at position: Int, with element: UnsafeRawBufferPointer) {
        let offset = self.offset(of: position)
        let old = elements.withElements { Listpack.entrySize($0[offset]) }
        elements.replace(at: offset, with: element)
        listpackBytes &+= Listpack.entrySize(element) &- old
    }

    /// Removes `n` elements from `position` on.
    @inlinable
    mutating func remove(from position: Int, count n: Int) {
        let offset = self.offset(of: position)
        if !isPlain {
            let freed = elements.withElements { view -> Int in
                var o = offset
                var bytes = 0
                for _ in 0 ..< n {
                    bytes &+= Listpack.entrySize(view[o])
                    o = view.index(after: o)
                }
                return bytes
            }
            listpackBytes &-= freed
        }
        elements.remove(from: offset, count: n)
    }

    /// Removes `k` elements from the head or tail end after passing each to `body`, the
    /// end element first (pops).
    @inlinable
    mutating func removeFromEnd(_ end: ListEnd, count k: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        let plain = isPlain
        let (start, freed) = elements.withElements { view -> (Int, Int) in
            var freed = 0
            if end == .head {
                var o = view.startIndex
                for _ in 0 ..< k {
                    let element = view[o]
                    body(element)
                    if !plain { freed &+= Listpack.entrySize(element) }
                    o = view.index(after: o)
                }
                return (view.startIndex, freed)
            }
            var o = view.endIndex
            for _ in 0 ..< k {
                o = view.index(before: o)
                let element = view[o]
                body(element)
                if !plain { freed &+= Listpack.entrySize(element) }
            }
            return (o, freed)
        }
        listpackBytes &-= freed
        elements.remove(from: start, count: k)
    }

    /// A node with the elements `range` of this one (a copy; this node is unchanged).
    @inlinable
    func extract(_ range: Range<Int>) -> ListNode {
        var out = ListNode()
        guard !range.isEmpty else { return out }
        elements.withElements { view in
            var o = view.offset(ofElement: range.lowerBound, count: count)
            for _ in range {
                out.append(view[o])
                o = view.index(after: o)
            }
        }
        return out
    }

    /// _quicklistSplitNode: with `after`, this node keeps [0, position] and the returned node
    /// holds the rest; otherwise the returned node holds [0, position) and this node the rest.
    @inlinable
    mutating func split(at position: Int, after: Bool) -> ListNode {
        let n = count
        if after {
            let new = extract((position &+ 1) ..< n)
            remove(from: position &+ 1, count: n &- position &- 1)
            return new
        }
        let new = extract(0 ..< position)
        remove(from: 0, count: position)
        return new
    }

    /// Appends every element of `other` (lpMerge: the merged listpack has one header less).
    @inlinable
    mutating func appendContents(of other: ListNode) {
        other.withReadableElements { view in
            for element in view { elements.append(element) }
        }
        listpackBytes = listpackBytes &+ other.listpackBytes &- Listpack.emptyBytes
    }

    /// Drops the elements whose position `drop` selects; returns how many it dropped.
    @inlinable
    mutating func removeAll(where drop: (Int) -> Bool) -> Int {
        var kept = PackedList()
        var keptBytes = Listpack.emptyBytes
        var removed = 0
        elements.withElements { view in
            var position = 0
            for element in view {
                if drop(position) {
                    removed &+= 1
                } else {
                    kept.append(element)
                    keptBytes &+= Listpack.entrySize(element)
                }
                position &+= 1
            }
        }
        if removed > 0 {
            elements = kept
            if !isPlain { listpackBytes = keptBytes }
        }
        return removed
    }
}

extension PackedElements {
    /// Byte offset of element `position` (0-based) of `count` elements, walked from the nearer
    /// end (`count` gives `endIndex`).
    @inlinable
    func offset(ofElement position: Int, count: Int) -> Int {
        if position <= count / 2 {
            var o = startIndex
            for _ in 0 ..< position { o = index(after: o) }
            return o
        }
        var o = endIndex
        for _ in 0 ..< (count &- position) { o = index(before: o) }
        return o
    }
}

/// Redis's `packed_threshold`: elements of at least this many bytes get a plain quicklist
/// node of their own (1 GiB; `DEBUG QUICKLIST-PACKED-THRESHOLD` changes it, for tests).
public enum ListPackedThreshold {
    @usableFromInline static let value = Atomic<Int>(1 << 30)

    @inlinable
    public static var current: Int { value.load(ordering: .relaxed) }

    /// quicklistisSetPackedThreshold: 0 restores the default; values at or above 4 GiB - 1 MiB
    /// are refused (returns false).
    public static func set(_ bytes: Int) -> Bool {
        if bytes < 0 || bytes > (1 << 32) - (1 << 20) { return false }
        value.store(bytes == 0 ? 1 << 30 : bytes, ordering: .relaxed)
        return true
    }
}

/// The compression of interior quicklist nodes. Redis uses LZF; the node format is Apus's own,
/// so this is a small LZ77 of its own:
///
///     [raw length: UInt32 LE] then tokens:
///       0x00...0x7F  n    a run of n + 1 literal bytes follows
///       0x80...0xFF  n    a copy of (n & 0x7F) + 4 bytes from `distance` bytes back,
///                         distance (1...65535) as UInt16 LE
@usableFromInline
enum NodeCompression {
    static let minimumMatch = 4
    static let maximumMatch = 0x7F + 4
    static let maximumDistance = 65535
    static let hashBits = 13

    /// The compressed form of `input`, or nil when it would not save at least 8 bytes.
    @usableFromInline
    static func compress(_ input: UnsafeRawBufferPointer) -> ContiguousArray<UInt8>? {
        let n = input.count
        let limit = n - 8  // the output must stay below this
        guard n >= 16, n <= Int(UInt32.max), limit > 4 else { return nil }
        var out = ContiguousArray<UInt8>()
        out.reserveCapacity(limit)
        withUnsafeBytes(of: UInt32(n).littleEndian) { out.append(contentsOf: $0) }
        let src = input.baseAddress!.assumingMemoryBound(to: UInt8.self)
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1 << hashBits) { table -> ContiguousArray<UInt8>? in
            table.initialize(repeating: -1)
            var literalStart = 0
            var i = 0
            func flushLiterals(upTo end: Int) {
                var start = literalStart
                while start < end {
                    let run = Swift.min(128, end - start)
                    out.append(UInt8(run - 1))
                    out.append(contentsOf: UnsafeBufferPointer(start: src + start, count: run))
                    start += run
                }
                literalStart = end
            }
            while i + minimumMatch <= n {
                let word = UnsafeRawPointer(src + i).loadUnaligned(as: UInt32.self)
                let slot = Int((word &* 2_654_435_761) >> (32 - UInt32(hashBits)))
                let candidate = Int(table[slot])
                table[slot] = Int32(truncatingIfNeeded: i)
                if candidate >= 0, i - candidate <= maximumDistance,
                   UnsafeRawPointer(src + candidate).loadUnaligned(as: UInt32.self) == word {
                    var length = minimumMatch
                    while length < maximumMatch && i + length < n && src[candidate + length] == src[i + length] {
                        length += 1
                    }
                    flushLiterals(upTo: i)
                    out.append(UInt8(0x80 | (length - minimumMatch)))
                    let distance = UInt16(i - candidate)
                    out.append(UInt8(truncatingIfNeeded: distance))
                    out.append(UInt8(truncatingIfNeeded: distance >> 8))
                    i += length
                    literalStart = i
                } else {
                    i += 1
                }
                if out.count >= limit { return nil }
            }
            flushLiterals(upTo: n)
            return out.count < limit ? out : nil
        }
    }

    /// The original bytes of `compress`'s output.
    @usableFromInline
    static func decompress(_ input: UnsafeRawBufferPointer) -> ContiguousArray<UInt8> {
        let n = Int(UInt32(littleEndian: input.loadUnaligned(as: UInt32.self)))
        return ContiguousArray(unsafeUninitializedCapacity: n) { buffer, initialized in
            let dst = buffer.baseAddress!
            var o = 0
            var i = 4
            while i < input.count {
                let token = Int(input[i])
                i += 1
                if token < 0x80 {
                    let run = token + 1
                    (dst + o).initialize(from: input.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: run)
                    i += run
                    o += run
                } else {
                    let length = (token & 0x7F) + minimumMatch
                    let distance = Int(input[i]) | Int(input[i + 1]) << 8
                    i += 2
                    // Byte by byte: a copy may overlap what it produces (runs).
                    for k in 0 ..< length { (dst + o + k).initialize(to: dst[o + k - distance]) }
                    o += length
                }
            }
            precondition(o == n, "corrupt compressed quicklist node")
            initialized = n
        }
    }
}
