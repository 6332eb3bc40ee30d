import ApusRESP

/// The order of a big sorted set: a counted B+tree over member entries ordered by (score,
/// member bytes), giving O(log N) insert, delete, rank, element-by-rank and range searches.
/// It plays the role of Redis's zskiplist; the member → score dictionary is the sorted set's
/// `KeyTable`, and both hold the same `Entry` blocks (member = entry key, score = 8-byte value),
/// so a member is stored once.
///
/// Nodes are malloc'd blocks addressed by raw pointers (no class references, no retain/release):
/// - leaf: `[entry × 80, 6 bytes each][count][prev][next]`, chained both ways for range walks;
/// - inner: `[count][child × F][subtree size × F][separator score × F][separator entry × F]`,
///   where separator `i ≥ 1` is the smallest element of child `i` (slot 0 is unused). Scores
///   are cached beside the separators so score searches read no entry above the leaves.
///
/// A leaf holds only entry pointers (6 bytes per member): the score of a leaf element is read
/// from its entry. A full leaf first hands elements to a neighbour with room; otherwise it
/// splits in half, except at either end of the whole order (appending timestamps,
/// prepending), where the full leaf is kept full. Nodes below a quarter full are merged with
/// or refilled from a sibling.
public struct ScoreIndex: ~Copyable {
    @usableFromInline var root: UnsafeMutableRawPointer?
    /// Levels of inner nodes above the leaves (0: the root is a leaf).
    @usableFromInline var height: Int
    @usableFromInline var firstLeaf: UnsafeMutableRawPointer?
    @usableFromInline var lastLeaf: UnsafeMutableRawPointer?
    /// Number of elements.
    public private(set) var count: Int
    /// Heap bytes of the nodes, counted as they are allocated and freed.
    public private(set) var allocatedBytes: Int

    public init() {
        root = nil
        height = 0
        firstLeaf = nil
        lastLeaf = nil
        count = 0
        allocatedBytes = 0
    }

    deinit { freeNodes() }

    /// Frees every node (not the entries, which the dictionary owns) and empties the index.
    public mutating func removeAll() {
        freeNodes()
        root = nil
        height = 0
        firstLeaf = nil
        lastLeaf = nil
        count = 0
        allocatedBytes = 0
    }

    func freeNodes() {
        guard let root else { return }
        ScoreIndex.free(root, level: height)
    }

    static func free(_ node: UnsafeMutableRawPointer, level: Int) {
        if level > 0 {
            let inner = InnerNode(node)
            for i in 0..<inner.count { free(inner.child(i), level: level &- 1) }
        }
        node.deallocate()
    }

    /// `allocatedBytes` recomputed by walking every node (tests).
    public func recomputeAllocatedBytes() -> Int {
        guard let root else { return 0 }
        return ScoreIndex.bytes(root, level: height)
    }

    static func bytes(_ node: UnsafeMutableRawPointer, level: Int) -> Int {
        guard level > 0 else { return LeafNode.heapBytes }
        let inner = InnerNode(node)
        var total = InnerNode.heapBytes
        for i in 0..<inner.count { total &+= bytes(inner.child(i), level: level &- 1) }
        return total
    }

    /// A new leaf, counted.
    mutating func newLeaf() -> LeafNode {
        allocatedBytes &+= LeafNode.heapBytes
        return LeafNode.allocate()
    }

    /// A new inner node, counted.
    mutating func newInner() -> InnerNode {
        allocatedBytes &+= InnerNode.heapBytes
        return InnerNode.allocate()
    }

    /// Frees a node of `level` (0: a leaf), uncounted.
    mutating func freeNode(_ node: UnsafeMutableRawPointer, level: Int) {
        allocatedBytes &-= level == 0 ? LeafNode.heapBytes : InnerNode.heapBytes
        node.deallocate()
    }

    // MARK: Searches

    /// The number of leading elements for which `predicate` holds; it must hold for a prefix of
    /// the order and fail for the rest (a partition point, like C++'s `partition_point`).
    @inlinable
    public func partitionPoint<P: ScoreIndexPredicate>(_ predicate: P) -> Int {
        guard var node = root else { return 0 }
        var rank = 0
        var level = height
        while level > 0 {
            let inner = InnerNode(node)
            let i = inner.childIndex(predicate)
            rank &+= inner.sizeSum(below: i)
            node = inner.child(i)
            level &-= 1
        }
        return rank &+ LeafNode(node).partitionPoint(predicate)
    }

