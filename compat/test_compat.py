"""End-to-end compatibility suite driven by real clients: redis-py (RESP2 and RESP3) and
redis-cli (subprocess), plus a few raw-socket checks where exact bytes matter.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_compat.py -q

Every test must pass against Redis (the Debian redis-server 7.0 is the sanity oracle) and
against Apus.  Tests of 7.2-only behaviour (CLIENT SETINFO, CLIENT NO-TOUCH, ...) are skipped
when the server reports a version below 7.2.  Features that belong to later issues
(collections, persistence, pub/sub, transactions, scripting, replication) are skipped with
that reason when the server does not know the command.

The suite FLUSHALLs the server before every test: never point it at a server with data.
"""

import os
import socket
import subprocess
import sys
import time

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from resp import Conn, encode_command, parse_reply  # noqa: E402

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))
REDIS_CLI = os.environ.get("REDIS_CLI", "redis-cli")

ResponseError = redis.exceptions.ResponseError

# redis-py marks SETEX/PSETEX/SETNX/SUBSTR as deprecated; they are still Redis commands.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --------------------------------------------------------------------------------------
# Fixtures and helpers.
# --------------------------------------------------------------------------------------

def make_client(protocol=2, db=0, **kw):
    return redis.Redis(host=HOST, port=PORT, db=db, protocol=protocol, socket_timeout=10, **kw)


def raw():
    return Conn(HOST, PORT, timeout=10)


def raw_call(conn, *args):
    conn.send(encode_command([a if isinstance(a, bytes) else str(a).encode() for a in args]))
    return conn.read_reply()


@pytest.fixture(scope="session")
def server_info():
    c = make_client()
    info = c.info("server")
    c.close()
    return info


@pytest.fixture(scope="session")
def version(server_info):
    return tuple(int(x) for x in str(server_info["redis_version"]).split(".")[:2])


@pytest.fixture(scope="session")
def is72(version):
    return version >= (7, 2)


@pytest.fixture(autouse=True)
def clean_server():
    c = raw()
    assert raw_call(c, "FLUSHALL") == b"+OK\r\n"
    c.close()
    yield


@pytest.fixture
def r():
    c = make_client(2)
    yield c
    c.close()


@pytest.fixture
def r3():
    c = make_client(3)
    yield c
    c.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def rp(request):
    c = make_client(request.param)
    yield c
    c.close()


@pytest.fixture
def restore_config(r):
    saved = {}

    def remember(*names):
        for n in names:
            saved.update(r.config_get(n))
    yield remember
    for k, v in saved.items():
        r.config_set(k, v)


def need_command(client, *args):
    """Skip when the server does not implement a command that belongs to a later issue."""
    try:
        return client.execute_command(*args)
    except ResponseError as e:
        if "unknown command" in str(e):
            pytest.skip("%s is not implemented yet (belongs to a later issue)" % args[0])
        raise


def cli(*args, stdin=None, binary=False, check=True):
    cmd = [REDIS_CLI, "-h", HOST, "-p", str(PORT)] + list(args)
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=30)
    if check and p.returncode != 0:
        raise AssertionError("redis-cli failed: %r %r" % (p.stdout, p.stderr))
    return p.stdout if binary else p.stdout.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------
# Strings.
# --------------------------------------------------------------------------------------

def test_set_get_basic(rp):
    assert rp.set("k", "v") is True
    assert rp.get("k") == b"v"
    assert rp.get("missing") is None
    assert rp.set("k", "") is True
    assert rp.get("k") == b""
    assert rp.strlen("k") == 0


def test_binary_safe_values_and_keys(rp):
    every_byte = bytes(range(256)) * 3
    assert rp.set(b"bin\x00key\r\n", every_byte)
    assert rp.get(b"bin\x00key\r\n") == every_byte
    assert rp.strlen(b"bin\x00key\r\n") == 768
    assert rp.exists(b"bin\x00key\r\n") == 1
    assert rp.exists(b"bin\x00key") == 0
    assert rp.append(b"bin\x00key\r\n", b"\x00\xff") == 770
    assert rp.getrange(b"bin\x00key\r\n", -2, -1) == b"\x00\xff"
    big = os.urandom(1 << 20)
    assert rp.set("big", big)
    assert rp.get("big") == big
    assert rp.set("", "empty-key")
    assert rp.get("") == b"empty-key"


def test_set_options(rp):
    assert rp.set("k", "1", nx=True) is True
    assert rp.set("k", "2", nx=True) is None
    assert rp.get("k") == b"1"
    assert rp.set("k", "3", xx=True) is True
    assert rp.set("nope", "3", xx=True) is None
    assert rp.exists("nope") == 0
    assert rp.set("k", "4", get=True) == b"3"
    assert rp.set("new", "x", get=True) is None
    assert rp.get("new") == b"x"
    assert rp.set("k", "5", ex=100)
    assert 99 <= rp.ttl("k") <= 100
    assert rp.set("k", "6", keepttl=True)
    assert 99 <= rp.ttl("k") <= 100
    assert rp.set("k", "7")
    assert rp.ttl("k") == -1
    assert rp.set("k", "8", px=100000)
    assert 99000 <= rp.pttl("k") <= 100000
    assert rp.set("k", "9", exat=int(time.time()) + 1000)
    assert 998 <= rp.ttl("k") <= 1000
    assert rp.set("k", "10", pxat=int(time.time() * 1000) + 50000)
    assert 48000 <= rp.pttl("k") <= 50000
    # An absolute time in the past: OK, and the key is gone.
    assert rp.set("k", "11", exat=1)
    assert rp.get("k") is None
    # NX + GET is allowed since 7.0.
    assert rp.set("g", "1", nx=True, get=True) is None
    assert rp.set("g", "2", nx=True, get=True) == b"1"


def test_set_option_errors(r):
    c = raw()
    for args, err in [
        (("SET", "k", "v", "NX", "XX"), b"-ERR syntax error\r\n"),
        (("SET", "k", "v", "EX", "10", "PX", "100"), b"-ERR syntax error\r\n"),
        (("SET", "k", "v", "EX", "10", "KEEPTTL"), b"-ERR syntax error\r\n"),
        (("SET", "k", "v", "EX"), b"-ERR syntax error\r\n"),
        (("SET", "k", "v", "BOGUS"), b"-ERR syntax error\r\n"),
        (("SET", "k", "v", "EX", "0"), b"-ERR invalid expire time in 'set' command\r\n"),
        (("SET", "k", "v", "EX", "-5"), b"-ERR invalid expire time in 'set' command\r\n"),
        (("SET", "k", "v", "PX", "abc"), b"-ERR value is not an integer or out of range\r\n"),
        (("SET", "k", "v", "EX", "9223372036854775807"),
         b"-ERR invalid expire time in 'set' command\r\n"),
        (("SET", "k"), b"-ERR wrong number of arguments for 'set' command\r\n"),
        (("SETEX", "k", "0", "v"), b"-ERR invalid expire time in 'setex' command\r\n"),
        (("PSETEX", "k", "-1", "v"), b"-ERR invalid expire time in 'psetex' command\r\n"),
        (("GETEX", "k", "EX", "0"), b"-ERR invalid expire time in 'getex' command\r\n"),
    ]:
        if args[0] == "GETEX":
            raw_call(c, "SET", "k", "v")
        assert raw_call(c, *args) == err, args
    c.close()


