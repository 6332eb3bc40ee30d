#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Redis-exact number parsing and formatting on raw argument bytes.
//
// Parsing mirrors util.c `string2ll` / `string2d` / `string2ld` (Redis 7.0 and 7.2 agree);
// formatting mirrors 7.2's `d2string` (integers via ll2string, others via fpconv_dtoa) and
// `ld2string(LD_STR_HUMAN)`.

/// `long double` as Redis sees it on this platform: 80-bit extended on x86, which is what
/// makes `INCRBYFLOAT 0.1` steps print as `0.1`, `0.2`, ... rather than double noise.
#if arch(x86_64) || arch(i386)
public typealias LongDouble = Float80
#else
public typealias LongDouble = Double
#endif

/// Redis's MAX_LONG_DOUBLE_CHARS: the longest text `string2ld` accepts (exclusive) and the
/// room `formatLongDouble(_:into:)` needs.
public let maxLongDoubleChars = 5 * 1024

/// Room `formatDouble(_:into:)` needs (fpconv writes at most 24 bytes).
public let maxDoubleChars = 32

// MARK: Integers

/// `string2ll`: the strict form Redis uses for every integer argument. No sign other than a
/// leading `-`, no spaces, no leading zeros (so `-0`, `+1`, `007` are rejected), at most 20
/// bytes, no overflow.
@inlinable
public func parseInteger(_ raw: UnsafeRawBufferPointer) -> Int? {
    let n = raw.count
    // LONG_STR_SIZE is 21: longer text can't be a long long even with a sign.
    guard n > 0, n < 21 else { return nil }
    var i = 0
    let negative = raw[0] == UInt8(ascii: "-")
    if negative {
        i = 1
        guard n > 1 else { return nil }
    } else if n == 1 && raw[0] == UInt8(ascii: "0") {
        return 0
    }
    let first = raw[i] &- UInt8(ascii: "0")
    guard first >= 1, first <= 9 else { return nil }
    var value = UInt64(first)
    i &+= 1
    while i < n {
        let digit = raw[i] &- UInt8(ascii: "0")
        guard digit <= 9 else { return nil }
        // At most 19 digits after the first fit in 20 bytes, but 20 digits can overflow UInt64.
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
        if o1 || o2 { return nil }
        value = sum
        i &+= 1
    }
    if negative {
        guard value <= UInt64(Int.max) &+ 1 else { return nil }
        return Int(truncatingIfNeeded: 0 &- value)
    }
    guard value <= UInt64(Int.max) else { return nil }
    return Int(value)
}

// MARK: Floating point

/// `string2d`: what Redis accepts as a float argument (ZADD scores, INCRBYFLOAT-like double
/// arguments, ZRANGEBYSCORE bounds after the `(` is stripped). It is `strtod` over the whole
/// text: decimal, exponent, hex floats (`0x1p4`), `inf`/`infinity` with optional sign; but no
/// leading space, no trailing bytes (an embedded NUL ends `strtod` early, so it is rejected),
/// no NaN, and no overflow to ±HUGE_VAL or underflow to zero.
public func parseDouble(_ raw: UnsafeRawBufferPointer) -> Double? {
    let n = raw.count
    guard n > 0, !isCSpace(raw[0]) else { return nil }
    if let value = parseShortDecimal(raw) { return value }
    return withNulTerminatedCopy(raw) { text -> Double? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let value = strtod(text, &end)
        guard let end, UnsafePointer(end) - text == n else { return nil }
        if errno == ERANGE && (value.isInfinite || value == 0) { return nil }
        return value.isNaN ? nil : value
    }
}

/// Score-range bounds (ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE; the caller strips a leading
/// `(`): zslParseRange calls plain `strtod`, laxer than `string2d`. Leading blanks, empty
/// text (0), overflow to ±inf and underflow are accepted, and parsing stops at a NUL byte
/// as C does, ignoring what follows; only NaN and other trailing bytes are refused.
public func parseScoreBound(_ raw: UnsafeRawBufferPointer) -> Double? {
    if raw.count > 0, !isCSpace(raw[0]), let value = parseShortDecimal(raw) { return value }
    var length = 0
    while length < raw.count && raw[length] != 0 { length &+= 1 }
    if length == 0 { return 0 }
    return withNulTerminatedCopy(UnsafeRawBufferPointer(rebasing: raw[0..<length])) { text -> Double? in
        var end: UnsafeMutablePointer<CChar>? = nil
        let value = strtod(text, &end)
        guard let end, UnsafePointer(end) - text == length, !value.isNaN else { return nil }
        return value
    }
}

