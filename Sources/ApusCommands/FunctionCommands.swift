import ApusLua
import ApusRESP
import ApusStore
import NIOConcurrencyHelpers
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// FUNCTION (LOAD DELETE DUMP RESTORE FLUSH LIST STATS KILL HELP), FCALL and FCALL_RO
/// (Redis 7.2's functions.c and function_lua.c semantics).
///
/// Libraries live in one `FunctionsState` per server, with a Lua interpreter of their own
/// (functions never see EVAL's globals). Everything that touches the libraries or the
/// interpreter runs inside an `ExclusiveSection`, like EVAL; a running function shares
/// EVAL's busy machinery (`ScriptingState`'s running / timed-out / kill flags), so
/// busy-reply-threshold, -BUSY and FUNCTION KILL behave as for scripts.
enum FunctionCommands {
    static func register(into registry: CommandRegistry) {
        registry.register("fcall") { fcall(&$0, readOnly: false) }
        registry.register("fcall_ro") { fcall(&$0, readOnly: true) }
        registry.register("function|load", functionLoad)
        registry.register("function|delete", functionDelete)
        registry.register("function|dump", functionDump)
        registry.register("function|restore", functionRestore)
        registry.register("function|flush", functionFlush)
        registry.register("function|list", functionList)
        registry.register("function|stats", functionStats)
        registry.register("function|kill", functionKill)
        registry.register("function|help", functionHelp)
    }

    /// FUNCTION LOAD's limit on running a library's code (Redis's LOAD_TIMEOUT_MS).
    static let loadTimeoutMillis = 500

    // MARK: FCALL

    static func fcall(_ c: inout CommandContext, readOnly: Bool) {
        let functions = FunctionsState.of(c.server)
        let scripting = ScriptingState.of(c.server)
        ExclusiveSection.run {
            guard let function = functions.current.function(named: c.args[1]) else {
                return c.reply.error("ERR Function not found")
            }
            guard let numkeys = parseInteger(c.args[2]) else { return c.reply.error("ERR Bad number of keys provided") }
            if numkeys > c.args.count - 3 { return c.reply.error("ERR Number of keys can't be greater than number of args") }
            if numkeys < 0 { return c.reply.error("ERR Number of keys can't be negative") }
            scripting.runFunction(function, in: functions, &c, keys: 3..<(3 + numkeys),
                                  arguments: (3 + numkeys)..<c.args.count, readOnly: readOnly)
        }
    }

    // MARK: FUNCTION LOAD / DELETE / FLUSH

    static func functionLoad(_ c: inout CommandContext) {
        var replace = false
        var position = 2
        while position < c.args.count - 1 {
            guard c.args.isToken(position, "replace") else {
                return c.reply.error(bytes: Array("ERR Unknown option given: ".utf8) + c.args[position].cStringPrefix(Int.max))
            }
            replace = true
            position += 1
        }
        let functions = FunctionsState.of(c.server)
        ExclusiveSection.run {
            let code = Array(c.args[position])
            switch functions.create(code: code, replace: replace, into: functions.current, timeoutMillis: loadTimeoutMillis) {
            case .success(let name):
                functions.updateStatistics()
                c.addDirty(1)
                c.reply.bulk(name)
            case .failure(let error):
                c.reply.error(bytes: Array("ERR ".utf8) + error.message)
            }
        }
    }

    static func functionDelete(_ c: inout CommandContext) {
        let functions = FunctionsState.of(c.server)
        ExclusiveSection.run {
            let name = String(decoding: c.args[2], as: UTF8.self)
            guard Array(name.utf8) == Array(c.args[2]), let library = functions.current.libraries[name] else {
                return c.reply.error("ERR Library not found")
            }
            functions.current.unlink(library)
            functions.release(library)
            functions.updateStatistics()
            c.addDirty(1)
            c.reply.ok()
        }
    }

