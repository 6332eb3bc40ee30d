#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The pure parts of SORT (Redis's sort.c): pattern splitting, the weight parse, the vector of
// elements with their weights, and the two sorts Redis uses (libc's stable qsort, and pqsort
// for BY + LIMIT, whose order of equal weights is part of the observable reply).

/// A BY or GET argument split like Redis's lookupKeyByPattern. Redis reads the pattern as a C
/// string for `#`, `*` and `->` (a NUL byte ends the search) but copies its full length into
/// the key name and field.
public struct SortPattern: Sendable {
    public let bytes: [UInt8]
    /// `#`: the element itself.
    public let isElement: Bool
    /// Offset of the `*` replaced by the element (the first one before any NUL byte).
    public let star: Int?
    /// Offset of the `->` after the star that starts a non-empty hash field name.
    public let arrow: Int?

    public init(_ raw: UnsafeRawBufferPointer) {
        let bytes = Array(raw)
        self.bytes = bytes
        let cEnd = bytes.firstIndex(of: 0) ?? bytes.count
        isElement = cEnd == 1 && bytes[0] == UInt8(ascii: "#")
        let star = bytes[0 ..< cEnd].firstIndex(of: UInt8(ascii: "*"))
        self.star = star
        var arrow: Int? = nil
        if let star {
            var i = star + 1
            while i + 1 < cEnd {
                if bytes[i] == UInt8(ascii: "-") && bytes[i + 1] == UInt8(ascii: ">") {
                    // Redis stops at the first "->"; an empty field name after it means no field.
                    if i + 2 < cEnd { arrow = i }
                    break
                }
                i += 1
            }
        }
        self.arrow = arrow
    }

    /// Whether the pattern names other keys (a `BY`/`GET` without `*` looks nothing up).
    public var looksUpKeys: Bool { !isElement && star != nil }

    /// Whether a BY argument sorts at all: Redis skips sorting for a BY without `*` ("nosort").
    public static func sorts(by raw: UnsafeRawBufferPointer) -> Bool {
        for byte in raw {
            if byte == 0 { return false }
            if byte == UInt8(ascii: "*") { return true }
        }
        return false
    }

    /// Writes the key name for `element` into `key` (the `*` replaced, the `->field` part
    /// dropped). Only for a pattern that `looksUpKeys`.
    public func keyName(for element: UnsafeRawBufferPointer, into key: inout [UInt8]) {
        let star = star!
        key.removeAll(keepingCapacity: true)
        key.append(contentsOf: bytes[0 ..< star])
        key.append(contentsOf: element)
        key.append(contentsOf: bytes[(star + 1) ..< (arrow ?? bytes.count)])
    }

    /// The hash field after `->`, if any.
    public var field: ArraySlice<UInt8>? {
        guard let arrow else { return nil }
        return bytes[(arrow + 2)...]
    }
}

/// How SORT compares two elements (sortCompare).
public enum SortComparison: Sendable {
    /// By the weight, equal weights by the element's bytes.
    case numeric
    /// ALPHA without BY: the elements' bytes, with strcoll (C locale: strcmp, which ends at a
    /// NUL byte) unless storing, where Redis compares the full bytes.
    case alpha(binary: Bool)
    /// ALPHA with BY: the looked-up values, a missing one first.
    case alphaBy(binary: Bool)
}

/// One element of the sort vector: where its bytes and its weight live.
public struct SortItem: Sendable {
    @usableFromInline var elementStart: Int
    @usableFromInline var elementLength: Int
    @usableFromInline var score: Double = 0
    /// Offset of the BY value (ALPHA BY), -1 when the weight key or field is missing.
    @usableFromInline var byStart: Int = -1
    @usableFromInline var byLength: Int = 0
}

/// SORT's vector: the elements copied out of the source (so the sort may read other keys and
/// STORE may overwrite the source), with their weights.
public struct SortVector: Sendable {
    public private(set) var items: [SortItem] = []
    @usableFromInline var elements: [UInt8] = []
    @usableFromInline var byValues: [UInt8] = []

    public init(capacity: Int = 0) { items.reserveCapacity(capacity) }

    public var count: Int { items.count }

    public mutating func append(_ element: UnsafeRawBufferPointer) {
        items.append(SortItem(elementStart: elements.count, elementLength: element.count))
        elements.append(contentsOf: element)
    }

