/// Limits on client requests (networking.c / redis.conf).
public struct RequestLimits: Sendable {
    /// `proto-max-bulk-len`. A replication link from a master is exempt in Redis: give that
    /// parser `Int.max`.
    public var maxBulkLength: Int
    /// The largest accepted `*N`. Redis 7.0/7.2 accept up to INT_MAX (the 1M cap of Redis 6
    /// is gone); the argument vector grows as arguments arrive, so a huge N costs nothing
    /// until the bytes come.
    public var maxMultibulkCount: Int
    /// PROTO_INLINE_MAX_SIZE: how many bytes may wait without a line terminator, for inline
    /// requests and for `*N` / `$N` header lines.
    public var maxInlineLength: Int

    public init(maxBulkLength: Int = 512 << 20, maxMultibulkCount: Int = Int(Int32.max),
                maxInlineLength: Int = 64 << 10) {
        self.maxBulkLength = maxBulkLength
        self.maxMultibulkCount = maxMultibulkCount
        self.maxInlineLength = maxInlineLength
    }
}

/// Incremental parser for client requests: RESP multibulk (`*N\r\n$len\r\n...`) and inline
/// commands (`SET k v\r\n`, as telnet and `redis-cli` pipes send them), with Redis 7.0's exact
/// acceptance rules and error strings (networking.c processMultibulkBuffer /
/// processInlineBuffer, sds.c sdssplitargs).
///
/// Multibulk arguments are views into the caller's input; nothing is copied and, once the
/// argument vector has grown to the connection's widest command, nothing is allocated.
/// A partial command keeps its progress (header parsed, arguments found, how far a line was
/// scanned), so a 512 MB bulk arriving in 64 KB reads costs O(1) per read, not a rescan.
public final class RequestParser {
    public enum Outcome: Equatable {
        /// A whole command: drop `consumed` bytes after handling `arguments`.
        case command(consumed: Int)
        /// More bytes needed; call again with the same start and more bytes.
        case incomplete
        /// Reply `-ERR <message>` and close the connection, as Redis does.
        case protocolError(String)
    }

    public var limits: RequestLimits

    /// Redis's `authRequired(c)`: the default user has a password and this client has not
    /// authenticated yet. While true, `*N` above 10 and `$N` above 16384 are refused (Redis
    /// 7.0.x hardening against unauthenticated memory exhaustion).
    public var authRequired = false

    /// Whether the command being parsed (or last parsed) is inline. Redis treats inline
    /// traffic differently in places (e.g. a master must not send it; an empty line from a
    /// replica refreshes its ACK time).
    public private(set) var lastWasInline = false

    private enum Phase { case idle, inline, multibulkHeader, bulks }
    private var phase = Phase.idle

    /// Offsets into the current input, valid across `.incomplete` calls.
    private var position = 0        // next unparsed byte
    private var scanned = 0         // bytes before this hold no line terminator of the pending line
    private var remaining = 0       // multibulk arguments still to read
    private var bulkLength = -1     // length of the bulk being read, -1 while its header is unread
    /// Base address of the previous call's input; the views found so far are rebased when the
    /// caller's buffer moved between calls.
    private var previousBase: UnsafeRawPointer?

    private var views: UnsafeMutablePointer<UnsafeRawBufferPointer>
    private var viewCapacity: Int
    private var argumentCount = 0

    /// Inline arguments are unquoted/unescaped, so they can't be views of the input.
    private var scratch: UnsafeMutableRawPointer?
    private var scratchCapacity = 0

    private static let initialViewCapacity = 16
    /// Vectors and scratch above these sizes are released after use, so one huge command
    /// doesn't pin memory for the connection's life (Redis frees argv per command).
    private static let retainedViewCapacity = 4096
    private static let retainedScratchCapacity = 64 << 10

    public init(limits: RequestLimits = RequestLimits()) {
        self.limits = limits
        viewCapacity = Self.initialViewCapacity
        views = .allocate(capacity: viewCapacity)
    }

    deinit {
        views.deallocate()
        scratch?.deallocate()
    }

    /// The last parsed command's arguments, valid until the next `parse` or `reset`.
    public var arguments: CommandArguments {
        CommandArguments(UnsafeBufferPointer(start: views, count: argumentCount))
    }

    /// Forgets any partial command.
    public func reset() {
        phase = .idle
        argumentCount = 0
        bulkLength = -1
        remaining = 0
        previousBase = nil
        releaseOversizedStorage()
    }

