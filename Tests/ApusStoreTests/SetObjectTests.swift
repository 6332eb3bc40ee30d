import ApusStore
import Testing

@Suite struct SetObjectTests {
    private func members(_ set: SetObject) -> [[UInt8]] {
        var out: [[UInt8]] = []
        set.forEachMember { out.append(Array($0)) }
        return out
    }

    private func memberSet(_ set: SetObject) -> Set<[UInt8]> { Set(members(set)) }

    private func strings(_ set: SetObject) -> [String] {
        members(set).map { String(decoding: $0, as: UTF8.self) }
    }

    @discardableResult
    private func add(_ set: SetObject, _ member: String, _ limits: CollectionLimits = CollectionLimits()) -> Bool {
        Array(member.utf8).withUnsafeBytes { set.add($0, limits: limits) }
    }

    private func contains(_ set: SetObject, _ member: String) -> Bool {
        Array(member.utf8).withUnsafeBytes { set.contains($0) }
    }

    @discardableResult
    private func remove(_ set: SetObject, _ member: String) -> Bool {
        Array(member.utf8).withUnsafeBytes { set.remove($0) }
    }

    private func make(_ items: [String], _ limits: CollectionLimits = CollectionLimits()) -> SetObject {
        let set = Array(items[0].utf8).withUnsafeBytes {
            SetObject.create(firstMember: $0, sizeHint: items.count, limits: limits)
        }
        for item in items { add(set, item, limits) }
        return set
    }

    private func limits(intset: Int = 512, entries: Int = 128, value: Int = 64) -> CollectionLimits {
        var limits = CollectionLimits()
        limits.setMaxIntsetEntries = intset
        limits.setMaxListpackEntries = entries
        limits.setMaxListpackValue = value
        return limits
    }

    // MARK: IntSet

    @Test func intSetKeepsSortedDistinctValuesAcrossWidthUpgrades() {
        var set = IntSet()
        var model = Set<Int64>()
        var rng = FastRandomGenerator(seed: 7)
        let pools: [ClosedRange<Int64>] = [-300 ... 300, Int64(Int16.min) - 5 ... Int64(Int16.max) + 5,
                                           Int64(Int32.min) ... Int64(Int32.max), Int64.min ... Int64.max]
        for step in 0 ..< 4000 {
            let pool = pools[min(step / 1000, 3)]
            let value = Int64.random(in: pool, using: &rng)
            if Bool.random(using: &rng) || step % 3 == 0 {
                #expect(set.insert(value) == model.insert(value).inserted)
            } else {
                let victim = model.randomElement(using: &rng) ?? value
                #expect(set.remove(victim) == (model.remove(victim) != nil))
            }
            #expect(set.contains(value) == model.contains(value))
        }
        var all: [Int64] = []
        set.forEach { all.append($0) }
        #expect(all == model.sorted())
        #expect(set.width == 8)
        #expect(set.min == model.min() && set.max == model.max())
    }

    @Test func intSetUpgradePrependsNegativeAndAppendsPositive() {
        var set = IntSet()
        set.insert(5)
        set.insert(-7)
        #expect(set.width == 2)
        set.insert(-100_000)
        #expect(set.width == 4)
        set.insert(Int64.max)
        #expect(set.width == 8)
        var all: [Int64] = []
        set.forEach { all.append($0) }
        #expect(all == [-100_000, -7, 5, Int64.max])
        // Removing the wide values does not narrow the width (like Redis).
        set.remove(Int64.max)
        set.remove(-100_000)
        #expect(set.width == 8 && set.count == 2)
        #expect(!set.contains(Int64.min) && set.contains(-7))
    }

    // MARK: Encodings

    @Test func createPicksIntsetListpackOrHashtableFromFirstMemberAndHint() {
        #expect(make(["1", "2"]).encoding == .intset)
        #expect(make(["a", "1"]).encoding == .listpack)
        // An integer first member with a hint above set-max-intset-entries.
        let big = Array("1".utf8).withUnsafeBytes { SetObject.create(firstMember: $0, sizeHint: 513, limits: CollectionLimits()) }
        #expect(big.encoding == .hashtable)
        let mid = Array("1".utf8).withUnsafeBytes { SetObject.create(firstMember: $0, sizeHint: 128, limits: limits(intset: 100)) }
        #expect(mid.encoding == .listpack)
        let wide = Array("a".utf8).withUnsafeBytes { SetObject.create(firstMember: $0, sizeHint: 129, limits: CollectionLimits()) }
        #expect(wide.encoding == .hashtable)
        // Non-canonical integers are strings.
        #expect(make(["007"]).encoding == .listpack)
        #expect(make(["-0"]).encoding == .listpack)
        #expect(make(["9223372036854775808"]).encoding == .listpack)
        #expect(make(["-9223372036854775808"]).encoding == .intset)
    }

