import ApusLua
import ApusRESP
import Testing

@Suite struct LuaConversionTests {
    let engine = LuaEngine()!

    func roundTrip(_ reply: String, script: RESPVersion = .resp2, caller: RESPVersion = .resp2) -> String? {
        engine.roundTrip(Array(reply.utf8), scriptResp: script, callerResp: caller).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func scalarRepliesSurviveTheRoundTrip() {
        #expect(roundTrip(":42\r\n") == ":42\r\n")
        #expect(roundTrip("$3\r\nfoo\r\n") == "$3\r\nfoo\r\n")
        #expect(roundTrip("+OK\r\n") == "+OK\r\n")
        #expect(roundTrip("-WRONGTYPE bad type\r\n") == "-WRONGTYPE bad type\r\n")
        #expect(roundTrip("-oops\r\n") == "-ERR oops\r\n")
    }

    @Test func nullBulkBecomesFalseThenNull() {
        #expect(roundTrip("$-1\r\n") == "$-1\r\n")
        #expect(roundTrip("*-1\r\n") == "$-1\r\n")
        #expect(roundTrip("$-1\r\n", caller: .resp3) == "_\r\n")
    }

    @Test func arraysStopAtTheFirstNil() {
        #expect(roundTrip("*3\r\n:1\r\n$-1\r\n:3\r\n") == "*3\r\n:1\r\n$-1\r\n:3\r\n")
        #expect(roundTrip("*3\r\n:1\r\n_\r\n:3\r\n", script: .resp3) == "*1\r\n:1\r\n")
        #expect(roundTrip("*2\r\n*1\r\n:1\r\n$1\r\na\r\n") == "*2\r\n*1\r\n:1\r\n$1\r\na\r\n")
    }

    @Test func resp3TypesKeepTheirShapeForResp3Callers() {
        #expect(roundTrip("%1\r\n$1\r\na\r\n:1\r\n", script: .resp3, caller: .resp3) == "%1\r\n$1\r\na\r\n:1\r\n")
        #expect(roundTrip("%1\r\n$1\r\na\r\n:1\r\n", script: .resp3, caller: .resp2) == "*2\r\n$1\r\na\r\n:1\r\n")
        #expect(roundTrip("~1\r\n$1\r\na\r\n", script: .resp3, caller: .resp3) == "~1\r\n$1\r\na\r\n")
        #expect(roundTrip(",3.5\r\n", script: .resp3, caller: .resp3) == ",3.5\r\n")
        #expect(roundTrip(",3.5\r\n", script: .resp3, caller: .resp2) == "$3\r\n3.5\r\n")
        #expect(roundTrip("(12345678901234567890\r\n", script: .resp3, caller: .resp3) == "(12345678901234567890\r\n")
        #expect(roundTrip("#t\r\n", script: .resp3, caller: .resp3) == "#t\r\n")
        #expect(roundTrip("#f\r\n", script: .resp3, caller: .resp2) == ":0\r\n")
        #expect(roundTrip("#t\r\n", script: .resp2, caller: .resp2) == ":1\r\n")
        #expect(roundTrip("_\r\n", script: .resp3, caller: .resp3) == "_\r\n")
        #expect(roundTrip("=7\r\ntxt:abc\r\n", script: .resp3, caller: .resp3) == "=7\r\ntxt:abc\r\n")
        #expect(roundTrip("|1\r\n+a\r\n+b\r\n:5\r\n", script: .resp3, caller: .resp3) == ":5\r\n")
    }

    @Test func luaValuesBecomeRedisReplies() {
        #expect(engine.run("return 3.99") == ":3\r\n")
        #expect(engine.run("return -3.99") == ":-3\r\n")
        #expect(engine.run("return true") == ":1\r\n")
        #expect(engine.run("return false") == "$-1\r\n")
        #expect(engine.run("return nil") == "$-1\r\n")
        #expect(engine.run("return {1,2,3,'ciao',{1,2}}") == "*5\r\n:1\r\n:2\r\n:3\r\n$4\r\nciao\r\n*2\r\n:1\r\n:2\r\n")
        #expect(engine.run("return {ok='fine'}") == "+fine\r\n")
        #expect(engine.run("return {err='My Error'}") == "-My Error\r\n")
        #expect(engine.run("return redis.error_reply('My Error')") == "-My Error\r\n")
        #expect(engine.run("return redis.status_reply('It\\'s ok')") == "+It's ok\r\n")
        #expect(engine.run("return {double=1.5}", callerResp: .resp3) == ",1.5\r\n")
        #expect(engine.run("return redis.sha1hex('')") == "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n")
    }

    @Test func librariesAreLoaded() {
        #expect(engine.run("return cjson.encode({1,2})") == "$5\r\n[1,2]\r\n")
        #expect(engine.run("return bit.band(7, 3)") == ":3\r\n")
        #expect(engine.run("return {struct.unpack('HH', struct.pack('HH', 1, 2))}") == "*3\r\n:1\r\n:2\r\n:5\r\n")
        #expect(engine.run("return cmsgpack.unpack(cmsgpack.pack({1,2,'x'}))") == "*3\r\n:1\r\n:2\r\n$1\r\nx\r\n")
        #expect(engine.run("local s = cmsgpack.pack({a=1}); return #s") == ":4\r\n")
    }

    @Test func sandboxProtectsGlobalsAndLibraries() {
        #expect(engine.run("return a").contains("Script attempted to access nonexistent global variable 'a'"))
        #expect(engine.run("a = 1").contains("Attempt to modify a readonly table"))
        #expect(engine.run("redis.call = function() return 1 end").contains("Attempt to modify a readonly table"))
        #expect(engine.run("cjson.encode = 1").contains("Attempt to modify a readonly table"))
        #expect(engine.run("setmetatable(_G, {})").contains("Attempt to modify a readonly table"))
        #expect(engine.run("local g = getmetatable(_G); g.__index = {}").contains("Attempt to modify a readonly table"))
        #expect(engine.run("_G = {}").contains("Attempt to modify a readonly table"))
        #expect(engine.run("rawset(_G, 'x', 1)").contains("Attempt to modify a readonly table"))
        #expect(engine.run("print('x')").contains("nonexistent global variable 'print'"))
        #expect(engine.run("return os.time()").contains("nonexistent global variable 'os'"))
        #expect(engine.run("return io").contains("nonexistent global variable 'io'"))
        #expect(engine.run("loadfile('x')").contains("nonexistent global variable 'loadfile'"))
        #expect(engine.run("local t = {} ; t.x = 1; return t.x") == ":1\r\n")
        #expect(engine.run("local n = 0; for k, v in pairs(redis) do n = n + 1 end; return n > 10") == ":1\r\n")
    }

    /// The real tables behind the readonly proxies are never reachable: not through
    /// getmetatable(), not through rawset; and bytecode (unverified by Lua 5.1) never loads.
    @Test func sandboxHasNoBackDoors() {
        #expect(engine.run("local g = getmetatable(_G).__index; g.x = 42").contains("attempt to index local 'g' (a function value)"))
        #expect(engine.run("return x").contains("user_script:1: Script attempted to access nonexistent global variable 'x'"))
        #expect(engine.run("getmetatable(redis).__index.call = nil").hasPrefix("-ERR"))
        #expect(engine.run("return getmetatable(getmetatable(_G)) == false") == ":1\r\n")
        #expect(engine.run("return redis.call ~= nil") == ":1\r\n")
        #expect(engine.run("return loadstring(string.dump(function() return 1 end))()").contains("attempt to call a nil value"))
        #expect(engine.run("local i = 0; return load(function() i = i + 1; if i == 1 then return string.dump(function() return 1 end) end end)()")
                .contains("attempt to call a nil value"))
        #expect(engine.run("return loadstring('return 5')()") == ":5\r\n")
        #expect(engine.run("local i = 0; return load(function() i = i + 1; if i == 1 then return 'return 7' end end)()") == ":7\r\n")
        #expect(engine.run("rawset(_G, 'y', 1)").contains("-ERR Attempt to modify a readonly table"))
        #expect(engine.run("return y").contains("nonexistent global variable 'y'"))
    }

    @Test func runtimeErrorsCarryTheScriptPosition() {
        #expect(engine.run("error('boom')") == "-ERR user_script:1: boom script: chunk, on @user_script:1.\r\n")
    }
}
