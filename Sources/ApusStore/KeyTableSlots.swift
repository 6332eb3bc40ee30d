import CSystemShims

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 8-byte slot of `KeyTable`: an entry pointer with the metadata the table needs to probe,
/// delete and scan without touching the entry's memory.
///
///     bit   0      entry has an expire time (the active-expire walk skips persistent keys)
///     bits  3..47  entry pointer (8-byte aligned and below 2^48, so its other bits are 0)
///     bits 48..54  displacement: distance from the home slot, saturated at 127
///     bits 55..63  tag: the key hash's bits 55..63, rejects most mismatches before a key compare
///
/// The expire bit mirrors `entry.hasExpire`, which a block never changes (adding or removing a
/// TTL reallocates the entry, and the caller then calls `KeyTable.replace`).
///
/// 0 is an empty slot; a live slot always holds a pointer. There are no tombstones: deletion
/// shifts entries back (see `KeySlotArray.removeShifting`), also during a rehash.
///
/// The displacement is what keeps deletion and SCAN cheap: backward-shift deletion and SCAN
/// both need each neighbour's home slot, and recomputing it would mean loading the neighbour's
/// key and running SipHash. Only displacements ≥ 127 (rare at load ≤ 3/4) fall back to that.
@usableFromInline
enum KeySlot {
    @usableFromInline static let empty: UInt64 = 0
    @usableFromInline static let expireBit: UInt64 = 1
    @usableFromInline static let pointerMask: UInt64 = 0x0000_FFFF_FFFF_FFF8
    @usableFromInline static let displacementShift: UInt64 = 48
    @usableFromInline static let displacementMask: UInt64 = 0x007F_0000_0000_0000
    @usableFromInline static let saturatedDisplacement = 127
    @usableFromInline static let tagMask: UInt64 = 0xFF80_0000_0000_0000

    /// Pointer, expire bit and tag of `entry`; displacement 0.
    @inlinable
    static func bits(of entry: Entry, hash: UInt64) -> UInt64 {
        let raw = UInt64(UInt(bitPattern: entry.pointer))
        // An entry outside the 48-bit user address space or not 8-byte aligned would corrupt
        // the metadata bits; Entry.allocate guarantees neither happens.
        precondition(raw & ~pointerMask == 0, "entry pointer does not fit a KeyTable slot")
        return raw | (entry.hasExpire ? expireBit : 0) | (hash & tagMask)
    }

    @inlinable
    static func entry(_ slot: UInt64) -> Entry {
        Entry(UnsafeMutableRawPointer(bitPattern: UInt(slot & pointerMask)).unsafelyUnwrapped)
    }

    @inlinable
    static func displacement(_ slot: UInt64) -> Int {
        Int(truncatingIfNeeded: (slot & displacementMask) &>> displacementShift)
    }

    @inlinable
    static func withDisplacement(_ slot: UInt64, _ distance: Int) -> UInt64 {
        let d = UInt64(truncatingIfNeeded: Swift.min(distance, saturatedDisplacement))
        return (slot & ~displacementMask) | (d &<< displacementShift)
    }
}

/// Where a key hash lands in the table's ordering: the home slot is the top bits of this value
/// and SCAN cursors walk it in increasing order.
///
/// The odd multiplier mixes every hash bit into the top bits, so the table does not depend on
/// which hash bits the keyspace uses to pick a shard (constant within one shard's table).
@inlinable
func keyTablePosition(_ hash: UInt64) -> UInt64 { hash &* 0x9E37_79B9_7F4A_7C15 }

/// Compares `count` bytes, eight at a time.
@inlinable
func keyBytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
    var i = 0
    while i &+ 8 <= count {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i &+= 8
    }
    while i < count {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i &+= 1
    }
    return true
}

/// Whether `entry` holds exactly the bytes of `key`.
@inlinable
func entryHasKey(_ entry: Entry, _ key: UnsafeRawBufferPointer) -> Bool {
    let stored = entry.key
    guard stored.count == key.count else { return false }
    if key.count == 0 { return true }
    return keyBytesEqual(stored.baseAddress.unsafelyUnwrapped, key.baseAddress.unsafelyUnwrapped, count: key.count)
}

