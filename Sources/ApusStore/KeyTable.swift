/// The keyspace hash table of one shard: open addressing over 8-byte slots that point at `Entry`
/// blocks, with linear probing and incremental rehashing (no stop-the-world resize).
///
/// Memory: one `UInt64` per slot and nothing per entry beyond the entry block itself, so the
/// table costs 8 bytes / load factor per key: 10.7 to 21.3 bytes while it grows (load 3/8 to
/// 3/4), at most 64 when deletions leave it 1/8 full, the point where it shrinks.
///
/// Where a key goes (see `KeySlot` for the slot bits):
/// - position = `keyTablePosition(hash)`; home slot = the top log2(capacity) bits of it. Using
///   the *top* bits makes home order follow position order in every table size: slot `h` of a
///   table of 2^k slots covers the same positions as slots `2h` and `2h+1` of one of 2^(k+1).
///   SCAN relies on that (below).
/// - The caller passes `hash = keyHash(key)`. The table recomputes it from the entry's key when
///   it moves an entry to a bigger array (a slot does not keep enough hash bits), and when a
///   displacement is too large for its 7 bits.
///
/// Incremental rehash (growth past 3/4 full; shrink below 1/8 full, Redis's HASHTABLE_MIN_FILL):
/// a second array (`target`) is allocated and `main` is drained into it a few slots per mutating
/// operation, and by `rehashStep(slots:)` from a cron.
/// - New entries go to `target`; lookups, replacements and deletions consult both arrays.
/// - Draining starts at slot `rehashStart`, which was empty when the rehash began, and proceeds
///   circularly; `rehashDone` slots from there have been moved and zeroed. Count slots from
///   `rehashStart` ("rel" positions): no probe run crosses an empty slot and `main` takes no
///   inserts while draining, so no run crosses rel 0 and every run lies in increasing rel order.
///   Invariant of `main` while draining: for an entry at rel `p` with home at rel `h`, `h ≤ p`
///   and every slot at rel `max(h, rehashDone)...p` is occupied. So a lookup whose home was
///   already drained starts probing at the drain cursor, and backward-shift deletion still
///   works (it only moves entries back within their run, never into the drained part).
/// - The per-operation budget is set at rehash start so the drain always finishes before
///   `target` reaches its own maximum load, however inserts and drain steps interleave.
///
/// SCAN: a cursor is a position (its top 48 bits). One call reports every entry whose position
/// lies in a range `[cursor, next)` that ends just after a run of occupied slots: homes are
/// contiguous in position order, so that is one walk over one run. The ranges of successive
/// calls tile the position space, and during any one call every entry is in `main` or
/// `target`, so a key present for the whole scan is reported at least once, across any number
/// of resizes. That is Redis's dictScan guarantee without its reverse-binary cursor: with linear
/// probing, a bucket's entries spread into the following run, so visiting buckets in
/// reverse-binary order would re-read every run about once per slot it spans (~9 slot reads per
/// bucket at load 3/4). Keys are reported twice only when the table shrank mid-scan.
///
/// Not thread-safe: the owning shard serialises access under its lock. Entries are owned by
/// the caller, who frees them (`removeAll` hands every entry back before the arrays go).
public struct KeyTable: ~Copyable {
    /// The table; during a rehash, the one being drained.
    @usableFromInline var main: KeySlotArray
    /// The rehash destination (unallocated when not rehashing).
    @usableFromInline var target: KeySlotArray
    /// First slot of `main` drained (empty when the rehash began).
    @usableFromInline var rehashStart: Int
    /// Slots of `main` drained so far, counted circularly from `rehashStart`; 0 when not rehashing.
    @usableFromInline var rehashDone: Int
    /// Slots of `main` each mutating operation drains during this rehash.
    @usableFromInline var rehashBudget: Int
    /// Drained slots (counted like `rehashDone`) whose pages were given back to the OS.
    @usableFromInline var rehashReleased: Int
    /// Bytes of `main` given back to the OS by those releases (memory accounting).
    @usableFromInline var releasedBytes: Int
    /// After a refused shrink, the count below which shrinking is considered again (0: any).
    @usableFromInline var shrinkCheckBelow: Int

    /// Smallest allocated capacity; an empty table allocates nothing.
    public static let minimumCapacity = 8
    /// SCAN cursors are below 2^48, so a keyspace can put a shard index in the top 16 bits.
    public static let scanCursorBits = 48

