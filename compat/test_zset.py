"""End-to-end checks of the SORTED SET family with real clients (redis-py, RESP2 and RESP3, and
raw sockets where exact bytes matter).

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_zset.py -q

Passes against redis-server as well; 7.2-only behaviour (ZRANK ... WITHSCORE, shortest
round-trip score formatting, zsetTypeMaybeConvert) is skipped on older servers.
FLUSHALLs the server before every test.
"""

import os
import random
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
    c.config_set("zset-max-listpack-entries", 128)
    c.config_set("zset-max-listpack-value", 64)
    c.close()
    yield


@pytest.fixture
def r():
    c = make_client()
    yield c
    c.close()


@pytest.fixture
def r3():
    c = make_client(protocol=3)
    yield c
    c.close()


# --------------------------------------------------------------------------------------
# ZADD / ZINCRBY / ZSCORE / ZCARD / ZREM
# --------------------------------------------------------------------------------------

def test_zadd_options(r):
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3}) == 3
    assert r.zadd("z", {"a": 5, "d": 4}, nx=True) == 1
    assert r.zscore("z", "a") == 1.0
    assert r.zadd("z", {"a": 10, "zz": 20}, xx=True, ch=True) == 1
    assert r.zscore("z", "zz") is None
    assert r.zadd("z", {"a": 5, "b": 11}, gt=True, ch=True) == 1
    assert r.zscore("z", "a") == 10.0 and r.zscore("z", "b") == 11.0
    assert r.zadd("z", {"a": 1}, lt=True, ch=True) == 1
    assert r.zadd("z", {"a": 1}, incr=True) == 2.0
    assert r.zadd("z", {"a": 1}, incr=True, nx=True) is None
    with pytest.raises(redis.ResponseError, match="XX and NX options at the same time are not compatible"):
        r.execute_command("ZADD", "z", "NX", "XX", "1", "a")
    with pytest.raises(redis.ResponseError, match="GT, LT, and/or NX options"):
        r.execute_command("ZADD", "z", "GT", "LT", "1", "a")
    with pytest.raises(redis.ResponseError, match="INCR option supports a single increment-element pair"):
        r.execute_command("ZADD", "z", "INCR", "1", "a", "2", "b")
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("ZADD", "z", "nan", "a")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("ZADD", "z", "1", "a", "2")


def test_zincrby_and_nan(r, r3):
    assert r.zincrby("z", 2.5, "m") == 2.5
    assert r.zincrby("z", -1, "m") == 1.5
    assert r3.zincrby("z", 1, "m") == 2.5
    r.zadd("z", {"inf": float("inf")})
    with pytest.raises(redis.ResponseError, match=r"resulting score is not a number \(NaN\)"):
        r.zincrby("z", float("-inf"), "inf")
    assert r.zscore("z", "inf") == float("inf")
    with pytest.raises(redis.ResponseError, match="value is not a valid float"):
        r.execute_command("ZINCRBY", "z", "abc", "m")


def test_zscore_zmscore_zcard_zrem(r, r3):
    r.zadd("z", {"a": 1.5, "b": -2})
    assert r.zcard("z") == 2 and r.zcard("nokey") == 0
    assert r.zmscore("z", ["a", "x", "b"]) == [1.5, None, -2.0]
    assert r3.zscore("z", "a") == 1.5
    assert raw_call("ZSCORE", "z", "a", resp3=True) == b",1.5\r\n"
    assert raw_call("ZSCORE", "z", "a") == b"$3\r\n1.5\r\n"
    assert r.zrem("z", "a", "x") == 1
    assert r.zrem("z", "b") == 1
    assert r.exists("z") == 0


def test_score_formatting(r, is72):
    r.zadd("z", {"a": 0.1, "b": 1e20, "c": 1.5e-7, "d": 123456789, "e": float("-inf")})
    if is72:
        assert raw_call("ZRANGE", "z", "0", "-1", "WITHSCORES") == (
            b"*10\r\n$1\r\ne\r\n$4\r\n-inf\r\n$1\r\nc\r\n$6\r\n1.5e-7\r\n$1\r\na\r\n$3\r\n0.1\r\n"
            b"$1\r\nd\r\n$9\r\n123456789\r\n$1\r\nb\r\n$5\r\n1e+20\r\n")
    assert r.zrange("z", 0, -1, withscores=True)[2] == (b"a", 0.1)


