"""End-to-end checks of the SET family with real clients (redis-py, RESP2 and RESP3, and raw
sockets where exact bytes matter).

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_set.py -q

Passes against redis-server as well; the listpack encoding of small sets is 7.2-only, so
those checks are skipped on older servers.  FLUSHALLs the server before every test.
"""

import os
import sys

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Conn, encode_command  # noqa: E402

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"


def make_client(protocol=2, **kw):
    return redis.Redis(host=HOST, port=PORT, protocol=protocol, socket_timeout=10, **kw)


def raw_call(*args, resp3=False):
    c = Conn(HOST, PORT, timeout=10)
    try:
        if resp3:
            c.send(encode_command([b"HELLO", b"3"]))
            c.read_reply()
        c.send(encode_command([a if isinstance(a, bytes) else str(a).encode() for a in args]))
        return c.read_reply()
    finally:
        c.close()


@pytest.fixture(scope="module")
def is72():
    c = make_client()
    version = tuple(int(x) for x in str(c.info("server")["redis_version"]).split(".")[:2])
    c.close()
    return version >= (7, 2)


@pytest.fixture(autouse=True)
def clean():
    c = make_client()
    c.flushall()
    c.config_set("set-max-intset-entries", 512)
    yield
    c.config_set("set-max-intset-entries", 512)
    c.close()


@pytest.fixture(params=[2, 3])
def r(request):
    c = make_client(protocol=request.param)
    yield c
    c.close()


def encoding(c, key):
    return c.object("encoding", key).decode() if isinstance(c.object("encoding", key), bytes) \
        else c.object("encoding", key)


def test_basics(r):
    assert r.sadd("s", "a", "b", "c", "a") == 3
    assert r.scard("s") == 3
    assert r.smembers("s") == {b"a", b"b", b"c"}
    assert r.sismember("s", "a") in (1, True)
    assert r.sismember("s", "z") in (0, False)
    assert r.smismember("s", ["a", "z", "c"]) in ([1, 0, 1], [True, False, True])
    assert r.smismember("nokey", ["a"]) in ([0], [False])
    assert r.srem("s", "a", "z") == 1
    assert r.srem("s", "b", "c") == 2
    assert r.exists("s") == 0
    assert r.srem("nokey", "a") == 0
    assert r.scard("nokey") == 0


def test_wrong_type_and_errors(r):
    r.set("str", "v")
    for call in (lambda: r.sadd("str", "a"), lambda: r.smembers("str"), lambda: r.scard("str"),
                 lambda: r.spop("str"), lambda: r.sinter("str", "x"),
                 lambda: r.sunionstore("d", "nokey", "str"), lambda: r.smove("str", "d", "a")):
        with pytest.raises(redis.ResponseError, match=WRONGTYPE):
            call()
    r.sadd("s", "a")
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.execute_command("SPOP", "s", "-1")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SPOP", "s", "1", "2")
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("SINTERCARD", "0", "s")
    with pytest.raises(redis.ResponseError, match="Number of keys can't be greater"):
        r.execute_command("SINTERCARD", "3", "s")
    with pytest.raises(redis.ResponseError, match="LIMIT can't be negative"):
        r.execute_command("SINTERCARD", "1", "s", "LIMIT", "-1")
    with pytest.raises(redis.ResponseError, match="value must between -9223372036854775807"):
        r.execute_command("SRANDMEMBER", "s", "-9223372036854775808")
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("SSCAN", "s", "abc")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SSCAN", "s", "0", "COUNT", "0")


def test_algebra_and_store(r):
    r.sadd("a", 1, 2, 3, "x")
    r.sadd("b", 2, 3, 4)
    assert r.sinter("a", "b") == {b"2", b"3"}
    assert r.sunion("a", "b") == {b"1", b"2", b"3", b"4", b"x"}
    assert r.sdiff("a", "b") == {b"1", b"x"}
    assert r.sintercard(2, ["a", "b"]) == 2
    assert r.sintercard(2, ["a", "b"], limit=1) == 1
    assert r.sinter("a", "nokey") == set()
    assert r.sdiff("nokey", "a") == set()
    r.set("dst", "old", ex=100)
    assert r.sinterstore("dst", ["a", "b"]) == 2
    assert r.ttl("dst") == -1 and r.type("dst") == b"set"
    assert r.sunionstore("a", ["a", "b"]) == 5
    assert r.sdiffstore("b", ["b", "b"]) == 0
    assert r.exists("b") == 0
    assert r.sinterstore("a", ["a", "nokey"]) == 0
    assert r.exists("a") == 0