    /// The element of rank `rank` (0-based; must be below `count`).
    @inlinable
    public func entry(atRank rank: Int) -> Entry {
        let (leaf, index) = position(ofRank: rank)
        return LeafNode(leaf).entry(index)
    }

    /// The rank of `entry`, which must be in the index.
    @inlinable
    public func rank(of entry: Entry) -> Int {
        partitionPoint(KeyBefore(score: entry.memberScore, member: entry.key))
    }

    /// Leaf and slot of the element of rank `rank` (below `count`).
    @inlinable
    func position(ofRank rank: Int) -> (UnsafeMutableRawPointer, Int) {
        precondition(rank >= 0 && rank < count, "ScoreIndex: rank out of range")
        // The ends are common (ZPOPMIN/MAX, ZRANGE 0 n, ZREVRANGE): no descent needed.
        if rank == 0 { return (firstLeaf!, 0) }
        if rank == count &- 1 { return (lastLeaf!, LeafNode(lastLeaf!).count &- 1) }
        var node = root!
        var r = rank
        var level = height
        while level > 0 {
            let inner = InnerNode(node)
            var i = 0
            while r >= inner.size(i) {
                r &-= inner.size(i)
                i &+= 1
            }
            node = inner.child(i)
            level &-= 1
        }
        return (node, r)
    }

    /// Calls `body` with the elements from rank `start` on, in order (or towards rank 0 when
    /// `reverse`), until it returns false or the order ends. The index must not change meanwhile.
    @inlinable
    public func forEach(fromRank start: Int, reverse: Bool, _ body: (Entry) -> Bool) {
        guard start >= 0 && start < count else { return }
        var (node, index) = position(ofRank: start)
        while true {
            let leaf = LeafNode(node)
            if reverse {
                while index >= 0 {
                    if !body(leaf.entry(index)) { return }
                    index &-= 1
                }
                guard let prev = leaf.prev else { return }
                node = prev
                index = LeafNode(prev).count &- 1
            } else {
                let n = leaf.count
                while index < n {
                    if !body(leaf.entry(index)) { return }
                    index &+= 1
                }
                guard let next = leaf.next else { return }
                node = next
                index = 0
            }
        }
    }

    /// The smallest element.
    @inlinable
    public var first: Entry? { firstLeaf.flatMap { LeafNode($0).count > 0 ? LeafNode($0).entry(0) : nil } }

    /// The largest element.
    @inlinable
    public var last: Entry? {
        lastLeaf.flatMap { LeafNode($0).count > 0 ? LeafNode($0).entry(LeafNode($0).count &- 1) : nil }
    }

    // MARK: Insertion

    /// Adds `entry` at its place by (score, member); no element with its member may be present.
    public mutating func insert(_ entry: Entry) {
        count &+= 1
        guard let root else {
            let leaf = newLeaf()
            leaf.count = 1
            leaf.setEntry(0, entry)
            self.root = leaf.base
            firstLeaf = leaf.base
            lastLeaf = leaf.base
            return
        }
        let key = KeyBefore(score: entry.memberScore, member: entry.key)
        if let split = insert(entry, key: key, into: root, level: height, leftmost: true, rightmost: true) {
            let newRoot = newInner()
            newRoot.count = 2
            newRoot.setChild(0, root, size: split.leftSize)
            newRoot.setChild(1, split.right, size: split.rightSize)
            newRoot.setSeparator(1, split.separator)
            self.root = newRoot.base
            height &+= 1
        }
    }

    /// A node split in two: the new right node, its smallest element, and both subtree sizes.
    @usableFromInline
    struct Split {
        var right: UnsafeMutableRawPointer
        var separator: Entry
        var leftSize: Int
        var rightSize: Int
    }

