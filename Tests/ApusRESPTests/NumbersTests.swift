import Testing
@testable import ApusRESP

private func withRaw<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    Array(text.utf8).withUnsafeBytes(body)
}

private func integer(_ text: String) -> Int? { withRaw(text) { parseInteger($0) } }
private func double(_ text: String) -> Double? { withRaw(text) { parseDouble($0) } }
private func longDouble(_ text: String) -> LongDouble? { withRaw(text) { parseLongDouble($0) } }

/// INCRBYFLOAT on 0 in Redis: parse the increment, print the sum.
private func incrByFloat(_ text: String) -> String? { longDouble(text).map { formatLongDouble(0 + $0) } }

// Expected values below were taken from redis-server 7.0.15 (INCRBY / ZADD+ZSCORE /
// INCRBYFLOAT), except the double formatting, which follows Redis 7.2.
@Suite struct NumbersTests {
    @Test(arguments: [
        ("0", 0), ("-12", -12), ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
        ("1", 1), ("10", 10), ("-1", -1),
    ])
    func parsesStrictIntegers(text: String, value: Int) {
        #expect(integer(text) == value)
    }

    @Test(arguments: [
        "", "-", "-0", "+1", "01", "00", " 1", "1 ", "1a", "1.0", "9223372036854775808", "-9223372036854775809",
        "18446744073709551616", "99999999999999999999", "-9999999999999999999", "000000000000000000001", "12\u{0}",
    ])
    func rejectsWhatString2llRejects(text: String) {
        #expect(integer(text) == nil)
    }

    @Test(arguments: [
        ("1", 1.0), ("-1", -1), ("1.5", 1.5), (".5", 0.5), ("5.", 5), ("+5", 5), ("1e5", 1e5), ("1E5", 1e5),
        ("1e+5", 1e5), ("0x10", 16), ("0x1p4", 16), ("0x1.8p1", 3), ("inf", .infinity), ("-inf", -.infinity),
        ("+inf", .infinity), ("infinity", .infinity), ("INF", .infinity), ("inF", .infinity),
        ("-Infinity", -.infinity), ("4.9e-324", .leastNonzeroMagnitude), ("1e-310", Double("1e-310")!),
        ("0001", 1), ("1e308", 1e308), ("1.7976931348623157e308", 1.7976931348623157e308), ("0.1", 0.1),
        ("2.2250738585072014e-308", 2.2250738585072014e-308), ("123456789012345678", 123456789012345680),
    ])
    func parsesFloatArgumentsLikeStrtod(text: String, value: Double) {
        #expect(double(text) == value)
    }

    @Test func negativeZeroKeepsItsSign() {
        #expect(double("-0")?.sign == .minus)
        #expect(double("0")?.sign == .plus)
    }

    @Test(arguments: [
        "", "1e", "0x", "nan", "NaN", "-nan", " 1", "1 ", "\t1", "\u{0B}1", "1e400", "-1e400", "1e-400", "abc", "1,5",
        "1.0\u{0}", "infinit", "--1",
    ])
    func rejectsWhatString2dRejects(text: String) {
        #expect(double(text) == nil)
    }

    @Test func parsesLongDoubleArguments() {
        #expect(longDouble("10.5") == 10.5)
        #expect(longDouble("-1.5") == -1.5)
        #expect(longDouble("0x1p-2") == 0.25)
        #expect(longDouble("inf") == .infinity)
        // long double reaches further than double before overflowing or underflowing.
        #expect(longDouble("1e4000") != nil)
        #expect(longDouble("1e-400") != nil)
        for bad in ["", " 1", "1 ", "nan", "1e5000", "1e-5000", "abc", "1.0\u{0}"] {
            #expect(longDouble(bad) == nil, "\(bad)")
        }
        #expect(longDouble(String(repeating: "0", count: 5118) + "1") == 1)
        #expect(longDouble(String(repeating: "0", count: 5119) + "1") == nil)
    }

