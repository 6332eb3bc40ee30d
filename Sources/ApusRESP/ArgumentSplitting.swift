// Redis's sdssplitargs, the one tokenizer behind inline commands (processInlineBuffer) and
// redis.conf lines (loadServerConfigFromString), so both read quotes and escapes alike.

/// C `isspace` in the C locale.
@inlinable
public func isCSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

/// The value of one hexadecimal digit, or nil.
@inlinable
public func hexDigitValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
    default: return nil
    }
}

/// Splits `line` into arguments like sdssplitargs: blanks separate arguments; "double
/// quotes" take \n \r \t \b \a \xHH and \<any> escapes; 'single quotes' take only \'; a
/// closing quote must be followed by a blank or the end. Quotes may start mid-argument
/// (`a"b c"` is one argument `ab c`). Like the C string it reads, the line ends at a NUL.
///
/// Unescaped bytes go to `out` (at least `line.count` bytes; unescaping never lengthens
/// text) and `argument(start, end)` is called with each argument's range there, in order.
/// Returns false for unbalanced quotes.
public func splitArguments(_ line: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer,
                           _ argument: (_ start: Int, _ end: Int) -> Void) -> Bool {
    let length = line.firstIndex(of: 0) ?? line.count
    @inline(__always) func at(_ i: Int) -> UInt8 { i < length ? line[i] : 0 }
    @inline(__always) func put(_ byte: UInt8, _ o: inout Int) {
        out.storeBytes(of: byte, toByteOffset: o, as: UInt8.self)
        o &+= 1
    }
    var p = 0
    var o = 0
    while true {
        while p < length && isCSpace(line[p]) { p &+= 1 }
        if p >= length { return true }
        let start = o
        var inDouble = false, inSingle = false, done = false
        while !done {
            let c = at(p)
            if inDouble {
                if c == UInt8(ascii: "\\") && at(p &+ 1) == UInt8(ascii: "x"),
                   let high = hexDigitValue(at(p &+ 2)), let low = hexDigitValue(at(p &+ 3)) {
                    put(high << 4 | low, &o)
                    p &+= 3
                } else if c == UInt8(ascii: "\\") && at(p &+ 1) != 0 {
                    p &+= 1
                    switch at(p) {
                    case UInt8(ascii: "n"): put(0x0A, &o)
                    case UInt8(ascii: "r"): put(0x0D, &o)
                    case UInt8(ascii: "t"): put(0x09, &o)
                    case UInt8(ascii: "b"): put(0x08, &o)
                    case UInt8(ascii: "a"): put(0x07, &o)
                    case let other: put(other, &o)
                    }
                } else if c == UInt8(ascii: "\"") {
                    let next = at(p &+ 1)
                    if next != 0 && !isCSpace(next) { return false }
                    done = true
                } else if c == 0 {
                    return false
                } else {
                    put(c, &o)
                }
            } else if inSingle {
                if c == UInt8(ascii: "\\") && at(p &+ 1) == UInt8(ascii: "'") {
                    p &+= 1
                    put(UInt8(ascii: "'"), &o)
                } else if c == UInt8(ascii: "'") {
                    let next = at(p &+ 1)
                    if next != 0 && !isCSpace(next) { return false }
                    done = true
                } else if c == 0 {
                    return false
                } else {
                    put(c, &o)
                }
            } else {
                switch c {
                // Only these end an unquoted argument: '\v' and '\f' are kept inside it,
                // although they count as blanks between arguments.
                case 0x20, 0x0A, 0x0D, 0x09, 0x00: done = true
                case UInt8(ascii: "\""): inDouble = true
                case UInt8(ascii: "'"): inSingle = true
                default: put(c, &o)
                }
            }
            if p < length { p &+= 1 }
        }
        argument(start, o)
    }
}