/// One open-addressing slot array with linear probing: a plain value holding a pointer, whose
/// allocation `KeyTable` owns (copies of it are views, not owners).
///
/// Invariant (linear probing): every slot from an entry's home to its position is occupied, so
/// lookups stop at the first empty slot. At least one slot is always empty (load ≤ 3/4), so
/// every probe loop terminates. An array being drained by a rehash keeps a weaker form of it,
/// described at `KeyTable`.
@usableFromInline
struct KeySlotArray {
    @usableFromInline var base: UnsafeMutablePointer<UInt64>?
    /// capacity - 1 (capacity is a power of two ≥ `KeyTable.minimumCapacity`, or 0 with `base == nil`).
    @usableFromInline var mask: Int
    /// 64 - log2(capacity): the home slot of position `p` is `p >> shift`.
    @usableFromInline var shift: UInt64
    /// Entries held.
    @usableFromInline var count: Int

    @inlinable
    static var unallocated: KeySlotArray { KeySlotArray(base: nil, mask: 0, shift: 64, count: 0) }

    @inlinable
    init(base: UnsafeMutablePointer<UInt64>?, mask: Int, shift: UInt64, count: Int) {
        self.base = base
        self.mask = mask
        self.shift = shift
        self.count = count
    }

    /// Arrays of at least this many bytes are mapped directly rather than malloc'ed. 64 KiB, not
    /// more: with 64 shards per database a 1M-key table is 64 arrays of 256 KiB, and freed
    /// heap arrays from earlier growths stayed resident (measured +10 B/key RSS at 1 MiB).
    @usableFromInline static let mappedThreshold = 64 << 10

    /// A zeroed array, never memset: small ones from calloc, large ones (≥ 64 KiB) mapped
    /// anonymously, so their pages are zero until first touched (faults spread over the inserts
    /// and drain steps that touch them) and can be handed back while a rehash drains them.
    /// (glibc's calloc maps big blocks too, but only above a threshold that grows to 32 MiB.)
    @usableFromInline
    init(capacity: Int) {
        precondition(capacity >= 8 && capacity & (capacity - 1) == 0 && capacity <= 1 << 40)
        let bytes = capacity &* MemoryLayout<UInt64>.stride
        let raw: UnsafeMutableRawPointer?
        if bytes >= KeySlotArray.mappedThreshold {
            raw = apus_map_zeroed(bytes)  // mmap, counted in used_memory
        } else {
            raw = calloc(capacity, MemoryLayout<UInt64>.stride)
        }
        guard let raw else { fatalError("KeyTable: cannot allocate \(capacity) slots") }
        base = raw.bindMemory(to: UInt64.self, capacity: capacity)
        mask = capacity &- 1
        shift = UInt64(64 &- capacity.trailingZeroBitCount)
        count = 0
    }

    @usableFromInline
    func deallocate() {
        guard let base else { return }
        let bytes = capacity &* MemoryLayout<UInt64>.stride
        if bytes >= KeySlotArray.mappedThreshold {
            apus_unmap(base, bytes)
        } else {
            free(base)
        }
    }