def test_smove(r):
    r.sadd("src", "a", "b")
    assert r.smove("src", "dst", "a") in (1, True)
    assert r.smove("src", "dst", "zz") in (0, False)
    assert r.smove("nokey", "dst", "a") in (0, False)
    assert r.smove("dst", "dst", "a") in (1, True)
    assert r.smove("src", "dst", "b") in (1, True)
    assert r.exists("src") == 0
    assert r.smembers("dst") == {b"a", b"b"}
    r.set("str", "v")
    # A missing source answers 0 before the destination's type is checked.
    assert r.smove("nokey", "str", "a") in (0, False)


def test_spop_and_srandmember(r):
    members = {str(i).encode() for i in range(20)} | {b"a"}
    r.sadd("s", *members)
    popped = r.spop("s", 5)
    assert len(popped) == 5 and set(popped) <= members
    assert r.scard("s") == 16
    rest = r.spop("s", 100)
    assert set(rest) | set(popped) == members
    assert r.exists("s") == 0
    assert r.spop("s") is None
    assert r.spop("s", 3) in ([], set())
    r.sadd("t", *members)
    one = r.srandmember("t")
    assert one in members
    distinct = r.srandmember("t", 10)
    assert len(distinct) == 10 and len(set(distinct)) == 10
    assert len(r.srandmember("t", -50)) == 50
    assert set(r.srandmember("t", 100)) == members
    assert r.srandmember("nokey", 5) == []
    assert r.srandmember("nokey") is None


def test_sscan_small_and_big(r):
    r.sadd("small", "a", "b", 1)
    cursor, items = r.sscan("small", 0)
    assert cursor == 0 and set(items) == {b"a", b"b", b"1"}
    r.sadd("big", *["m%d" % i for i in range(1000)])
    assert set(r.sscan_iter("big", count=20)) == {b"m%d" % i for i in range(1000)}
    assert set(r.sscan_iter("big", match="m99*")) == {b"m99"} | {b"m99%d" % i for i in range(10)}
    assert r.sscan("nokey", 0) == (0, [])


def test_encodings(r, is72):
    r.sadd("ints", *range(512))
    assert encoding(r, "ints") == "intset"
    r.sadd("ints", 512)
    assert encoding(r, "ints") == "hashtable"
    r.sadd("i2", 1, 2, 3)
    r.sadd("i2", "x")
    r.sadd("strs", *["s%d" % i for i in range(128)])
    if is72:
        assert encoding(r, "i2") == "listpack"
        assert encoding(r, "strs") == "listpack"
        r.sadd("strs", "one-more")
        assert encoding(r, "strs") == "hashtable"
        r.sadd("long", "x" * 65)
        assert encoding(r, "long") == "hashtable"
    r.sadd("l1", "a", "b", 1, 3)
    r.sadd("l2", "c", 1, 3)
    r.sinterstore("res", ["l1", "l2"])
    assert encoding(r, "res") == "intset"


def test_exact_bytes_resp2_and_resp3():
    assert raw_call("SADD", "s", "3", "1", "2") == b":3\r\n"
    assert raw_call("SMEMBERS", "s") == b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    assert raw_call("SMEMBERS", "s", resp3=True) == b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    assert raw_call("SMEMBERS", "nokey", resp3=True) == b"~0\r\n"
    assert raw_call("SPOP", "nokey", resp3=True) == b"_\r\n"
    assert raw_call("SPOP", "nokey", "3", resp3=True) == b"~0\r\n"
    assert raw_call("SRANDMEMBER", "nokey", "3", resp3=True) == b"*0\r\n"
    assert raw_call("SSCAN", "nokey", "0", "COUNT", "0") == b"*2\r\n$1\r\n0\r\n*0\r\n"
    assert raw_call("SINTER", "s", "nokey", resp3=True) == b"~0\r\n"
    assert raw_call("SUNION", "s", resp3=True) == b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
    assert raw_call("SPOP", "s", "10", resp3=True) == b"~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"


def test_digest_does_not_depend_on_encoding_or_order():
    c = make_client()
    try:
        c.sadd("a", "x", "y", 1)
        c.sadd("b", 1, "y", "x")
        try:
            da = c.execute_command("DEBUG", "DIGEST-VALUE", "a")
        except redis.ResponseError:
            pytest.skip("DEBUG not enabled")
        assert da == c.execute_command("DEBUG", "DIGEST-VALUE", "b")
    finally:
        c.close()
