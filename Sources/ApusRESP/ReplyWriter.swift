import NIOCore

/// The RESP protocol a client speaks (`HELLO 2|3`).
public enum RESPVersion: Int, Sendable {
    case resp2 = 2
    case resp3 = 3
}

/// Appends replies to a connection's output buffer in RESP2 or RESP3.
///
/// RESP3-only types degrade the way Redis degrades them for RESP2 clients: maps and sets
/// become flat arrays, doubles become bulk strings, booleans become integers, null becomes
/// `$-1` (or `*-1` for a null array).
public struct ReplyWriter {
    public var buffer: ByteBuffer
    public var version: RESPVersion
    /// Error replies written so far (the dispatcher counts failed calls with it).
    public var errorCount = 0

    @inlinable
    public init(buffer: ByteBuffer, version: RESPVersion = .resp2) {
        self.buffer = buffer
        self.version = version
    }

    // MARK: Simple types

    @inlinable
    public mutating func simpleString(_ s: StaticString) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeStaticString(s)
        buffer.writeStaticString("\r\n")
    }

    public mutating func simpleString(_ s: String) {
        buffer.writeInteger(UInt8(ascii: "+"))
        buffer.writeString(s)
        buffer.writeStaticString("\r\n")
    }

    @inlinable
    public mutating func ok() { buffer.writeStaticString("+OK\r\n") }

    /// An error reply; `message` starts with its code (`ERR ...`, `WRONGTYPE ...`).
    @inlinable
    public mutating func error(_ message: StaticString) {
        errorCount &+= 1
        buffer.writeInteger(UInt8(ascii: "-"))
        buffer.writeStaticString(message)
        buffer.writeStaticString("\r\n")
    }

    /// An error reply built at run time. Newlines are replaced by spaces, as Redis does,
    /// so the reply stays one protocol line.
    public mutating func error(_ message: String) {
        errorCount &+= 1
        buffer.writeInteger(UInt8(ascii: "-"))
        var bytes = Array(message.utf8)
        for i in bytes.indices where bytes[i] == 0x0D || bytes[i] == 0x0A { bytes[i] = 0x20 }
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// An error reply from raw bytes (messages that quote client arguments byte for byte).
    public mutating func error(bytes message: [UInt8]) {
        errorCount &+= 1
        buffer.writeInteger(UInt8(ascii: "-"))
        var bytes = message
        for i in bytes.indices where bytes[i] == 0x0D || bytes[i] == 0x0A { bytes[i] = 0x20 }
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    @inlinable
    public mutating func integer(_ value: Int) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 24) { out in
            out.baseAddress!.storeBytes(of: UInt8(ascii: ":"), as: UInt8.self)
            let n = 1 &+ formatDecimal(value, into: UnsafeMutableRawBufferPointer(rebasing: out[1...]))
            out.baseAddress!.storeBytes(of: UInt16(0x0A0D), toByteOffset: n, as: UInt16.self)
            return n &+ 2
        }
    }

    // MARK: Bulk strings

    /// `$len\r\n<bytes>\r\n` in one buffer write: one uniqueness/capacity check instead of
    /// five (each NIO write pays for them, plus an exclusivity check in NIO's own code).
    @inlinable
    public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        let count = bytes.count
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count &+ 26) { out in
            let base = out.baseAddress!
            base.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
            var n = 1 &+ formatDecimal(count, into: UnsafeMutableRawBufferPointer(rebasing: out[1...]))
            base.storeBytes(of: UInt16(0x0A0D), toByteOffset: n, as: UInt16.self)
            n &+= 2
            if count > 0 { (base + n).copyMemory(from: bytes.baseAddress!, byteCount: count) }
            n &+= count
            base.storeBytes(of: UInt16(0x0A0D), toByteOffset: n, as: UInt16.self)
            return n &+ 2
        }
    }

    @inlinable
    public mutating func bulk(_ bytes: Bytes) {
        bytes.withUnsafeBytes { bulk($0) }
    }

    @inlinable
    public mutating func bulk(_ s: StaticString) {
        bulk(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    public mutating func bulk(_ s: String) {
        var copy = s
        copy.withUTF8 { bulk(UnsafeRawBufferPointer($0)) }
    }

    /// An integer rendered as a bulk string (e.g. `INCRBYFLOAT`-style or `GET` on an int-encoded value).
    @inlinable
    public mutating func bulkDecimal(_ value: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let n = withUnsafeMutableBytes(of: &digits) { formatDecimal(value, into: $0) }
        withUnsafeBytes(of: &digits) { bulk(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }

    /// Starts a bulk string of known length whose bytes the caller writes next into `buffer`,
    /// followed by `endBulk()`.
    @inlinable
    public mutating func beginBulk(length: Int) {
        buffer.reserveCapacity(minimumWritableBytes: length &+ 24)
        buffer.writeInteger(UInt8(ascii: "$"))
        writeDecimal(length)
        buffer.writeStaticString("\r\n")
    }

    @inlinable
    public mutating func endBulk() { buffer.writeStaticString("\r\n") }

    /// A verbatim string (`=len\r\ntxt:...`) in RESP3, a bulk string in RESP2.
    public mutating func verbatim(_ text: String, format: StaticString = "txt") {
        guard version == .resp3 else { return bulk(text) }
        let utf8 = Array(text.utf8)
        buffer.writeInteger(UInt8(ascii: "="))
        writeDecimal(utf8.count + 4)
        buffer.writeStaticString("\r\n")
        buffer.writeStaticString(format)
        buffer.writeInteger(UInt8(ascii: ":"))
        buffer.writeBytes(utf8)
        buffer.writeStaticString("\r\n")
    }

    // MARK: Nulls

    /// The null reply for a missing string: `$-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func null() {
        if version == .resp3 { buffer.writeStaticString("_\r\n") } else { buffer.writeStaticString("$-1\r\n") }
    }

    /// The null reply for a missing array: `*-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func nullArray() {
        if version == .resp3 { buffer.writeStaticString("_\r\n") } else { buffer.writeStaticString("*-1\r\n") }
    }

    // MARK: Aggregates

    @inlinable
    public mutating func arrayHeader(_ count: Int) {
        buffer.writeInteger(UInt8(ascii: "*"))
        writeDecimal(count)
        buffer.writeStaticString("\r\n")
    }

    /// A map of `count` pairs: `%count` in RESP3, an array of `2 * count` in RESP2.
    @inlinable
    public mutating func mapHeader(_ count: Int) {
        if version == .resp3 {
            buffer.writeInteger(UInt8(ascii: "%"))
            writeDecimal(count)
            buffer.writeStaticString("\r\n")
        } else {
            arrayHeader(count * 2)
        }
    }

    /// A set: `~count` in RESP3, an array in RESP2.
    @inlinable
    public mutating func setHeader(_ count: Int) {
        if version == .resp3 {
            buffer.writeInteger(UInt8(ascii: "~"))
            writeDecimal(count)
            buffer.writeStaticString("\r\n")
        } else {
            arrayHeader(count)
        }
    }

    /// A push message (`>count` in RESP3, an array in RESP2).
    @inlinable
    public mutating func pushHeader(_ count: Int) {
        if version == .resp3 {
            buffer.writeInteger(UInt8(ascii: ">"))
            writeDecimal(count)
            buffer.writeStaticString("\r\n")
        } else {
            arrayHeader(count)
        }
    }

    /// An attribute (`|count`), RESP3 only: callers skip it for RESP2 clients.
    @inlinable
    public mutating func attributeHeader(_ count: Int) {
        buffer.writeInteger(UInt8(ascii: "|"))
        writeDecimal(count)
        buffer.writeStaticString("\r\n")
    }

    // MARK: Other RESP3 types

    /// A double: `,value` in RESP3, a bulk string in RESP2, formatted like Redis 7.2.
    public mutating func double(_ value: Double) {
        var text: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // maxDoubleChars bytes
        let n = withUnsafeMutableBytes(of: &text) { formatDouble(value, into: $0) }
        withUnsafeBytes(of: &text) { raw in
            let digits = UnsafeRawBufferPointer(rebasing: raw[0..<n])
            if version == .resp3 {
                buffer.writeInteger(UInt8(ascii: ","))
                buffer.writeBytes(digits)
                buffer.writeStaticString("\r\n")
            } else {
                bulk(digits)
            }
        }
    }

    /// A boolean: `#t`/`#f` in RESP3, `:1`/`:0` in RESP2.
    @inlinable
    public mutating func boolean(_ value: Bool) {
        if version == .resp3 {
            buffer.writeStaticString(value ? "#t\r\n" : "#f\r\n")
        } else {
            buffer.writeStaticString(value ? ":1\r\n" : ":0\r\n")
        }
    }

    /// A big number: `(digits` in RESP3, a bulk string in RESP2.
    public mutating func bigNumber(_ digits: String) {
        if version == .resp3 {
            buffer.writeInteger(UInt8(ascii: "("))
            buffer.writeString(digits)
            buffer.writeStaticString("\r\n")
        } else {
            bulk(digits)
        }
    }

    // MARK: Helpers

    @inlinable
    mutating func writeDecimal(_ value: Int) {
        if value >= 0 && value < 10 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let n = withUnsafeMutableBytes(of: &digits) { formatDecimal(value, into: $0) }
        withUnsafeBytes(of: &digits) { _ = buffer.writeBytes(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
}

/// Writes the decimal form of `value` at the start of `out` (which holds at least 20 bytes)
/// and returns its length.
@inlinable
public func formatDecimal(_ value: Int, into out: UnsafeMutableRawBufferPointer) -> Int {
    var magnitude = value.magnitude
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    return withUnsafeMutableBytes(of: &tmp) { scratch -> Int in
        var i = 0
        repeat {
            scratch[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
            magnitude /= 10
            i &+= 1
        } while magnitude != 0
        var n = 0
        if value < 0 { out[0] = UInt8(ascii: "-"); n = 1 }
        while i > 0 {
            i &-= 1
            out[n] = scratch[i]
            n &+= 1
        }
        return n
    }
}
