import ApusRESP

/// Why a read-modify-write of a hash field (HINCRBY, HINCRBYFLOAT) did not happen; the command
/// layer answers with Redis's error for each.
public enum HashOpError: Error, Equatable, Sendable {
    /// "ERR hash value is not an integer"
    case notInteger
    /// "ERR increment or decrement would overflow"
    case overflow
    /// "ERR hash value is not a float"
    case notFloat
    /// "ERR increment would produce NaN or Infinity"
    case nanOrInfinity
}

/// The fields of a hashtable-encoded hash: a `KeyTable` of `Entry` blocks whose key is the
/// field and whose value bytes are the hash value (one malloc per field, no TTL, no object).
/// The table gives incremental rehash, HSCAN cursors that survive growth and uniform sampling.
@usableFromInline
final class HashFieldTable {
    @usableFromInline var table = KeyTable()
    /// Heap bytes of the field entries (`Entry.allocatedSize` summed), kept as they come and go.
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
    var allocatedBytes: Int { HashFieldTable.instanceBytes &+ table.heapBytes &+ entryBytes }

    /// `allocatedBytes` summed entry by entry (tests check the running count against it).
    func recomputeAllocatedBytes() -> Int {
        var bytes = HashFieldTable.instanceBytes &+ table.heapBytes
        table.forEach { bytes &+= $0.allocatedSize }
        return bytes
    }

    /// Extra slots drained per insert or removal while the table resizes. The keyspace's tables
    /// also rehash from the cron, a hash's only when written; with the table's own budget alone
    /// (which ends the drain just before the new array fills) a hash that stopped growing kept
    /// its old array half-drained: +3 MB RSS measured on a 1M-field hash, +8 B/field on
    /// 1,000 hashes of 1,000 fields.
    @usableFromInline static let extraRehashSlots = 16

    /// Adds a field known to be absent.
    @inlinable
    func insertNew(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, hash: UInt64) {
        let entry = Entry.allocate(key: field, valueLength: value.count, type: .string, encoding: 0, expireAt: nil)
        if value.count > 0 { entry.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
        entryBytes &+= entry.allocatedSize
        table.insert(entry, hash: hash)
        if table.isRehashing { table.rehashStep(slots: HashFieldTable.extraRehashSlots) }
    }

    /// Gives the field of `old` (in the table under `hash`) the value `value`: in place when
    /// the block has room and would not keep much slack, else in a new block.
    @inlinable
    func replaceValue(_ old: Entry, with value: UnsafeRawBufferPointer, hash: UInt64) {
        let capacity = old.valueCapacity
        if value.count <= capacity && capacity &- value.count < 32 {
            old.setValueLength(value.count)
            if value.count > 0 { old.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
            return
        }
        let new = Entry.allocate(key: old.key, valueLength: value.count, type: .string, encoding: 0, expireAt: nil)
        if value.count > 0 { new.mutableValue.baseAddress!.copyMemory(from: value.baseAddress!, byteCount: value.count) }
        table.replace(old, with: new, hash: hash)
        entryBytes &+= new.allocatedSize &- old.allocatedSize
        old.deallocate()
    }

    /// Sets `field` to `value`; returns true when the field is new.
    @inlinable
    func set(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
        let hash = keyHash(field)
        if let old = table.find(field, hash: hash) {
            replaceValue(old, with: value, hash: hash)
            return false
        }
        insertNew(field, value, hash: hash)
        return true
    }

    @inlinable
    func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        guard let entry = table.remove(field, hash: keyHash(field)) else { return false }
        entryBytes &-= entry.allocatedSize
        entry.deallocate()
        if table.isRehashing { table.rehashStep(slots: HashFieldTable.extraRehashSlots) }
        return true
    }
}

/// A hash key's value (Redis's OBJ_HASH, t_hash.c), in Redis 7.2's two encodings:
/// - `listpack`: one `PackedList` of alternating field and value elements, in insertion order
///   (an update keeps the field's place), while the hash has at most
///   `hash-max-listpack-entries` fields and every field and value written to it had at most
///   `hash-max-listpack-value` bytes;
/// - `hashtable`: a `HashFieldTable` (field and value in one block per field).
/// Conversion is one-way and happens exactly where t_hash.c makes it: `tryConversion` before
/// HSET/HMSET/HSETNX write (hashTypeTryConversion), and in `set` (hashTypeSet: a long field or
/// value before writing, too many fields after), which is the only check HINCRBY and
/// HINCRBYFLOAT get.
///
/// Values are kept as the bytes the client sent. Redis's listpack stores canonical integers as
/// integers, but reads them back as the same text, so every reply is the same.
///
/// Byte views handed to callbacks are valid only during the callback, under the shard's lock.
public final class HashObject: CollectionValue {
    // The encoding is derived from `fields` rather than stored: one byte more would push the
    // object into the next malloc size class (64 bytes instead of 48) for every hash key.
    @usableFromInline var packed = PackedList()
    @usableFromInline var fields: HashFieldTable?

