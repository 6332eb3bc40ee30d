import ApusRESP
@testable import ApusStore
import Testing

/// ListObject against an array model: contents, the structural invariants of both encodings,
/// and Redis 7.2's conversion points (those were checked against redis-server 7.2.4, whose
/// DEBUG OBJECT prints a quicklist's node count and summed listpack bytes).
@Suite struct ListObjectTests {
    // MARK: Helpers

    private func limits(_ fill: Int) -> CollectionLimits {
        var limits = CollectionLimits()
        limits.listMaxListpackSize = fill
        return limits
    }

    private func contents(_ list: ListObject) -> [[UInt8]] {
        var out: [[UInt8]] = []
        list.forEachElement { out.append(Array($0)) }
        return out
    }

    private func push(_ list: ListObject, _ elements: [String], to end: ListEnd = .tail, _ limits: CollectionLimits) {
        for e in elements {
            Array(e.utf8).withUnsafeBytes { raw in
                list.prepareToGrow(addingBytes: raw.count, count: 1, limits: limits)
                list.push(raw, to: end)
            }
        }
    }

    private func strings(_ list: ListObject) -> [String] {
        contents(list).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Node byte counts are Redis's listpack sizes, counts add up, no node is empty, and a
    /// listpack keeps no nodes.
    private func checkInvariants(_ list: ListObject, _ model: [[UInt8]], _ context: @autoclosure () -> String = "") {
        #expect(list.count == model.count, "\(context())")
        #expect(contents(list) == model, "\(context())")
        if list.isQuicklist {
            #expect(list.packed.count == 0)
            var total = 0
            let n = list.nodes.count
            let depth = list.compressDepth
            for (i, node) in list.nodes.enumerated() {
                // list-compress-depth: the ends plain, the interior compressed where it pays.
                if depth == 0 || n <= 2 * depth || i < depth || i >= n - depth {
                    #expect(!node.isCompressed, "node \(i) of \(n) compressed at depth \(depth) \(context())")
                } else if !node.isCompressed {
                    var copy = node
                    copy.compress()
                    #expect(!copy.isCompressed, "interior node \(i) of \(n) left uncompressed \(context())")
                }
                #expect(node.count > 0, "empty node \(context())")
                total += node.count
                if node.isPlain {
                    #expect(node.count == 1)
                    node.withReadableElements { #expect(node.listpackBytes == $0[$0.startIndex].count) }
                } else {
                    let bytes = node.withReadableElements { view in
                        view.reduce(Listpack.emptyBytes) { $0 + Listpack.entrySize($1) }
                    }
                    #expect(node.listpackBytes == bytes, "node bytes \(context())")
                }
            }
            #expect(total == model.count)
        } else {
            #expect(list.nodes.isEmpty)
            let bytes = list.packed.elements.withElements { view in
                view.reduce(Listpack.emptyBytes) { $0 + Listpack.entrySize($1) }
            }
            #expect(list.packed.listpackBytes == bytes)
        }
    }

    // MARK: Listpack accounting

    @Test func entrySizesFollowRedisListpackEncodings() {
        func size(_ s: String) -> Int { Array(s.utf8).withUnsafeBytes { Listpack.entrySize($0) } }
        #expect(size("0") == 2)
        #expect(size("127") == 2)
        #expect(size("128") == 3)
        #expect(size("-4096") == 3)
        #expect(size("4096") == 4)
        #expect(size("-32768") == 4)
        #expect(size("32768") == 5)
        #expect(size("8388607") == 5)
        #expect(size("8388608") == 6)
        #expect(size("2147483648") == 10)
        #expect(size("-9223372036854775808") == 10)
        #expect(size("9223372036854775808") == 21)  // not an int64: a 20-byte string
        #expect(size("007") == 5)
        #expect(size("-0") == 4)
        #expect(size("") == 2)
        #expect(size(String(repeating: "a", count: 63)) == 65)
        #expect(size(String(repeating: "a", count: 64)) == 67)  // 2-byte header
        #expect(size(String(repeating: "a", count: 125)) == 128)  // 127 bytes: 1-byte back-length
        #expect(size(String(repeating: "a", count: 126)) == 130)  // 128 bytes: 2-byte back-length
        #expect(size(String(repeating: "a", count: 4095)) == 4099)
        #expect(size(String(repeating: "a", count: 4096)) == 4103)  // 5-byte header
    }

    @Test func nodeLimitsFollowTheFill() {
        #expect(ListNodeLimit(fill: -1).size == 4096)
        #expect(ListNodeLimit(fill: -2).size == 8192)
        #expect(ListNodeLimit(fill: -5).size == 65536)
        #expect(ListNodeLimit(fill: -6).size == 65536)
        #expect(ListNodeLimit(fill: Int(Int32.min)).size == 65536)
        #expect(ListNodeLimit(fill: 0).entries == 1)
        #expect(ListNodeLimit(fill: 5).exceeded(bytes: 100, entries: 6))
        #expect(!ListNodeLimit(fill: 5).exceeded(bytes: 8192, entries: 5))
        #expect(ListNodeLimit(fill: 5).exceeded(bytes: 8193, entries: 1))  // the safety limit
        #expect(ListObject.clampFill(100_000) == 32767)
        #expect(ListObject.clampFill(-9) == -5)
    }

    // MARK: Conversions (as Redis 7.2's list.tcl checks them)

    @Test func listpackBecomesAQuicklistPastTheLimit() {
        let l = limits(3)
        let list = ListObject()
        push(list, ["a", "b", "c"], l)
        #expect(list.encoding == .listpack)
        push(list, ["d"], l)
        #expect(list.encoding == .quicklist)
        #expect(list.nodeCount == 2)  // the old listpack is the first node
        #expect(strings(list) == ["a", "b", "c", "d"])
    }

    @Test func quicklistShrinksBackAtHalfTheLimit() {
        let l = limits(3)
        let list = ListObject()
        push(list, ["a", "b", "c", "d"], l)
        #expect(list.pop(from: .tail, count: 3, limits: l) { _ in } == 3)
        #expect(list.encoding == .listpack)

        let other = ListObject()
        push(other, ["a", "b", "c", "d"], l)
        other.trim(start: 1, stop: 1, limits: l)
        #expect(other.encoding == .listpack)

        let third = ListObject()
        push(third, ["a", "a", "a", "d"], l)
        let removed = Array("a".utf8).withUnsafeBytes { third.remove($0, count: 3, limits: l) }
        #expect(removed == 3)
        #expect(third.encoding == .listpack)
        #expect(strings(third) == ["d"])
    }

    @Test func sizeLimitedListsConvertOnLpBytes() {
        let l = limits(-1)
        // lpBytes 7 + 4089 bytes of argument = 4096: still within 4 KiB.
        let fits = ListObject()
        push(fits, [String(repeating: "x", count: 4089)], l)
        #expect(fits.encoding == .listpack)
        let overflows = ListObject()
        push(overflows, [String(repeating: "x", count: 4090)], l)
        #expect(overflows.encoding == .quicklist)

        let big = ListObject()
        push(big, ["a", "b", "c", String(repeating: "x", count: 5000)], l)
        #expect(big.encoding == .quicklist)
        big.pop(from: .tail, count: 1, limits: l) { _ in }
        #expect(big.encoding == .listpack)
    }

    @Test func lsetToASmallElementShrinks() {
        let l = limits(-1)
        let list = ListObject()
        push(list, [String(repeating: "x", count: 5000), "a", "b"], l)
        list.pop(from: .tail, count: 2, limits: l) { _ in }
        #expect(list.encoding == .quicklist)  // one node, but over half the limit
        let replaced = Array("c".utf8).withUnsafeBytes { list.replace(at: -1, with: $0, limits: l) }
        #expect(replaced)
        #expect(list.encoding == .listpack)
    }

    @Test func failedLinsertAndLsetStillConvert() {
        let l = limits(3)
        let list = ListObject()
        push(list, ["a", "b", "c"], l)
        let result = Array("x".utf8).withUnsafeBytes { x in
            Array("missing".utf8).withUnsafeBytes { list.insert(x, pivot: $0, after: true, limits: l) }
        }
        #expect(result == nil)
        #expect(list.encoding == .quicklist)

        let other = ListObject()
        push(other, ["a", "b", "c"], l)
        let replaced = Array("x".utf8).withUnsafeBytes { other.replace(at: 10, with: $0, limits: l) }
        #expect(!replaced)
        #expect(other.encoding == .quicklist)
    }

    @Test func aQuicklistKeepsTheFillItWasCreatedWith() {
        let list = ListObject()
        push(list, ["a", "b", "c", "d"], limits(3))
        push(list, ["e", "f", "g"], limits(100))
        #expect(list.quicklistFill == 3)
        #expect(list.nodes.map(\.count) == [3, 3, 1])
    }

    @Test func fillIsClampedForTheQuicklistOnly() {
        let list = ListObject()
        push(list, [String(repeating: "x", count: 60000)], limits(-6))
        #expect(list.encoding == .listpack)
        push(list, [String(repeating: "x", count: 5536)], limits(-6))
        #expect(list.encoding == .quicklist)
        #expect(list.quicklistFill == -5)
    }

    @Test func autoConversionAfterBuildingAQuicklist() {
        let list = ListObject(quicklistFill: -2)
        push(list, ["a", "b"], limits(-2))
        #expect(list.encoding == .quicklist)
        list.convertIfSmall(limits: limits(-2))
        #expect(list.encoding == .listpack)
        #expect(strings(list) == ["a", "b"])
    }

    // MARK: Node structure

    @Test func splitInsertMergesNeighbours() {
        // fill 4: nodes [a b c d] [e f g h]; insert into the middle of a full node splits it
        // and the split halves merge back with their neighbours where they fit.
        let l = limits(4)
        let list = ListObject()
        push(list, ["a", "b", "c", "d", "e", "f", "g", "h"], l)
        #expect(list.nodes.map(\.count) == [4, 4])
        let n = Array("x".utf8).withUnsafeBytes { x in
            Array("b".utf8).withUnsafeBytes { list.insert(x, pivot: $0, after: true, limits: l) }
        }
        #expect(n == 9)
        #expect(strings(list) == ["a", "b", "x", "c", "d", "e", "f", "g", "h"])
        #expect(list.nodes.map(\.count) == [2, 3, 4])
        // At the tail of a node that still has room: it takes the element.
        _ = Array("y".utf8).withUnsafeBytes { y in
            Array("d".utf8).withUnsafeBytes { list.insert(y, pivot: $0, after: true, limits: l) }
        }
        #expect(list.nodes.map(\.count) == [2, 4, 4])
        checkInvariants(list, contents(list))
    }

    @Test func plainNodesHoldBigElements() {
        let l = limits(-2)
        let list = ListObject()
        list.packedThresholdOverride = 10
        var model: [[UInt8]] = []
        func add(_ s: String, _ end: ListEnd) {
            Array(s.utf8).withUnsafeBytes { raw in
                list.prepareToGrow(addingBytes: raw.count, count: 1, limits: l)
                list.push(raw, to: end)
            }
            if end == .head { model.insert(Array(s.utf8), at: 0) } else { model.append(Array(s.utf8)) }
        }
        list.convertToQuicklist(fill: -2, compressDepth: 0)
        add("small", .tail)
        add("a big element", .tail)
        add("tiny", .tail)
        add("another big one", .head)
        #expect(list.nodes.map(\.isPlain) == [true, false, true, false])
        checkInvariants(list, model)
        // LSET a packed element to a big one and a plain one to a small one.
        _ = Array("now this is big".utf8).withUnsafeBytes { list.replace(at: 1, with: $0, limits: l) }
        model[1] = Array("now this is big".utf8)
        checkInvariants(list, model)
        _ = Array("sm".utf8).withUnsafeBytes { list.replace(at: 2, with: $0, limits: l) }
        model[2] = Array("sm".utf8)
        checkInvariants(list, model)
        // LINSERT a big element into the middle of a packed node splits it.
        add("p", .tail)
        add("q", .tail)
        _ = Array("big in the middle".utf8).withUnsafeBytes { x in
            Array("p".utf8).withUnsafeBytes { list.insert(x, pivot: $0, after: true, limits: l) }
        }
        model.insert(Array("big in the middle".utf8), at: model.firstIndex(of: Array("p".utf8))! + 1)
        checkInvariants(list, model)
        // A list of one plain node never becomes a listpack.
        list.trim(start: 0, stop: 0, limits: l)
        #expect(list.encoding == .quicklist)
        checkInvariants(list, [model[0]])
    }

    // MARK: Compression

    @Test func nodeCompressionRoundTrips() {
        var rng = SplitMix(seed: 5)
        let inputs: [[UInt8]] = [
            Array(repeating: 7, count: 100), Array("abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".utf8),
            (0 ..< 70_000).map { UInt8(truncatingIfNeeded: $0 / 300) },
            (0 ..< 5000).map { _ in UInt8(rng.next(4)) + 65 },
            (0 ..< 2000).map { _ in UInt8(rng.next(256)) },
        ]
        for input in inputs {
            let compressed = input.withUnsafeBytes { NodeCompression.compress($0) }
            if let compressed {
                #expect(compressed.count + 8 < input.count)
                let back = compressed.withUnsafeBytes { NodeCompression.decompress($0) }
                #expect(Array(back) == input)
            } else {
                #expect(input.count == 2000)  // random bytes do not compress
            }
        }
    }

    @Test func interiorNodesAreCompressedAndReadable() {
        var l = limits(2)
        l.listCompressDepth = 1
        let list = ListObject()
        let elements = (0 ..< 20).map { String(repeating: "element \($0) ", count: 10) }
        push(list, elements, l)
        #expect(list.nodes.count == 10)
        #expect(list.quicklistCompressDepth == 1)
        #expect(list.compressedNodeCount == 8)
        #expect(!list.nodes.first!.isCompressed && !list.nodes.last!.isCompressed)
        #expect(strings(list) == elements)
        let middle = list.withElement(at: 9) { String(decoding: $0, as: UTF8.self) }
        #expect(middle == elements[9])
        _ = Array("changed".utf8).withUnsafeBytes { list.replace(at: 9, with: $0, limits: l) }
        #expect(list.compressedNodeCount == 8)
        list.pop(from: .head, count: 17, limits: l) { _ in }
        #expect(list.compressedNodeCount == 0)
        #expect(strings(list) == Array(elements.suffix(3)))
    }

    // MARK: Model test

    @Test(arguments: [(-2, 0), (-1, 0), (0, 0), (1, 0), (2, 0), (3, 0), (5, 0), (16, 0), (-1, 1), (2, 1), (3, 2), (1, 3)])
    func randomOperationsMatchAnArrayModel(fill: Int, depth: Int) {
        var rng = SplitMix(seed: UInt64(bitPattern: Int64(fill &* 31 &+ depth)) &+ 99)
        var l = limits(fill)
        l.listCompressDepth = depth
        let list = ListObject()
        list.packedThresholdOverride = fill == 2 ? 3000 : 0
        let other = ListObject()
        var model: [[UInt8]] = []
        var otherModel: [[UInt8]] = []
        var pool: [[UInt8]] = []
        func element() -> [UInt8] {
            if !pool.isEmpty && rng.next(4) == 0 { return pool[rng.next(pool.count)] }
            let e: [UInt8]
            switch rng.next(6) {
            case 0: e = Array(String(rng.next(300) - 150).utf8)
            case 1: e = Array(String(Int64(bitPattern: rng.raw())).utf8)
            case 2: e = Array(repeating: UInt8(ascii: "a") + UInt8(rng.next(3)), count: rng.next(70))
            case 3: e = Array(repeating: UInt8(ascii: "b"), count: [127, 500, 2000, 4090, 4100][rng.next(5)])
            case 4: e = Array(repeating: UInt8(ascii: "c"), count: [5000, 8200, 9000][rng.next(3)])
            default: e = (0 ..< rng.next(20)).map { _ in UInt8(rng.next(256)) }
            }
            pool.append(e)
            if pool.count > 30 { pool.removeFirst() }
            return e
        }
        func index() -> Int { rng.next(30) - 15 }
        for step in 0 ..< 1500 {
            if rng.next(60) == 0 {
                l = limits([-2, -1, 1, 3, 8][rng.next(5)])
                l.listCompressDepth = depth
            }
            switch rng.next(11) {
            case 0, 1:
                let end: ListEnd = rng.next(2) == 0 ? .head : .tail
                let batch = (0 ..< [1, 1, 3, 10][rng.next(4)]).map { _ in element() }
                let bytes = batch.reduce(0) { $0 + $1.count }
                list.prepareToGrow(addingBytes: bytes, count: batch.count, limits: l)
                for e in batch {
                    e.withUnsafeBytes { list.push($0, to: end) }
                    if end == .head { model.insert(e, at: 0) } else { model.append(e) }
                }
            case 2:
                let end: ListEnd = rng.next(2) == 0 ? .head : .tail
                let n = rng.next(6)
                var popped: [[UInt8]] = []
                let count = list.pop(from: end, count: n, limits: l) { popped.append(Array($0)) }
                let expected = Swift.min(n, model.count)
                #expect(count == expected)
                if end == .head {
                    #expect(popped == Array(model.prefix(expected)))
                    model.removeFirst(expected)
                } else {
                    #expect(popped == Array(model.suffix(expected).reversed()))
                    model.removeLast(expected)
                }
            case 3:
                let pivot = element()
                let e = element()
                let after = rng.next(2) == 0
                let result = e.withUnsafeBytes { x in pivot.withUnsafeBytes { list.insert(x, pivot: $0, after: after, limits: l) } }
                if let at = model.firstIndex(of: pivot) {
                    model.insert(e, at: after ? at + 1 : at)
                    #expect(result == model.count)
                } else {
                    #expect(result == nil)
                }
            case 4:
                let i = index()
                let e = element()
                let ok = e.withUnsafeBytes { list.replace(at: i, with: $0, limits: l) }
                let j = i < 0 ? model.count + i : i
                #expect(ok == (j >= 0 && j < model.count))
                if ok { model[j] = e }
            case 5:
                if rng.next(4) == 0 {
                    let start = index()
                    let stop = index()
                    list.trim(start: start, stop: stop, limits: l)
                    var s = start < 0 ? model.count + start : start
                    var t = stop < 0 ? model.count + stop : stop
                    if s < 0 { s = 0 }
                    if s > t || s >= model.count { model = [] } else {
                        if t >= model.count { t = model.count - 1 }
                        model = Array(model[s ... t])
                    }
                }
            case 6:
                let e = element()
                let count = rng.next(7) - 3
                let removed = e.withUnsafeBytes { list.remove($0, count: count, limits: l) }
                var expected = 0
                let limit = count == 0 ? Int.max : abs(count)
                if count >= 0 {
                    var i = 0
                    while i < model.count && expected < limit {
                        if model[i] == e { model.remove(at: i); expected += 1 } else { i += 1 }
                    }
                } else {
                    var i = model.count - 1
                    while i >= 0 && expected < limit {
                        if model[i] == e { model.remove(at: i); expected += 1 }
                        i -= 1
                    }
                }
                #expect(removed == expected)
            case 7:
                let from: ListEnd = rng.next(2) == 0 ? .head : .tail
                let to: ListEnd = rng.next(2) == 0 ? .head : .tail
                let toSelf = rng.next(3) == 0
                var moved: [UInt8]?
                let ok = list.move(from: from, to: toSelf ? list : other, at: to, limits: l) { moved = Array($0) }
                #expect(ok == !model.isEmpty)
                if ok {
                    let e = from == .head ? model.removeFirst() : model.removeLast()
                    #expect(moved == e)
                    if toSelf {
                        if to == .head { model.insert(e, at: 0) } else { model.append(e) }
                    } else {
                        if to == .head { otherModel.insert(e, at: 0) } else { otherModel.append(e) }
                    }
                }
            case 8:
                let e = element()
                let rank = [1, 2, -1, -2][rng.next(4)]
                let limit = rng.next(3)
                let maxlen = [0, 0, 3, 10][rng.next(4)]
                var got: [Int] = []
                e.withUnsafeBytes { list.positions(of: $0, rank: rank, limit: limit, maxlen: maxlen) { got.append($0) } }
                var expected: [Int] = []
                let order = rank > 0 ? Array(model.indices) : Array(model.indices.reversed())
                var matches = 0
                for (scanned, i) in order.enumerated() {
                    if maxlen != 0 && scanned >= maxlen { break }
                    if model[i] == e {
                        matches += 1
                        if matches >= abs(rank) {
                            expected.append(i)
                            if limit != 0 && expected.count >= limit { break }
                        }
                    }
                }
                #expect(got == expected)
            default:
                if !model.isEmpty {
                    let start = rng.next(model.count)
                    let n = rng.next(model.count + 2)
                    let reverse = rng.next(2) == 0
                    var got: [[UInt8]] = []
                    list.forEach(from: start, count: n, reverse: reverse) { got.append(Array($0)) }
                    let expected = reverse ? Array(model[...start].reversed().prefix(n)) : Array(model[start...].prefix(n))
                    #expect(got == expected)
                    let i = index()
                    let j = i < 0 ? model.count + i : i
                    let e = list.withElement(at: i) { Array($0) }
                    #expect(e == (j >= 0 && j < model.count ? model[j] : nil))
                }
            }
            checkInvariants(list, model, "fill \(fill) depth \(depth) step \(step)")
            if model.isEmpty { #expect(list.count == 0) }
        }
        checkInvariants(other, otherModel)
        let copy = list.duplicate() as! ListObject
        #expect(contents(copy) == model)
        #expect(copy.encoding == list.encoding)
    }
}

/// A small deterministic generator (tests must not depend on the system RNG's sequence).
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func raw() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ n: Int) -> Int { Int(raw() % UInt64(n)) }
}