def test_get_family(rp):
    rp.set("k", "hello")
    assert rp.getdel("k") == b"hello"
    assert rp.getdel("k") is None
    assert rp.exists("k") == 0
    rp.set("k", "v")
    assert rp.getset("k", "w") == b"v"
    assert rp.getset("fresh", "x") is None
    assert rp.getex("k", ex=50) == b"w"
    assert 49 <= rp.ttl("k") <= 50
    assert rp.getex("k", persist=True) == b"w"
    assert rp.ttl("k") == -1
    assert rp.getex("k", px=20000) == b"w"
    assert rp.pttl("k") > 19000
    assert rp.getex("missing", ex=10) is None
    # EXAT in the past deletes the key.
    assert rp.getex("k", exat=1) == b"w"
    assert rp.exists("k") == 0


def test_getrange_substr(rp):
    rp.set("s", "This is a string")
    assert rp.getrange("s", 0, 3) == b"This"
    assert rp.getrange("s", -3, -1) == b"ing"
    assert rp.getrange("s", 0, -1) == b"This is a string"
    assert rp.getrange("s", 10, 100) == b"string"
    assert rp.getrange("s", 5, 3) == b""
    assert rp.getrange("s", -100, 2) == b"Thi"
    assert rp.getrange("missing", 0, -1) == b""
    assert rp.substr("s", 0, 3) == b"This"
    assert rp.execute_command("SUBSTR", "s", "-6", "-1") == b"string"
    rp.set("n", 12345)
    assert rp.getrange("n", 1, 2) == b"23"


def test_append_strlen_setrange(rp):
    assert rp.append("a", "Hello") == 5
    assert rp.append("a", " World") == 11
    assert rp.get("a") == b"Hello World"
    assert rp.strlen("a") == 11
    assert rp.strlen("missing") == 0
    rp.set("n", 10)
    assert rp.append("n", 5) == 3
    assert rp.get("n") == b"105"
    assert rp.setrange("a", 6, "Redis") == 11
    assert rp.get("a") == b"Hello Redis"
    assert rp.setrange("pad", 5, "x") == 6
    assert rp.get("pad") == b"\x00" * 5 + b"x"
    assert rp.setrange("empty", 0, "") == 0
    assert rp.exists("empty") == 0
    with pytest.raises(ResponseError, match="string exceeds maximum allowed size"):
        rp.setrange("a", 536870912, "x")
    with pytest.raises(ResponseError, match="offset is out of range"):
        rp.setrange("a", -1, "x")


def test_setnx_setex_psetex(rp):
    assert rp.setnx("k", "1") is True
    assert rp.setnx("k", "2") is False
    assert rp.get("k") == b"1"
    assert rp.setex("e", 100, "v") is True
    assert 99 <= rp.ttl("e") <= 100
    assert rp.psetex("p", 100000, "v") is True
    assert 99000 <= rp.pttl("p") <= 100000
    with pytest.raises(ResponseError, match="invalid expire time"):
        rp.setex("e", 0, "v")


def test_mset_mget_msetnx(rp):
    assert rp.mset({"a": "1", "b": "2", "c": b"\x00"}) is True
    assert rp.mget("a", "b", "c", "missing") == [b"1", b"2", b"\x00", None]
    assert rp.msetnx({"x": "1", "a": "9"}) is False
    assert rp.exists("x") == 0
    assert rp.msetnx({"x": "1", "y": "2"}) is True
    assert rp.mget(["x", "y"]) == [b"1", b"2"]
    # The last value wins for a repeated key.
    assert rp.execute_command("MSET", "d", "1", "d", "2")
    assert rp.get("d") == b"2"
    with pytest.raises(ResponseError, match="wrong number of arguments for 'mset'"):
        rp.execute_command("MSET", "a", "1", "b")


def test_incr_decr(rp):
    assert rp.incr("n") == 1
    assert rp.incr("n", 10) == 11
    assert rp.decr("n") == 10
    assert rp.decr("n", 20) == -10
    assert rp.incrby("n", 0) == -10
    assert rp.get("n") == b"-10"
    rp.set("max", "9223372036854775807")
    with pytest.raises(ResponseError, match="increment or decrement would overflow"):
        rp.incr("max")
    rp.set("min", "-9223372036854775808")
    with pytest.raises(ResponseError, match="increment or decrement would overflow"):
        rp.decr("min")
    for bad in ["abc", "1.5", " 1", "1 ", "", "99999999999999999999"]:
        rp.set("bad", bad)
        with pytest.raises(ResponseError, match="value is not an integer or out of range"):
            rp.incr("bad")
    with pytest.raises(ResponseError, match="value is not an integer or out of range"):
        rp.execute_command("INCRBY", "n", "abc")
    # DECRBY of LLONG_MIN cannot be negated.
    with pytest.raises(ResponseError, match="decrement would overflow"):
        rp.execute_command("DECRBY", "n", "-9223372036854775808")


def test_incrbyfloat(rp):
    rp.set("f", "10.50")
    assert rp.incrbyfloat("f", 0.1) == pytest.approx(10.6)
    assert rp.get("f") == b"10.6"
    assert rp.incrbyfloat("f", -5) == pytest.approx(5.6)
    assert rp.get("f") == b"5.6"
    rp.set("f", "5.0e3")
    rp.incrbyfloat("f", "2.0e2")
    assert rp.get("f") == b"5200"
    assert rp.execute_command("INCRBYFLOAT", "g", "3") in (b"3", 3.0, 3)
    assert rp.get("g") == b"3"
    rp.set("g", "0.1")
    rp.incrbyfloat("g", "0.2")
    assert rp.get("g") == b"0.3"
    with pytest.raises(ResponseError, match="increment would produce NaN or Infinity"):
        rp.execute_command("INCRBYFLOAT", "g", "inf")
    rp.set("s", "abc")
    with pytest.raises(ResponseError, match="value is not a valid float"):
        rp.incrbyfloat("s", 1)
    with pytest.raises(ResponseError, match="value is not a valid float"):
        rp.execute_command("INCRBYFLOAT", "g", "1.0x")


def test_lcs(rp):
    rp.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert rp.lcs("key1", "key2") == b"mytext"
    assert rp.lcs("key1", "key2", len=True) == 6
    res = rp.lcs("key1", "key2", idx=True, minmatchlen=4, withmatchlen=True)
    if isinstance(res, list):  # RESP2 flat array
        res = dict(zip(res[0::2], res[1::2]))
    res = {(k.decode() if isinstance(k, bytes) else k): v for k, v in res.items()}
    assert res["len"] == 6
    assert res["matches"] == [[[4, 7], [5, 8], 4]]
    assert rp.lcs("key1", "missing") == b""
    with pytest.raises(ResponseError, match="please just use IDX"):
        rp.lcs("key1", "key2", len=True, idx=True)