    static func functionFlush(_ c: inout CommandContext) {
        if c.args.count > 3 { return c.subcommandSyntaxError() }
        if c.args.count == 3 && !c.args.isToken(2, "sync") && !c.args.isToken(2, "async") {
            return c.reply.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
        }
        // SYNC or ASYNC: the callbacks are released at once either way (quick).
        let functions = FunctionsState.of(c.server)
        ExclusiveSection.run {
            functions.flush()
            functions.updateStatistics()
        }
        c.addDirty(1)
        c.reply.ok()
    }

    // MARK: FUNCTION LIST / STATS

    static func functionList(_ c: inout CommandContext) {
        var withCode = false
        var pattern: [UInt8]?
        var i = 2
        while i < c.args.count {
            if !withCode && c.args.isToken(i, "withcode") {
                withCode = true
            } else if pattern == nil && c.args.isToken(i, "libraryname") {
                if i >= c.args.count - 1 { return c.reply.error("ERR library name argument was not given") }
                i += 1
                pattern = Array(c.args[i])
            } else {
                return c.reply.error(bytes: Array("ERR Unknown argument ".utf8) + c.args[i].cStringPrefix(Int.max))
            }
            i += 1
        }
        let functions = FunctionsState.of(c.server)
        ExclusiveSection.run {
            var selected = functions.current.ordered
            if let pattern {
                selected = selected.filter { library in
                    pattern.withUnsafeBytes { p in
                        library.nameBytes.withUnsafeBytes { globMatch(pattern: p, string: $0, ignoreCase: true) }
                    }
                }
            }
            c.reply.arrayHeader(selected.count)
            for library in selected {
                c.reply.mapHeader(withCode ? 4 : 3)
                c.reply.bulk("library_name")
                c.reply.bulk(library.name)
                c.reply.bulk("engine")
                c.reply.bulk("LUA")
                c.reply.bulk("functions")
                c.reply.arrayHeader(library.functions.count)
                for function in library.functions {
                    c.reply.mapHeader(3)
                    c.reply.bulk("name")
                    c.reply.bulk(function.name)
                    c.reply.bulk("description")
                    if let description = function.description {
                        description.withUnsafeBytes { c.reply.bulk($0) }
                    } else {
                        c.reply.null()
                    }
                    c.reply.bulk("flags")
                    let names = ScriptFlags.names.filter { function.flags.contains($0.1) }
                    c.reply.setHeader(names.count)
                    for (name, _) in names { c.reply.simpleString(name) }
                }
                if withCode {
                    c.reply.bulk("library_code")
                    library.code.withUnsafeBytes { c.reply.bulk($0) }
                }
            }
        }
    }

    /// Never enters the section: it must answer while a function holds it.
    static func functionStats(_ c: inout CommandContext) {
        let functions = FunctionsState.of(c.server)
        let running = functions.runningSnapshot()
        if running == nil, ScriptingState.existing(c.server)?.isTimedOut == true {
            return c.reply.error(ScriptingCommands.busyMessage)
        }
        c.reply.mapHeader(2)
        c.reply.bulk("running_script")
        if let running {
            c.reply.mapHeader(3)
            c.reply.bulk("name")
            c.reply.bulk(running.name)
            c.reply.bulk("command")
            c.reply.arrayHeader(running.command.count)
            for argument in running.command { argument.withUnsafeBytes { c.reply.bulk($0) } }
            c.reply.bulk("duration_ms")
            c.reply.integer(running.durationMillis)
        } else {
            c.reply.null()
        }
        c.reply.bulk("engines")
        c.reply.mapHeader(1)
        c.reply.bulk("LUA")
        c.reply.mapHeader(2)
        c.reply.bulk("libraries_count")
        c.reply.integer(functions.libraryCount.load(ordering: .relaxed))
        c.reply.bulk("functions_count")
        c.reply.integer(functions.functionCount.load(ordering: .relaxed))
    }

    // MARK: FUNCTION KILL

