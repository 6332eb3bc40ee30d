import ApusRESP
import ApusStore
import Testing

/// A deterministic generator so a failing sequence can be replayed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The sorted-array model: (score, member) pairs in Redis's order, with a member → score map.
private struct Model {
    var items: [(score: Double, member: [UInt8])] = []
    var scores: [[UInt8]: Double] = [:]

    static func before(_ a: (score: Double, member: [UInt8]), _ b: (score: Double, member: [UInt8])) -> Bool {
        a.score < b.score || (a.score == b.score && a.member.lexicographicallyPrecedes(b.member))
    }

    /// Index of the first item not before `item` (binary search).
    func position(_ item: (score: Double, member: [UInt8])) -> Int {
        var low = 0, high = items.count
        while low < high {
            let mid = (low + high) / 2
            if Model.before(items[mid], item) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    mutating func set(_ member: [UInt8], _ score: Double) {
        _ = remove(member)
        let item = (score: score, member: member)
        items.insert(item, at: position(item))
        scores[member] = score
    }

    mutating func remove(_ member: [UInt8]) -> Bool {
        guard let old = scores.removeValue(forKey: member) else { return false }
        items.remove(at: position((old, member)))
        return true
    }
}

private func contents(_ z: ZSetObject) -> [(score: Double, member: [UInt8])] {
    var out: [(score: Double, member: [UInt8])] = []
    z.forEach { member, score in out.append((score, Array(member))) }
    return out
}

private func same(_ a: [(score: Double, member: [UInt8])], _ b: [(score: Double, member: [UInt8])]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.score == $1.score && $0.member == $1.member }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func limits(entries: Int = 128, value: Int = 64) -> CollectionLimits {
    var l = CollectionLimits()
    l.zsetMaxListpackEntries = entries
    l.zsetMaxListpackValue = value
    return l
}

extension ZSetObject {
    fileprivate func add(_ member: String, _ score: Double, _ options: ZAddOptions = [], limits: CollectionLimits = CollectionLimits()) -> ZAddResult {
        Array(member.utf8).withUnsafeBytes { add($0, score: score, options: options, limits: limits) }
    }

    fileprivate func score(_ member: String) -> Double? { Array(member.utf8).withUnsafeBytes { score(of: $0) } }

    fileprivate func rank(_ member: String) -> Int? { Array(member.utf8).withUnsafeBytes { rank(of: $0)?.rank } }

    fileprivate func members() -> [String] { contents(self).map { String(decoding: $0.member, as: UTF8.self) } }
}

@Suite struct ZSetObjectTests {
    /// Random adds, score updates and removals on both encodings, checked against the model:
    /// order, ranks, element-by-rank, score ranges, and the index's invariants.
    @Test(arguments: [ObjectEncoding.listpack, .skiplist])
    func randomOperationsMatchASortedArrayModel(encoding: ObjectEncoding) {
        var rng = SplitMix(seed: 42)
        let z = ZSetObject(encoding: encoding)
        // Unbounded listpack limits keep the packed set packed; the full set is big enough for
        // a three-level tree.
        let unbounded = limits(entries: Int.max, value: Int.max)
        let pool = encoding == .listpack ? 300 : 30_000
        let steps = encoding == .listpack ? 3_000 : 60_000
        var model = Model()
        for step in 0..<steps {
            let member = bytes("m\(Int.random(in: 0..<pool, using: &rng))")
            // Few distinct scores so ties (ordered by member) are common.
            let score = Double(Int.random(in: -50...50, using: &rng)) / 4
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<6:
                let result = member.withUnsafeBytes { z.add($0, score: score, limits: unbounded) }
                if let old = model.scores[member] {
                    #expect(result == (old == score ? .unchanged(score) : .updated(score)))
                } else {
                    #expect(result == .added(score))
                }
                model.set(member, score)
            case 6..<9:
                let removed = member.withUnsafeBytes { z.remove($0) }
                #expect(removed == model.remove(member))
            default:
                let result = member.withUnsafeBytes { z.add($0, score: score, options: .incr, limits: unbounded) }
                let new = (model.scores[member] ?? 0) + score
                if let old = model.scores[member] {
                    #expect(result == (new == old ? .unchanged(new) : .updated(new)))
                } else {
                    #expect(result == .added(new))
                }
                model.set(member, new)
            }
            #expect(z.count == model.items.count)
            if step % 5_000 == 4_999 || step == steps - 1 {
                #expect(z.validate() == nil)
                #expect(same(contents(z), model.items))
            }
            if step % 97 == 0 && !model.items.isEmpty {
                let r = Int.random(in: 0..<model.items.count, using: &rng)
                let expected = model.items[r]
                z.withElement(atRank: r) { member, score in
                    #expect(Array(member) == expected.member && score == expected.score)
                }
                #expect(expected.member.withUnsafeBytes { z.rank(of: $0) }?.rank == r)
                // A score range with random (in/ex)clusive ends.
                let lo = Double(Int.random(in: -60...60, using: &rng)) / 4
                let hi = lo + Double(Int.random(in: 0...20, using: &rng)) / 4
                let range = ZScoreRange(min: lo, max: hi, minExclusive: Bool.random(using: &rng),
                                        maxExclusive: Bool.random(using: &rng))
                let inside = model.items.indices.filter {
                    range.gteMin(model.items[$0].score, UnsafeRawBufferPointer(start: nil, count: 0))
                        && range.lteMax(model.items[$0].score, UnsafeRawBufferPointer(start: nil, count: 0))
                }
                #expect(z.firstRank(in: range) == inside.first)
                #expect(z.lastRank(in: range) == inside.last)
                #expect(z.count(in: range) == inside.count)
            }
        }
        #expect(z.encoding == encoding)
    }

    @Test func lexRangesOnEqualScoresMatchTheModel() {
        for encoding in [ObjectEncoding.listpack, .skiplist] {
            let z = ZSetObject(encoding: encoding)
            let words = (0..<500).map { "w\(String($0 * 7919 % 1000, radix: 16))" }
            for w in words { _ = z.add(w, 0, limits: limits(entries: 1_000, value: 64)) }
            let sorted = words.sorted()
            #expect(z.members() == sorted)
            let probes = ["w", "w1", "w3f", "w7", "wf", "x", "", "w10", "w9f"]
            for a in probes {
                for b in probes {
                    for (minEx, maxEx) in [(false, false), (true, true), (false, true)] {
                        Array(a.utf8).withUnsafeBytes { aRaw in
                            Array(b.utf8).withUnsafeBytes { bRaw in
                                let range = ZLexRange(min: .member(aRaw, exclusive: minEx), max: .member(bRaw, exclusive: maxEx))
                                let inside = sorted.indices.filter {
                                    let w = sorted[$0]
                                    return (minEx ? w > a : w >= a) && (maxEx ? w < b : w <= b)
                                }
                                #expect(z.firstRank(in: range) == inside.first)
                                #expect(z.lastRank(in: range) == inside.last)
                                #expect(z.count(in: range) == inside.count)
                            }
                        }
                    }
                }
            }
            let all = ZLexRange(min: .negativeInfinity, max: .positiveInfinity)
            #expect(z.count(in: all) == 500)
            #expect(z.count(in: ZLexRange(min: .positiveInfinity, max: .negativeInfinity)) == 0)
            #expect(z.count(in: ZLexRange(min: .negativeInfinity, max: .negativeInfinity)) == 0)
        }
    }

    /// A packed set converts exactly when Redis's does: a new member past the entry limit or
    /// longer than the value limit; updates of existing members never convert.
    @Test func convertsToTheFullEncodingPastTheLimits() {
        let l = limits(entries: 4, value: 8)
        let z = ZSetObject.create(sizeHint: 1, valueLengthHint: 1, limits: l)
        #expect(z.encoding == .listpack)
        for (i, m) in ["a", "b", "c", "d"].enumerated() { _ = z.add(m, Double(4 - i), limits: l) }
        #expect(z.encoding == .listpack)
        _ = z.add("a", 10, limits: l)
        #expect(z.encoding == .listpack)
        _ = z.add("e", 0, limits: l)
        #expect(z.encoding == .skiplist)
        #expect(z.members() == ["e", "d", "c", "b", "a"])
        #expect(z.validate() == nil)

        let long = ZSetObject.create(sizeHint: 1, valueLengthHint: 1, limits: l)
        _ = long.add("short", 1, limits: l)
        _ = long.add("123456789", 2, limits: l)
        #expect(long.encoding == .skiplist)
        #expect(long.members() == ["short", "123456789"])

        #expect(ZSetObject.create(sizeHint: 5, valueLengthHint: 1, limits: l).encoding == .skiplist)
        #expect(ZSetObject.create(sizeHint: 4, valueLengthHint: 9, limits: l).encoding == .skiplist)
        let hinted = ZSetObject.create(sizeHint: 4, valueLengthHint: 8, limits: l)
        #expect(hinted.encoding == .listpack)
        hinted.maybeConvert(sizeHint: 5, limits: l)
        #expect(hinted.encoding == .skiplist)
    }

    @Test func zaddOptionsFollowZsetAdd() {
        let z = ZSetObject(encoding: .listpack)
        #expect(z.add("a", 5) == .added(5))
        #expect(z.add("a", 6, .nx) == .skipped)
        #expect(z.add("b", 6, .xx) == .skipped)
        #expect(z.add("a", 4, .gt) == .skipped)
        #expect(z.add("a", 7, .gt) == .updated(7))
        #expect(z.add("a", 7, .lt) == .skipped)
        #expect(z.add("a", 0, .incr) == .unchanged(7))
        #expect(z.add("a", 1, [.incr, .lt]) == .skipped)
        #expect(z.add("a", -1, [.incr, .lt]) == .updated(6))
        #expect(z.add("a", .nan) == .notANumber)
        #expect(z.add("i", .infinity) == .added(.infinity))
        #expect(z.add("i", -.infinity, .incr) == .notANumber)
        #expect(z.score("i") == .infinity)
        // A packed -0 reads back as 0 (Redis 7.2 stores integral scores as integers).
        #expect(z.add("zero", -0.0) == .added(-0.0))
        #expect(z.score("zero")?.sign == .plus)
        let full = ZSetObject(encoding: .skiplist)
        _ = full.add("zero", -0.0)
        #expect(full.score("zero")?.sign == .minus)
    }

    @Test func appendedAndPrependedRunsKeepTheIndexValid() {
        let z = ZSetObject(encoding: .skiplist)
        for i in 0..<20_000 { _ = z.add("t\(i)", Double(i)) }
        for i in 1...20_000 { _ = z.add("n\(i)", Double(-i)) }
        #expect(z.count == 40_000)
        #expect(z.validate() == nil)
        #expect(z.rank("t0") == 20_000)
        #expect(z.rank("n1") == 19_999)
        #expect(z.rank("n20000") == 0)
        // Remove every other member, then everything.
        for i in stride(from: 0, to: 20_000, by: 2) { _ = Array("t\(i)".utf8).withUnsafeBytes { z.remove($0) } }
        #expect(z.validate() == nil)
        #expect(z.rank("t1") == 20_000)
        #expect(z.removeRanks(0..<z.count) == 30_000)
        #expect(z.count == 0)
        #expect(z.validate() == nil)
    }

    /// Enough members for three inner levels; random removals exercise merges at every level.
    @Test func deepTreesStayValidThroughRandomRemovals() {
        let z = ZSetObject(encoding: .skiplist)
        let n = 300_000
        for i in 0..<n { _ = z.add("k\(i)", Double(i % 1_000)) }
        #expect(z.validate() == nil)
        var rng = SplitMix(seed: 3)
        var alive = Array(0..<n)
        for _ in 0..<(n - 1_000) {
            let j = Int.random(in: 0..<alive.count, using: &rng)
            alive.swapAt(j, alive.count - 1)
            let i = alive.removeLast()
            #expect(Array("k\(i)".utf8).withUnsafeBytes { z.remove($0) })
        }
        #expect(z.validate() == nil)
        let expected = alive.map { (score: Double($0 % 1_000), member: Array("k\($0)".utf8)) }.sorted(by: Model.before)
        #expect(same(contents(z), expected))
        for (r, item) in expected.enumerated() where r % 37 == 0 {
            #expect(item.member.withUnsafeBytes { z.rank(of: $0) }?.rank == r)
        }
    }

    @Test(arguments: [ObjectEncoding.listpack, .skiplist])
    func popsRangeRemovalsAndRandomAccess(encoding: ObjectEncoding) {
        let z = ZSetObject(encoding: encoding)
        let unbounded = limits(entries: Int.max, value: Int.max)
        for i in 0..<300 { _ = z.add("m\(i)", Double(i % 30), limits: unbounded) }
        var model = contents(z)

        var popped: [(Double, [UInt8])] = []
        #expect(z.pop(max: false, count: 3) { popped.append(($1, Array($0))) } == 3)
        #expect(popped.map(\.1) == model.prefix(3).map(\.member))
        popped = []
        #expect(z.pop(max: true, count: 2) { popped.append(($1, Array($0))) } == 2)
        #expect(popped.map(\.1) == model.suffix(2).reversed().map(\.member))
        model = Array(model.dropFirst(3).dropLast(2))
        #expect(same(contents(z), model))

        #expect(z.removeRanks(10..<20) == 10)
        model.removeSubrange(10..<20)
        #expect(same(contents(z), model))

        let range = ZScoreRange(min: 5, max: 9, minExclusive: true)
        let removed = z.removeRange(range)
        let kept = model.filter { !($0.score > 5 && $0.score <= 9) }
        #expect(removed == model.count - kept.count)
        model = kept
        #expect(same(contents(z), model))
        #expect(z.validate() == nil)

        var rng = SplitMix(seed: 7)
        var seen = Set<[UInt8]>()
        z.forEachRandomDistinct(50, using: &rng) { member, score in
            #expect(seen.insert(Array(member)).inserted)
            #expect(model.contains { $0.member == Array(member) && $0.score == score })
        }
        #expect(seen.count == 50)
        var picks = 0
        z.forEachRandomPick(500, using: &rng) { member, _ in
            picks += 1
            #expect(model.contains { $0.member == Array(member) })
        }
        #expect(picks == 500)

        var scanned = Set<[UInt8]>()
        var cursor: UInt64 = 0
        repeat {
            cursor = z.scan(cursor: cursor, count: 10) { member, _ in scanned.insert(Array(member)) }
        } while cursor != 0
        #expect(scanned == Set(model.map(\.member)))

        let copy = z.duplicate() as! ZSetObject
        #expect(copy.encoding == z.encoding)
        _ = z.pop(max: false, count: z.count) { _, _ in }
        #expect(z.count == 0)
        #expect(same(contents(copy), model))
        #expect(copy.validate() == nil)
    }

    @Test func accumulatorBuildsTheStoredEncoding() {
        var small = ZSetAccumulator()
        Array("b".utf8).withUnsafeBytes { small.insert($0, score: 2) }
        Array("a".utf8).withUnsafeBytes { small.merge($0, score: 2) { $0 + $1 } }
        Array("b".utf8).withUnsafeBytes { small.merge($0, score: 5) { $0 + $1 } }
        let z = small.makeObject(limits: limits())!
        #expect(z.encoding == .listpack)
        #expect(z.members() == ["a", "b"])
        #expect(z.score("b") == 7)

        var big = ZSetAccumulator()
        for i in 0..<200 { Array("k\(i)".utf8).withUnsafeBytes { big.insert($0, score: Double(-i)) } }
        let b = big.makeObject(limits: limits())!
        #expect(b.encoding == .skiplist)
        #expect(b.rank("k199") == 0)
        #expect(b.validate() == nil)

        var long = ZSetAccumulator()
        Array(String(repeating: "x", count: 65).utf8).withUnsafeBytes { long.insert($0, score: 1) }
        #expect(long.makeObject(limits: limits())!.encoding == .skiplist)
        var empty = ZSetAccumulator()
        #expect(empty.makeObject(limits: limits()) == nil)
    }
}