def test_object_encoding_strings(r):
    r.set("i", 12345)
    assert r.object("encoding", "i") == b"int"
    r.set("e", "short string")
    assert r.object("encoding", "e") == b"embstr"
    r.set("r", "x" * 45)
    assert r.object("encoding", "r") == b"raw"
    r.set("e44", "x" * 44)
    assert r.object("encoding", "e44") == b"embstr"
    r.append("e", "!")
    assert r.object("encoding", "e") == b"raw"
    r.set("lead", "0123")
    assert r.object("encoding", "lead") == b"embstr"
    assert r.object("encoding", "missing") is None


# --------------------------------------------------------------------------------------
# Bitmaps.
# --------------------------------------------------------------------------------------

def test_setbit_getbit(rp):
    assert rp.setbit("b", 7, 1) == 0
    assert rp.setbit("b", 7, 1) == 1
    assert rp.get("b") == b"\x01"
    assert rp.getbit("b", 7) == 1
    assert rp.getbit("b", 100) == 0
    assert rp.getbit("missing", 0) == 0
    assert rp.setbit("b", 100, 1) == 0
    assert rp.strlen("b") == 13
    with pytest.raises(ResponseError, match="bit offset is not an integer or out of range"):
        rp.setbit("b", 4294967296, 1)
    with pytest.raises(ResponseError, match="bit is not an integer or out of range"):
        rp.execute_command("SETBIT", "b", "1", "2")


def test_bitcount_bitpos(rp):
    rp.set("mykey", "foobar")
    assert rp.bitcount("mykey") == 26
    assert rp.bitcount("mykey", 0, 0) == 4
    assert rp.bitcount("mykey", 1, 1) == 6
    assert rp.bitcount("mykey", 1, 1, "BYTE") == 6
    assert rp.bitcount("mykey", 5, 30, "BIT") == 17
    assert rp.bitcount("missing") == 0
    rp.set("p", b"\xff\xf0\x00")
    assert rp.bitpos("p", 0) == 12
    rp.set("p", b"\x00\xff\xf0")
    assert rp.bitpos("p", 1, 0) == 8
    assert rp.bitpos("p", 1, 2) == 16
    assert rp.bitpos("p", 1, 2, -1, "BYTE") == 16
    assert rp.bitpos("p", 1, 7, 15, "BIT") == 8
    rp.set("z", b"\x00\x00\x00")
    assert rp.bitpos("z", 1) == -1
    assert rp.bitpos("missing", 0) == 0
    with pytest.raises(ResponseError, match="The bit argument must be 1 or 0"):
        rp.execute_command("BITPOS", "p", "2")


def test_bitop(rp):
    rp.set("a", "foobar")
    rp.set("b", "abcdef")
    assert rp.bitop("AND", "dest", "a", "b") == 6
    assert rp.get("dest") == b"`bc`ab"
    assert rp.bitop("OR", "dest", "a", "b") == 6
    assert rp.get("dest") == b"goofev"
    assert rp.bitop("XOR", "dest", "a", "b") == 6
    assert rp.get("dest") == bytes(x ^ y for x, y in zip(b"foobar", b"abcdef"))
    assert rp.bitop("NOT", "dest", "a") == 6
    assert rp.get("dest") == bytes(x ^ 0xFF for x in b"foobar")
    rp.set("short", b"\xff")
    assert rp.bitop("AND", "dest", "a", "short") == 6
    assert rp.get("dest") == b"f" + b"\x00" * 5
    assert rp.bitop("OR", "dest", "missing1", "missing2") == 0
    assert rp.exists("dest") == 0
    with pytest.raises(ResponseError, match="BITOP NOT must be called with a single source key"):
        rp.bitop("NOT", "dest", "a", "b")
    with pytest.raises(ResponseError, match="syntax error"):
        rp.bitop("NAND", "dest", "a", "b")


def test_bitfield(rp):
    assert rp.execute_command("BITFIELD", "mykey", "INCRBY", "i5", "100", "1", "GET", "u4",
                              "0") == [1, 0]
    bf = rp.bitfield("ov")
    results = []
    for _ in range(4):
        results.append(rp.execute_command("BITFIELD", "ov", "INCRBY", "u2", "100", "1",
                                          "OVERFLOW", "SAT", "INCRBY", "u2", "102", "1"))
    assert results == [[1, 1], [2, 2], [3, 3], [0, 3]]
    assert rp.execute_command("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u2", "0",
                              "5") == [None]
    assert bf.set("u8", 0, 255).get("u8", 0).get("i8", 0).execute() == [0, 255, -1]
    assert rp.execute_command("BITFIELD", "g", "SET", "i8", "#1", "-100", "GET", "i8",
                              "8") == [0, -100]
    assert rp.execute_command("BITFIELD_RO", "g", "GET", "i8", "#1") == [-100]
    assert rp.execute_command("BITFIELD", "g") == []
    with pytest.raises(ResponseError, match="Invalid bitfield type"):
        rp.execute_command("BITFIELD", "g", "GET", "u64", "0")
    with pytest.raises(ResponseError, match="BITFIELD_RO only supports the GET subcommand"):
        rp.execute_command("BITFIELD_RO", "g", "SET", "u8", "0", "1")
    with pytest.raises(ResponseError, match="bit offset is not an integer or out of range"):
        rp.execute_command("BITFIELD", "g", "GET", "u8", "-1")
    with pytest.raises(ResponseError, match="Invalid OVERFLOW type specified"):
        rp.execute_command("BITFIELD", "g", "OVERFLOW", "BOGUS")
    with pytest.raises(ResponseError, match="syntax error"):
        rp.execute_command("BITFIELD", "g", "BOGUS")


# --------------------------------------------------------------------------------------
# Generic key commands.
# --------------------------------------------------------------------------------------

def test_del_unlink_exists_touch_type(rp):
    rp.mset({"a": 1, "b": 2, "c": 3})
    assert rp.exists("a", "a", "missing") == 2
    assert rp.delete("a", "missing") == 1
    assert rp.unlink("b", "c", "b") == 2
    assert rp.exists("a", "b", "c") == 0
    rp.set("t", "x")
    assert rp.touch("t", "t", "missing") == 2
    assert rp.type("t") == b"string"
    assert rp.type("missing") == b"none"


def test_rename_renamenx(rp):
    rp.set("a", "1", ex=100)
    assert rp.rename("a", "b") is True
    assert rp.get("b") == b"1"
    assert 99 <= rp.ttl("b") <= 100
    assert rp.exists("a") == 0
    with pytest.raises(ResponseError, match="no such key"):
        rp.rename("a", "c")
    rp.set("c", "2")
    assert rp.renamenx("b", "c") is False
    assert rp.renamenx("b", "d") is True
    assert rp.rename("d", "d") is True
    assert rp.get("d") == b"1"


