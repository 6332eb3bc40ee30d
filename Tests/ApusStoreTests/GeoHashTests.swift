import ApusRESP
@testable import ApusStore
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Expected values were read from redis-server 7.2.4 (GEOADD scores via ZSCORE, GEOPOS,
// GEOHASH, GEODIST, and search replies).

/// A deterministic generator so a failing case can be replayed.
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

private func text(_ format: (Double, UnsafeMutableRawBufferPointer) -> Int, _ value: Double) -> String {
    withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buffer in
        let n = format(value, buffer)
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<n]), as: UTF8.self)
    }
}

private func coordinate(_ value: Double) -> String { text(GeoHash.formatCoordinate, value) }
private func distance(_ value: Double) -> String { text(GeoHash.formatDistance, value) }

private func point(_ d: Double, _ tag: Int) -> GeoPoint {
    GeoPoint(longitude: 0, latitude: 0, distance: d, score: Double(tag), memberOffset: 0, memberLength: 0)
}

@Suite struct GeoHashTests {
    @Test func interleavingRoundTrips() {
        var rng = SplitMix(seed: 1)
        for _ in 0..<10_000 {
            let x = UInt32.random(in: 0...UInt32.max, using: &rng), y = UInt32.random(in: 0...UInt32.max, using: &rng)
            let bits = GeoHash.interleave(x, y)
            #expect(GeoHash.deinterleave(bits) == UInt64(x) | UInt64(y) << 32)
        }
        #expect(GeoHash.interleave(1, 0) == 1)
        #expect(GeoHash.interleave(0, 1) == 2)
        #expect(GeoHash.interleave(0xFFFF_FFFF, 0) == 0x5555_5555_5555_5555)
    }

    @Test func geoaddScoresMatchRedis() {
        #expect(GeoHash.score(longitude: -73.9454966, latitude: 40.747533) == 1791875804419201)
        #expect(GeoHash.score(longitude: -74.0131604, latitude: 40.7126674) == 1791873972053020)
        #expect(GeoHash.score(longitude: 13.361389, latitude: 38.115556) == 3479099956230698)
        #expect(GeoHash.score(longitude: 15.087269, latitude: 37.502669) == 3479447370796909)
        // The limits themselves land one cell past the grid: bit 52 (latitude) / 53 (longitude).
        #expect(GeoHash.score(longitude: -180, latitude: -85.05112878) == 0)
        #expect(GeoHash.score(longitude: 0, latitude: 85.05112878) == 6755399441055744)
        #expect(GeoHash.score(longitude: 180, latitude: 85.05112878) == 13510798882111488)
        #expect(GeoHash.score(longitude: 181, latitude: 0) == 0)
        #expect(GeoHash.encode(longitude: 181, latitude: 0, step: 26) == nil)
        #expect(GeoHash.encode(longitude: 0, latitude: -85.06, step: 26) == nil)
    }

    @Test func decodingGivesTheCellCentreAsRedisPrintsIt() {
        let (longitude, latitude) = GeoHash.coordinates(ofScore: 3479099956230698)
        #expect(coordinate(longitude) == "13.36138933897018433")
        #expect(coordinate(latitude) == "38.11555639549629859")
        // Scores GEOADD never writes decode through C's (uint64_t) conversion, then clamp.
        let cases: [(Double, String, String)] = [
            (-1, "180", "85.0511287799999991"),
            (.infinity, "-179.99999731779098511", "-85.05112751263942528"),
            (-.infinity, "180", "-85.05112751263942528"),
            (4503599627370496, "-179.99999731779098511", "85.0511287799999991"),
            (0.5, "-179.99999731779098511", "-85.05112751263942528"),
            (1e30, "-179.99999731779098511", "-85.05112751263942528"),
            (9223372036854775808, "180", "-85.05112751263942528"),
            (.nan, "180", "-85.05112751263942528"),
        ]
        for (score, lon, lat) in cases {
            let (x, y) = GeoHash.coordinates(ofScore: score)
            #expect(coordinate(x) == lon, "score \(score)")
            #expect(coordinate(y) == lat, "score \(score)")
        }
    }