/// Clinger's fast path: text like `-12.5`, `0.001` or `3e10` whose digits fit in 2^53 and
/// whose decimal exponent is within ±22 converts with one correctly rounded multiply or
/// divide by an exact power of ten, giving exactly strtod's result. Anything else (more
/// digits, hex, inf, malformed text) returns nil and goes to strtod.
@usableFromInline
func parseShortDecimal(_ raw: UnsafeRawBufferPointer) -> Double? {
    let n = raw.count
    var i = 0
    let negative = raw[0] == UInt8(ascii: "-")
    if negative || raw[0] == UInt8(ascii: "+") { i = 1 }
    var mantissa: UInt64 = 0
    var exponent = 0
    var sawDigit = false
    while i < n, case let digit = raw[i] &- UInt8(ascii: "0"), digit <= 9 {
        guard mantissa < 1 << 53 else { return nil }
        mantissa = mantissa &* 10 &+ UInt64(digit)
        sawDigit = true
        i &+= 1
    }
    if i < n && raw[i] == UInt8(ascii: ".") {
        i &+= 1
        while i < n, case let digit = raw[i] &- UInt8(ascii: "0"), digit <= 9 {
            guard mantissa < 1 << 53 else { return nil }
            mantissa = mantissa &* 10 &+ UInt64(digit)
            exponent &-= 1
            sawDigit = true
            i &+= 1
        }
    }
    guard sawDigit, mantissa <= 1 << 53 else { return nil }
    if i < n && (raw[i] == UInt8(ascii: "e") || raw[i] == UInt8(ascii: "E")) {
        i &+= 1
        var exponentNegative = false
        if i < n && (raw[i] == UInt8(ascii: "-") || raw[i] == UInt8(ascii: "+")) {
            exponentNegative = raw[i] == UInt8(ascii: "-")
            i &+= 1
        }
        var written = 0
        let digitsStart = i
        while i < n, case let digit = raw[i] &- UInt8(ascii: "0"), digit <= 9, i &- digitsStart < 4 {
            written = written &* 10 &+ Int(digit)
            i &+= 1
        }
        guard i > digitsStart else { return nil }
        exponent &+= exponentNegative ? -written : written
    }
    guard i == n, exponent >= -22, exponent <= 22 else { return nil }
    var value = Double(mantissa)
    value = exponent < 0 ? value / exactPowersOfTen[-exponent] : value * exactPowersOfTen[exponent]
    return negative ? -value : value
}

/// 10^0 ... 10^22, every one exactly representable as a double.
@usableFromInline
let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// `string2ld`: float arguments of INCRBYFLOAT / HINCRBYFLOAT, parsed as `long double` with
/// the same strictness as `parseDouble`, and at most 5119 bytes.
public func parseLongDouble(_ raw: UnsafeRawBufferPointer) -> LongDouble? {
    let n = raw.count
    guard n > 0, n < maxLongDoubleChars, !isCSpace(raw[0]) else { return nil }
    return withNulTerminatedCopy(raw) { text -> LongDouble? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        #if arch(x86_64) || arch(i386)
        let value = strtold(text, &end)
        #else
        let value = strtod(text, &end)
        #endif
        guard let end, UnsafePointer(end) - text == n else { return nil }
        if errno == ERANGE && (value.isInfinite || value == 0) { return nil }
        if errno == EINVAL || value.isNaN { return nil }
        return value
    }
}

/// strtod needs a NUL-terminated string; argument bytes are not. Small copies live on the stack.
@inlinable
func withNulTerminatedCopy<R>(_ raw: UnsafeRawBufferPointer, _ body: (UnsafePointer<CChar>) -> R) -> R {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: raw.count &+ 1) { buffer in
        let base = UnsafeMutableRawPointer(buffer.baseAddress!)
        base.copyMemory(from: raw.baseAddress!, byteCount: raw.count)
        base.storeBytes(of: 0, toByteOffset: raw.count, as: UInt8.self)
        return body(buffer.baseAddress!)
    }
}

