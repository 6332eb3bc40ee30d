import ApusCommands
import ApusConfig
import ApusRESP
import ApusStore
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One per connection: parses every complete command in the read buffer, runs each inline on
/// this event loop, appends the replies to one output buffer and flushes once per read burst.
/// Only `ByteBuffer` crosses the pipeline.
///
/// It also accounts the client's buffers (Redis's updateClientMemUsage: CLIENT LIST's qbuf,
/// rbs, omem, tot-mem and the server-wide `clientMemory`) once per burst and per completed
/// write, and bounds them: `client-output-buffer-limit` (checked after every command whose
/// replies could reach it, and whenever what the socket has not taken changes),
/// `client-query-buffer-limit`, and `maxmemory-clients` (client eviction).
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ServerContext
    private let worker: Worker
    private let limits: ClientLimits
    /// Holds a `maxclients` slot (released when the connection closes).
    private var admitted = false
    private let parser: RequestParser
    /// `client-query-buffer-limit`, read live (CONFIG SET applies to every client at once).
    private let queryBufferLimitKey: ConfigKey
    /// Bytes of a command not yet complete, kept across reads.
    private var pending: ByteBuffer?
    private var output: ByteBuffer
    private var client: ClientSession?
    private var closing = false
    /// While the client is blocked (BLPOP, ...): its timeout, and whether its eventual reply
    /// is dropped (it blocked under CLIENT REPLY OFF/SKIP).
    private var blockTimeout: Scheduled<Void>?
    private var dropUnblockReply = false

    /// Redis's static reply buffer (PROTO_REPLY_CHUNK_BYTES): replies up to this size in one
    /// burst are not output-buffer memory (omem), as in Redis, where only the reply list is.
    static let replyChunkBytes = 16 * 1024
    /// Writes handed to NIO with a completion promise that have not completed, and NIO's
    /// buffered bytes as last seen. Both stay 0 while the socket takes every write at once
    /// (the normal case, which costs nothing); once a write stays behind, later writes carry
    /// a promise until NIO has sent everything.
    private var trackedWrites = 0
    private var unsentBytes = 0
    /// Heap held by reply buffers NIO has not finished sending: their whole capacity, sent
    /// part included, until the write completes (the memory `used_memory` sees).
    private var heldOutputBytes = 0
    /// When omem first reached the soft limit (ms; 0 = below it), and the timer that closes
    /// the client if it stays there without further traffic.
    private var softLimitSince: Int64 = 0
    private var softLimitTimer: Scheduled<Void>?
    /// The largest reply burst since the reply buffer was last replaced (rbp).
    private var replyPeak = 0

    /// The connection's socket (accepted by `Acceptor`), read directly while a busy script
    /// holds the loop's thread, and this loop's `BusyService` (slot: its index there).
    let fd: Int32
    private let busyService: BusyService?
    var serviceSlot = -1
    /// This connection's pipeline context while it is open (used outside NIO's callbacks
    /// only by `serveWhileBusy`, on the loop's thread).
    private var channelContext: ChannelHandlerContext?
    /// Set while this connection's commands run: it is not served again from inside them.
    private var inProcess = false
    /// The peer closed its side while the loop was held; NIO sees that itself afterwards.
    private var peerClosedWhileBusy = false

    init(server: ServerContext, worker: Worker, limits: ClientLimits, allocator: ByteBufferAllocator,
         fd: Int32 = -1, busyService: BusyService? = nil) {
        self.server = server
        self.worker = worker
        self.limits = limits
        self.fd = fd
        self.busyService = busyService
        let maxBulk = server.config.int("proto-max-bulk-len")
        // Entries store value lengths in 32 bits: a proto-max-bulk-len above 4 GB is capped
        // here so an oversized bulk gets Redis's protocol error instead of a corrupt entry.
        self.parser = RequestParser(limits: RequestLimits(maxBulkLength: min(maxBulk, Int(UInt32.max) - (1 << 16))))
        self.queryBufferLimitKey = server.config.key("client-query-buffer-limit")
        self.output = allocator.buffer(capacity: 16 * 1024)
    }

    func channelActive(context: ChannelHandlerContext) {
        // Redis's acceptCommonHandler: refuse beyond maxclients before creating a client.
        guard limits.admit() else {
            limits.countRejection()
            reject(context: context, ClientLimits.maxClientsError)
            return
        }
        admitted = true
        // clientAcceptHandler: protected mode refuses non-local peers. The client was already
        // created there (its id is used up) but is never counted in total_connections_received.
        if limits.protectedModeDenies(context.channel.remoteAddress) {
            _ = server.clients.makeID()
            limits.countRejection()
            reject(context: context, ClientLimits.protectedModeError)
            return
        }
        let now = currentTimeMillis()
        let session = ClientSession(
            id: server.clients.makeID(),
            remoteAddress: Self.describe(context.channel.remoteAddress),
            localAddress: Self.describe(context.channel.localAddress),
            worker: worker,
            authenticated: server.settings.requirePass == nil,
            now: now,
            keyspace: server.keyspace)
        session.memory.fixedBytes = ClientMemory.heapSize(of: session) + ClientMemory.heapSize(of: self)
        let channel = context.channel
        session.requestClose = { channel.close(promise: nil) }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        session.unblockDelivery = { reply in
            loop.execute {
                let (handler, context) = loopBound.value
                handler.unblocked(reply: reply, context: context)
            }
        }
        session.subscriber.attach(mailbox: server.pubsub.mailbox(index: worker.index, loop: loop)) { messages in
            let (handler, context) = loopBound.value
            handler.deliverPushed(&messages, context: context)
        }
        session.fd = Int(fd)
        client = session
        server.clients.add(session)
        updateMemory(session)
        if fd >= 0, let busyService {
            channelContext = context
            busyService.add(self)
        }
        context.fireChannelActive()
    }

    /// Writes Redis's best-effort error line, then closes; nothing read is ever processed.
    private func reject(context: ChannelHandlerContext, _ message: String) {
        closing = true
        var buffer = context.channel.allocator.buffer(capacity: message.utf8.count)
        buffer.writeString(message)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        if let client {
            if let waiter = client.blockedOn { _ = server.blocking.finish(waiter) }
            client.blockedOn = nil
            client.transaction = nil
            server.watches.unwatchAll(client.watchState)
            server.tracking.disable(client)
            server.pubsub.unsubscribeAll(client.subscriber)
            server.clients.remove(client)
            server.clientMemory.release(client)
        }
        blockTimeout?.cancel()
        blockTimeout = nil
        softLimitTimer?.cancel()
        softLimitTimer = nil
        client = nil
        busyService?.remove(self)
        channelContext = nil
        if admitted {
            admitted = false
            limits.release()
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, let client else { return }
        var input = unwrapInboundIn(data)
        worker.netInputBytes &+= input.readableBytes
        if var held = pending {
            held.writeBuffer(&input)
            input = held
            pending = nil
        }
        // A blocked client's further commands wait in the query buffer, as in Redis.
        if client.blockedOn != nil { return keepPending(input, context: context) }
        process(&input, client: client, context: context)
    }

    /// Runs every complete command in `input` (stopping early if one blocks the client) and
    /// keeps the incomplete rest.
    private func process(_ input: inout ByteBuffer, client: ClientSession, context: ChannelHandlerContext) {
        inProcess = true
        defer { inProcess = false }
        var run = CommandContext(reply: ReplyWriter(buffer: output, version: client.resp),
                                     args: CommandArguments(UnsafeBufferPointer(start: nil, count: 0)),
                                     client: client, server: server, now: 0)
        run.resetClocks()
        // Redis's lastinteraction (CLIENT LIST idle=, the `timeout` cron), once per read burst.
        client.lastInteractionMillis = run.now
        output = ByteBuffer()
        // Replies may grow past this many bytes before the output buffer limits need a look:
        // with no limit set for the class (normal clients by default), never.
        let limit = limits.smallestOutputLimit(client.bufferClass)
        let limitMark = limit == Int.max ? Int.max : (unsentBytes >= limit ? 0 : Self.replyChunkBytes &+ 1)
        let consumed = input.withUnsafeReadableBytes { raw -> Int in
            var offset = 0
            while !client.closeAfterReply && client.blockedOn == nil {
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                parser.authRequired = !client.authenticated
                switch parser.parse(rest) {
                case .command(let used):
                    // CLIENT LIST's qbuf counts the running command, as Redis's query buffer does.
                    client.memory.queryBufferBytes = rest.count
                    offset &+= used
                    run.args = parser.arguments
                    execute(client: client, context: &run)
                    // Redis checks the limits as replies are added (closeClientOnOutputBufferLimitReached);
                    // a client over the hard limit runs nothing more and gets none of its replies.
                    if run.reply.buffer.writerIndex >= limitMark,
                       outputLimitReached(client: client, replyBytes: run.reply.buffer.readableBytes,
                                          closingNow: false, context: context) {
                        client.closeASAP = true
                        return offset
                    }
                    // Big replies go to the socket layer as they come instead of piling up in
                    // one buffer that doubles (a transient copy of megabytes no accounting sees).
                    if run.reply.buffer.readableBytes >= Self.midBurstFlushBytes {
                        output = run.reply.buffer
                        flush(context: context)
                        updateMemory(client)
                        run.reply = ReplyWriter(buffer: output, version: client.resp)
                        output = ByteBuffer()  // the burst's buffer lives in `run` again
                    }
                case .incomplete:
                    return offset
                case .protocolError(let message):
                    run.reply.error("ERR " + message)
                    client.closeAfterReply = true
                    return offset
                }
            }
            return offset
        }
        input.moveReaderIndex(forwardBy: consumed)
        output = run.reply.buffer
        if client.closeASAP { return closeForOutputLimit(client: client, context: context) }

        if input.readableBytes > 0 && !client.closeAfterReply {
            keepPending(input, context: context)
        }
        client.memory.queryBufferBytes = pending?.readableBytes ?? 0
        if let waiter = client.blockedOn, blockTimeout == nil { startBlocking(waiter, context: context) }
    }

    // MARK: While a busy script holds the loop

    /// Whether `serveWhileBusy` may run now: open, idle (its own commands are not on the
    /// stack), not blocked (a blocked client's commands wait, as in Redis).
    var canServeWhileBusy: Bool {
        !closing && !inProcess && !peerClosedWhileBusy && channelContext != nil && client?.blockedOn == nil
    }

    /// Reads what the socket holds and runs it as a read burst would. Called by this loop's
    /// `BusyService` on the loop's thread while NIO cannot run (a busy script holds it): the
    /// dispatcher answers -BUSY to all but the allow-busy commands, and the replies are
    /// written at once.
    func serveWhileBusy() {
        guard canServeWhileBusy, let client, let context = channelContext else { return }
        var input = pending ?? context.channel.allocator.buffer(capacity: 4096)
        pending = nil
        var received = 0
        while received < 1 << 20 {
            var result = 0
            input.writeWithUnsafeMutableBytes(minimumWritableBytes: 4096) { space in
                result = recv(fd, space.baseAddress, space.count, Int32(MSG_DONTWAIT))
                return max(result, 0)
            }
            if result > 0 {
                received &+= result
                continue
            }
            if result == 0 { peerClosedWhileBusy = true }
            break
        }
        worker.netInputBytes &+= received
        if input.readableBytes > 0 {
            process(&input, client: client, context: context)
        } else {
            pending = nil
        }
        finishBurst(client: client, context: context)
    }

    private func keepPending(_ input: ByteBuffer, context: ChannelHandlerContext) {
        if input.readableBytes > server.config.int(queryBufferLimitKey) {
            // Redis closes clients whose query buffer outgrows client-query-buffer-limit.
            if let client {
                var head = input.getSlice(at: input.readerIndex, length: min(64, input.readableBytes)) ?? ByteBuffer()
                let bytes = Self.represent(head.readBytes(length: head.readableBytes) ?? [])
                limits.logger.warning("Closing client that reached max query buffer length: \(ConnectionCommands.clientInfoString(client, now: currentTimeMillis())) (qbuf initial bytes: \(bytes))")
                server.clientMemory.queryLimitDisconnections.add(1, ordering: .relaxed)
                client.closeASAP = true
            }
            pending = nil
            closing = true
            context.close(promise: nil)
            return
        }
        pending = input
    }

    /// Where Redis's processMultibulkBuffer would stand in a partial multibulk command: the
    /// bytes it has not consumed yet (qbuf: from the argument being read, past its `$len`
    /// header once that is complete) and the lengths of the arguments already complete
    /// (argv-mem). Anything else (inline, or not even the `*N` line yet) is all unparsed.
    static func partialCommandShape(_ bytes: UnsafeRawBufferPointer) -> (unparsed: Int, argumentBytes: Int) {
        let all = (unparsed: bytes.count, argumentBytes: 0)
        guard bytes.first == UInt8(ascii: "*") else { return all }
        /// The number on the line starting at `start` + 1, and where the next line starts.
        func line(_ start: Int) -> (value: Int, next: Int)? {
            var value = 0
            var i = start + 1
            while i < bytes.count && i - start < 24 {
                let byte = bytes[i]
                if byte == 13 {
                    guard i + 1 < bytes.count, bytes[i + 1] == 10 else { return nil }
                    return (value, i + 2)
                }
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value &* 10 &+ Int(byte - 48)
                i += 1
            }
            return nil
        }
        guard let header = line(0) else { return all }
        var position = header.next
        var remaining = header.value
        var arguments = 0
        while remaining > 0 {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "$"), let bulk = line(position) else { break }
            position = bulk.next
            guard bytes.count - position >= bulk.value + 2 else { break }
            arguments &+= bulk.value
            position &+= bulk.value + 2
            remaining -= 1
        }
        // A whole command is not a partial one (a blocked client's queued commands).
        if remaining == 0 { return all }
        return (bytes.count - position, arguments)
    }

    /// Redis's sdscatrepr: a quoted string with C escapes, for log lines.
    static func represent(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case 10: text += "\\n"
            case 13: text += "\\r"
            case 9: text += "\\t"
            case 7: text += "\\a"
            case 8: text += "\\b"
            case 32...126: text += String(UnicodeScalar(byte))
            default:
                let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
                text += "\\x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
            }
        }
        return text + "\""
    }

    // MARK: Blocking

    /// The client just blocked: arm its timeout. Replies written before it go out now.
    private func startBlocking(_ waiter: BlockedClient, context: ChannelHandlerContext) {
        // argv-mem: the saved copy of the command's arguments lives as long as the wait.
        client?.memory.argumentBytes = client?.blockedArgumentBytes ?? 0
        guard waiter.deadlineMillis > 0 else { return }
        let delay = max(0, waiter.deadlineMillis - currentTimeMillis())
        let server = self.server
        let worker = self.worker
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        blockTimeout = context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
            guard server.blocking.finish(waiter) else { return }
            server.blocking.countUnserved(waiter, worker: worker, server: server, failed: false)
            let (handler, context) = loopBound.value
            handler.unblocked(reply: waiter.timedOutReply(), context: context)
        }
    }

    /// The blocked command was served, timed out or was unblocked: send its reply and go on
    /// with the commands that arrived meanwhile.
    func unblocked(reply: ByteBuffer, context: ChannelHandlerContext) {
        blockTimeout?.cancel()
        blockTimeout = nil
        guard let client, client.blockedOn != nil else { return }
        client.blockedOn = nil
        client.memory.argumentBytes = 0
        var reply = reply
        if !dropUnblockReply { output.writeBuffer(&reply) }
        dropUnblockReply = false
        if !closing, var input = pending {
            pending = nil
            process(&input, client: client, context: context)
        }
        finishBurst(client: client, context: context)
    }

    /// Pub/Sub messages published to this client (drained from its inbox on this loop):
    /// written out like a burst's replies, under the output buffer limits.
    func deliverPushed(_ messages: inout ByteBuffer, context: ChannelHandlerContext) {
        guard !closing, let client else { return }
        output.writeBuffer(&messages)
        finishBurst(client: client, context: context)
    }

    /// Runs the parsed command, honouring CLIENT REPLY OFF/SKIP by dropping what it wrote.
    @inline(__always)
    private func execute(client: ClientSession, context: inout CommandContext) {
        let mark = context.reply.buffer.writerIndex
        context.reply.version = client.resp
        Dispatcher.execute(&context)
        if client.blockedOn != nil {
            // The reply comes when the wait ends; CLIENT REPLY OFF/SKIP decide about it now.
            dropUnblockReply = client.replyMode == .off || client.replyMode == .skipThis
            if client.replyMode == .skipThis { client.replyMode = .on }
            return
        }
        switch client.replyMode {
        case .on:
            break
        case .off:
            context.reply.buffer.moveWriterIndex(to: mark)
        case .skipNext:
            client.replyMode = .skipThis
        case .skipThis:
            context.reply.buffer.moveWriterIndex(to: mark)
            client.replyMode = .on
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let client { finishBurst(client: client, context: context) }
        context.fireChannelReadComplete()
    }

    /// After a read burst (or a blocked command's reply): write the replies, account the
    /// buffers, then enforce the output buffer limits and maxmemory-clients, in Redis's order
    /// (a client closed for its output buffer is never also evicted).
    private func finishBurst(client: ClientSession, context: ChannelHandlerContext) {
        flush(context: context)
        guard !closing else { return }
        updateMemory(client)
        if unsentBytes > 0 || softLimitSince != 0,
           outputLimitReached(client: client, replyBytes: 0, closingNow: false, context: context) {
            return closeForOutputLimit(client: client, context: context)
        }
        if limits.evictClientsIfNeeded(current: client) {
            // Evicted itself: like Redis's freeClient, nothing more is written.
            client.closeASAP = true
            closing = true
            context.close(promise: nil)
            return
        }
        if client.closeAfterReply {
            closing = true
            context.close(promise: nil)
        }
    }

    private func flush(context: ChannelHandlerContext) {
        let bytes = output.readableBytes
        guard bytes > 0 else { return }
        worker.netOutputBytes &+= bytes
        if bytes > replyPeak { replyPeak = bytes }
        // An outsized reply buffer is given back, and so is a big one this burst used little
        // of (Redis's clientsCronResizeOutputBuffer shrinks an idle reply buffer too). It is
        // replaced rather than cleared: clearing storage NIO still holds would allocate a copy
        // of the same size first.
        let capacity = output.capacity
        let outsized = capacity > 1 << 20 || (capacity > 64 * 1024 && bytes < capacity / 4)
        if trackedWrites > 0 {
            writeTracked(output, holding: capacity, context: context)
            if outsized { replaceOutputBuffer(context: context) } else { output.clear() }
        } else if outsized {
            context.writeAndFlush(wrapOutboundOut(output), promise: nil)
            let unsent = Self.bufferedBytes(context) > 0
            replaceOutputBuffer(context: context)
            if unsent { writeTracked(ByteBuffer(), holding: capacity, context: context) }
        } else {
            let storage = output.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
            context.writeAndFlush(wrapOutboundOut(output), promise: nil)
            // The write usually completes inside the flush, leaving `output` the only reference to
            // its storage: clearing then reuses it (no allocation per read burst). When the
            // socket did not take everything, NIO still holds the storage and `clear()` moves to
            // fresh storage: from then on writes are tracked until NIO has sent it all (an empty
            // write completes after everything queued before it).
            output.clear()
            if output.withVeryUnsafeBytes({ UInt(bitPattern: $0.baseAddress) }) != storage {
                writeTracked(ByteBuffer(), holding: capacity, context: context)
            }
        }
    }

    /// Heap a pending write keeps besides its buffer (NIO's queue entry, the promise and its
    /// callback), measured at about 650 bytes: a client piling up thousands of writes holds
    /// megabytes of them.
    static let pendingWriteOverhead = 640

    /// Replies written within one read burst beyond this are handed to NIO before the burst ends.
    static let midBurstFlushBytes = 256 * 1024

    private func replaceOutputBuffer(context: ChannelHandlerContext) {
        output = context.channel.allocator.buffer(capacity: Self.replyChunkBytes)
        replyPeak = 0
    }

    // MARK: Client buffer memory

    /// Writes `buffer` with a promise, so the client's unsent bytes (omem) are known until NIO
    /// has sent everything: only while the socket is behind.
    /// `holding` is the heap the write keeps alive until it completes (an empty write after an
    /// untracked one stands for that one's buffer: it completes after it).
    private func writeTracked(_ buffer: ByteBuffer, holding: Int, context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        trackedWrites += 1
        let holding = holding &+ Self.pendingWriteOverhead
        heldOutputBytes += holding
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.heldOutputBytes -= holding
            handler.trackedWriteCompleted(context: context)
        }
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
        unsentBytes = trackedWrites > 0 ? Self.bufferedBytes(context) : 0
    }

    private func trackedWriteCompleted(context: ChannelHandlerContext) {
        trackedWrites -= 1
        unsentBytes = trackedWrites > 0 ? Self.bufferedBytes(context) : 0
        if let client, !closing { updateMemory(client) }
    }

    /// Bytes NIO holds for this channel that the socket has not taken yet.
    static func bufferedBytes(_ context: ChannelHandlerContext) -> Int {
        (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
    }

    /// omem: what the socket has not taken, plus — once this burst's replies outgrow the
    /// 16 KiB that Redis keeps in its static reply buffer — the heap they need beyond it (the
    /// reply buffer grows by powers of two; Redis likewise counts its reply blocks' allocation).
    @inline(__always)
    private func outputMemory(replyBytes: Int) -> Int {
        guard replyBytes > Self.replyChunkBytes else { return unsentBytes }
        return unsentBytes &+ replyBytes.nextPowerOfTwo &- Self.replyChunkBytes
    }

    /// Redis's updateClientMemUsage: refreshes the CLIENT LIST numbers and moves the
    /// client's charge in the server-wide total. Once per burst and per tracked write.
    @inline(__always)
    private func updateMemory(_ client: ClientSession) {
        // The steady state of a request/reply client: no partial command, nothing unsent, the
        // same reply buffer as last time. Nothing to recount.
        if pending == nil && trackedWrites == 0 && client.memory.queryBufferCapacity == 0
            && client.memory.outputMemory == 0 && client.memory.heldOutputExtra == 0
            && client.memory.replyBufferSize == output.capacity
            && client.memory.replyBufferPeak == replyPeak && output.readableBytes == 0 {
            return
        }
        if let pending {
            // Redis has already moved a partial command's complete arguments out of its query
            // buffer (argv-mem) and consumed the header of the argument being read.
            let shape = client.blockedOn == nil
                ? pending.withUnsafeReadableBytes { Self.partialCommandShape($0) }
                : (unparsed: pending.readableBytes, argumentBytes: 0)
            client.memory.queryBufferBytes = shape.unparsed
            client.memory.parsedArgumentBytes = shape.argumentBytes
            client.memory.queryBufferFree = pending.capacity &- pending.writerIndex
            client.memory.queryBufferCapacity = pending.capacity
        } else {
            client.memory.queryBufferBytes = 0
            client.memory.parsedArgumentBytes = 0
            client.memory.queryBufferFree = 0
            client.memory.queryBufferCapacity = 0
        }
        client.memory.replyBufferSize = output.capacity
        client.memory.replyBufferPeak = replyPeak
        client.memory.replyBufferBytes = min(output.readableBytes, Self.replyChunkBytes)
        client.memory.pendingWrites = trackedWrites
        // Memory (tot-mem, the server-wide total) counts the whole buffers NIO still holds;
        // omem for the output limits stays Redis's unsent reply bytes.
        let replyGrowth = output.readableBytes > Self.replyChunkBytes ? output.readableBytes.nextPowerOfTwo &- Self.replyChunkBytes : 0
        let omem = outputMemory(replyBytes: output.readableBytes)
        client.memory.outputMemory = omem
        client.memory.heldOutputExtra = max(0, heldOutputBytes &+ replyGrowth &- omem)
        server.clientMemory.update(client)
    }

    /// Redis's checkClientOutputBufferLimits + closeClientOnOutputBufferLimitReached: true
    /// when omem is at or above the hard limit, or at or above the soft limit for more than
    /// soft-seconds without a break (then it logs why). Nothing is checked while omem is 0.
    private func outputLimitReached(client: ClientSession, replyBytes: Int, closingNow: Bool,
                                    context: ChannelHandlerContext) -> Bool {
        let omem = outputMemory(replyBytes: replyBytes)
        guard omem > 0 else { return false }
        let limit = limits.outputLimit(client.bufferClass)
        let hard = limit.hard != 0 && omem >= limit.hard
        var soft = limit.soft != 0 && omem >= limit.soft
        if soft {
            // Redis compares whole unix seconds: over for more than soft-seconds.
            let now = currentTimeMillis()
            if softLimitSince == 0 {
                softLimitSince = now
                soft = false
                armSoftLimitTimer(seconds: limit.softSeconds, context: context)
            } else if now / 1000 - softLimitSince / 1000 <= Int64(limit.softSeconds) {
                soft = false
            }
        } else {
            softLimitSince = 0
            softLimitTimer?.cancel()
            softLimitTimer = nil
        }
        guard hard || soft else { return false }
        client.memory.outputMemory = omem
        client.memory.replyBufferBytes = min(replyBytes, Self.replyChunkBytes)
        // Described as it was before being flagged, as Redis logs it.
        let info = ConnectionCommands.clientInfoString(client, now: currentTimeMillis())
        client.closeASAP = true
        if closingNow {
            limits.logger.warning("Client \(info) closed for overcoming of output buffer limits.")
        } else {
            limits.logger.warning("Client \(info) scheduled to be closed ASAP for overcoming of output buffer limits.")
        }
        server.clientMemory.outputLimitDisconnections.add(1, ordering: .relaxed)
        return true
    }

    /// Without more traffic, nothing else would look at the soft limit again: check when it
    /// can first have lasted longer than soft-seconds (Redis's clientsCron does this).
    private func armSoftLimitTimer(seconds: Int, context: ChannelHandlerContext) {
        softLimitTimer?.cancel()
        let delay = Int64(seconds + 1) * 1000 - softLimitSince % 1000 + 5
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        softLimitTimer = context.eventLoop.scheduleTask(in: .milliseconds(delay)) {
            let (handler, context) = loopBound.value
            handler.softLimitTimer = nil
            handler.checkSoftLimit(context: context)
        }
    }

    private func checkSoftLimit(context: ChannelHandlerContext) {
        guard let client, !closing, softLimitSince != 0 else { return }
        if trackedWrites > 0 { unsentBytes = Self.bufferedBytes(context) }
        let since = softLimitSince
        if outputLimitReached(client: client, replyBytes: output.readableBytes, closingNow: true, context: context) {
            return closeForOutputLimit(client: client, context: context)
        }
        // Still over, not for long enough yet (the streak restarted meanwhile): look again.
        if softLimitSince != 0 && softLimitSince == since && softLimitTimer == nil {
            armSoftLimitTimer(seconds: limits.outputLimit(client.bufferClass).softSeconds, context: context)
        }
    }

    /// Frees the client at once, dropping every reply not yet written (Redis frees the
    /// client's buffers with it).
    private func closeForOutputLimit(client: ClientSession, context: ChannelHandlerContext) {
        closing = true
        output.clear()
        pending = nil
        softLimitTimer?.cancel()
        softLimitTimer = nil
        server.clients.remove(client)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    static func describe(_ address: SocketAddress?) -> String {
        guard let address else { return "?:0" }
        switch address {
        case .v4, .v6:
            return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .unixDomainSocket:
            return address.pathname ?? "/unixsocket:0"
        }
    }
}

extension Int {
    /// The smallest power of two at least this large (ByteBuffer's capacity steps).
    var nextPowerOfTwo: Int {
        self <= 1 ? 1 : 1 << (Int.bitWidth - (self - 1).leadingZeroBitCount)
    }
}
