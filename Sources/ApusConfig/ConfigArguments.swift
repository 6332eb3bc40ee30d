import ApusRESP

// Tokenising and quoting of redis.conf lines, matching Redis's sdssplitargs() and
// sdscatrepr() byte for byte: a config file written by CONFIG REWRITE must read back
// to the same values, and `--name value` arguments are merged into the file text
// through the same quoting.

/// Splits one config line into arguments the way Redis does (`sdssplitargs`, shared with
/// inline commands). Returns nil for unbalanced quotes.
func splitConfigArguments(_ line: String) -> [String]? {
    let bytes = Array(line.utf8)
    var arguments: [String] = []
    let out = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes.count, 1), alignment: 1)
    defer { out.deallocate() }
    let balanced = bytes.withUnsafeBytes { raw in
        splitArguments(raw, into: out) { start, end in
            arguments.append(String(decoding: UnsafeRawBufferPointer(start: out + start, count: end - start), as: UTF8.self))
        }
    }
    return balanced ? arguments : nil
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