    mutating func insert(_ entry: Entry, key: KeyBefore, into node: UnsafeMutableRawPointer, level: Int,
                         leftmost: Bool, rightmost: Bool) -> Split? {
        if level == 0 { return insertInLeaf(entry, key: key, LeafNode(node), leftmost: leftmost, rightmost: rightmost) }
        let inner = InnerNode(node)
        var i = inner.childIndex(key)
        if level == 1 { i = makeRoom(in: inner, child: i, for: key) }
        inner.setSize(i, inner.size(i) &+ 1)
        guard let split = insert(entry, key: key, into: inner.child(i), level: level &- 1,
                                 leftmost: leftmost && i == 0, rightmost: rightmost && i == inner.count &- 1)
        else { return nil }
        inner.setSize(i, split.leftSize)
        let n = inner.count
        if n < InnerNode.capacity {
            inner.insertChild(at: i &+ 1, split.right, size: split.rightSize, separator: split.separator)
            return nil
        }
        // Full: split this node. Growing at either end of the order, the new node takes only
        // the two end children, so the rest stays full (a node never has fewer than two).
        let right = newInner()
        let keep: Int
        if rightmost && i == n &- 1 {
            keep = n &- 1
        } else if leftmost && i == 0 {
            keep = 1
        } else {
            keep = n / 2
        }
        let separator = inner.separator(keep)
        inner.move(from: keep, count: n &- keep, to: right, at: 0)
        inner.count = keep
        right.count = n &- keep
        if i &+ 1 <= keep {
            inner.insertChild(at: i &+ 1, split.right, size: split.rightSize, separator: split.separator)
        } else {
            right.insertChild(at: i &+ 1 &- keep, split.right, size: split.rightSize, separator: split.separator)
        }
        return Split(right: right.base, separator: separator, leftSize: inner.totalSize, rightSize: right.totalSize)
    }

    /// Before an insert into leaf child `i` of `inner`: if that leaf is full and a neighbouring
    /// leaf has room, moves elements over (deferred splitting, as in B*-trees: leaves stay
    /// about 80% full under random inserts instead of 69%). Returns the child the key now goes to.
    func makeRoom(in inner: InnerNode, child i: Int, for key: KeyBefore) -> Int {
        let leaf = LeafNode(inner.child(i))
        let capacity = LeafNode.capacity
        guard leaf.count == capacity else { return i }
        if i > 0 {
            let left = LeafNode(inner.child(i &- 1))
            let room = capacity &- left.count
            if room >= 2 {
                let k = room / 2
                leaf.move(from: 0, count: k, to: left, at: left.count)
                left.count &+= k
                leaf.shiftDown(from: k)
                leaf.count &-= k
                inner.setSize(i &- 1, left.count)
                inner.setSize(i, leaf.count)
                inner.setSeparator(i, leaf.entry(0))
                return key.isBefore(score: inner.separatorScore(i), entry: inner.separator(i)) ? i : i &- 1
            }
        }
        if i &+ 1 < inner.count {
            let right = LeafNode(inner.child(i &+ 1))
            let room = capacity &- right.count
            if room >= 2 {
                let k = room / 2
                right.shiftUp(by: k)
                leaf.move(from: capacity &- k, count: k, to: right, at: 0)
                right.count &+= k
                leaf.count &-= k
                inner.setSize(i, leaf.count)
                inner.setSize(i &+ 1, right.count)
                inner.setSeparator(i &+ 1, right.entry(0))
                return key.isBefore(score: inner.separatorScore(i &+ 1), entry: inner.separator(i &+ 1)) ? i &+ 1 : i
            }
        }
        return i
    }

    mutating func insertInLeaf(_ entry: Entry, key: KeyBefore, _ leaf: LeafNode, leftmost: Bool, rightmost: Bool) -> Split? {
        let p = leaf.partitionPoint(key)
        let n = leaf.count
        if n < LeafNode.capacity {
            leaf.insert(entry, at: p)
            return nil
        }
        let right = newLeaf()
        // Link `right` after `leaf`.
        right.prev = leaf.base
        right.next = leaf.next
        if let next = leaf.next { LeafNode(next).prev = right.base } else { lastLeaf = right.base }
        leaf.next = right.base
        if rightmost && p == n {
            // Appending past the largest element: start a new leaf, keep this one full.
            right.count = 1
            right.setEntry(0, entry)
        } else if leftmost && p == 0 {
            // A new smallest element: it stays here alone, the full leaf moves right.
            leaf.move(from: 0, count: n, to: right, at: 0)
            right.count = n
            leaf.count = 1
            leaf.setEntry(0, entry)
        } else {
            let keep = n / 2
            leaf.move(from: keep, count: n &- keep, to: right, at: 0)
            leaf.count = keep
            right.count = n &- keep
            if p <= keep { leaf.insert(entry, at: p) } else { right.insert(entry, at: p &- keep) }
        }
        return Split(right: right.base, separator: right.entry(0), leftSize: leaf.count, rightSize: right.count)
    }

