"""End-to-end checks of SORT and SORT_RO with real clients (redis-py, RESP2 and RESP3, and raw
sockets where exact bytes matter).

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_sort.py -q

Passes against redis-server 7.2 as well (the stored list's listpack encoding is 7.2-only and
skipped on older servers).  FLUSHALLs the server before every test.
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
    c.close()
    yield


@pytest.fixture(params=[2, 3])
def r(request):
    c = make_client(protocol=request.param)
    yield c
    c.close()


def test_numeric_alpha_and_desc(r):
    r.rpush("l", 3, 1, 2, 10, -1, 1.5)
    assert r.sort("l") == [b"-1", b"1", b"1.5", b"2", b"3", b"10"]
    assert r.sort("l", desc=True) == [b"10", b"3", b"2", b"1.5", b"1", b"-1"]
    assert r.sort("l", alpha=True) == [b"-1", b"1", b"1.5", b"10", b"2", b"3"]
    assert r.execute_command("SORT_RO", "l", "ALPHA", "DESC") == [b"3", b"2", b"10", b"1.5", b"1", b"-1"]


def test_sets_and_sorted_sets(r):
    r.sadd("s", 5, 3, 9, 1)
    assert r.sort("s") == [b"1", b"3", b"5", b"9"]
    assert r.sort("s", by="nosort") == [b"1", b"3", b"5", b"9"]  # intset order
    r.zadd("z", {"c": 1, "b": 2, "a": 3})
    assert r.sort("z", alpha=True) == [b"a", b"b", b"c"]
    assert r.sort("z", by="nosort") == [b"c", b"b", b"a"]
    assert r.sort("z", by="nosort", desc=True, start=1, num=5) == [b"b", b"c"]
    assert r.object("encoding", "z") == b"skiplist"


def test_by_and_get_patterns(r):
    r.rpush("l", 1, 2, 3)
    r.mset({"w_1": 30, "w_2": 10, "w_3": 20, "o_1": "one", "o_3": "three"})
    r.hset("h_2", mapping={"f": "two"})
    assert r.sort("l", by="w_*") == [b"2", b"3", b"1"]
    assert r.sort("l", by="w_*", get=["#", "o_*", "h_*->f"]) == [
        b"2", None, b"two", b"3", b"three", None, b"1", b"one", None]
    assert r.sort("l", by="h_*->f", alpha=True, get="#") == [b"1", b"3", b"2"]
    assert r.sort("l", get="nostar") == [None, None, None]


def test_limit_clamping(r):
    r.rpush("l", *range(10))
    assert r.sort("l", start=-5, num=2) == [b"0", b"1"]
    assert r.sort("l", start=8, num=100) == [b"8", b"9"]
    assert r.sort("l", start=2, num=-1) == [str(i).encode() for i in range(2, 10)]
    assert r.sort("l", start=20, num=5) == []
    assert r.sort("l", start=0, num=0) == []
    assert raw_call("SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807") == b"*0\r\n"


def test_store(r, is72):
    r.rpush("l", 3, 1, 2)
    r.set("dst", "x", ex=100)
    assert r.sort("l", store="dst") == 3
    assert r.lrange("dst", 0, -1) == [b"1", b"2", b"3"]
    assert r.ttl("dst") == -1
    if is72:
        assert r.object("encoding", "dst") == b"listpack"
    assert r.sort("l", get=["#", "missing_*"], store="dst") == 6
    assert r.lrange("dst", 0, -1) == [b"1", b"", b"2", b"", b"3", b""]
    assert r.sort("nokey", store="dst") == 0
    assert r.exists("dst") == 0
    r.rpush("big", *[("%03d" % i) + "x" * 40 for i in range(300)])
    assert r.sort("big", alpha=True, desc=True, store="big") == 300
    assert r.lindex("big", 0) == b"299" + b"x" * 40
    assert r.object("encoding", "big") == b"quicklist"


def test_errors(r):
    r.rpush("l", 1, "x")
    r.set("str", "v")
    with pytest.raises(redis.ResponseError, match="One or more scores can't be converted into double"):
        r.sort("l")
    assert r.sort("l", alpha=True) == [b"1", b"x"]
    assert r.sort("l", by="nosort") == [b"1", b"x"]
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.sort("str")
    for args, message in [(["FOO"], "ERR syntax error"), (["LIMIT", "1"], "ERR syntax error"),
                          (["LIMIT", "a", "1"], "ERR value is not an integer or out of range"),
                          (["BY"], "ERR syntax error"), (["STORE"], "ERR syntax error")]:
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command("SORT", "str", *args)
        assert str(e.value) == message.removeprefix("ERR ")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("SORT_RO", "l", "STORE", "x")


def test_exact_bytes_resp2_and_resp3():
    c = make_client()
    c.rpush("l", "a", "b")
    c.close()
    assert raw_call("SORT", "l", "ALPHA", "GET", "#", "GET", "x_*") == \
        b"*4\r\n$1\r\na\r\n$-1\r\n$1\r\nb\r\n$-1\r\n"
    assert raw_call("SORT", "l", "ALPHA", "GET", "#", "GET", "x_*", resp3=True) == \
        b"*4\r\n$1\r\na\r\n_\r\n$1\r\nb\r\n_\r\n"
    assert raw_call("SORT", "missing") == b"*0\r\n"
    assert raw_call("SORT", "l", "ALPHA", "STORE", "d", resp3=True) == b":2\r\n"


def test_equal_alpha_weights_with_limit_follow_pqsort(r):
    r.rpush("big", *["e%d" % i for i in range(60)])
    for i in range(0, 60, 3):
        r.set("wt_e%d" % i, "k%d" % (i % 4))
    # Recorded from redis-server 7.2.4: pqsort's placement of equal weights.
    assert r.sort("big", by="wt_*", alpha=True, start=5, num=6) == \
        [b"e32", b"e34", b"e35", b"e37", b"e38", b"e40"]
