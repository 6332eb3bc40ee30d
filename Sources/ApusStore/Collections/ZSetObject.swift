import ApusRESP

/// A sorted set (t_zset.c): members with double scores, ordered by (score, member bytes).
///
/// Two encodings, as in Redis 7.2:
/// - `listpack`: one `PackedList` whose elements are `[score: 8-byte double][member]`, sorted.
///   Used while the set has at most `zset-max-listpack-entries` members of at most
///   `zset-max-listpack-value` bytes. Like Redis 7.2's listpack (which stores integral scores as
///   integers), a packed score of -0 reads back as 0.
/// - `skiplist`: a `KeyTable` of member entries (member = entry key, score = 8-byte value) for
///   O(1) member lookups, plus a `ScoreIndex` (counted B+tree over the same entries) for O(log N)
///   rank and range operations. `OBJECT ENCODING` says `skiplist`, the name Redis gives it.
///
/// Conversion is one-way (packed → full) except where Redis converts back: the results of
/// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE (`ZSetAccumulator.makeObject`).
///
/// Ranks are 0-based positions in ascending order. Range specs (`ZScoreRange`, `ZLexRange`)
/// follow Redis's zzl*/zsl* search functions: in the packed encoding they walk elements exactly
/// as Redis does, which matters only for lex ranges over members with different scores (where
/// Redis's own answer depends on the encoding).
public final class ZSetObject: CollectionValue {
    @usableFromInline var packed: PackedList
    @usableFromInline var table: KeyTable
    @usableFromInline var index: ScoreIndex
    /// Heap bytes of the member entries (`Entry.allocatedSize` summed), kept as they come and go.
    @usableFromInline var entryBytes: Int
    @usableFromInline var isPacked: Bool

    /// An empty sorted set in the given encoding (`.listpack` or `.skiplist`).
    public init(encoding: ObjectEncoding) {
        packed = PackedList()
        table = KeyTable()
        index = ScoreIndex()
        entryBytes = 0
        isPacked = encoding != .skiplist
    }

    /// A full-encoding set owning `table`, whose entries `sorted` lists in order.
    init(table: consuming KeyTable, sorted: [Entry]) {
        packed = PackedList()
        self.table = table
        index = ScoreIndex()
        entryBytes = 0
        isPacked = false
        for entry in sorted {
            index.insert(entry)
            entryBytes &+= entry.allocatedSize
        }
    }

    /// Bytes of this object's own heap block.
    @inlinable
    static var instanceBytes: Int {
        heapObjectBytes(storedBytes: MemoryLayout<PackedList>.size &+ MemoryLayout<KeyTable>.size
                            &+ MemoryLayout<ScoreIndex>.size &+ 8 &+ 1)
    }

    /// Heap bytes held (O(1)): this object, the listpack buffer, or the dictionary's slot
    /// arrays, the member entries and the score index's nodes.
    @inlinable
    public var allocatedBytes: Int {
        ZSetObject.instanceBytes &+ packed.heapBytes &+ table.heapBytes &+ entryBytes &+ index.allocatedBytes
    }

    /// `allocatedBytes` recomputed by walking every member and index node (tests).
    public func recomputeAllocatedBytes() -> Int {
        var bytes = ZSetObject.instanceBytes &+ packed.heapBytes &+ table.heapBytes
        table.forEach { bytes &+= $0.allocatedSize }
        return bytes &+ index.recomputeAllocatedBytes()
    }

    /// Adds a new member's entry to the dictionary and the index.
    @inlinable
    func insertEntry(_ entry: Entry, hash: UInt64) {
        entryBytes &+= entry.allocatedSize
        table.insert(entry, hash: hash)
        index.insert(entry)
    }

    /// Frees the entry of a member already taken out of the dictionary and the index.
    @inlinable
    func freeEntry(_ entry: Entry) {
        entryBytes &-= entry.allocatedSize
        entry.deallocate()
    }

    deinit {
        index.removeAll()
        table.removeAll { $0.deallocate() }
    }

    /// zsetTypeCreate: the encoding a new set starts with, from the number of elements about to
    /// be added and the length of the first member.
    public static func create(sizeHint: Int, valueLengthHint: Int, limits: CollectionLimits) -> ZSetObject {
        let small = sizeHint <= limits.zsetMaxListpackEntries && valueLengthHint <= limits.zsetMaxListpackValue
        return ZSetObject(encoding: small ? .listpack : .skiplist)
    }

