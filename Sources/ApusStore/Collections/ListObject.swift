import ApusRESP
import DequeModule

/// A list value (t_list.c), encoded like Redis 7.2:
///
/// - `listpack`: every element in one packed node, while the whole list stays within one
///   quicklist node's limit (`list-max-listpack-size`);
/// - `quicklist`: a sequence of packed nodes, each capped by the fill the list was converted
///   with, and plain nodes for elements of at least `ListPackedThreshold` bytes.
///
/// It converts listpack → quicklist before a write would overflow the limit
/// (listTypeTryConvertListpack) and back when a write leaves one packed node at most half the
/// limit (listTypeTryConvertQuicklist), so `OBJECT ENCODING` answers what Redis answers; node
/// splits and merges follow quicklist.c, so the node layout (DEBUG OBJECT's ql_nodes) does too.
/// Index access skips whole nodes by their counts from the nearer end. With
/// `list-compress-depth` N, all but the N nodes at each end are kept compressed.
///
/// Every Op runs under the owning shard's lock. Ops that remove elements leave deleting an
/// emptied key to the caller (the key is gone when `count` is 0).
public final class ListObject: CollectionValue {
    /// The listpack encoding's elements (empty while quicklist-encoded).
    @usableFromInline var packed: ListNode
    /// The quicklist encoding's nodes, head first (empty while listpack-encoded).
    @usableFromInline var nodes: Deque<ListNode>
    @usableFromInline var isQuicklist: Bool
    @usableFromInline var total: Int
    /// The quicklist's own fill (quicklistSetFill: clamped to -5...32767), fixed when it
    /// became a quicklist, as in Redis; conversions consult the current config instead.
    @usableFromInline var fill: Int
    @usableFromInline var nodeLimit: ListNodeLimit
    /// `list-compress-depth` when it became a quicklist (quicklistSetCompressDepth: at most
    /// 65535): that many nodes at each end stay uncompressed, the others are compressed.
    @usableFromInline var compressDepth = 0
    /// Unit tests' private packed threshold (0 = the global `ListPackedThreshold`), so they
    /// can make plain nodes without touching the process-wide setting.
    @usableFromInline var packedThresholdOverride = 0
    /// Heap bytes of the quicklist nodes' buffers (compressed or not), kept as nodes are
    /// changed, added, removed, compressed and decompressed.
    @usableFromInline var nodeElementBytes = 0

    /// Elements of at least this many bytes go to plain nodes.
    @inlinable
    var packedThreshold: Int {
        packedThresholdOverride != 0 ? packedThresholdOverride : ListPackedThreshold.current
    }

    /// An empty listpack-encoded list (createListListpackObject).
    public init() {
        packed = ListNode()
        nodes = []
        isQuicklist = false
        total = 0
        fill = -2
        nodeLimit = ListNodeLimit(fill: -2)
    }

    /// An empty quicklist-encoded list with `fill` and `compressDepth` (RDB loading uses the
    /// configured ones; SORT ... STORE uses Redis's quicklistCreate defaults -2 and 0): push
    /// the elements, then `convertIfSmall(limits:)`.
    public init(quicklistFill fill: Int, compressDepth: Int = 0) {
        packed = ListNode()
        nodes = []
        isQuicklist = true
        total = 0
        self.fill = ListObject.clampFill(fill)
        nodeLimit = ListNodeLimit(fill: self.fill)
        self.compressDepth = ListObject.clampDepth(compressDepth)
    }

    /// A deep copy (COPY): every buffer is the copy's own, so memory accounting never sees
    /// one buffer in two lists.
    init(copying other: ListObject) {
        packed = other.packed.deepCopy()
        var copies = Deque<ListNode>(minimumCapacity: other.nodes.count)
        var bytes = 0
        for node in other.nodes {
            let copy = node.deepCopy()
            bytes &+= copy.elements.heapBytes
            copies.append(copy)
        }
        nodes = copies
        isQuicklist = other.isQuicklist
        total = other.total
        fill = other.fill
        nodeLimit = other.nodeLimit
        compressDepth = other.compressDepth
        packedThresholdOverride = other.packedThresholdOverride
        nodeElementBytes = bytes
    }

    @inlinable
    static func clampFill(_ fill: Int) -> Int { Swift.min(Swift.max(fill, -5), 32767) }

