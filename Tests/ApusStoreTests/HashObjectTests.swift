import ApusRESP
import ApusStore
import Testing

@Suite struct HashObjectTests {
    /// An ordered model of a hash: the pairs in listpack (insertion) order.
    private struct Model {
        var pairs: [([UInt8], [UInt8])] = []

        mutating func set(_ field: [UInt8], _ value: [UInt8]) -> Bool {
            if let i = pairs.firstIndex(where: { $0.0 == field }) {
                pairs[i].1 = value
                return false
            }
            pairs.append((field, value))
            return true
        }

        mutating func remove(_ field: [UInt8]) -> Bool {
            guard let i = pairs.firstIndex(where: { $0.0 == field }) else { return false }
            pairs.remove(at: i)
            return true
        }

        func value(_ field: [UInt8]) -> [UInt8]? { pairs.first(where: { $0.0 == field })?.1 }
    }

    private func limits(entries: Int = 128, value: Int = 64) -> CollectionLimits {
        var limits = CollectionLimits()
        limits.hashMaxListpackEntries = entries
        limits.hashMaxListpackValue = value
        return limits
    }

    private func pairs(_ hash: HashObject) -> [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        hash.forEach { field, value in out.append((Array(field), Array(value))) }
        return out
    }

    @discardableResult
    private func set(_ hash: HashObject, _ field: String, _ value: String, _ limits: CollectionLimits) -> Bool {
        Array(field.utf8).withUnsafeBytes { f in Array(value.utf8).withUnsafeBytes { v in hash.set(f, v, limits: limits) } }
    }

    private func get(_ hash: HashObject, _ field: String) -> String? {
        Array(field.utf8).withUnsafeBytes { f in hash.withValue(forField: f) { String(decoding: $0, as: UTF8.self) } }
    }

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: Model

    @Test(arguments: [(128, 64), (4, 3), (0, 64), (1_000, 1_000)])
    func randomOperationsMatchAnOrderedModel(entries: Int, valueLimit: Int) {
        let limits = limits(entries: entries, value: valueLimit)
        let hash = HashObject()
        var model = Model()
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 4_000 {
            let field = Array("f\(Int.random(in: 0 ..< 300, using: &rng))".utf8)
            let value = [UInt8](repeating: UInt8.random(in: 97 ... 122, using: &rng), count: Int.random(in: 0 ... 6, using: &rng))
            if Bool.random(using: &rng) || model.pairs.count < 10 {
                let inserted = field.withUnsafeBytes { f in value.withUnsafeBytes { v in hash.set(f, v, limits: limits) } }
                #expect(inserted == model.set(field, value))
            } else {
                let removed = field.withUnsafeBytes { hash.remove($0) }
                #expect(removed == model.remove(field))
            }
            #expect(hash.count == model.pairs.count)
        }
        if hash.encoding == .listpack {
            #expect(pairs(hash).map { $0.0 } == model.pairs.map { $0.0 })
            #expect(pairs(hash).map { $0.1 } == model.pairs.map { $0.1 })
        } else {
            let sorted = pairs(hash).sorted { $0.0.lexicographicallyPrecedes($1.0) }
            let expected = model.pairs.sorted { $0.0.lexicographicallyPrecedes($1.0) }
            #expect(sorted.map { $0.0 } == expected.map { $0.0 })
            #expect(sorted.map { $0.1 } == expected.map { $0.1 })
        }
        for (field, value) in model.pairs {
            #expect(field.withUnsafeBytes { hash.withValue(forField: $0) { Array($0) } } == value)
            #expect(field.withUnsafeBytes { hash.valueLength(forField: $0) } == value.count)
            #expect(field.withUnsafeBytes { hash.contains($0) })
        }
        #expect(bytes("nope").withUnsafeBytes { hash.withValue(forField: $0) { _ in 1 } } == nil)
        #expect(bytes("nope").withUnsafeBytes { hash.valueLength(forField: $0) } == 0)
    }

    // MARK: Encodings

