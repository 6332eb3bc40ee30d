"""Lua scripting with a real client (redis-py): EVAL/EVALSHA/EVAL_RO/EVALSHA_RO, SCRIPT
LOAD/EXISTS/FLUSH/KILL, redis-py's Script objects, Redis's type conversions in RESP2 and RESP3,
the libraries scripts rely on (cjson, cmsgpack, bit, struct), script flags, the sandbox, and
the busy-script path (SCRIPT KILL from another connection). Passes against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_scripting.py -q
"""

import os
import threading
import time

import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))


def client(protocol=2):
    return redis.Redis(host=HOST, port=PORT, protocol=protocol, socket_timeout=20)


@pytest.fixture
def r():
    c = client()
    c.flushall()
    c.script_flush()
    yield c
    c.close()


def test_eval_reads_keys_and_argv(r):
    r.set("k", "v")
    assert r.eval("return {KEYS[1], ARGV[1], redis.call('GET', KEYS[1])}", 1, "k", "a") == [b"k", b"a", b"v"]


def test_evalsha_and_script_commands(r):
    sha = r.script_load("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert len(sha) == 40
    assert r.script_exists(sha, "0" * 40) == [True, False]
    assert r.evalsha(sha, 1, "n", 5) == 5
    assert r.evalsha(sha.upper(), 1, "n", 5) == 10
    r.script_flush()
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 1, "n", 5)


def test_script_object_reloads_after_flush(r):
    incr = r.register_script("return redis.call('INCR', KEYS[1])")
    assert incr(keys=["c"]) == 1
    r.script_flush()
    assert incr(keys=["c"]) == 2  # redis-py retries with SCRIPT LOAD on NOSCRIPT


def test_numbers_passed_to_commands_keep_their_format(r):
    # Lua numbers become Redis's integer/%.17g text, so INCRBY and SET see what Redis sees.
    assert r.eval("redis.call('SET', 'x', 500); return redis.call('GET', 'x')", 0) == b"500"
    # Redis 7.2 formats non-integers shortest-exact (fpconv_dtoa), 7.0 with %.17g.
    version = tuple(int(p) for p in r.info("server")["redis_version"].split(".")[:2])
    expected = b"0.1" if version >= (7, 2) else b"0.10000000000000001"
    assert r.eval("redis.call('SET', 'x', 0.1); return redis.call('GET', 'x')", 0) == expected
    assert r.eval("return redis.call('INCRBY', 'y', 1e3)", 0) == 1000


def test_lua_to_redis_conversions_resp2(r):
    assert r.eval("return 3.99", 0) == 3
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return {1, 2, nil, 4}", 0) == [1, 2]
    assert r.eval("return {ok='fine'}", 0) == b"fine"
    with pytest.raises(redis.ResponseError, match="^my error$"):
        r.eval("return {err='my error'}", 0)
    assert r.eval("return redis.status_reply('PONG')", 0) == b"PONG"
    with pytest.raises(redis.ResponseError, match="WRONGTYPE custom"):
        r.eval("return redis.error_reply('WRONGTYPE custom')", 0)


def test_redis_to_lua_conversions(r):
    r.rpush("l", "a", "b")
    assert r.eval("local t = redis.call('LRANGE', 'l', 0, -1); return #t", 0) == 2
    assert r.eval("return type(redis.call('GET', 'missing'))", 0) == b"boolean"
    assert r.eval("return redis.call('PING')", 0) == b"PONG"
    assert r.eval("local ok = redis.pcall('INCR', 'l'); return ok.err ~= nil", 0) == 1


def test_resp3_conversions():
    c = client(3)
    c.flushall()
    c.hset("h", "f", "v")
    assert c.eval("redis.setresp(3); return redis.call('HGETALL', 'h')", 0) == {b"f": b"v"}
    assert c.eval("return {double=3.5}", 0) == 3.5
    assert c.eval("return {map={a=1}}", 0) == {b"a": 1}
    assert c.eval("redis.setresp(3); return redis.call('HGET', 'h', 'nope')", 0) is None
    c.close()