    @inlinable
    static func clampDepth(_ depth: Int) -> Int { Swift.min(Swift.max(depth, 0), 65535) }

    // MARK: CollectionValue

    public var encoding: ObjectEncoding { isQuicklist ? .quicklist : .listpack }

    @inlinable
    public var count: Int { total }

    public func duplicate() -> any CollectionValue { ListObject(copying: self) }

    /// Number of quicklist nodes (1 for a non-empty listpack).
    public var nodeCount: Int { isQuicklist ? nodes.count : (total > 0 ? 1 : 0) }

    /// The quicklist's fill (DEBUG OBJECT's `ql_listpack_max`).
    public var quicklistFill: Int { fill }

    /// The quicklist's compress depth (DEBUG OBJECT's `ql_compressed` is whether it is not 0).
    public var quicklistCompressDepth: Int { compressDepth }

    /// Nodes currently held compressed.
    public var compressedNodeCount: Int { nodes.reduce(0) { $0 + ($1.isCompressed ? 1 : 0) } }

    /// The nodes' listpack sizes added up (DEBUG OBJECT's `ql_uncompressed_size`: Redis's
    /// lpBytes of each packed node, the element size of each plain one).
    public var quicklistBytes: Int {
        guard isQuicklist else { return packed.listpackBytes }
        var bytes = 0
        for node in nodes { bytes &+= node.listpackBytes }
        return bytes
    }

    // MARK: Memory

    /// Bytes of this object's own heap block.
    @inlinable
    static var instanceBytes: Int {
        // packed node, node deque, isQuicklist (padded), total, fill, node limit, compress
        // depth, packed threshold override, node bytes.
        heapObjectBytes(storedBytes: MemoryLayout<ListNode>.stride &+ MemoryLayout<Deque<ListNode>>.size &+ 8 &+ 8
                            &+ 8 &+ MemoryLayout<ListNodeLimit>.size &+ 8 &+ 8 &+ 8)
    }

    /// Heap bytes held (O(1)): this object, the listpack buffer, or the quicklist's node array
    /// and node buffers.
    @inlinable
    public var allocatedBytes: Int {
        ListObject.instanceBytes &+ packed.elements.heapBytes &+ nodeArrayBytes &+ nodeElementBytes
    }

    /// `allocatedBytes` recomputed by walking every node (tests).
    public func recomputeAllocatedBytes() -> Int {
        var bytes = ListObject.instanceBytes &+ packed.elements.heapBytes &+ nodeArrayBytes
        for node in nodes { bytes &+= node.elements.heapBytes }
        return bytes
    }

    /// Bytes of the node deque's buffer. `Deque` does not publish its capacity; its storage is
    /// one buffer object (`ManagedBuffer`: 16-byte object header, then the deque header whose
    /// first word is the capacity, then the elements at offset 40), so the capacity is read
    /// from there. The deque sizes its capacity from the block's usable size, so header +
    /// elements is the usable size (tests compare with the allocator's answer), except when
    /// glibc hands out a chunk 16 bytes bigger than asked (too small for one more node).
    @inlinable
    var nodeArrayBytes: Int {
        let buffer = unsafeBitCast(nodes, to: UnsafeRawPointer.self)
        let capacity = buffer.load(fromByteOffset: 16, as: Int.self)
        return capacity == 0 ? 0 : heapBlockBytes(usable: 40 &+ capacity &* MemoryLayout<ListNode>.stride)
    }

    /// The node deque's buffer object (tests ask the allocator about it).
    var nodeArrayBuffer: UnsafeRawPointer? {
        let buffer = unsafeBitCast(nodes, to: UnsafeRawPointer.self)
        return buffer.load(fromByteOffset: 16, as: Int.self) == 0 ? nil : buffer
    }

    /// The node buffers' own blocks and the listpack's (tests ask the allocator about them).
    func forEachBuffer(_ body: (UnsafeRawPointer) -> Void) {
        packed.elements.withStorageObject(body)
        for node in nodes { node.elements.withStorageObject(body) }
    }

    /// Compresses node `i` if it is worth it, keeping the byte count.
    @usableFromInline
    func compressNode(_ i: Int) {
        ListObject.change(&nodes[i], decompress: false, recompress: true, bytes: &nodeElementBytes) { _ in }
    }

