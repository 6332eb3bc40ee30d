"""Hash family end to end with real clients: redis-py (RESP2 and RESP3), redis-cli and raw
sockets.  Like test_compat.py, every test must pass against redis-server and against Apus:

    APUS_PORT=6379 python3 -m pytest compat/test_hash.py -q

The suite FLUSHALLs the server before every test.
"""

import os
import sys

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compat import (  # noqa: E402,F401  (fixtures are used by name)
    clean_server, cli, make_client, r, r3, raw, raw_call, restore_config, rp, version, server_info,
)

ResponseError = redis.exceptions.ResponseError
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(autouse=True)
def default_hash_limits():
    """Redis's default listpack limits for every test (restored afterwards)."""
    c = make_client()
    saved = c.config_get("hash-max-listpack-*")
    c.config_set("hash-max-listpack-entries", 512)
    c.config_set("hash-max-listpack-value", 64)
    yield
    for k, v in saved.items():
        c.config_set(k, v)
    c.close()


def encoding(client, key):
    return client.object("encoding", key)


# --------------------------------------------------------------------------------------
# Basic reads and writes.
# --------------------------------------------------------------------------------------

def test_hset_hget_hgetall_roundtrip(rp):
    assert rp.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert rp.hset("h", "a", "10") == 0
    assert rp.hset("h", items=["c", "3", "d", "4"]) == 2
    assert rp.hget("h", "a") == b"10"
    assert rp.hget("h", "nope") is None
    assert rp.hget("missing", "a") is None
    # Listpack order is insertion order (both protocols: RESP2 flat list, RESP3 map).
    assert list(rp.hgetall("h").items()) == [(b"a", b"10"), (b"b", b"2"), (b"c", b"3"), (b"d", b"4")]
    assert rp.hgetall("missing") == {}
    assert rp.hkeys("h") == [b"a", b"b", b"c", b"d"]
    assert rp.hvals("h") == [b"10", b"2", b"3", b"4"]
    assert rp.hlen("h") == 4
    assert rp.hmget("h", ["a", "nope", "d"]) == [b"10", None, b"4"]
    assert rp.hmget("missing", "a", "b") == [None, None]
    assert rp.hstrlen("h", "a") == 2
    assert rp.hstrlen("h", "nope") == 0
    assert rp.hexists("h", "a") is True
    assert rp.hexists("h", "nope") is False
    assert encoding(rp, "h") == b"listpack"


def test_hmset_and_hsetnx(r):
    assert r.execute_command("HMSET", "h", "a", "1", "b", "2") is True  # redis-py maps +OK
    assert r.hsetnx("h", "a", "x") == 0
    assert r.hsetnx("h", "c", "3") == 1
    assert r.hgetall("h") == {b"a": b"1", b"b": b"2", b"c": b"3"}
    with pytest.raises(ResponseError, match="wrong number of arguments for 'hmset' command"):
        r.execute_command("HMSET", "h", "a", "1", "b")
    with pytest.raises(ResponseError, match="wrong number of arguments for 'hset' command"):
        r.execute_command("HSET", "h", "a", "1", "b")


def test_binary_fields_and_values(r):
    field, value = b"f\x00\xff\r\n", b"\x00v\r\n\xfe"
    assert r.hset("bin", field, value) == 1
    assert r.hget("bin", field) == value
    assert r.hgetall("bin") == {field: value}
    assert r.hstrlen("bin", field) == len(value)
    assert r.hset("bin", b"", b"") == 1
    assert r.hget("bin", b"") == b""
    assert r.hexists("bin", b"") is True


def test_hdel_removes_fields_and_the_emptied_key(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "x") == 0
    assert r.hdel("h", "a", "x", "a") == 1
    assert r.hdel("h", "b", "c", "zz") == 2
    assert r.exists("h") == 0
    assert r.hdel("missing", "a") == 0