    // MARK: Removal

    /// Removes `entry` (located by its current score and member); returns whether it was there.
    @discardableResult
    public mutating func remove(_ entry: Entry) -> Bool {
        guard root != nil else { return false }
        let removed = remove(.key(KeyAtOrBefore(score: entry.memberScore, member: entry.key)), expected: entry)
        return removed != nil
    }

    /// Removes and returns the element of rank `rank` (below `count`).
    @discardableResult
    public mutating func remove(atRank rank: Int) -> Entry {
        precondition(rank >= 0 && rank < count, "ScoreIndex: rank out of range")
        return remove(.rank(rank), expected: nil)!
    }

    @usableFromInline
    enum Locator {
        case rank(Int)
        case key(KeyAtOrBefore)
    }

    mutating func remove(_ locator: Locator, expected: Entry?) -> Entry? {
        guard let root else { return nil }
        guard let removed = remove(locator, expected: expected, from: root, level: height) else { return nil }
        count &-= 1
        // Shrink from the top: an inner root with one child, an empty leaf root.
        while height > 0, InnerNode(self.root!).count == 1 {
            let old = self.root!
            self.root = InnerNode(old).child(0)
            freeNode(old, level: height)
            height &-= 1
        }
        if height == 0, LeafNode(self.root!).count == 0 {
            freeNode(self.root!, level: 0)
            self.root = nil
            firstLeaf = nil
            lastLeaf = nil
        }
        return removed
    }

    mutating func remove(_ locator: Locator, expected: Entry?, from node: UnsafeMutableRawPointer, level: Int) -> Entry? {
        if level == 0 {
            let leaf = LeafNode(node)
            let index: Int
            switch locator {
            case .rank(let r):
                index = r
            case .key(let key):
                // The first element not strictly before the key is the one sought, if present.
                index = leaf.partitionPoint(KeyBefore(score: key.score, member: key.member))
                guard index < leaf.count, leaf.entry(index).pointer == expected?.pointer else { return nil }
            }
            let removed = leaf.entry(index)
            leaf.remove(at: index)
            return removed
        }
        let inner = InnerNode(node)
        var i: Int
        var childLocator = locator
        switch locator {
        case .rank(var r):
            i = 0
            while r >= inner.size(i) {
                r &-= inner.size(i)
                i &+= 1
            }
            childLocator = .rank(r)
        case .key(let key):
            i = inner.childIndex(key)
        }
        guard let removed = remove(childLocator, expected: expected, from: inner.child(i), level: level &- 1) else {
            return nil
        }
        inner.setSize(i, inner.size(i) &- 1)
        // The removed element may have been the separator naming child i's smallest element.
        if i > 0, inner.separator(i).pointer == removed.pointer, let smallest = ScoreIndex.smallest(inner.child(i), level: level &- 1) {
            inner.setSeparator(i, smallest)
        }
        rebalance(inner, child: i, childLevel: level &- 1)
        return removed
    }

    /// The smallest element under `node`, nil for an empty leaf.
    static func smallest(_ node: UnsafeMutableRawPointer, level: Int) -> Entry? {
        var node = node
        var level = level
        while level > 0 {
            node = InnerNode(node).child(0)
            level &-= 1
        }
        let leaf = LeafNode(node)
        return leaf.count > 0 ? leaf.entry(0) : nil
    }