    @inlinable
    public init() {
        main = .unallocated
        target = .unallocated
        rehashStart = 0
        rehashDone = 0
        rehashBudget = 0
        rehashReleased = 0
        releasedBytes = 0
        shrinkCheckBelow = 0
    }

    deinit {
        main.deallocate()
        target.deallocate()
    }

    // MARK: Size

    @inlinable
    public var count: Int { main.count &+ target.count }

    @inlinable
    public var isRehashing: Bool { target.base != nil }

    /// Slots of the table this one is (or is becoming, during a rehash).
    @inlinable
    public var capacity: Int { isRehashing ? target.capacity : main.capacity }

    /// Bytes allocated for slot arrays (their slots).
    @inlinable
    public var slotBytes: Int { (main.capacity &+ target.capacity) &* MemoryLayout<UInt64>.stride }

    /// Bytes the slot arrays take on the heap (memory accounting), in O(1): the malloc chunk of
    /// a small array; a mapped one's pages, less those a rehash drain already gave back. A
    /// mapped rehash target counts in full from the start, though its pages fault in as
    /// entries land (all of them well before the drain ends).
    @inlinable
    public var heapBytes: Int { main.heapBytes &- releasedBytes &+ target.heapBytes }

    /// The part of `heapBytes` in mapped arrays (outside malloc's statistics).
    @inlinable
    public var mappedSlotBytes: Int { main.mappedBytes &- releasedBytes &+ target.mappedBytes }

    // MARK: Lookup