def test_copy_move_swapdb_select(rp):
    other = make_client(rp.connection_pool.connection_kwargs["protocol"], db=1)
    try:
        rp.set("src", "v", ex=100)
        assert rp.copy("src", "dst") is True
        assert rp.get("dst") == b"v"
        assert rp.ttl("dst") > 0
        assert rp.copy("src", "dst") is False
        rp.set("src", "w")
        assert rp.copy("src", "dst", replace=True) is True
        assert rp.get("dst") == b"w"
        assert rp.copy("src", "x", destination_db=1) is True
        assert other.get("x") == b"w"
        with pytest.raises(ResponseError, match="source and destination objects are the same"):
            rp.copy("src", "src")
        assert rp.move("src", 1) is True
        assert rp.exists("src") == 0
        assert other.get("src") == b"w"
        assert rp.move("missing", 1) is False
        other.set("dup", "1")
        rp.set("dup", "0")
        assert rp.move("dup", 1) is False
        with pytest.raises(ResponseError, match="DB index is out of range"):
            rp.move("dup", 16)
        assert rp.dbsize() == 2
        assert other.dbsize() == 3
        assert rp.swapdb(0, 1) is True
        assert rp.dbsize() == 3
        assert rp.get("src") == b"w"
        with pytest.raises(ResponseError, match="DB index is out of range"):
            rp.swapdb(0, 16)
        with pytest.raises(ResponseError, match="invalid first DB index"):
            rp.execute_command("SWAPDB", "x", "1")
    finally:
        other.close()


def test_select_raw():
    c = raw()
    assert raw_call(c, "SET", "k", "db0") == b"+OK\r\n"
    assert raw_call(c, "SELECT", "15") == b"+OK\r\n"
    assert raw_call(c, "GET", "k") == b"$-1\r\n"
    assert raw_call(c, "SELECT", "16") == b"-ERR DB index is out of range\r\n"
    assert raw_call(c, "SELECT", "abc") == b"-ERR value is not an integer or out of range\r\n"
    assert raw_call(c, "SELECT", "0") == b"+OK\r\n"
    assert raw_call(c, "GET", "k") == b"$3\r\ndb0\r\n"
    c.close()


def test_expire_family(rp):
    rp.set("k", "v")
    assert rp.ttl("k") == -1
    assert rp.ttl("missing") == -2
    assert rp.pttl("missing") == -2
    assert rp.expire("k", 100) is True
    assert 99 <= rp.ttl("k") <= 100
    assert rp.expire("missing", 100) is False
    assert rp.expire("k", 200, nx=True) is False
    assert rp.expire("k", 200, xx=True) is True
    assert rp.expire("k", 100, gt=True) is False
    assert rp.expire("k", 300, gt=True) is True
    assert rp.expire("k", 400, lt=True) is False
    assert rp.expire("k", 50, lt=True) is True
    assert 49 <= rp.ttl("k") <= 50
    assert rp.pexpire("k", 100000) is True
    assert 99000 <= rp.pttl("k") <= 100000
    at = int(time.time()) + 1000
    assert rp.expireat("k", at) is True
    assert rp.expiretime("k") == at
    assert rp.pexpiretime("k") == at * 1000
    assert rp.pexpireat("k", at * 1000 + 123) is True
    assert rp.pexpiretime("k") == at * 1000 + 123
    assert rp.expiretime("missing") == -2
    assert rp.persist("k") is True
    assert rp.persist("k") is False
    assert rp.expiretime("k") == -1
    # GT on a key without TTL: the TTL is infinite, never greater.
    assert rp.expire("k", 100, gt=True) is False
    assert rp.expire("k", 100, lt=True) is True
    # A non-positive TTL or a past timestamp deletes the key.
    assert rp.expire("k", -1) is True
    assert rp.exists("k") == 0
    rp.set("k", "v")
    assert rp.expireat("k", 1) is True
    assert rp.exists("k") == 0
    with pytest.raises(ResponseError, match="invalid expire time in 'expire' command"):
        rp.execute_command("EXPIRE", "k", "9223372036854775807")
    with pytest.raises(ResponseError, match="not compatible"):
        rp.execute_command("EXPIRE", "k", "10", "NX", "XX")
    with pytest.raises(ResponseError, match="Unsupported option"):
        rp.execute_command("EXPIRE", "k", "10", "BOGUS")


def test_expiry_happens(rp):
    rp.set("short", "v", px=100)
    rp.set("long", "v", ex=100)
    rp.set("k", "v")
    rp.pexpire("k", 150)
    time.sleep(0.3)
    assert rp.get("short") is None
    assert rp.exists("k") == 0
    assert rp.get("long") == b"v"
    # Keys nobody reads are reclaimed by the active expire cycle.
    for i in range(50):
        rp.set("vol:%d" % i, "x", px=50)
    deadline = time.time() + 3
    while time.time() < deadline and rp.dbsize() > 1:
        time.sleep(0.1)
    assert rp.dbsize() == 1


def test_keys_patterns(rp):
    rp.mset({"hello": 1, "hallo": 1, "hxllo": 1, "hllo": 1, "heeeello": 1, "h*llo": 1,
             "x": 1})
    def keys(p):
        return sorted(rp.keys(p))
    assert keys("h?llo") == [b"h*llo", b"hallo", b"hello", b"hxllo"]
    assert keys("h*llo") == [b"h*llo", b"hallo", b"heeeello", b"hello", b"hllo", b"hxllo"]
    assert keys("h[ae]llo") == [b"hallo", b"hello"]
    assert keys("h[^e]llo") == [b"h*llo", b"hallo", b"hxllo"]
    assert keys("h[a-b]llo") == [b"hallo"]
    assert keys("h\\*llo") == [b"h*llo"]
    assert len(keys("*")) == 7
    assert keys("nomatch*") == []


def test_scan_iterators(rp):
    for i in range(300):
        rp.set("key:%d" % i, i)
    for i in range(20):
        rp.set("other:%d" % i, i)
    assert set(rp.scan_iter()) == set(rp.keys("*"))
    assert len(set(rp.scan_iter(match="key:*", count=7))) == 300
    assert set(rp.scan_iter(match="other:1*")) == {b"other:1"} | {b"other:1%d" % i
                                                                   for i in range(10)}
    assert len(set(rp.scan_iter(_type="string"))) == 320
    assert list(rp.scan_iter(_type="list")) == []
    cursor, batch = rp.scan(0, count=1000)
    assert cursor == 0 and len(batch) == 320
    with pytest.raises(ResponseError, match="invalid cursor"):
        rp.execute_command("SCAN", "abc")
    with pytest.raises(ResponseError, match="syntax error"):
        rp.execute_command("SCAN", "0", "COUNT", "0")


def test_randomkey(rp):
    assert rp.randomkey() is None
    rp.mset({"a": 1, "b": 2})
    for _ in range(10):
        assert rp.randomkey() in (b"a", b"b")