# --------------------------------------------------------------------------------------
# Ranges
# --------------------------------------------------------------------------------------

def test_zrange_forms(r, r3):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 3, "e": 10})
    assert r.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]
    assert r.zrange("z", 0, 1, desc=True, withscores=True) == [(b"e", 10.0), (b"d", 3.0)]
    assert r.zrange("z", "(1", 3, byscore=True, offset=1, num=5) == [b"c", b"d"]
    assert r.zrangebyscore("z", "-inf", "+inf", start=3, num=-1) == [b"d", b"e"]
    assert r.zrevrangebyscore("z", 3, "(1", withscores=True) == [(b"d", 3.0), (b"c", 3.0), (b"b", 2.0)]
    assert r.zrevrange("z", 0, 0) == [b"e"]
    assert r3.zrange("z", 0, 1, withscores=True) == [[b"a", 1.0], [b"b", 2.0]]
    assert raw_call("ZRANGE", "z", "0", "0", "WITHSCORES", resp3=True) == b"*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    with pytest.raises(redis.ResponseError, match="LIMIT is only supported in combination with either BYSCORE or BYLEX"):
        r.execute_command("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1")
    with pytest.raises(redis.ResponseError, match="WITHSCORES not supported in combination with BYLEX"):
        r.execute_command("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")
    with pytest.raises(redis.ResponseError, match="min or max is not a float"):
        r.execute_command("ZRANGEBYSCORE", "z", "x", "1")
    with pytest.raises(redis.ResponseError, match="min or max not valid string range item"):
        r.execute_command("ZRANGEBYLEX", "z", "a", "+")


def test_lex_ranges(r):
    r.zadd("z", {m: 0 for m in "abcdefg"})
    assert r.zrangebylex("z", "[b", "(e") == [b"b", b"c", b"d"]
    assert r.zrevrangebylex("z", "+", "-", start=1, num=2) == [b"f", b"e"]
    assert r.zlexcount("z", "-", "+") == 7
    assert r.zlexcount("z", "(a", "[c") == 2
    assert r.zremrangebylex("z", "[f", "+") == 2
    assert r.zrange("z", 0, -1) == [b"a", b"b", b"c", b"d", b"e"]


