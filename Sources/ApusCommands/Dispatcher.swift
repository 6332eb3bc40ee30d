import ApusRESP
import ApusStore
import NIOCore
import Synchronization

/// Runs commands: the generic checks, in Redis's order and driven by the table's flags
/// (lookup → arity → auth → call), then statistics and the slow log. Handlers never repeat
/// these checks.
public enum Dispatcher {
    /// Executes one parsed command for `client`, appending its reply to `reply` (tests and
    /// one-off callers; connections reuse one context per read burst).
    public static func execute(_ args: CommandArguments, client: ClientSession, server: ServerContext,
                               reply: inout ReplyWriter) {
        var context = CommandContext(reply: reply, args: args, client: client, server: server, now: 0)
        context.resetClocks()
        reply = ReplyWriter(buffer: ByteBuffer(), version: client.resp)
        execute(&context)
        reply = context.reply
    }

    /// Executes the command in `context.args`, appending its reply to `context.reply`.
    @inlinable
    public static func execute(_ context: inout CommandContext) {
        let args = context.args
        guard args.count > 0 else { return }
        let client = context.client
        let server = context.server
        client.commandsProcessed &+= 1
        let worker = context.worker
        worker.commandsProcessed &+= 1

        guard var ref = server.commands.lookupRef(args[0]), ref._withUnsafeGuaranteedRef({ $0.isRegistered }) else {
            client.transaction?.aborted = true
            return reject(bytes: unknownCommand(args), worker: worker, reply: &context.reply)
        }
        // Containers (CONFIG, CLIENT, ...) dispatch on their subcommand.
        if ref._withUnsafeGuaranteedRef({ $0.isContainer }), args.count >= 2 {
            let container = ref.takeUnretainedValue()
            guard let sub = CommandName(args[1]).flatMap({ container.subcommandRefs[$0] }),
                  sub._withUnsafeGuaranteedRef({ $0.isRegistered }) else {
                let message = Array("ERR unknown subcommand '".utf8) + args[1].cStringPrefix(128)
                    + Array("'. Try \(container.spec.name.uppercased()) HELP.".utf8)
                client.transaction?.aborted = true
                return reject(bytes: message, worker: worker, reply: &context.reply)
            }
            ref = sub
        }
        ref._withUnsafeGuaranteedRef { command in
            run(command, ref: ref, client: client, server: server, worker: worker, context: &context)
        }
        // A reply buffer that grew (big replies piling up in one pipelined burst) is client
        // memory right away, not only when the burst ends: eviction must not mistake it for data.
        let replyCapacity = context.reply.buffer.capacity
        if replyCapacity != client.memory.replyBufferSize {
            client.memory.replyBufferSize = replyCapacity
            server.clientMemory.update(client)
        }
        // Redis serves clients blocked on keys this command made ready once it has completed
        // (a transaction or script: once it has completed as a whole).
        if server.blocking.hasReadyKeys && !context.reprocessingBlocked && !ExclusiveSection.isActive {
            server.blocking.serveReadyKeys(server: server, worker: worker)
        }
        // Keys changed under BCAST tracking prefixes go out once the command is complete.
        if server.tracking.broadcastPending.load(ordering: .relaxed) && !ExclusiveSection.isActive {
            server.tracking.broadcastPendingKeys()
        }
    }

    /// Client-side caching after a command: remember the keys a tracking client read, and
    /// forget CLIENT CACHING's one-command override (kept through MULTI and by CLIENT itself).
    @usableFromInline
    static func afterTrackedCommand(_ command: Command, _ context: inout CommandContext) {
        let client = context.client
        // A read-only script command itself remembers nothing: the reads it makes do.
        if client.trackingMode == .keys && command.flags.contains(.readonly) && !TrackingCommands.isScriptCall(command) {
            TrackingCommands.rememberKeys(command, &context)
        }
        if client.onBehalfOf == nil && client.trackingCaching && client.queuedCommands < 0
            && (command.parent ?? command).spec.name != "client" {
            client.trackingCaching = false
        }
    }

