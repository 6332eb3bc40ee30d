"""Redis Functions with a real client (redis-py): FUNCTION LOAD / LIST / DELETE / FLUSH /
DUMP / RESTORE / STATS / KILL, FCALL and FCALL_RO, flags, load-time sandbox, and a DUMP
payload surviving a restore. Passes against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_functions.py -q
"""

import os
import threading
import time

import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))

LIB = """#!lua name=mylib
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
    flags = {'no-writes'},
    description = 'reads a key',
}
"""


def client(protocol=2):
    return redis.Redis(host=HOST, port=PORT, protocol=protocol, socket_timeout=10)


@pytest.fixture
def r():
    c = client()
    c.flushall()
    c.function_flush()
    yield c
    c.function_flush()
    c.close()


def test_load_and_call(r):
    assert r.function_load(LIB) == "mylib" or r.function_load(LIB, replace=True) == b"mylib"
    assert r.fcall("echo_all", 2, "a", "b", "x", "y") == b"a,b|x,y"
    assert r.fcall("set_get", 1, "k", "v") == b"v"
    assert r.fcall_ro("ro_get", 1, "k") == b"v"
    # Function names are case-insensitive.
    assert r.fcall("ECHO_ALL", 0) == b"|"


def test_load_errors(r):
    r.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Library 'mylib' already exists"):
        r.function_load(LIB)
    assert r.function_load(LIB, replace=True) == b"mylib"
    with pytest.raises(redis.ResponseError, match="Missing library metadata"):
        r.function_load("return 1")
    with pytest.raises(redis.ResponseError, match="Library name was not given"):
        r.function_load("#!lua\nredis.register_function('f', function() return 1 end)")
    with pytest.raises(redis.ResponseError, match="Engine 'js' not found"):
        r.function_load("#!js name=x\nredis.register_function('f', function() return 1 end)")
    with pytest.raises(redis.ResponseError, match="No functions registered"):
        r.function_load("#!lua name=empty\nlocal x = 1")
    with pytest.raises(redis.ResponseError, match="Function echo_all already exists"):
        r.function_load("#!lua name=other\nredis.register_function('echo_all', function() return 1 end)")
    with pytest.raises(redis.ResponseError, match="Error compiling function"):
        r.function_load("#!lua name=bad\nthis is not lua")


def test_load_time_sandbox(r):
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'call'"):
        r.function_load("#!lua name=x\nredis.call('ping')")
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'math'"):
        r.function_load("#!lua name=x\nreturn math.random()")
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.function_load("#!lua name=x\nfoo = 1")
    # register_function is not reachable once functions run.
    r.function_load("#!lua name=x\nredis.register_function('f', function() "
                    "redis.register_function('g', function() return 1 end) end)")
    with pytest.raises(redis.ResponseError, match="attempt to call field 'register_function'"):
        r.fcall("f", 0)


def test_fcall_errors_and_flags(r):
    r.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Function not found"):
        r.fcall("nosuch", 0)
    with pytest.raises(redis.ResponseError, match="Number of keys can't be greater than number of args"):
        r.fcall("echo_all", 3, "a")
    with pytest.raises(redis.ResponseError, match="Can not execute a script with write flag using \\*_ro command."):
        r.fcall_ro("set_get", 1, "k", "v")
    r.function_load("#!lua name=w\nredis.register_function{function_name='nw_set', callback=function(keys, args) "
                    "return redis.call('set', keys[1], '1') end, flags={'no-writes'}}")
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.fcall("nw_set", 1, "k")


def test_function_list(r):
    r.function_load(LIB)
    r.function_load("#!lua name=second\nredis.register_function('s1', function() return 1 end)")
    libraries = {lib[b"library_name"] if isinstance(lib, dict) else lib[1]: lib for lib in r.function_list()}
    assert set(libraries) == {b"mylib", b"second"}
    listed = client(3).function_list(library="my*", withcode=True)
    assert len(listed) == 1
    lib = listed[0]
    assert lib[b"library_name"] == b"mylib" and lib[b"engine"] == b"LUA"
    assert lib[b"library_code"] == LIB.encode()
    functions = {f[b"name"]: f for f in lib[b"functions"]}
    assert set(functions) == {b"echo_all", b"set_get", b"ro_get"}
    assert functions[b"ro_get"][b"description"] == b"reads a key"
    assert list(functions[b"ro_get"][b"flags"]) == [b"no-writes"]
    assert functions[b"echo_all"][b"description"] is None


def test_delete_and_flush(r):
    r.function_load(LIB)
    with pytest.raises(redis.ResponseError, match="Library not found"):
        r.function_delete("nosuch")
    assert r.function_delete("mylib") in (True, b"OK")
    with pytest.raises(redis.ResponseError, match="Function not found"):
        r.fcall("echo_all", 0)
    r.function_load(LIB)
    assert r.function_flush("SYNC") in (True, b"OK")
    assert r.function_list() == []
    # FLUSHALL leaves functions alone.
    r.function_load(LIB)
    r.flushall()
    assert len(r.function_list()) == 1


def test_dump_restore_round_trip(r):
    r.function_load(LIB)
    payload = r.function_dump()
    # RDB version 2 bytes then CRC64 8 bytes at the end; the records start with opcode 245.
    assert payload[0] == 245
    r.function_flush()
    assert r.function_restore(payload) in (True, b"OK")
    assert r.fcall("echo_all", 1, "a", "b") == b"a|b"
    with pytest.raises(redis.ResponseError, match="Library mylib already exists"):
        r.function_restore(payload)
    assert r.function_restore(payload, "REPLACE") in (True, b"OK")
    r.function_load("#!lua name=extra\nredis.register_function('e', function() return 1 end)")
    assert r.function_restore(payload, "FLUSH") in (True, b"OK")
    with pytest.raises(redis.ResponseError, match="Function not found"):
        r.fcall("e", 0)
    with pytest.raises(redis.ResponseError, match="payload version or checksum are wrong"):
        r.function_restore(payload[:-1] + bytes([payload[-1] ^ 1]))


def test_stats(r):
    r.function_load(LIB)
    stats = client(3).function_stats()
    assert stats == {b"running_script": None, b"engines": {b"LUA": {b"libraries_count": 1, b"functions_count": 3}}}


def test_function_kill(r):
    r.config_set("busy-reply-threshold", 100)
    try:
        r.function_load("#!lua name=spin\nredis.register_function('spin', function() "
                        "local a = 1 while true do a = a + 1 end end)")
        with pytest.raises(redis.ResponseError, match="NOTBUSY"):
            r.function_kill()
        errors = []

        def run():
            try:
                client().fcall("spin", 0)
            except redis.ResponseError as e:
                errors.append(str(e))

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.time() + 5
        while True:
            try:
                r.ping()
            except redis.ResponseError as e:
                assert "FUNCTION KILL" in str(e)
                break
            assert time.time() < deadline
            time.sleep(0.05)
        with pytest.raises(redis.ResponseError, match="FUNCTION KILL"):
            r.script_kill()
        assert r.function_kill() in (True, b"OK")
        thread.join(5)
        assert errors and "Script killed by user" in errors[0]
        assert r.ping()
    finally:
        r.config_set("busy-reply-threshold", 5000)
