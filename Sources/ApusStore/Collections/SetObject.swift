import ApusRESP

/// One set member as an encoding hands it out: an intset element is an integer, the others
/// are bytes (Redis's setTypeNext gives `str/len` or `llele` the same way). Bytes views are
/// valid only during the callback that received them.
public enum SetMember {
    case integer(Int64)
    case bytes(UnsafeRawBufferPointer)

    /// The member as Redis's string2ll reads it, if it is an integer in canonical form.
    @inlinable
    public var integerValue: Int64? {
        switch self {
        case .integer(let v): v
        case .bytes(let b): parseInteger(b).map { Int64($0) }
        }
    }

    /// Calls `body` with the member's bytes (an integer is formatted on the stack).
    @inlinable
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .bytes(let b):
            return try body(b)
        case .integer(let v):
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            let n = withUnsafeMutableBytes(of: &digits) { formatDecimal(Int(v), into: $0) }
            return try withUnsafeBytes(of: &digits) { try body(UnsafeRawBufferPointer(rebasing: $0[0 ..< n])) }
        }
    }
}

/// The members of a hashtable-encoded set: a `KeyTable` of `Entry` blocks whose key is the
/// member and whose value is empty (incremental rehash, SSCAN cursors that survive growth,
/// uniform random sampling, one malloc per member).
@usableFromInline
final class SetMemberTable {
    @usableFromInline var table = KeyTable()
    /// Heap bytes of the member entries (`Entry.allocatedSize` summed), kept as they come and go.
    @usableFromInline var entryBytes = 0

    @usableFromInline
    init() {}

    deinit { table.removeAll { $0.deallocate() } }

    @inlinable
    var count: Int { table.count }

    /// Bytes of this object's own heap block.
    @inlinable
    static var instanceBytes: Int { heapObjectBytes(storedBytes: MemoryLayout<KeyTable>.size &+ 8) }

    /// Heap bytes held: this object, the slot arrays and the entries (O(1)).
    @inlinable
    var allocatedBytes: Int { SetMemberTable.instanceBytes &+ table.heapBytes &+ entryBytes }

    /// `allocatedBytes` summed entry by entry (tests check the running count against it).
    func recomputeAllocatedBytes() -> Int {
        var bytes = SetMemberTable.instanceBytes &+ table.heapBytes
        table.forEach { bytes &+= $0.allocatedSize }
        return bytes
    }

    /// Removes and frees the entry of a member known to be present.
    @inlinable
    func removeEntry(_ entry: Entry) {
        _ = table.remove(entry.key, hash: keyHash(entry.key))
        entryBytes &-= entry.allocatedSize
        entry.deallocate()
    }

    @inlinable
    func contains(_ member: UnsafeRawBufferPointer) -> Bool {
        table.find(member, hash: keyHash(member)) != nil
    }

    /// Adds `member`; false if present.
    @inlinable
    func insert(_ member: UnsafeRawBufferPointer) -> Bool {
        let hash = keyHash(member)
        if table.find(member, hash: hash) != nil { return false }
        insertNew(member, hash: hash)
        return true
    }

    /// Adds a member known to be absent.
    @inlinable
    func insertNew(_ member: UnsafeRawBufferPointer, hash: UInt64) {
        let entry = Entry.allocate(key: member, valueLength: 0, type: .string, encoding: 0, expireAt: nil)
        entryBytes &+= entry.allocatedSize
        table.insert(entry, hash: hash)
    }

    @inlinable
    func remove(_ member: UnsafeRawBufferPointer) -> Bool {
        guard let entry = table.remove(member, hash: keyHash(member)) else { return false }
        entryBytes &-= entry.allocatedSize
        entry.deallocate()
        return true
    }
}