    /// Parses one command from the start of `input`.
    public func parse(_ input: UnsafeRawBufferPointer) -> Outcome {
        // processInputBuffer only runs on a non-empty buffer.
        guard let base = input.baseAddress, input.count > 0 else { return .incomplete }
        switch phase {
        case .idle:
            releaseOversizedStorage()
            argumentCount = 0
            position = 0
            scanned = 0
            bulkLength = -1
            // The first byte decides the request type, exactly as processInputBuffer does.
            if input[0] == UInt8(ascii: "*") {
                lastWasInline = false
                phase = .multibulkHeader
                scanned = 1
                return parseMultibulk(input, base)
            }
            lastWasInline = true
            phase = .inline
            return parseInline(input, base)
        case .inline:
            return parseInline(input, base)
        case .multibulkHeader, .bulks:
            if let previousBase, previousBase != base, argumentCount > 0 {
                for i in 0..<argumentCount {
                    let view = views[i]
                    views[i] = UnsafeRawBufferPointer(start: base + (view.baseAddress! - previousBase),
                                                      count: view.count)
                }
            }
            return parseMultibulk(input, base)
        }
    }

    // MARK: Multibulk

    private func parseMultibulk(_ input: UnsafeRawBufferPointer, _ base: UnsafeRawPointer) -> Outcome {
        let end = input.count
        if phase == .multibulkHeader {
            guard let cr = findCR(input) else {
                if end > limits.maxInlineLength { return fail("Protocol error: too big mbulk count string") }
                return pause(base)
            }
            // The byte after '\r' must be present; Redis skips it without checking it is '\n'.
            guard cr + 1 < end else { return pause(base) }
            guard let count = parseInteger(UnsafeRawBufferPointer(rebasing: input[1..<cr])),
                  count <= limits.maxMultibulkCount
            else { return fail("Protocol error: invalid multibulk length") }
            if count > 10 && authRequired { return fail("Protocol error: unauthenticated multibulk length") }
            position = cr + 2
            // `*0` and negative counts (even `*-5`) are an empty command Redis skips silently.
            if count <= 0 { return finish() }
            remaining = count
            phase = .bulks
        }
        // Locals keep the loop in registers (stores through `views` could alias `self`);
        // they are written back on every exit.
        var position = self.position, bulkLength = self.bulkLength, remaining = self.remaining
        var count = argumentCount
        while remaining > 0 {
            if bulkLength < 0 {
                if let (length, next) = shortBulkHeader(input, at: position) {
                    bulkLength = length
                    position = next
                } else {
                    self.position = position
                    self.bulkLength = -1
                    self.remaining = remaining
                    argumentCount = count
                    // `scanned` may still point into the previous header line; resume there
                    // only if it belongs to this one.
                    scanned = Swift.max(scanned, position)
                    guard let cr = findCR(input) else {
                        if end - position > limits.maxInlineLength {
                            return fail("Protocol error: too big bulk count string")
                        }
                        return pause(base)
                    }
                    guard cr + 1 < end else { return pause(base) }
                    let marker = input[position]
                    if marker != UInt8(ascii: "$") {
                        return fail("Protocol error: expected '$', got '\(Character(Unicode.Scalar(marker)))'")
                    }
                    guard let length = parseInteger(UnsafeRawBufferPointer(rebasing: input[(position + 1)..<cr])),
                          length >= 0, length <= limits.maxBulkLength
                    else { return fail("Protocol error: invalid bulk length") }
                    if length > 16384 && authRequired { return fail("Protocol error: unauthenticated bulk length") }
                    position = cr + 2
                    bulkLength = length
                }
            }
            // The bulk plus its two trailing bytes (never checked to be CRLF, like Redis).
            guard end - position >= bulkLength + 2 else {
                self.position = position
                self.bulkLength = bulkLength
                self.remaining = remaining
                argumentCount = count
                return pause(base)
            }
            if count == viewCapacity { growViews(atLeast: count + 1, keeping: count) }
            views[count] = UnsafeRawBufferPointer(start: base + position, count: bulkLength)
            count += 1
            position += bulkLength + 2
            bulkLength = -1
            remaining -= 1
        }
        self.position = position
        self.bulkLength = -1
        self.remaining = 0
        argumentCount = count
        return finish()
    }

