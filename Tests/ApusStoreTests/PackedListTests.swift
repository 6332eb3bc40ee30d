import ApusStore
import Testing

@Suite struct PackedListTests {
    private func elements(_ list: PackedList) -> [[UInt8]] {
        list.withElements { view in view.map { Array($0) } }
    }

    private func reversed(_ list: PackedList) -> [[UInt8]] {
        list.withElements { view in
            var out: [[UInt8]] = []
            var i = view.endIndex
            while i > view.startIndex {
                i = view.index(before: i)
                out.append(Array(view[i]))
            }
            return out
        }
    }

    @Test func walksForwardAndBackwardAcrossLengthBoundaries() {
        // Lengths around the 1-, 2- and 3-byte varint boundaries of both length prefixes.
        let lengths = [0, 1, 2, 125, 126, 127, 128, 129, 16_380, 16_381, 16_383, 16_384, 70_000]
        var list = PackedList()
        var model: [[UInt8]] = []
        for (n, length) in lengths.enumerated() {
            let bytes = (0 ..< length).map { UInt8(truncatingIfNeeded: $0 &+ n) }
            bytes.withUnsafeBytes { list.append($0) }
            model.append(bytes)
        }
        #expect(list.count == lengths.count)
        #expect(elements(list) == model)
        #expect(reversed(list) == model.reversed())
    }

    @Test func insertReplaceAndRemoveMatchAnArrayModel() {
        var list = PackedList()
        var model: [[UInt8]] = []
        var rng = SystemRandomNumberGenerator()
        for step in 0 ..< 2_000 {
            let length = [0, 3, 127, 128, 300][Int.random(in: 0 ..< 5, using: &rng)]
            let bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: step), count: length)
            let position = model.isEmpty ? 0 : Int.random(in: 0 ... model.count, using: &rng)
            let offset = list.withElements { view in
                var i = view.startIndex
                for _ in 0 ..< position { i = view.index(after: i) }
                return i
            }
            switch Int.random(in: 0 ..< 4, using: &rng) {
            case 0, 1:
                bytes.withUnsafeBytes { list.insert($0, at: offset) }
                model.insert(bytes, at: position)
            case 2 where position < model.count:
                bytes.withUnsafeBytes { list.replace(at: offset, with: $0) }
                model[position] = bytes
            case 3 where position < model.count:
                let n = Int.random(in: 1 ... 3, using: &rng)
                let removed = list.remove(from: offset, count: n)
                #expect(removed == min(n, model.count - position))
                model.removeSubrange(position ..< position + removed)
            default:
                break
            }
            #expect(list.count == model.count)
        }
        #expect(elements(list) == model)
        #expect(reversed(list) == model.reversed())
    }

    @Test func findsElementsWithAStride() {
        var list = PackedList()
        for s in ["f1", "v1", "f2", "f1", "f3", "v3"] { Array(s.utf8).withUnsafeBytes { list.append($0) } }
        // As field/value pairs, "f1" only matches at field positions.
        let hit = Array("f1".utf8).withUnsafeBytes { key in list.withElements { $0.firstIndex(of: key, stride: 2) } }
        #expect(hit == 0)
        let value = Array("f1".utf8).withUnsafeBytes { key in
            list.withElements { view in view.firstIndex(of: key, from: view.index(after: 0), stride: 2) }
        }
        #expect(value.map { o in list.withElements { Array($0[o]) } } == Array("f1".utf8))
        let missing = Array("v1".utf8).withUnsafeBytes { key in list.withElements { $0.firstIndex(of: key, stride: 2) } }
        #expect(missing == nil)
    }

    /// Packed collections are many and small: the buffer grows by about 1/8, not doubling,
    /// and `shrinkToFit` gives the rest back.
    @Test func capacityStaysCloseToTheBytesUsed() {
        var list = PackedList()
        let element = [UInt8](repeating: 7, count: 10)
        for _ in 0 ..< 1000 { element.withUnsafeBytes { list.append($0) } }
        #expect(list.byteCount == 1000 * 12)
        #expect(list.allocatedBytes <= list.byteCount + list.byteCount / 4 + 64)
        let kept = list.withElements { view in view.index(view.startIndex, offsetBy: 10) }
        list.remove(from: kept, count: 990)
        #expect(list.count == 10)
        list.shrinkToFit()
        #expect(list.allocatedBytes <= list.byteCount + 32)
        #expect(list.withElements { view in view.allSatisfy { Array($0) == element } })
    }
}