/// A set key's value (Redis's OBJ_SET), in Redis 7.2's three encodings:
/// - `intset` (`IntSet`) while every member is an integer and there are at most
///   `set-max-intset-entries` of them;
/// - `listpack` (`PackedList`, insertion order) while there are at most
///   `set-max-listpack-entries` members of at most `set-max-listpack-value` bytes;
/// - `hashtable` (`KeyTable` of member entries) otherwise.
/// Conversions happen exactly where t_set.c makes them (setTypeCreate, setTypeMaybeConvert,
/// setTypeAddAux, the STORE commands, SPOP), and only towards bigger encodings except where
/// Redis rebuilds a set (SINTERSTORE's intset result, SPOP's "keep the few" strategy).
///
/// The Ops below are the shard-local operations of the SET commands; the command layer parses
/// arguments, locks shards and writes replies.
public final class SetObject: CollectionValue {
    public private(set) var encoding: ObjectEncoding
    @usableFromInline var ints = IntSet()
    @usableFromInline var packed = PackedList()
    @usableFromInline var members: SetMemberTable?

    /// An empty set in `encoding` (`.intset`, `.listpack` or `.hashtable`).
    public init(encoding: ObjectEncoding) {
        precondition(encoding == .intset || encoding == .listpack || encoding == .hashtable)
        self.encoding = encoding
        if encoding == .hashtable { members = SetMemberTable() }
    }

    /// Redis's setTypeCreate: the encoding a new set gets for its first member and the number
    /// of members the command is about to add.
    public static func create(firstMember: UnsafeRawBufferPointer, sizeHint: Int, limits: CollectionLimits) -> SetObject {
        if parseInteger(firstMember) != nil && sizeHint <= limits.setMaxIntsetEntries {
            return SetObject(encoding: .intset)
        }
        if sizeHint <= limits.setMaxListpackEntries { return SetObject(encoding: .listpack) }
        return SetObject(encoding: .hashtable)
    }

    public var count: Int {
        switch encoding {
        case .intset: ints.count
        case .listpack: packed.count
        default: members!.count
        }
    }

    /// Bytes of this object's own heap block.
    @inlinable
    static var instanceBytes: Int {
        // encoding (1 byte, padded to 8), the intset (buffer + width byte, padded to 16), the
        // listpack, the member table.
        heapObjectBytes(storedBytes: 8 &+ 16 &+ MemoryLayout<PackedList>.size &+ MemoryLayout<SetMemberTable?>.size)
    }

    /// Heap bytes held (O(1)): this object, the intset or listpack buffer, or the member table
    /// with its slot arrays and one block per member.
    @inlinable
    public var allocatedBytes: Int {
        var bytes = SetObject.instanceBytes &+ ints.heapBytes &+ packed.heapBytes
        if let members { bytes &+= members.allocatedBytes }
        return bytes
    }

    /// `allocatedBytes` recomputed by walking every member (tests).
    public func recomputeAllocatedBytes() -> Int {
        SetObject.instanceBytes &+ ints.heapBytes &+ packed.heapBytes
            &+ (members?.recomputeAllocatedBytes() ?? 0)
    }

    public func duplicate() -> any CollectionValue {
        let copy = SetObject(encoding: encoding)
        switch encoding {
        case .intset: copy.ints = ints.deepCopy()
        case .listpack: copy.packed = packed.deepCopy()
        default:
            let target = copy.members!
            members!.table.forEach { target.insertNew($0.key, hash: keyHash($0.key)) }
        }
        return copy
    }

    // MARK: Limits

    /// Redis caps intsets at 2^30 entries whatever `set-max-intset-entries` says.
    @inlinable
    static func intsetMaxEntries(_ limits: CollectionLimits) -> Int {
        Swift.min(limits.setMaxIntsetEntries, 1 << 30)
    }

    /// listpack.c's LISTPACK_MAX_SAFETY_SIZE: no listpack grows past 1 GiB.
    @usableFromInline static let listpackSafetySize = 1 << 30