    /// An empty listpack hash (createHashObject).
    public init() {}

    public var encoding: ObjectEncoding { fields == nil ? .listpack : .hashtable }

    /// Number of fields.
    public var count: Int {
        if let fields { return fields.count }
        return packed.count / 2
    }

    /// Bytes of this object's own heap block.
    @inlinable
    static var instanceBytes: Int {
        heapObjectBytes(storedBytes: MemoryLayout<PackedList>.size &+ MemoryLayout<HashFieldTable?>.size)
    }

    /// Heap bytes held (O(1)): this object, the listpack buffer, or the field table with its
    /// slot arrays and one block per field.
    @inlinable
    public var allocatedBytes: Int {
        var bytes = HashObject.instanceBytes &+ packed.heapBytes
        if let fields { bytes &+= fields.allocatedBytes }
        return bytes
    }

    /// `allocatedBytes` recomputed by walking every field (tests).
    public func recomputeAllocatedBytes() -> Int {
        HashObject.instanceBytes &+ packed.heapBytes &+ (fields?.recomputeAllocatedBytes() ?? 0)
    }

    public func duplicate() -> any CollectionValue {
        let copy = HashObject()
        if let fields {
            let target = HashFieldTable()
            fields.table.forEach { target.insertNew($0.key, $0.value, hash: keyHash($0.key)) }
            copy.fields = target
        } else {
            copy.packed = packed.deepCopy()
        }
        return copy
    }

    // MARK: Encoding conversion

    /// listpack.c's LISTPACK_MAX_SAFETY_SIZE: no listpack grows past 1 GiB (lpSafeToAdd).
    @usableFromInline static let listpackSafetySize = 1 << 30

    /// hashTypeTryConversion, before a command writes `newFields` field/value pairs whose
    /// arguments are at most `longestArgument` bytes long and `totalBytes` long together.
    /// Redis 7.2 counts the pairs as new even if some fields repeat or exist: HSET with more
    /// pairs than `hash-max-listpack-entries` always makes a hashtable.
    public func tryConversion(newFields: Int, longestArgument: Int, totalBytes: Int, limits: CollectionLimits) {
        guard fields == nil else { return }
        if newFields > limits.hashMaxListpackEntries || longestArgument > limits.hashMaxListpackValue
            || packed.byteCount &+ totalBytes > HashObject.listpackSafetySize {
            convertToHashtable()
        }
    }

    /// Moves every pair into a hashtable (hashTypeConvertListpack).
    @usableFromInline
    func convertToHashtable() {
        guard fields == nil else { return }
        let table = HashFieldTable()
        forEach { field, value in table.insertNew(field, value, hash: keyHash(field)) }
        packed.removeAll()
        fields = table
    }