    /// Decompresses node `i` if compressed, keeping the byte count.
    @usableFromInline
    func decompressNode(_ i: Int) {
        ListObject.change(&nodes[i], decompress: true, recompress: false, bytes: &nodeElementBytes) { _ in }
    }

    // MARK: Node access

    /// Node `i` (the listpack's elements when not a quicklist), reached through the
    /// collection's in-place (`_modify`) access: a plain read would copy the node and pay a
    /// retain and a release of its buffer. `body` must not touch this list's other nodes.
    @inlinable
    func withNode<R>(_ i: Int, _ body: (inout ListNode) -> R) -> R {
        if isQuicklist { return body(&nodes[i]) }
        return body(&packed)
    }

    /// Reads node `i`'s elements (a compressed node is decompressed into a temporary buffer).
    @inlinable
    func withNodeElements<R>(_ i: Int, _ body: (PackedElements) -> R) -> R {
        withNode(i) { $0.withReadableElements(body) }
    }

    /// Changes node `i`'s elements: a compressed node is decompressed first and compressed
    /// again afterwards if it lies in the interior (quicklistDecompressNodeForUse /
    /// quicklistRecompressOnly).
    @inlinable
    func mutateNode<R>(_ i: Int, _ body: (inout ListNode) -> R) -> R {
        guard isQuicklist else { return body(&packed) }
        let compressed = compressDepth > 0
        return ListObject.change(&nodes[i], decompress: compressed, recompress: compressed && isInterior(i),
                                 bytes: &nodeElementBytes, body)
    }

    /// `mutateNode`'s work on the node itself, which adds the change of its buffer's size to
    /// `bytes` (one in-place access to the node).
    @inlinable
    static func change<R>(_ node: inout ListNode, decompress: Bool, recompress: Bool, bytes: inout Int,
                          _ body: (inout ListNode) -> R) -> R {
        let before = node.elements.heapBytes
        if decompress { node.decompress() }
        let result = body(&node)
        if recompress { node.compress() }
        bytes &+= node.elements.heapBytes &- before
        return result
    }

    /// Whether node `i` is beyond `compressDepth` nodes from both ends (so it is compressed).
    @inlinable
    func isInterior(_ i: Int) -> Bool {
        let n = nodes.count
        return n > 2 &* compressDepth && i >= compressDepth && i < n &- compressDepth
    }

    /// __quicklistCompress after a node was added or removed: the `compressDepth` nodes at each
    /// end are uncompressed and the next one inwards on each side is compressed (nodes move
    /// one position per change, so the interior stays compressed).
    @usableFromInline
    func enforceCompression() {
        let d = compressDepth
        guard d > 0 else { return }
        let n = nodes.count
        if n <= 2 &* d {
            for i in 0 ..< n { decompressNode(i) }
            return
        }
        for i in 0 ..< d {
            decompressNode(i)
            decompressNode(n &- 1 &- i)
        }
        compressNode(d)
        compressNode(n &- 1 &- d)
    }

    /// Inserts a node at position `i` (compressed if it lands in the interior).
    @usableFromInline
    func insertNode(_ node: ListNode, at i: Int) {
        nodes.insert(node, at: i)
        nodeElementBytes &+= node.elements.heapBytes
        guard compressDepth > 0 else { return }
        enforceCompression()
        if isInterior(i) { compressNode(i) }
    }

    /// Removes node `i` and returns it (its buffer may be compressed).
    @usableFromInline
    @discardableResult
    func removeNode(at i: Int) -> ListNode {
        let node = i == 0 ? nodes.removeFirst() : (i == nodes.count &- 1 ? nodes.removeLast() : nodes.remove(at: i))
        nodeElementBytes &-= node.elements.heapBytes
        enforceCompression()
        return node
    }

    @inlinable
    func nodeElementCount(_ i: Int) -> Int { withNode(i) { $0.count } }

    /// The node holding element `index` (0 ≤ index < count) and its position there, found by
    /// skipping whole nodes from the nearer end (quicklistGetIteratorAtIdx).
    @inlinable
    func locate(_ index: Int) -> (node: Int, position: Int) {
        guard isQuicklist else { return (0, index) }
        if index <= (total &- 1) / 2 {
            var before = 0
            var i = 0
            while true {
                let n = nodeElementCount(i)
                if before &+ n > index { return (i, index &- before) }
                before &+= n
                i &+= 1
            }
        }
        var through = total
        var i = nodes.count &- 1
        while true {
            let n = nodeElementCount(i)
            if through &- n <= index { return (i, index &- (through &- n)) }
            through &-= n
            i &-= 1
        }
    }