    /// The checks that need the command, then the call (or, after MULTI, the queuing).
    @inlinable
    static func run(_ command: Command, ref: Unmanaged<Command>, client: ClientSession, server: ServerContext,
                    worker: Worker, context: inout CommandContext) {
        let args = context.args
        let arity = command.arity
        if (arity > 0 && args.count != arity) || args.count < -arity {
            return refuse(command, "ERR wrong number of arguments for '\(command.spec.fullName)' command",
                          client: client, server: server, worker: worker, reply: &context.reply)
        }
        let flags = command.flags
        if !client.authenticated && !flags.contains(.noAuth) {
            return refuse(command, "NOAUTH Authentication required.", client: client, server: server, worker: worker, reply: &context.reply)
        }
        if flags.contains(.protected) && !protectedAllowed(command, client: client, server: server) {
            let (name, option) = command.spec.name == "debug" ? ("DEBUG", "enable-debug-command") : ("MODULE", "enable-module-command")
            return refuse(command, "ERR \(name) command not allowed. If the \(option) option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
                          client: client, server: server, worker: worker, reply: &context.reply)
        }
        // After MULTI (an Int test: no reference counting on the hot path).
        let inTransaction = client.queuedCommands >= 0
        if inTransaction && flags.contains(.noMulti) {
            return refuse(command, "ERR Command not allowed inside a transaction", client: client, server: server,
                          worker: worker, reply: &context.reply)
        }
        // maxmemory and database quotas: evict first; refuse commands that may grow memory
        // when nothing evictable is left (Redis's performEvictions in processCommand). Inside
        // a transaction or script nothing is evicted: the outer command did that.
        if server.eviction.enabled.load(ordering: .relaxed), !ExclusiveSection.isActive,
           let refusal = memoryRefusal(command, client: client, server: server, worker: worker, now: context.now) {
            return refuse(command, refusal, client: client, server: server, worker: worker, reply: &context.reply)
        }
        // A script running past busy-reply-threshold: only allow-busy commands (SCRIPT KILL, ...).
        if ScriptingCommands.busyScripts.load(ordering: .relaxed) != 0 || worker.servingWhileBusy,
           !flags.contains(.allowBusy), let refusal = ScriptingCommands.busyRefusal(server: server, worker: worker) {
            return refuse(command, refusal, client: client, server: server, worker: worker, reply: &context.reply)
        }
        // A RESP2 client in Pub/Sub mode reads pushed messages: only the subscribe family,
        // PING, QUIT and RESET may run (Redis's processCommand).
        if client.inRESP2SubscribedMode && !PubSubCommands.allowedWhileSubscribed(command) {
            return refuse(command, "ERR Can't execute '\(command.spec.fullName)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                          client: client, server: server, worker: worker, reply: &context.reply)
        }
        if inTransaction && command.transactionRole == .queued {
            return queue(ref, client: client, context: &context)
        }
        call(command, ref: ref, client: client, server: server, worker: worker, context: &context)
    }

    /// Runs a command whose checks passed (directly, or when EXEC runs what MULTI queued):
    /// the handler, then statistics and the slow log.
    @inlinable
    static func call(_ command: Command, ref: Unmanaged<Command>, client: ClientSession, server: ServerContext,
                     worker: Worker, context: inout CommandContext) {
        guard let handler = command.handler else {
            // A container called without its subcommand fails arity above; unreachable for the generated table.
            return reject("ERR wrong number of arguments for '\(command.spec.fullName)' command", worker: worker, reply: &context.reply)
        }
        let args = context.args
        let flags = command.flags

        // Set before the call: CLIENT INFO/LIST show the running command as cmd=.
        client.lastCommandRef = ref
        let start = context.clockNanos
        // Commands of a transaction or script all see the time it started at (Redis's
        // command time snapshot).
        if start &- context.nowReadAtNanos > 1_000_000 && !ExclusiveSection.isActive {
            context.now = currentTimeMillis()
            context.nowReadAtNanos = start
        }
        let errorsBefore = context.reply.errorCount
        let replyStart = context.reply.buffer.writerIndex
        handler(&context)
        if client.trackingMode != .off || client.trackingCaching { afterTrackedCommand(command, &context) }
        let end = monotonicNanos()
        context.clockNanos = end
        let micros = Int((end &- start) / 1000)

        let c = counter(command, worker)
        // A command that blocked is counted when it is finally served or times out (Redis
        // counts the call that completes, not the one that blocked).
        if context.blockedAgain || (!context.reprocessingBlocked && client.blockedOn != nil) { return }
        c.pointee.calls &+= 1
        c.pointee.microseconds &+= micros
        if server.latencyTracking.load(ordering: .relaxed) {
            // Redis records the microsecond duration times 1000 (ns at µs resolution).
            worker.recordLatency(command.id, nanoseconds: Int64(micros) &* 1000)
        }
        if context.reply.errorCount != errorsBefore {
            c.pointee.failedCalls &+= 1
            recordErrorCode(reply: context.reply, from: replyStart, worker: worker)
        }
        let threshold = server.slowlogThresholdMicros.load(ordering: .relaxed)
        if threshold >= 0 && micros >= threshold && !flags.contains(.skipSlowlog) {
            server.slowlog.add(args: args, microseconds: micros, timestamp: Int(context.now / 1000), client: client,
                               maxLength: server.settings.slowlogMaxLength)
        }
    }

    /// Queues a command after MULTI.
    @usableFromInline
    static func queue(_ ref: Unmanaged<Command>, client: ClientSession, context: inout CommandContext) {
        guard let transaction = client.transaction else { return }
        transaction.queue(ref, context.args, flags: ref.takeUnretainedValue().flags)
        client.queuedCommands = transaction.count
        client.queuedBytes = transaction.memory
        context.reply.simpleString("QUEUED")
    }

    /// Refuses a command that failed a generic check (Redis's rejectCommand): counted as
    /// rejected; after MULTI it also dooms the transaction, and a refused EXEC discards it.
    @usableFromInline
    static func refuse(_ command: Command, _ message: String, client: ClientSession, server: ServerContext,
                       worker: Worker, reply: inout ReplyWriter) {
        counter(command, worker).pointee.rejectedCalls &+= 1
        guard let transaction = client.transaction else { return reject(message, worker: worker, reply: &reply) }
        transaction.aborted = true
        if command.transactionRole == .exec {
            TransactionCommands.discardTransaction(client, server: server)
            let reason = message.hasPrefix("-") ? String(message.dropFirst()) : message
            return reject("EXECABORT Transaction discarded because of: \(reason)", worker: worker, reply: &reply)
        }
        reject(message, worker: worker, reply: &reply)
    }

    @inlinable
    static func counter(_ command: Command, _ worker: Worker) -> UnsafeMutablePointer<CommandCounters> {
        precondition(command.id < worker.commandCount)
        return worker.counters + command.id
    }

    /// Runs eviction for maxmemory (every command, as Redis) and for the client's database
    /// quota (commands that may grow memory); returns the OOM error when a `denyoom` command
    /// must be refused.
    @usableFromInline
    static func memoryRefusal(_ command: Command, client: ClientSession, server: ServerContext, worker: Worker,
                              now: Int64) -> String? {
        let evictor = server.eviction
        let outcome = evictor.performEvictions(server, worker: worker, nowMillis: now)
        var mayGrow = command.flags.contains(.denyoom)
        if let transaction = client.transaction {
            switch command.transactionRole {
            // EXEC may grow memory when a queued command may.
            case .exec: mayGrow = transaction.flags.contains(.denyoom)
            case .discard, .leaves: break
            // Queuing itself takes memory without limit: refused too (Redis's processCommand).
            case .queued, .immediate: mayGrow = true
            }
        }
        guard mayGrow else { return nil }
        if outcome == .failed { return "OOM command not allowed when used memory > 'maxmemory'." }
        if evictor.enforceQuota(server, database: client.db, worker: worker, nowMillis: now) == .failed {
            return "OOM command not allowed when used memory > 'db-maxmemory' of database \(client.db)."
        }
        return nil
    }

    /// `enable-debug-command` / `enable-module-command`: yes, no, or local (loopback clients only).
    @usableFromInline
    static func protectedAllowed(_ command: Command, client: ClientSession, server: ServerContext) -> Bool {
        let option = command.spec.name == "debug" ? "enable-debug-command" : "enable-module-command"
        switch server.config.string(option) {
        case "yes": return true
        case "local":
            let address = client.remoteAddress
            return address.hasPrefix("127.") || address.hasPrefix("::1") || address.hasPrefix("/")
        default: return false
        }
    }

    /// Redis's reply for a command name it does not know, byte for byte: C-string views of
    /// the name and of the first arguments, up to 128 bytes of argument text.
    public static func unknownCommand(_ args: CommandArguments) -> [UInt8] {
        var list: [UInt8] = []
        var i = 1
        while i < args.count && list.count < 128 {
            list += [UInt8(ascii: "'")] + args[i].cStringPrefix(128 - list.count) + Array("' ".utf8)
            i += 1
        }
        return Array("ERR unknown command '".utf8) + args[0].cStringPrefix(128)
            + Array("', with args beginning with: ".utf8) + list
    }

    @usableFromInline
    static func reject(bytes message: [UInt8], worker: Worker, reply: inout ReplyWriter) {
        reply.error(bytes: message)
        let code = message.prefix { $0 != 0x20 }
        worker.recordError(code: String(decoding: code, as: UTF8.self))
    }

    @usableFromInline
    static func reject(_ message: String, worker: Worker, reply: inout ReplyWriter) {
        reject(bytes: Array(message.utf8), worker: worker, reply: &reply)
    }

    /// Reads back the error code a handler wrote, for INFO errorstats.
    @usableFromInline
    static func recordErrorCode(reply: ReplyWriter, from start: Int, worker: Worker) {
        let view = reply.buffer.getBytes(at: start, length: min(64, reply.buffer.writerIndex - start)) ?? []
        guard let dash = view.firstIndex(of: UInt8(ascii: "-")) else { return worker.recordError(code: "ERR") }
        let rest = view[(dash + 1)...]
        let end = rest.firstIndex { $0 == 0x20 || $0 == 0x0D } ?? rest.endIndex
        worker.recordError(code: String(decoding: rest[rest.startIndex..<end], as: UTF8.self))
    }
}
