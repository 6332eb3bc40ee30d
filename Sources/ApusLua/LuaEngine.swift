import ApusRESP
import CLuaLibs

/// What a running script asks of the server: the command layer implements it.
public protocol LuaScriptHost: AnyObject {
    /// redis.call / redis.pcall: runs `args` as the script client speaking `resp`, appending
    /// the command's reply to `reply`; or appends a rejection message (Redis's scriptCall
    /// errors, without the leading '-') and returns true.
    func call(_ args: CommandArguments, resp: RESPVersion, reply: inout LuaReplyBuffer) -> Bool
    /// Asked every `hookInterval` Lua instructions: true when the script must be killed.
    func shouldKill() -> Bool
    /// redis.log at `level` (0 debug, 1 verbose, 2 notice, 3 warning).
    func log(level: Int, message: UnsafeRawBufferPointer)
}

/// The reply buffer redis.call hands to the host.
public struct LuaReplyBuffer {
    @usableFromInline let buffer: UnsafeMutablePointer<apus_buf>

    @inlinable
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        apus_buf_append(buffer, bytes.baseAddress, bytes.count)
    }

    public mutating func append(_ text: String) {
        var copy = text
        copy.withUTF8 { apus_buf_append(buffer, $0.baseAddress, $0.count) }
    }
}

/// One Lua interpreter set up like Redis's: the libraries scripts use (cjson, cmsgpack, bit,
/// struct), the sandbox, and the redis.* API. Not thread-safe: its user serialises access
/// (scripts run inside `ExclusiveSection`, one at a time in the process).
///
/// Lua errors are longjmps; all Lua API calls that may raise happen in C (`CLuaLibs`) under a
/// protected call, so none unwinds through Swift.
public final class LuaEngine: @unchecked Sendable {
    let vm: OpaquePointer
    /// The host of the running script.
    var host: (any LuaScriptHost)?
    /// Reused argument arrays for `eval`.
    private var pointers: [UnsafePointer<CChar>?] = []
    private var lengths: [Int] = []
    private var output = apus_buf()

    public init?() {
        guard let vm = apus_lua_new() else { return nil }
        self.vm = vm
    }

    deinit {
        apus_lua_free(vm)
        apus_buf_free(&output)
    }

    /// Compiles `body` (minus its first `skip` bytes) as the function `name` ("f_<sha>").
    /// Returns Lua's compile error, or nil.
    public func load(name: String, body: UnsafeRawBufferPointer, skip: Int) -> String? {
        var error = apus_buf()
        defer { apus_buf_free(&error) }
        let failed = apus_lua_load(vm, name, body.baseAddress?.assumingMemoryBound(to: CChar.self) ?? empty, body.count,
                                   skip, &error)
        guard failed != 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: error.data, count: error.len), as: UTF8.self)
    }

    public func exists(name: String) -> Bool { apus_lua_exists(vm, name) != 0 }

    /// Bytes the interpreter holds (INFO used_memory_lua).
    public var memory: Int { Int(apus_lua_memory(vm)) }

    /// Runs the loaded function `name` with KEYS = `args[keys]` and ARGV = `args[arguments]`,
    /// then hands its reply (RESP in `callerResp`) to `reply`. Returns whether it is an error.
    public func eval(name: String, args: CommandArguments, keys: Range<Int>, arguments: Range<Int>,
                     callerResp: RESPVersion, hookInterval: Int, host: any LuaScriptHost,
                     reply: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let total = keys.count + arguments.count
        if pointers.count < total {
            pointers = Array(repeating: nil, count: total)
            lengths = Array(repeating: 0, count: total)
        }
        var i = 0
        for index in keys {
            pointers[i] = args[index].baseAddress?.assumingMemoryBound(to: CChar.self)
            lengths[i] = args[index].count
            i += 1
        }
        for index in arguments {
            pointers[i] = args[index].baseAddress?.assumingMemoryBound(to: CChar.self)
            lengths[i] = args[index].count
            i += 1
        }
        // An empty argument may have no base address: any non-null pointer does for 0 bytes.
        for j in 0..<total where pointers[j] == nil { pointers[j] = empty }
        self.host = host
        defer { self.host = nil }
        apus_buf_reset(&output)
        let unmanaged = Unmanaged.passUnretained(self).toOpaque()
        var callbacks = apus_lua_host(context: unmanaged, call: engineCall, interrupt: engineInterrupt, log: engineLog)
        let failed = pointers.withUnsafeBufferPointer { p in
            lengths.withUnsafeBufferPointer { l in
                apus_lua_eval(vm, name, &callbacks, Int32(keys.count), p.baseAddress, l.baseAddress,
                              Int32(arguments.count), p.baseAddress.map { $0 + keys.count },
                              l.baseAddress.map { $0 + keys.count }, Int32(callerResp.rawValue),
                              Int32(hookInterval), &output)
            }
        }
        reply(UnsafeRawBufferPointer(start: output.data, count: output.len))
        return failed != 0
    }

    /// Converts `reply` (RESP as the script client received it) to Lua and back to RESP for a
    /// `callerResp` client (tests of the conversions).
    public func roundTrip(_ reply: [UInt8], scriptResp: RESPVersion, callerResp: RESPVersion) -> [UInt8]? {
        var out = apus_buf()
        defer { apus_buf_free(&out) }
        let ok = reply.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) {
                apus_lua_roundtrip(vm, $0.baseAddress, $0.count, Int32(scriptResp.rawValue), Int32(callerResp.rawValue), &out)
            }
        }
        guard ok != 0 else { return nil }
        return Array(UnsafeRawBufferPointer(start: out.data, count: out.len))
    }

    /// Runs `source` in the sandbox (no redis.call host) and returns its RESP reply (tests).
    public func run(_ source: String, callerResp: RESPVersion = .resp2) -> String {
        var out = apus_buf()
        defer { apus_buf_free(&out) }
        var copy = source
        copy.withUTF8 { body in
            body.withMemoryRebound(to: CChar.self) {
                _ = apus_lua_run_chunk(vm, $0.baseAddress, $0.count, Int32(callerResp.rawValue), &out)
            }
        }
        return String(decoding: UnsafeRawBufferPointer(start: out.data, count: out.len), as: UTF8.self)
    }
}

nonisolated(unsafe) let empty: UnsafePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    p.initialize(to: 0)
    return UnsafePointer(p)
}()

func engine(_ context: UnsafeMutableRawPointer?) -> LuaEngine {
    Unmanaged<LuaEngine>.fromOpaque(context!).takeUnretainedValue()
}

let engineCall: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?,
                                        UnsafePointer<Int>?, Int32, UnsafeMutablePointer<apus_buf>?) -> Int32 = {
    context, argc, argv, lengths, resp, reply in
    let e = engine(context)
    guard let host = e.host, let argv, let lengths, let reply else { return 1 }
    let count = Int(argc)
    return withUnsafeTemporaryAllocation(of: UnsafeRawBufferPointer.self, capacity: count) { views in
        for i in 0..<count {
            views.initializeElement(at: i, to: UnsafeRawBufferPointer(start: argv[i], count: lengths[i]))
        }
        var buffer = LuaReplyBuffer(buffer: reply)
        let args = CommandArguments(UnsafeBufferPointer(views))
        return host.call(args, resp: resp == 3 ? .resp3 : .resp2, reply: &buffer) ? 1 : 0
    }
}

let engineInterrupt: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { context in
    engine(context).host?.shouldKill() == true ? 1 : 0
}

let engineLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?, Int) -> Void = {
    context, level, message, length in
    engine(context).host?.log(level: Int(level), message: UnsafeRawBufferPointer(start: message, count: length))
}