def test_zcount_and_zremrange(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zcount("z", "(1", 3) == 2
    assert r.zcount("z", "-inf", "+inf") == 5
    assert r.zremrangebyrank("z", 0, 1) == 2
    assert r.zremrangebyscore("z", "(3", 4) == 1
    assert r.zrange("z", 0, -1) == [b"c", b"e"]
    assert r.zremrangebyrank("z", 0, -1) == 2
    assert r.exists("z") == 0


def test_zrank_withscore(r, r3, is72):
    r.zadd("z", {"a": 1, "b": 7})
    assert r.zrank("z", "b") == 1 and r.zrevrank("z", "b") == 0
    assert r.zrank("z", "nosuch") is None
    if not is72:
        pytest.skip("ZRANK WITHSCORE is 7.2-only")
    assert raw_call("ZRANK", "z", "b", "WITHSCORE") == b"*2\r\n:1\r\n$1\r\n7\r\n"
    assert raw_call("ZREVRANK", "z", "a", "WITHSCORE", resp3=True) == b"*2\r\n:1\r\n,1\r\n"
    assert raw_call("ZRANK", "z", "nosuch", "WITHSCORE") == b"*-1\r\n"
    assert raw_call("ZRANK", "z", "b", "foo") == b"-ERR syntax error\r\n"


def test_big_set_against_a_model(r):
    """Skiplist encoding: ranks, ranges and removals checked against a Python model."""
    rnd = random.Random(7)
    model = {}
    for _ in range(20):
        batch = {"m%d" % rnd.randrange(3000): rnd.randrange(-200, 200) / 4 for _ in range(200)}
        r.zadd("big", batch)
        model.update(batch)
    assert r.object("encoding", "big") == b"skiplist"
    order = sorted(model.items(), key=lambda kv: (kv[1], kv[0].encode()))
    assert r.zcard("big") == len(order)
    assert [m.decode() for m in r.zrange("big", 0, -1)] == [m for m, _ in order]
    for m, _ in rnd.sample(order, 50):
        assert r.zrank("big", m) == [x for x, _ in order].index(m)
    got = r.zrangebyscore("big", -10, "(10", withscores=True, start=5, num=30)
    want = [(m.encode(), s) for m, s in order if -10 <= s < 10][5:35]
    assert got == want
    removed = r.zremrangebyscore("big", 0, 20)
    assert removed == sum(1 for _, s in order if 0 <= s <= 20)
    order = [(m, s) for m, s in order if not 0 <= s <= 20]
    assert [m.decode() for m in r.zrevrange("big", 0, 9)] == [m for m, _ in order[::-1][:10]]


# --------------------------------------------------------------------------------------
# Pops, random members, scans
# --------------------------------------------------------------------------------------

def test_pops(r, r3):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.zpopmin("z") == [(b"a", 1.0)]
    assert r.zpopmax("z", 2) == [(b"d", 4.0), (b"c", 3.0)]
    assert raw_call("ZPOPMIN", "z", "0") == b"*0\r\n"
    with pytest.raises(redis.ResponseError, match="value is out of range, must be positive"):
        r.execute_command("ZPOPMIN", "z", "-1")
    assert r3.zpopmin("z", 5) == [[b"b", 2.0]]
    assert r.exists("z") == 0
    r.zadd("z2", {"x": 1, "y": 2})
    assert r.zmpop(2, ["nokey", "z2"], max=True, count=5) == [b"z2", [[b"y", b"2"], [b"x", b"1"]]]
    assert r.zmpop(1, ["z2"], min=True) is None
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("ZMPOP", "0", "z", "MIN")
    with pytest.raises(redis.ResponseError, match="count should be greater than 0"):
        r.execute_command("ZMPOP", "1", "z", "MIN", "COUNT", "0")


def test_zrandmember(r, r3):
    members = {"m%d" % i: i for i in range(20)}
    r.zadd("z", members)
    assert r.zrandmember("z").decode() in members
    distinct = r.zrandmember("z", 10)
    assert len(set(distinct)) == 10 and all(m.decode() in members for m in distinct)
    repeats = r.zrandmember("z", -50, withscores=True)
    assert len(repeats) == 100
    whole = r.zrandmember("z", 100, withscores=True)
    assert len(whole) == 40
    pairs = r3.zrandmember("z", -3, withscores=True)
    assert len(pairs) == 3 and all(members[m.decode()] == s for m, s in pairs)
    assert r.zrandmember("nokey") is None and r.zrandmember("nokey", 3) == []
    with pytest.raises(redis.ResponseError, match="value is out of range"):
        r.execute_command("ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES")


@pytest.mark.parametrize("size", [10, 500])
def test_zscan_full_coverage(r, size):
    members = {"m%d" % i: i for i in range(size)}
    r.zadd("z", members)
    seen = {}
    for m, s in r.zscan_iter("z", count=20):
        seen[m.decode()] = s
    assert seen == {m: float(s) for m, s in members.items()}
    assert dict(r.zscan_iter("z", match="m1*")) == {m.encode(): float(s) for m, s in members.items()
                                                    if m.startswith("m1")}
    with pytest.raises(redis.ResponseError, match="invalid cursor"):
        r.execute_command("ZSCAN", "z", "abc")


# --------------------------------------------------------------------------------------
# Set operations
# --------------------------------------------------------------------------------------

def test_union_inter_diff(r, r3):
    r.zadd("s1", {"a": 1, "b": 2, "c": 3, "d": 4})
    r.zadd("s2", {"b": 10, "c": 20, "e": 30})
    assert r.zunion(["s1", "s2"], withscores=True) == [(b"a", 1.0), (b"d", 4.0), (b"b", 12.0), (b"c", 23.0),
                                                      (b"e", 30.0)]
    assert r.zinter({"s1": 2, "s2": 0.5}, aggregate="MIN", withscores=True) == [(b"b", 4.0), (b"c", 6.0)]
    assert r.zdiff(["s1", "s2"]) == [b"a", b"d"]
    assert r.zintercard(2, ["s1", "s2"], limit=1) == 1
    assert r3.zdiff(["s1", "s2"], withscores=True) == [[b"a", 1.0], [b"d", 4.0]]
    assert r.zunionstore("d", ["s1", "s2"], aggregate="MAX") == 5
    assert r.zrange("d", 0, -1, withscores=True)[-1] == (b"e", 30.0)
    assert r.object("encoding", "d") == b"listpack"
    assert r.zinterstore("d", ["s1", "nokey"]) == 0
    assert r.exists("d") == 0
    assert r.zdiffstore("d", ["s1", "s2"]) == 2
    with pytest.raises(redis.ResponseError, match="at least 1 input key is needed for 'zunion' command"):
        r.execute_command("ZUNION", "0", "s1")
    with pytest.raises(redis.ResponseError, match="weight value is not a float"):
        r.execute_command("ZUNION", "1", "s1", "WEIGHTS", "x")
    with pytest.raises(redis.ResponseError, match="LIMIT can't be negative"):
        r.execute_command("ZINTERCARD", "1", "s1", "LIMIT", "-1")


def test_plain_sets_count_with_score_one(r):
    r.zadd("z", {"a": 5, "x": 2})
    r.sadd("s", "a", "b")
    assert r.zunion(["z", "s"], withscores=True) == [(b"b", 1.0), (b"x", 2.0), (b"a", 6.0)]
    assert r.zinter(["z", "s"]) == [b"a"]


def test_zrangestore(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})
    assert r.zrangestore("dst", "z", 1, 2) == 2
    assert r.zrange("dst", 0, -1) == [b"b", b"c"]
    assert r.zrangestore("dst", "z", 5, "(2", byscore=True, desc=True, offset=0, num=2) == 2
    assert r.zrange("dst", 0, -1) == [b"d", b"e"]
    assert r.zrangestore("dst", "nokey", 0, -1) == 0
    assert r.exists("dst") == 0


