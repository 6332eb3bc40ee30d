/// Iteration over a `KeyTable`: SCAN, random sampling, the active-expire walk, full walks.
/// None of these mutate the table, and their callbacks must not either.
extension KeyTable {
    // MARK: SCAN

    /// Reports the entries of one range of positions and returns the cursor of the next range,
    /// or 0 when the whole space is covered. Start with cursor 0.
    ///
    /// Guarantee (Redis's SCAN): every key present from the first call to the last is reported
    /// at least once, whatever resizes happen in between; keys added or removed meanwhile may or
    /// may not be. A range ends just after a run of occupied slots, so a call costs one run.
    public func scan(cursor: UInt64, _ body: (Entry) -> Void) -> UInt64 {
        guard count > 0 else { return 0 }
        let cursorShift = UInt64(64 &- KeyTable.scanCursorBits)
        let first = (cursor & ((1 &<< UInt64(KeyTable.scanCursorBits)) &- 1)) &<< cursorShift

        // The range ends at the first empty slot of the standard array from the cursor's home:
        // no entry with a home in between lies beyond it.
        let standard = isRehashing ? target : main
        let start = standard.home(ofPosition: first)
        var end = start
        var wrapped = false
        while standard[end] != KeySlot.empty {
            end = (end &+ 1) & standard.mask
            if end == 0 { wrapped = true }
        }
        var last = UInt64.max
        if !wrapped, end != standard.mask {
            last = (UInt64(end) &<< standard.shift) | KeyTable.lowBits(standard.shift)
        }
        if isRehashing {
            // Also end on a boundary of `main`'s (maybe coarser) slots, so no slot of either
            // array straddles two calls.
            last |= KeyTable.lowBits(main.shift)
            KeyTable.visitStandard(target, from: target.home(ofPosition: first),
                                   through: target.home(ofPosition: last), body)
            visitDraining(from: main.home(ofPosition: first), through: main.home(ofPosition: last), body)
        } else {
            KeyTable.visitStandard(main, from: start, through: main.home(ofPosition: last), body)
        }
        return last == UInt64.max ? 0 : (last &+ 1) &>> cursorShift
    }

    @inlinable
    static func lowBits(_ shift: UInt64) -> UInt64 { (1 &<< shift) &- 1 }

    /// Reports the entries of a standard array whose home is in `first...last`: they lie from
    /// `first` on, each after an unbroken run from its home, so the walk can stop at the first
    /// empty slot at or past `last`.
    static func visitStandard(_ array: KeySlotArray, from first: Int, through last: Int, _ body: (Entry) -> Void) {
        let capacity = array.capacity
        let homes = last &- first &+ 1
        var i = first
        var steps = 0
        while steps < capacity {
            let slot = array[i]
            if slot == KeySlot.empty {
                if steps >= homes &- 1 { break }
            } else {
                let home = array.home(ofSlot: slot, at: i)
                if home >= first, home <= last { body(KeySlot.entry(slot)) }
            }
            i = (i &+ 1) & array.mask
            steps &+= 1
        }
    }

    /// `visitStandard` for `main` while it is drained. In rel positions (counted from
    /// `rehashStart`), an entry with home at rel `h` lies after an unbroken run starting at
    /// `max(h, rehashDone)`, and no run crosses rel 0. The homes `first...last` may wrap past
    /// rel 0, giving two rel intervals; the second walk stops where the first begins.
    func visitDraining(from first: Int, through last: Int, _ body: (Entry) -> Void) {
        let capacity = main.capacity
        let relFirst = (first &- rehashStart) & main.mask
        let relLast = (last &- rehashStart) & main.mask
        if relFirst <= relLast {
            visitDrainingRun(from: Swift.max(relFirst, rehashDone), through: relLast, before: capacity,
                             homes: first...last, body)
        } else {
            let upper = Swift.max(relFirst, rehashDone)
            visitDrainingRun(from: rehashDone, through: relLast, before: upper, homes: first...last, body)
            visitDrainingRun(from: upper, through: capacity &- 1, before: capacity, homes: first...last, body)
        }
    }

    func visitDrainingRun(from relStart: Int, through relLast: Int, before relLimit: Int,
                          homes: ClosedRange<Int>, _ body: (Entry) -> Void) {
        var r = relStart
        while r < relLimit {
            let i = (rehashStart &+ r) & main.mask
            let slot = main[i]
            if slot == KeySlot.empty {
                if r >= relLast { break }
            } else if homes.contains(main.home(ofSlot: slot, at: i)) {
                body(KeySlot.entry(slot))
            }
            r &+= 1
        }
    }

    // MARK: Sampling and walks

    /// A random entry (RANDOMKEY, eviction sampling): a uniformly chosen slot, retried while
    /// empty, so every entry is equally likely; a sparse table falls back to the next entry
    /// after a random slot.
    public func randomEntry<G: RandomNumberGenerator>(using rng: inout G) -> Entry? {
        guard count > 0 else { return nil }
        let mainSlots = main.capacity
        let slots = mainSlots &+ target.capacity
        for _ in 0..<64 {
            let i = Int.random(in: 0..<slots, using: &rng)
            let slot = i < mainSlots ? main[i] : target[i &- mainSlots]
            if slot != KeySlot.empty { return KeySlot.entry(slot) }
        }
        var i = Int.random(in: 0..<slots, using: &rng)
        for _ in 0..<slots {
            let slot = i < mainSlots ? main[i] : target[i &- mainSlots]
            if slot != KeySlot.empty { return KeySlot.entry(slot) }
            i = i &+ 1 == slots ? 0 : i &+ 1
        }
        return nil
    }

    /// Calls `body` for every entry.
    public func forEach(_ body: (Entry) -> Void) {
        KeyTable.forEach(in: main, body)
        KeyTable.forEach(in: target, body)
    }

    static func forEach(in array: KeySlotArray, _ body: (Entry) -> Void) {
        guard array.count > 0 else { return }
        for i in 0..<array.capacity {
            let slot = array[i]
            if slot != KeySlot.empty { body(KeySlot.entry(slot)) }
        }
    }

    /// Active-expire walk: visits up to `maxSlots` slots starting at `cursor`, calling `body` for
    /// entries whose slot has the expire tag (persistent keys are skipped without touching their
    /// memory). Returns the next cursor, 0 after the last slot. The body must not mutate the
    /// table (collect, then remove).
    ///
    /// The cursor indexes `main`'s slots then `target`'s; a resize between calls may make one
    /// pass skip or repeat some slots, which the next pass makes up for.
    public func visitExpiring(from cursor: Int, maxSlots: Int, _ body: (Entry) -> Void) -> Int {
        let mainSlots = main.capacity
        let slots = mainSlots &+ target.capacity
        var i = cursor >= 0 && cursor < slots ? cursor : 0
        var remaining = maxSlots
        while remaining > 0, i < slots {
            let slot = i < mainSlots ? main[i] : target[i &- mainSlots]
            if slot & KeySlot.expireBit != 0 { body(KeySlot.entry(slot)) }
            i &+= 1
            remaining &-= 1
        }
        return i >= slots ? 0 : i
    }
}