    /// Never enters the section: it must reach a function that holds it.
    static func functionKill(_ c: inout CommandContext) {
        let scripting = ScriptingState.of(c.server)
        // A busy EVAL script is SCRIPT KILL's (Redis's scriptKill checks writes first).
        if scripting.isTimedOut && !scripting.hasWritten && !FunctionsState.isRunningFunction(c.server) {
            return c.reply.error(ScriptingCommands.busyMessage)
        }
        switch scripting.requestKill() {
        case .notBusy: c.reply.error("NOTBUSY No scripts in execution right now.")
        case .unkillable:
            c.reply.error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
        case .killed: c.reply.ok()
        }
    }

    // MARK: FUNCTION DUMP / RESTORE

    /// RDB_OPCODE_FUNCTION2 and RDB_OPCODE_FUNCTION_PRE_GA.
    static let functionOpcode: UInt8 = 245
    static let preGAOpcode: UInt8 = 246
    /// The RDB version payloads carry (Redis 7.2's RDB_VERSION).
    static let rdbVersion: UInt16 = 11

    static func functionDump(_ c: inout CommandContext) {
        let functions = FunctionsState.of(c.server)
        ExclusiveSection.run {
            let payload = dumpPayload(functions.current.ordered)
            payload.withUnsafeBytes { c.reply.bulk($0) }
        }
    }

    /// Redis's FUNCTION DUMP format: per library RDB_OPCODE_FUNCTION2 and its code as an RDB
    /// string, then the RDB version (2 bytes) and the CRC64 of all that (8 bytes), both
    /// little-endian.
    static func dumpPayload(_ libraries: [FunctionLibrary]) -> [UInt8] {
        var payload: [UInt8] = []
        for library in libraries {
            payload.append(functionOpcode)
            RDBString.append(library.code, to: &payload)
        }
        payload.append(UInt8(rdbVersion & 0xFF))
        payload.append(UInt8(rdbVersion >> 8))
        let crc = CRC64.checksum(payload)
        for i in 0..<8 { payload.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
        return payload
    }

    enum RestorePolicy { case flush, append, replace }

    static func functionRestore(_ c: inout CommandContext) {
        if c.args.count > 4 { return c.subcommandSyntaxError() }
        var policy = RestorePolicy.append
        if c.args.count == 4 {
            if c.args.isToken(3, "append") {
                policy = .append
            } else if c.args.isToken(3, "replace") {
                policy = .replace
            } else if c.args.isToken(3, "flush") {
                policy = .flush
            } else {
                return c.reply.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
            }
        }
        let data = Array(c.args[2])
        guard verifyPayload(data) else { return c.reply.error("ERR DUMP payload version or checksum are wrong") }
        let functions = FunctionsState.of(c.server)
        ExclusiveSection.run {
            let restored = LibraryContext()
            var position = 0
            var failure: [UInt8]?
            while data.count - position > 10 {
                let type = data[position]
                position += 1
                if type == preGAOpcode { failure = Array("Pre-GA function format not supported".utf8); break }
                if type != functionOpcode { failure = Array("given type is not a function".utf8); break }
                guard let code = RDBString.read(data, at: &position) else {
                    failure = Array("Failed loading library payload".utf8)
                    break
                }
                if case .failure(let error) = functions.create(code: code, replace: false, into: restored, timeoutMillis: 0) {
                    failure = error.message
                    break
                }
            }
            if failure == nil {
                switch policy {
                case .flush:
                    functions.flush()
                    functions.current = restored
                case .append, .replace:
                    if let error = functions.current.join(restored, replace: policy == .replace, releasing: functions) {
                        failure = error
                    }
                }
            }
            if let failure {
                functions.release(restored)
                functions.updateStatistics()
                return c.reply.error(bytes: Array("ERR ".utf8) + failure)
            }
            functions.updateStatistics()
            c.addDirty(1)
            c.reply.ok()
        }
    }

    /// Redis's verifyDumpPayload: a footer of the RDB version (at most ours) and the CRC64.
    static func verifyPayload(_ data: [UInt8]) -> Bool {
        guard data.count >= 10 else { return false }
        let footer = data.count - 10
        let version = UInt16(data[footer]) | UInt16(data[footer + 1]) << 8
        guard version <= rdbVersion else { return false }
        let crc = data.withUnsafeBytes { CRC64.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(data.count - 8)])) }
        for i in 0..<8 where data[footer + 2 + i] != UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i))) { return false }
        return true
    }

    // MARK: FUNCTION HELP

    static func functionHelp(_ c: inout CommandContext) {
        c.replyHelp("FUNCTION", [
            "LOAD [REPLACE] <FUNCTION CODE>",
            "    Create a new library with the given library name and code.",
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
            "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
            "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
            "    control how to handle existing libraries (default APPEND):",
            "    * FLUSH: delete all existing libraries.",
            "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
            "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
            "      libraries with the new libraries (notice that even on this option there is a chance of failure",
            "      in case of functions name collision with another library).",
        ])
    }
}

