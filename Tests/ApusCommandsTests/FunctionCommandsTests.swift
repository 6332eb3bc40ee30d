import ApusCommands
import ApusStore
import Testing

/// FUNCTION / FCALL / FCALL_RO through the real dispatcher (replies byte for byte as
/// redis-server 7.2 sends them).
@Suite struct FunctionCommandsTests {
    static let library = """
        #!lua name=mylib
        local function join(keys, args)
            return table.concat(keys, ',') .. '|' .. table.concat(args, ',')
        end
        redis.register_function('echo_all', function(keys, args) return join(keys, args) end)
        redis.register_function('set_get', function(keys, args)
            redis.call('set', keys[1], args[1])
            return redis.call('get', keys[1])
        end)
        redis.register_function{
            function_name = 'ro_get',
            callback = function(keys, args) return redis.call('get', keys[1]) end,
            flags = {'no-writes', 'ALLOW-STALE'},
            description = 'reads a key',
        }
        """

    @Test func loadAndCall() {
        let h = Harness()
        #expect(h.send("FUNCTION", "LOAD", Self.library) == "$5\r\nmylib\r\n")
        #expect(h.send("FCALL", "echo_all", "2", "a", "b", "x", "y") == "$7\r\na,b|x,y\r\n")
        #expect(h.send("FCALL", "set_get", "1", "k", "v") == "$1\r\nv\r\n")
        #expect(h.send("FCALL_RO", "ro_get", "1", "k") == "$1\r\nv\r\n")
        // Function names are case-insensitive; KEYS/ARGV are parameters, not globals.
        #expect(h.send("FCALL", "ECHO_ALL", "0") == "$1\r\n|\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=g\nredis.register_function('k', function() return KEYS end)")
            == "$1\r\ng\r\n")
        #expect(h.send("FCALL", "k", "0")
            == "-ERR user_function:2: Script attempted to access nonexistent global variable 'KEYS' script: k, on @user_function:2.\r\n")
    }

    @Test func fcallArgumentErrors() {
        let h = Harness()
        h.send("FUNCTION", "LOAD", Self.library)
        #expect(h.send("FCALL", "nosuch", "x") == "-ERR Function not found\r\n")
        #expect(h.send("FCALL", "echo_all", "x") == "-ERR Bad number of keys provided\r\n")
        #expect(h.send("FCALL", "echo_all", "3", "a") == "-ERR Number of keys can't be greater than number of args\r\n")
        #expect(h.send("FCALL", "echo_all", "-1") == "-ERR Number of keys can't be negative\r\n")
        #expect(h.send("FCALL_RO", "set_get", "1", "k", "v") == "-ERR Can not execute a script with write flag using *_ro command.\r\n")
        h.send("FUNCTION", "LOAD", "#!lua name=w\nredis.register_function{function_name='nw', callback=function(k) return redis.call('set', k[1], '1') end, flags={'no-writes'}}")
        #expect(h.send("FCALL", "nw", "1", "k")
            == "-ERR Write commands are not allowed from read-only scripts. script: nw, on @user_function:2.\r\n")
        // Scripts cannot call FCALL.
        h.send("FUNCTION", "LOAD", "#!lua name=n\nredis.register_function('nest', function() return redis.call('fcall', 'nw', 0) end)")
        #expect(h.send("FCALL", "nest", "0")
            == "-ERR This Redis command is not allowed from script script: nest, on @user_function:2.\r\n")
    }

    @Test func loadErrors() {
        let h = Harness()
        h.send("FUNCTION", "LOAD", Self.library)
        #expect(h.send("FUNCTION", "LOAD", Self.library) == "-ERR Library 'mylib' already exists\r\n")
        #expect(h.send("FUNCTION", "LOAD", "REPLACE", Self.library) == "$5\r\nmylib\r\n")
        #expect(h.send("FUNCTION", "LOAD", "foo", Self.library) == "-ERR Unknown option given: foo\r\n")
        #expect(h.send("FUNCTION", "LOAD", "return 1") == "-ERR Missing library metadata\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=x") == "-ERR Invalid library metadata\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua\nx") == "-ERR Library name was not given\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=a name=b\nx")
            == "-ERR Invalid metadata value, name argument was given multiple times\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=a foo=bar\nx") == "-ERR Invalid metadata value given: foo=bar\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#! name=a\nx") == "-ERR Engine '' not found\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=a-b\nx")
            == "-ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=a\nbad code")
            == "-ERR Error compiling function: user_function:2: '=' expected near 'code'\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=a\nlocal x = 1") == "-ERR No functions registered\r\n")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=a\nredis.register_function('ECHO_ALL', function() end)")
            == "-ERR Function ECHO_ALL already exists\r\n")
        // A quoted name, and the engine name in any case.
        #expect(h.send("FUNCTION", "LOAD", "#!LUA name=\"q\"\nredis.register_function('q1', function() return 1 end)")
            == "$1\r\nq\r\n")
        // A failed REPLACE keeps the old library.
        #expect(h.send("FUNCTION", "LOAD", "REPLACE", "#!lua name=mylib\nerror('x')").hasPrefix("-ERR Error registering functions"))
        #expect(h.send("FCALL", "echo_all", "0") == "$1\r\n|\r\n")
    }

    @Test func registerFunctionErrors() {
        let h = Harness()
        func load(_ body: String) -> String { h.send("FUNCTION", "LOAD", "#!lua name=lib\n" + body) }
        let prefix = "-ERR Error registering functions: ERR "
        #expect(load("redis.register_function()") == prefix + "wrong number of arguments to redis.register_function\r\n")
        #expect(load("redis.register_function('f1')")
            == prefix + "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).\r\n")
        #expect(load("redis.register_function(nil, function() end)")
            == prefix + "first argument to redis.register_function must be a string\r\n")
        #expect(load("redis.register_function('f', 'x')")
            == prefix + "second argument to redis.register_function must be a function\r\n")
        #expect(load("redis.register_function('', function() end)")
            == prefix + "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long\r\n")
        #expect(load("redis.register_function('f', function() end)\nredis.register_function('f', function() end)")
            == prefix + "Function already exists in the library\r\n")
        #expect(load("redis.register_function{function_name={}, callback=function() end}")
            == prefix + "function_name argument given to redis.register_function must be a string\r\n")
        #expect(load("redis.register_function{function_name='f', callback='x'}")
            == prefix + "callback argument given to redis.register_function must be a function\r\n")
        #expect(load("redis.register_function{function_name='f', callback=function() end, description={}}")
            == prefix + "description argument given to redis.register_function must be a string\r\n")
        #expect(load("redis.register_function{function_name='f', callback=function() end, flags='x'}")
            == prefix + "flags argument to redis.register_function must be a table representing function flags\r\n")
        #expect(load("redis.register_function{function_name='f', callback=function() end, flags={'bad'}}")
            == prefix + "unknown flag given\r\n")
        #expect(load("redis.register_function{function_name='f', callback=function() end, other=1}")
            == prefix + "unknown argument given to redis.register_function\r\n")
        #expect(load("redis.register_function{callback=function() end}")
            == prefix + "redis.register_function must get a function name argument\r\n")
        #expect(load("redis.register_function{function_name='f'}")
            == prefix + "redis.register_function must get a callback argument\r\n")
        #expect(h.send("FUNCTION", "LIST") == "*0\r\n")
    }

    @Test func loadTimeSandbox() {
        let h = Harness()
        func load(_ body: String) -> String { h.send("FUNCTION", "LOAD", "#!lua name=lib\n" + body) }
        let prefix = "-ERR Error registering functions: ERR user_function:2: "
        #expect(load("return math.random()") == prefix + "Script attempted to access nonexistent global variable 'math'\r\n")
        #expect(load("redis.call('ping')") == prefix + "Script attempted to access nonexistent global variable 'call'\r\n")
        #expect(load("redis.setresp(3)") == prefix + "Script attempted to access nonexistent global variable 'setresp'\r\n")
        #expect(load("local mt = getmetatable(_G)")
            == prefix + "Script attempted to access nonexistent global variable 'getmetatable'\r\n")
        #expect(load("a = 1") == prefix + "Attempt to modify a readonly table\r\n")
        #expect(load("local a = 1 while 1 do a = a + 1 end") == "-ERR Error registering functions: ERR FUNCTION LOAD timeout\r\n")
        // The load-time API captured by a function stays useless at run time, and the
        // run-time API has no register_function.
        #expect(load("""
            local lib = redis
            lib.register_function('f1', function() lib.redis = redis end)
            lib.register_function('f2', function() lib.register_function('x', function() end) end)
            redis.register_function('f3', function() redis.register_function('x', function() end) end)
            redis.register_function('f4', function() return redis.call('ping') end)
            """) == "$3\r\nlib\r\n")
        #expect(h.send("FCALL", "f1", "0") == "-ERR user_function:3: Attempt to modify a readonly table script: f1, on @user_function:3.\r\n")
        #expect(h.send("FCALL", "f2", "0")
            == "-ERR redis.register_function can only be called on FUNCTION LOAD command script: f2, on @user_function:4.\r\n")
        #expect(h.send("FCALL", "f3", "0")
            == "-ERR user_function:5: attempt to call field 'register_function' (a nil value) script: f3, on @user_function:5.\r\n")
        #expect(h.send("FCALL", "f4", "0") == "+PONG\r\n")
        // Functions cannot touch EVAL's globals either way.
        #expect(h.send("EVAL", "return type(redis.register_function)", "0") == "$3\r\nnil\r\n")
    }

    @Test func listReplies() {
        let h = Harness()
        h.send("FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function{function_name='a', callback=function() return 1 end, flags={'no-writes', 'allow-oom'}, description='d'}\nredis.register_function('b', function() return 2 end)")
        h.send("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('c', function() return 3 end)")
        let lib1 = "*6\r\n$12\r\nlibrary_name\r\n$4\r\nlib1\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n"
            + "*6\r\n$4\r\nname\r\n$1\r\na\r\n$11\r\ndescription\r\n$1\r\nd\r\n$5\r\nflags\r\n*2\r\n+no-writes\r\n+allow-oom\r\n"
            + "*6\r\n$4\r\nname\r\n$1\r\nb\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n"
        #expect(h.send("FUNCTION", "LIST", "LIBRARYNAME", "LIB*") == "*1\r\n" + lib1)
        #expect(h.send("FUNCTION", "LIST", "LIBRARYNAME", "nomatch") == "*0\r\n")
        #expect(h.send("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "oth*")
            == "*1\r\n*8\r\n$12\r\nlibrary_name\r\n$5\r\nother\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*1\r\n"
            + "*6\r\n$4\r\nname\r\n$1\r\nc\r\n$11\r\ndescription\r\n$-1\r\n$5\r\nflags\r\n*0\r\n"
            + "$12\r\nlibrary_code\r\n$70\r\n#!lua name=other\nredis.register_function('c', function() return 3 end)\r\n")
        #expect(h.send("FUNCTION", "LIST").hasPrefix("*2\r\n"))
        #expect(h.send("FUNCTION", "LIST", "bad") == "-ERR Unknown argument bad\r\n")
        #expect(h.send("FUNCTION", "LIST", "withcode", "withcode") == "-ERR Unknown argument withcode\r\n")
        #expect(h.send("FUNCTION", "LIST", "libraryname") == "-ERR library name argument was not given\r\n")
        // RESP3: maps, a set of status flags, a null description.
        h.send("HELLO", "3")
        #expect(h.send("FUNCTION", "LIST", "LIBRARYNAME", "lib1")
            == "*1\r\n%3\r\n$12\r\nlibrary_name\r\n$4\r\nlib1\r\n$6\r\nengine\r\n$3\r\nLUA\r\n$9\r\nfunctions\r\n*2\r\n"
            + "%3\r\n$4\r\nname\r\n$1\r\na\r\n$11\r\ndescription\r\n$1\r\nd\r\n$5\r\nflags\r\n~2\r\n+no-writes\r\n+allow-oom\r\n"
            + "%3\r\n$4\r\nname\r\n$1\r\nb\r\n$11\r\ndescription\r\n_\r\n$5\r\nflags\r\n~0\r\n")
    }

    @Test func deleteFlushAndStats() {
        let h = Harness()
        h.send("FUNCTION", "LOAD", Self.library)
        let stats = { (libraries: Int, functions: Int) in
            "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:\(libraries)\r\n$15\r\nfunctions_count\r\n:\(functions)\r\n"
        }
        #expect(h.send("FUNCTION", "STATS") == stats(1, 3))
        #expect(h.send("INFO", "memory").contains("number_of_functions:3\r\nnumber_of_libraries:1\r\n"))
        #expect(h.send("FUNCTION", "DELETE", "MYLIB") == "-ERR Library not found\r\n")
        #expect(h.send("FUNCTION", "DELETE", "mylib") == "+OK\r\n")
        #expect(h.send("FCALL", "echo_all", "0") == "-ERR Function not found\r\n")
        #expect(h.send("FUNCTION", "STATS") == stats(0, 0))
        h.send("FUNCTION", "LOAD", Self.library)
        #expect(h.send("FLUSHALL") == "+OK\r\n")
        #expect(h.send("FUNCTION", "STATS") == stats(1, 3))
        #expect(h.send("FUNCTION", "FLUSH", "bad") == "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option\r\n")
        #expect(h.send("FUNCTION", "FLUSH", "sync", "x")
            == "-ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.\r\n")
        #expect(h.send("FUNCTION", "FLUSH", "ASYNC") == "+OK\r\n")
        #expect(h.send("FUNCTION", "STATS") == stats(0, 0))
        #expect(h.send("FUNCTION", "KILL") == "-NOTBUSY No scripts in execution right now.\r\n")
        #expect(h.send("FUNCTION", "HELP").hasPrefix("*40\r\n+FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"))
    }

    @Test func crc64MatchesRedis() {
        #expect(CRC64.checksum(Array("123456789".utf8)) == 0xe9c6_d914_c4b8_d9ca)
        #expect(CRC64.checksum([]) == 0)
    }

    @Test func dumpRestoreRoundTrip() {
        let h = Harness()
        h.send("FUNCTION", "LOAD", Self.library)
        let payload = h.raw([Array("FUNCTION".utf8), Array("DUMP".utf8)])
        // $<len>\r\n then 245, the code as an RDB string, version 11, CRC64.
        let body = Array(payload[(payload.firstIndex(of: 0x0A)! + 1)..<(payload.count - 2)])
        #expect(body.first == 245)
        #expect(Array(body[(body.count - 10)..<(body.count - 8)]) == [11, 0])
        #expect(h.send("FUNCTION", "FLUSH") == "+OK\r\n")
        let restore = { (policy: String?) in
            String(decoding: h.raw([Array("FUNCTION".utf8), Array("RESTORE".utf8), body] + (policy.map { [Array($0.utf8)] } ?? [])),
                   as: UTF8.self)
        }
        #expect(restore(nil) == "+OK\r\n")
        #expect(h.send("FCALL", "echo_all", "1", "a", "b") == "$3\r\na|b\r\n")
        #expect(restore(nil) == "-ERR Library mylib already exists\r\n")
        #expect(restore("append") == "-ERR Library mylib already exists\r\n")
        #expect(restore("REPLACE") == "+OK\r\n")
        h.send("FUNCTION", "DELETE", "mylib")
        #expect(h.send("FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('ECHO_ALL', function() return 1 end)")
            == "$5\r\nother\r\n")
        #expect(restore("replace") == "-ERR Function echo_all already exists\r\n")
        #expect(restore("FLUSH") == "+OK\r\n")
        #expect(h.send("FUNCTION", "LIST", "LIBRARYNAME", "other") == "*0\r\n")
        #expect(restore("bogus") == "-ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.\r\n")
        #expect(h.send("FUNCTION", "RESTORE", "bad_payload") == "-ERR DUMP payload version or checksum are wrong\r\n")
        #expect(h.send("FUNCTION", "RESTORE", "a", "b", "c")
            == "-ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.\r\n")
        // A valid footer around something that is not a function record.
        var junk: [UInt8] = [7, 1, 2, 11, 0]
        let crc = CRC64.checksum(junk)
        for i in 0..<8 { junk.append(UInt8(truncatingIfNeeded: crc >> (8 * UInt64(i)))) }
        #expect(String(decoding: h.raw([Array("FUNCTION".utf8), Array("RESTORE".utf8), junk]), as: UTF8.self)
            == "-ERR given type is not a function\r\n")
    }

    /// A payload redis-server 7.2.4 produced (its library code LZF-compressed).
    @Test func restoresRedisPayload() {
        let hex = "f5c3404f40751f23216c7561206e616d653d6c7a660a72656469732e72656769737465725f66750d6e6374696f6e2822726570222c20e0000f106b2c2061292072657475726e2022616263e01e02052220656e64290b00a4a0e04cc56d0fdc"
        var payload: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            payload.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        let h = Harness()
        #expect(String(decoding: h.raw([Array("FUNCTION".utf8), Array("RESTORE".utf8), payload]), as: UTF8.self) == "+OK\r\n")
        #expect(h.send("FCALL", "rep", "0") == "$42\r\n" + String(repeating: "abc", count: 14) + "\r\n")
    }

    @Test func oomAndFlags() {
        let h = Harness()
        h.send("FUNCTION", "LOAD", "#!lua name=o\nredis.register_function('w', function(k) return redis.call('set', k[1], '1') end)\nredis.register_function{function_name='nw', callback=function() return 'hello' end, flags={'no-writes'}}\nredis.register_function{function_name='ao', callback=function(k) return redis.call('set', k[1], '1') end, flags={'allow-oom'}}")
        h.send("SET", "filler", String(repeating: "x", count: 1000))
        #expect(h.send("CONFIG", "SET", "maxmemory", "1") == "+OK\r\n")
        #expect(h.send("FCALL", "w", "1", "x") == "-OOM command not allowed when used memory > 'maxmemory'.\r\n")
        #expect(h.send("FCALL", "nw", "1", "x") == "$5\r\nhello\r\n")
        #expect(h.send("FCALL", "ao", "1", "x") == "+OK\r\n")
        #expect(h.send("CONFIG", "SET", "maxmemory", "0") == "+OK\r\n")
    }
}