    /// zsetTypeMaybeConvert: converts a packed set about to receive `sizeHint` elements when that
    /// many would not fit (counted before knowing how many are new, as Redis does).
    public func maybeConvert(sizeHint: Int, limits: CollectionLimits) {
        if isPacked && sizeHint > limits.zsetMaxListpackEntries { convertToFull() }
    }

    public var encoding: ObjectEncoding { isPacked ? .listpack : .skiplist }

    public var count: Int { isPacked ? packed.count : index.count }

    public func duplicate() -> any CollectionValue {
        let copy = ZSetObject(encoding: encoding)
        if isPacked {
            copy.packed = packed.deepCopy()
        } else {
            index.forEach(fromRank: 0, reverse: false) { entry in
                copy.insertEntry(Entry.allocateMember(entry.key, score: entry.memberScore), hash: keyHash(entry.key))
                return true
            }
        }
        return copy
    }

    /// Converts the packed encoding to the full one.
    public func convertToFull() {
        guard isPacked else { return }
        let old = packed
        packed = PackedList()
        isPacked = false
        old.withElements { view in
            for offset in view.indices {
                let element = view[offset]
                let entry = Entry.allocateMember(ZSetObject.member(of: element), score: ZSetObject.score(of: element))
                insertEntry(entry, hash: keyHash(entry.key))  // ascending: each lands at the index's end
            }
        }
    }

    // MARK: Packed elements

    /// The score of a packed element.
    @inlinable
    static func score(of element: UnsafeRawBufferPointer) -> Double {
        element.loadUnaligned(as: Double.self)
    }