// MARK: Libraries

/// A function of a library.
final class LibraryFunction {
    /// Letters, digits and underscores (FCALL finds it case-insensitively).
    let name: String
    let description: [UInt8]?
    let flags: ScriptFlags
    /// The callback in the functions interpreter.
    let ref: Int32

    init(name: String, description: [UInt8]?, flags: ScriptFlags, ref: Int32) {
        self.name = name
        self.description = description
        self.flags = flags
        self.ref = ref
    }

    /// The lookup key: FCALL's function names are case-insensitive.
    var key: String { String(name.lowercased()) }
}

/// A library: its name (from the shebang), its whole code, and the functions it registered
/// in registration order.
final class FunctionLibrary {
    let name: String
    let code: [UInt8]
    let functions: [LibraryFunction]

    init(name: String, code: [UInt8], functions: [LibraryFunction]) {
        self.name = name
        self.code = code
        self.functions = functions
    }

    var nameBytes: [UInt8] { Array(name.utf8) }
}

/// A set of libraries and the functions they make reachable (Redis's functionsLibCtx).
final class LibraryContext {
    /// By name (case-sensitive).
    private(set) var libraries: [String: FunctionLibrary] = [:]
    /// Load order (what LIST and DUMP walk).
    private(set) var ordered: [FunctionLibrary] = []
    /// By lowercased function name.
    private(set) var functions: [String: LibraryFunction] = [:]

    var functionCount: Int { functions.count }

    func function(named raw: UnsafeRawBufferPointer) -> LibraryFunction? {
        let key = String(decoding: raw.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        return functions[key]
    }

    func link(_ library: FunctionLibrary) {
        for function in library.functions where functions[function.key] == nil { functions[function.key] = function }
        libraries[library.name] = library
        ordered.append(library)
    }

    func unlink(_ library: FunctionLibrary) {
        for function in library.functions where functions[function.key] === function { functions[function.key] = nil }
        libraries[library.name] = nil
        ordered.removeAll { $0 === library }
    }

    /// Moves every library of `source` here (libraryJoin): a name already here fails the
    /// whole join unless `replace`, a function name already here always does. On failure
    /// nothing changes and the message is returned.
    func join(_ source: LibraryContext, replace: Bool, releasing state: FunctionsState) -> [UInt8]? {
        var replaced: [FunctionLibrary] = []
        var failure: [UInt8]?
        for library in source.ordered {
            guard let old = libraries[library.name] else { continue }
            if !replace {
                failure = Array("Library \(library.name) already exists".utf8)
                break
            }
            unlink(old)
            replaced.append(old)
        }
        if failure == nil {
            for library in source.ordered {
                for function in library.functions where functions[function.key] != nil {
                    failure = Array("Function \(function.name) already exists".utf8)
                    break
                }
                if failure != nil { break }
            }
        }
        if let failure {
            for old in replaced { link(old) }
            return failure
        }
        for library in source.ordered {
            source.unlink(library)
            link(library)
        }
        for old in replaced { state.release(old) }
        return nil
    }
}

/// One server's functions: the interpreter, the current libraries, and the function running.
final class FunctionsState: @unchecked Sendable {
    // Touched only inside an ExclusiveSection.
    let engine: LuaFunctionEngine
    var current = LibraryContext()
    /// Owned by the server context (never a weak reference: one would put every retain and
    /// release of the context on the runtime's slow path).
    unowned(unsafe) let server: ServerContext