    // MARK: Reading

    /// Calls `body` with up to `n` elements starting at `index` (0 ≤ index < count), towards
    /// the tail, or towards the head when `reverse` (LRANGE, pops with a count, SORT).
    @inlinable
    public func forEach(from index: Int, count n: Int, reverse: Bool = false,
                        _ body: (UnsafeRawBufferPointer) -> Void) {
        guard n > 0, index >= 0, index < total else { return }
        var (node, position) = locate(index)
        var remaining = n
        while remaining > 0 {
            let elements = nodeElementCount(node)
            withNodeElements(node) { view in
                var o = view.offset(ofElement: position, count: elements)
                while remaining > 0 {
                    body(view[o])
                    remaining &-= 1
                    if reverse {
                        if o == view.startIndex { break }
                        o = view.index(before: o)
                    } else {
                        o = view.index(after: o)
                        if o == view.endIndex { break }
                    }
                }
            }
            if reverse {
                node &-= 1
                if node < 0 { return }
                position = nodeElementCount(node) &- 1
            } else {
                node &+= 1
                if node >= nodeCount { return }
                position = 0
            }
        }
    }

    /// Calls `body` with each element from the head (from the tail when `reverse`) until it
    /// returns false.
    @inlinable
    public func walk(reverse: Bool = false, _ body: (UnsafeRawBufferPointer) -> Bool) {
        let n = nodeCount
        var i = reverse ? n &- 1 : 0
        while i >= 0 && i < n {
            let more = withNodeElements(i) { view -> Bool in
                if reverse {
                    var o = view.endIndex
                    while o > view.startIndex {
                        o = view.index(before: o)
                        if !body(view[o]) { return false }
                    }
                } else {
                    var o = view.startIndex
                    while o < view.endIndex {
                        if !body(view[o]) { return false }
                        o = view.index(after: o)
                    }
                }
                return true
            }
            if !more { return }
            i = reverse ? i &- 1 : i &+ 1
        }
    }

    /// Calls `body` with every element, head to tail (SORT, DEBUG DIGEST, serialisation).
    @inlinable
    public func forEachElement(_ body: (UnsafeRawBufferPointer) -> Void) {
        walk { body($0); return true }
    }

    /// The element at `index` (negative counts from the tail) passed to `body`, or nil when
    /// out of range (LINDEX).
    @inlinable
    public func withElement<R>(at index: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let i = index < 0 ? total &+ index : index
        guard i >= 0 && i < total else { return nil }
        let (node, position) = locate(i)
        let n = nodeElementCount(node)
        return withNodeElements(node) { view in body(view[view.offset(ofElement: position, count: n)]) }
    }

    /// LPOS: reports to `body` the indexes of the matches of `element`, from the `rank`-th
    /// match on (a negative rank counts matches from the tail), at most `limit` of them (0 =
    /// all), looking at no more than `maxlen` elements (0 = all); returns how many it reported.
    @inlinable
    @discardableResult
    public func positions(of element: UnsafeRawBufferPointer, rank: Int, limit: Int, maxlen: Int,
                          _ body: (Int) -> Void) -> Int {
        let reverse = rank < 0
        let skip = rank.magnitude &- 1
        let length = total
        var index = 0
        var matches: UInt = 0
        var reported = 0
        walk(reverse: reverse) { candidate in
            if maxlen != 0 && index >= maxlen { return false }
            if candidate.bytesEqual(element) {
                matches &+= 1
                if matches > skip {
                    body(reverse ? length &- index &- 1 : index)
                    reported &+= 1
                    if limit != 0 && reported >= limit { return false }
                }
            }
            index &+= 1
            return true
        }
        return reported
    }

    // MARK: Encoding conversion

    /// listTypeTryConversionAppend: before adding `n` elements of `bytes` bytes in all, a
    /// listpack that would exceed one node's limit becomes a quicklist (whose first node is
    /// the old listpack, whatever its size).
    @inlinable
    public func prepareToGrow(addingBytes bytes: Int, count n: Int, limits: @autoclosure () -> CollectionLimits) {
        guard !isQuicklist else { return }
        let limits = limits()
        let fill = limits.listMaxListpackSize
        if ListNodeLimit(fill: fill).exceeded(bytes: packed.listpackBytes &+ bytes, entries: packed.count &+ n) {
            convertToQuicklist(fill: fill, compressDepth: limits.listCompressDepth)
        }
    }

