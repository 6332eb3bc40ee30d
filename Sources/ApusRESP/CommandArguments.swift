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

/// A command's arguments copied out of the read buffer, for commands that run later: a
/// blocked command re-executed when its key is ready, commands queued by MULTI. One buffer
/// holds every argument's bytes.
public final class OwnedCommandArguments: @unchecked Sendable {
    private let bytes: UnsafeMutableRawBufferPointer
    private let views: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>

    public init(copying args: CommandArguments) {
        var total = 0
        for i in 0 ..< args.count { total &+= args[i].count }
        bytes = .allocate(byteCount: Swift.max(total, 1), alignment: 1)
        views = .allocate(capacity: Swift.max(args.count, 1))
        var offset = 0
        for i in 0 ..< args.count {
            let arg = args[i]
            let start = bytes.baseAddress! + offset
            if arg.count > 0 { start.copyMemory(from: arg.baseAddress!, byteCount: arg.count) }
            views[i] = UnsafeRawBufferPointer(start: start, count: arg.count)
            offset &+= arg.count
        }
        count = args.count
    }

    deinit {
        bytes.deallocate()
        views.deallocate()
    }

    public let count: Int

    /// Views of the stored arguments, valid while this object lives.
    public var arguments: CommandArguments {
        CommandArguments(UnsafeBufferPointer(rebasing: UnsafeBufferPointer(views)[0 ..< count]))
    }
}
