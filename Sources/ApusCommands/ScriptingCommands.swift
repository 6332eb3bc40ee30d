import ApusConfig
import ApusLua
import ApusRESP
import ApusStore
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// EVAL EVALSHA EVAL_RO EVALSHA_RO SCRIPT (Redis 7.2's eval.c and script.c semantics).
///
/// One Lua interpreter per server, used only inside an `ExclusiveSection`: scripts run one at
/// a time in the process, and every shard a script's commands lock stays locked until it
/// ends, so scripts are atomic even when they touch keys they never declared. The section
/// mutex is also what makes the (thread-unsafe) interpreter safe to share between event loops.
///
/// While a script runs past `busy-reply-threshold`, other clients get -BUSY from the
/// dispatcher (`busyRefusal`) and SCRIPT KILL can stop it until it writes.
@usableFromInline
enum ScriptingCommands {
    static func register(into registry: CommandRegistry) {
        registry.register("eval") { eval(&$0, sha: false, readOnly: false) }
        registry.register("evalsha") { eval(&$0, sha: true, readOnly: false) }
        registry.register("eval_ro") { eval(&$0, sha: false, readOnly: true) }
        registry.register("evalsha_ro") { eval(&$0, sha: true, readOnly: true) }
        registry.register("script|load", scriptLoad)
        registry.register("script|exists", scriptExists)
        registry.register("script|flush", scriptFlush)
        registry.register("script|kill", scriptKill)
        registry.register("script|help", scriptHelp)
    }

    // MARK: EVAL family

    static func eval(_ c: inout CommandContext, sha: Bool, readOnly: Bool) {
        // EVALSHA answers NOSCRIPT for a digest of the wrong length before anything else.
        if sha && c.args[1].count != 40 { return c.reply.error("NOSCRIPT No matching script. Please use EVAL.") }
        guard let numkeys = parseInteger(c.args[2]) else { return c.notInteger() }
        if numkeys > c.args.count - 3 { return c.reply.error("ERR Number of keys can't be greater than number of args") }
        if numkeys < 0 { return c.reply.error("ERR Number of keys can't be negative") }
        let scripting = ScriptingState.of(c.server)
        ExclusiveSection.run {
            guard let digest = sha ? ScriptDigest(hex: c.args[1]) : ScriptDigest(body: c.args[1]) else {
                return c.reply.error("NOSCRIPT No matching script. Please use EVAL.")
            }
            var script = scripting.scripts[digest]
            if script == nil {
                if sha { return c.reply.error("NOSCRIPT No matching script. Please use EVAL.") }
                switch scripting.create(body: c.args[1], digest: digest) {
                case .success(let created): script = created
                case .failure(let error): return c.reply.error(error.message)
                }
            }
            guard let script else { return }
            scripting.run(script, &c, keys: 3..<(3 + numkeys), arguments: (3 + numkeys)..<c.args.count, readOnly: readOnly)
        }
    }

    // MARK: SCRIPT

    static func scriptLoad(_ c: inout CommandContext) {
        let scripting = ScriptingState.of(c.server)
        ExclusiveSection.run {
            let digest = ScriptDigest(body: c.args[2])
            if scripting.scripts[digest] == nil, case .failure(let error) = scripting.create(body: c.args[2], digest: digest) {
                return c.reply.error(error.message)
            }
            c.reply.bulk(digest.hex)
        }
    }

    static func scriptExists(_ c: inout CommandContext) {
        let scripting = ScriptingState.of(c.server)
        ExclusiveSection.run {
            c.reply.arrayHeader(c.args.count - 2)
            for i in 2..<c.args.count {
                let found = ScriptDigest(hex: c.args[i]).map { scripting.scripts[$0] != nil } ?? false
                c.reply.integer(found ? 1 : 0)
            }
        }
    }

