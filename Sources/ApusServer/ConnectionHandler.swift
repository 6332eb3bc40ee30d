import ApusCommands
import ApusRESP
import ApusStore
import NIOCore

/// One per connection: parses every complete command in the read buffer, runs each inline on
/// this event loop, appends the replies to one output buffer and flushes once per read burst.
/// Only `ByteBuffer` crosses the pipeline.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ServerContext
    private let worker: Worker
    private let limits: ClientLimits
    /// Holds a `maxclients` slot (released when the connection closes).
    private var admitted = false
    private let parser: RequestParser
    private let queryBufferLimit: Int
    /// Bytes of a command not yet complete, kept across reads.
    private var pending: ByteBuffer?
    private var output: ByteBuffer
    private var client: ClientSession?
    private var closing = false
    /// While the client is blocked (BLPOP, ...): its timeout, and whether its eventual reply
    /// is dropped (it blocked under CLIENT REPLY OFF/SKIP).
    private var blockTimeout: Scheduled<Void>?
    private var dropUnblockReply = false

    init(server: ServerContext, worker: Worker, limits: ClientLimits, allocator: ByteBufferAllocator) {
        self.server = server
        self.worker = worker
        self.limits = limits
        let maxBulk = server.config.int("proto-max-bulk-len")
        // Entries store value lengths in 32 bits: a proto-max-bulk-len above 4 GB is capped
        // here so an oversized bulk gets Redis's protocol error instead of a corrupt entry.
        self.parser = RequestParser(limits: RequestLimits(maxBulkLength: min(maxBulk, Int(UInt32.max) - (1 << 16))))
        self.queryBufferLimit = server.config.int("client-query-buffer-limit")
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
        client = session
        server.clients.add(session)
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
        if let client {
            if let waiter = client.blockedOn { _ = server.blocking.finish(waiter) }
            client.blockedOn = nil
            server.clients.remove(client)
        }
        blockTimeout?.cancel()
        blockTimeout = nil
        client = nil
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
        var run = CommandContext(reply: ReplyWriter(buffer: output, version: client.resp),
                                     args: CommandArguments(UnsafeBufferPointer(start: nil, count: 0)),
                                     client: client, server: server, now: 0)
        run.resetClocks()
        // Redis's lastinteraction (CLIENT LIST idle=, the `timeout` cron), once per read burst.
        client.lastInteractionMillis = run.now
        output = ByteBuffer()
        let consumed = input.withUnsafeReadableBytes { raw -> Int in
            var offset = 0
            while !client.closeAfterReply && client.blockedOn == nil {
                let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                parser.authRequired = !client.authenticated
                switch parser.parse(rest) {
                case .command(let used):
                    // CLIENT LIST's qbuf counts the running command, as Redis's query buffer does.
                    client.queryBufferBytes = rest.count
                    offset &+= used
                    run.args = parser.arguments
                    execute(client: client, context: &run)
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

        if input.readableBytes > 0 && !client.closeAfterReply {
            keepPending(input, context: context)
        }
        client.queryBufferBytes = pending?.readableBytes ?? 0
        if let waiter = client.blockedOn, blockTimeout == nil { startBlocking(waiter, context: context) }
    }

    private func keepPending(_ input: ByteBuffer, context: ChannelHandlerContext) {
        if input.readableBytes > queryBufferLimit {
            // Redis closes clients whose query buffer outgrows client-query-buffer-limit.
            closing = true
            context.close(promise: nil)
            return
        }
        pending = input
    }

    // MARK: Blocking

    /// The client just blocked: arm its timeout. Replies written before it go out now.
    private func startBlocking(_ waiter: BlockedClient, context: ChannelHandlerContext) {
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
        var reply = reply
        if !dropUnblockReply { output.writeBuffer(&reply) }
        dropUnblockReply = false
        if !closing, var input = pending {
            pending = nil
            process(&input, client: client, context: context)
        }
        flush(context: context)
        if client.closeAfterReply, !closing {
            closing = true
            context.close(promise: nil)
        }
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
        flush(context: context)
        if let client, client.closeAfterReply, !closing {
            closing = true
            context.close(promise: nil)
        }
        context.fireChannelReadComplete()
    }

    private func flush(context: ChannelHandlerContext) {
        guard output.readableBytes > 0 else { return }
        worker.netOutputBytes &+= output.readableBytes
        context.writeAndFlush(wrapOutboundOut(output), promise: nil)
        // The write usually completes inside the flush, leaving `output` the only reference to
        // its storage: clearing then reuses it (no allocation per read burst). A pending write
        // makes `clear()` allocate fresh storage instead; an outsized buffer is given back.
        if output.capacity > 1 << 20 {
            output = context.channel.allocator.buffer(capacity: 16 * 1024)
        } else {
            output.clear()
        }
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