// MARK: Formatting doubles (Redis 7.2 d2string)

/// Formats a double the way Redis 7.2 replies with it: `nan`, `inf`, `-inf`, `0`, `-0`;
/// integral values up to 2^62 as plain integers; everything else as the shortest text that
/// reads back to the same double, laid out like fpconv_dtoa (`0.1`, `1e+20`, `1.5e-7`).
public func formatDouble(_ value: Double) -> String {
    withUnsafeTemporaryAllocation(byteCount: maxDoubleChars, alignment: 1) { out in
        let n = formatDouble(value, into: out)
        return String(decoding: UnsafeRawBufferPointer(rebasing: out[0..<n]), as: UTF8.self)
    }
}

/// Writes `formatDouble(value)` at the start of `out` (at least `maxDoubleChars` bytes) and
/// returns its length.
public func formatDouble(_ value: Double, into out: UnsafeMutableRawBufferPointer) -> Int {
    if value.isNaN { return copyASCII("nan", into: out) }
    if value.isInfinite { return copyASCII(value < 0 ? "-inf" : "inf", into: out) }
    if value == 0 { return copyASCII(value.sign == .minus ? "-0" : "0", into: out) }
    // double2ll: the integer printer is used when the value is integral and |value| <= 2^62
    // ((double)(LLONG_MAX/2) rounds up to 2^62).
    if value.magnitude <= 0x1p62, value == value.rounded(.towardZero) {
        return formatDecimal(Int(value), into: out)
    }
    var n = 0
    if value.sign == .minus { out[0] = UInt8(ascii: "-"); n = 1 }
    // Shortest round-trip digits come from Swift's formatter (shortest and closest, like
    // Ryu). Redis 7.2 uses Grisu2, which for a small fraction of doubles emits a longer or
    // differently rounded digit string; both read back as the same double.
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return withUnsafeMutableBytes(of: &digits) { digitBuffer -> Int in
        var exponent = 0
        let count = shortestDigits(value.magnitude, into: digitBuffer, exponent: &exponent)
        return n &+ layOutDigits(UnsafeRawBufferPointer(rebasing: digitBuffer[0..<count]), exponent: exponent,
                                 negative: n == 1, into: UnsafeMutableRawBufferPointer(rebasing: out[n...]))
    }
}

/// Splits Swift's shortest text for a positive finite double (`1.5e-07`, `0.1`, `100.0`)
/// into significant digits (no leading or trailing zeros) and K such that
/// value = digits × 10^K.
func shortestDigits(_ value: Double, into out: UnsafeMutableRawBufferPointer, exponent K: inout Int) -> Int {
    var sink = ShortTextSink()
    value.write(to: &sink)
    return withUnsafeBytes(of: &sink.storage) { text -> Int in
        var count = 0, fractionDigits = 0, explicitExponent = 0
        var afterDot = false
        var i = 0
        while i < sink.count {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                afterDot = true
            } else if c == UInt8(ascii: "e") {
                i &+= 1
                let negative = text[i] == UInt8(ascii: "-")
                if negative || text[i] == UInt8(ascii: "+") { i &+= 1 }
                while i < sink.count { explicitExponent = explicitExponent &* 10 &+ Int(text[i] &- 0x30); i &+= 1 }
                if negative { explicitExponent = -explicitExponent }
                break
            } else {
                if afterDot { fractionDigits &+= 1 }
                if count > 0 || c != UInt8(ascii: "0") {
                    out[count] = c
                    count &+= 1
                }
            }
            i &+= 1
        }
        K = explicitExponent &- fractionDigits
        while count > 1 && out[count &- 1] == UInt8(ascii: "0") {
            count &-= 1
            K &+= 1
        }
        return count
    }
}

/// Receives `Double.write(to:)` output without allocating: the standard library hands its
/// stack buffer to `_writeASCII` (an underscored hook; should it stop doing so, `write(_:)`
/// still gets the same text, only through a String).
struct ShortTextSink: TextOutputStream {
    var storage: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var count = 0