    @Test func standardGeohashStrings() {
        func geohash(_ score: Double) -> String {
            withUnsafeTemporaryAllocation(byteCount: 11, alignment: 1) { buffer in
                GeoHash.standardGeohash(ofScore: score, into: buffer)
                return String(decoding: UnsafeRawBufferPointer(buffer), as: UTF8.self)
            }
        }
        #expect(geohash(Double(GeoHash.score(longitude: -5.6, latitude: 42.6))) == "ezs42e44yx0")
        #expect(geohash(3479099956230698) == "sqc8b49rny0")
        #expect(geohash(3479447370796909) == "sqdtr74hyu0")
        #expect(geohash(-1) == "bp05b5048p0")
        #expect(geohash(0) == "00bh0hbj200")
    }

    @Test func distancesAndTheirFourDecimals() {
        let a = GeoHash.coordinates(ofScore: 3479099956230698), b = GeoHash.coordinates(ofScore: 3479447370796909)
        let d = GeoHash.distance(a.longitude, a.latitude, b.longitude, b.latitude)
        #expect(distance(d) == "166274.1516")
        #expect(distance(d / 1000) == "166.2742")
        #expect(distance(d / 1609.34) == "103.3182")
        #expect(distance(d / 0.3048) == "545518.8700")
        #expect(GeoHash.distance(a.longitude, a.latitude, a.longitude, a.latitude) == 0)
        #expect(distance(0) == "0.0000")
        #expect(distance(-0.0) == "0.0000")
        #expect(distance(0.00004) == "0.0000")
        #expect(distance(0.775) == "0.7750")
        #expect(distance(12.34567) == "12.3457")
        #expect(distance(.nan) == "-922337203685477.5808")
    }