    static func scriptFlush(_ c: inout CommandContext) {
        // SYNC or ASYNC: the interpreter is replaced either way (freeing it is quick).
        if c.args.count > 3 || (c.args.count == 3 && !c.args.isToken(2, "sync") && !c.args.isToken(2, "async")) {
            return c.reply.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
        }
        let scripting = ScriptingState.of(c.server)
        ExclusiveSection.run { scripting.flush() }
        c.reply.ok()
    }

    /// Never enters the section: it must reach a script that holds it.
    static func scriptKill(_ c: inout CommandContext) {
        let scripting = ScriptingState.of(c.server)
        // A busy function is FUNCTION KILL's (Redis's scriptKill checks writes first).
        if scripting.isTimedOut && !scripting.hasWritten && FunctionsState.isRunningFunction(c.server) {
            return c.reply.error(functionBusyMessage)
        }
        switch scripting.requestKill() {
        case .notBusy: c.reply.error("NOTBUSY No scripts in execution right now.")
        case .unkillable:
            c.reply.error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
        case .killed: c.reply.ok()
        }
    }

    static func scriptHelp(_ c: inout CommandContext) {
        let lines: [StaticString] = [
            "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
            "HELP",
            "    Print this help.",
        ]
        c.reply.arrayHeader(lines.count)
        for line in lines { c.reply.simpleString(line) }
    }

    // MARK: BUSY

    /// Scripts past their busy threshold, process-wide (the dispatcher's fast-path check).
    @usableFromInline static let busyScripts = Atomic<Int>(0)

    /// The -BUSY refusal for a command arriving while one of `server`'s scripts is past its
    /// threshold, or nil (no busy script here, or the caller is the script itself).
    /// A thread serving its other connections while held by a busy script refuses even when
    /// the script ended meanwhile (it runs nothing nested inside the command it is holding).
    @usableFromInline
    static func busyRefusal(server: ServerContext, worker: Worker) -> String? {
        if worker.servingWhileBusy { return FunctionsState.isRunningFunction(server) ? functionBusyMessage : busyMessage }
        if ExclusiveSection.isActive { return nil }
        guard ScriptingState.existing(server)?.isTimedOut == true else { return nil }
        return FunctionsState.isRunningFunction(server) ? functionBusyMessage : busyMessage
    }

    static let busyMessage = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    /// The same for a function (Redis's slowscripterr).
    static let functionBusyMessage = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
}

extension ServerContext {
    /// Whether one of this server's scripts runs past busy-reply-threshold (other clients
    /// get -BUSY).
    public var scriptIsBusy: Bool {
        ScriptingCommands.busyScripts.load(ordering: .relaxed) != 0 && ScriptingState.existing(self)?.isTimedOut == true
    }

    /// Shutdown: stops a running script even after it wrote (Redis exits from inside it).
    public func abortRunningScript() {
        ScriptingState.existing(self)?.forceKill()
    }
}

/// A script's SHA1 (the script cache key), kept as its 20 bytes: looking a digest up
/// allocates nothing.
struct ScriptDigest: Hashable {
    let high: UInt64
    let middle: UInt64
    let low: UInt32

    init(body: UnsafeRawBufferPointer) {
        let digest = SHA1.hash(body)
        var words = (UInt64(0), UInt64(0), UInt32(0))
        for i in 0..<8 { words.0 = words.0 << 8 | UInt64(digest[i]) }
        for i in 8..<16 { words.1 = words.1 << 8 | UInt64(digest[i]) }
        for i in 16..<20 { words.2 = words.2 << 8 | UInt32(digest[i]) }
        (high, middle, low) = words
    }