    @Test func intsetTakesAStringAsListpackWhenSmallElseHashtable() {
        let small = make(["3", "1", "2"])
        add(small, "x")
        #expect(small.encoding == .listpack)
        #expect(strings(small) == ["1", "2", "3", "x"])

        // Too many integers for a listpack.
        let many = make((0 ..< 200).map(String.init))
        #expect(many.encoding == .intset)
        add(many, "x")
        #expect(many.encoding == .hashtable)
        #expect(many.count == 201)

        // An integer longer (in decimal) than set-max-listpack-value.
        let long = make(["1", "12345678901"], limits(value: 10))
        add(long, "x", limits(value: 10))
        #expect(long.encoding == .hashtable)
        // A string longer than set-max-listpack-value.
        let longString = make(["1"])
        add(longString, String(repeating: "y", count: 65))
        #expect(longString.encoding == .hashtable)
    }

    @Test func intsetPastMaxEntriesBecomesHashtable() {
        let l = limits(intset: 4)
        let set = make(["1", "2", "3", "4"], l)
        #expect(set.encoding == .intset)
        add(set, "5", l)
        #expect(set.encoding == .hashtable)
        #expect(memberSet(set) == Set(["1", "2", "3", "4", "5"].map { Array($0.utf8) }))
    }

    @Test func listpackPastItsLimitsBecomesHashtable() {
        let l = limits(entries: 3, value: 5)
        let set = make(["a", "b", "c"], l)
        #expect(set.encoding == .listpack)
        #expect(!add(set, "a", l))
        #expect(set.encoding == .listpack)
        add(set, "d", l)
        #expect(set.encoding == .hashtable)

        let value = make(["a"], l)
        add(value, "abcde", l)
        #expect(value.encoding == .listpack)
        add(value, "abcdef", l)
        #expect(value.encoding == .hashtable)
        // Conversion is one way.
        remove(value, "abcdef")
        remove(value, "abcde")
        #expect(value.encoding == .hashtable && value.count == 1)
    }

    @Test func maybeConvertUsesTheSizeHintOnly() {
        let set = make(["1", "2"])
        set.maybeConvert(sizeHint: 512, limits: CollectionLimits())
        #expect(set.encoding == .intset)
        set.maybeConvert(sizeHint: 513, limits: CollectionLimits())
        #expect(set.encoding == .hashtable)
        let list = make(["a"])
        list.maybeConvert(sizeHint: 129, limits: CollectionLimits())
        #expect(list.encoding == .hashtable)
    }

    @Test func listpackKeepsInsertionOrderThroughRemovals() {
        let set = make(["c", "a", "1", "b"])
        remove(set, "a")
        add(set, "a")
        #expect(strings(set) == ["c", "1", "b", "a"])
        #expect(contains(set, "1") && !contains(set, "01"))
    }

    @Test func randomOperationsMatchAModelThroughEveryEncoding() {
        var rng = FastRandomGenerator(seed: 42)
        let l = limits(intset: 20, entries: 10, value: 6)
        for round in 0 ..< 30 {
            let set = SetObject(encoding: .intset)
            var model = Set<[UInt8]>()
            for _ in 0 ..< 300 {
                let r = Int.random(in: 0 ..< 10, using: &rng)
                let member: String
                if r < 5 || round % 3 == 0 {
                    member = String(Int.random(in: -40 ... 40, using: &rng))
                } else if r < 8 {
                    member = "m\(Int.random(in: 0 ..< 30, using: &rng))"
                } else {
                    member = String(repeating: "z", count: Int.random(in: 5 ... 8, using: &rng))
                }
                let bytes = Array(member.utf8)
                if Int.random(in: 0 ..< 3, using: &rng) == 0 {
                    #expect(remove(set, member) == (model.remove(bytes) != nil))
                } else {
                    #expect(add(set, member, l) == model.insert(bytes).inserted)
                }
                #expect(set.count == model.count)
                #expect(contains(set, member) == model.contains(bytes))
            }
            #expect(memberSet(set) == model)
            let copy = set.duplicate() as! SetObject
            #expect(copy.encoding == set.encoding && memberSet(copy) == model)
            add(copy, "fresh", l)
            #expect(!contains(set, "fresh"))
        }
    }