    /// Calls `body` with the bytes of element `i`.
    @inlinable
    public func withElement<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let item = items[i]
        return try elements.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[item.elementStart ..< (item.elementStart + item.elementLength)]))
        }
    }

    /// The bytes of every element (element `i` is `elementBytes[elementRange(i)]`), for reading
    /// elements while weights are being set.
    public var elementBytes: [UInt8] { elements }

    public func elementRange(_ i: Int) -> Range<Int> {
        items[i].elementStart ..< (items[i].elementStart + items[i].elementLength)
    }

    /// Sets element `i`'s numeric weight from `text`; returns false when Redis's strtod check
    /// fails (the whole SORT then replies an error).
    public mutating func setScore(_ i: Int, parsing text: UnsafeRawBufferPointer) -> Bool {
        let (score, ok) = SortVector.parseWeight(text)
        items[i].score = score
        return ok
    }

    /// Sets element `i`'s ALPHA BY value.
    public mutating func setByValue(_ i: Int, _ value: UnsafeRawBufferPointer) {
        items[i].byStart = byValues.count
        items[i].byLength = value.count
        byValues.append(contentsOf: value)
    }

    /// Redis's weight parse: strtod over the C string (so it stops at a NUL byte), failing on
    /// trailing text, ERANGE (overflow and underflow) and NaN. Leading spaces, hex, "inf" and
    /// an empty string (0) pass.
    public static func parseWeight(_ text: UnsafeRawBufferPointer) -> (Double, Bool) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { buffer in
            let base = buffer.baseAddress!
            if !text.isEmpty { UnsafeMutableRawPointer(base).copyMemory(from: text.baseAddress!, byteCount: text.count) }
            base[text.count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = strtod(base, &end)
            let ok = end!.pointee == 0 && errno != ERANGE && !value.isNaN
            return (value, ok)
        }
    }

    /// Sorts the whole vector (stable, like glibc's merge-sort qsort), or with `partial` the
    /// way Redis's pqsort does for BY + LIMIT: only the ranks in `partial` are guaranteed, and
    /// equal weights land where the quicksort puts them.
    public mutating func sort(_ comparison: SortComparison, descending: Bool, partial: (Int, Int)? = nil) {
        let elements = self.elements
        let byValues = self.byValues
        elements.withUnsafeBytes { el in
            byValues.withUnsafeBytes { by in
                func bytes(_ buffer: UnsafeRawBufferPointer, _ start: Int, _ length: Int) -> UnsafeRawBufferPointer {
                    UnsafeRawBufferPointer(rebasing: buffer[start ..< (start + length)])
                }
                let compare: (SortItem, SortItem) -> Int
                switch comparison {
                case .numeric:
                    compare = { a, b in
                        if a.score > b.score { return 1 }
                        if a.score < b.score { return -1 }
                        return SortVector.binaryCompare(bytes(el, a.elementStart, a.elementLength),
                                                        bytes(el, b.elementStart, b.elementLength))
                    }
                case .alpha(let binary):
                    compare = { a, b in
                        let x = bytes(el, a.elementStart, a.elementLength)
                        let y = bytes(el, b.elementStart, b.elementLength)
                        return binary ? SortVector.binaryCompare(x, y) : SortVector.cStringCompare(x, y)
                    }
                case .alphaBy(let binary):
                    compare = { a, b in
                        if a.byStart < 0 || b.byStart < 0 {
                            if a.byStart < 0 && b.byStart < 0 { return 0 }
                            return a.byStart < 0 ? -1 : 1
                        }
                        let x = bytes(by, a.byStart, a.byLength)
                        let y = bytes(by, b.byStart, b.byLength)
                        return binary ? SortVector.binaryCompare(x, y) : SortVector.cStringCompare(x, y)
                    }
                }
                let ordered: (SortItem, SortItem) -> Int = descending ? { -compare($0, $1) } : compare
                if let (low, high) = partial {
                    SortVector.partialQuickSort(&items, low: low, high: high, ordered)
                } else {
                    SortVector.mergeSort(&items, ordered)
                }
            }
        }
    }

    /// memcmp, then the shorter first (compareStringObjects).
    @inlinable
    static func binaryCompare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = Swift.min(a.count, b.count)
        if n > 0 {
            let r = memcmp(a.baseAddress!, b.baseAddress!, n)
            if r != 0 { return r < 0 ? -1 : 1 }
        }
        return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
    }

    /// strcmp: unsigned bytes up to the first NUL (the end of the bytes counts as one).
    @inlinable
    static func cStringCompare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        var i = 0
        while true {
            let x: UInt8 = i < a.count ? a[i] : 0
            let y: UInt8 = i < b.count ? b[i] : 0
            if x != y { return x < y ? -1 : 1 }
            if x == 0 { return 0 }
            i += 1
        }
    }

    /// A stable merge sort: equal elements keep their input order, as with glibc's qsort.
    public static func mergeSort<T>(_ a: inout [T], _ compare: (T, T) -> Int) {
        let n = a.count
        guard n > 1 else { return }
        var source = a
        var target = a
        var width = 1
        while width < n {
            var low = 0
            while low < n {
                let mid = Swift.min(low + width, n)
                let high = Swift.min(low + 2 * width, n)
                var i = low, j = mid, k = low
                while i < mid && j < high {
                    if compare(source[i], source[j]) <= 0 {
                        target[k] = source[i]; i += 1
                    } else {
                        target[k] = source[j]; j += 1
                    }
                    k += 1
                }
                while i < mid { target[k] = source[i]; i += 1; k += 1 }
                while j < high { target[k] = source[j]; j += 1; k += 1 }
                low = high
            }
            swap(&source, &target)
            width *= 2
        }
        a = source
    }

    /// Redis's pqsort (Bentley & McIlroy's quicksort that skips partitions outside ranks
    /// `low...high`), step for step so equal elements end in the same places.
    public static func partialQuickSort<T>(_ a: inout [T], low: Int, high: Int, _ compare: (T, T) -> Int) {
        func med3(_ x: Int, _ y: Int, _ z: Int) -> Int {
            compare(a[x], a[y]) < 0
                ? (compare(a[y], a[z]) < 0 ? y : (compare(a[x], a[z]) < 0 ? z : x))
                : (compare(a[y], a[z]) > 0 ? y : (compare(a[x], a[z]) < 0 ? x : z))
        }
        func vecswap(_ x: Int, _ y: Int, _ n: Int) {
            for k in 0 ..< Swift.max(n, 0) { a.swapAt(x + k, y + k) }
        }
        // Whether ranks `low...high` reach into [first, first + n).
        func overlaps(_ first: Int, _ n: Int) -> Bool {
            let last = first + n - 1
            return !((low < first && high < first) || (low > last && high > last))
        }
        func run(_ start: Int, _ count: Int) {
            var base = start
            var n = count
            while true {
                if n < 7 {
                    var m = base + 1
                    while m < base + n {
                        var l = m
                        while l > base && compare(a[l - 1], a[l]) > 0 {
                            a.swapAt(l, l - 1)
                            l -= 1
                        }
                        m += 1
                    }
                    return
                }
                var pm = base + n / 2
                if n > 7 {
                    var pl = base
                    var pn = base + n - 1
                    if n > 40 {
                        let d = n / 8
                        pl = med3(pl, pl + d, pl + 2 * d)
                        pm = med3(pm - d, pm, pm + d)
                        pn = med3(pn - 2 * d, pn - d, pn)
                    }
                    pm = med3(pl, pm, pn)
                }
                a.swapAt(base, pm)
                var pa = base + 1, pb = base + 1
                var pc = base + n - 1, pd = base + n - 1
                while true {
                    while pb <= pc {
                        let r = compare(a[pb], a[base])
                        if r > 0 { break }
                        if r == 0 { a.swapAt(pa, pb); pa += 1 }
                        pb += 1
                    }
                    while pb <= pc {
                        let r = compare(a[pc], a[base])
                        if r < 0 { break }
                        if r == 0 { a.swapAt(pc, pd); pd -= 1 }
                        pc -= 1
                    }
                    if pb > pc { break }
                    a.swapAt(pb, pc)
                    pb += 1
                    pc -= 1
                }
                let pn = base + n
                var r = Swift.min(pa - base, pb - pa)
                vecswap(base, pb - r, r)
                r = Swift.min(pd - pc, pn - pd - 1)
                vecswap(pb, pn - r, r)
                r = pb - pa
                if r > 1 && overlaps(base, r) { run(base, r) }
                r = pd - pc
                guard r > 1 else { return }
                base = pn - r
                n = r
                guard overlaps(base, n) else { return }
            }
        }
        run(0, a.count)
    }
}