    // Read by other threads (FUNCTION STATS, INFO, the dispatcher's BUSY check).
    let libraryCount = Atomic<Int>(0)
    let functionCount = Atomic<Int>(0)
    let vmMemory = Atomic<Int>(0)
    private let runningFunction = Atomic<Bool>(false)
    private let runLock = NIOLock()
    private var running: (name: String, args: CommandArguments, startNanos: UInt64)?

    init(server: ServerContext) {
        guard let engine = LuaFunctionEngine() else { fatalError("cannot create the functions' Lua interpreter") }
        self.engine = engine
        self.server = server
        vmMemory.store(engine.memory, ordering: .relaxed)
    }

    /// The functions of `server`.
    @inline(__always)
    static func of(_ server: ServerContext) -> FunctionsState { server.functions }

    @inline(__always)
    static func existing(_ server: ServerContext) -> FunctionsState? { server.functions }

    /// Whether the script `server` runs now is a function (FCALL), not an EVAL script.
    static func isRunningFunction(_ server: ServerContext) -> Bool {
        existing(server)?.runningFunction.load(ordering: .relaxed) == true
    }

    struct CreateError: Error { let message: [UInt8] }

    /// Loads a library into `context` (functionsCreateWithLibraryCtx): its name from the
    /// shebang, its functions from running its code. Returns the library's name.
    func create(code: [UInt8], replace: Bool, into context: LibraryContext, timeoutMillis: Int)
        -> Result<String, CreateError> {
        func fail(_ text: String) -> Result<String, CreateError> { .failure(CreateError(message: Array(text.utf8))) }
        let metadata: LibraryMetadata
        switch LibraryMetadata.parse(code) {
        case .success(let parsed): metadata = parsed
        case .failure(let error): return .failure(error)
        }
        guard LibraryMetadata.isValidName(metadata.name) else {
            return fail("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long")
        }
        let name = String(decoding: metadata.name, as: UTF8.self)
        guard metadata.engine.count == 3, String(decoding: metadata.engine, as: UTF8.self).uppercased() == "LUA" else {
            return .failure(CreateError(message: Array("Engine '".utf8) + metadata.engine + Array("' not found".utf8)))
        }
        let old = context.libraries[name]
        if old != nil && !replace { return fail("Library '\(name)' already exists") }
        if let old { context.unlink(old) }
        let loaded = code.withUnsafeBytes { bytes in
            engine.create(code: UnsafeRawBufferPointer(rebasing: bytes[metadata.codeStart...]), timeoutMillis: timeoutMillis,
                          host: FunctionLoadHost())
        }
        var registered: [LuaRegisteredFunction] = []
        var failure: String?
        switch loaded {
        case .success(let functions): registered = functions
        case .failure(let error): failure = error.message
        }
        if failure == nil && registered.isEmpty { failure = "No functions registered" }
        if failure == nil, let clash = registered.first(where: { context.functions[$0.name.lowercased()] != nil }) {
            failure = "Function \(clash.name) already exists"
        }
        if let failure {
            for function in registered { engine.release(function.ref) }
            if let old { context.link(old) }
            return fail(failure)
        }
        let functions = registered.map {
            LibraryFunction(name: $0.name, description: $0.description, flags: ScriptFlags(functionBits: $0.flagBits),
                            ref: $0.ref)
        }
        context.link(FunctionLibrary(name: name, code: code, functions: functions))
        if let old { release(old) }
        return .success(name)
    }

