import ApusRESP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The geo index Redis keeps in a sorted set (geohash.c, geohash_helper.c, the search half of
// geo.c): a point is the 52-bit interleaved geohash of its coordinates used as the member's
// score, and a radius or box query scans the score ranges of at most nine geohash cells
// around the centre, keeping the points whose haversine distance passes the shape test.
//
// Every floating-point step is written in Redis's order with the same constants and the
// same libm calls, so scores, coordinates, distances and which borderline points match are
// bit-for-bit Redis's; results are ordered with the same sort algorithms (glibc's merge sort
// for full sorts, Redis's pqsort for COUNT), so even ties come out in Redis's order.

/// A geohash cell: `step` bits per axis, interleaved with latitude bits in the even positions
/// and longitude bits in the odd ones. All-zero is Redis's "no cell" marker (GZERO).
public struct GeoHashBits: Equatable, Sendable {
    public var bits: UInt64
    public var step: UInt8

    public init(bits: UInt64, step: UInt8) {
        self.bits = bits
        self.step = step
    }

    public static let zero = GeoHashBits(bits: 0, step: 0)

    public var isZero: Bool { bits == 0 && step == 0 }
}

/// A coordinate interval.
public struct GeoHashRange: Equatable, Sendable {
    public var min: Double
    public var max: Double

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }
}

/// A decoded cell: its longitude and latitude intervals.
public struct GeoHashArea: Equatable, Sendable {
    public var hash: GeoHashBits
    public var longitude: GeoHashRange
    public var latitude: GeoHashRange
}

/// The eight cells around one cell (wrapping around at the grid's edges, as Redis's bit
/// arithmetic does).
public struct GeoHashNeighbors: Equatable, Sendable {
    public var north, east, west, south: GeoHashBits
    public var northEast, southEast, northWest, southWest: GeoHashBits
}

/// A search area (Redis's GeoShape): a circle or an axis-aligned box around a centre, its
/// size in `unit`s, `conversion` meters per unit.
public struct GeoShape: Sendable {
    public enum Kind: Sendable {
        case radius(Double)
        case box(width: Double, height: Double)
    }

    public var kind: Kind
    public var longitude: Double
    public var latitude: Double
    public var conversion: Double

    public init(kind: Kind, longitude: Double, latitude: Double, conversion: Double) {
        self.kind = kind
        self.longitude = longitude
        self.latitude = latitude
        self.conversion = conversion
    }
}

/// The cells a search scans (GeoHashRadius): the centre cell, its neighbours (some zeroed
/// when they cannot hold matches), and the centre cell's area.
public struct GeoSearchAreas: Sendable {
    public var hash: GeoHashBits
    public var area: GeoHashArea
    public var neighbors: GeoHashNeighbors

    /// The nine cells in the order Redis scans them.
    public var cells: [GeoHashBits] {
        [hash, neighbors.north, neighbors.south, neighbors.east, neighbors.west,
         neighbors.northEast, neighbors.northWest, neighbors.southEast, neighbors.southWest]
    }
}

public enum GeoHash {
    /// GEO_STEP_MAX: 26 bits per axis, 52 in all.
    public static let stepMax: UInt8 = 26

    // Limits from EPSG:900913 (Redis cannot index the poles).
    public static let latitudeMin = -85.05112878
    public static let latitudeMax = 85.05112878
    public static let longitudeMin = -180.0
    public static let longitudeMax = 180.0

    /// Earth's quadratic mean radius for WGS-84, as Redis uses it.
    public static let earthRadiusMeters = 6372797.560856

    static let mercatorMax = 20037726.37

    /// D_R: M_PI / 180.0.
    static let degreesToRadians = Double.pi / 180.0

    static let longitudeRange = GeoHashRange(min: longitudeMin, max: longitudeMax)
    static let latitudeRange = GeoHashRange(min: latitudeMin, max: latitudeMax)

    @inline(__always) static func radians(_ degrees: Double) -> Double { degrees * degreesToRadians }
    @inline(__always) static func degrees(_ radians: Double) -> Double { radians / degreesToRadians }

    // MARK: Bit interleaving

