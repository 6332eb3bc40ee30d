@testable import ApusCommands
import Testing

@Suite struct LatencyHistogramTests {
    /// Redis's HdrHistogram (2 significant digits) reports the highest value equivalent to the
    /// bucket: 1 µs shows as 1.003, 3 µs as 3.007 in INFO latencystats.
    @Test func percentilesUseTheHighestEquivalentValue() {
        var counts = [UInt64](repeating: 0, count: LatencyHistogram.countsLength)
        counts[LatencyHistogram.index(of: 1000)] += 1
        #expect(LatencyHistogram.value(atPercentile: 50, counts: counts) == 1003)
        counts = [UInt64](repeating: 0, count: LatencyHistogram.countsLength)
        counts[LatencyHistogram.index(of: 3000)] += 1
        #expect(LatencyHistogram.value(atPercentile: 99.9, counts: counts) == 3007)
    }

    @Test func smallValuesHaveUnitResolutionAndHugeOnesAreClamped() {
        #expect(LatencyHistogram.index(of: 0) == LatencyHistogram.index(of: 1))
        #expect(LatencyHistogram.index(of: 100) != LatencyHistogram.index(of: 101))
        #expect(LatencyHistogram.index(of: 5_000_000_000) == LatencyHistogram.index(of: 1_000_000_000))
        #expect(LatencyHistogram.index(of: 1_000_000_000) < LatencyHistogram.countsLength)
    }

    @Test func percentilesSplitADistribution() {
        var counts = [UInt64](repeating: 0, count: LatencyHistogram.countsLength)
        for _ in 0..<99 { counts[LatencyHistogram.index(of: 2000)] += 1 }
        counts[LatencyHistogram.index(of: 500_000)] += 1
        #expect(LatencyHistogram.value(atPercentile: 50, counts: counts) == 2007)
        #expect(LatencyHistogram.value(atPercentile: 100, counts: counts) >= 500_000)
    }

    @Test func infoLatencystatsListsTimedCommands() throws {
        let h = try Harness { _ in }
        h.send("SET", "k", "v")
        h.send("GET", "k")
        let info = h.send("INFO", "latencystats")
        #expect(info.contains("# Latencystats\r\n"))
        #expect(info.contains("latency_percentiles_usec_get:p50="))
        #expect(info.contains(",p99=") && info.contains(",p99.9="))
        h.send("CONFIG", "SET", "latency-tracking", "no")
        h.send("CONFIG", "RESETSTAT")
        h.send("GET", "k")
        #expect(!h.send("INFO", "latencystats").contains("latency_percentiles_usec_get"))
    }
}