    @usableFromInline
    func convertToQuicklist(fill newFill: Int, compressDepth depth: Int) {
        fill = ListObject.clampFill(newFill)
        nodeLimit = ListNodeLimit(fill: fill)
        compressDepth = ListObject.clampDepth(depth)
        if packed.count > 0 {
            nodes.append(packed)
            nodeElementBytes = packed.elements.heapBytes
        }
        packed = ListNode()
        isQuicklist = true
    }

    /// listTypeTryConvertQuicklist: a quicklist of a single packed node within the limit (half
    /// of it when `shrinking`, so a list near the limit does not flip on every write) becomes
    /// a listpack again.
    @inlinable
    public func convertIfSmall(limits: @autoclosure () -> CollectionLimits, shrinking: Bool = false) {
        guard isQuicklist, nodes.count == 1, !withNode(0, { $0.isPlain }) else { return }
        let limit = ListNodeLimit(fill: limits().listMaxListpackSize)
        var size = limit.size
        var entries = limit.entries
        if shrinking {
            size /= 2
            entries /= 2
        }
        guard withNode(0, { $0.listpackBytes }) <= size && total <= entries else { return }
        nodes[0].decompress()
        packed = nodes[0]
        nodes = []
        nodeElementBytes = 0
        isQuicklist = false
    }

    // MARK: Push and pop

    /// LPUSH/RPUSH of the arguments `first...`, growth conversion included.
    @inlinable
    public func push(_ args: CommandArguments, from first: Int, to end: ListEnd, limits: @autoclosure () -> CollectionLimits) {
        var bytes = 0
        for i in first ..< args.count { bytes &+= args[i].count }
        prepareToGrow(addingBytes: bytes, count: args.count &- first, limits: limits())
        for i in first ..< args.count { push(args[i], to: end) }
    }

    /// Adds one element at `end` (after `prepareToGrow`): quicklistPushHead/Tail for a
    /// quicklist — into the end node while it has room, else into a new node.
    @inlinable
    public func push(_ element: UnsafeRawBufferPointer, to end: ListEnd) {
        total &+= 1
        guard isQuicklist else {
            if end == .head { packed.prepend(element) } else { packed.append(element) }
            return
        }
        if element.count >= packedThreshold {
            insertNode(ListNode(plain: element), at: end == .head ? 0 : nodes.count)
            return
        }
        if end == .head {
            if !nodes.isEmpty && allowsInsert(0, size: element.count) {
                mutateNode(0) { $0.prepend(element) }
            } else {
                insertNode(ListNode(single: element), at: 0)
            }
        } else {
            let last = nodes.count &- 1
            if last >= 0 && allowsInsert(last, size: element.count) {
                mutateNode(last) { $0.append(element) }
            } else {
                insertNode(ListNode(single: element), at: nodes.count)
            }
        }
    }

    /// Removes up to `n` elements from `end` after passing each to `body` in pop order (the
    /// head's first, or the tail's last first); returns how many. A list left non-empty
    /// converts back to a listpack if small enough (listElementsRemoved); the caller deletes
    /// an emptied key. The Op behind LPOP/RPOP, LMPOP and the blocking pops.
    @inlinable
    @discardableResult
    public func pop(from end: ListEnd, count n: Int, limits: @autoclosure () -> CollectionLimits,
                    _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        let popped = Swift.min(n, total)
        guard popped > 0 else { return 0 }
        var remaining = popped
        while remaining > 0 {
            // Take what the end node holds, walking from that end; drop the node once empty.
            let i = end == .head ? 0 : nodeCount &- 1
            let emptied = mutateNode(i) { node -> Bool in
                let k = Swift.min(remaining, node.count)
                node.removeFromEnd(end, count: k, body)
                remaining &-= k
                return node.count == 0
            }
            if emptied && isQuicklist {
                removeNode(at: i)
            }
        }
        total &-= popped
        if total > 0 { convertIfSmall(limits: limits(), shrinking: true) }
        return popped
    }