    // MARK: Algebra

    @Test func intersectionStoreEncodingsFollowRedis() {
        // Two listpacks whose common members are integers: an intset.
        let a = make(["a", "b", "c", "1", "3", "6", "x", "y", "z"])
        let b = make(["e", "f", "g", "1", "2", "3", "u", "v", "w"])
        let result = SetObject.intersection([a, b], limits: CollectionLimits())
        #expect(result.encoding == .intset)
        #expect(strings(result) == ["1", "3"])

        // Two hashtables whose common members are integers: an intset.
        let bigA = make(["a", "b", "c", "444"] + (1 ..< 130).map(String.init))
        let bigB = make(["e", "f", "g", "111"] + (1 ..< 130).map(String.init))
        #expect(bigA.encoding == .hashtable)
        let ints = SetObject.intersection([bigA, bigB], limits: CollectionLimits())
        #expect(ints.encoding == .intset && ints.count == 129)

        // Strings in common: a listpack in the order of the smallest set.
        let s1 = make(["q", "p", "o", "n"])
        let s2 = make(["n", "o", "p"])
        let strs = SetObject.intersection([s1, s2], limits: CollectionLimits())
        #expect(strs.encoding == .listpack)
        #expect(strings(strs) == ["n", "o", "p"])
    }

    @Test func unionIsBuiltFromAnEmptyIntset() {
        // Integers first (sorted) while they last, then a listpack in insertion order.
        let listpack = make(["3", "1", "b", "2"])
        let union = SetObject.union([listpack], limits: CollectionLimits())
        #expect(union.encoding == .listpack)
        #expect(strings(union) == ["1", "3", "b", "2"])
        let ints = SetObject.union([make(["5", "1"]), nil, make(["3"])], limits: CollectionLimits())
        #expect(ints.encoding == .intset && strings(ints) == ["1", "3", "5"])
        let empty = SetObject.union([nil, nil], limits: CollectionLimits())
        #expect(empty.count == 0)
    }

    @Test func differenceMatchesAModelAndPicksRedisAlgorithm() {
        let a = make(["1", "2", "3", "a", "b"])
        let b = make(["2", "a"])
        #expect(strings(SetObject.difference([a, b, nil], limits: CollectionLimits())) == ["1", "3", "b"])
        #expect(SetObject.difference([nil, a], limits: CollectionLimits()).count == 0)
        #expect(SetObject.difference([a, b, a], limits: CollectionLimits()).count == 0)
        // Algorithm 2 (copy then remove) leaves a hashtable even when few members remain.
        let big = make((0 ..< 200).map { "m\($0)" })
        let overlap = make((0 ..< 100).map { "m\($0)" })
        let x = make(["x"]), y = make(["y"])
        let result = SetObject.difference([big, overlap, x, y], limits: CollectionLimits())
        #expect(result.count == 100 && result.encoding == .hashtable)
        // Algorithm 1 (test each member) builds only the survivors.
        let survivors = SetObject.difference([big, overlap], limits: CollectionLimits())
        #expect(survivors.count == 100 && survivors.encoding == .listpack)
    }

    @Test func intersectStopsWhenAskedInEveryEncoding() {
        for contents in [(0 ..< 100).map { String($0) }, (0 ..< 100).map { "s\($0)" }, (0 ..< 300).map { "h\($0)" }] {
            let a = make(contents), b = make(contents)
            var seen = 0
            SetObject.intersect([a, b]) { _ in
                seen += 1
                return seen < 7
            }
            #expect(seen == 7)
            var all = Set<[UInt8]>()
            a.forEachWhile({ m in m.withBytes { bytes in _ = all.insert(Array(bytes)) }; return true })
            #expect(all == memberSet(a))
        }
    }

    // MARK: Random members