def test_object_subcommands(r, restore_config):
    restore_config("maxmemory-policy")
    r.set("k", "v")
    assert isinstance(r.object("idletime", "k"), int)
    assert r.object("refcount", "k") == 1
    assert r.object("refcount", "missing") is None
    with pytest.raises(ResponseError, match="An LFU maxmemory policy is not selected"):
        r.object("freq", "k")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    assert isinstance(r.object("freq", "k"), int)
    with pytest.raises(ResponseError, match="An LFU maxmemory policy is selected"):
        r.object("idletime", "k")
    help_lines = r.execute_command("OBJECT", "HELP")
    assert help_lines[0].startswith(b"OBJECT <subcommand>")
    assert any(b"ENCODING" in x for x in help_lines)
    with pytest.raises(ResponseError, match="unknown subcommand 'FOO'. Try OBJECT HELP."):
        r.execute_command("OBJECT", "FOO", "k")


def test_shared_integer_refcount(r):
    r.set("small", 100)
    r.set("big", 100000)
    assert r.object("refcount", "small") == 2147483647  # shared integer object
    assert r.object("refcount", "big") == 1
    assert r.object("encoding", "small") == b"int"


@pytest.mark.parametrize("container", ["CLIENT", "COMMAND", "CONFIG", "OBJECT", "SLOWLOG"])
def test_help_subcommands(container):
    c = raw()
    node = parse_reply(raw_call(c, container, "HELP"))
    c.close()
    lines = [e.v for e in node.items()]
    assert all(e.t == "+" for e in node.items())
    assert lines[0] == container.encode() + \
        b" <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-2] == b"HELP"
    assert lines[-1] in (b"    Print this help.", b"    Prints this help.")


def test_wrong_type_errors(r):
    r.lpush("list", "a")
    for call in [lambda: r.get("list"), lambda: r.append("list", "x"),
                 lambda: r.incr("list"), lambda: r.setbit("list", 0, 1),
                 lambda: r.bitcount("list"), lambda: r.strlen("list")]:
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            call()
    assert r.type("list") == b"list"
    assert r.set("list", "now a string") is True


# --------------------------------------------------------------------------------------
# Pipelines and protocol.
# --------------------------------------------------------------------------------------

def test_pipeline(rp):
    p = rp.pipeline(transaction=False)
    for i in range(1000):
        p.set("p:%d" % i, i)
    p.get("p:999").incr("p:0").mget("p:1", "p:2").bitcount("p:3").strlen("missing")
    p.execute_command("NOSUCHCOMMAND")
    res = p.execute(raise_on_error=False)
    assert res[:1000] == [True] * 1000
    assert res[1000:1005] == [b"999", 1, [b"1", b"2"], 4, 0]  # "3" is 0x33: four bits
    assert isinstance(res[1005], ResponseError)
    assert rp.dbsize() == 1000


def test_raw_pipelined_burst():
    c = raw()
    payload = b"".join(encode_command([b"INCR", b"ctr"]) for _ in range(5000))
    c.send(payload + b"PING\r\n")
    for i in range(1, 5001):
        assert c.read_reply() == b":%d\r\n" % i
    assert c.read_reply() == b"+PONG\r\n"
    c.close()


def test_inline_commands():
    c = raw()
    c.send(b"PING\r\n")
    assert c.read_reply() == b"+PONG\r\n"
    c.send(b'SET k "hello world"\r\nGET k\n')
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b"$11\r\nhello world\r\n"
    c.send(b'SET k "\\x41\\x00\\n\\"q" \r\nGET k\r\n')
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b'$5\r\nA\x00\n"q\r\n'
    c.send(b"SET k 'single quoted'\r\nGET k\r\n")
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b"$13\r\nsingle quoted\r\n"
    c.send(b"\r\n   \r\nECHO   spaced    \r\n")
    assert c.read_reply() == b"$6\r\nspaced\r\n"
    c.send(b'SET "unbalanced\r\n')
    assert c.read_reply() == b"-ERR Protocol error: unbalanced quotes in request\r\n"
    assert c.wait_closed(3)
    c.close()


def test_protocol_errors_close_connection():
    for payload, err in [
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
    ]:
        c = raw()
        c.send(payload)
        assert c.read_reply() == err
        assert c.wait_closed(3)
        c.close()


def test_unknown_command_and_arity_errors():
    c = raw()
    assert raw_call(c, "NOSUCH", "a", "b") == \
        b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"
    assert raw_call(c, "GET") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert raw_call(c, "get", "a", "b") == b"-ERR wrong number of arguments for 'get' command\r\n"
    assert raw_call(c, "CONFIG", "NOSUCH") == \
        b"-ERR unknown subcommand 'NOSUCH'. Try CONFIG HELP.\r\n"
    assert raw_call(c, "CLIENT", "SETNAME") == \
        b"-ERR wrong number of arguments for 'client|setname' command\r\n"
    assert raw_call(c, "SET", "k", "v") == b"+OK\r\n"
    assert raw_call(c, "gEt", "k") == b"$1\r\nv\r\n"
    c.close()