    /// Gives the whole pages among slots `from..<to` (all empty) back to the OS; they read as
    /// zero afterwards. Spreads the cost of dropping a big drained array over the drain steps
    /// instead of one long munmap when the rehash completes. Only for mapped arrays. Returns
    /// the bytes released.
    @usableFromInline
    @discardableResult
    func releasePages(from: Int, to: Int) -> Int {
        guard capacity &* MemoryLayout<UInt64>.stride >= KeySlotArray.mappedThreshold, let base else { return 0 }
        let page = UInt(KeySlotArray.pageSize)
        let start = (UInt(bitPattern: base + from) &+ page &- 1) & ~(page &- 1)
        let end = UInt(bitPattern: base + to) & ~(page &- 1)
        guard end > start else { return 0 }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end &- start), Int32(MADV_DONTNEED))
        return Int(end &- start)
    }

    /// Bytes this array takes: its calloc chunk, or its mapped pages (memory accounting).
    @inlinable
    var heapBytes: Int {
        let bytes = capacity &* MemoryLayout<UInt64>.stride
        if bytes == 0 { return 0 }
        return bytes >= KeySlotArray.mappedThreshold ? bytes : heapBlockBytes(bytes)
    }

    /// Bytes of this array that are mapped rather than malloc'ed (not in mallinfo's figures).
    @inlinable
    var mappedBytes: Int {
        let bytes = capacity &* MemoryLayout<UInt64>.stride
        return bytes >= KeySlotArray.mappedThreshold ? bytes : 0
    }

    @usableFromInline static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    @inlinable
    var capacity: Int { base == nil ? 0 : mask &+ 1 }

    /// The most entries the array holds before it must grow: 3/4 of the slots, the load at which
    /// linear probing is still short (an unsuccessful search reads ~8.5 slots, all in 1-2 lines).
    @inlinable
    var maxLoad: Int { capacity &- capacity / 4 }

    @inlinable
    subscript(index: Int) -> UInt64 {
        get { base.unsafelyUnwrapped[index] }
        nonmutating set { base.unsafelyUnwrapped[index] = newValue }
    }

    @inlinable
    func home(ofPosition position: UInt64) -> Int { Int(truncatingIfNeeded: position &>> shift) }

    /// The home slot of the live entry in `slot` at `index`; reloads the key hash only when the
    /// stored displacement is saturated.
    @inlinable
    func home(ofSlot slot: UInt64, at index: Int) -> Int {
        let d = KeySlot.displacement(slot)
        if d < KeySlot.saturatedDisplacement { return (index &- d) & mask }
        return home(ofPosition: keyTablePosition(keyHash(KeySlot.entry(slot).key)))
    }

    /// Index of the live slot holding `key`, probing from `start` until an empty slot.
    @inlinable
    func index(of key: UnsafeRawBufferPointer, tag: UInt64, from start: Int) -> Int? {
        let base = self.base.unsafelyUnwrapped
        var i = start
        while true {
            let slot = base[i]
            if slot == KeySlot.empty { return nil }
            if slot & KeySlot.tagMask == tag, entryHasKey(KeySlot.entry(slot), key) {
                return i
            }
            i = (i &+ 1) & mask
        }
    }

    /// Index of the live slot whose pointer is `pointerBits`, probing from `start`.
    @inlinable
    func index(ofPointer pointerBits: UInt64, from start: Int) -> Int? {
        let base = self.base.unsafelyUnwrapped
        var i = start
        while true {
            let slot = base[i]
            if slot == KeySlot.empty { return nil }
            if slot & KeySlot.pointerMask == pointerBits { return i }
            i = (i &+ 1) & mask
        }
    }

    /// Puts `bits` (pointer, expire, tag) in the first empty slot from `home`.
    @inlinable
    mutating func place(_ bits: UInt64, home: Int) {
        let base = self.base.unsafelyUnwrapped
        var i = home
        var distance = 0
        while base[i] != KeySlot.empty {
            i = (i &+ 1) & mask
            distance &+= 1
        }
        base[i] = KeySlot.withDisplacement(bits, distance)
        count &+= 1
    }

    /// Empties slot `hole` by backward shift (Knuth's Algorithm R): each later entry of the run
    /// whose home is not in (hole, its position] moves back into the hole, so no probe chain is
    /// cut and no tombstone is needed. Entries only move backwards within their run and the run
    /// ends at an empty slot, which is why this is also safe in an array being drained (the
    /// hole is never in the drained part, and no run continues into it).
    @inlinable
    mutating func removeShifting(at hole: Int) {
        let base = self.base.unsafelyUnwrapped
        var hole = hole
        var j = hole
        while true {
            j = (j &+ 1) & mask
            let slot = base[j]
            if slot == KeySlot.empty { break }
            let distance = (j &- hole) & mask
            var d = KeySlot.displacement(slot)
            if d >= KeySlot.saturatedDisplacement { d = (j &- home(ofSlot: slot, at: j)) & mask }
            if d >= distance {
                base[hole] = KeySlot.withDisplacement(slot, d &- distance)
                hole = j
            }
        }
        base[hole] = KeySlot.empty
        count &-= 1
    }
}