    /// Merges child `i` of `parent` with a sibling, or refills it from one, when it is below a
    /// quarter full.
    mutating func rebalance(_ parent: InnerNode, child i: Int, childLevel: Int) {
        guard parent.count > 1 else { return }
        let isLeaf = childLevel == 0
        let capacity = isLeaf ? LeafNode.capacity : InnerNode.capacity
        let n = isLeaf ? LeafNode(parent.child(i)).count : InnerNode(parent.child(i)).count
        guard n < capacity / 4 else { return }
        let a = i &+ 1 < parent.count ? i : i &- 1
        let b = a &+ 1
        if isLeaf {
            let left = LeafNode(parent.child(a)), right = LeafNode(parent.child(b))
            let total = left.count &+ right.count
            if total <= capacity {
                let leftWasEmpty = left.count == 0
                right.move(from: 0, count: right.count, to: left, at: left.count)
                left.count = total
                left.next = right.next
                if let next = right.next { LeafNode(next).prev = left.base } else { lastLeaf = left.base }
                if leftWasEmpty && a > 0 { parent.setSeparator(a, parent.separator(b)) }
                parent.setSize(a, total)
                parent.removeChild(at: b)
                freeNode(right.base, level: childLevel)
            } else {
                let target = total / 2
                if left.count < target {
                    let k = target &- left.count
                    right.move(from: 0, count: k, to: left, at: left.count)
                    left.count = target
                    right.shiftDown(from: k)
                } else {
                    let k = left.count &- target
                    right.shiftUp(by: k)
                    left.move(from: target, count: k, to: right, at: 0)
                    left.count = target
                }
                right.count = total &- target
                parent.setSeparator(b, right.entry(0))
                parent.setSize(a, left.count)
                parent.setSize(b, right.count)
                if a > 0 && left.count > 0 { parent.setSeparator(a, left.entry(0)) }
            }
        } else {
            let left = InnerNode(parent.child(a)), right = InnerNode(parent.child(b))
            let total = left.count &+ right.count
            if total <= capacity {
                let at = left.count
                right.move(from: 0, count: right.count, to: left, at: at)
                left.setSeparator(at, parent.separator(b))
                left.count = total
                parent.setSize(a, left.totalSize)
                parent.removeChild(at: b)
                freeNode(right.base, level: childLevel)
            } else {
                let target = total / 2
                if left.count < target {
                    // Right's first children move to the end of left; right's new first child
                    // names right's new smallest element.
                    let k = target &- left.count
                    let at = left.count
                    let newSeparator = right.separator(k)
                    right.move(from: 0, count: k, to: left, at: at)
                    left.setSeparator(at, parent.separator(b))
                    left.count = target
                    right.shiftDown(from: k)
                    parent.setSeparator(b, newSeparator)
                } else {
                    // Left's last children move to the front of right.
                    let k = left.count &- target
                    let oldRightSeparator = parent.separator(b)
                    let newSeparator = left.separator(target)
                    right.shiftUp(by: k)
                    left.move(from: target, count: k, to: right, at: 0)
                    right.setSeparator(k, oldRightSeparator)
                    left.count = target
                    parent.setSeparator(b, newSeparator)
                }
                right.count = total &- target
                parent.setSize(a, left.totalSize)
                parent.setSize(b, right.totalSize)
            }
        }
    }

    // MARK: Checking (tests)

    /// Verifies every structural invariant; returns a description of the first violation.
    public func validate() -> String? {
        guard let root else { return count == 0 && firstLeaf == nil && lastLeaf == nil ? nil : "empty index with state" }
        var leaves: [UnsafeMutableRawPointer] = []
        var previous: Entry? = nil
        var seen = 0
        func check(_ node: UnsafeMutableRawPointer, level: Int, isRoot: Bool) -> (size: Int, smallest: Entry?)? {
            if level == 0 {
                let leaf = LeafNode(node)
                if !isRoot && leaf.count == 0 { return nil }
                leaves.append(node)
                for j in 0..<leaf.count {
                    let e = leaf.entry(j)
                    if let p = previous, !KeyBefore(score: e.memberScore, member: e.key).isBefore(score: p.memberScore, entry: p) {
                        return nil
                    }
                    previous = e
                    seen &+= 1
                }
                return (leaf.count, leaf.count > 0 ? leaf.entry(0) : nil)
            }
            let inner = InnerNode(node)
            if inner.count < 2 { return nil }
            var total = 0
            var smallest: Entry? = nil
            for j in 0..<inner.count {
                guard let (size, first) = check(inner.child(j), level: level &- 1, isRoot: false) else { return nil }
                if size != inner.size(j) { return nil }
                if j == 0 { smallest = first }
                if j > 0 {
                    guard let first, first.pointer == inner.separator(j).pointer,
                          inner.separatorScore(j) == first.memberScore else { return nil }
                }
                total &+= size
            }
            return (total, smallest)
        }
        guard let (size, _) = check(root, level: height, isRoot: true) else { return "node invariant violated" }
        if size != count || seen != count { return "count \(count) but \(size) sized, \(seen) seen" }
        if firstLeaf != leaves.first || lastLeaf != leaves.last { return "end leaves wrong" }
        for (j, leaf) in leaves.enumerated() {
            if LeafNode(leaf).prev != (j > 0 ? leaves[j - 1] : nil) { return "prev link wrong at leaf \(j)" }
            if LeafNode(leaf).next != (j + 1 < leaves.count ? leaves[j + 1] : nil) { return "next link wrong at leaf \(j)" }
        }
        return nil
    }
}