def test_resp3_types(r3):
    r3.set("k", "v")
    assert r3.get("k") == b"v"
    assert r3.get("missing") is None
    cfg = r3.config_get("maxmemory")
    assert cfg == {"maxmemory": "0"} or cfg == {b"maxmemory": b"0"}
    c = raw()
    reply = raw_call(c, "HELLO", "3")
    assert reply.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n")
    node = parse_reply(reply)
    fields = {k.v: v for k, v in node.pairs()}
    assert fields[b"proto"].v == 3
    assert fields[b"mode"].v == b"standalone"
    assert fields[b"role"].v == b"master"
    assert raw_call(c, "GET", "missing") == b"_\r\n"
    assert raw_call(c, "CONFIG", "GET", "maxmemory") == b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    assert raw_call(c, "HELLO", "2").startswith(b"*14\r\n")
    assert raw_call(c, "GET", "missing") == b"$-1\r\n"
    assert raw_call(c, "HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
    c.close()


# --------------------------------------------------------------------------------------
# Connection commands.
# --------------------------------------------------------------------------------------

def test_ping_echo(rp):
    assert rp.ping() is True
    assert rp.echo(b"hi\x00there") == b"hi\x00there"
    c = raw()
    assert raw_call(c, "PING", "msg") == b"$3\r\nmsg\r\n"
    c.close()
    with pytest.raises(ResponseError, match="wrong number of arguments for 'ping'"):
        rp.execute_command("PING", "a", "b")


def test_auth_without_password():
    c = raw()
    assert raw_call(c, "AUTH", "pass") == (
        b"-ERR AUTH <password> called without any password configured for the default user. "
        b"Are you sure your configuration is correct?\r\n")
    # The default user has no password: any password is accepted for it.
    assert raw_call(c, "AUTH", "default", "anything") == b"+OK\r\n"
    assert raw_call(c, "AUTH", "nobody", "pass") == \
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert raw_call(c, "AUTH") == b"-ERR wrong number of arguments for 'auth' command\r\n"
    c.close()
    # redis-py with a password against a server without one.
    bad = make_client(2, username="nobody", password="x")
    with pytest.raises(redis.exceptions.AuthenticationError):
        bad.ping()
    bad.close()


def test_hello_variants():
    c = raw()
    reply = parse_reply(raw_call(c, "HELLO"))
    assert {k.v: v.v for k, v in reply.pairs()}[b"proto"] == 2
    reply = parse_reply(raw_call(c, "HELLO", "3", "SETNAME", "viahello"))
    assert reply.t == "%"
    assert raw_call(c, "CLIENT", "GETNAME") == b"$8\r\nviahello\r\n"
    assert raw_call(c, "HELLO", "3", "AUTH", "nobody", "x") == \
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert raw_call(c, "HELLO", "abc") == \
        b"-ERR Protocol version is not an integer or out of range\r\n"
    c.close()


def test_client_name_and_list(r):
    assert r.client_getname() is None
    assert r.client_setname("compat-suite") is True
    assert r.client_getname() in ("compat-suite", b"compat-suite")
    me = r.client_id()
    assert isinstance(me, int)
    entries = r.client_list()
    mine = [e for e in entries if e["name"] == "compat-suite"]
    assert len(mine) == 1
    assert int(mine[0]["id"]) == me
    assert mine[0]["db"] == "0"
    for field in ("addr", "laddr", "fd", "age", "idle", "flags", "cmd", "resp"):
        assert field in mine[0]
    info = r.client_info()
    assert info["name"] == "compat-suite"
    assert int(info["id"]) == me
    assert r.client_list(_type="normal")
    assert r.client_list(client_id=[me])[0]["name"] == "compat-suite"
    with pytest.raises(ResponseError, match="Client names cannot contain spaces"):
        r.client_setname("a b")
    assert r.client_setname("") is True
    assert r.client_getname() is None


def test_client_kill(r):
    victim = make_client(2)
    victim.client_setname("victim")
    vid = victim.client_id()
    assert r.client_kill_filter(_id=vid) == 1
    assert r.client_kill_filter(_id=vid) == 0
    assert not [e for e in r.client_list() if e["name"] == "victim"]
    with pytest.raises(ResponseError, match="No such client"):
        r.client_kill("1.2.3.4:5")
    with pytest.raises(ResponseError, match="No such user"):
        r.execute_command("CLIENT", "KILL", "USER", "nobody")
    victim.close()


def test_client_no_evict_reply_reset():
    c = raw()
    assert raw_call(c, "CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
    assert raw_call(c, "CLIENT", "NO-EVICT", "off") == b"+OK\r\n"
    assert raw_call(c, "CLIENT", "NO-EVICT", "maybe") == b"-ERR syntax error\r\n"
    c.send(encode_command(["CLIENT", "REPLY", "SKIP"]) + encode_command(["SET", "a", "1"])
           + encode_command(["GET", "a"]))
    assert c.read_reply() == b"$1\r\n1\r\n"
    c.send(encode_command(["CLIENT", "REPLY", "OFF"]) + encode_command(["INCR", "a"])
           + encode_command(["CLIENT", "REPLY", "ON"]) + encode_command(["GET", "a"]))
    assert c.read_reply() == b"+OK\r\n"
    assert c.read_reply() == b"$1\r\n2\r\n"
    assert raw_call(c, "SELECT", "3") == b"+OK\r\n"
    assert raw_call(c, "CLIENT", "SETNAME", "before-reset") == b"+OK\r\n"
    assert raw_call(c, "HELLO", "3")[:1] == b"%"
    assert raw_call(c, "RESET") == b"+RESET\r\n"
    assert raw_call(c, "CLIENT", "GETNAME") == b"$-1\r\n"
    assert raw_call(c, "GET", "a") == b"$1\r\n2\r\n"  # back in db 0, RESP2
    c.close()


def test_quit():
    c = raw()
    assert raw_call(c, "QUIT") == b"+OK\r\n"
    assert c.wait_closed(3)
    c.close()


def test_client_setinfo_no_touch_72(r, is72):
    if not is72:
        pytest.skip("CLIENT SETINFO / NO-TOUCH are Redis 7.2 commands; the server is older")
    assert r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "compat") in (True, b"OK")
    assert r.execute_command("CLIENT", "SETINFO", "LIB-VER", "1.0") in (True, b"OK")
    info = r.client_info()
    assert info["lib-name"] == "compat" and info["lib-ver"] == "1.0"
    with pytest.raises(ResponseError, match="Unrecognized option 'bogus'"):
        r.execute_command("CLIENT", "SETINFO", "bogus", "x")
    with pytest.raises(ResponseError, match="cannot contain spaces"):
        r.execute_command("CLIENT", "SETINFO", "lib-name", "a b")
    r.set("k", "v")
    assert r.execute_command("CLIENT", "NO-TOUCH", "on") in (True, b"OK")
    time.sleep(1.1)
    r.get("k")
    assert r.object("idletime", "k") >= 1
    assert r.execute_command("CLIENT", "NO-TOUCH", "off") in (True, b"OK")
    r.get("k")
    assert r.object("idletime", "k") == 0


# --------------------------------------------------------------------------------------
# Server commands.
# --------------------------------------------------------------------------------------

def test_dbsize_flush(rp):
    rp.mset({"a": 1, "b": 2})
    assert rp.dbsize() == 2
    other = make_client(2, db=2)
    other.set("x", 1)
    assert rp.flushdb() is True
    assert rp.dbsize() == 0
    assert other.dbsize() == 1
    assert rp.flushall(asynchronous=True) is True
    assert other.dbsize() == 0
    assert rp.execute_command("FLUSHALL", "SYNC") in (True, b"OK")
    with pytest.raises(ResponseError, match="syntax error"):
        rp.execute_command("FLUSHDB", "BOGUS")
    other.close()


def test_time_lolwut(rp):
    secs, usecs = rp.time()
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1000000
    out = rp.lolwut()
    assert isinstance(out, (bytes, str)) and len(out) > 0
    assert b"ver." in (out if isinstance(out, bytes) else out.encode())


def test_command_introspection(r):
    count = r.command_count()
    # Apus lists only the commands it implements (collections etc. come later), so only
    # the in-scope surface is required here; the count must match the full table.
    assert count >= 70
    c = raw()
    assert len(parse_reply(raw_call(c, "COMMAND")).items()) == count
    c.close()
    c = raw()
    info = parse_reply(raw_call(c, "COMMAND", "INFO", "get", "nosuch")).items()
    c.close()
    assert info[1].is_null
    get = info[0].items()
    assert get[0].v == b"get" and get[1].v == 2
    assert {x.v for x in get[2].items()} == {b"readonly", b"fast"}
    assert [x.v for x in get[3:6]] == [1, 1, 1]
    assert {x.v for x in get[6].items()} == {b"@read", b"@string", b"@fast"}
    cmds = r.command()  # redis-py parses the whole table
    assert "set" in cmds and cmds["set"]["arity"] == -3
    assert [x if isinstance(x, bytes) else x.encode()
            for x in r.command_getkeys("MSET", "a", "1", "b", "2")] == [b"a", b"b"]
    c = raw()
    assert raw_call(c, "COMMAND", "GETKEYSANDFLAGS", "SET", "a", "b") == \
        b"*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n"
    assert raw_call(c, "COMMAND", "GETKEYS", "GET", "a", "b") == \
        b"-ERR Invalid number of arguments specified for command\r\n"
    c.close()
    with pytest.raises(ResponseError, match="Invalid command specified"):
        r.command_getkeys("NOSUCH", "a")
    names = set(r.command_list(pattern="get*"))
    assert {b"get", b"getex", b"getdel", b"getrange", b"getset", b"getbit"} <= names
    assert b"client|list" in set(r.command_list(pattern="client|*"))
    assert b"append" in set(r.command_list(category="string"))
    c = raw()
    docs = parse_reply(raw_call(c, "COMMAND", "DOCS", "get", "nosuch"))
    c.close()
    pairs = docs.pairs()
    assert [k.v for k, _ in pairs] == [b"get"]
    fields = {k.v: v for k, v in pairs[0][1].pairs()}
    assert fields[b"group"].v == b"string" and fields[b"since"].v == b"1.0.0"
    assert b"summary" in fields and b"arguments" in fields


def test_config(r, restore_config):
    restore_config("maxmemory-policy", "hz", "slowlog-max-len")
    everything = r.config_get("*")
    assert len(everything) > 150
    for name in ("maxmemory", "maxmemory-policy", "databases", "save", "appendonly",
                 "port", "hz", "timeout"):
        assert name in everything
    assert everything["databases"] == "16"
    assert r.config_set("maxmemory-policy", "allkeys-lru") is True
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert r.config_set("hz", 20) is True
    assert r.execute_command("CONFIG", "SET", "hz", "15", "slowlog-max-len", "64") in (True,
                                                                                     b"OK")
    assert r.config_get("hz", "slowlog-max-len") == {"hz": "15", "slowlog-max-len": "64"}
    assert r.config_get("maxmemory*")["maxmemory"] == "0"
    with pytest.raises(ResponseError, match="argument couldn't be parsed into an integer"):
        r.config_set("hz", "abc")
    with pytest.raises(ResponseError, match="Unknown option or number of arguments"):
        r.config_set("no-such-param", "1")
    with pytest.raises(ResponseError, match="can't set immutable config"):
        r.config_set("daemonize", "yes")
    r.config_set("maxmemory", "100mb")
    assert r.config_get("maxmemory") == {"maxmemory": "104857600"}
    r.config_set("maxmemory", "0")
    assert r.config_resetstat() is True
    with pytest.raises(ResponseError, match="The server is running without a config file"):
        r.config_rewrite()


def test_info(r):
    r.mset({"a": 1, "b": 2})
    r.set("c", 3, ex=100)
    info = r.info()
    assert str(info["redis_version"]).startswith("7.")
    assert info["db0"]["keys"] == 3
    assert info["db0"]["expires"] == 1
    assert "used_memory" in r.info("memory")
    assert "connected_clients" in r.info("clients")
    ks = r.info("keyspace")
    # Apus adds apus_dbN lines (per-database memory); Redis's dbN lines are unchanged.
    apus_lines = {k: v for k, v in ks.items() if k.startswith("apus_")}
    ks = {k: v for k, v in ks.items() if not k.startswith("apus_")}
    assert ks == {"db0": {"keys": 3, "expires": 1, "avg_ttl": ks["db0"]["avg_ttl"]}}
    if "apus_version" in r.info("server"):
        assert set(apus_lines) == {"apus_db0"}
        assert apus_lines["apus_db0"]["used_memory"] > 0
        assert apus_lines["apus_db0"]["maxmemory"] == 0
    assert r.info("nosuchsection") == {}
    everything = r.info("everything")
    assert "redis_version" in everything and "db0" in everything
    c = raw()
    text = parse_reply(raw_call(c, "INFO", "server")).v
    c.close()
    assert text.startswith(b"# Server\r\n") and b"\r\nredis_version:7." in text
    for line in text.split(b"\r\n"):
        assert line == b"" or line.startswith(b"#") or b":" in line


def test_slowlog(r, restore_config):
    restore_config("slowlog-log-slower-than", "slowlog-max-len")
    r.config_set("slowlog-max-len", 128)
    assert r.slowlog_reset() is True
    r.config_set("slowlog-log-slower-than", 0)
    r.client_setname("slowpoke")
    r.set("slow", "x")
    entries = r.slowlog_get(10)
    r.config_set("slowlog-log-slower-than", 10000)
    commands = [e["command"] for e in entries]
    assert b"SET slow x" in commands
    entry = entries[commands.index(b"SET slow x")]
    assert entry["client_name"] == b"slowpoke"
    assert isinstance(entry["duration"], int) and isinstance(entry["id"], int)
    assert r.slowlog_len() >= 2
    assert r.slowlog_reset() is True
    assert r.slowlog_len() <= 1
    with pytest.raises(ResponseError, match="count should be greater than or equal to -1"):
        r.execute_command("SLOWLOG", "GET", "-2")


def test_debug(r):
    assert r.execute_command("DEBUG", "SLEEP", "0") in (True, b"OK")
    assert r.execute_command("DEBUG", "DIGEST") == b"0" * 40
    r.set("k", "v")
    d1 = r.execute_command("DEBUG", "DIGEST")
    assert d1 != b"0" * 40
    r.delete("k")
    r.set("k", "v")
    assert r.execute_command("DEBUG", "DIGEST") == d1
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "k", "missing")[1] == b"0" * 40
    obj = r.debug_object("k")  # redis-py parses the DEBUG OBJECT status line
    assert obj["refcount"] == 1 and obj["encoding"] == "embstr"
    assert obj["serializedlength"] == 2 and "lru_seconds_idle" in obj
    with pytest.raises(ResponseError, match="no such key"):
        r.execute_command("DEBUG", "OBJECT", "missing")
    assert r.execute_command("DEBUG", "POPULATE", "10", "pop") in (True, b"OK")
    assert r.dbsize() == 11
    assert r.get("pop:3") == b"value:3"