    /// Releases a library's callbacks (it is no longer reachable).
    func release(_ library: FunctionLibrary) {
        for function in library.functions { engine.release(function.ref) }
    }

    /// Releases every library of a context that is dropped.
    func release(_ context: LibraryContext) {
        for library in context.ordered {
            context.unlink(library)
            release(library)
        }
    }

    func flush() {
        release(current)
        current = LibraryContext()
    }

    func updateStatistics() {
        libraryCount.store(current.ordered.count, ordering: .relaxed)
        functionCount.store(current.functionCount, ordering: .relaxed)
        vmMemory.store(engine.memory, ordering: .relaxed)
    }

    // The running function (FUNCTION STATS reads it from another thread).

    func beginRun(name: String, args: CommandArguments) {
        runLock.withLockVoid { running = (name, args, monotonicNanos()) }
        runningFunction.store(true, ordering: .relaxed)
    }

    func endRun() {
        runningFunction.store(false, ordering: .relaxed)
        // Under the lock: a FUNCTION STATS copying the arguments finishes before they go away.
        runLock.withLockVoid { running = nil }
    }

    struct RunningFunction {
        let name: String
        let command: [[UInt8]]
        let durationMillis: Int
    }

    /// The function running past busy-reply-threshold, if any (Redis's FUNCTION STATS can
    /// only see a script while it is busy).
    func runningSnapshot() -> RunningFunction? {
        guard runningFunction.load(ordering: .relaxed), server.scripting.isTimedOut else { return nil }
        return runLock.withLock {
            guard let running else { return nil }
            var command: [[UInt8]] = []
            for i in 0..<running.args.count { command.append(Array(running.args[i])) }
            return RunningFunction(name: running.name, command: command,
                                   durationMillis: Int((monotonicNanos() &- running.startNanos) / 1_000_000))
        }
    }
}

extension ServerContext {
    /// INFO memory's functions fields: libraries, functions, and the interpreter's bytes
    /// (0 before the first FUNCTION or FCALL command).
    public var functionsInfo: (libraries: Int, functions: Int, vmMemory: Int) {
        guard let state = FunctionsState.existing(self) else { return (0, 0, 0) }
        return (state.libraryCount.load(ordering: .relaxed), state.functionCount.load(ordering: .relaxed),
                state.vmMemory.load(ordering: .relaxed))
    }
}

/// What a library's load-time code may ask of the server: only redis.log.
final class FunctionLoadHost: LuaScriptHost {
    func call(_ args: CommandArguments, resp: RESPVersion, reply: inout LuaReplyBuffer) -> Bool {
        reply.append("Unknown Redis command called from script")
        return true
    }

    func shouldKill() -> Bool { false }