// MARK: Predicates

/// A test that holds for a prefix of the (score, member) order and fails for the rest, for
/// `ScoreIndex.partitionPoint`. Inner nodes pass their cached separator score, so a predicate
/// on scores alone never reads an entry above the leaves.
public protocol ScoreIndexPredicate {
    func isBefore(score: Double, entry: Entry) -> Bool
}

/// Elements ordered before (score, member).
@usableFromInline
struct KeyBefore: ScoreIndexPredicate {
    @usableFromInline let score: Double
    @usableFromInline let member: UnsafeRawBufferPointer

    @inlinable
    init(score: Double, member: UnsafeRawBufferPointer) {
        self.score = score
        self.member = member
    }

    @inlinable
    func isBefore(score s: Double, entry: Entry) -> Bool {
        s < score || (s == score && compareBytes(entry.key, member) < 0)
    }
}

/// Elements ordered at or before (score, member).
@usableFromInline
struct KeyAtOrBefore: ScoreIndexPredicate {
    @usableFromInline let score: Double
    @usableFromInline let member: UnsafeRawBufferPointer

    @inlinable
    init(score: Double, member: UnsafeRawBufferPointer) {
        self.score = score
        self.member = member
    }

    @inlinable
    func isBefore(score s: Double, entry: Entry) -> Bool {
        s < score || (s == score && compareBytes(entry.key, member) <= 0)
    }
}

// MARK: Entries as members

extension Entry {
    /// The score of a sorted-set member entry: the 8-byte value after the member (member
    /// entries never have a TTL, so the key starts right after the header).
    @inlinable
    public var memberScore: Double {
        get { pointer.loadUnaligned(fromByteOffset: Entry.headerSize &+ keyLength, as: Double.self) }
        nonmutating set { pointer.storeBytes(of: newValue, toByteOffset: Entry.headerSize &+ keyLength, as: Double.self) }
    }

    /// A member entry for a sorted set's dictionary.
    @inlinable
    public static func allocateMember(_ member: UnsafeRawBufferPointer, score: Double) -> Entry {
        let entry = Entry.allocate(key: member, valueLength: 8, type: .string, encoding: 0, expireAt: nil)
        entry.memberScore = score
        return entry
    }
}

// MARK: Nodes

@usableFromInline
typealias RawSlot = UInt

/// A leaf: `[entry pointer × capacity, 6 bytes each][count: Int][prev][next]`.
///
/// Entry pointers are stored in 6 bytes: user-space addresses on x86-64 and arm64 Linux are
/// below 2^48 (KeyTable's slots rely on the same bound). A slot is read as 8 unaligned bytes
/// and masked; the header after the slots makes that read safe for the last slot too.
/// 80 slots + header = 504 bytes, one 512-byte malloc chunk.
@usableFromInline
struct LeafNode {
    @usableFromInline let base: UnsafeMutableRawPointer

    @inlinable init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @usableFromInline static let capacity = 80
    @usableFromInline static let slotSize = 6
    @usableFromInline static let headerOffset = capacity * slotSize
    @usableFromInline static let byteSize = headerOffset + 24
    /// The malloc block of a leaf.
    @inlinable static var heapBytes: Int { heapBlockBytes(byteSize) }
    @usableFromInline static let pointerMask: UInt64 = (1 << 48) - 1

    static func allocate() -> LeafNode {
        let p = UnsafeMutableRawPointer.allocate(byteCount: byteSize, alignment: 8)
        (p + headerOffset).initializeMemory(as: UInt8.self, repeating: 0, count: 24)
        return LeafNode(p)
    }

    @inlinable
    var count: Int {
        get { base.load(fromByteOffset: LeafNode.headerOffset, as: Int.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: LeafNode.headerOffset, as: Int.self) }
    }