    @Test func staysListpackUpToTheEntryLimitThenConvertsForGood() {
        let limits = limits(entries: 3)
        let hash = HashObject()
        #expect(hash.encoding == .listpack)
        for i in 0 ..< 3 { set(hash, "f\(i)", "v", limits) }
        #expect(hash.encoding == .listpack)
        set(hash, "f0", "updated", limits)
        #expect(hash.encoding == .listpack)
        set(hash, "f3", "v", limits)
        #expect(hash.encoding == .hashtable)
        for i in 0 ..< 4 { _ = bytes("f\(i)").withUnsafeBytes { hash.remove($0) } }
        set(hash, "a", "b", limits)
        #expect(hash.encoding == .hashtable)  // one-way
        #expect(get(hash, "a") == "b")
    }

    @Test func aLongFieldOrValueConvertsBeforeWriting() {
        let limits = limits(value: 8)
        let a = HashObject()
        set(a, "abcdefgh", "12345678", limits)
        #expect(a.encoding == .listpack)
        let b = HashObject()
        set(b, "abcdefghi", "1", limits)
        #expect(b.encoding == .hashtable)
        let c = HashObject()
        set(c, "f", "123456789", limits)
        #expect(c.encoding == .hashtable)
        #expect(get(c, "f") == "123456789")
    }

    @Test func anUpdateConvertsAListpackThatALoweredLimitMadeTooBig() {
        let hash = HashObject()
        for i in 0 ..< 5 { set(hash, "f\(i)", "v", limits(entries: 128)) }
        #expect(hash.encoding == .listpack)
        set(hash, "f1", "w", limits(entries: 2))
        #expect(hash.encoding == .hashtable)
        #expect(pairs(hash).count == 5)
    }

    @Test func tryConversionCountsArgumentsNotDistinctFields() {
        let hash = HashObject()
        hash.tryConversion(newFields: 3, longestArgument: 1, totalBytes: 6, limits: limits(entries: 2))
        #expect(hash.encoding == .hashtable)
        let small = HashObject()
        small.tryConversion(newFields: 2, longestArgument: 8, totalBytes: 20, limits: limits(entries: 2, value: 8))
        #expect(small.encoding == .listpack)
        small.tryConversion(newFields: 1, longestArgument: 9, totalBytes: 9, limits: limits(entries: 2, value: 8))
        #expect(small.encoding == .hashtable)
    }