def test_wrong_type_everywhere(r):
    r.set("s", "v")
    calls = [("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HGET", "s", "a"), ("HMGET", "s", "a"),
             ("HDEL", "s", "a"), ("HLEN", "s"), ("HSTRLEN", "s", "a"), ("HEXISTS", "s", "a"),
             ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"), ("HKEYS", "s"), ("HVALS", "s"),
             ("HGETALL", "s"), ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2", "WITHVALUES"), ("HSCAN", "s", "0")]
    for call in calls:
        with pytest.raises(ResponseError, match=WRONGTYPE):
            r.execute_command(*call)
    assert r.get("s") == b"v"
    r.hset("h", "a", "1")
    with pytest.raises(ResponseError, match=WRONGTYPE):
        r.get("h")
    assert r.type("h") == b"hash"


# --------------------------------------------------------------------------------------
# Increments.
# --------------------------------------------------------------------------------------

def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    r.hset("h", mapping={"max": "9223372036854775807", "sp": " 1", "f": "1.5"})
    with pytest.raises(ResponseError, match="^increment or decrement would overflow$"):
        r.hincrby("h", "max", 1)
    for field in ("sp", "f"):
        with pytest.raises(ResponseError, match="^hash value is not an integer$"):
            r.hincrby("h", field, 1)
    with pytest.raises(ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("HINCRBY", "h", "n", "1.5")
    assert r.hget("h", "max") == b"9223372036854775807"


def test_hincrbyfloat(r):
    # The exact text (redis-py turns the reply into a float).
    c = raw()
    assert raw_call(c, "HINCRBYFLOAT", "h", "f", "1.23") == b"$4\r\n1.23\r\n"
    assert raw_call(c, "HINCRBYFLOAT", "h", "f", "0.77") == b"$1\r\n2\r\n"
    assert raw_call(c, "HINCRBYFLOAT", "h", "f", "-0.1") == b"$3\r\n1.9\r\n"
    c.close()
    assert r.hincrbyfloat("h", "g", 3.0e3) == 3000.0
    assert r.hincrbyfloat("h", "g", "5.0000000000000001") == 3005.0
    assert r.hget("h", "g") == b"3005"
    with pytest.raises(ResponseError, match="^value is NaN or Infinity$"):
        r.execute_command("HINCRBYFLOAT", "h", "f", "inf")
    with pytest.raises(ResponseError, match="^value is not a valid float$"):
        r.execute_command("HINCRBYFLOAT", "h", "f", "abc")
    r.hset("h", mapping={"word": "abc", "huge": "1e4932"})
    with pytest.raises(ResponseError, match="^hash value is not a float$"):
        r.execute_command("HINCRBYFLOAT", "h", "word", "1")
    with pytest.raises(ResponseError, match="^increment would produce NaN or Infinity$"):
        r.execute_command("HINCRBYFLOAT", "h", "huge", "1e4932")
    with pytest.raises(ResponseError, match="^value is NaN or Infinity$"):
        r.execute_command("HINCRBYFLOAT", "new", "f", "+inf")
    assert r.exists("new") == 0


# --------------------------------------------------------------------------------------
# Encodings.
# --------------------------------------------------------------------------------------

def test_encoding_follows_the_listpack_limits(r, restore_config):
    restore_config("hash-max-listpack-entries", "hash-max-listpack-value")
    r.config_set("hash-max-listpack-entries", 4)
    r.config_set("hash-max-listpack-value", 8)
    r.hset("a", mapping={"f%d" % i: "v" for i in range(4)})
    assert encoding(r, "a") == b"listpack"
    r.hset("a", "f4", "v")
    assert encoding(r, "a") == b"hashtable"
    r.hdel("a", "f0", "f1", "f2", "f3")
    assert encoding(r, "a") == b"hashtable"  # one-way
    r.hset("b", "abcdefgh", "12345678")
    assert encoding(r, "b") == b"listpack"
    r.hset("b", "x", "123456789")
    assert encoding(r, "b") == b"hashtable"
    r.hset("c", "tmp", "0")
    r.hincrbyfloat("c", "tmp", 0.000005)
    assert encoding(r, "c") == b"listpack"
    r.execute_command("HINCRBYFLOAT", "c", "tmp", "0.0000005")
    assert encoding(r, "c") == b"hashtable"
    assert r.hget("c", "tmp") == b"0.0000055"


def test_hash_of_1000_fields_is_a_hashtable_and_reads_back(r):
    pipe = r.pipeline(transaction=False)
    for i in range(1000):
        pipe.hset("big", "field:%d" % i, "value:%d" % i)
    pipe.execute()
    assert encoding(r, "big") == b"hashtable"
    assert r.hlen("big") == 1000
    assert r.hgetall("big") == {b"field:%d" % i: b"value:%d" % i for i in range(1000)}
    assert sorted(r.hkeys("big")) == sorted(b"field:%d" % i for i in range(1000))
    assert r.hget("big", "field:999") == b"value:999"
    assert r.hdel("big", *["field:%d" % i for i in range(0, 1000, 2)]) == 500
    assert r.hlen("big") == 500
    with pytest.raises(ResponseError, match="hash value is not an integer"):
        r.hincrby("big", "field:1", 1)


# --------------------------------------------------------------------------------------
# HSCAN.
# --------------------------------------------------------------------------------------

def test_hscan_listpack_returns_everything_with_cursor_zero(r):
    r.hset("h", mapping={"k1": "1", "k2": "2", "x1": "3"})
    assert r.hscan("h", 0) == (0, {b"k1": b"1", b"k2": b"2", b"x1": b"3"})
    assert r.hscan("h", 123, count=1) == (0, {b"k1": b"1", b"k2": b"2", b"x1": b"3"})
    assert r.hscan("h", 0, match="k*") == (0, {b"k1": b"1", b"k2": b"2"})
    assert r.hscan("missing", 0) == (0, {})
    with pytest.raises(ResponseError, match="^invalid cursor$"):
        r.execute_command("HSCAN", "h", "x")
    with pytest.raises(ResponseError, match="^syntax error$"):
        r.execute_command("HSCAN", "h", "0", "COUNT", "0")


def test_hscan_iter_walks_a_hashtable(r):
    r.hset("big", mapping={"f%d" % i: "v%d" % i for i in range(2000)})
    assert encoding(r, "big") == b"hashtable"
    seen = dict(r.hscan_iter("big", count=50))
    assert seen == {b"f%d" % i: b"v%d" % i for i in range(2000)}
    matched = dict(r.hscan_iter("big", match="f1?", count=100))
    assert matched == {b"f1%d" % i: b"v1%d" % i for i in range(10)}


# --------------------------------------------------------------------------------------
# HRANDFIELD.
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [False, True], ids=["listpack", "hashtable"])
def test_hrandfield_shapes(rp, big):
    n = 600 if big else 10
    rp.hset("h", mapping={"f%d" % i: "v%d" % i for i in range(n)})
    assert encoding(rp, "h") == (b"hashtable" if big else b"listpack")
    fields = {b"f%d" % i for i in range(n)}
    assert rp.hrandfield("h") in fields
    picks = rp.hrandfield("h", -25)
    assert len(picks) == 25 and set(picks) <= fields
    distinct = rp.hrandfield("h", 5)
    assert len(distinct) == 5 and len(set(distinct)) == 5 and set(distinct) <= fields
    assert set(rp.hrandfield("h", n + 5)) == fields
    with_values = rp.execute_command("HRANDFIELD", "h", "-3", "WITHVALUES")
    if rp.get_connection_kwargs().get("protocol") == 3:
        assert len(with_values) == 3 and all(len(p) == 2 and p[1] == b"v" + p[0][1:] for p in with_values)
    else:
        assert len(with_values) == 6
        for f, v in zip(with_values[::2], with_values[1::2]):
            assert v == b"v" + f[1:]
    assert rp.hrandfield("h", 0) == []
    assert rp.hrandfield("missing", 3) == []
    assert rp.hrandfield("missing") is None


def test_hrandfield_count_limits(r):
    r.hset("h", "a", "1")
    with pytest.raises(ResponseError, match="value is out of range"):
        r.execute_command("HRANDFIELD", "h", "-9223372036854775808")
    with pytest.raises(ResponseError, match="^value is out of range$"):
        r.execute_command("HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES")
    with pytest.raises(ResponseError, match="^syntax error$"):
        r.execute_command("HRANDFIELD", "h", "1", "WITHSCORES")
    assert r.execute_command("HRANDFIELD", "h", "-5") == [b"a"] * 5


# --------------------------------------------------------------------------------------
# redis-cli and raw bytes.
# --------------------------------------------------------------------------------------

def test_redis_cli_hash_session(r):
    assert cli("HSET", "h", "a", "1", "b", "2").strip() == "2"
    assert cli("HGETALL", "h").split() == ["a", "1", "b", "2"]
    out = cli("-3", "--no-raw", "HGETALL", "h")
    assert '1# "a" => "1"' in out and '2# "b" => "2"' in out


def test_raw_resp3_shapes(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    c = raw()
    raw_call(c, "HELLO", "3")
    assert raw_call(c, "HGETALL", "h") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert raw_call(c, "HGETALL", "missing") == b"%0\r\n"
    assert raw_call(c, "HGET", "h", "x") == b"_\r\n"
    assert raw_call(c, "HRANDFIELD", "h", "2", "WITHVALUES") == \
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"
    assert raw_call(c, "HSCAN", "h", "0") == b"*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"
    c.close()


def test_debug_digest_value_ignores_the_encoding(r, restore_config):
    try:
        r.execute_command("DEBUG", "DIGEST-VALUE", "nokey")
    except ResponseError as e:
        pytest.skip("DEBUG is disabled on this server: %s" % e)
    restore_config("hash-max-listpack-entries")
    r.hset("small", mapping={"a": "1", "b": "", "c": "hello"})
    r.config_set("hash-max-listpack-entries", 1)
    r.hset("big", mapping={"c": "hello", "b": "", "a": "1"})
    assert encoding(r, "small") == b"listpack" and encoding(r, "big") == b"hashtable"
    small = r.execute_command("DEBUG", "DIGEST-VALUE", "small")
    big = r.execute_command("DEBUG", "DIGEST-VALUE", "big")
    assert small == big
