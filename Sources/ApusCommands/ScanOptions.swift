import ApusRESP
import ApusStore

/// The options of SCAN, HSCAN, SSCAN and ZSCAN, parsed like Redis's scanGenericCommand.
struct ScanOptions {
    /// COUNT: the work hint (Redis's default 10).
    var count = 10
    /// MATCH pattern; nil when absent or exactly "*" (which matches everything).
    var pattern: UnsafeRawBufferPointer?
    /// TYPE name (SCAN only).
    var typeName: UnsafeRawBufferPointer?

    /// Whether `element` passes the MATCH filter.
    func matches(_ element: UnsafeRawBufferPointer) -> Bool {
        guard let pattern else { return true }
        return globMatch(pattern: pattern, string: element, ignoreCase: false)
    }
}

extension CommandContext {
    /// Parses `[MATCH pattern] [COUNT n] [TYPE name]` from argument `start`; TYPE only when
    /// `allowType` (SCAN). Replies Redis's error and returns nil on bad input: a COUNT that is
    /// no integer, below 1, or any unknown or incomplete option is a syntax error.
    mutating func parseScanOptions(from start: Int, allowType: Bool) -> ScanOptions? {
        var options = ScanOptions()
        var i = start
        while i < args.count {
            let more = args.count - i
            if args.isToken(i, "count") && more >= 2 {
                guard let n = integerArgument(i + 1) else { return nil }
                guard n >= 1 else {
                    syntaxError()
                    return nil
                }
                options.count = n
            } else if args.isToken(i, "match") && more >= 2 {
                let p = args[i + 1]
                options.pattern = p.count == 1 && p[0] == UInt8(ascii: "*") ? nil : p
            } else if allowType && args.isToken(i, "type") && more >= 2 {
                options.typeName = args[i + 1]
            } else {
                syntaxError()
                return nil
            }
            i += 2
        }
        return options
    }

    /// Parses a SCAN-family cursor argument, replying `ERR invalid cursor` when it is not one.
    mutating func scanCursorArgument(_ i: Int) -> UInt64? {
        if let cursor = KeyCommands.parseScanCursor(args[i]) { return cursor }
        reply.error("ERR invalid cursor")
        return nil
    }
}