# --------------------------------------------------------------------------------------
# redis-cli.
# --------------------------------------------------------------------------------------

def test_cli_basic_commands():
    assert cli("PING").strip() == "PONG"
    assert cli("SET", "greeting", "hello world").strip() == "OK"
    assert cli("GET", "greeting").strip() == "hello world"
    assert cli("--no-raw", "GET", "greeting").strip() == '"hello world"'
    assert cli("--no-raw", "INCR", "n").strip() == "(integer) 1"
    assert cli("--no-raw", "GET", "missing").strip() == "(nil)"
    assert cli("--no-raw", "MGET", "greeting", "missing").strip().splitlines() == \
        ['1) "hello world"', "2) (nil)"]
    out = cli("--no-raw", "GETRANGE", "greeting", "0", "-1", "x").strip()
    assert out == "(error) ERR wrong number of arguments for 'getrange' command"
    assert cli("-n", "3", "SET", "in3", "x").strip() == "OK"
    assert cli("-n", "3", "DBSIZE").strip() == "1"
    assert cli("DBSIZE").strip() == "2"


def test_cli_stdin_inline_session():
    script = b'SET a 1\nINCR a\nSET b "two words"\nGET b\nECHO "esc\\x41"\nGET nope\nDBSIZE\n'
    out = cli(stdin=script).splitlines()
    assert out == ["OK", "2", "OK", "two words", "escA", "", "2"]
    out = cli("--no-raw", stdin=b"GET a\nLLEN_NOPE x\n").splitlines()
    assert out[0] == '"2"'
    assert out[1].startswith("(error) ERR unknown command 'LLEN_NOPE'")


