@testable import ApusStore
import Testing

/// Expected bytes, fingerprints and estimates were recorded from redis-server 7.0.15 (and agree
/// with 7.2.4) for the same element sequences, with hll-sparse-max-bytes 3000.
@Suite struct HyperLogLogTests {
    static let maxBytes = 3000

    /// FNV-1a 64 of a value, to compare 12 KB dense values against recorded fingerprints.
    private func fingerprint(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    private func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    private func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i ..< j], radix: 16)!)
            i = j
        }
        return out
    }

    /// Adds `elements` one by one like PFADD and returns the per-element results.
    @discardableResult
    private func add(_ sketch: inout HyperLogLogBuffer, _ elements: [String], maxBytes: Int = maxBytes) -> [Int] {
        elements.map { element in
            Array(element.utf8).withUnsafeBytes { sketch.add($0, sparseMaxBytes: maxBytes) }
        }
    }

    private func elements(_ prefix: String, _ n: Int) -> [String] { (0 ..< n).map { "\(prefix)\($0)" } }

    /// A working copy of `bytes`.
    private func sketch(_ bytes: [UInt8]) -> HyperLogLogBuffer {
        var sketch = HyperLogLogBuffer()
        bytes.withUnsafeBytes { sketch = HyperLogLogBuffer(copying: $0) }
        return sketch
    }

    /// Registers of a valid sketch, expanded.
    private func registers(_ value: UnsafeRawBufferPointer) -> [UInt8] {
        var copy = HyperLogLogBuffer(copying: value)
        let converted = copy.toDense()
        #expect(converted)
        return (0 ..< HyperLogLog.registerCount).map { HyperLogLog.register(copy.bytes, $0) }
    }

    // MARK: Hashing and layout

    @Test func emptySketchIsOneXZeroWithAValidZeroCache() {
        let sketch = HyperLogLogBuffer()
        #expect(hex(sketch.bytes) == "48594c4c0100000000000000000000007fff")
        #expect(sketch.count() == 0)
        #expect(HyperLogLog.cachedCardinality(sketch.bytes) == 0)
    }

    @Test func singleElementsSplitTheXZeroExactlyLikeRedis() {
        var sketch = HyperLogLogBuffer()
        let first = add(&sketch, ["a"])
        #expect(first == [1])
        sketch.invalidateCache()
        #expect(hex(sketch.bytes) == "48594c4c01000000000000000000008071a6844e57")
        var empty = HyperLogLogBuffer()
        let emptyElement = add(&empty, [""])
        #expect(emptyElement == [1])
        empty.invalidateCache()
        #expect(hex(empty.bytes) == "48594c4c01000000000000000000008057318468cc")
        let again = add(&sketch, ["a"])
        #expect(again == [0])
    }

    @Test func tenElementsGiveRedisBytesAndEstimate() {
        var sketch = HyperLogLogBuffer()
        add(&sketch, (0 ..< 10).map(String.init))
        sketch.invalidateCache()
        #expect(hex(sketch.bytes)
            == "48594c4c01000000000000000000008041ee844823805351804ce08040928048ca8c43738042d78042128c40cf844322")
        #expect(sketch.count() == 10)
    }

    @Test func murmurHashTailBytesAndSeedFollowRedis() {
        // The register and run length of "a" are visible in Redis's bytes above: XZERO 0x31a6+1
        // = 12711 zeros, then VAL 2 at register 12711.
        let (index, count) = Array("a".utf8).withUnsafeBytes { HyperLogLog.patternLength($0) }
        #expect(index == 12711)
        #expect(count == 2)
        // Every tail length (0-7) and a word: each element alone lands where Redis puts it.
        for n in 0 ... 17 {
            let element = String(repeating: "x", count: n)
            var sketch = HyperLogLogBuffer()
            add(&sketch, [element])
            let (i, c) = Array(element.utf8).withUnsafeBytes { HyperLogLog.patternLength($0) }
            let regs = registers(sketch.bytes)
            #expect(regs[i] == c)
            #expect(regs.filter { $0 != 0 }.count == 1)
        }
    }

    @Test func denseRegistersPackSixBitsWithoutDisturbingNeighbours() {
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: HyperLogLog.denseSize, alignment: 8)
        defer { value.deallocate() }
        value.initializeMemory(as: UInt8.self, repeating: 0)
        let registers = value.baseAddress! + HyperLogLog.headerSize
        var model = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        var rng = SplitMix64(seed: 42)
        for _ in 0 ..< 3 {
            for i in 0 ..< HyperLogLog.registerCount {
                let v = UInt8(truncatingIfNeeded: rng.next() & 63)
                model[i] = v
                HyperLogLog.setDenseRegister(registers, i, v)
            }
            for i in 0 ..< HyperLogLog.registerCount { #expect(HyperLogLog.denseRegister(registers, i) == model[i]) }
        }
    }

    // MARK: Sparse against a register model

    @Test func sparseAddsMatchARegisterModelAndPromoteAtTheLimit() {
        for maxBytes in [30, 300, 3000] {
            var sketch = HyperLogLogBuffer()
            var model = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            var rng = SplitMix64(seed: UInt64(maxBytes))
            for _ in 0 ..< 4000 {
                var element = rng.next() % 50_000
                let (index, count) = withUnsafeBytes(of: &element) { HyperLogLog.patternLength($0) }
                let expected = count > model[index] ? 1 : 0
                model[index] = max(model[index], count)
                let wasSparse = sketch.encoding == .sparse
                let result = withUnsafeBytes(of: &element) { sketch.add($0, sparseMaxBytes: maxBytes) }
                #expect(result == expected)
                if sketch.encoding == .sparse {
                    #expect(sketch.length <= max(maxBytes, HyperLogLog.emptySparseSize))
                } else if wasSparse {
                    // Promotion happens only for a change that no longer fits (or a run > 32).
                    #expect(result == 1)
                }
            }
            #expect(registers(sketch.bytes) == model)
            let count = model.withUnsafeBufferPointer { HyperLogLog.count(registers: $0) }
            #expect(sketch.count() == count)
        }
    }

    @Test func sparseStaysValidWithNeighbouringValuesMerged() {
        var sketch = HyperLogLogBuffer()
        // Set registers 0...7 to the same value one by one: VAL runs merge up to length 4.
        for i in 0 ..< 8 {
            let result = sketch.set(i, 3, sparseMaxBytes: 3000)
            #expect(result == 1)
        }
        #expect(String(decoding: HyperLogLog.decode(sketch.bytes), as: UTF8.self) == "v:3,4 v:3,4 Z:16376")
        let unchanged = sketch.set(5, 3, sparseMaxBytes: 3000)
        #expect(unchanged == 0)
        let raised = sketch.set(5, 4, sparseMaxBytes: 3000)
        #expect(raised == 1)
        #expect(String(decoding: HyperLogLog.decode(sketch.bytes), as: UTF8.self) == "v:3,4 v:3,1 v:4,1 v:3,2 Z:16376")
        // A register above the VAL range (32) promotes.
        let promoted = sketch.set(100, 33, sparseMaxBytes: 3000)
        #expect(promoted == 1)
        #expect(sketch.encoding == .dense)
        #expect(HyperLogLog.register(sketch.bytes, 100) == 33)
        #expect(HyperLogLog.register(sketch.bytes, 5) == 4)
    }

    @Test func estimatesAndBytesMatchRedisAcrossThePromotion() {
        // (elements, length, encoding, fingerprint before PFCOUNT, estimate)
        let recorded: [(Int, Int, HyperLogLog.Encoding, UInt64, UInt64)] = [
            (100, 285, .sparse, 0xb8de_76da_b4a4_065e, 100),
            (1000, 1906, .sparse, 0x5935_de02_3280_6824, 1008),
            (3000, 12304, .dense, 0x1b31_e02e_e1b5_6bce, 2979),
            (10000, 12304, .dense, 0x7378_cbab_5ab5_c44b, 9973),
            (100_000, 12304, .dense, 0xafbf_1713_dc5b_a3c8, 100_853),
        ]
        for (n, length, encoding, print, estimate) in recorded {
            var sketch = HyperLogLogBuffer()
            add(&sketch, elements("e", n))
            sketch.invalidateCache()  // PFADD does this once any register changed
            #expect(sketch.length == length)
            #expect(sketch.encoding == encoding)
            #expect(fingerprint(sketch.bytes) == print, "\(n)")
            #expect(HyperLogLog.count(sketch.bytes) == estimate, "\(n)")
        }
    }

    // MARK: Estimator edges

    @Test func overflowingEstimateIsLLONGMINLikeRedis() {
        // Every register at 51 or above: the estimator divides by zero and llroundl overflows.
        var max = [UInt8](repeating: 63, count: HyperLogLog.registerCount)
        #expect(max.withUnsafeBufferPointer { HyperLogLog.count(registers: $0) } == 1 << 63)
        max = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        #expect(max.withUnsafeBufferPointer { HyperLogLog.count(registers: $0) } == 0)
    }

    @Test func tauAndSigmaStayInRangeForEveryRegisterCount() {
        for n in 0 ... HyperLogLog.registerCount {
            let x = Double(n) / Double(HyperLogLog.registerCount)
            let tau = HyperLogLog.tau(x)
            let sigma = HyperLogLog.sigma(x)
            #expect(tau >= 0 && tau.isFinite)
            #expect(sigma >= 0)
        }
    }

    // MARK: Merge

    @Test func mergeOfSparseAndDenseMatchesRedis() {
        var y = HyperLogLogBuffer()
        add(&y, elements("f", 500))
        var z = HyperLogLogBuffer()
        add(&z, elements("e", 300))
        var max = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        max.withUnsafeMutableBufferPointer { max in
            #expect(HyperLogLog.merge(y.bytes, into: max))
            #expect(HyperLogLog.merge(z.bytes, into: max))
        }
        #expect(max.withUnsafeBufferPointer { HyperLogLog.count(registers: $0) } == 808)
        // PFMERGE into a new key: a sparse sketch raised register by register.
        var merged = HyperLogLogBuffer()
        for i in 0 ..< HyperLogLog.registerCount where max[i] != 0 { _ = merged.set(i, max[i], sparseMaxBytes: 3000) }
        merged.invalidateCache()
        #expect(merged.length == 1584)
        #expect(fingerprint(merged.bytes) == 0x415b_368f_2a4a_dc10)
    }

    // MARK: Validation and corruption

    @Test func validationFollowsIsHLLObjectOrReply() {
        func valid(_ b: [UInt8]) -> Bool {
            b.withUnsafeBytes { value in
                do throws(HyperLogLogError) {
                    try HyperLogLog.validate(value)
                    return true
                } catch {
                    return false
                }
            }
        }
        let empty = bytes("48594c4c0100000000000000000000007fff")
        let zeros = [UInt8](repeating: 0, count: 12288)
        var checks: [(String, [UInt8], Bool)] = [
            ("empty sparse", empty, true),
            ("15 bytes", Array(empty.prefix(15)), false),
            ("header alone", Array(empty.prefix(16)), true),  // passes; counting it fails
            // A sparse value is not walked here: 12288 zero bytes (ZERO opcodes) still pass.
            ("long sparse", Array(empty.prefix(16)) + zeros, true),
        ]
        var broken = empty
        broken[0] = UInt8(ascii: "0")
        checks.append(("magic", broken, false))
        broken = empty
        broken[4] = 2
        checks.append(("encoding 2", broken, false))
        broken[4] = 0
        checks.append(("short dense", broken, false))
        var dense = Array(empty.prefix(16)) + zeros
        dense[4] = 0
        checks.append(("dense", dense, true))
        checks.append(("long dense", dense + [0], false))
        for (name, value, expected) in checks {
            let result = valid(value)
            #expect(result == expected, "\(name)")
        }
    }

    @Test func sparseValuesMustCoverExactlyAllRegisters() {
        let header = bytes("48594c4c010000000000000000000080")
        func count(_ tail: String) -> UInt64? { (header + bytes(tail)).withUnsafeBytes { HyperLogLog.count($0) } }
        func merges(_ tail: String) -> Bool {
            var max = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            return (header + bytes(tail)).withUnsafeBytes { v in max.withUnsafeMutableBufferPointer { HyperLogLog.merge(v, into: $0) } }
        }
        #expect(count("7fff") == 0)
        #expect(count("7ffdad") == 2)  // 16382 zeros + two registers of 4
        for tail in ["7fffac", "7fff00", "7ffdac", "7ffeaf", "7ffeacac", "", "7f"] {
            #expect(count(tail) == nil, "\(tail)")
            #expect(!merges(tail), "\(tail)")
        }
        #expect(merges("7ffdad"))
        // Conversion to dense rejects the same values and leaves the sketch unchanged.
        let value = header + bytes("7fffac")
        var corrupted = sketch(value)
        let converted = corrupted.toDense()
        #expect(!converted)
        #expect(Array(corrupted.bytes) == value)
    }

    @Test func sparseSetOnCorruptedValuesNeverTraps() {
        // Registers not covered, a truncated XZERO (reads the sds terminator), extra opcodes.
        let header = bytes("48594c4c010000000000000000000080")
        for tail in ["", "00", "7f", "7fff", "40", "8080", "7fffac", "3f3f", "ff", "4000", "bfbfbf"] {
            var corrupted = sketch(header + bytes(tail))
            var rng = SplitMix64(seed: 7)
            for _ in 0 ..< 200 {
                let index = Int(rng.next() % 16384)
                let count = UInt8(1 + rng.next() % 51)
                let result = corrupted.set(index, count, sparseMaxBytes: Int(rng.next() % 100))
                #expect(result >= -1 && result <= 1)
            }
            _ = corrupted.count()
            _ = HyperLogLog.decode(corrupted.bytes)
        }
    }

    @Test func selfTestPasses() {
        #expect(HyperLogLog.selfTest(sparseMaxBytes: 3000, elements: 100_000, seed: 1) == nil)
    }
}