    func log(level: Int, message: UnsafeRawBufferPointer) {
        guard level >= 2 else { return }
        var line = Array(message) + [0x0A]
        line.withUnsafeBytes { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

extension ScriptFlags {
    /// From LuaRegisteredFunction.flagBits (bit i = the i-th of `names`).
    init(functionBits bits: Int) {
        var flags: ScriptFlags = []
        for (i, entry) in ScriptFlags.names.enumerated() where bits & (1 << i) != 0 { flags.insert(entry.1) }
        self = flags
    }
}

/// A library's shebang (functionExtractLibMetaData): `#!<engine> name=<name>`.
struct LibraryMetadata {
    let engine: [UInt8]
    let name: [UInt8]
    /// Where the code after the shebang starts (its newline, kept for line numbers).
    let codeStart: Int

    static func parse(_ code: [UInt8]) -> Result<LibraryMetadata, FunctionsState.CreateError> {
        func fail(_ text: String) -> Result<LibraryMetadata, FunctionsState.CreateError> {
            .failure(FunctionsState.CreateError(message: Array(text.utf8)))
        }
        guard code.count >= 2, code[0] == UInt8(ascii: "#"), code[1] == UInt8(ascii: "!") else {
            return fail("Missing library metadata")
        }
        // The C string ends at a NUL: no newline before it is no newline at all.
        let end = code.firstIndex(of: 0) ?? code.count
        guard let newline = code[..<end].firstIndex(of: 0x0A) else { return fail("Invalid library metadata") }
        guard let parts = code.withUnsafeBytes({ splitParts(UnsafeRawBufferPointer(rebasing: $0[..<newline])) }),
              !parts.isEmpty else {
            return fail("Invalid library metadata")
        }
        let engine = Array(parts[0].dropFirst(2))
        var name: [UInt8]?
        for part in parts.dropFirst() {
            if part.count >= 5, String(decoding: part[0..<5], as: UTF8.self).lowercased() == "name=" {
                if name != nil { return fail("Invalid metadata value, name argument was given multiple times") }
                name = Array(part.dropFirst(5))
                continue
            }
            return .failure(FunctionsState.CreateError(message: Array("Invalid metadata value given: ".utf8)
                + Array(part.prefix { $0 != 0 })))
        }
        guard let name else { return fail("Library name was not given") }
        return .success(LibraryMetadata(engine: engine, name: name, codeStart: newline))
    }

    /// sdssplitargs over the shebang line, byte for byte; nil on unbalanced quotes.
    static func splitParts(_ line: UnsafeRawBufferPointer) -> [[UInt8]]? {
        var scratch = [UInt8](repeating: 0, count: line.count + 1)
        var ranges: [(Int, Int)] = []
        let balanced = scratch.withUnsafeMutableBytes { out in
            splitArguments(line, into: out.baseAddress!) { ranges.append(($0, $1)) }
        }
        guard balanced else { return nil }
        return ranges.map { Array(scratch[$0.0..<$0.1]) }
    }

    /// Letters, digits and underscores, at least one (functionsVerifyName).
    static func isValidName(_ name: [UInt8]) -> Bool {
        !name.isEmpty && name.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x5F
        }
    }
}

/// RDB strings as FUNCTION DUMP / RESTORE carry them: a length (6, 14, 32 or 64 bits) and
/// the bytes; reading also takes the integer and LZF encodings Redis may write.
enum RDBString {
    static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        appendLength(bytes.count, to: &out)
        out.append(contentsOf: bytes)
    }

    static func appendLength(_ length: Int, to out: inout [UInt8]) {
        if length < 1 << 6 {
            out.append(UInt8(length))
        } else if length < 1 << 14 {
            out.append(0x40 | UInt8(length >> 8))
            out.append(UInt8(length & 0xFF))
        } else if length <= Int(UInt32.max) {
            out.append(0x80)
            for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: length >> shift)) }
        } else {
            out.append(0x81)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: length >> shift)) }
        }
    }

    /// A length, or (encoded: true) an encoding type; nil past the end.
    static func readLength(_ data: [UInt8], at position: inout Int) -> (value: Int, encoded: Bool)? {
        guard position < data.count else { return nil }
        let first = data[position]
        position += 1
        switch first >> 6 {
        case 0: return (Int(first & 0x3F), false)
        case 1:
            guard position < data.count else { return nil }
            let value = Int(first & 0x3F) << 8 | Int(data[position])
            position += 1
            return (value, false)
        case 3: return (Int(first & 0x3F), true)
        default:
            let width = first == 0x80 ? 4 : first == 0x81 ? 8 : 0
            guard width > 0, position + width <= data.count else { return nil }
            var value: UInt64 = 0
            for i in 0..<width { value = value << 8 | UInt64(data[position + i]) }
            position += width
            guard value <= UInt64(Int.max) else { return nil }
            return (Int(value), false)
        }
    }

    static func read(_ data: [UInt8], at position: inout Int) -> [UInt8]? {
        guard let (length, encoded) = readLength(data, at: &position) else { return nil }
        if !encoded {
            guard length <= data.count - position else { return nil }
            defer { position += length }
            return Array(data[position..<(position + length)])
        }
        func integer(_ width: Int) -> [UInt8]? {
            guard position + width <= data.count else { return nil }
            var value: UInt64 = 0
            for i in 0..<width { value |= UInt64(data[position + i]) << (8 * UInt64(i)) }
            position += width
            let signed: Int
            switch width {
            case 1: signed = Int(Int8(truncatingIfNeeded: value))
            case 2: signed = Int(Int16(truncatingIfNeeded: value))
            default: signed = Int(Int32(truncatingIfNeeded: value))
            }
            return Array(String(signed).utf8)
        }
        switch length {
        case 0: return integer(1)
        case 1: return integer(2)
        case 2: return integer(4)
        case 3:
            guard let (compressed, _) = readLength(data, at: &position), let (expanded, _) = readLength(data, at: &position),
                  compressed <= data.count - position else { return nil }
            defer { position += compressed }
            return data.withUnsafeBytes {
                LZF.decompress(UnsafeRawBufferPointer(rebasing: $0[position..<(position + compressed)]), length: expanded)
            }
        default: return nil
        }
    }
}