    @inlinable
    var prev: UnsafeMutableRawPointer? {
        get { base.load(fromByteOffset: LeafNode.headerOffset &+ 8, as: UnsafeMutableRawPointer?.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: LeafNode.headerOffset &+ 8, as: UnsafeMutableRawPointer?.self) }
    }

    @inlinable
    var next: UnsafeMutableRawPointer? {
        get { base.load(fromByteOffset: LeafNode.headerOffset &+ 16, as: UnsafeMutableRawPointer?.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: LeafNode.headerOffset &+ 16, as: UnsafeMutableRawPointer?.self) }
    }

    @inlinable
    func entry(_ i: Int) -> Entry {
        let bits = base.loadUnaligned(fromByteOffset: i &* LeafNode.slotSize, as: UInt64.self) & LeafNode.pointerMask
        return Entry(UnsafeMutableRawPointer(bitPattern: UInt(bits)).unsafelyUnwrapped)
    }

    @inlinable
    func setEntry(_ i: Int, _ entry: Entry) {
        let bits = UInt64(UInt(bitPattern: entry.pointer))
        precondition(bits & ~LeafNode.pointerMask == 0, "ScoreIndex: pointer above 2^48")
        let offset = i &* LeafNode.slotSize
        base.storeBytes(of: UInt32(truncatingIfNeeded: bits), toByteOffset: offset, as: UInt32.self)
        base.storeBytes(of: UInt16(truncatingIfNeeded: bits &>> 32), toByteOffset: offset &+ 4, as: UInt16.self)
    }

    /// First slot whose element fails `predicate` (binary search).
    @inlinable
    func partitionPoint<P: ScoreIndexPredicate>(_ predicate: P) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low &+ high) &>> 1
            let e = entry(mid)
            if predicate.isBefore(score: e.memberScore, entry: e) { low = mid &+ 1 } else { high = mid }
        }
        return low
    }

    @inlinable
    func slot(_ i: Int) -> UnsafeMutableRawPointer { base + i &* LeafNode.slotSize }

    func insert(_ entry: Entry, at i: Int) {
        let n = count
        if i < n { slot(i &+ 1).copyMemory(from: slot(i), byteCount: (n &- i) &* LeafNode.slotSize) }
        setEntry(i, entry)
        count = n &+ 1
    }

    func remove(at i: Int) {
        let n = count
        if i &+ 1 < n { slot(i).copyMemory(from: slot(i &+ 1), byteCount: (n &- i &- 1) &* LeafNode.slotSize) }
        count = n &- 1
    }

    /// Copies slots `from..<from+n` into `other` at `at` (counts are the caller's business).
    func move(from: Int, count n: Int, to other: LeafNode, at: Int) {
        guard n > 0 else { return }
        other.slot(at).copyMemory(from: slot(from), byteCount: n &* LeafNode.slotSize)
    }

    /// Drops the first `k` slots (count drops by the caller).
    func shiftDown(from k: Int) {
        slot(0).copyMemory(from: slot(k), byteCount: (count &- k) &* LeafNode.slotSize)
    }

    /// Opens `k` slots at the front (count set by the caller).
    func shiftUp(by k: Int) {
        slot(k).copyMemory(from: slot(0), byteCount: count &* LeafNode.slotSize)
    }
}

/// An inner node: `[count: Int][child × F][size × F][separator score × F][separator entry × F]`.
@usableFromInline
struct InnerNode {
    @usableFromInline let base: UnsafeMutableRawPointer

    @inlinable init(_ base: UnsafeMutableRawPointer) { self.base = base }

    @usableFromInline static let capacity = 64
    @usableFromInline static let byteSize = 8 + capacity * 32
    /// The malloc block of an inner node.
    @inlinable static var heapBytes: Int { heapBlockBytes(byteSize) }

    @usableFromInline static let childrenOffset = 8
    @usableFromInline static let sizesOffset = 8 + capacity * 8
    @usableFromInline static let scoresOffset = 8 + capacity * 16
    @usableFromInline static let separatorsOffset = 8 + capacity * 24

    static func allocate() -> InnerNode {
        let p = UnsafeMutableRawPointer.allocate(byteCount: byteSize, alignment: 8)
        p.storeBytes(of: 0, as: Int.self)
        return InnerNode(p)
    }

