"""End-to-end checks of the LIST family (non-blocking commands) with real clients: redis-py in
RESP2 and RESP3, and raw sockets where exact reply bytes matter.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_list.py -q

Passes against redis-server as well.  The listpack encoding of small lists and the LSET index
truncation are 7.2 behaviour, so those checks are skipped on older servers.  FLUSHALLs the
server before every test.
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


def raw_calls(*commands, resp3=False):
    """Sends each command on one fresh connection; returns the raw replies."""
    c = Conn(HOST, PORT, timeout=10)
    try:
        if resp3:
            c.send(encode_command([b"HELLO", b"3"]))
            c.read_reply()
        out = []
        for args in commands:
            c.send(encode_command([a if isinstance(a, bytes) else str(a).encode() for a in args]))
            out.append(c.read_reply())
        return out
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
    c.config_set("list-max-listpack-size", -2)
    yield
    c.config_set("list-max-listpack-size", -2)
    c.close()


@pytest.fixture(params=[2, 3])
def r(request):
    c = make_client(protocol=request.param)
    yield c
    c.close()


def encoding(c, key):
    e = c.object("encoding", key)
    return e.decode() if isinstance(e, bytes) else e


def test_push_range_and_length(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "z", "y") == 5
    assert r.lrange("l", 0, -1) == [b"y", b"z", b"a", b"b", b"c"]
    assert r.llen("l") == 5
    assert r.llen("nokey") == 0
    assert r.lpushx("nokey", "a") == 0
    assert r.rpushx("l", "d") == 6
    assert r.exists("nokey") == 0
    assert r.lrange("l", -2, 100) == [b"c", b"d"]
    assert r.lrange("l", 4, 2) == []
    assert r.lrange("nokey", 0, -1) == []


def test_index_set_insert(r):
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", -1) == b"c"
    assert r.lindex("l", 5) is None
    assert r.lset("l", 1, "B") is True
    with pytest.raises(redis.ResponseError, match="index out of range"):
        r.lset("l", 3, "x")
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.lset("nokey", 0, "x")
    assert r.linsert("l", "before", "a", "0") == 4
    assert r.linsert("l", "after", "c", "d") == 5
    assert r.linsert("l", "after", "missing", "x") == -1
    assert r.linsert("nokey", "after", "a", "x") == 0
    assert r.lrange("l", 0, -1) == [b"0", b"a", b"B", b"c", b"d"]


def test_pops_with_and_without_count(r):
    r.rpush("l", *"abcdef")
    assert r.lpop("l") == b"a"
    assert r.rpop("l") == b"f"
    assert r.lpop("l", 2) == [b"b", b"c"]
    assert r.rpop("l", 10) == [b"e", b"d"]
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.lpop("l", 3) is None
    with pytest.raises(redis.ResponseError, match="must be positive"):
        r.lpop("l", -1)


def test_null_shapes_resp2_and_resp3():
    replies = raw_calls(["RPUSH", "l", "x"], ["LPOP", "nokey"], ["LPOP", "nokey", "1"],
                        ["LPOP", "l", "0"], ["LMPOP", "1", "nokey", "LEFT"], ["LINDEX", "nokey", "0"],
                        ["LPOS", "l", "z"], ["LPOS", "l", "z", "COUNT", "0"],
                        ["LMOVE", "nokey", "l", "LEFT", "LEFT"])
    assert replies[1:] == [b"$-1\r\n", b"*-1\r\n", b"*0\r\n", b"*-1\r\n", b"$-1\r\n", b"$-1\r\n",
                           b"*0\r\n", b"$-1\r\n"]
    replies = raw_calls(["RPUSH", "l", "x"], ["LPOP", "nokey"], ["LPOP", "nokey", "1"],
                        ["LMPOP", "1", "nokey", "LEFT"], ["LPOS", "l", "z"],
                        ["RPOPLPUSH", "nokey", "l"], resp3=True)
    assert replies[1:] == [b"_\r\n", b"_\r\n", b"_\r\n", b"_\r\n", b"_\r\n"]


def test_lpos_options(r):
    r.rpush("l", "a", "b", "c", "1", "2", "3", "c", "c")
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "c", rank=-1) == 7
    assert r.lpos("l", "c", rank=2) == 6
    assert r.lpos("l", "c", count=0) == [2, 6, 7]
    assert r.lpos("l", "c", count=2, rank=-1) == [7, 6]
    assert r.lpos("l", "c", count=0, maxlen=3) == [2]
    assert r.lpos("l", "c", rank=-2, maxlen=1) is None
    assert r.lpos("l", "x") is None
    with pytest.raises(redis.ResponseError, match="RANK can't be zero"):
        r.lpos("l", "c", rank=0)
    with pytest.raises(redis.ResponseError, match="COUNT can't be negative"):
        r.lpos("l", "c", count=-1)
    with pytest.raises(redis.ResponseError, match="MAXLEN can't be negative"):
        r.lpos("l", "c", maxlen=-1)


def test_lrem_and_ltrim(r):
    r.rpush("l", "a", "b", "a", "c", "a")
    assert r.lrem("l", 1, "a") == 1
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"c"]
    assert r.lrem("l", 0, "zz") == 0
    assert r.ltrim("l", 1, -1) is True
    assert r.lrange("l", 0, -1) == [b"a", b"c"]
    assert r.ltrim("l", 5, 10) is True
    assert r.exists("l") == 0
    assert r.ltrim("nokey", 0, 1) is True


def test_lmpop(r):
    r.rpush("b", "1", "2", "3")
    assert r.lmpop(2, "a", "b", direction="LEFT") == [b"b", [b"1"]]
    assert r.lmpop(2, "a", "b", direction="RIGHT", count=5) == [b"b", [b"3", b"2"]]
    assert r.lmpop(2, "a", "b", direction="LEFT") is None
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("LMPOP", 0, "a", "LEFT")
    with pytest.raises(redis.ResponseError, match="count should be greater than 0"):
        r.execute_command("LMPOP", 1, "a", "LEFT", "COUNT", 0)
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("LMPOP", 2, "a", "LEFT")


def test_lmove_and_rpoplpush(r):
    r.rpush("src", "a", "b", "c")
    assert r.lmove("src", "dst", "LEFT", "RIGHT") == b"a"
    assert r.rpoplpush("src", "dst") == b"c"
    assert r.lmove("src", "src", "LEFT", "RIGHT") == b"b"
    assert r.lrange("dst", 0, -1) == [b"c", b"a"]
    assert r.lmove("src", "dst", "RIGHT", "LEFT") == b"b"
    assert r.exists("src") == 0
    assert r.lmove("src", "dst", "LEFT", "LEFT") is None
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.lmove("dst", "s", "LEFT", "LEFT")
    assert r.lrange("dst", 0, -1) == [b"b", b"c", b"a"]


def test_wrong_type_everywhere():
    c = make_client()
    c.set("s", "x")
    for args in (["LPUSH", "s", "a"], ["RPUSHX", "s", "a"], ["LLEN", "s"], ["LINDEX", "s", "0"],
                 ["LSET", "s", "0", "a"], ["LRANGE", "s", "0", "1"], ["LTRIM", "s", "0", "1"],
                 ["LPOS", "s", "a"], ["LREM", "s", "0", "a"], ["LPOP", "s"], ["RPOP", "s", "2"],
                 ["LMPOP", "1", "s", "LEFT"], ["LINSERT", "s", "BEFORE", "a", "b"],
                 ["RPOPLPUSH", "s", "d"]):
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command(*args)
        assert str(e.value) == WRONGTYPE, args
    c.close()


def test_binary_elements(r):
    values = [b"", b"\x00", b"\xff\xfe\r\n", b"a b", b"x" * 70000, b"-0", b"007", b"9223372036854775808"]
    assert r.rpush("l", *values) == len(values)
    assert r.lrange("l", 0, -1) == values
    assert r.lpos("l", b"\x00") == 1
    assert r.lrem("l", 0, b"x" * 70000) == 1


def test_encoding_conversions(r, is72):
    if not is72:
        pytest.skip("listpack-encoded lists are Redis 7.2 behaviour")
    r.config_set("list-max-listpack-size", 3)
    r.rpush("l", "a", "b", "c")
    assert encoding(r, "l") == "listpack"
    r.rpush("l", "d")
    assert encoding(r, "l") == "quicklist"
    r.rpop("l", 3)
    assert encoding(r, "l") == "listpack"
    r.config_set("list-max-listpack-size", -1)
    r.delete("l")
    r.rpush("l", "a", "b", "c", "x" * 5000)
    assert encoding(r, "l") == "quicklist"
    r.rpop("l")
    assert encoding(r, "l") == "listpack"
    # A failed LINSERT still converts (Redis converts before it looks for the pivot).
    r.config_set("list-max-listpack-size", 3)
    r.delete("l")
    r.rpush("l", "a", "b", "c")
    assert r.linsert("l", "after", "missing", "x") == -1
    assert encoding(r, "l") == "quicklist"


def test_big_lists_across_many_nodes(r):
    n = 20000
    r.rpush("l", *range(n))
    assert r.llen("l") == n
    assert r.lindex("l", 12345) == b"12345"
    assert r.lindex("l", -1) == str(n - 1).encode()
    assert r.lrange("l", 9998, 10001) == [b"9998", b"9999", b"10000", b"10001"]
    assert r.lset("l", 15000, "x") is True
    assert r.lpos("l", "x") == 15000
    assert r.linsert("l", "before", "10000", "y") == n + 1
    assert r.lindex("l", 10000) == b"y"
    assert r.ltrim("l", 100, -101) is True
    assert r.llen("l") == n + 1 - 200
    assert r.lpop("l", 3) == [b"100", b"101", b"102"]
    assert r.rpop("l", 2) == [str(n - 101).encode(), str(n - 102).encode()]


def test_lset_index_is_truncated_to_32_bits(is72):
    if not is72:
        pytest.skip("Redis 7.2 passes LSET's index through an int")
    c = make_client()
    c.rpush("l", "a", "b", "c")
    assert c.lset("l", 9223372036854775807, "X") is True  # truncates to -1
    assert c.lrange("l", 0, -1) == [b"a", b"b", b"X"]
    c.close()


def test_debug_digest_value_matches_contents():
    c = make_client()
    c.rpush("a", "x", "1", "y" * 100)
    c.rpush("b", "x", "1", "y" * 100)
    try:
        d = c.execute_command("DEBUG", "DIGEST-VALUE", "a", "b")
    except redis.ResponseError:
        pytest.skip("DEBUG disabled")
    assert d[0] == d[1]
    c.close()
