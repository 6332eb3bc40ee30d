/// Glob-style matching with Redis's `stringmatchlen` semantics (KEYS, SCAN MATCH, PSUBSCRIBE,
/// CONFIG GET, ACL key patterns):
///
/// - `*` any run of bytes, `?` one byte, `\x` the byte `x` literally;
/// - `[abc]`, `[^abc]`, `[a-z]` (reversed ranges like `[z-a]` are swapped), `\` escapes inside
///   a class compare case-sensitively even with `ignoreCase`;
/// - an unterminated class (`[abc`) matches as if closed at the end of the pattern;
/// - range bounds compare as C `char`, which is signed on x86-64 Linux: `[a-\xff]` is the
///   range -1...97;
/// - `ignoreCase` folds ASCII letters only (C-locale `tolower`).
///
/// Not exponential: once the text after some `*` fails to match at every position, no
/// earlier `*` can do better by consuming more, so the whole match stops (Redis's
/// `skipLongerMatches`). That keeps the cost near O(pattern × string). Like Redis 7.2.6+,
/// patterns nesting more than 1000 `*` recursions simply don't match, bounding stack depth.
public func globMatch(pattern: UnsafeRawBufferPointer, string: UnsafeRawBufferPointer, ignoreCase: Bool) -> Bool {
    var matcher = GlobMatcher(pattern: pattern, string: string, ignoreCase: ignoreCase)
    return matcher.match(patternFrom: 0, stringFrom: 0, nesting: 0)
}

private struct GlobMatcher {
    let pattern: UnsafeRawBufferPointer
    let string: UnsafeRawBufferPointer
    let ignoreCase: Bool
    var skipLongerMatches = false

    static let maxNesting = 1000

    init(pattern: UnsafeRawBufferPointer, string: UnsafeRawBufferPointer, ignoreCase: Bool) {
        self.pattern = pattern
        self.string = string
        self.ignoreCase = ignoreCase
    }

    /// The pattern byte at `i`, or 0 past the end: Redis's patterns are NUL-terminated sds
    /// strings and the algorithm peeks at that terminator.
    @inline(__always)
    func patternByte(_ i: Int) -> UInt8 { i < pattern.count ? pattern[i] : 0 }

    @inline(__always)
    func folded(_ c: Int) -> Int {
        ignoreCase && c >= 0x41 && c <= 0x5A ? c + 0x20 : c
    }

    @inline(__always)
    func sameByte(_ p: UInt8, _ s: UInt8) -> Bool {
        ignoreCase ? folded(Int(p)) == folded(Int(s)) : p == s
    }

    mutating func match(patternFrom p0: Int, stringFrom s0: Int, nesting: Int) -> Bool {
        if nesting > Self.maxNesting { return false }
        let patternEnd = pattern.count, stringEnd = string.count
        var p = p0, s = s0
        while p < patternEnd && s < stringEnd {
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while patternByte(p + 1) == UInt8(ascii: "*") { p += 1 }
                if patternEnd - p == 1 { return true }
                while s < stringEnd {
                    if match(patternFrom: p + 1, stringFrom: s, nesting: nesting + 1) { return true }
                    if skipLongerMatches { return false }
                    s += 1
                }
                // The rest of the pattern matches nowhere in the rest of the string, so
                // earlier stars taking longer runs can't help either.
                skipLongerMatches = true
                return false
            case UInt8(ascii: "?"):
                s += 1
            case UInt8(ascii: "["):
                p += 1
                let negated = patternByte(p) == UInt8(ascii: "^")
                if negated { p += 1 }
                let c = string[s]
                var matched = false
                while true {
                    if patternByte(p) == UInt8(ascii: "\\") && patternEnd - p >= 2 {
                        p += 1
                        if pattern[p] == c { matched = true }
                    } else if patternByte(p) == UInt8(ascii: "]") {
                        break
                    } else if p == patternEnd {
                        // Unterminated class: step back so the loop below ends on the last byte.
                        p -= 1
                        break
                    } else if patternEnd - p >= 3 && pattern[p + 1] == UInt8(ascii: "-") {
                        var low = Int(Int8(bitPattern: pattern[p]))
                        var high = Int(Int8(bitPattern: pattern[p + 2]))
                        if low > high { swap(&low, &high) }
                        // Folding after the swap, as Redis does: `[Z-a]` becomes the empty z...a.
                        low = folded(low)
                        high = folded(high)
                        let value = folded(Int(Int8(bitPattern: c)))
                        p += 2
                        if value >= low && value <= high { matched = true }
                    } else if sameByte(pattern[p], c) {
                        matched = true
                    }
                    p += 1
                }
                if negated { matched.toggle() }
                if !matched { return false }
                s += 1
            default:
                if pattern[p] == UInt8(ascii: "\\") && patternEnd - p >= 2 { p += 1 }
                if !sameByte(pattern[p], string[s]) { return false }
                s += 1
            }
            p += 1
            if s == stringEnd {
                while patternByte(p) == UInt8(ascii: "*") { p += 1 }
                break
            }
        }
        return p == patternEnd && s == stringEnd
    }
}