    /// Removes `n` elements from `start` on (0 ≤ start, start + n ≤ count); emptied quicklist
    /// nodes go away (quicklistDelRange / lpDeleteRange). No conversion.
    @usableFromInline
    func removeRange(_ start: Int, _ n: Int) {
        guard n > 0 else { return }
        guard isQuicklist else {
            total &-= n
            packed.remove(from: start, count: n)
            return
        }
        var (node, position) = locate(start)
        total &-= n
        var remaining = n
        while remaining > 0 {
            let inNode = nodeElementCount(node)
            let removed = Swift.min(inNode &- position, remaining)
            if removed == inNode {
                removeNode(at: node)
            } else {
                mutateNode(node) { $0.remove(from: position, count: removed) }
                node &+= 1
            }
            remaining &-= removed
            position = 0
        }
    }

    // MARK: LTRIM, LREM, LINSERT, LSET

    /// LTRIM: keeps the elements `start...stop` (negative indexes count from the tail);
    /// returns how many it removed. A list left non-empty may convert back to a listpack.
    @inlinable
    @discardableResult
    public func trim(start: Int, stop: Int, limits: @autoclosure () -> CollectionLimits) -> Int {
        let length = total
        var start = start < 0 ? length &+ start : start
        var stop = stop < 0 ? length &+ stop : stop
        if start < 0 { start = 0 }
        let left: Int
        let right: Int
        if start > stop || start >= length {
            left = length
            right = 0
        } else {
            if stop >= length { stop = length &- 1 }
            left = start
            right = length &- stop &- 1
        }
        removeRange(0, left)
        removeRange(total &- right, right)
        if total > 0 { convertIfSmall(limits: limits(), shrinking: true) }
        return left &+ right
    }

    /// LREM: removes the elements equal to `element`, at most `count` from the head (count >
    /// 0), at most -count from the tail (count < 0) or all (0); returns how many.
    @inlinable
    @discardableResult
    public func remove(_ element: UnsafeRawBufferPointer, count: Int, limits: @autoclosure () -> CollectionLimits) -> Int {
        let limit = count == 0 ? Int.max : Int(clamping: count.magnitude)
        let reverse = count < 0
        var removed = 0
        var node = reverse ? nodeCount &- 1 : 0
        while removed < limit && node >= 0 && node < nodeCount {
            // Positions of this node's matches, in walking order, up to what is still allowed.
            var matches: [Int] = []
            let n = nodeElementCount(node)
            withNodeElements(node) { view in
                if reverse {
                    var o = view.endIndex
                    var position = n
                    while o > view.startIndex && removed &+ matches.count < limit {
                        o = view.index(before: o)
                        position &-= 1
                        if view[o].bytesEqual(element) { matches.append(position) }
                    }
                } else {
                    var o = view.startIndex
                    var position = 0
                    while o < view.endIndex && removed &+ matches.count < limit {
                        if view[o].bytesEqual(element) { matches.append(position) }
                        o = view.index(after: o)
                        position &+= 1
                    }
                }
            }
            guard !matches.isEmpty else {
                node = reverse ? node &- 1 : node &+ 1
                continue
            }
            removed &+= matches.count
            total &-= matches.count
            if isQuicklist && matches.count == n {
                removeNode(at: node)
                if reverse { node &-= 1 }
                continue
            }
            // Positions come in ascending order to the filter; matches are in walking order.
            if reverse { matches.reverse() }
            var next = 0
            let drop = { (position: Int) -> Bool in
                guard next < matches.count && matches[next] == position else { return false }
                next &+= 1
                return true
            }
            if isQuicklist {
                _ = mutateNode(node) { $0.removeAll(where: drop) }
            } else {
                _ = packed.removeAll(where: drop)
            }
            node = reverse ? node &- 1 : node &+ 1
        }
        if removed > 0 && total > 0 { convertIfSmall(limits: limits(), shrinking: true) }
        return removed
    }

