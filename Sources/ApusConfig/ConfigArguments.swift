// Tokenising and quoting of redis.conf lines, matching Redis's sdssplitargs() and
// sdscatrepr() byte for byte: a config file written by CONFIG REWRITE must read back
// to the same values, and `--name value` arguments are merged into the file text
// through the same quoting.

/// Splits one config line into arguments the way Redis does (`sdssplitargs`):
/// blanks separate arguments; `"double quotes"` understand `\n \r \t \b \a \\ \"` and
/// `\xHH`; `'single quotes'` understand only `\'`. A closing quote must be followed by
/// a blank or the end of the line. Returns nil for unbalanced quotes.
func splitConfigArguments(_ line: String) -> [String]? {
    let bytes = Array(line.utf8)
    var arguments: [String] = []
    var p = 0
    let n = bytes.count
    @inline(__always) func at(_ i: Int) -> UInt8 { i < n ? bytes[i] : 0 }

    while true {
        while p < n && isCSpace(bytes[p]) { p += 1 }
        if p >= n { return arguments }

        var current: [UInt8] = []
        var inDoubleQuotes = false
        var inSingleQuotes = false
        var done = false
        while !done {
            let c = at(p)
            if inDoubleQuotes {
                if c == UInt8(ascii: "\\") && at(p + 1) == UInt8(ascii: "x"),
                   let high = hexValue(at(p + 2)), let low = hexValue(at(p + 3)) {
                    current.append(high * 16 + low)
                    p += 3
                } else if c == UInt8(ascii: "\\") && at(p + 1) != 0 {
                    p += 1
                    switch at(p) {
                    case UInt8(ascii: "n"): current.append(10)
                    case UInt8(ascii: "r"): current.append(13)
                    case UInt8(ascii: "t"): current.append(9)
                    case UInt8(ascii: "b"): current.append(8)
                    case UInt8(ascii: "a"): current.append(7)
                    default: current.append(at(p))
                    }
                } else if c == UInt8(ascii: "\"") {
                    if at(p + 1) != 0 && !isCSpace(at(p + 1)) { return nil }
                    done = true
                } else if c == 0 {
                    return nil
                } else {
                    current.append(c)
                }
            } else if inSingleQuotes {
                if c == UInt8(ascii: "\\") && at(p + 1) == UInt8(ascii: "'") {
                    p += 1
                    current.append(UInt8(ascii: "'"))
                } else if c == UInt8(ascii: "'") {
                    if at(p + 1) != 0 && !isCSpace(at(p + 1)) { return nil }
                    done = true
                } else if c == 0 {
                    return nil
                } else {
                    current.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: " "), 10, 13, 9, 0:
                    done = true
                case UInt8(ascii: "\""):
                    inDoubleQuotes = true
                case UInt8(ascii: "'"):
                    inSingleQuotes = true
                default:
                    current.append(c)
                }
            }
            if p < n { p += 1 }
        }
        arguments.append(String(decoding: current, as: UTF8.self))
    }
}

/// Quotes a value the way Redis's `sdscatrepr` does, so `splitConfigArguments` reads
/// it back unchanged: always double-quoted, with C escapes and `\xHH` for the rest.
func quoteConfigArgument(_ value: String) -> String {
    var out = "\""
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "\\"): out += "\\\\"
        case UInt8(ascii: "\""): out += "\\\""
        case 10: out += "\\n"
        case 13: out += "\\r"
        case 9: out += "\\t"
        case 7: out += "\\a"
        case 8: out += "\\b"
        default:
            if byte >= 0x20 && byte < 0x7f {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "\\x" + hexByte(byte)
            }
        }
    }
    out += "\""
    return out
}

/// C `isspace` in the C locale.
@inline(__always)
func isCSpace(_ c: UInt8) -> Bool {
    c == 32 || (c >= 9 && c <= 13)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

private func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
}

/// ASCII-only lowercasing, as `strcasecmp`/`sdstolower` do: Redis compares config
/// names byte-wise, so non-ASCII bytes must not be case-folded.
func asciiLowercased(_ s: String) -> String {
    var needs = false
    for b in s.utf8 where b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") { needs = true; break }
    if !needs { return s }
    return String(decoding: s.utf8.map { ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) ? $0 + 32 : $0 }, as: UTF8.self)
}

/// `strcasecmp(a, b) == 0`.
func asciiCaseEqual(_ a: String, _ b: String) -> Bool {
    asciiLowercased(a) == asciiLowercased(b)
}

/// Splits on single spaces keeping empty fields, like `sdssplitlen(value, " ")`.
/// CONFIG SET splits multi-argument values this way (not with quoting rules), so
/// `save "3600 1  300 100"` yields an empty field and is rejected, as in Redis.
func splitOnSpaces(_ value: String) -> [String] {
    if value.isEmpty { return [] }
    return value.utf8.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
}