    /// lpEstimateBytesRepeatedInteger: bytes `repeats` copies of `value` take in a listpack.
    @inlinable
    static func listpackIntegerBytes(_ value: Int64, repeats: Int) -> Int {
        let size: Int
        switch value {
        case 0 ... 127: size = 2
        case -4096 ... 4095: size = 3
        case -32768 ... 32767: size = 4
        case -8_388_608 ... 8_388_607: size = 5
        case Int64(Int32.min) ... Int64(Int32.max): size = 6
        default: size = 10
        }
        return size &* repeats
    }

    /// Length of `value` in decimal (Redis's sdigits10).
    @inlinable
    static func decimalLength(_ value: Int64) -> Int {
        var n = value < 0 ? 2 : 1
        var m = value.magnitude
        while m >= 10 { m /= 10; n &+= 1 }
        return n
    }

    // MARK: Conversion

    /// setTypeMaybeConvert: before adding `sizeHint` members, go to a hashtable at once if the
    /// hint alone passes the current encoding's limit.
    public func maybeConvert(sizeHint: Int, limits: CollectionLimits) {
        if (encoding == .listpack && sizeHint > limits.setMaxListpackEntries)
            || (encoding == .intset && sizeHint > limits.setMaxIntsetEntries) {
            convertToHashtable()
        }
    }

    /// Moves every member into a hashtable.
    @usableFromInline
    func convertToHashtable() {
        guard encoding != .hashtable else { return }
        let table = SetMemberTable()
        forEach { member in
            member.withBytes { table.insertNew($0, hash: keyHash($0)) }
        }
        ints.removeAll()
        packed.removeAll()
        members = table
        encoding = .hashtable
    }

    /// Intset to listpack (the members in ascending order).
    @usableFromInline
    func convertIntsetToListpack() {
        precondition(encoding == .intset)
        var list = PackedList()
        ints.forEach { value in SetMember.integer(value).withBytes { list.append($0) } }
        ints.removeAll()
        packed = list
        encoding = .listpack
    }

    /// maybeConvertToIntset: a set whose members are all integers becomes an intset again if
    /// it is small enough (SINTERSTORE's result).
    @usableFromInline
    func convertToIntsetIfSmall(_ limits: CollectionLimits) {
        guard encoding != .intset, count <= SetObject.intsetMaxEntries(limits) else { return }
        var result = IntSet()
        forEach { member in
            guard let value = member.integerValue else { preconditionFailure("convertToIntset: non-integer member") }
            result.insert(value)
        }
        packed.removeAll()
        members = nil
        ints = result
        encoding = .intset
    }

    /// Takes over `other`'s members and encoding (SPOP's rebuilt set); `other` becomes empty.
    @usableFromInline
    func takeContents(of other: SetObject) {
        swap(&ints, &other.ints)
        swap(&packed, &other.packed)
        swap(&members, &other.members)
        swap(&encoding, &other.encoding)
    }

    // MARK: Membership

    /// Adds `member` (setTypeAddAux), converting the encoding when a limit is passed; returns
    /// false when it was already a member.
    @discardableResult
    public func add(_ member: SetMember, limits: CollectionLimits) -> Bool {
        switch encoding {
        case .intset:
            if let value = member.integerValue {
                guard ints.insert(value) else { return false }
                if ints.count > SetObject.intsetMaxEntries(limits) { convertToHashtable() }
                return true
            }
            return member.withBytes { bytes in
                addStringToIntset(bytes, limits: limits)
                return true
            }
        case .listpack:
            return member.withBytes { bytes in
                if packed.withElements({ $0.firstIndex(of: bytes) }) != nil { return false }
                if packed.count < limits.setMaxListpackEntries && bytes.count <= limits.setMaxListpackValue
                    && packed.byteCount &+ bytes.count <= SetObject.listpackSafetySize {
                    packed.append(bytes)
                } else {
                    convertToHashtable()
                    members!.insertNew(bytes, hash: keyHash(bytes))
                }
                return true
            }
        default:
            return member.withBytes { members!.insert($0) }
        }
    }