    /// The entry for `key`; `hash` must be `keyHash(key)`.
    @inlinable
    public func find(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Entry? {
        let position = keyTablePosition(hash)
        let tag = hash & KeySlot.tagMask
        if main.count > 0, let i = main.index(of: key, tag: tag, from: mainProbeStart(position)) {
            return KeySlot.entry(main[i])
        }
        if target.count > 0, let i = target.index(of: key, tag: tag, from: target.home(ofPosition: position)) {
            return KeySlot.entry(target[i])
        }
        return nil
    }

    /// Where a probe for `position` starts in `main`: its home, or the drain cursor when the
    /// home was already migrated (the rest of the chain starts there).
    @inlinable
    func mainProbeStart(_ position: UInt64) -> Int {
        let home = main.home(ofPosition: position)
        if rehashDone > 0, (home &- rehashStart) & main.mask < rehashDone {
            return (rehashStart &+ rehashDone) & main.mask
        }
        return home
    }

    // MARK: Mutation

    /// Adds `entry`, whose key must not be present; `hash` must be `keyHash(entry.key)`.
    @inlinable
    public mutating func insert(_ entry: Entry, hash: UInt64) {
        assert(find(entry.key, hash: hash) == nil, "KeyTable.insert: key already present")
        let bits = KeySlot.bits(of: entry, hash: hash)
        let position = keyTablePosition(hash)
        if isRehashing {
            rehashStep(slots: rehashBudget)
        }
        if isRehashing {
            // Cannot happen with the budget chosen in `startResize`; kept so a bug there costs
            // a pause instead of an over-full array.
            if count &+ 1 > target.maxLoad { finishRehash() }
        }
        if !isRehashing {
            if main.base == nil {
                main = KeySlotArray(capacity: KeyTable.minimumCapacity)
            } else if main.count &+ 1 > main.maxLoad {
                shrinkCheckBelow = 0
                startResize(to: KeyTable.capacity(for: main.count &+ 1))
            }
        }
        if isRehashing {
            target.place(bits, home: target.home(ofPosition: position))
        } else {
            main.place(bits, home: main.home(ofPosition: position))
        }
    }

    /// Puts `new` in the slot of `old`, which must be in the table with the same key (a
    /// reallocated block, or one that gained or lost its expire time).
    @inlinable
    public mutating func replace(_ old: Entry, with new: Entry, hash: UInt64) {
        if isRehashing { rehashStep(slots: rehashBudget) }
        let position = keyTablePosition(hash)
        let oldBits = UInt64(UInt(bitPattern: old.pointer))
        let newBits = KeySlot.bits(of: new, hash: hash)
        let keep = KeySlot.displacementMask | KeySlot.tagMask
        if main.count > 0, let i = main.index(ofPointer: oldBits, from: mainProbeStart(position)) {
            main[i] = (main[i] & keep) | (newBits & ~keep)
            return
        }
        if target.count > 0, let i = target.index(ofPointer: oldBits, from: target.home(ofPosition: position)) {
            target[i] = (target[i] & keep) | (newBits & ~keep)
            return
        }
        preconditionFailure("KeyTable.replace: entry not in the table")
    }

    /// Removes `key` and returns its entry, which the caller frees.
    @inlinable
    public mutating func remove(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Entry? {
        if isRehashing { rehashStep(slots: rehashBudget) }
        let position = keyTablePosition(hash)
        let tag = hash & KeySlot.tagMask
        if main.count > 0, let i = main.index(of: key, tag: tag, from: mainProbeStart(position)) {
            let entry = KeySlot.entry(main[i])
            main.removeShifting(at: i)
            if isRehashing, main.count == 0 { finishRehash() }
            if !isRehashing { shrinkIfSparse() }
            return entry
        }
        if target.count > 0, let i = target.index(of: key, tag: tag, from: target.home(ofPosition: position)) {
            let entry = KeySlot.entry(target[i])
            target.removeShifting(at: i)
            return entry
        }
        return nil
    }

    /// Hands every entry to `body` (which frees it) and releases the slot arrays.
    public mutating func removeAll(_ body: (Entry) -> Void) {
        forEach(body)
        main.deallocate()
        target.deallocate()
        main = .unallocated
        target = .unallocated
        rehashStart = 0
        rehashDone = 0
        rehashBudget = 0
        rehashReleased = 0
        releasedBytes = 0
        shrinkCheckBelow = 0
    }

    // MARK: Resizing

    /// Capacity for `count` entries at most half full (so a fresh table has room to grow and to
    /// shrink before the next resize).
    @inlinable
    static func capacity(for count: Int) -> Int {
        var capacity = minimumCapacity
        while capacity / 2 < count { capacity &*= 2 }
        return capacity
    }

    @usableFromInline
    mutating func shrinkIfSparse() {
        let capacity = main.capacity
        guard capacity > KeyTable.minimumCapacity, main.count < capacity / 8 else { return }
        guard shrinkCheckBelow == 0 || main.count < shrinkCheckBelow || main.count == 0 else { return }
        // At most 16× at once, since the drain budget grows with the capacity ratio; an empty
        // table has nothing to drain and goes straight to the minimum.
        let floor = main.count == 0 ? KeyTable.minimumCapacity : capacity / 16
        var newCapacity = Swift.max(KeyTable.capacity(for: main.count), floor)
        // Keys deleted in SCAN order (position order) leave the survivors in a narrow band of
        // positions, and homes keep position order: a table sized by the count alone would
        // pack them into one long run that every probe walks. Take the smallest size that
        // spreads them; if that is no shrink, wait until half of them are gone.
        while newCapacity < capacity && main.count > 0 && packsTooDensely(into: newCapacity) { newCapacity &*= 2 }
        guard newCapacity < capacity else {
            shrinkCheckBelow = main.count / 2
            return
        }
        shrinkCheckBelow = 0
        startResize(to: newCapacity)
    }

    /// Whether moving `main`'s entries into `newCapacity` slots would form a run of occupied
    /// slots longer than `maxShrinkRun(newCapacity)` (a miss walks a whole run). At the load a
    /// shrink targets (at most 1/2) random homes make runs of about 3.6·log2(capacity) at
    /// worst, so only real clustering trips it. The placement is simulated in home order:
    /// walking `main` from an empty slot visits homes in ascending order (wrapping once), each
    /// entry landing at its home or just after the previous one. The walk goes round twice: an
    /// empty slot of `main` is not an empty one of the smaller array, so the run the last homes
    /// form can spill over the first ones, which the second lap sees.
    @usableFromInline
    func packsTooDensely(into newCapacity: Int) -> Bool {
        var shift = 0
        while (main.capacity >> shift) > newCapacity { shift &+= 1 }
        let limit = KeyTable.maxShrinkRun(newCapacity)
        var start = 0
        while main[start] != KeySlot.empty { start &+= 1 }  // exists: load ≤ 3/4
        var next = Int.min
        var runStart = 0
        var previous = -1
        var wrapped = 0
        for step in 0 ..< 2 &* main.capacity {
            let i = (start &+ step) & main.mask
            let slot = main[i]
            guard slot != KeySlot.empty else { continue }
            var home = main.home(ofSlot: slot, at: i) >> shift
            if home &+ wrapped < previous &- newCapacity / 2 { wrapped &+= newCapacity }
            home &+= wrapped
            previous = home
            if home >= next {
                runStart = home
                next = home &+ 1
            } else {
                next &+= 1
            }
            if next &- runStart > limit { return true }
        }
        return false
    }

    /// The longest run a shrink may create in a table of `capacity` slots (see
    /// `packsTooDensely(into:)`): 4·log2(capacity) + 32.
    @inlinable
    static func maxShrinkRun(_ capacity: Int) -> Int {
        4 &* (Int.bitWidth &- capacity.leadingZeroBitCount &- 1) &+ 32
    }

    /// Starts moving `main` into a new array of `newCapacity` slots.
    @usableFromInline
    mutating func startResize(to newCapacity: Int) {
        precondition(!isRehashing)
        if main.count == 0 {
            // Nothing to move: swap at once.
            main.deallocate()
            main = KeySlotArray(capacity: newCapacity)
            return
        }
        target = KeySlotArray(capacity: newCapacity)
        var start = 0
        while main[start] != KeySlot.empty { start &+= 1 }  // exists: load ≤ 3/4
        rehashStart = start
        rehashDone = 0
        rehashReleased = 0
        // Each insert first drains `rehashBudget` slots. With headroom H = target.maxLoad - count,
        // the (H+1)-th insert after this one comes after ≥ H steps, which have drained
        // ≥ H * ceil(capacity / H) ≥ capacity slots, so `target` never overfills.
        let headroom = target.maxLoad &- main.count
        rehashBudget = (main.capacity &+ headroom &- 1) / headroom &+ 1
    }

    /// Drains up to `slots` slots of the old array into the new one; returns whether rehash work
    /// remains. Each mutating operation does a step of its own; a shard cron can call this too.
    @discardableResult
    public mutating func rehashStep(slots: Int) -> Bool {
        guard isRehashing else { return false }
        drain(slots: slots)
        if main.count == 0 { finishRehash() }
        return isRehashing
    }

    /// Moves the live entries among the next `slots` slots of `main` to `target`.
    @usableFromInline
    mutating func drain(slots: Int) {
        var remaining = slots
        while remaining > 0, main.count > 0 {
            let i = (rehashStart &+ rehashDone) & main.mask
            let slot = main[i]
            if slot != KeySlot.empty { migrate(slot, from: i) }
            main[i] = KeySlot.empty
            rehashDone &+= 1
            remaining &-= 1
        }
        if rehashDone &- rehashReleased >= KeyTable.releaseBatch { releaseDrainedPages() }
    }

    /// Slots drained between two page releases (64 KiB of slots, 16 pages).
    @usableFromInline static let releaseBatch = 8192

    @usableFromInline
    mutating func releaseDrainedPages() {
        // The drained slots since the last release, in at most two pieces (the drain wraps).
        let from = (rehashStart &+ rehashReleased) & main.mask
        let to = (rehashStart &+ rehashDone) & main.mask
        if from < to {
            releasedBytes &+= main.releasePages(from: from, to: to)
        } else {
            releasedBytes &+= main.releasePages(from: from, to: main.capacity)
            releasedBytes &+= main.releasePages(from: 0, to: to)
        }
        rehashReleased = rehashDone
    }

    @usableFromInline
    mutating func migrate(_ slot: UInt64, from index: Int) {
        let home: Int
        if target.shift > main.shift, KeySlot.displacement(slot) < KeySlot.saturatedDisplacement {
            // Shrinking: the new home is a prefix of the old one; no need to rehash the key.
            home = main.home(ofSlot: slot, at: index) &>> Int(target.shift &- main.shift)
        } else {
            home = target.home(ofPosition: keyTablePosition(keyHash(KeySlot.entry(slot).key)))
        }
        target.place(slot, home: home)
        main.count &-= 1
    }

    /// Completes the rehash at once.
    @usableFromInline
    mutating func finishRehash() {
        drain(slots: main.capacity)
        main.deallocate()
        main = target
        target = .unallocated
        rehashStart = 0
        rehashDone = 0
        rehashBudget = 0
        rehashReleased = 0
        releasedBytes = 0
    }
}