    /// LINSERT: inserts `element` before (or `after`) the first element equal to `pivot`,
    /// returning the new length, or nil when there is no pivot. Like Redis, a listpack that the
    /// new element would overflow becomes a quicklist first, even when the pivot is missing.
    @inlinable
    public func insert(_ element: UnsafeRawBufferPointer, pivot: UnsafeRawBufferPointer, after: Bool,
                       limits: @autoclosure () -> CollectionLimits) -> Int? {
        prepareToGrow(addingBytes: element.count, count: 1, limits: limits())
        var found: (node: Int, position: Int)?
        let n = nodeCount
        var node = 0
        while found == nil && node < n {
            withNodeElements(node) { view in
                var position = 0
                for candidate in view {
                    if candidate.bytesEqual(pivot) {
                        found = (node, position)
                        return
                    }
                    position &+= 1
                }
            }
            node &+= 1
        }
        guard let (at, position) = found else { return nil }
        if isQuicklist {
            insert(element, node: at, position: position, after: after)
        } else {
            packed.insert(element, at: after ? position &+ 1 : position)
        }
        total &+= 1
        return total
    }

    /// LSET: replaces the element at `index` (negative counts from the tail); false when out of
    /// range. Like Redis, the growth conversion happens first, even when the index is bad.
    @inlinable
    public func replace(at index: Int, with element: UnsafeRawBufferPointer, limits: @autoclosure () -> CollectionLimits) -> Bool {
        prepareToGrow(addingBytes: element.count, count: 1, limits: limits())
        let i = index < 0 ? total &+ index : index
        guard i >= 0 && i < total else { return false }
        if isQuicklist {
            let (node, position) = locate(i)
            replace(node: node, position: position, with: element)
        } else {
            packed.replace(at: i, with: element)
        }
        convertIfSmall(limits: limits(), shrinking: true)
        return true
    }

    // MARK: LMOVE

    /// LMOVE / RPOPLPUSH / BLMOVE / BRPOPLPUSH once both keys are known to hold lists (or the
    /// destination is absent and the caller created `destination` empty): pops one element
    /// from this list's `end`, pushes it at `destinationEnd` of `destination` (which may be
    /// this very list) and passes it to `body` (the reply). Returns false if this list is
    /// empty. The caller then deletes this key if it was emptied.
    @inlinable
    @discardableResult
    public func move(from end: ListEnd, to destination: ListObject, at destinationEnd: ListEnd,
                     limits: @autoclosure () -> CollectionLimits, _ body: (UnsafeRawBufferPointer) -> Void) -> Bool {
        guard total > 0 else { return false }
        // The element is copied out first: pushing into the same list may move its bytes.
        let index = end == .head ? 0 : total &- 1
        let (node, position) = locate(index)
        // Redis pops a quicklist's packed integer as an integer object, which its growth check
        // does not count in bytes (only string-encoded arguments are).
        let fromPackedQuicklistNode = isQuicklist && !withNode(node) { $0.isPlain }
        let n = nodeElementCount(node)
        let value = withNodeElements(node) { view in Bytes(view[view.offset(ofElement: position, count: n)]) }
        removeRange(index, 1)
        value.withUnsafeBytes { element in
            let counted = fromPackedQuicklistNode && element.count < 21 && parseInteger(element) != nil ? 0 : element.count
            destination.prepareToGrow(addingBytes: counted, count: 1, limits: limits())
            destination.push(element, to: destinationEnd)
            body(element)
        }
        if total > 0 { convertIfSmall(limits: limits(), shrinking: true) }
        return true
    }

    // MARK: Quicklist internals

    /// _quicklistNodeAllowInsert: node `i` is packed and one more element of `size` bytes
    /// (estimated with 8 bytes of overhead, as Redis does) keeps it within the fill.
    @inlinable
    func allowsInsert(_ i: Int, size: Int) -> Bool {
        guard i >= 0 && i < nodes.count, size < packedThreshold else { return false }
        let limit = nodeLimit
        return withNode(i) { node in
            !node.isPlain && !limit.exceeded(bytes: node.listpackBytes &+ size &+ 8, entries: node.count &+ 1)
        }
    }

    /// _quicklistNodeAllowMerge for nodes `a` and `b`.
    @inlinable
    func allowsMerge(_ a: Int, _ b: Int) -> Bool {
        guard a >= 0 && b >= 0 && a < nodes.count && b < nodes.count else { return false }
        let (aPlain, aBytes, aCount) = withNode(a) { ($0.isPlain, $0.listpackBytes, $0.count) }
        let (bPlain, bBytes, bCount) = withNode(b) { ($0.isPlain, $0.listpackBytes, $0.count) }
        if aPlain || bPlain { return false }
        return !nodeLimit.exceeded(bytes: aBytes &+ bBytes &- Listpack.emptyBytes, entries: aCount &+ bCount)
    }