    /// Adds `member` given as bytes.
    @inlinable
    @discardableResult
    public func add(_ member: UnsafeRawBufferPointer, limits: CollectionLimits) -> Bool {
        add(.bytes(member), limits: limits)
    }

    /// A non-integer joins an intset: the set becomes a listpack if it and every member (at
    /// the width of the longest integer) fit the listpack limits, else a hashtable.
    func addStringToIntset(_ bytes: UnsafeRawBufferPointer, limits: CollectionLimits) {
        let n = ints.count
        var longest = 0
        var estimate = 0
        if n > 0 {
            longest = Swift.max(SetObject.decimalLength(ints.max), SetObject.decimalLength(ints.min))
            estimate = Swift.max(SetObject.listpackIntegerBytes(ints.max, repeats: n),
                                 SetObject.listpackIntegerBytes(ints.min, repeats: n))
        }
        if n < limits.setMaxListpackEntries && bytes.count <= limits.setMaxListpackValue
            && longest <= limits.setMaxListpackValue && estimate &+ bytes.count <= SetObject.listpackSafetySize {
            convertIntsetToListpack()
            packed.append(bytes)
        } else {
            convertToHashtable()
            members!.insertNew(bytes, hash: keyHash(bytes))
        }
    }

    /// Removes `member`; returns whether it was present.
    @discardableResult
    public func remove(_ member: SetMember) -> Bool {
        switch encoding {
        case .intset:
            guard let value = member.integerValue else { return false }
            return ints.remove(value)
        case .listpack:
            return member.withBytes { bytes in
                guard let offset = packed.withElements({ $0.firstIndex(of: bytes) }) else { return false }
                packed.remove(at: offset)
                return true
            }
        default:
            return member.withBytes { members!.remove($0) }
        }
    }

    @inlinable
    @discardableResult
    public func remove(_ member: UnsafeRawBufferPointer) -> Bool { remove(.bytes(member)) }

    /// Whether `member` is in the set.
    public func contains(_ member: SetMember) -> Bool {
        switch encoding {
        case .intset:
            guard let value = member.integerValue else { return false }
            return ints.contains(value)
        case .listpack:
            return member.withBytes { bytes in packed.withElements { $0.firstIndex(of: bytes) != nil } }
        default:
            return member.withBytes { members!.contains($0) }
        }
    }

    @inlinable
    public func contains(_ member: UnsafeRawBufferPointer) -> Bool { contains(.bytes(member)) }

    // MARK: Iteration

    /// Calls `body` with every member in the encoding's order: ascending for an intset,
    /// insertion order for a listpack, table order for a hashtable. `body` must not mutate
    /// this set.
    public func forEach(_ body: (SetMember) -> Void) {
        switch encoding {
        case .intset:
            ints.forEach { body(.integer($0)) }
        case .listpack:
            packed.withElements { view in
                for offset in view.indices { body(.bytes(view[offset])) }
            }
        default:
            members!.table.forEach { body(.bytes($0.key)) }
        }
    }

    /// `forEach` that stops as soon as `body` returns false (SINTERCARD's LIMIT). A hashtable is
    /// walked by SCAN steps so the walk can end early; with no mutation meanwhile every member
    /// is reported once.
    public func forEachWhile(_ body: (SetMember) -> Bool) {
        switch encoding {
        case .intset:
            for i in 0 ..< ints.count where !body(.integer(ints[i])) { return }
        case .listpack:
            packed.withElements { view in
                for offset in view.indices where !body(.bytes(view[offset])) { return }
            }
        default:
            let table = members!
            var cursor: UInt64 = 0
            var going = true
            repeat {
                cursor = table.table.scan(cursor: cursor) { entry in
                    if going { going = body(.bytes(entry.key)) }
                }
            } while going && cursor != 0
        }
    }

    /// Calls `body` with every member's bytes (SORT, DEBUG DIGEST).
    public func forEachMember(_ body: (UnsafeRawBufferPointer) -> Void) {
        forEach { $0.withBytes(body) }
    }