    @Test func popWithCountUsesBothStrategiesAndKeepsEveryMemberOnce() {
        var rng = FastRandomGenerator(seed: 3)
        let l = CollectionLimits()
        let intsets: [String] = (1 ... 20).map { String($0) }
        let mixed: [String] = ["a"] + (2 ... 20).map { String($0) }
        let strings: [String] = (0 ..< 200).map { "s\($0)" }
        let many: [String] = (0 ..< 600).map { String($0) }
        for contents in [intsets, mixed, strings, many] {
            for count in [1, 2, 5, 15, contents.count - 2, contents.count - 1] {
                let set = make(contents)
                let before = memberSet(set)
                var popped: [[UInt8]] = []
                set.popRandom(count: count, limits: l, using: &rng) { member in
                    member.withBytes { bytes in popped.append(Array(bytes)) }
                }
                #expect(popped.count == count)
                #expect(Set(popped).count == count)
                #expect(set.count == contents.count - count)
                #expect(Set(popped).union(memberSet(set)) == before)
                #expect(Set(popped).isDisjoint(with: memberSet(set)))
            }
        }
        // Keeping few members of a hashtable rebuilds them as a listpack (Redis 7.2 does).
        let big = make((0 ..< 600).map(String.init))
        #expect(big.encoding == .hashtable)
        big.popRandom(count: 590, limits: l, using: &rng) { _ in }
        #expect(big.encoding == .listpack && big.count == 10)
        let intset = make((0 ..< 100).map(String.init))
        intset.popRandom(count: 95, limits: l, using: &rng) { _ in }
        #expect(intset.encoding == .intset && intset.count == 5)
    }

    @Test func distinctRandomMembersAreDistinctAndFromTheSet() {
        var rng = FastRandomGenerator(seed: 11)
        let ints: [String] = (0 ..< 50).map { String($0) }
        let small: [String] = (0 ..< 50).map { "s\($0)" }
        let big: [String] = (0 ..< 300).map { "h\($0)" }
        for contents in [ints, small, big] {
            let set = make(contents)
            let all = memberSet(set)
            for n in [2, 10, 16, 17, 40, 49] where n < contents.count {
                var got: [[UInt8]] = []
                set.forEachRandomDistinctMember(count: n, using: &rng) { m in m.withBytes { bytes in got.append(Array(bytes)) } }
                #expect(got.count == n && Set(got).count == n && Set(got).isSubset(of: all))
            }
            var picks = 0
            set.forEachRandomMember(picks: 1000, using: &rng) { m in
                m.withBytes { bytes in #expect(all.contains(Array(bytes))) }
                picks += 1
                return picks < 500
            }
            #expect(picks == 500)
        }
    }

    @Test func popSingleEmptiesTheSetInAnyEncoding() {
        var rng = FastRandomGenerator(seed: 5)
        for contents in [["1", "2", "3"], ["a", "1", "b"], (0 ..< 200).map { "h\($0)" }] {
            let set = make(contents)
            var seen = Set<[UInt8]>()
            while set.count > 0 {
                set.popRandom(using: &rng) { m in m.withBytes { bytes in _ = seen.insert(Array(bytes)) } }
            }
            #expect(seen == Set(contents.map { Array($0.utf8) }))
        }
    }

    @Test func scanOfAHashtableReturnsEveryMemberAcrossCalls() {
        let set = make((0 ..< 1000).map { "member:\($0)" })
        #expect(set.encoding == .hashtable)
        var seen = Set<[UInt8]>()
        var cursor: UInt64 = 0
        var calls = 0
        repeat {
            cursor = set.scan(cursor: cursor, count: 10) { m in m.withBytes { bytes in _ = seen.insert(Array(bytes)) } }
            calls += 1
            // Growth between calls must not lose members that stay.
            if calls == 5 { for i in 0 ..< 2000 { add(set, "extra:\(i)") } }
        } while cursor != 0
        #expect(calls > 1)
        for i in 0 ..< 1000 { #expect(seen.contains(Array("member:\(i)".utf8))) }
        // Small encodings answer everything at once with cursor 0.
        var small = 0
        #expect(make(["1", "2"]).scan(cursor: 99, count: 1) { _ in small += 1 } == 0)
        #expect(small == 2)
    }
}