    /// The member of a packed element.
    @inlinable
    static func member(of element: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: element[8...])
    }

    /// Builds the packed element for (score, member) in temporary storage.
    @inlinable
    static func withPackedElement<R>(_ member: UnsafeRawBufferPointer, score: Double,
                                     _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // Redis 7.2 stores an integral score as an integer, so -0 comes back as 0.
        let stored = score == 0 ? 0.0 : score
        return withUnsafeTemporaryAllocation(byteCount: 8 &+ member.count, alignment: 8) { buffer in
            buffer.storeBytes(of: stored, toByteOffset: 0, as: Double.self)
            if member.count > 0 { (buffer.baseAddress! + 8).copyMemory(from: member.baseAddress!, byteCount: member.count) }
            return body(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Offset and score of `member` in the packed list.
    @inlinable
    func packedFind(_ member: UnsafeRawBufferPointer) -> (offset: Int, score: Double)? {
        packed.withElements { view in
            var offset = view.startIndex
            while offset < view.endIndex {
                let element = view[offset]
                if element.count &- 8 == member.count && ZSetObject.member(of: element).bytesEqual(member) {
                    return (offset, ZSetObject.score(of: element))
                }
                offset = view.index(after: offset)
            }
            return nil
        }
    }

    /// Inserts (score, member) at its place in the packed list (zzlInsert).
    func packedInsert(_ member: UnsafeRawBufferPointer, score: Double) {
        let at = packed.withElements { view -> Int in
            var offset = view.startIndex
            while offset < view.endIndex {
                let element = view[offset]
                let s = ZSetObject.score(of: element)
                if s > score || (s == score && compareBytes(ZSetObject.member(of: element), member) > 0) { return offset }
                offset = view.index(after: offset)
            }
            return view.endIndex
        }
        ZSetObject.withPackedElement(member, score: score) { packed.insert($0, at: at) }
    }

    /// Offset of the packed element of rank `rank` (below `count`), walking from the nearer end.
    @inlinable
    func packedOffset(ofRank rank: Int, in view: PackedElements) -> Int {
        if rank <= packed.count / 2 {
            var offset = view.startIndex
            for _ in 0..<rank { offset = view.index(after: offset) }
            return offset
        }
        var offset = view.endIndex
        for _ in rank..<packed.count { offset = view.index(before: offset) }
        return offset
    }

    // MARK: Lookups

    /// ZSCORE: the score of `member`.
    @inlinable
    public func score(of member: UnsafeRawBufferPointer) -> Double? {
        if isPacked { return packedFind(member)?.score }
        return table.find(member, hash: keyHash(member))?.memberScore
    }

    /// Whether `member` is in the set.
    @inlinable
    public func contains(_ member: UnsafeRawBufferPointer) -> Bool { score(of: member) != nil }

    /// ZRANK: the 0-based ascending rank of `member` and its score.
    public func rank(of member: UnsafeRawBufferPointer) -> (rank: Int, score: Double)? {
        if isPacked {
            return packed.withElements { view in
                var rank = 0
                var offset = view.startIndex
                while offset < view.endIndex {
                    let element = view[offset]
                    if element.count &- 8 == member.count && ZSetObject.member(of: element).bytesEqual(member) {
                        return (rank, ZSetObject.score(of: element))
                    }
                    rank &+= 1
                    offset = view.index(after: offset)
                }
                return nil
            }
        }
        guard let entry = table.find(member, hash: keyHash(member)) else { return nil }
        return (index.rank(of: entry), entry.memberScore)
    }

    /// Calls `body(member, score)` for the elements from rank `start` on, ascending (descending
    /// towards rank 0 when `reverse`), until it returns false or the set ends. The set must not
    /// change meanwhile; the member bytes are valid only during the call.
    @inlinable
    public func forEach(fromRank start: Int, reverse: Bool = false,
                        _ body: (UnsafeRawBufferPointer, Double) -> Bool) {
        guard start >= 0 && start < count else { return }
        if isPacked {
            packed.withElements { view in
                var offset = packedOffset(ofRank: start, in: view)
                while true {
                    let element = view[offset]
                    if !body(ZSetObject.member(of: element), ZSetObject.score(of: element)) { return }
                    if reverse {
                        if offset == view.startIndex { return }
                        offset = view.index(before: offset)
                    } else {
                        offset = view.index(after: offset)
                        if offset == view.endIndex { return }
                    }
                }
            }
        } else {
            index.forEach(fromRank: start, reverse: reverse) { entry in body(entry.key, entry.memberScore) }
        }
    }

    /// Calls `body(member, score)` for every element in ascending order.
    @inlinable
    public func forEach(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
        forEach(fromRank: 0) { member, score in
            body(member, score)
            return true
        }
    }

    /// The element of rank `rank` (below `count`) passed to `body`.
    @inlinable
    public func withElement<R>(atRank rank: Int, _ body: (UnsafeRawBufferPointer, Double) -> R) -> R {
        precondition(rank >= 0 && rank < count)
        if isPacked {
            return packed.withElements { view in
                let element = view[packedOffset(ofRank: rank, in: view)]
                return body(ZSetObject.member(of: element), ZSetObject.score(of: element))
            }
        }
        let entry = index.entry(atRank: rank)
        return body(entry.key, entry.memberScore)
    }

    // MARK: Adding and removing

    /// zsetAdd: adds `member` or updates its score under ZADD's options; converts the packed
    /// encoding first when a new member would exceed the limits.
    public func add(_ member: UnsafeRawBufferPointer, score: Double, options: ZAddOptions = [],
                    limits: CollectionLimits) -> ZAddResult {
        if score.isNaN { return .notANumber }
        if isPacked {
            if let (offset, current) = packedFind(member) {
                guard let newScore = ZSetObject.updatedScore(current, score, options) else { return .skipped }
                if newScore.isNaN { return .notANumber }
                if newScore == current { return .unchanged(newScore) }
                packed.remove(at: offset)
                packedInsert(member, score: newScore)
                return .updated(newScore)
            }
            if options.contains(.xx) { return .skipped }
            if packed.count &+ 1 > limits.zsetMaxListpackEntries || member.count > limits.zsetMaxListpackValue {
                convertToFull()
            } else {
                packedInsert(member, score: score)
                return .added(score)
            }
        }
        let hash = keyHash(member)
        if let entry = table.find(member, hash: hash) {
            let current = entry.memberScore
            guard let newScore = ZSetObject.updatedScore(current, score, options) else { return .skipped }
            if newScore.isNaN { return .notANumber }
            if newScore == current { return .unchanged(newScore) }
            index.remove(entry)
            entry.memberScore = newScore
            index.insert(entry)
            return .updated(newScore)
        }
        if options.contains(.xx) { return .skipped }
        insertEntry(Entry.allocateMember(member, score: score), hash: hash)
        return .added(score)
    }

    /// The score an existing member gets under ZADD's options, nil when NX/GT/LT leave it alone
    /// (NaN from an increment is returned for the caller to reject).
    @inlinable
    static func updatedScore(_ current: Double, _ score: Double, _ options: ZAddOptions) -> Double? {
        if options.contains(.nx) { return nil }
        var new = score
        if options.contains(.incr) {
            new += current
            if new.isNaN { return new }
        }
        if (options.contains(.lt) && new >= current) || (options.contains(.gt) && new <= current) { return nil }
        return new
    }

    /// ZREM: removes `member`; returns whether it was there.
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        if isPacked {
            guard let (offset, _) = packedFind(member) else { return false }
            packed.remove(at: offset)
            return true
        }
        guard let entry = table.remove(member, hash: keyHash(member)) else { return false }
        index.remove(entry)
        freeEntry(entry)
        return true
    }

    /// Removes the elements of ranks `ranks`; returns how many.
    @discardableResult
    public func removeRanks(_ ranks: Range<Int>) -> Int {
        let lower = Swift.max(ranks.lowerBound, 0), upper = Swift.min(ranks.upperBound, count)
        guard lower < upper else { return 0 }
        if isPacked {
            let offset = packed.withElements { view in packedOffset(ofRank: lower, in: view) }
            packed.remove(from: offset, count: upper &- lower)
            if packed.isEmpty { packed.removeAll() } else { packed.shrinkToFit() }
        } else {
            for _ in lower..<upper {
                let entry = index.remove(atRank: lower)
                _ = table.remove(entry.key, hash: keyHash(entry.key))
                freeEntry(entry)
            }
        }
        return upper &- lower
    }

    /// The blocking-pop Op (ZPOPMIN/ZPOPMAX/ZMPOP and BZPOPMIN/BZPOPMAX/BZMPOP): removes up to
    /// `count` elements from the low end (the high end when `max`), calling `body(member, score)`
    /// with each, in pop order, before it is freed. Returns how many were popped.
    @discardableResult
    public func pop(max: Bool, count: Int, _ body: (UnsafeRawBufferPointer, Double) -> Void) -> Int {
        let n = Swift.min(Swift.max(count, 0), self.count)
        for _ in 0..<n {
            if isPacked {
                let offset = packed.withElements { view -> Int in
                    let offset = max ? view.index(before: view.endIndex) : view.startIndex
                    let element = view[offset]
                    body(ZSetObject.member(of: element), ZSetObject.score(of: element))
                    return offset
                }
                packed.remove(at: offset)
            } else {
                let entry = index.remove(atRank: max ? index.count &- 1 : 0)
                _ = table.remove(entry.key, hash: keyHash(entry.key))
                body(entry.key, entry.memberScore)
                freeEntry(entry)
            }
        }
        if isPacked && packed.isEmpty { packed.removeAll() }
        return n
    }

    // MARK: Ranges

    /// Rank of the first element in `range` (zzlFirstInRange / zslFirstInRange), nil if none.
    public func firstRank<S: ZRangeSpec>(in range: S) -> Int? {
        guard isInRange(range) else { return nil }
        if isPacked {
            return packed.withElements { view in
                var rank = 0
                var offset = view.startIndex
                while offset < view.endIndex {
                    let element = view[offset]
                    let score = ZSetObject.score(of: element), member = ZSetObject.member(of: element)
                    if range.gteMin(score, member) { return range.lteMax(score, member) ? rank : nil }
                    rank &+= 1
                    offset = view.index(after: offset)
                }
                return nil
            }
        }
        let rank = index.partitionPoint(BelowMin(range: range))
        guard rank < index.count else { return nil }
        let entry = index.entry(atRank: rank)
        return range.lteMax(entry.memberScore, entry.key) ? rank : nil
    }

    /// Rank of the last element in `range` (zzlLastInRange / zslLastInRange), nil if none.
    public func lastRank<S: ZRangeSpec>(in range: S) -> Int? {
        guard isInRange(range) else { return nil }
        if isPacked {
            return packed.withElements { view in
                var rank = packed.count
                var offset = view.endIndex
                while offset > view.startIndex {
                    offset = view.index(before: offset)
                    rank &-= 1
                    let element = view[offset]
                    let score = ZSetObject.score(of: element), member = ZSetObject.member(of: element)
                    if range.lteMax(score, member) { return range.gteMin(score, member) ? rank : nil }
                }
                return nil
            }
        }
        let rank = index.partitionPoint(AtMostMax(range: range)) &- 1
        guard rank >= 0 else { return nil }
        let entry = index.entry(atRank: rank)
        return range.gteMin(entry.memberScore, entry.key) ? rank : nil
    }

    /// zslIsInRange: false when no element can be in `range` (empty spec, or the whole set
    /// lies outside it).
    func isInRange<S: ZRangeSpec>(_ range: S) -> Bool {
        guard !range.isEmpty, count > 0 else { return false }
        let lastInside = withElement(atRank: count &- 1) { range.gteMin($1, $0) }
        return lastInside && withElement(atRank: 0) { range.lteMax($1, $0) }
    }

    /// End (exclusive) of the run of elements from rank `start` on that are at most the range's
    /// max: where a forward walk from `start` stops.
    public func forwardEnd<S: ZRangeSpec>(from start: Int, in range: S) -> Int {
        guard start < count else { return Swift.max(start, count) }
        // A lex range over members with different scores is not monotonic in rank order;
        // Redis walks from the start while elements are within max (zslDeleteRangeByLex,
        // ZRANGEBYLEX), so a binary search could answer differently. Score ranges are
        // monotonic: search.
        if isPacked || !S.isMonotonicInRank {
            var end = start
            forEach(fromRank: start) { member, score in
                guard range.lteMax(score, member) else { return false }
                end &+= 1
                return true
            }
            return end
        }
        return Swift.max(start, index.partitionPoint(AtMostMax(range: range)))
    }

    /// Start (inclusive) of the run of elements from rank `start` down that are at least the
    /// range's min: where a backward walk from `start` stops.
    public func backwardStart<S: ZRangeSpec>(from start: Int, in range: S) -> Int {
        guard start >= 0 else { return 0 }
        if isPacked || !S.isMonotonicInRank {
            var first = start &+ 1
            forEach(fromRank: start, reverse: true) { member, score in
                guard range.gteMin(score, member) else { return false }
                first &-= 1
                return true
            }
            return first
        }
        return Swift.min(start &+ 1, index.partitionPoint(BelowMin(range: range)))
    }

    /// ZCOUNT / ZLEXCOUNT: elements in `range`.
    public func count<S: ZRangeSpec>(in range: S) -> Int {
        guard let first = firstRank(in: range) else { return 0 }
        if isPacked { return forwardEnd(from: first, in: range) &- first }
        // zslGetRank arithmetic, as Redis counts the skiplist.
        guard let last = lastRank(in: range) else { return count &- first }
        return last &- first &+ 1
    }

    /// ZREMRANGEBYSCORE / ZREMRANGEBYLEX: removes the elements in `range`; returns how many.
    public func removeRange<S: ZRangeSpec>(_ range: S) -> Int {
        if isPacked {
            guard let first = firstRank(in: range) else { return 0 }
            return removeRanks(first..<forwardEnd(from: first, in: range))
        }
        // zslDeleteRangeBy*: from the first element at least min, while at most max.
        let first = index.partitionPoint(BelowMin(range: range))
        return removeRanks(first..<forwardEnd(from: first, in: range))
    }

    // MARK: Random access and scanning

    /// A uniformly random element passed to `body` (the set must not be empty).
    public func withRandomElement<G: RandomNumberGenerator, R>(using rng: inout G,
                                                              _ body: (UnsafeRawBufferPointer, Double) -> R) -> R {
        if isPacked { return withElement(atRank: Int.random(in: 0..<count, using: &rng), body) }
        let entry = table.randomEntry(using: &rng)!
        return body(entry.key, entry.memberScore)
    }

    /// Calls `body` for `n` elements picked at random with replacement (ZRANDMEMBER with a
    /// negative count).
    public func forEachRandomPick<G: RandomNumberGenerator>(_ n: Int, using rng: inout G,
                                                            _ body: (UnsafeRawBufferPointer, Double) -> Void) {
        guard count > 0 else { return }
        if isPacked {
            packed.withElements { view in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: packed.count) { offsets in
                    var i = 0
                    for offset in view.indices { offsets[i] = offset; i &+= 1 }
                    for _ in 0..<n {
                        let element = view[offsets[Int.random(in: 0..<i, using: &rng)]]
                        body(ZSetObject.member(of: element), ZSetObject.score(of: element))
                    }
                }
            }
        } else {
            for _ in 0..<n {
                let entry = table.randomEntry(using: &rng)!
                body(entry.key, entry.memberScore)
            }
        }
    }

    /// Calls `body` for `n` distinct elements (n below `count`) chosen at random (ZRANDMEMBER
    /// with a positive count): in set order for the packed encoding, like Redis's
    /// lpRandomPairsUnique, in random order otherwise.
    public func forEachRandomDistinct<G: RandomNumberGenerator>(_ n: Int, using rng: inout G,
                                                                _ body: (UnsafeRawBufferPointer, Double) -> Void) {
        let total = count
        guard n > 0 else { return }
        guard n < total else {
            forEach(body)
            return
        }
        if isPacked {
            // Selection sampling (Knuth's algorithm S): each element is kept with probability
            // (needed / remaining), giving a uniform subset in order.
            var needed = n
            var remaining = total
            forEach(fromRank: 0) { member, score in
                if Int.random(in: 0..<remaining, using: &rng) < needed {
                    body(member, score)
                    needed &-= 1
                }
                remaining &-= 1
                return needed > 0
            }
            return
        }
        if n &* 3 > total {
            // Most of the set: shuffle a list of all entries, take the first n.
            var entries: [Entry] = []
            entries.reserveCapacity(total)
            table.forEach { entries.append($0) }
            for i in 0..<n {
                let j = Int.random(in: i..<total, using: &rng)
                entries.swapAt(i, j)
                body(entries[i].key, entries[i].memberScore)
            }
            return
        }
        var seen = Set<UInt>(minimumCapacity: n)
        while seen.count < n {
            let entry = table.randomEntry(using: &rng)!
            if seen.insert(UInt(bitPattern: entry.pointer)).inserted { body(entry.key, entry.memberScore) }
        }
    }

    /// One ZSCAN step over the full encoding's dictionary (the packed encoding reports every
    /// element at once and returns 0). Visits at least `count` elements when that many are
    /// left, like Redis's scan loop.
    public func scan(cursor: UInt64, count: Int, _ body: (UnsafeRawBufferPointer, Double) -> Void) -> UInt64 {
        if isPacked {
            forEach(body)
            return 0
        }
        var next = cursor
        var visited = 0
        // Redis's `count * 10` iteration cap; a COUNT too big for it scans everything.
        var iterations = count > Int.max / 10 ? Int.max : count &* 10
        repeat {
            next = table.scan(cursor: next) { entry in
                visited &+= 1
                body(entry.key, entry.memberScore)
            }
            iterations &-= 1
        } while next != 0 && visited < count && iterations > 0
        return next
    }

    // MARK: Checking (tests)

    /// Verifies the full encoding's index against its dictionary; nil when consistent.
    public func validate() -> String? {
        if isPacked {
            var previous: (Double, [UInt8])? = nil
            var bad = false
            forEach { member, score in
                if let (s, m) = previous, !(s < score || (s == score && m.withUnsafeBytes { compareBytes($0, member) } < 0)) {
                    bad = true
                }
                previous = (score, Array(member))
            }
            return bad ? "packed order violated" : nil
        }
        if let problem = index.validate() { return problem }
        if table.count != index.count { return "dictionary has \(table.count), index \(index.count)" }
        return nil
    }
}