def test_errors_from_commands_inside_scripts(r):
    r.set("s", "text")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.eval("return redis.call('LPUSH', 's', 'x')", 0)
    with pytest.raises(redis.ResponseError, match="Unknown Redis command called from script"):
        r.eval("return redis.call('NOSUCHCOMMAND')", 0)
    with pytest.raises(redis.ResponseError, match="Wrong number of args calling Redis command from script"):
        r.eval("return redis.call('GET')", 0)
    with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from script"):
        r.eval("return redis.call('MULTI')", 0)
    with pytest.raises(redis.ResponseError, match="Error compiling script"):
        r.eval("return (", 0)
    with pytest.raises(redis.ResponseError, match="Number of keys can't be greater than number of args"):
        r.eval("return 1", 3, "a")


def test_read_only_variants_and_flags(r):
    r.set("k", "v")
    assert r.eval_ro("return redis.call('GET', KEYS[1])", 1, "k") == b"v"
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval_ro("return redis.call('SET', KEYS[1], 'x')", 1, "k")
    sha = r.script_load("return redis.call('GET', KEYS[1])")
    assert r.evalsha_ro(sha, 1, "k") == b"v"
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from read-only scripts"):
        r.eval("#!lua flags=no-writes\nreturn redis.call('SET', 'k', 'x')", 0)
    with pytest.raises(redis.ResponseError, match="Unexpected flag in script shebang"):
        r.eval("#!lua flags=bogus\nreturn 1", 0)
    assert r.eval("#!lua\nreturn 1", 0) == 1


def test_libraries(r):
    assert r.eval("return cjson.encode({1, 2, 3})", 0) == b"[1,2,3]"
    assert r.eval("return cjson.decode('{\"a\":[1,2]}').a[2]", 0) == 2
    assert r.eval("return cmsgpack.unpack(cmsgpack.pack({1, 'x'}))[2]", 0) == b"x"
    assert r.eval("return bit.band(0xff, 0x0f)", 0) == 15
    assert r.eval("return bit.tohex(255)", 0) == b"000000ff"
    assert r.eval("return struct.unpack('>I2', struct.pack('>I2', 258))", 0) == 258
    assert r.eval("return redis.sha1hex('')", 0) == b"da39a3ee5e6b4b0d3255bfef95601890afd80709"


def test_sandbox(r):
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("x = 1", 0)
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'os'"):
        r.eval("return os.time()", 0)
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("redis.call = nil", 0)
    with pytest.raises(redis.ResponseError, match="attempt to call a nil value"):
        r.eval("return loadstring(string.dump(function() return 1 end))()", 0)
    with pytest.raises(redis.ResponseError):
        r.eval("local g = getmetatable(_G).__index; g.leak = 1", 0)
    with pytest.raises(redis.ResponseError, match="nonexistent global variable 'leak'"):
        r.eval("return leak", 0)


def test_script_touching_undeclared_keys_is_atomic(r):
    # Job-queue style: key names built from ARGV, moved atomically.
    r.rpush("queue:jobs", "j1", "j2")
    script = """
        local job = redis.call('RPOPLPUSH', 'queue:' .. ARGV[1], 'queue:' .. ARGV[2])
        redis.call('HSET', 'job:' .. job, 'state', 'running')
        return job
    """
    assert r.eval(script, 0, "jobs", "running") == b"j2"
    assert r.lrange("queue:running", 0, -1) == [b"j2"]
    assert r.hget("job:j2", "state") == b"running"


def test_busy_script_answers_busy_and_script_kill_stops_it(r):
    r.config_set("busy-reply-threshold", 100)
    try:
        runner = client()
        outcome = {}

        def run():
            try:
                runner.eval("while true do end", 0)
            except redis.ResponseError as error:
                outcome["error"] = str(error)

        thread = threading.Thread(target=run)
        thread.start()
        other = client()
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                other.ping()
                time.sleep(0.05)
            except redis.exceptions.BusyLoadingError:
                break
            except redis.ResponseError as error:
                assert str(error).startswith("Redis is busy running a script") or "BUSY" in str(error)
                break
        assert other.script_kill()
        thread.join(10)
        assert not thread.is_alive()
        assert "Script killed by user with SCRIPT KILL" in outcome["error"]
        assert other.ping()
        with pytest.raises(redis.ResponseError, match="NOTBUSY"):
            other.script_kill()
        other.close()
        runner.close()
    finally:
        r.config_set("busy-reply-threshold", 5000)