    /// From a client's 40 hex digits, either case (Redis's lookup is case-insensitive); nil
    /// when they are not 40 hex digits (no script can have that digest).
    init?(hex raw: UnsafeRawBufferPointer) {
        guard raw.count == 40 else { return nil }
        var words = (UInt64(0), UInt64(0), UInt32(0))
        for i in 0..<40 {
            let c = raw[i]
            let nibble: UInt8
            switch c {
            case 0x30...0x39: nibble = c &- 0x30
            case 0x61...0x66: nibble = c &- 0x61 &+ 10
            case 0x41...0x46: nibble = c &- 0x41 &+ 10
            default: return nil
            }
            if i < 16 { words.0 = words.0 << 4 | UInt64(nibble) }
            else if i < 32 { words.1 = words.1 << 4 | UInt64(nibble) }
            else { words.2 = words.2 << 4 | UInt32(nibble) }
        }
        (high, middle, low) = words
    }

    /// The 40 lowercase hex digits.
    var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8](repeating: 0, count: 40)
        for i in 0..<16 { bytes[i] = digits[Int(high >> UInt64(60 - 4 * i) & 15)] }
        for i in 0..<16 { bytes[16 + i] = digits[Int(middle >> UInt64(60 - 4 * i) & 15)] }
        for i in 0..<8 { bytes[32 + i] = digits[Int(low >> UInt32(28 - 4 * i) & 15)] }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Script flags from a `#!lua flags=...` shebang (Redis's SCRIPT_FLAG_*).
struct ScriptFlags: OptionSet {
    let rawValue: Int
    static let noWrites = ScriptFlags(rawValue: 1 << 0)
    static let allowOOM = ScriptFlags(rawValue: 1 << 1)
    static let allowStale = ScriptFlags(rawValue: 1 << 2)
    static let noCluster = ScriptFlags(rawValue: 1 << 3)
    /// No shebang: the pre-7.0 behaviour (Redis's SCRIPT_FLAG_EVAL_COMPAT_MODE).
    static let compatMode = ScriptFlags(rawValue: 1 << 4)
    static let allowCrossSlot = ScriptFlags(rawValue: 1 << 5)

    static let names: [(String, ScriptFlags)] = [
        ("no-writes", .noWrites), ("allow-oom", .allowOOM), ("allow-stale", .allowStale),
        ("no-cluster", .noCluster), ("allow-cross-slot-keys", .allowCrossSlot),
    ]

    struct ParseError: Error { let message: String }

    /// Parses the shebang line of `body`, if any (evalExtractShebangFlags): the flags and the
    /// length of the line (left out when compiling, its newline kept for line numbers).
    static func parse(_ body: UnsafeRawBufferPointer) -> Result<(ScriptFlags, Int), ParseError> {
        guard body.count >= 2, body[0] == UInt8(ascii: "#"), body[1] == UInt8(ascii: "!") else {
            return .success((.compatMode, 0))
        }
        guard let newline = body.firstIndex(of: 0x0A) else { return .failure(ParseError(message: "Invalid script shebang")) }
        let line = UnsafeRawBufferPointer(rebasing: body[..<newline])
        guard let parts = splitWords(line), !parts.isEmpty else {
            return .failure(ParseError(message: "Invalid engine in script shebang"))
        }
        guard parts[0] == "#!lua" else {
            return .failure(ParseError(message: "Unexpected engine in script shebang: \(parts[0])"))
        }
        var flags: ScriptFlags = []
        for part in parts.dropFirst() {
            guard part.hasPrefix("flags=") else {
                return .failure(ParseError(message: "Unknown lua shebang option: \(part)"))
            }
            let list = part.dropFirst(6)
            if list.isEmpty { continue }
            for name in list.split(separator: ",", omittingEmptySubsequences: false) {
                guard let flag = names.first(where: { $0.0 == name })?.1 else {
                    return .failure(ParseError(message: "Unexpected flag in script shebang: \(name)"))
                }
                flags.insert(flag)
            }
        }
        return .success((flags, newline))
    }

    /// sdssplitargs for the shebang line (quotes allowed); nil on unbalanced quotes.
    static func splitWords(_ line: UnsafeRawBufferPointer) -> [String]? {
        var scratch = [UInt8](repeating: 0, count: line.count + 1)
        var ranges: [(Int, Int)] = []
        let balanced = scratch.withUnsafeMutableBytes { out in
            splitArguments(line, into: out.baseAddress!) { ranges.append(($0, $1)) }
        }
        guard balanced else { return nil }
        return ranges.map { String(decoding: scratch[$0.0..<$0.1], as: UTF8.self) }
    }
}

/// A script in the cache.
final class CachedScript {
    let digest: ScriptDigest
    /// "f_<sha>", the function's name in the interpreter.
    let functionName: String
    let flags: ScriptFlags
    let bodyBytes: Int

    init(digest: ScriptDigest, flags: ScriptFlags, bodyBytes: Int) {
        self.digest = digest
        self.functionName = "f_" + digest.hex
        self.flags = flags
        self.bodyBytes = bodyBytes
    }
}

/// One server's scripting state: the interpreter, the script cache, and the running script.
final class ScriptingState: @unchecked Sendable {
    // Touched only inside an ExclusiveSection.
    private(set) var engine: LuaEngine
    var scripts: [ScriptDigest: CachedScript] = [:]
    /// Owned by the server context (never a weak reference: one would put every retain and
    /// release of the context on the runtime's slow path).
    unowned(unsafe) let server: ServerContext
    /// One script client per event loop (Redis's lua_client; commands' statistics go to the
    /// caller's thread).
    private var scriptClients: [Int: ClientSession] = [:]
    var scratch = ByteBuffer()

    // The running script, read by other threads (SCRIPT KILL, the dispatcher's BUSY check).
    // Internal: FCALL (FunctionCommands.swift) runs functions with the same bookkeeping.
    let running = Atomic<Bool>(false)
    let timedOut = Atomic<Bool>(false)
    let killRequested = Atomic<Bool>(false)
    let wroteData = Atomic<Bool>(false)

    /// `busy-reply-threshold`, read live at every script start.
    let thresholdKey: ConfigKey

    init(server: ServerContext) {
        guard let engine = LuaEngine() else { fatalError("cannot create the Lua interpreter") }
        self.engine = engine
        self.server = server
        self.thresholdKey = server.config.key("busy-reply-threshold")
    }

    /// The scripting state of `server`.
    @inline(__always)
    static func of(_ server: ServerContext) -> ScriptingState { server.scripting }

    /// The same (kept for the callers that only look at a running script).
    @inline(__always)
    static func existing(_ server: ServerContext) -> ScriptingState? { server.scripting }

    var isTimedOut: Bool { running.load(ordering: .relaxed) && timedOut.load(ordering: .relaxed) }

    struct CreateError: Error { let message: String }

    /// Compiles and caches a script (luaCreateFunction).
    func create(body: UnsafeRawBufferPointer, digest: ScriptDigest) -> Result<CachedScript, CreateError> {
        let flags: ScriptFlags
        let skip: Int
        switch ScriptFlags.parse(body) {
        case .success(let parsed): (flags, skip) = parsed
        case .failure(let error): return .failure(CreateError(message: "ERR " + error.message))
        }
        let script = CachedScript(digest: digest, flags: flags, bodyBytes: body.count)
        if let error = engine.load(name: script.functionName, body: body, skip: skip) {
            return .failure(CreateError(message: "ERR Error compiling script (new function): " + error))
        }
        scripts[digest] = script
        return .success(script)
    }

    func flush() {
        scripts.removeAll()
        if let fresh = LuaEngine() { engine = fresh }
    }

    enum KillOutcome { case notBusy, unkillable, killed }

    func requestKill() -> KillOutcome {
        guard isTimedOut else { return .notBusy }
        if wroteData.load(ordering: .relaxed) { return .unkillable }
        killRequested.store(true, ordering: .relaxed)
        return .killed
    }

    /// SHUTDOWN NOSAVE: stops the running script even after it wrote.
    func forceKill() {
        guard running.load(ordering: .relaxed) else { return }
        killRequested.store(true, ordering: .relaxed)
    }

    func scriptClient(for caller: ClientSession, server: ServerContext) -> ClientSession {
        if let client = scriptClients[caller.worker.index] { return client }
        let client = ClientSession(id: server.clients.makeID(), remoteAddress: "", localAddress: "", worker: caller.worker,
                                   authenticated: true, now: currentTimeMillis(), keyspace: server.keyspace)
        scriptClients[caller.worker.index] = client
        return client
    }

    /// Runs a cached script for the caller in `c` (scriptPrepareForRun + luaCallFunction).
    func run(_ script: CachedScript, _ c: inout CommandContext, keys: Range<Int>, arguments: Range<Int>, readOnly ro: Bool) {
        let server = c.server
        let flags = script.flags
        let compat = flags.contains(.compatMode)
        // Redis's pre_command_oom_state: over maxmemory with nothing left to evict.
        let overMemory = server.eviction.enabled.load(ordering: .relaxed)
            && server.eviction.performEvictions(server, worker: c.worker, nowMillis: c.now) == .failed
        if !compat {
            if !flags.contains(.noWrites) && ro {
                return c.reply.error("ERR Can not execute a script with write flag using *_ro command.")
            }
            if overMemory && !flags.contains(.allowOOM) && !flags.contains(.noWrites) {
                return c.reply.error("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'")
            }
        }
        let client = scriptClient(for: c.client, server: server)
        client.select(c.client.db, in: server.keyspace)
        client.resp = .resp2
        // Client-side caching sees the script's reads and writes as the caller's.
        client.onBehalfOf = c.client
        client.trackingMode = c.client.trackingMode
        client.trackingCaching = c.client.trackingCaching
        defer {
            client.onBehalfOf = nil
            client.trackingMode = .off
            client.trackingCaching = false
        }
        let run = ScriptRun(state: self, client: client, server: server, worker: c.worker, now: c.now,
                            nowReadAtNanos: c.nowReadAtNanos,
                            readOnly: ro || (!compat && flags.contains(.noWrites)),
                            allowOOM: !compat && flags.contains(.allowOOM), overMemory: overMemory,
                            thresholdMillis: server.config.int(thresholdKey))
        run.scratch = scratch
        scratch = ByteBuffer()
        running.store(true, ordering: .relaxed)
        killRequested.store(false, ordering: .relaxed)
        wroteData.store(false, ordering: .relaxed)
        timedOut.store(false, ordering: .relaxed)
        defer {
            if timedOut.load(ordering: .relaxed) { ScriptingCommands.busyScripts.subtract(1, ordering: .relaxed) }
            timedOut.store(false, ordering: .relaxed)
            running.store(false, ordering: .relaxed)
        }
        let failed = engine.eval(name: script.functionName, args: c.args, keys: keys, arguments: arguments,
                                 callerResp: c.client.resp, hookInterval: run.thresholdMillis > 0 ? 100_000 : 0,
                                 host: run) { bytes in
            c.reply.buffer.writeBytes(bytes)
        }
        scratch = run.scratch
        if failed { c.reply.errorCount &+= 1 }
    }

    // Called by ScriptRun.
    func noteWrite() { wroteData.store(true, ordering: .relaxed) }
    var hasWritten: Bool { wroteData.load(ordering: .relaxed) }
    var killWasRequested: Bool { killRequested.load(ordering: .relaxed) }

    func enterTimedOut() {
        guard !timedOut.load(ordering: .relaxed) else { return }
        timedOut.store(true, ordering: .relaxed)
        ScriptingCommands.busyScripts.add(1, ordering: .relaxed)
    }
}

/// One script execution: the host its redis.call / redis.pcall reach (scriptCall's checks,
/// then the command on the script client).
final class ScriptRun: LuaScriptHost {
    unowned let state: ScriptingState
    let client: ClientSession
    let server: ServerContext
    let worker: Worker
    /// The caller's time snapshot: every command of the script sees the time it started at.
    let now: Int64
    let nowReadAtNanos: UInt64
    let readOnly: Bool
    let allowOOM: Bool
    let overMemory: Bool
    let thresholdMillis: Int
    let startNanos: UInt64
    var scratch = ByteBuffer()

    init(state: ScriptingState, client: ClientSession, server: ServerContext, worker: Worker, now: Int64,
         nowReadAtNanos: UInt64, readOnly: Bool, allowOOM: Bool, overMemory: Bool, thresholdMillis: Int) {
        self.state = state
        self.client = client
        self.server = server
        self.worker = worker
        self.now = now
        self.nowReadAtNanos = nowReadAtNanos
        self.readOnly = readOnly
        self.allowOOM = allowOOM
        self.overMemory = overMemory
        self.thresholdMillis = thresholdMillis
        self.startNanos = monotonicNanos()
    }

    func call(_ args: CommandArguments, resp: RESPVersion, reply: inout LuaReplyBuffer) -> Bool {
        guard var ref = server.commands.lookupRef(args[0]), ref._withUnsafeGuaranteedRef({ $0.isRegistered }) else {
            reply.append("Unknown Redis command called from script")
            return true
        }
        if ref._withUnsafeGuaranteedRef({ $0.isContainer }), args.count >= 2 {
            let container = ref.takeUnretainedValue()
            guard let sub = CommandName(args[1]).flatMap({ container.subcommandRefs[$0] }),
                  sub._withUnsafeGuaranteedRef({ $0.isRegistered }) else {
                reply.append("Unknown Redis command called from script")
                return true
            }
            ref = sub
        }
        let command = ref.takeUnretainedValue()
        let arity = command.arity
        if (arity > 0 && args.count != arity) || args.count < -arity {
            reply.append("Wrong number of args calling Redis command from script")
            return true
        }
        let flags = command.flags
        if flags.contains(.noscript) && !server.settings.scriptsMayCallDeniedCommands {
            reply.append("This Redis command is not allowed from script")
            return true
        }
        if readOnly && (flags.contains(.write) || flags.contains(.mayReplicate)) {
            reply.append("Write commands are not allowed from read-only scripts.")
            return true
        }
        if !allowOOM && overMemory && !state.hasWritten && flags.contains(.denyoom) {
            reply.append("-OOM command not allowed when used memory > 'maxmemory'.")
            return true
        }
        if flags.contains(.write) { state.noteWrite() }

        client.resp = resp
        // Hand the buffer over (one owner: no copy-on-write when the command writes).
        var buffer = scratch
        scratch = ByteBuffer()
        buffer.clear()
        var inner = CommandContext(reply: ReplyWriter(buffer: buffer, version: resp), args: args, client: client,
                                   server: server, now: now)
        inner.worker = worker
        inner.clockNanos = monotonicNanos()
        inner.nowReadAtNanos = nowReadAtNanos
        Dispatcher.call(command, ref: ref, client: client, server: server, worker: worker, context: &inner)
        inner.reply.buffer.withUnsafeReadableBytes { reply.append($0) }
        scratch = inner.reply.buffer
        return false
    }

    func shouldKill() -> Bool {
        if !state.isTimedOut {
            let elapsedMillis = Int((monotonicNanos() &- startNanos) / 1_000_000)
            guard thresholdMillis > 0 && elapsedMillis >= thresholdMillis else { return false }
            state.enterTimedOut()
        }
        // Past the threshold this thread serves its other connections between slices of the
        // script (Redis's processEventsWhileBlocked): -BUSY, or SCRIPT KILL and the like.
        ExclusiveSection.serveWhileHeld()
        return state.killWasRequested
    }

    func log(level: Int, message: UnsafeRawBufferPointer) {
        // Redis writes these to its log at the script's level; Apus has no logger in the
        // command layer, so warnings go to stderr like Redis's default logfile "".
        guard level >= 2 else { return }
        let text = String(decoding: message, as: UTF8.self)
        var line = text + "\n"
        line.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}

