/// The arguments of one command as views into the connection's read buffer (or the parser's
/// scratch space for inline commands). Valid only while the command runs: copy bytes
/// (`Bytes(args[i])`) before storing them.
public struct CommandArguments {
    public let views: UnsafeBufferPointer<UnsafeRawBufferPointer>

    @inlinable
    public init(_ views: UnsafeBufferPointer<UnsafeRawBufferPointer>) { self.views = views }

    @inlinable
    public var count: Int { views.count }

    @inlinable
    public subscript(index: Int) -> UnsafeRawBufferPointer { views[index] }

    /// The arguments from `start` on, e.g. the keys of `MGET`.
    @inlinable
    public func dropFirst(_ n: Int) -> CommandArguments {
        CommandArguments(UnsafeBufferPointer(rebasing: views[Swift.min(n, views.count)...]))
    }

    /// Copies argument `index` into an owned byte string.
    @inlinable
    public func bytes(_ index: Int) -> Bytes { Bytes(views[index]) }

    /// Lossy UTF-8 rendering of argument `index`, for error messages and config values only.
    public func string(_ index: Int) -> String { String(decoding: views[index], as: UTF8.self) }

    /// ASCII case-insensitive comparison of argument `index` with a lowercase token.
    @inlinable
    public func isToken(_ index: Int, _ lowercase: StaticString) -> Bool {
        views[index].equalsIgnoringCase(lowercase)
    }
}

extension UnsafeRawBufferPointer {
    /// ASCII case-insensitive equality with `lowercase` (which must be lowercase ASCII).
    @inlinable
    public func equalsIgnoringCase(_ lowercase: StaticString) -> Bool {
        let n = lowercase.utf8CodeUnitCount
        guard count == n else { return false }
        let p = lowercase.utf8Start
        var i = 0
        while i < n {
            var c = self[i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != p[i] { return false }
            i &+= 1
        }
        return true
    }

    /// Byte-wise equality.
    @inlinable
    public func bytesEqual(_ other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        return compareBytes(self, other) == 0
    }
}

extension UnsafeRawBufferPointer {
    /// What C's `%.<limit>s` prints of this argument: the bytes up to the first NUL, at most
    /// `limit` of them. Redis quotes arguments in error messages this way.
    public func cStringPrefix(_ limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        for byte in self.prefix(limit) {
            if byte == 0 { break }
            out.append(byte)
        }
        return out
    }
}