    /// One step of SSCAN over a hashtable, like Redis's scanGenericCommand: calls `body` with the
    /// members of up to `count` positions' worth of the table (at most `count * 10` scan calls)
    /// and returns the next cursor. The other encodings are small: every member is reported
    /// and the cursor is 0.
    public func scan(cursor: UInt64, count: Int, _ body: (SetMember) -> Void) -> UInt64 {
        guard encoding == .hashtable else {
            forEach(body)
            return 0
        }
        let table = members!
        var next = cursor
        var sampled = 0
        let (product, overflow) = count.multipliedReportingOverflow(by: 10)
        var iterations = overflow ? Int.max : product
        repeat {
            next = table.table.scan(cursor: next) { entry in
                sampled &+= 1
                body(.bytes(entry.key))
            }
            if next == 0 || iterations == 0 { break }
            iterations &-= 1
        } while sampled < count
        return next
    }

    // MARK: Random members

    /// Calls `body` with a uniformly chosen member (SRANDMEMBER, SPOP); the set must not be empty.
    public func withRandomMember<G: RandomNumberGenerator, R>(using rng: inout G, _ body: (SetMember) -> R) -> R {
        precondition(count > 0)
        switch encoding {
        case .intset:
            return body(.integer(ints[Int.random(in: 0 ..< ints.count, using: &rng)]))
        case .listpack:
            let index = Int.random(in: 0 ..< packed.count, using: &rng)
            return packed.withElements { view in
                var offset = view.startIndex
                for _ in 0 ..< index { offset = view.index(after: offset) }
                return body(.bytes(view[offset]))
            }
        default:
            return body(.bytes(members!.table.randomEntry(using: &rng)!.key))
        }
    }

    /// Removes a uniformly chosen member after showing it to `body` (setTypePopRandom); the set
    /// must not be empty.
    public func popRandom<G: RandomNumberGenerator>(using rng: inout G, _ body: (SetMember) -> Void) {
        precondition(count > 0)
        switch encoding {
        case .intset:
            let index = Int.random(in: 0 ..< ints.count, using: &rng)
            body(.integer(ints[index]))
            ints.remove(at: index)
        case .listpack:
            let index = Int.random(in: 0 ..< packed.count, using: &rng)
            let offset: Int = packed.withElements { view in
                var offset = view.startIndex
                for _ in 0 ..< index { offset = view.index(after: offset) }
                body(.bytes(view[offset]))
                return offset
            }
            packed.remove(at: offset)
        default:
            let table = members!
            let entry = table.table.randomEntry(using: &rng)!
            body(.bytes(entry.key))
            table.removeEntry(entry)
        }
    }