    /// The common bulk header, `$<digits>\r` plus one more byte, whole in the input and
    /// acceptable: parsed in one pass. Anything else (errors, partial lines, leading zeros,
    /// 19+ digits) takes the general path, which reproduces Redis's checks in order.
    @inline(__always)
    private func shortBulkHeader(_ input: UnsafeRawBufferPointer, at position: Int) -> (Int, Int)? {
        let end = input.count
        guard position + 3 < end, input[position] == UInt8(ascii: "$") else { return nil }
        var i = position + 1
        var value = Int(input[i] &- UInt8(ascii: "0"))
        guard value <= 9 else { return nil }
        i += 1
        if value != 0 {
            while i < end && i - position <= 18 {
                let digit = input[i] &- UInt8(ascii: "0")
                if digit > 9 { break }
                value = value &* 10 &+ Int(digit)
                i += 1
            }
        }
        guard i + 1 < end, input[i] == UInt8(ascii: "\r"), value <= limits.maxBulkLength,
              value <= 16384 || !authRequired
        else { return nil }
        return (value, i + 2)
    }

    /// Finds the '\r' ending the line that starts at `position`, resuming at `scanned`.
    /// Redis uses strchr, which stops at a NUL byte: a header line with a NUL in it is never
    /// found, so the request waits until the size limit turns it into an error.
    @inline(__always)
    private func findCR(_ input: UnsafeRawBufferPointer) -> Int? {
        var i = scanned
        let end = input.count
        while i < end {
            let c = input[i]
            if c == UInt8(ascii: "\r") {
                scanned = i
                return i
            }
            if c == 0 { break }
            i += 1
        }
        scanned = i
        return nil
    }

    // MARK: Inline

    private func parseInline(_ input: UnsafeRawBufferPointer, _ base: UnsafeRawPointer) -> Outcome {
        let end = input.count
        // strchr(querybuf, '\n'), stopping at NUL like strchr does.
        var newline = scanned
        while newline < end {
            let c = input[newline]
            if c == UInt8(ascii: "\n") || c == 0 { break }
            newline += 1
        }
        scanned = newline
        guard newline < end, input[newline] == UInt8(ascii: "\n") else {
            if end > limits.maxInlineLength { return fail("Protocol error: too big inline request") }
            return pause(base)
        }
        // A lone '\n' ends the line too; a '\r' before it is dropped.
        var lineEnd = newline
        if lineEnd > 0 && input[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
        position = newline + 1
        guard splitArguments(UnsafeRawBufferPointer(rebasing: input[0..<lineEnd])) else {
            return fail("Protocol error: unbalanced quotes in request")
        }
        return finish()
    }

    /// Splits an inline line into `views` over the scratch buffer (sdssplitargs).
    private func splitArguments(_ line: UnsafeRawBufferPointer) -> Bool {
        let length = line.count
        argumentCount = 0
        if length == 0 { return true }
        if scratchCapacity < length {
            scratch?.deallocate()
            scratchCapacity = Swift.max(length, 256)
            scratch = .allocate(byteCount: scratchCapacity, alignment: 8)
        }
        let out = scratch!
        return ApusRESP.splitArguments(line, into: out) { start, end in
            if argumentCount == viewCapacity { growViews(atLeast: argumentCount + 1, keeping: argumentCount) }
            views[argumentCount] = UnsafeRawBufferPointer(start: out + start, count: end - start)
            argumentCount += 1
        }
    }

    // MARK: Helpers

    private func finish() -> Outcome {
        phase = .idle
        previousBase = nil
        return .command(consumed: position)
    }

    private func pause(_ base: UnsafeRawPointer) -> Outcome {
        previousBase = base
        return .incomplete
    }

    private func fail(_ message: String) -> Outcome {
        reset()
        return .protocolError(message)
    }

    private func growViews(atLeast needed: Int, keeping kept: Int) {
        let capacity = Swift.max(needed, viewCapacity * 2)
        let grown = UnsafeMutablePointer<UnsafeRawBufferPointer>.allocate(capacity: capacity)
        grown.moveInitialize(from: views, count: kept)
        views.deallocate()
        views = grown
        viewCapacity = capacity
    }

    private func releaseOversizedStorage() {
        if viewCapacity > Self.retainedViewCapacity {
            views.deallocate()
            viewCapacity = Self.initialViewCapacity
            views = .allocate(capacity: viewCapacity)
        }
        if scratchCapacity > Self.retainedScratchCapacity {
            scratch?.deallocate()
            scratch = nil
            scratchCapacity = 0
        }
    }
}