    @inlinable
    func convertIfTooMany(_ limits: CollectionLimits) {
        if fields == nil && packed.count / 2 > limits.hashMaxListpackEntries { convertToHashtable() }
    }

    // MARK: Reads

    /// Calls `body` with the value of `field`; nil when the hash has no such field.
    @inlinable
    public func withValue<R>(forField field: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R? {
        if let fields {
            guard let entry = fields.table.find(field, hash: keyHash(field)) else { return nil }
            return try body(entry.value)
        }
        return try packed.withElements { view -> R? in
            guard let offset = view.firstIndex(of: field, stride: 2) else { return nil }
            return try body(view[view.index(after: offset)])
        }
    }

    /// A copy of the value of `field` (SORT's `BY`/`GET key->field`), nil when absent.
    public func value(forField field: UnsafeRawBufferPointer) -> Bytes? {
        withValue(forField: field) { Bytes($0) }
    }

    /// Whether `field` exists (HEXISTS).
    @inlinable
    public func contains(_ field: UnsafeRawBufferPointer) -> Bool {
        withValue(forField: field) { _ in () } != nil
    }

    /// Length of the value of `field`, 0 when absent (HSTRLEN).
    @inlinable
    public func valueLength(forField field: UnsafeRawBufferPointer) -> Int {
        withValue(forField: field) { $0.count } ?? 0
    }

    /// Calls `body` with every field and value: insertion order for a listpack, table order for
    /// a hashtable. `body` must not mutate the hash.
    @inlinable
    public func forEach(_ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        if let fields {
            fields.table.forEach { body($0.key, $0.value) }
            return
        }
        packed.withElements { view in
            var offset = view.startIndex
            while offset < view.endIndex {
                let valueOffset = view.index(after: offset)
                body(view[offset], view[valueOffset])
                offset = view.index(after: valueOffset)
            }
        }
    }

    // MARK: Writes

    /// hashTypeSet: sets `field` to `value`, returns true when the field is new. A listpack
    /// becomes a hashtable first if the field or the value is longer than
    /// `hash-max-listpack-value`, and afterwards if it has more fields than
    /// `hash-max-listpack-entries` (also after an update: a limit lowered by CONFIG SET takes
    /// effect at the next write).
    @discardableResult
    public func set(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, limits: CollectionLimits) -> Bool {
        if fields == nil && (field.count > limits.hashMaxListpackValue || value.count > limits.hashMaxListpackValue) {
            convertToHashtable()
        }
        if let fields { return fields.set(field, value) }
        let valueOffset = packed.withElements { view -> Int? in
            view.firstIndex(of: field, stride: 2).map { view.index(after: $0) }
        }
        let inserted: Bool
        if let valueOffset {
            packed.replace(at: valueOffset, with: value)
            inserted = false
        } else {
            packed.append(field)
            packed.append(value)
            inserted = true
        }
        convertIfTooMany(limits)
        return inserted
    }

    /// hashTypeDelete: removes `field`; returns whether it existed. The caller deletes the key
    /// when the hash becomes empty.
    @discardableResult
    public func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        if let fields { return fields.remove(field) }
        guard let offset = packed.withElements({ $0.firstIndex(of: field, stride: 2) }) else { return false }
        packed.remove(from: offset, count: 2)
        return true
    }

    /// Where a field was found by a read-modify-write, so the write need not search again.
    @usableFromInline
    enum FieldLocation {
        case absent
        case packed(valueOffset: Int)
        case entry(Entry)
    }

    /// Finds `field` (whose `keyHash` is `hash` in a hashtable) and calls `body` with its value.
    @inlinable
    func locate(_ field: UnsafeRawBufferPointer, hash: UInt64,
                _ body: (UnsafeRawBufferPointer) -> Void) -> FieldLocation {
        if let fields {
            guard let entry = fields.table.find(field, hash: hash) else { return .absent }
            body(entry.value)
            return .entry(entry)
        }
        return packed.withElements { view -> FieldLocation in
            guard let offset = view.firstIndex(of: field, stride: 2) else { return .absent }
            let valueOffset = view.index(after: offset)
            body(view[valueOffset])
            return .packed(valueOffset: valueOffset)
        }
    }