    @Test(arguments: [
        ("10.5", "10.5"), ("1e20", "100000000000000000000"), ("3.0e3", "3000"), ("-0.1", "-0.1"), ("0.1", "0.1"),
        ("1e-20", "0"), ("-1e-20", "0"), ("5.0e3", "5000"), ("1.1", "1.1"),
        ("123456789.123456789", "123456789.12345678899873747"), ("0x1p-2", "0.25"), ("-5", "-5"), ("0.3", "0.3"),
        ("-0", "0"), ("1e-17", "0.00000000000000001"), ("5e-18", "0"), ("0.123456789012345678", "0.12345678901234568"),
        ("1e18", "1000000000000000000"), ("12345678901234567890", "12345678901234567890"),
        ("3.14159265358979323846", "3.14159265358979324"), ("1e-400", "0"), ("-1.5", "-1.5"),
        ("1e308", "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"),
    ])
    func formatsIncrByFloatResultsLikeRedis(increment: String, reply: String) {
        #expect(incrByFloat(increment) == reply)
    }

    @Test func formatsLongDoubleSpecials() {
        #expect(formatLongDouble(.infinity) == "inf")
        #expect(formatLongDouble(-.infinity) == "-inf")
        #expect(formatLongDouble(.nan) == "nan")
        #expect(formatLongDouble(LongDouble.greatestFiniteMagnitude).count == 4933)
    }

    @Test(arguments: [
        // Specials and integers (d2string's ll2string path covers integral values up to 2^62).
        (0.0, "0"), (-0.0, "-0"), (Double.infinity, "inf"), (-Double.infinity, "-inf"), (Double.nan, "nan"),
        (1, "1"), (-3, "-3"), (1e10, "10000000000"), (4611686018427387904, "4611686018427387904"),
        // Above 2^62: fpconv prints the integer while trailing zeros stay few, else exponent.
        (9223372036854775808, "9223372036854776000"), (1e20, "1e+20"), (1.5e21, "1.5e+21"), (1e22, "1e+22"),
        (1234567890123456e7, "12345678901234560000000"), (123456789e15, "1.23456789e+23"), (1234567891e15, "1.234567891e+24"),
        // Shortest round-trip text instead of %.17g.
        (0.1, "0.1"), (-0.1, "-0.1"), (1.5, "1.5"), (0.1 + 0.2, "0.30000000000000004"), (3.14, "3.14"),
        (123.456, "123.456"), (123456789.123, "123456789.123"), (0.000001, "0.000001"), (0.0000015, "1.5e-6"),
        (1e-7, "1e-7"), (1.5e-7, "1.5e-7"), (1.2345e-5, "1.2345e-5"), (0.1234567890123, "0.1234567890123"),
        (0.001234, "0.001234"), (1.7976931348623157e308, "1.7976931348623157e+308"), (.leastNonzeroMagnitude, "5e-324"),
        (-2.5e-100, "-2.5e-100"), (2.2250738585072014e-308, "2.2250738585072014e-308"), (1e100, "1e+100"),
    ])
    func formatsDoublesLikeRedis72(value: Double, text: String) {
        #expect(formatDouble(value) == text)
    }

    @Test func formattedDoublesReadBack() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let value = Double(bitPattern: generator.next())
            guard value.isFinite else { continue }
            #expect(double(formatDouble(value)) == value, "\(value)")
        }
    }

    @Test func formatsDoubleIntoBytes() {
        var buffer = [UInt8](repeating: 0, count: maxDoubleChars)
        let n = buffer.withUnsafeMutableBytes { formatDouble(-1.5e-7, into: $0) }
        #expect(Array(buffer[..<n]) == Array("-1.5e-7".utf8))
    }
}

@Suite struct ScoreBoundTests {
    private func bound(_ text: String) -> Double? { withRaw(text) { parseScoreBound($0) } }

    @Test func acceptsWhatStrtodAccepts() {
        // redis-server 7.0.15: ZCOUNT z <bound> +inf over scores 0, 1, 5.
        #expect(bound("") == 0)
        #expect(bound(" 1") == 1)
        #expect(bound("\t0") == 0)
        #expect(bound("1e400") == .infinity)
        #expect(bound("-1e400") == -.infinity)
        #expect(bound("1e-400") == 0)
        #expect(bound("0x1") == 1)
        #expect(bound("1\u{0}abc") == 1)
        #expect(bound("-2.5") == -2.5)
        #expect(bound("-inf") == -.infinity)
    }

    @Test func refusesNaNAndTrailingBytes() {
        #expect(bound("1 ") == nil)
        #expect(bound("nan") == nil)
        #expect(bound("1x") == nil)
    }
}