    /// Interleaves the low 32 bits of `x` (even positions) and `y` (odd positions).
    @inlinable
    public static func interleave(_ x: UInt32, _ y: UInt32) -> UInt64 {
        var x = UInt64(x), y = UInt64(y)
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF
        y = (y | (y << 16)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
        y = (y | (y << 8)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        y = (y | (y << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x << 2)) & 0x3333_3333_3333_3333
        y = (y | (y << 2)) & 0x3333_3333_3333_3333
        x = (x | (x << 1)) & 0x5555_5555_5555_5555
        y = (y | (y << 1)) & 0x5555_5555_5555_5555
        return x | (y << 1)
    }

    /// The inverse of `interleave`: even bits in the low half, odd bits in the high half.
    @inlinable
    public static func deinterleave(_ interleaved: UInt64) -> UInt64 {
        var x = interleaved & 0x5555_5555_5555_5555
        var y = (interleaved >> 1) & 0x5555_5555_5555_5555
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333
        y = (y | (y >> 1)) & 0x3333_3333_3333_3333
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
        y = (y | (y >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF
        y = (y | (y >> 4)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF
        y = (y | (y >> 8)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
        y = (y | (y >> 16)) & 0x0000_0000_FFFF_FFFF
        return x | (y << 32)
    }

    /// C's `(uint32_t)double` as x86-64 code performs it (a 64-bit truncation, low half kept);
    /// encoding only passes values in [0, 2^step].
    @inline(__always)
    static func truncatingToUInt32(_ value: Double) -> UInt32 {
        guard value.isFinite, value.magnitude < 0x1p63 else { return 0 }
        return UInt32(truncatingIfNeeded: Int64(value))
    }

    // MARK: Encoding and decoding

    /// geohashEncode: the cell of `step` bits per axis holding the point in the given ranges;
    /// nil outside Redis's indexable area or the ranges.
    public static func encode(longitudeRange: GeoHashRange, latitudeRange: GeoHashRange,
                              longitude: Double, latitude: Double, step: UInt8) -> GeoHashBits? {
        guard step > 0, step <= 32 else { return nil }
        if longitude > longitudeMax || longitude < longitudeMin || latitude > latitudeMax || latitude < latitudeMin {
            return nil
        }
        if latitude < latitudeRange.min || latitude > latitudeRange.max
            || longitude < longitudeRange.min || longitude > longitudeRange.max {
            return nil
        }
        var latitudeOffset = (latitude - latitudeRange.min) / (latitudeRange.max - latitudeRange.min)
        var longitudeOffset = (longitude - longitudeRange.min) / (longitudeRange.max - longitudeRange.min)
        let cells = Double(UInt64(1) << UInt64(step))
        latitudeOffset *= cells
        longitudeOffset *= cells
        return GeoHashBits(bits: interleave(truncatingToUInt32(latitudeOffset), truncatingToUInt32(longitudeOffset)),
                           step: step)
    }

    /// geohashEncodeWGS84: encoding over Redis's longitude/latitude limits.
    public static func encode(longitude: Double, latitude: Double, step: UInt8) -> GeoHashBits? {
        encode(longitudeRange: longitudeRange, latitudeRange: latitudeRange, longitude: longitude,
               latitude: latitude, step: step)
    }

    /// geohashDecode: the area of a cell in the given ranges; nil for the zero cell.
    public static func decode(longitudeRange: GeoHashRange, latitudeRange: GeoHashRange,
                              _ hash: GeoHashBits) -> GeoHashArea? {
        guard !hash.isZero else { return nil }
        let separated = deinterleave(hash.bits)
        let latitudeScale = latitudeRange.max - latitudeRange.min
        let longitudeScale = longitudeRange.max - longitudeRange.min
        let latitudeCell = UInt32(truncatingIfNeeded: separated)
        let longitudeCell = UInt32(truncatingIfNeeded: separated >> 32)
        // 1ull << step, as a double (a step above 63 is not a cell Redis makes).
        let cells = hash.step < 64 ? Double(UInt64(1) << UInt64(hash.step)) : 1
        // The +1 is 32-bit arithmetic in Redis, wrapping for the last cell of a 32-bit axis.
        return GeoHashArea(
            hash: hash,
            longitude: GeoHashRange(
                min: longitudeRange.min + (Double(longitudeCell) * 1.0 / cells) * longitudeScale,
                max: longitudeRange.min + (Double(longitudeCell &+ 1) * 1.0 / cells) * longitudeScale),
            latitude: GeoHashRange(
                min: latitudeRange.min + (Double(latitudeCell) * 1.0 / cells) * latitudeScale,
                max: latitudeRange.min + (Double(latitudeCell &+ 1) * 1.0 / cells) * latitudeScale))
    }

    /// geohashDecodeWGS84.
    public static func decode(_ hash: GeoHashBits) -> GeoHashArea? {
        decode(longitudeRange: longitudeRange, latitudeRange: latitudeRange, hash)
    }

    /// geohashDecodeAreaToLongLat: the centre of an area, clamped to the indexable limits.
    public static func center(of area: GeoHashArea) -> (longitude: Double, latitude: Double) {
        var longitude = (area.longitude.min + area.longitude.max) / 2
        if longitude > longitudeMax { longitude = longitudeMax }
        if longitude < longitudeMin { longitude = longitudeMin }
        var latitude = (area.latitude.min + area.latitude.max) / 2
        if latitude > latitudeMax { latitude = latitudeMax }
        if latitude < latitudeMin { latitude = latitudeMin }
        return (longitude, latitude)
    }

    /// geohashAlign52Bits: a cell's bits shifted to the 52-bit score scale.
    @inlinable
    public static func align52Bits(_ hash: GeoHashBits) -> UInt64 {
        hash.bits << (52 &- UInt64(hash.step) &* 2)
    }

    /// GEOADD's score for a point (validated against the limits first): its 26-step cell,
    /// 52 bits. Longitude 180 or latitude 85.05112878 exactly land one past the last cell, so
    /// a few scores have bit 52 or 53 set, as in Redis.
    public static func score(longitude: Double, latitude: Double) -> UInt64 {
        guard let hash = encode(longitude: longitude, latitude: latitude, step: stepMax) else { return 0 }
        return align52Bits(hash)
    }

    /// C's `(uint64_t)score` in decodeGeohash as x86-64 code performs it: values from 2^63 on
    /// are converted after subtracting 2^63 (and give 0 when still too big, or infinite);
    /// below that a signed truncation, where negative values keep their two's complement bits
    /// and NaN, -inf and values below -2^63 give 0x8000000000000000. Any zset member decodes:
    /// sorted sets not written by GEOADD read back as clamped coordinates, as in Redis.
    @inlinable
    public static func bits(ofScore score: Double) -> UInt64 {
        let twoTo63 = 9223372036854775808.0
        if score >= twoTo63 {
            let reduced = score - twoTo63
            let low: UInt64 = reduced < twoTo63 ? UInt64(bitPattern: Int64(reduced)) : 0x8000_0000_0000_0000
            return low ^ 0x8000_0000_0000_0000
        }
        if score.isNaN || score < -twoTo63 { return 0x8000_0000_0000_0000 }
        return UInt64(bitPattern: Int64(score))
    }

    /// decodeGeohash: the point a member's score stands for (the centre of its 26-step cell).
    public static func coordinates(ofScore score: Double) -> (longitude: Double, latitude: Double) {
        // A step of 26 is never the zero cell, so decoding cannot fail.
        let area = decode(GeoHashBits(bits: bits(ofScore: score), step: stepMax))!
        return center(of: area)
    }

    /// WITHHASH's integer: C's `(long long)score` (x86-64 truncation; out of range is LLONG_MIN).
    @inlinable
    public static func integer(ofScore score: Double) -> Int {
        guard score.isFinite, score >= -0x1p63, score < 0x1p63 else { return Int.min }
        return Int(score)
    }

    static let base32: StaticString = "0123456789bcdefghjkmnpqrstuvwxyz"

    /// GEOHASH's 11-character standard geohash of a member's score: the point is decoded from
    /// Redis's [-85.05, 85.05] latitude range and re-encoded over the standard [-90, 90], 52
    /// bits in ten base-32 characters, then a final '0'.
    public static func standardGeohash(ofScore score: Double, into out: UnsafeMutableRawBufferPointer) {
        let (longitude, latitude) = coordinates(ofScore: score)
        let hash = encode(longitudeRange: GeoHashRange(min: -180, max: 180), latitudeRange: GeoHashRange(min: -90, max: 90),
                          longitude: longitude, latitude: latitude, step: 26)?.bits ?? 0
        let alphabet = base32.utf8Start
        for i in 0..<11 {
            let index = i == 10 ? 0 : Int((hash >> UInt64(52 - (i + 1) * 5)) & 0x1F)
            out[i] = alphabet[index]
        }
    }

    // MARK: Neighbours

    static func moveX(_ hash: inout GeoHashBits, _ direction: Int) {
        guard direction != 0 else { return }
        var x = hash.bits & 0xAAAA_AAAA_AAAA_AAAA
        let y = hash.bits & 0x5555_5555_5555_5555
        let shift = 64 &- UInt64(hash.step) &* 2
        let zz: UInt64 = 0x5555_5555_5555_5555 >> shift
        if direction > 0 {
            x = x &+ (zz &+ 1)
        } else {
            x = x | zz
            x = x &- (zz &+ 1)
        }
        x &= 0xAAAA_AAAA_AAAA_AAAA >> shift
        hash.bits = x | y
    }

    static func moveY(_ hash: inout GeoHashBits, _ direction: Int) {
        guard direction != 0 else { return }
        let x = hash.bits & 0xAAAA_AAAA_AAAA_AAAA
        var y = hash.bits & 0x5555_5555_5555_5555
        let shift = 64 &- UInt64(hash.step) &* 2
        let zz: UInt64 = 0xAAAA_AAAA_AAAA_AAAA >> shift
        if direction > 0 {
            y = y &+ (zz &+ 1)
        } else {
            y = y | zz
            y = y &- (zz &+ 1)
        }
        y &= 0x5555_5555_5555_5555 >> shift
        hash.bits = x | y
    }

    /// geohashNeighbors: x moves along longitude (odd bits), y along latitude (even bits).
    public static func neighbors(of hash: GeoHashBits) -> GeoHashNeighbors {
        func moved(_ dx: Int, _ dy: Int) -> GeoHashBits {
            var h = hash
            moveX(&h, dx)
            moveY(&h, dy)
            return h
        }
        return GeoHashNeighbors(north: moved(0, 1), east: moved(1, 0), west: moved(-1, 0), south: moved(0, -1),
                                northEast: moved(1, 1), southEast: moved(1, -1), northWest: moved(-1, 1),
                                southWest: moved(-1, -1))
    }

    // MARK: Distances

    /// geohashGetLatDistance: the distance along a meridian.
    public static func latitudeDistance(_ latitude1: Double, _ latitude2: Double) -> Double {
        earthRadiusMeters * fabs(radians(latitude2) - radians(latitude1))
    }

    /// geohashGetDistance: the haversine great-circle distance in meters.
    public static func distance(_ longitude1: Double, _ latitude1: Double,
                                _ longitude2: Double, _ latitude2: Double) -> Double {
        let lon1r = radians(longitude1)
        let lon2r = radians(longitude2)
        let v = sin((lon2r - lon1r) / 2)
        // Same longitude: the haversine reduces to the latitude difference.
        if v == 0.0 { return latitudeDistance(latitude1, latitude2) }
        let lat1r = radians(latitude1)
        let lat2r = radians(latitude2)
        let u = sin((lat2r - lat1r) / 2)
        let a = u * u + cos(lat1r) * cos(lat2r) * v * v
        return 2.0 * earthRadiusMeters * asin(sqrt(a))
    }

    /// geohashGetDistanceIfInRectangle: the distance from the box centre (x1, y1) to (x2, y2)
    /// when the point is within half the height by latitude and half the width along its
    /// own parallel; nil otherwise.
    public static func distanceIfInRectangle(width: Double, height: Double, _ x1: Double, _ y1: Double,
                                             _ x2: Double, _ y2: Double) -> Double? {
        if latitudeDistance(y2, y1) > height / 2 { return nil }
        if distance(x2, y2, x1, y2) > width / 2 { return nil }
        return distance(x1, y1, x2, y2)
    }

    // MARK: Search areas

    /// geohashEstimateStepsByRadius: the cell size for the nine-cell cover of a radius.
    public static func estimateSteps(radiusMeters: Double, latitude: Double) -> UInt8 {
        if radiusMeters == 0 { return 26 }
        var range = radiusMeters
        var step = 1
        while range < mercatorMax {
            range *= 2
            step += 1
        }
        step -= 2  // so the range is included in most of the base cases
        // Wider cells towards the poles.
        if latitude > 66 || latitude < -66 {
            step -= 1
            if latitude > 80 || latitude < -80 { step -= 1 }
        }
        return UInt8(Swift.min(Swift.max(step, 1), 26))
    }

    /// geohashBoundingBox: (min longitude, min latitude, max longitude, max latitude) of a
    /// shape; the longitude span is taken at the latitude edge farther from the equator.
    public static func boundingBox(_ shape: GeoShape) -> (minLongitude: Double, minLatitude: Double,
                                                          maxLongitude: Double, maxLatitude: Double) {
        let longitude = shape.longitude, latitude = shape.latitude
        let height: Double, width: Double
        switch shape.kind {
        case .radius(let radius):
            height = shape.conversion * radius
            width = shape.conversion * radius
        case .box(let w, let h):
            height = shape.conversion * (h / 2)
            width = shape.conversion * (w / 2)
        }
        let latitudeDelta = degrees(height / earthRadiusMeters)
        let longitudeDeltaTop = degrees(width / earthRadiusMeters / cos(radians(latitude + latitudeDelta)))
        let longitudeDeltaBottom = degrees(width / earthRadiusMeters / cos(radians(latitude - latitudeDelta)))
        let southern = latitude < 0
        return (southern ? longitude - longitudeDeltaBottom : longitude - longitudeDeltaTop,
                latitude - latitudeDelta,
                southern ? longitude + longitudeDeltaBottom : longitude + longitudeDeltaTop,
                latitude + latitudeDelta)
    }

    /// geohashCalculateAreasByShapeWGS84: the centre cell at the estimated step (one step
    /// coarser when a side neighbour does not reach the bounding box), its neighbours, with
    /// those lying wholly outside the box zeroed.
    public static func searchAreas(for shape: GeoShape) -> GeoSearchAreas {
        let bounds = boundingBox(shape)
        var radiusMeters: Double
        switch shape.kind {
        case .radius(let radius):
            radiusMeters = radius
        case .box(let width, let height):
            radiusMeters = sqrt((width / 2) * (width / 2) + (height / 2) * (height / 2))
        }
        radiusMeters *= shape.conversion
        var steps = estimateSteps(radiusMeters: radiusMeters, latitude: shape.latitude)

        func cover(_ steps: UInt8) -> (GeoHashBits, GeoHashNeighbors, GeoHashArea) {
            // The centre is always within the limits (validated or decoded), so encoding works.
            let hash = encode(longitude: shape.longitude, latitude: shape.latitude, step: steps)
                ?? GeoHashBits(bits: 0, step: steps)
            let area = decode(hash) ?? GeoHashArea(hash: hash, longitude: longitudeRange, latitude: latitudeRange)
            return (hash, GeoHash.neighbors(of: hash), area)
        }
        var (hash, neighbors, area) = cover(steps)

        // Near a cell edge the estimated step can leave part of the box outside the nine cells.
        var decrease = false
        if let north = decode(neighbors.north), north.latitude.max < bounds.maxLatitude { decrease = true }
        if let south = decode(neighbors.south), south.latitude.min > bounds.minLatitude { decrease = true }
        if let east = decode(neighbors.east), east.longitude.max < bounds.maxLongitude { decrease = true }
        if let west = decode(neighbors.west), west.longitude.min > bounds.minLongitude { decrease = true }
        if steps > 1 && decrease {
            steps -= 1
            (hash, neighbors, area) = cover(steps)
        }

        // Exclude the cells that are useless.
        if steps >= 2 {
            if area.latitude.min < bounds.minLatitude {
                neighbors.south = .zero
                neighbors.southWest = .zero
                neighbors.southEast = .zero
            }
            if area.latitude.max > bounds.maxLatitude {
                neighbors.north = .zero
                neighbors.northEast = .zero
                neighbors.northWest = .zero
            }
            if area.longitude.min < bounds.minLongitude {
                neighbors.west = .zero
                neighbors.southWest = .zero
                neighbors.northWest = .zero
            }
            if area.longitude.max > bounds.maxLongitude {
                neighbors.east = .zero
                neighbors.southEast = .zero
                neighbors.northEast = .zero
            }
        }
        return GeoSearchAreas(hash: hash, area: area, neighbors: neighbors)
    }

    /// geoWithinShape: the decoded point and its distance (meters) from the shape's centre
    /// when the score's point is inside the shape; nil otherwise.
    public static func pointWithin(_ shape: GeoShape, score: Double) -> (longitude: Double, latitude: Double,
                                                                         distance: Double)? {
        let (longitude, latitude) = coordinates(ofScore: score)
        switch shape.kind {
        case .radius(let radius):
            let d = distance(shape.longitude, shape.latitude, longitude, latitude)
            if d > radius * shape.conversion { return nil }
            return (longitude, latitude, d)
        case .box(let width, let height):
            guard let d = distanceIfInRectangle(width: width * shape.conversion, height: height * shape.conversion,
                                                shape.longitude, shape.latitude, longitude, latitude)
            else { return nil }
            return (longitude, latitude, d)
        }
    }

    // MARK: Reply formatting

    /// fixedpoint_d2string(d, 4): WITHDIST and GEODIST's text, `llrint(d * 10^4)` printed with
    /// four decimals (a NaN distance prints as LLONG_MIN's digits, as Redis's does).
    public static func formatDistance(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
        if value == 0 { return copy("0.0000", into: out) }
        let scaled = Int64(llrint(value * 10000.0))
        var n = 0
        if scaled < 0 {
            out[0] = UInt8(ascii: "-")
            n = 1
        }
        let magnitude = scaled.magnitude
        n &+= formatUnsigned(magnitude / 10000, into: UnsafeMutableRawBufferPointer(rebasing: out[n...]))
        out[n] = UInt8(ascii: ".")
        var fraction = magnitude % 10000
        for i in stride(from: 4, to: 0, by: -1) {
            out[n &+ i] = UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30
            fraction /= 10
        }
        return n &+ 5
    }

    /// addReplyHumanLongDouble's text for a coordinate (ld2string LD_STR_HUMAN): `%.17Lf` with
    /// trailing zeros and a bare dot removed, `-0` as `0`. For |value| < 2^16 the rounding of
    /// the exact binary value to 17 decimals (ties to even, as glibc's printf) is done here
    /// without printf; larger values go through `formatLongDouble`.
    public static func formatCoordinate(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
        guard value.isFinite, value.magnitude < 65536 else {
            return formatLongDouble(LongDouble(value), into: out)
        }
        // value = m × 2^e with m < 2^53 and e < -36 here; q = round(m × 10^17 / 2^-e).
        let significand = UInt64(value.significandBitPattern) | (value.isNormal ? 1 << 52 : 0)
        let exponent = value.isNormal ? Int(value.exponentBitPattern) - 1075 : -1074
        let shift = -exponent
        let product = UInt128(significand) * 100_000_000_000_000_000
        var q: UInt128 = 0
        if shift < 112 {
            q = product >> UInt128(shift)
            let remainder = product & ((UInt128(1) << UInt128(shift)) &- 1)
            let half = UInt128(1) << UInt128(shift - 1)
            if remainder > half || (remainder == half && q & 1 == 1) { q += 1 }
        }
        let unit: UInt128 = 100_000_000_000_000_000
        var n = 0
        if value.sign == .minus && q != 0 {
            out[0] = UInt8(ascii: "-")
            n = 1
        }
        n &+= formatUnsigned(UInt64(q / unit), into: UnsafeMutableRawBufferPointer(rebasing: out[n...]))
        var fraction = UInt64(q % unit)
        guard fraction != 0 else { return n }
        var digits = 17
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        out[n] = UInt8(ascii: ".")
        for i in stride(from: digits, to: 0, by: -1) {
            out[n &+ i] = UInt8(truncatingIfNeeded: fraction % 10) &+ 0x30
            fraction /= 10
        }
        return n &+ digits &+ 1
    }

    static func formatUnsigned(_ value: UInt64, into out: UnsafeMutableRawBufferPointer) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var v = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            out[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
            v /= 10
        }
        return digits
    }

    static func copy(_ s: StaticString, into out: UnsafeMutableRawBufferPointer) -> Int {
        out.baseAddress!.copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        return s.utf8CodeUnitCount
    }
}

// MARK: Search results

/// One match of a search (Redis's geoPoint); the member's bytes live in the result's arena.
public struct GeoPoint: Sendable {
    public var longitude: Double
    public var latitude: Double
    /// Meters from the centre (the command divides by the unit when replying).
    public var distance: Double
    public var score: Double
    @usableFromInline var memberOffset: Int
    @usableFromInline var memberLength: Int
}

/// The matches of a search in the order found (then sorted), their members copied into one
/// byte arena so the search costs no allocation per match.
public struct GeoSearchResult: Sendable {
    public var points: [GeoPoint] = []
    @usableFromInline var members: [UInt8] = []

    public init() {}

    public var count: Int { points.count }

    mutating func append(_ member: UnsafeRawBufferPointer, longitude: Double, latitude: Double, distance: Double,
                         score: Double) {
        points.append(GeoPoint(longitude: longitude, latitude: latitude, distance: distance, score: score,
                               memberOffset: members.count, memberLength: member.count))
        members.append(contentsOf: member)
    }

    /// The member bytes of `point` passed to `body`.
    @inlinable
    public func withMember<R>(_ point: GeoPoint, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        members.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[point.memberOffset..<(point.memberOffset + point.memberLength)]))
        }
    }

    /// Orders the points by distance as Redis does: the whole array with glibc's qsort (a
    /// stable merge sort) when every match is returned, otherwise Redis's partial quicksort
    /// (pqsort) that only guarantees positions 0 ..< `returned`.
    public mutating func sort(descending: Bool, returned: Int) {
        guard points.count > 1 else { return }
        if returned >= points.count {
            GeoSort.mergeSort(&points, descending: descending)
        } else if returned > 0 {
            GeoSort.partialSort(&points, descending: descending, through: returned - 1)
        }
    }
}

extension ZSetObject {
    /// geoGetPointsInRange: appends the members with scores in [min, max) that lie in
    /// `shape`, in score order; stops once `limit` (> 0) matches are collected.
    func appendGeoPoints(min: Double, max: Double, in shape: GeoShape, limit: Int, to result: inout GeoSearchResult) {
        let range = ZScoreRange(min: min, max: max, minExclusive: false, maxExclusive: true)
        guard let first = firstRank(in: range) else { return }
        forEach(fromRank: first) { member, score in
            if !(score < max) { return false }
            if let point = GeoHash.pointWithin(shape, score: score) {
                result.append(member, longitude: point.longitude, latitude: point.latitude, distance: point.distance,
                              score: score)
            }
            return !(result.count > 0 && limit > 0 && result.count >= limit)
        }
    }

    /// membersOfAllNeighbors: scans the score ranges of the search's cells in Redis's order,
    /// skipping zeroed cells and a cell equal to the one scanned just before it (huge radii
    /// make neighbours coincide); with `limit` > 0 (COUNT ... ANY) it stops once that many
    /// matches are found.
    public func geoSearch(_ shape: GeoShape, limit: Int = 0) -> GeoSearchResult {
        var result = GeoSearchResult()
        let cells = GeoHash.searchAreas(for: shape).cells
        var lastProcessed = 0
        for i in 0..<cells.count {
            let cell = cells[i]
            if cell.isZero { continue }
            // Redis's `last_processed &&` test: index 0 (the centre) never counts as previous.
            if lastProcessed != 0 && cell == cells[lastProcessed] { continue }
            if result.count > 0 && limit > 0 && result.count >= limit { break }
            var next = cell
            next.bits &+= 1
            appendGeoPoints(min: Double(GeoHash.align52Bits(cell)), max: Double(GeoHash.align52Bits(next)), in: shape,
                            limit: limit, to: &result)
            lastProcessed = i
        }
        return result
    }
}

// MARK: Sorting

/// The two sorts Redis orders geo results with, reproduced step by step so that points at
/// equal distances (and NaN distances, which the comparator cannot order) end up exactly
/// where Redis puts them.
public enum GeoSort {
    /// sort_gp_asc / sort_gp_desc.
    @inline(__always)
    static func compare(_ a: Double, _ b: Double, _ descending: Bool) -> Int {
        let order = a > b ? 1 : (a == b ? 0 : -1)
        return descending ? -order : order
    }

    /// glibc's qsort (msort_with_tmp): top-down merge sort, halves of n/2 and n - n/2, taking
    /// from the left run while it compares <= 0.
    public static func mergeSort(_ points: inout [GeoPoint], descending: Bool) {
        let n = points.count
        guard n > 1 else { return }
        var scratch = points
        points.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { t in
                mergeSort(p.baseAddress!, n, t.baseAddress!, descending)
            }
        }
    }

    static func mergeSort(_ b: UnsafeMutablePointer<GeoPoint>, _ n: Int, _ t: UnsafeMutablePointer<GeoPoint>,
                          _ descending: Bool) {
        if n <= 1 { return }
        let n1 = n / 2
        let b2 = b + n1
        mergeSort(b, n1, t, descending)
        mergeSort(b2, n - n1, t, descending)
        var i1 = 0, i2 = 0, k = 0
        var left = n1, right = n - n1
        while left > 0 && right > 0 {
            if compare(b[i1].distance, b2[i2].distance, descending) <= 0 {
                t[k] = b[i1]
                i1 += 1
                left -= 1
            } else {
                t[k] = b2[i2]
                i2 += 1
                right -= 1
            }
            k += 1
        }
        while left > 0 {
            t[k] = b[i1]
            i1 += 1
            k += 1
            left -= 1
        }
        // The rest of the right run is already in place.
        for j in 0..<(n - right) { b[j] = t[j] }
    }

    /// Redis's pqsort (Bentley-McIlroy quicksort from NetBSD that skips partitions outside
    /// positions 0 ... `last`).
    public static func partialSort(_ points: inout [GeoPoint], descending: Bool, through last: Int) {
        let n = points.count
        guard n > 1 else { return }
        points.withUnsafeMutableBufferPointer { p in
            partialSort(p.baseAddress!, start: 0, count: n, low: 0, high: last, descending)
        }
    }

    static func partialSort(_ base: UnsafeMutablePointer<GeoPoint>, start: Int, count: Int, low: Int, high: Int,
                            _ descending: Bool) {
        @inline(__always) func cmp(_ i: Int, _ j: Int) -> Int { compare(base[i].distance, base[j].distance, descending) }
        @inline(__always) func swap(_ i: Int, _ j: Int) {
            let t = base[i]
            base[i] = base[j]
            base[j] = t
        }
        func vecswap(_ i: Int, _ j: Int, _ n: Int) {
            for k in 0..<Swift.max(n, 0) { swap(i + k, j + k) }
        }
        func med3(_ a: Int, _ b: Int, _ c: Int) -> Int {
            cmp(a, b) < 0 ? (cmp(b, c) < 0 ? b : (cmp(a, c) < 0 ? c : a))
                : (cmp(b, c) > 0 ? b : (cmp(a, c) < 0 ? a : c))
        }
        var a = start, n = count
        while true {
            if n < 7 {
                var pm = a + 1
                while pm < a + n {
                    var pl = pm
                    while pl > a && cmp(pl - 1, pl) > 0 {
                        swap(pl, pl - 1)
                        pl -= 1
                    }
                    pm += 1
                }
                return
            }
            var pm = a + n / 2
            if n > 7 {
                var pl = a
                var pn = a + n - 1
                if n > 40 {
                    let d = n / 8
                    pl = med3(pl, pl + d, pl + 2 * d)
                    pm = med3(pm - d, pm, pm + d)
                    pn = med3(pn - 2 * d, pn - d, pn)
                }
                pm = med3(pl, pm, pn)
            }
            swap(a, pm)
            var pa = a + 1, pb = a + 1
            var pc = a + n - 1, pd = a + n - 1
            while true {
                while pb <= pc {
                    let r = cmp(pb, a)
                    if r > 0 { break }
                    if r == 0 {
                        swap(pa, pb)
                        pa += 1
                    }
                    pb += 1
                }
                while pb <= pc {
                    let r = cmp(pc, a)
                    if r < 0 { break }
                    if r == 0 {
                        swap(pc, pd)
                        pd -= 1
                    }
                    pc -= 1
                }
                if pb > pc { break }
                swap(pb, pc)
                pb += 1
                pc -= 1
            }
            let pn = a + n
            var r = Swift.min(pa - a, pb - pa)
            vecswap(a, pb - r, r)
            r = Swift.min(pd - pc, pn - pd - 1)
            vecswap(pb, pn - r, r)
            r = pb - pa
            // Recurse only into partitions that overlap the wanted positions.
            if r > 1 && !(high < a || low >= a + r) {
                partialSort(base, start: a, count: r, low: low, high: high, descending)
            }
            r = pd - pc
            guard r > 1 else { return }
            a = pn - r
            n = r
            if high < a || low >= a + r { return }
        }
    }
}