    /// Stores the new value of a field found by `locate` (nothing changed in between), with
    /// `set`'s conversions.
    @inlinable
    func store(_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, at location: FieldLocation,
               hash: UInt64, limits: CollectionLimits) {
        switch location {
        case .entry(let entry):
            fields!.replaceValue(entry, with: value, hash: hash)
        case .packed(let valueOffset)
            where field.count <= limits.hashMaxListpackValue && value.count <= limits.hashMaxListpackValue:
            packed.replace(at: valueOffset, with: value)
            convertIfTooMany(limits)
        case .absent where fields != nil:
            fields!.insertNew(field, value, hash: hash)
        default:
            set(field, value, limits: limits)
        }
    }

    /// HINCRBY: adds `increment` to the integer value of `field` (0 when absent) and returns
    /// the result. Throws `.notInteger` when the value is not an integer as Redis's string2ll
    /// reads it, `.overflow` when the sum leaves the 64-bit range; nothing changes then.
    public func incrementInteger(_ field: UnsafeRawBufferPointer, by increment: Int,
                                 limits: CollectionLimits) throws(HashOpError) -> Int {
        let hash = fields == nil ? 0 : keyHash(field)
        var current: Int? = 0
        let location = locate(field, hash: hash) { current = parseInteger($0) }
        guard let current else { throw .notInteger }
        let (result, overflow) = current.addingReportingOverflow(increment)
        if overflow { throw .overflow }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: any Int in decimal
        let n = withUnsafeMutableBytes(of: &digits) { formatDecimal(result, into: $0) }
        withUnsafeBytes(of: &digits) { raw in
            store(field, UnsafeRawBufferPointer(rebasing: raw[0 ..< n]), at: location, hash: hash, limits: limits)
        }
        return result
    }

    /// HINCRBYFLOAT: adds `increment` (finite) to the value of `field` (0 when absent) read as a
    /// long double, stores the sum formatted like Redis (ld2string LD_STR_HUMAN) and shows that
    /// text to `result`. Throws `.notFloat` when the value is not a number as string2ld reads it,
    /// `.nanOrInfinity` when the sum is not finite; nothing changes then.
    public func incrementFloat(_ field: UnsafeRawBufferPointer, by increment: LongDouble, limits: CollectionLimits,
                               _ result: (UnsafeRawBufferPointer) -> Void) throws(HashOpError) {
        let hash = fields == nil ? 0 : keyHash(field)
        var current: LongDouble? = 0
        let location = locate(field, hash: hash) { current = parseLongDouble($0) }
        guard let current else { throw .notFloat }
        let sum = current + increment
        if sum.isNaN || sum.isInfinite { throw .nanOrInfinity }
        withUnsafeTemporaryAllocation(byteCount: maxLongDoubleChars, alignment: 1) { buffer in
            let n = formatLongDouble(sum, into: buffer)
            let text = UnsafeRawBufferPointer(rebasing: buffer[0 ..< n])
            store(field, text, at: location, hash: hash, limits: limits)
            result(text)
        }
    }

    // MARK: HSCAN

    /// One step of HSCAN, like Redis's scanGenericCommand: a listpack reports every pair and
    /// returns cursor 0 whatever the cursor given; a hashtable reports the pairs of successive
    /// table ranges until `count` fields were seen, the table is covered or `count * 10` ranges
    /// were read, and returns the next cursor (0 at the end). Pairs present for a whole scan are
    /// reported at least once, across any resize.
    public func scan(cursor: UInt64, count: Int,
                     _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) -> UInt64 {
        guard let fields else {
            forEach(body)
            return 0
        }
        var cursor = cursor
        var sampled = 0
        let (product, overflow) = count.multipliedReportingOverflow(by: 10)
        var budget = overflow ? Int.max : product
        repeat {
            cursor = fields.table.scan(cursor: cursor) { entry in
                sampled &+= 1
                body(entry.key, entry.value)
            }
            budget &-= 1
        } while cursor != 0 && budget > 0 && sampled < count
        return cursor
    }