    @Test func coordinateFormattingMatchesPrintf() {
        var rng = SplitMix(seed: 2)
        var values: [Double] = [0, -0.0, 180, -180, 85.05112878, 1e-17, 5e-18, -5e-18, 1.5e-17, 0.1, 123.456,
                                .leastNonzeroMagnitude, -.leastNormalMagnitude, 179.99999999999997, 1e-300]
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: values.append(Double.random(in: -180...180, using: &rng))
            case 1: values.append(Double.random(in: -1...1, using: &rng) * pow(10, Double(Int.random(in: -20...2, using: &rng))))
            default: values.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)))
            }
        }
        for value in values where value.isFinite {
            let expected = withUnsafeTemporaryAllocation(byteCount: maxLongDoubleChars, alignment: 1) { buffer in
                let n = formatLongDouble(LongDouble(value), into: buffer)
                return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<n]), as: UTF8.self)
            }
            if value.magnitude < 1e30 {
                #expect(coordinate(value) == expected, "\(value)")
            }
        }
    }

    @Test func neighboursWrapAroundTheGrid() {
        // Step 1: two cells per axis; every move wraps.
        let cell = GeoHashBits(bits: 0b00, step: 1)
        let n = GeoHash.neighbors(of: cell)
        #expect(n.north == GeoHashBits(bits: 0b01, step: 1))
        #expect(n.south == GeoHashBits(bits: 0b01, step: 1))
        #expect(n.east == GeoHashBits(bits: 0b10, step: 1))
        #expect(n.west == GeoHashBits(bits: 0b10, step: 1))
        #expect(n.northEast == GeoHashBits(bits: 0b11, step: 1))
        // Step 2: the cell at longitude 0, latitude 3 has its north neighbour at latitude 0.
        let top = GeoHashBits(bits: GeoHash.interleave(3, 0), step: 2)
        let m = GeoHash.neighbors(of: top)
        #expect(m.north == GeoHashBits(bits: GeoHash.interleave(0, 0), step: 2))
        #expect(m.south == GeoHashBits(bits: GeoHash.interleave(2, 0), step: 2))
        #expect(m.west == GeoHashBits(bits: GeoHash.interleave(3, 3), step: 2))
        #expect(m.east == GeoHashBits(bits: GeoHash.interleave(3, 1), step: 2))
    }

    @Test func stepEstimates() {
        #expect(GeoHash.estimateSteps(radiusMeters: 0, latitude: 0) == 26)
        #expect(GeoHash.estimateSteps(radiusMeters: 1, latitude: 0) == 24)
        #expect(GeoHash.estimateSteps(radiusMeters: 1000, latitude: 0) == 14)
        #expect(GeoHash.estimateSteps(radiusMeters: 1000, latitude: 70) == 13)
        #expect(GeoHash.estimateSteps(radiusMeters: 1000, latitude: -81) == 12)
        #expect(GeoHash.estimateSteps(radiusMeters: 5_000_000, latitude: 0) == 2)
        #expect(GeoHash.estimateSteps(radiusMeters: 20_000_000, latitude: 0) == 1)
        #expect(GeoHash.estimateSteps(radiusMeters: .infinity, latitude: 0) == 1)
    }

    @Test func searchMatchesABruteForceScan() {
        var rng = SplitMix(seed: 3)
        let limits = CollectionLimits()
        for round in 0..<40 {
            let zset = ZSetObject(encoding: round % 2 == 0 ? .listpack : .skiplist)
            var scores: [(String, Double)] = []
            let count = round % 2 == 0 ? 100 : 1500
            for i in 0..<count {
                let longitude = Double.random(in: -180...180, using: &rng)
                let latitude = Double.random(in: -70...70, using: &rng)
                let score = Double(GeoHash.score(longitude: longitude, latitude: latitude))
                let member = "p\(i)"
                var bytes = Array(member.utf8)
                _ = bytes.withUnsafeMutableBytes { zset.add(UnsafeRawBufferPointer($0), score: score, limits: limits) }
                scores.append((member, score))
            }
            let kind: GeoShape.Kind = round % 4 < 2
                ? .radius(Double.random(in: 10...3000, using: &rng))
                : .box(width: Double.random(in: 10...3000, using: &rng), height: Double.random(in: 10...3000, using: &rng))
            let shape = GeoShape(kind: kind, longitude: Double.random(in: -180...180, using: &rng),
                                 latitude: Double.random(in: -60...60, using: &rng), conversion: 1000)
            let result = zset.geoSearch(shape)
            var found = Set<String>()
            for p in result.points {
                result.withMember(p) { found.insert(String(decoding: $0, as: UTF8.self)) }
                #expect(GeoHash.pointWithin(shape, score: p.score)?.distance == p.distance)
            }
            #expect(found.count == result.count, "no member twice")
            let expected = Set(scores.filter { GeoHash.pointWithin(shape, score: $0.1) != nil }.map(\.0))
            #expect(found == expected, "round \(round)")
            // COUNT ... ANY stops early, in scan order.
            if result.count > 3 {
                let limited = zset.geoSearch(shape, limit: 3)
                #expect(limited.count == 3)
                for i in 0..<3 { #expect(limited.points[i].score == result.points[i].score) }
            }
        }
    }

    @Test func mergeSortIsStableLikeGlibc() {
        var points = [point(2, 0), point(1, 1), point(2, 2), point(1, 3), point(0, 4), point(2, 5)]
        GeoSort.mergeSort(&points, descending: false)
        #expect(points.map { Int($0.score) } == [4, 1, 3, 0, 2, 5])
        GeoSort.mergeSort(&points, descending: true)
        #expect(points.map { Int($0.score) } == [0, 2, 5, 1, 3, 4])
    }

    @Test func partialSortOrdersThePrefix() {
        var rng = SplitMix(seed: 4)
        for n in [2, 6, 7, 8, 40, 41, 100, 1000] {
            for _ in 0..<20 {
                let original = (0..<n).map { point(Double(Int.random(in: 0..<(n / 2 + 1), using: &rng)), $0) }
                let k = Int.random(in: 1...n, using: &rng)
                for descending in [false, true] {
                    var points = original
                    GeoSort.partialSort(&points, descending: descending, through: k - 1)
                    let sorted = original.map(\.distance).sorted(by: descending ? (>) : (<))
                    #expect(points.prefix(k).map(\.distance) == Array(sorted.prefix(k)))
                    #expect(Set(points.map { Int($0.score) }) == Set(0..<n))
                }
            }
        }
    }
}