    @Test func conversionKeepsEveryPair() {
        let hash = HashObject()
        var expected: [String: String] = [:]
        for i in 0 ..< 200 {
            set(hash, "field:\(i)", "value:\(i * 7)", limits(entries: 1_000))
            expected["field:\(i)"] = "value:\(i * 7)"
        }
        #expect(hash.encoding == .listpack)
        set(hash, "field:0", "value:0", limits(entries: 10))
        #expect(hash.encoding == .hashtable)
        #expect(hash.count == 200)
        for (field, value) in expected { #expect(get(hash, field) == value) }
    }

    @Test func duplicateIsIndependentAndKeepsTheEncoding() {
        for entries in [128, 2] {
            let hash = HashObject()
            for i in 0 ..< 5 { set(hash, "f\(i)", "v\(i)", limits(entries: entries)) }
            let copy = hash.duplicate() as! HashObject
            #expect(copy.encoding == hash.encoding)
            set(hash, "f0", "changed", limits(entries: entries))
            _ = bytes("f1").withUnsafeBytes { hash.remove($0) }
            #expect(get(copy, "f0") == "v0")
            #expect(get(copy, "f1") == "v1")
            #expect(copy.count == 5)
        }
    }

    @Test func valueForFieldCopiesTheValueForSort() {
        let hash = HashObject()
        set(hash, "weight", "42", limits())
        #expect(bytes("weight").withUnsafeBytes { hash.value(forField: $0) } == Bytes("42"))
        #expect(bytes("missing").withUnsafeBytes { hash.value(forField: $0) } == nil)
    }

    @Test func valuesGrowAndShrinkInPlaceOrMoveInAHashtable() {
        let hash = HashObject()
        let limits = limits(entries: 0)
        for length in [0, 1, 5, 40, 200, 3, 0, 1_000, 2] {
            let value = String(repeating: "x", count: length)
            set(hash, "f", value, limits)
            #expect(get(hash, "f") == value)
        }
        #expect(hash.encoding == .hashtable)
    }

    // MARK: Increments

    private func incr(_ hash: HashObject, _ field: String, _ by: Int, _ limits: CollectionLimits) throws -> Int {
        let result = bytes(field).withUnsafeBytes { raw in
            Result { () throws(HashOpError) -> Int in try hash.incrementInteger(raw, by: by, limits: limits) }
        }
        return try result.get()
    }

    private func incrFloat(_ hash: HashObject, _ field: String, _ by: LongDouble, _ limits: CollectionLimits) throws -> String {
        var text = ""
        let result = bytes(field).withUnsafeBytes { raw in
            Result { () throws(HashOpError) in
                try hash.incrementFloat(raw, by: by, limits: limits) { text = String(decoding: $0, as: UTF8.self) }
            }
        }
        try result.get()
        return text
    }

    @Test(arguments: [128, 0])
    func incrementIntegerLikeRedis(entries: Int) throws {
        let limits = limits(entries: entries)
        let hash = HashObject()
        #expect(try incr(hash, "c", 5, limits) == 5)
        #expect(try incr(hash, "c", -7, limits) == -2)
        #expect(get(hash, "c") == "-2")
        set(hash, "max", "9223372036854775807", limits)
        #expect(throws: HashOpError.overflow) { try incr(hash, "max", 1, limits) }
        set(hash, "min", "-9223372036854775808", limits)
        #expect(throws: HashOpError.overflow) { try incr(hash, "min", -1, limits) }
        #expect(try incr(hash, "min", 9_223_372_036_854_775_807, limits) == -1)
        for bad in [" 1", "1 ", "1.5", "abc", "", "007", "+1", "-0"] {
            set(hash, "bad", bad, limits)
            #expect(throws: HashOpError.notInteger) { try incr(hash, "bad", 1, limits) }
            #expect(get(hash, "bad") == bad)
        }
    }

    @Test func incrementsConvertOnlyOnTheValueLength() throws {
        let limits = limits(entries: 2, value: 2)
        let hash = HashObject()
        #expect(try incr(hash, "a", 99, limits) == 99)
        #expect(hash.encoding == .listpack)
        #expect(try incr(hash, "a", 1, limits) == 100)
        #expect(hash.encoding == .hashtable)
        let floats = HashObject()
        let tight = self.limits(value: 8)
        _ = try? incrFloat(floats, "tmp", 0.000005, tight)
        #expect(floats.encoding == .listpack)
        _ = try? incrFloat(floats, "tmp", 0.0000005, tight)
        #expect(floats.encoding == .hashtable)
        let third = HashObject()
        _ = try? incr(third, "a", 1, limits)
        _ = try? incr(third, "b", 1, limits)
        #expect(third.encoding == .listpack)
        _ = try? incr(third, "c", 1, limits)
        #expect(third.encoding == .hashtable)
    }

    @Test(arguments: [128, 0])
    func incrementFloatFormatsLikeRedis(entries: Int) throws {
        let limits = limits(entries: entries)
        let hash = HashObject()
        #expect(try incrFloat(hash, "f", 1.23, limits) == "1.23")
        #expect(try incrFloat(hash, "f", 0.77, limits) == "2")
        #expect(try incrFloat(hash, "f", -0.1, limits) == "1.9")
        #expect(get(hash, "f") == "1.9")
        set(hash, "i", "10", limits)
        #expect(try incrFloat(hash, "i", 2.5, limits) == "12.5")
        set(hash, "sp", " 1", limits)
        #expect(throws: HashOpError.notFloat) { try incrFloat(hash, "sp", 1, limits) }
        set(hash, "nul", "1\u{0}2", limits)
        #expect(throws: HashOpError.notFloat) { try incrFloat(hash, "nul", 1, limits) }
        set(hash, "big", "1e4932", limits)
        #expect(throws: HashOpError.nanOrInfinity) { try incrFloat(hash, "big", LongDouble.greatestFiniteMagnitude, limits) }
        #expect(get(hash, "big") == "1e4932")
    }

    // MARK: HSCAN

    @Test func scanOfAListpackReturnsEverythingWithCursorZero() {
        let hash = HashObject()
        for i in 0 ..< 20 { set(hash, "f\(i)", "v\(i)", limits()) }
        var seen: [String] = []
        let next = hash.scan(cursor: 12_345, count: 1) { field, _ in seen.append(String(decoding: field, as: UTF8.self)) }
        #expect(next == 0)
        #expect(seen == (0 ..< 20).map { "f\($0)" })
    }

    @Test func scanOfAHashtableReportsEveryFieldPresentThroughoutAcrossGrowth() {
        let limits = limits(entries: 0)
        let hash = HashObject()
        for i in 0 ..< 1_000 { set(hash, "f\(i)", "v", limits) }
        var seen = Set<String>()
        var cursor: UInt64 = 0
        var calls = 0
        var added = 1_000
        repeat {
            cursor = hash.scan(cursor: cursor, count: 10) { field, value in
                seen.insert(String(decoding: field, as: UTF8.self))
                #expect(Array(value) == Array("v".utf8))
            }
            calls += 1
            // Grow the table (several resizes) while the scan runs.
            for _ in 0 ..< 40 {
                set(hash, "g\(added)", "v", limits)
                added += 1
            }
        } while cursor != 0 && calls < 100_000
        #expect(cursor == 0)
        for i in 0 ..< 1_000 { #expect(seen.contains("f\(i)")) }
    }

    // MARK: Random fields

    @Test(arguments: [128, 0])
    func randomPicksAreFieldsOfTheHashAndCoverIt(entries: Int) {
        let limits = limits(entries: entries)
        let hash = HashObject()
        for i in 0 ..< 10 { set(hash, "f\(i)", "v\(i)", limits) }
        var rng = SystemRandomNumberGenerator()
        var counts: [String: Int] = [:]
        hash.forEachRandomPair(picks: 10_000, using: &rng) { field, value in
            let f = String(decoding: field, as: UTF8.self)
            #expect(String(decoding: value, as: UTF8.self) == "v" + f.dropFirst())
            counts[f, default: 0] += 1
            return true
        }
        #expect(counts.count == 10)
        // Uniform: each of 10 fields ~1000 times (far outside these bounds is a bug, not chance).
        for (_, n) in counts { #expect(n > 700 && n < 1_300) }
        var stopped = 0
        hash.forEachRandomPair(picks: 100, using: &rng) { _, _ in
            stopped += 1
            return stopped < 3
        }
        #expect(stopped == 3)
        var one = Set<String>()
        for _ in 0 ..< 500 { _ = hash.withRandomPair(using: &rng) { field, _ in one.insert(String(decoding: field, as: UTF8.self)) } }
        #expect(one.count == 10)
    }

    @Test(arguments: [(128, 30, 25), (128, 30, 3), (0, 30, 25), (0, 30, 3), (0, 3_000, 10)])
    func distinctPicksAreDistinctAndUniform(entries: Int, size: Int, n: Int) {
        let limits = limits(entries: entries)
        let hash = HashObject()
        for i in 0 ..< size { set(hash, "f\(i)", "v\(i)", limits) }
        var rng = SystemRandomNumberGenerator()
        var total: [String: Int] = [:]
        let rounds = size <= 30 ? 3_000 : 100
        for _ in 0 ..< rounds {
            var picked: [String] = []
            hash.forEachRandomDistinctPair(count: n, using: &rng) { field, value in
                let f = String(decoding: field, as: UTF8.self)
                #expect(String(decoding: value, as: UTF8.self) == "v" + f.dropFirst())
                picked.append(f)
            }
            #expect(picked.count == n)
            #expect(Set(picked).count == n)
            for f in picked { total[f, default: 0] += 1 }
        }
        if size <= 30 {
            #expect(total.count == size)
            let mean = Double(rounds * n) / Double(size)
            for (_, c) in total { #expect(Double(c) > mean * 0.6 && Double(c) < mean * 1.4) }
        }
    }
}