    // MARK: Random fields (HRANDFIELD)

    /// Calls `body` with a uniformly chosen pair; the hash must not be empty.
    public func withRandomPair<G: RandomNumberGenerator, R>(
        using rng: inout G, _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> R
    ) -> R {
        precondition(count > 0, "withRandomPair: empty hash")
        if let fields {
            let entry = fields.table.randomEntry(using: &rng)!
            return body(entry.key, entry.value)
        }
        let pick = Int.random(in: 0 ..< packed.count / 2, using: &rng)
        return packed.withElements { view in
            var offset = view.startIndex
            for _ in 0 ..< pick &* 2 { offset = view.index(after: offset) }
            return body(view[offset], view[view.index(after: offset)])
        }
    }

    /// `n` independent uniform picks, repeats allowed (HRANDFIELD with a negative count, or 1).
    /// `body` returns false to stop early (the reply grew too large).
    public func forEachRandomPair<G: RandomNumberGenerator>(
        picks n: Int, using rng: inout G,
        _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool
    ) {
        guard n > 0, count > 0 else { return }
        if let fields {
            for _ in 0 ..< n {
                let entry = fields.table.randomEntry(using: &rng)!
                if !body(entry.key, entry.value) { return }
            }
            return
        }
        // Index the pairs once, then pick by index (Redis's lpRandomPairs).
        let size = packed.count / 2
        packed.withElements { view in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: size) { offsets in
                var offset = view.startIndex
                for i in 0 ..< size {
                    offsets[i] = offset
                    offset = view.index(after: view.index(after: offset))
                }
                for _ in 0 ..< n {
                    let fieldOffset = offsets[Int.random(in: 0 ..< size, using: &rng)]
                    if !body(view[fieldOffset], view[view.index(after: fieldOffset)]) { return }
                }
            }
        }
    }

    /// `n` distinct pairs chosen uniformly, for `0 < n < count` (HRANDFIELD with a positive
    /// count smaller than the hash). Like Redis 7.2: a listpack answers in its own order (one
    /// ordered selection pass, lpRandomPairsUnique); a hashtable copies its pairs and keeps a
    /// random `n` of them when `n` is more than a third of the hash, else picks at random and
    /// skips repeats.
    public func forEachRandomDistinctPair<G: RandomNumberGenerator>(
        count n: Int, using rng: inout G,
        _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void
    ) {
        let size = count
        guard n > 0, n < size else { return }
        if let fields {
            if n &* 3 > size {
                withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer.self, capacity: size) { all in
                    var i = 0
                    fields.table.forEach { all[i] = $0.pointer; i &+= 1 }
                    for j in 0 ..< n {
                        all.swapAt(j, Int.random(in: j ..< size, using: &rng))
                        let entry = Entry(all[j])
                        body(entry.key, entry.value)
                    }
                }
                return
            }
            var seen = Set<UnsafeMutableRawPointer>(minimumCapacity: n)
            while seen.count < n {
                let entry = fields.table.randomEntry(using: &rng)!
                if seen.insert(entry.pointer).inserted { body(entry.key, entry.value) }
            }
            return
        }
        packed.withElements { view in
            var needed = n
            var remaining = size
            var offset = view.startIndex
            while needed > 0 {
                let valueOffset = view.index(after: offset)
                if Int.random(in: 0 ..< remaining, using: &rng) < needed {
                    body(view[offset], view[valueOffset])
                    needed &-= 1
                }
                remaining &-= 1
                offset = view.index(after: valueOffset)
            }
        }
    }
}