    @inlinable
    var count: Int {
        get { base.load(as: Int.self) }
        nonmutating set { base.storeBytes(of: newValue, as: Int.self) }
    }

    @inlinable
    func child(_ i: Int) -> UnsafeMutableRawPointer {
        base.load(fromByteOffset: InnerNode.childrenOffset &+ i &* 8, as: UnsafeMutableRawPointer.self)
    }

    @inlinable
    func size(_ i: Int) -> Int { base.load(fromByteOffset: InnerNode.sizesOffset &+ i &* 8, as: Int.self) }

    @inlinable
    func setSize(_ i: Int, _ size: Int) {
        base.storeBytes(of: size, toByteOffset: InnerNode.sizesOffset &+ i &* 8, as: Int.self)
    }

    @inlinable
    func separatorScore(_ i: Int) -> Double {
        base.load(fromByteOffset: InnerNode.scoresOffset &+ i &* 8, as: Double.self)
    }

    @inlinable
    func separator(_ i: Int) -> Entry {
        Entry(base.load(fromByteOffset: InnerNode.separatorsOffset &+ i &* 8, as: UnsafeMutableRawPointer.self))
    }

    func setChild(_ i: Int, _ child: UnsafeMutableRawPointer, size: Int) {
        base.storeBytes(of: child, toByteOffset: InnerNode.childrenOffset &+ i &* 8, as: UnsafeMutableRawPointer.self)
        setSize(i, size)
    }

    func setSeparator(_ i: Int, _ entry: Entry) {
        base.storeBytes(of: entry.memberScore, toByteOffset: InnerNode.scoresOffset &+ i &* 8, as: Double.self)
        base.storeBytes(of: entry.pointer, toByteOffset: InnerNode.separatorsOffset &+ i &* 8,
                        as: UnsafeMutableRawPointer.self)
    }

    /// Sum of the sizes of children `0..<i`.
    @inlinable
    func sizeSum(below i: Int) -> Int {
        var total = 0
        var j = 0
        while j < i {
            total &+= size(j)
            j &+= 1
        }
        return total
    }

    var totalSize: Int { sizeSum(below: count) }

    /// The child holding the partition point of `predicate`: the last child whose smallest
    /// element (its separator) satisfies it, or child 0.
    @inlinable
    func childIndex<P: ScoreIndexPredicate>(_ predicate: P) -> Int {
        var low = 1
        var high = count
        while low < high {
            let mid = (low &+ high) &>> 1
            if predicate.isBefore(score: separatorScore(mid), entry: separator(mid)) { low = mid &+ 1 } else { high = mid }
        }
        return low &- 1
    }

    /// Inserts a child at `i` (≥ 1) with its separator; the node must have room.
    func insertChild(at i: Int, _ child: UnsafeMutableRawPointer, size: Int, separator: Entry) {
        let n = count
        if i < n { shift(from: i, to: i &+ 1, count: n &- i) }
        setChild(i, child, size: size)
        setSeparator(i, separator)
        count = n &+ 1
    }

    func removeChild(at i: Int) {
        let n = count
        if i &+ 1 < n { shift(from: i &+ 1, to: i, count: n &- i &- 1) }
        count = n &- 1
    }

    /// Moves `n` slots (children, sizes, separators) within this node (overlap allowed).
    func shift(from: Int, to: Int, count n: Int) {
        move(from: from, count: n, to: self, at: to)
    }

    /// Copies slots `from..<from+n` into `other` at `at` (counts are the caller's business).
    func move(from: Int, count n: Int, to other: InnerNode, at: Int) {
        guard n > 0 else { return }
        let bytes = n &* 8
        let source = base + from &* 8, target = other.base + at &* 8
        (target + InnerNode.childrenOffset).copyMemory(from: source + InnerNode.childrenOffset, byteCount: bytes)
        (target + InnerNode.sizesOffset).copyMemory(from: source + InnerNode.sizesOffset, byteCount: bytes)
        (target + InnerNode.scoresOffset).copyMemory(from: source + InnerNode.scoresOffset, byteCount: bytes)
        (target + InnerNode.separatorsOffset).copyMemory(from: source + InnerNode.separatorsOffset, byteCount: bytes)
    }

    func shiftDown(from k: Int) { shift(from: k, to: 0, count: count &- k) }

    func shiftUp(by k: Int) { shift(from: 0, to: k, count: count) }
}