def test_cli_binary_and_pipe(tmp_path):
    blob = bytes(range(256)) * 4
    f = tmp_path / "blob"
    f.write_bytes(blob)
    with open(f, "rb") as fh:
        p = subprocess.run([REDIS_CLI, "-h", HOST, "-p", str(PORT), "-x", "SET", "blob"],
                           stdin=fh, capture_output=True, timeout=30)
    assert p.stdout.strip() == b"OK"
    out = cli("--raw", "GET", "blob", binary=True)
    assert out[:-1] == blob  # --raw output ends with a newline
    assert cli("STRLEN", "blob").strip() == "1024"
    # --pipe mass insertion speaks raw RESP.
    proto = b"".join(encode_command([b"SET", b"pipe:%d" % i, b"%d" % i]) for i in range(200))
    p = subprocess.run([REDIS_CLI, "-h", HOST, "-p", str(PORT), "--pipe"], input=proto,
                       capture_output=True, timeout=60)
    assert b"errors: 0, replies: 200" in p.stdout, p.stdout
    assert cli("GET", "pipe:199").strip() == "199"


def test_cli_scan_info_config():
    for i in range(30):
        cli("SET", "scan:%d" % i, "x")
    cli("SET", "other", "x")
    found = set(cli("--scan", "--pattern", "scan:*").split())
    assert found == {"scan:%d" % i for i in range(30)}
    info = cli("INFO", "server")
    assert "redis_version:" in info
    assert cli("--no-raw", "CONFIG", "GET", "databases").strip().splitlines() == \
        ['1) "databases"', '2) "16"']
    out = cli("-3", "--no-raw", "CONFIG", "GET", "databases").strip().splitlines()
    assert out == ['1# "databases" => "16"']
    assert cli("-3", "--no-raw", "GET", "missing").strip() == "(nil)"
    assert cli("--no-raw", "TYPE", "other").strip() == "string"


# --------------------------------------------------------------------------------------
# Exact error strings and edge cases found by the differential runner (each of these
# once differed between Apus and Redis; see compat/README.md).
# --------------------------------------------------------------------------------------

def test_unknown_command_error_is_byte_exact():
    c = raw()
    # Redis formats the arguments with %s: a NUL byte ends an argument, other bytes are
    # copied verbatim (not UTF-8 sanitized); CR/LF become spaces.
    assert raw_call(c, b"c\xffmd", b"a\xe9b", b"x\x00y", b"1\r\n2") == (
        b"-ERR unknown command 'c\xffmd', with args beginning with: 'a\xe9b' 'x' '1  2' \r\n")
    assert raw_call(c, b"\x00bad", b"z") == \
        b"-ERR unknown command '', with args beginning with: 'z' \r\n"
    assert raw_call(c, b"OBJECT", b"\x00x", b"k") == \
        b"-ERR unknown subcommand ''. Try OBJECT HELP.\r\n"
    # At most ~128 bytes of arguments are echoed.
    reply = raw_call(c, b"NOPE", b"a" * 100, b"b" * 100, b"c")
    assert reply == (b"-ERR unknown command 'NOPE', with args beginning with: '" + b"a" * 100
                     + b"' '" + b"b" * 25 + b"' \r\n")
    c.close()


def test_subcommand_and_range_errors_are_byte_exact():
    c = raw()
    for args, err in [
        (("SELECT", "2147483648"),
         b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"),
        (("DEBUG", "NOSUCH"),
         b"-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. "
         b"Try DEBUG HELP.\r\n"),
        (("DEBUG", "PROTOCOL"),
         b"-ERR unknown subcommand or wrong number of arguments for 'PROTOCOL'. "
         b"Try DEBUG HELP.\r\n"),
        (("SLOWLOG", "GET", "1", "2"),
         b"-ERR unknown subcommand or wrong number of arguments for 'GET'. "
         b"Try SLOWLOG HELP.\r\n"),
        (("CONFIG", "SET", "hz", "10", "timeout"), b"-ERR syntax error\r\n"),
        (("CLIENT", "KILL", "MAXAGE", "1"), b"-ERR syntax error\r\n"),
    ]:
        assert raw_call(c, *args) == err, args
    c.close()


def test_lolwut_version_without_number():
    c = raw()
    reply = parse_reply(raw_call(c, "LOLWUT", "VERSION"))
    assert reply.t in "$=" and b"ver." in reply.v
    reply = parse_reply(raw_call(c, "LOLWUT", "VERSION", "5", "10", "2", "2", "extra"))
    assert reply.t in "$=" and b"ver." in reply.v
    c.close()


def test_client_info_reports_current_command(r):
    r.set("k", "v")
    assert r.client_info()["cmd"] == "client|info"
    r.get("k")
    me = [e for e in r.client_list() if int(e["id"]) == r.client_id()]
    assert me[0]["cmd"] == "client|list"


def test_debug_digest_matches_redis():
    c = raw()
    assert raw_call(c, "SET", "a", "1") == b"+OK\r\n"
    # Redis's dataset digest (debug.c computeDatasetDigest) for exactly {db0: a=1}.
    assert raw_call(c, "DEBUG", "DIGEST") == b"+943d800368fb9c0e951138f1bc0e313ac769d91f\r\n"
    assert raw_call(c, "DEBUG", "DIGEST-VALUE", "a") == \
        b"*1\r\n+b4fc66738120fba0b5aa500ab5c2bf89cea1c5da\r\n"
    c.close()


def test_bitfield_unaligned_reads(rp):
    rp.set("s", "abc")
    assert rp.execute_command("BITFIELD", "s", "GET", "u8", "4") == [22]
    assert rp.execute_command("BITFIELD", "s", "GET", "u4", "20") == [3]
    assert rp.execute_command("BITFIELD_RO", "s", "GET", "u8", "12", "GET", "u5", "#1") == [38, 5]
    assert rp.execute_command("BITFIELD", "s", "GET", "u8", "20") == [48]
    rp.delete("y")
    assert rp.execute_command("BITFIELD", "y", "SET", "u8", "4", "255") == [0]
    assert rp.get("y") == b"\x0f\xf0"
    assert rp.execute_command("BITFIELD", "y", "SET", "u4", "10", "1") == [12]
    assert rp.get("y") == b"\x0f\xc4"


def test_far_future_expiry_keeps_server_alive(r):
    # Expire times close to LLONG_MAX are valid; the active expire cycle must cope with
    # many of them (their remaining TTLs do not fit in a 64-bit sum).
    p = r.pipeline(transaction=False)
    for i in range(200):
        p.set("far:%d" % i, "v")
        p.pexpireat("far:%d" % i, 9223372036854775807)
    assert all(p.execute())
    time.sleep(1.0)
    assert r.ping() is True
    assert r.dbsize() == 200
    assert r.pttl("far:0") > 9000000000000000000
    assert r.info("keyspace")["db0"]["expires"] == 200