// MARK: ZADD options and results

/// ZADD's flags (zsetAdd's ZADD_IN_*).
public struct ZAddOptions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let incr = ZAddOptions(rawValue: 1 << 0)
    public static let nx = ZAddOptions(rawValue: 1 << 1)
    public static let xx = ZAddOptions(rawValue: 1 << 2)
    public static let gt = ZAddOptions(rawValue: 1 << 3)
    public static let lt = ZAddOptions(rawValue: 1 << 4)
}

/// What `ZSetObject.add` did (zsetAdd's ZADD_OUT_* flags), with the member's score after it.
public enum ZAddResult: Equatable, Sendable {
    /// A new member.
    case added(Double)
    /// An existing member's score changed.
    case updated(Double)
    /// Processed, but the score stayed the same.
    case unchanged(Double)
    /// Nothing done because of NX, XX, GT or LT.
    case skipped
    /// The score (or the incremented score) is NaN.
    case notANumber
}

// MARK: Range specs

/// A range of a sorted set's order for the zzl*/zsl* range searches: elements in it are at
/// least its min and at most its max.
public protocol ZRangeSpec {
    /// Whether membership is monotonic in rank order (score ranges), so range ends can be
    /// binary-searched; lex ranges are monotonic only when all scores are equal.
    static var isMonotonicInRank: Bool { get }
    /// The spec can match nothing (min above max, or equal with an exclusive end).
    var isEmpty: Bool { get }
    func gteMin(_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool
    func lteMax(_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool
}

/// A score range (zrangespec): ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE.
public struct ZScoreRange: ZRangeSpec, Sendable {
    public static var isMonotonicInRank: Bool { true }
    public var min: Double
    public var max: Double
    public var minExclusive: Bool
    public var maxExclusive: Bool

    public init(min: Double, max: Double, minExclusive: Bool = false, maxExclusive: Bool = false) {
        self.min = min
        self.max = max
        self.minExclusive = minExclusive
        self.maxExclusive = maxExclusive
    }

    @inlinable
    public var isEmpty: Bool { min > max || (min == max && (minExclusive || maxExclusive)) }

    @inlinable
    public func gteMin(_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        minExclusive ? score > min : score >= min
    }

    @inlinable
    public func lteMax(_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        maxExclusive ? score < max : score <= max
    }
}

/// One end of a lex range: `-`, `+`, or `[member` / `(member`.
public enum ZLexBound {
    case negativeInfinity
    case positiveInfinity
    case member(UnsafeRawBufferPointer, exclusive: Bool)

    /// zslParseLexRangeItem; nil for anything else.
    @inlinable
    public init?(parsing raw: UnsafeRawBufferPointer) {
        guard raw.count > 0 else { return nil }
        switch raw[0] {
        case UInt8(ascii: "+") where raw.count == 1: self = .positiveInfinity
        case UInt8(ascii: "-") where raw.count == 1: self = .negativeInfinity
        case UInt8(ascii: "("): self = .member(UnsafeRawBufferPointer(rebasing: raw[1...]), exclusive: true)
        case UInt8(ascii: "["): self = .member(UnsafeRawBufferPointer(rebasing: raw[1...]), exclusive: false)
        default: return nil
        }
    }

    /// `-` and `+` are exclusive, as Redis parses them.
    @inlinable
    var isExclusive: Bool {
        if case .member(_, let exclusive) = self { return exclusive }
        return true
    }

    /// sdscmplex of a member against this bound.
    @inlinable
    func compare(_ value: UnsafeRawBufferPointer) -> Int {
        switch self {
        case .negativeInfinity: return 1
        case .positiveInfinity: return -1
        case .member(let bytes, _): return compareBytes(value, bytes)
        }
    }
}

/// A lex range (zlexrangespec): ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX.
public struct ZLexRange: ZRangeSpec {
    public static var isMonotonicInRank: Bool { false }
    public var min: ZLexBound
    public var max: ZLexBound

    public init(min: ZLexBound, max: ZLexBound) {
        self.min = min
        self.max = max
    }

    @inlinable
    public var isEmpty: Bool {
        // sdscmplex(min, max); the shared -/+ strings compare equal to themselves.
        let cmp: Int
        switch (min, max) {
        case (.negativeInfinity, .negativeInfinity), (.positiveInfinity, .positiveInfinity): cmp = 0
        case (.negativeInfinity, _), (_, .positiveInfinity): cmp = -1
        case (.positiveInfinity, _), (_, .negativeInfinity): cmp = 1
        case (.member(let a, _), .member(let b, _)): cmp = compareBytes(a, b)
        }
        return cmp > 0 || (cmp == 0 && (min.isExclusive || max.isExclusive))
    }

    @inlinable
    public func gteMin(_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        let cmp = min.compare(member)
        return min.isExclusive ? cmp > 0 : cmp >= 0
    }

    @inlinable
    public func lteMax(_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        let cmp = max.compare(member)
        return max.isExclusive ? cmp < 0 : cmp <= 0
    }
}

/// Elements below a range's min (the index's partition for the first element in range).
@usableFromInline
struct BelowMin<S: ZRangeSpec>: ScoreIndexPredicate {
    @usableFromInline let range: S
    @inlinable init(range: S) { self.range = range }
    @inlinable func isBefore(score: Double, entry: Entry) -> Bool { !range.gteMin(score, entry.key) }
}

/// Elements at most a range's max.
@usableFromInline
struct AtMostMax<S: ZRangeSpec>: ScoreIndexPredicate {
    @usableFromInline let range: S
    @inlinable init(range: S) { self.range = range }
    @inlinable func isBefore(score: Double, entry: Entry) -> Bool { range.lteMax(score, entry.key) }
}

// MARK: Set operations

/// The result of ZUNION/ZINTER/ZDIFF being built: a dictionary of member entries (the same
/// blocks a full sorted set uses), turned into a sorted set or a sorted reply at the end.
public struct ZSetAccumulator: ~Copyable {
    @usableFromInline var table = KeyTable()
    /// The longest member added (for the listpack conversion check).
    public private(set) var maxMemberLength = 0

    public init() {}

    deinit { table.forEach { $0.deallocate() } }

    public var count: Int { table.count }

    /// Adds `member`, which must not be present.
    public mutating func insert(_ member: UnsafeRawBufferPointer, score: Double) {
        table.insert(Entry.allocateMember(member, score: score), hash: keyHash(member))
        maxMemberLength = Swift.max(maxMemberLength, member.count)
    }

    /// The entry of `member`, if present (its score is mutable through `memberScore`).
    public func find(_ member: UnsafeRawBufferPointer) -> Entry? { table.find(member, hash: keyHash(member)) }

    /// Adds `member` with `score`, or combines `score` into its existing score.
    public mutating func merge(_ member: UnsafeRawBufferPointer, score: Double, _ combine: (Double, Double) -> Double) {
        let hash = keyHash(member)
        if let entry = table.find(member, hash: hash) {
            entry.memberScore = combine(entry.memberScore, score)
        } else {
            table.insert(Entry.allocateMember(member, score: score), hash: hash)
            maxMemberLength = Swift.max(maxMemberLength, member.count)
        }
    }

    /// Removes `member`; returns whether it was present.
    @discardableResult
    public mutating func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        guard let entry = table.remove(member, hash: keyHash(member)) else { return false }
        entry.deallocate()
        return true
    }

    /// Recomputes the longest member (after removals).
    public mutating func recomputeMaxMemberLength() {
        var longest = 0
        table.forEach { longest = Swift.max(longest, $0.keyLength) }
        maxMemberLength = longest
    }

    /// The entries in (score, member) order.
    public func sortedEntries() -> [Entry] {
        var entries: [Entry] = []
        entries.reserveCapacity(table.count)
        table.forEach { entries.append($0) }
        entries.sort { a, b in
            let sa = a.memberScore, sb = b.memberScore
            return sa < sb || (sa == sb && compareBytes(a.key, b.key) < 0)
        }
        return entries
    }

    /// Calls `body(member, score)` for each element in order.
    public func forEachSorted(_ body: (UnsafeRawBufferPointer, Double) -> Void) {
        for entry in sortedEntries() { body(entry.key, entry.memberScore) }
    }

    /// The sorted set holding the result, in the encoding Redis gives a stored result
    /// (zsetConvertToListpackIfNeeded): packed when it fits the listpack limits; nil when empty.
    /// The accumulator is left empty.
    public mutating func makeObject(limits: CollectionLimits) -> ZSetObject? {
        guard table.count > 0 else { return nil }
        let sorted = sortedEntries()
        if table.count <= limits.zsetMaxListpackEntries && maxMemberLength <= limits.zsetMaxListpackValue {
            let object = ZSetObject(encoding: .listpack)
            for entry in sorted {
                ZSetObject.withPackedElement(entry.key, score: entry.memberScore) { object.packed.append($0) }
            }
            table.removeAll { $0.deallocate() }
            return object
        }
        var moved = KeyTable()
        swap(&moved, &table)
        return ZSetObject(table: moved, sorted: sorted)
    }
}