def test_wrongtype(r):
    r.set("str", "v")
    for args in (("ZADD", "str", 1, "a"), ("ZRANGE", "str", 0, -1), ("ZSCORE", "str", "a"), ("ZPOPMIN", "str"),
                 ("ZUNION", "1", "str"), ("ZSCAN", "str", 0), ("ZRANDMEMBER", "str")):
        with pytest.raises(redis.ResponseError, match=WRONGTYPE):
            r.execute_command(*args)
    assert r.zunionstore("str", ["nokey"]) == 0
    assert r.exists("str") == 0


# --------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------

def test_encodings(r, is72):
    r.zadd("small", {"a": 1})
    assert r.object("encoding", "small") == b"listpack"
    r.zadd("big", {"m%d" % i: i for i in range(129)})
    assert r.object("encoding", "big") == b"skiplist"
    r.zadd("long", {"x" * 65: 1})
    assert r.object("encoding", "long") == b"skiplist"
    r.config_set("zset-max-listpack-entries", 4)
    r.zadd("small2", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.object("encoding", "small2") == b"listpack"
    r.zadd("small2", {"e": 5})
    assert r.object("encoding", "small2") == b"skiplist"
    assert r.zunionstore("u", ["small"]) == 1
    assert r.object("encoding", "u") == b"listpack"
    if is72:
        # zsetTypeMaybeConvert: more pairs than the limit convert even if none is new.
        r.execute_command("ZADD", "small", *(["1", "a"] * 5))
        assert r.object("encoding", "small") == b"skiplist"


def test_metrics_pattern(r):
    """Time series: score = timestamp, member = 'timestamp:value'; read the last minutes."""
    base = 1_700_000_000
    pipe = r.pipeline(transaction=False)
    for t in range(0, 3600, 10):
        pipe.zadd("day:host1:cpu", {"%d:%d" % (base + t, t % 97): base + t})
    pipe.execute()
    last5 = r.zrangebyscore("day:host1:cpu", base + 3600 - 300, "+inf")
    assert len(last5) == 30 and last5[-1] == b"%d:%d" % (base + 3590, 3590 % 97)
    assert r.zremrangebyscore("day:host1:cpu", "-inf", "(%d" % (base + 1800)) == 180
    assert r.zcard("day:host1:cpu") == 180