    mutating func write(_ string: String) {
        for byte in string.utf8 { append(byte) }
    }

    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) {
        for byte in buffer { append(byte) }
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        guard count < 32 else { return }  // a double's shortest text is at most 24 bytes
        withUnsafeMutableBytes(of: &storage) { $0[count] = byte }
        count &+= 1
    }
}

/// fpconv's emit_digits layout: plain integer while the trailing zeros are few, plain
/// decimal for moderate exponents, scientific (`d.ddde+X`, exponent unpadded) otherwise.
func layOutDigits(_ digits: UnsafeRawBufferPointer, exponent K: Int, negative: Bool,
                  into out: UnsafeMutableRawBufferPointer) -> Int {
    let ndigits = digits.count
    var exp = K + ndigits - 1
    if exp < 0 { exp = -exp }
    var n = 0
    func put(_ c: UInt8) { out[n] = c; n &+= 1 }
    if K >= 0 && exp < ndigits + 7 {
        for d in digits { put(d) }
        for _ in 0..<K { put(UInt8(ascii: "0")) }
        return n
    }
    if K < 0 && (K > -7 || exp < 4) {
        let offset = ndigits + K
        if offset <= 0 {
            put(UInt8(ascii: "0")); put(UInt8(ascii: "."))
            for _ in 0 ..< -offset { put(UInt8(ascii: "0")) }
            for d in digits { put(d) }
        } else {
            for d in digits[0..<offset] { put(d) }
            put(UInt8(ascii: "."))
            for d in digits[offset...] { put(d) }
        }
        return n
    }
    let kept = Swift.min(ndigits, negative ? 17 : 18)
    put(digits[0])
    if kept > 1 {
        put(UInt8(ascii: "."))
        for d in digits[1..<kept] { put(d) }
    }
    put(UInt8(ascii: "e"))
    put(K + kept - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
    if exp > 99 { put(UInt8(truncatingIfNeeded: exp / 100) &+ 0x30) }
    if exp > 9 { put(UInt8(truncatingIfNeeded: exp / 10 % 10) &+ 0x30) }
    put(UInt8(truncatingIfNeeded: exp % 10) &+ 0x30)
    return n
}

@inlinable
func copyASCII(_ s: StaticString, into out: UnsafeMutableRawBufferPointer) -> Int {
    let n = s.utf8CodeUnitCount
    out.baseAddress!.copyMemory(from: s.utf8Start, byteCount: n)
    return n
}

// MARK: Formatting long doubles (ld2string LD_STR_HUMAN)

/// How INCRBYFLOAT / HINCRBYFLOAT print their result: `%.17Lf`, then trailing zeros (and a
/// bare trailing dot) removed, `-0` printed as `0`; `inf`/`-inf`/`nan` spelled out.
public func formatLongDouble(_ value: LongDouble) -> String {
    withUnsafeTemporaryAllocation(byteCount: maxLongDoubleChars, alignment: 1) { out in
        let n = formatLongDouble(value, into: out)
        return String(decoding: UnsafeRawBufferPointer(rebasing: out[0..<n]), as: UTF8.self)
    }
}

/// Writes `formatLongDouble(value)` at the start of `out` (at least `maxLongDoubleChars`
/// bytes, enough for the largest finite Float80) and returns its length.
public func formatLongDouble(_ value: LongDouble, into out: UnsafeMutableRawBufferPointer) -> Int {
    if value.isInfinite { return copyASCII(value < 0 ? "-inf" : "inf", into: out) }
    if value.isNaN { return copyASCII("nan", into: out) }
    let text = out.baseAddress!.assumingMemoryBound(to: CChar.self)
    #if arch(x86_64) || arch(i386)
    var n = Int(withVaList([value]) { vsnprintf(text, out.count, "%.17Lf", $0) })
    #else
    var n = Int(withVaList([value]) { vsnprintf(text, out.count, "%.17f", $0) })
    #endif
    guard n > 0, n < out.count else { return 0 }
    // %.17Lf always prints a dot for finite values, so trimming is always applicable.
    while out[n - 1] == UInt8(ascii: "0") { n -= 1 }
    if out[n - 1] == UInt8(ascii: ".") { n -= 1 }
    if n == 2 && out[0] == UInt8(ascii: "-") && out[1] == UInt8(ascii: "0") {
        out[0] = UInt8(ascii: "0")
        n = 1
    }
    return n
}