extension ScriptingState {
    /// Runs a function for the caller in `c` (fcallCommandGeneric + scriptPrepareForRun):
    /// the same bookkeeping as an EVAL script, so busy-reply-threshold, -BUSY and
    /// FUNCTION KILL apply to it.
    func runFunction(_ function: LibraryFunction, in functions: FunctionsState, _ c: inout CommandContext,
                     keys: Range<Int>, arguments: Range<Int>, readOnly ro: Bool) {
        let server = c.server
        let flags = function.flags
        let overMemory = server.eviction.enabled.load(ordering: .relaxed)
            && server.eviction.performEvictions(server, worker: c.worker, nowMillis: c.now) == .failed
        if !flags.contains(.noWrites) && ro {
            return c.reply.error("ERR Can not execute a script with write flag using *_ro command.")
        }
        // Redis refuses it before the call: the function's flags make FCALL deny-oom.
        if overMemory && !flags.contains(.allowOOM) && !flags.contains(.noWrites) {
            return c.reply.error("OOM command not allowed when used memory > 'maxmemory'.")
        }
        let client = scriptClient(for: c.client, server: server)
        client.select(c.client.db, in: server.keyspace)
        client.resp = .resp2
        client.onBehalfOf = c.client
        client.trackingMode = c.client.trackingMode
        client.trackingCaching = c.client.trackingCaching
        defer {
            client.onBehalfOf = nil
            client.trackingMode = .off
            client.trackingCaching = false
        }
        let run = ScriptRun(state: self, client: client, server: server, worker: c.worker, now: c.now,
                            nowReadAtNanos: c.nowReadAtNanos, readOnly: ro || flags.contains(.noWrites),
                            allowOOM: flags.contains(.allowOOM), overMemory: overMemory,
                            thresholdMillis: server.config.int(thresholdKey))
        run.scratch = scratch
        scratch = ByteBuffer()
        functions.beginRun(name: function.name, args: c.args)
        running.store(true, ordering: .relaxed)
        killRequested.store(false, ordering: .relaxed)
        wroteData.store(false, ordering: .relaxed)
        timedOut.store(false, ordering: .relaxed)
        defer {
            if timedOut.load(ordering: .relaxed) { ScriptingCommands.busyScripts.subtract(1, ordering: .relaxed) }
            timedOut.store(false, ordering: .relaxed)
            running.store(false, ordering: .relaxed)
            functions.endRun()
        }
        let failed = functions.engine.call(ref: function.ref, name: function.name, args: c.args, keys: keys,
                                           arguments: arguments, callerResp: c.client.resp,
                                           hookInterval: run.thresholdMillis > 0 ? 100_000 : 0, host: run) { bytes in
            c.reply.buffer.writeBytes(bytes)
        }
        scratch = run.scratch
        functions.vmMemory.store(functions.engine.memory, ordering: .relaxed)
        if failed { c.reply.errorCount &+= 1 }
    }
}
