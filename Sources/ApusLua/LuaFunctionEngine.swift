import ApusRESP
import CLuaLibs

/// A function a library registered with redis.register_function.
public struct LuaRegisteredFunction: Sendable {
    /// Letters, digits and underscores only (checked at registration).
    public let name: String
    public let description: [UInt8]?
    /// Bit i set for the i-th of no-writes, allow-oom, allow-stale, no-cluster,
    /// allow-cross-slot-keys.
    public let flagBits: Int
    /// The callback's reference in the interpreter.
    public let ref: Int32
}

/// The interpreter of Redis Functions: an interpreter like EVAL's (libraries, redis.* API,
/// readonly globals) of its own, with Redis 7.2's load-time sandbox (only
/// redis.register_function, redis.log and the version fields while a library loads) and
/// functions called with their keys and arguments as parameters. Not thread-safe, like
/// `LuaEngine`: its user serialises access.
public final class LuaFunctionEngine: @unchecked Sendable {
    let engine: LuaEngine
    private var pointers: [UnsafePointer<CChar>?] = []
    private var lengths: [Int] = []
    private var output = apus_buf()

    public init?() {
        guard let engine = LuaEngine(), apus_fn_setup(engine.vm) == 0 else { return nil }
        self.engine = engine
    }

    deinit { apus_buf_free(&output) }

    /// Bytes the interpreter holds (INFO used_memory_vm_functions).
    public var memory: Int { engine.memory }

    /// Runs a library's code (without its shebang line, its newline kept) so it registers its
    /// functions. Returns them, or Redis's error message (without the "ERR " code).
    public func create(code: UnsafeRawBufferPointer, timeoutMillis: Int, host: (any LuaScriptHost)?)
        -> Result<[LuaRegisteredFunction], LuaLoadError> {
        var error = apus_buf()
        defer { apus_buf_free(&error) }
        var infos: UnsafeMutablePointer<apus_fn_info>?
        var count: Int32 = 0
        engine.host = host
        defer { engine.host = nil }
        let unmanaged = Unmanaged.passUnretained(engine).toOpaque()
        var callbacks = apus_lua_host(context: unmanaged, call: engineCall, interrupt: engineInterrupt, log: engineLog)
        let failed = apus_fn_create(engine.vm, code.baseAddress?.assumingMemoryBound(to: CChar.self) ?? empty, code.count,
                                    timeoutMillis, &callbacks, &error, &infos, &count)
        if failed != 0 {
            return .failure(LuaLoadError(message: String(decoding: UnsafeRawBufferPointer(start: error.data, count: error.len),
                                                         as: UTF8.self)))
        }
        defer { apus_fn_info_free(infos, count) }
        var functions: [LuaRegisteredFunction] = []
        for i in 0..<Int(count) {
            let info = infos![i]
            let name = String(decoding: UnsafeRawBufferPointer(start: info.name, count: info.name_len), as: UTF8.self)
            let description = info.has_desc != 0
                ? Array(UnsafeRawBufferPointer(start: info.desc, count: info.desc_len)) : nil
            functions.append(LuaRegisteredFunction(name: name, description: description, flagBits: Int(info.flags),
                                                   ref: info.ref))
        }
        return .success(functions)
    }

    /// Releases a registered function's callback.
    public func release(_ ref: Int32) { apus_fn_unref(engine.vm, ref) }

    /// Calls the function `ref` (named `name` in error replies) with `args[keys]` and
    /// `args[arguments]`, then hands its reply (RESP in `callerResp`) to `reply`. Returns
    /// whether it is an error.
    public func call(ref: Int32, name: String, args: CommandArguments, keys: Range<Int>, arguments: Range<Int>,
                     callerResp: RESPVersion, hookInterval: Int, host: any LuaScriptHost,
                     reply: (UnsafeRawBufferPointer) -> Void) -> Bool {
        let total = keys.count + arguments.count
        if pointers.count < total {
            pointers = Array(repeating: nil, count: total)
            lengths = Array(repeating: 0, count: total)
        }
        var i = 0
        for index in keys.lowerBound..<arguments.upperBound {
            pointers[i] = args[index].baseAddress?.assumingMemoryBound(to: CChar.self) ?? empty
            lengths[i] = args[index].count
            i += 1
        }
        engine.host = host
        defer { engine.host = nil }
        apus_buf_reset(&output)
        let unmanaged = Unmanaged.passUnretained(engine).toOpaque()
        var callbacks = apus_lua_host(context: unmanaged, call: engineCall, interrupt: engineInterrupt, log: engineLog)
        let failed = pointers.withUnsafeBufferPointer { p in
            lengths.withUnsafeBufferPointer { l in
                name.withCString { funcname in
                    apus_fn_call(engine.vm, ref, funcname, &callbacks, Int32(keys.count), p.baseAddress, l.baseAddress,
                                 Int32(arguments.count), p.baseAddress.map { $0 + keys.count },
                                 l.baseAddress.map { $0 + keys.count }, Int32(callerResp.rawValue), Int32(hookInterval),
                                 &output)
                }
            }
        }
        reply(UnsafeRawBufferPointer(start: output.data, count: output.len))
        return failed != 0
    }
}

/// Why a library failed to load: Redis's message, without the "ERR " code.
public struct LuaLoadError: Error, Sendable {
    public let message: String
}