    /// SPOP key count, for `0 < count < self.count` (a bigger count pops the whole set, which the
    /// caller does). Shows each popped member to `body` and removes it, with Redis's two
    /// strategies: when the set keeps more than a fifth of `count`, members are popped one by
    /// one (a listpack in one ordered pass); otherwise the few members that stay are moved to a
    /// new set that replaces this one (whose encoding follows Redis: a listpack or intset built
    /// up by adding members), and the rest is reported in this set's order.
    public func popRandom<G: RandomNumberGenerator>(count: Int, limits: CollectionLimits, using rng: inout G,
                                                    _ body: (SetMember) -> Void) {
        let size = self.count
        precondition(count > 0 && count < size)
        let remaining = size &- count
        if remaining &* 5 > count {
            if encoding == .listpack {
                // One ordered pass choosing `count` members (lpNextRandom's selection sampling).
                var kept = PackedList()
                var need = count
                packed.withElements { view in
                    var index = 0
                    for offset in view.indices {
                        let element = view[offset]
                        if need > 0 && Int.random(in: 0 ..< (size &- index), using: &rng) < need {
                            body(.bytes(element))
                            need &-= 1
                        } else {
                            kept.append(element)
                        }
                        index &+= 1
                    }
                }
                packed = kept
            } else {
                for _ in 0 ..< count { popRandom(using: &rng, body) }
            }
            return
        }
        // Keep `remaining` random members in a new set; pop everything else.
        var newSet: SetObject?
        if encoding == .listpack {
            let kept = SetObject(encoding: .listpack)
            var popped = PackedList()
            var need = remaining
            packed.withElements { view in
                var index = 0
                for offset in view.indices {
                    let element = view[offset]
                    if need > 0 && Int.random(in: 0 ..< (size &- index), using: &rng) < need {
                        kept.add(.bytes(element), limits: limits)
                        need &-= 1
                    } else {
                        popped.append(element)
                    }
                    index &+= 1
                }
            }
            packed = popped
            newSet = kept
        } else {
            for _ in 0 ..< remaining {
                popRandom(using: &rng) { member in
                    if newSet == nil {
                        if case .integer = member {
                            newSet = SetObject(encoding: .intset)
                        } else {
                            newSet = SetObject(encoding: .listpack)
                        }
                    }
                    newSet!.add(member, limits: limits)
                }
            }
        }
        forEach(body)
        takeContents(of: newSet!)
    }

    /// SRANDMEMBER with a negative count (or 1): `n` independent uniform picks, repeats allowed.
    /// `body` returns false to stop early (the reply grew too large).
    public func forEachRandomMember<G: RandomNumberGenerator>(picks n: Int, using rng: inout G,
                                                              _ body: (SetMember) -> Bool) {
        precondition(count > 0)
        if encoding == .listpack && n > 1 {
            // Index the elements once instead of walking the list for every pick.
            packed.withElements { view in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: packed.count) { offsets in
                    var i = 0
                    for offset in view.indices { offsets[i] = offset; i &+= 1 }
                    for _ in 0 ..< n {
                        let pick = offsets[Int.random(in: 0 ..< i, using: &rng)]
                        if !body(.bytes(view[pick])) { return }
                    }
                }
            }
            return
        }
        for _ in 0 ..< n {
            if !withRandomMember(using: &rng, body) { return }
        }
    }

    /// SRANDMEMBER with a count `1 < n < self.count`: `n` distinct members chosen uniformly.
    /// Like Redis, a listpack answers in its own order (one ordered pass); intsets and
    /// hashtables choose by an ordered pass when `n` is more than a third of the set, else by
    /// random picks with duplicates skipped.
    public func forEachRandomDistinctMember<G: RandomNumberGenerator>(count n: Int, using rng: inout G,
                                                                      _ body: (SetMember) -> Void) {
        let size = self.count
        precondition(n > 0 && n < size)
        if encoding == .listpack || n &* 3 > size {
            var need = n
            var index = 0
            forEach { member in
                if need > 0 && Int.random(in: 0 ..< (size &- index), using: &rng) < need {
                    body(member)
                    need &-= 1
                }
                index &+= 1
            }
            return
        }
        if encoding == .intset {
            var chosen = Set<Int>(minimumCapacity: n)
            while chosen.count < n {
                let index = Int.random(in: 0 ..< size, using: &rng)
                if chosen.insert(index).inserted { body(.integer(ints[index])) }
            }
            return
        }
        var chosen = Set<UInt>(minimumCapacity: n)
        let table = members!
        while chosen.count < n {
            let entry = table.table.randomEntry(using: &rng)!
            if chosen.insert(UInt(bitPattern: entry.pointer)).inserted { body(.bytes(entry.key)) }
        }
    }
}

// MARK: Set algebra (SINTER, SUNION, SDIFF and their STORE / CARD forms)

