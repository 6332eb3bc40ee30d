/// Per-command latency distribution for INFO latencystats: the same log-linear bucketing as
/// the HdrHistogram Redis uses (values 1 ns ... 1 s, 2 significant digits), so percentiles
/// are reported at the same resolution and with the same "highest equivalent value" rule.
public struct LatencyHistogram {
    static let lowest: Int64 = 1
    static let highest: Int64 = 1_000_000_000
    static let subBucketHalfCountMagnitude = 7
    static let subBucketCount = 256
    static let subBucketHalfCount = 128
    static let subBucketMask: Int64 = 255
    static let bucketCount = 23
    /// (bucketCount + 1) × subBucketHalfCount counters.
    public static let countsLength = 3072

    /// The counter index of `value` (clamped to the trackable range, as Redis clamps).
    @inlinable
    public static func index(of value: Int64) -> Int {
        let v = Swift.min(Swift.max(value, 1), 1_000_000_000)
        let pow2ceiling = 64 - (v | 255).leadingZeroBitCount
        let bucket = pow2ceiling - 8
        let subBucket = Int(v >> Int64(bucket))
        return ((bucket + 1) << 7) + (subBucket - 128)
    }

    static func bucketIndex(_ v: Int64) -> Int { 64 - (v | subBucketMask).leadingZeroBitCount - 8 }

    static func valueAt(index: Int) -> Int64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return Int64(subBucket) << Int64(bucket)
    }

    static func highestEquivalent(_ v: Int64) -> Int64 {
        let bucket = bucketIndex(v)
        let subBucket = Int(v >> Int64(bucket))
        let lowest = Int64(subBucket) << Int64(bucket)
        let adjusted = subBucket >= subBucketCount ? bucket + 1 : bucket
        return lowest + (Int64(1) << Int64(adjusted)) - 1
    }

    /// The value at `percentile` (0...100) of the distribution in `counts`.
    public static func value(atPercentile percentile: Double, counts: [UInt64]) -> Int64 {
        let total = counts.reduce(0, +)
        let requested = Swift.min(percentile, 100.0)
        let target = Swift.max(1, UInt64((requested / 100) * Double(total) + 0.5))
        var running: UInt64 = 0
        var found: Int64 = 0
        for (i, c) in counts.enumerated() {
            running += c
            if running >= target {
                found = valueAt(index: i)
                break
            }
        }
        if percentile == 0 { return found }
        return highestEquivalent(found)
    }
}
