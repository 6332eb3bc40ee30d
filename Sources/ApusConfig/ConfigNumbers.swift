// Number parsing with Redis's exact acceptance rules. Config values must be accepted
// or refused exactly as Redis does (a redis.conf that loads in Redis must load here),
// so these follow util.c's memtoull/string2ll and libc's strtoll, quirks included.

import ApusRESP

#if canImport(Glibc)
import ApusRESP
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses a memory amount like redis.conf does: digits followed by an optional unit,
/// `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`, case-insensitive (`1GB`, `100mb`).
/// Returns nil when Redis would refuse the text (a sign, spaces, decimals, unknown
/// unit) and when the amount does not fit in `Int`.
///
/// As in Redis, an empty number is zero: `""` and `"kb"` both parse as 0.
public func parseMemory(_ text: String) -> Int? {
    guard let value = memoryToUInt64(text), value <= UInt64(Int.max) else { return nil }
    return Int(value)
}

/// Redis's `memtoull`, including its wrap-around: digits past 2^64 saturate (strtoull)
/// and the unit multiplication wraps, so `maxmemory 99999999999999999999` is accepted
/// and reads back as 18446744073709551615.
func memoryToUInt64(_ text: String) -> UInt64? {
    let bytes = Array(text.utf8)
    if bytes.first == UInt8(ascii: "-") { return nil }
    var digitsEnd = 0
    while digitsEnd < bytes.count && bytes[digitsEnd] >= UInt8(ascii: "0") && bytes[digitsEnd] <= UInt8(ascii: "9") {
        digitsEnd += 1
    }
    let unit = asciiLowercased(String(decoding: bytes[digitsEnd...], as: UTF8.self))
    let multiplier: UInt64
    switch unit {
    case "", "b": multiplier = 1
    case "k": multiplier = 1000
    case "kb": multiplier = 1024
    case "m": multiplier = 1000 * 1000
    case "mb": multiplier = 1024 * 1024
    case "g": multiplier = 1000 * 1000 * 1000
    case "gb": multiplier = 1024 * 1024 * 1024
    default: return nil
    }
    if digitsEnd >= 128 { return nil }
    var value: UInt64 = 0
    var saturated = false
    for b in bytes[..<digitsEnd] {
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
        if o1 || o2 { saturated = true; break }
        value = sum
    }
    if saturated { value = UInt64.max }
    return value &* multiplier
}

/// Redis's `string2ll`: an optional `-`, then digits with no leading zero (except "0"
/// itself), no spaces, no `+`, within `Int64`.
func parseStrictInt64(_ text: String) -> Int64? {
    let bytes = Array(text.utf8)
    if bytes.isEmpty || bytes.count >= 21 { return nil }
    if bytes.count == 1 && bytes[0] == UInt8(ascii: "0") { return 0 }
    var index = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") {
        negative = true
        index = 1
        if index == bytes.count { return nil }
    }
    guard bytes[index] >= UInt8(ascii: "1") && bytes[index] <= UInt8(ascii: "9") else { return nil }
    var magnitude: UInt64 = 0
    while index < bytes.count {
        let b = bytes[index]
        guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") else { return nil }
        let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
        if o1 || o2 { return nil }
        magnitude = sum
        index += 1
    }
    if negative {
        if magnitude > UInt64(Int64.max) + 1 { return nil }
        return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
    }
    if magnitude > UInt64(Int64.max) { return nil }
    return Int64(magnitude)
}

/// libc `strtoll(text, &end, base)` where the caller requires `*end == '\0'`
/// (Redis's save/oom-score-adj-values/buffer-limit parsing). Leading blanks and a sign
/// are allowed; an empty string is 0. Overflow saturates unless `rejectOverflow`.
func parseCStrtoll(_ text: String, base: Int32 = 10, rejectOverflow: Bool = false) -> Int64? {
    if text.utf8.contains(0) { return nil }
    return text.withCString { start -> Int64? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let value = strtoll(start, &end, base)
        if rejectOverflow && errno != 0 { return nil }
        guard let end, end.pointee == 0 else { return nil }
        return Int64(value)
    }
}

/// Redis's `string2d`: the whole string must be a finite-or-infinite, non-NaN double,
/// with no leading blank.
func parseStrictDouble(_ text: String) -> Double? {
    let bytes = Array(text.utf8)
    if bytes.isEmpty || isCSpace(bytes[0]) || bytes.contains(0) { return nil }
    return text.withCString { start -> Double? in
        var end: UnsafeMutablePointer<CChar>? = nil
        errno = 0
        let value = strtod(start, &end)
        guard let end, end - UnsafeMutablePointer(mutating: start) == bytes.count else { return nil }
        if errno == ERANGE && (value == .infinity || value == -.infinity || value == 0) { return nil }
        if value.isNaN { return nil }
        return value
    }
}

/// `printf("%f")` with trailing zeros (and a trailing dot) removed, Redis's
/// `trimDoubleString`: 99.9 prints as "99.9", 50 as "50".
func formatTrimmedDouble(_ value: Double) -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    let length = withVaList([value]) { args in
        buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, 512, "%f", args) }
    }
    var bytes = buffer.prefix(Int(max(0, min(length, 511)))).map { UInt8(bitPattern: $0) }
    if bytes.contains(UInt8(ascii: ".")) {
        while bytes.last == UInt8(ascii: "0") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// `rewriteConfigFormatMemory`: the largest of gb/mb/kb that divides the value exactly.
func formatMemoryForRewrite(_ bytes: Int64) -> String {
    let gb: Int64 = 1024 * 1024 * 1024, mb: Int64 = 1024 * 1024, kb: Int64 = 1024
    if bytes != 0 && bytes % gb == 0 { return "\(bytes / gb)gb" }
    if bytes != 0 && bytes % mb == 0 { return "\(bytes / mb)mb" }
    if bytes != 0 && bytes % kb == 0 { return "\(bytes / kb)kb" }
    return "\(bytes)"
}

/// `strerror(code)` as a Swift string.
func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code))
}