extension SetObject {
    /// `sets` ordered by cardinality, smallest first, keeping the given order among equals
    /// (glibc's qsort, which Redis uses, is a stable merge sort for such arrays).
    static func sortedByCardinality(_ sets: [SetObject]) -> [SetObject] {
        var sorted = sets
        // Insertion sort: stable, and key counts are small.
        for i in 1 ..< Swift.max(sorted.count, 1) {
            let item = sorted[i]
            let size = item.count
            var j = i
            while j > 0 && sorted[j &- 1].count > size {
                sorted[j] = sorted[j &- 1]
                j &-= 1
            }
            sorted[j] = item
        }
        return sorted
    }

    /// The intersection of `sets` (all present, at least one): calls `body` with each common
    /// member in the order of the smallest set (SINTER, SMEMBERS, SINTERCARD); `body` returns
    /// false to stop (SINTERCARD's LIMIT).
    public static func intersect(_ sets: [SetObject], _ body: (SetMember) -> Bool) {
        let sorted = sortedByCardinality(sets)
        let first = sorted[0]
        first.forEachWhile({ member in
            for other in sorted.dropFirst() where other !== first {
                if !other.contains(member) { return true }
            }
            return body(member)
        })
    }

    /// SINTERSTORE's result set: built like Redis (an intset when the smallest source is one,
    /// else a listpack growing into a hashtable), then turned into an intset if every member is
    /// an integer and the set is small enough. May be empty.
    public static func intersection(_ sets: [SetObject], limits: CollectionLimits) -> SetObject {
        let sorted = sortedByCardinality(sets)
        let result = SetObject(encoding: sorted[0].encoding == .intset ? .intset : .listpack)
        var onlyIntegers = true
        intersect(sets) { member in
            if onlyIntegers && member.integerValue == nil { onlyIntegers = false }
            result.add(member, limits: limits)
            return true
        }
        if result.count > 0 && onlyIntegers { result.convertToIntsetIfSmall(limits) }
        return result
    }

    /// SUNION / SUNIONSTORE's result: every member of every present set (nil = missing key),
    /// added in order to a set that starts as an empty intset, so it has the encoding and
    /// member order Redis's would.
    public static func union(_ sets: [SetObject?], limits: CollectionLimits) -> SetObject {
        let result = SetObject(encoding: .intset)
        for set in sets {
            guard let set else { continue }
            set.forEach { result.add($0, limits: limits) }
        }
        return result
    }

    /// SDIFF / SDIFFSTORE's result: the members of the first set (nil = missing key) in none of
    /// the others. Like Redis, picks between testing each member of the first set against the
    /// others and copying the first set then removing the others' members, by estimated work
    /// (the result's encoding can depend on it). Empty when the first set appears again.
    public static func difference(_ sets: [SetObject?], limits: CollectionLimits) -> SetObject {
        let result = SetObject(encoding: .intset)
        guard let first = sets[0] else { return result }
        let others = sets.dropFirst()
        if others.contains(where: { $0 === first }) { return result }
        var oneWork = 0
        var twoWork = 0
        for set in sets {
            guard let set else { continue }
            oneWork &+= first.count
            twoWork &+= set.count
        }
        oneWork /= 2
        if oneWork <= twoWork {
            // Subtract the biggest sets first: a member present in one is found sooner.
            var subtract: [SetObject] = []
            for set in others { if let set { subtract.append(set) } }
            stableSortDescending(&subtract)
            first.forEach { member in
                for other in subtract where other.contains(member) { return }
                result.add(member, limits: limits)
            }
        } else {
            first.forEach { result.add($0, limits: limits) }
            for set in others {
                guard let set else { continue }
                set.forEach { result.remove($0) }
                if result.count == 0 { break }
            }
        }
        return result
    }

    /// Sorts by decreasing cardinality keeping the given order among equals.
    static func stableSortDescending(_ sets: inout [SetObject]) {
        for i in 1 ..< Swift.max(sets.count, 1) {
            let item = sets[i]
            let size = item.count
            var j = i
            while j > 0 && sets[j &- 1].count < size {
                sets[j] = sets[j &- 1]
                j &-= 1
            }
            sets[j] = item
        }
    }
}