    /// Merges node `left + 1` into node `left`.
    @usableFromInline
    func mergeWithNext(_ left: Int) {
        let right = removeNode(at: left &+ 1)
        mutateNode(left) { $0.appendContents(of: right) }
    }

    /// _quicklistMergeNodes around the node at `center` after a split.
    @usableFromInline
    func mergeNodes(around center: Int) {
        var center = center
        // (prev_prev, prev)
        if allowsMerge(center &- 1, center &- 2) {
            mergeWithNext(center &- 2)
            center &-= 1
        }
        // (next, next_next)
        if allowsMerge(center &+ 1, center &+ 2) {
            mergeWithNext(center &+ 1)
        }
        // (prev, center), then the result with its next
        var target = center
        if allowsMerge(center, center &- 1) {
            mergeWithNext(center &- 1)
            target = center &- 1
        }
        if allowsMerge(target, target &+ 1) {
            mergeWithNext(target)
        }
    }

    /// _quicklistInsert: `element` before or after the element at `position` of `node`,
    /// with Redis's choices between the node itself, its neighbour, a new node and a split.
    @usableFromInline
    func insert(_ element: UnsafeRawBufferPointer, node i: Int, position: Int, after: Bool) {
        let size = element.count
        let (elementsInNode, nodeIsPlain) = withNode(i) { ($0.count, $0.isPlain) }
        let full = !allowsInsert(i, size: size)
        var atTail = false
        var atHead = false
        var nextHasRoom = false
        var previousHasRoom = false
        if after && position == elementsInNode &- 1 {
            atTail = true
            nextHasRoom = allowsInsert(i &+ 1, size: size)
        }
        if !after && position == 0 {
            atHead = true
            previousHasRoom = allowsInsert(i &- 1, size: size)
        }
        if size >= packedThreshold {
            if nodeIsPlain || (atTail && after) || (atHead && !after) {
                insertNode(ListNode(plain: element), at: after ? i &+ 1 : i)
            } else {
                let rest = mutateNode(i) { $0.split(at: position, after: after) }
                if after {
                    insertNode(ListNode(plain: element), at: i &+ 1)
                    insertNode(rest, at: i &+ 2)
                } else {
                    insertNode(ListNode(plain: element), at: i)
                    insertNode(rest, at: i)
                }
            }
            return
        }
        if !full {
            mutateNode(i) { $0.insert(element, at: after ? position &+ 1 : position) }
        } else if atTail && nextHasRoom && after {
            mutateNode(i &+ 1) { $0.prepend(element) }
        } else if atHead && previousHasRoom && !after {
            mutateNode(i &- 1) { $0.append(element) }
        } else if (atTail && !nextHasRoom && after) || (atHead && !previousHasRoom && !after) {
            insertNode(ListNode(single: element), at: after ? i &+ 1 : i)
        } else {
            var rest = mutateNode(i) { $0.split(at: position, after: after) }
            if after {
                rest.prepend(element)
                insertNode(rest, at: i &+ 1)
                mergeNodes(around: i)
            } else {
                rest.append(element)
                insertNode(rest, at: i)
                mergeNodes(around: i &+ 1)
            }
        }
    }

    /// quicklistReplaceEntry: in place in a packed node; a big element moves to a plain node
    /// of its own (and a small one out of a plain node) by an insert after it and a delete.
    @usableFromInline
    func replace(node i: Int, position: Int, with element: UnsafeRawBufferPointer) {
        let big = element.count >= packedThreshold
        let plain = withNode(i) { $0.isPlain }
        if !plain && !big {
            mutateNode(i) { $0.replace(at: position, with: element) }
        } else if plain {
            if big {
                mutateNode(i) { $0 = ListNode(plain: element) }
            } else {
                insert(element, node: i, position: 0, after: true)
                removeNode(at: i)
            }
        } else {
            // A packed node and a big element: after the insert, the replaced element is the
            // last one of node `i` (the insert went after it, splitting the node if needed).
            insert(element, node: i, position: position, after: true)
            if nodeElementCount(i) == 1 {
                removeNode(at: i)
            } else {
                mutateNode(i) { $0.remove(from: $0.count &- 1, count: 1) }
            }
        }
    }
}
