"""End-to-end checks of the HyperLogLog family (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST) with
real clients (redis-py, RESP2 and RESP3, raw sockets where exact bytes matter).

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_hyperloglog.py -q

A HyperLogLog is a string, so the bytes GET returns are part of the contract: the expected
values below were recorded from redis-server 7.0.15 and 7.2.4 (identical).  With
HLL_ORACLE=host:port naming a throw-away redis-server, the cross-load tests also move sketches
both ways between the two servers (SET the other's GET) and compare every reply.

Passes against redis-server too.  FLUSHALLs the server (and the oracle) before every test.
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
ORACLE = os.environ.get("HLL_ORACLE")
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPTED = "INVALIDOBJ Corrupted HLL object detected"
EMPTY_SPARSE = bytes.fromhex("48594c4c0100000000000000000000807fff")


def make_client(protocol=2, host=HOST, port=PORT):
    return redis.Redis(host=host, port=port, protocol=protocol, socket_timeout=60)


def raw_call(*args, resp3=False):
    c = Conn(HOST, PORT, timeout=60)
    try:
        if resp3:
            c.send(encode_command([b"HELLO", b"3"]))
            c.read_reply()
        c.send(encode_command([a if isinstance(a, bytes) else str(a).encode() for a in args]))
        return c.read_reply()
    finally:
        c.close()


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def error_of(fn, *args):
    with pytest.raises(redis.exceptions.ResponseError) as e:
        fn(*args)
    return str(e.value)


@pytest.fixture(autouse=True)
def clean():
    c = make_client()
    c.flushall()
    c.config_set("hll-sparse-max-bytes", 3000)
    yield
    c.config_set("hll-sparse-max-bytes", 3000)
    c.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def r(request):
    c = make_client(protocol=request.param)
    yield c
    c.close()


# --------------------------------------------------------------------------------------
# PFADD / PFCOUNT and the exact bytes.
# --------------------------------------------------------------------------------------

def test_pfadd_creates_an_empty_sparse_sketch(r):
    assert r.pfadd("h") == 1
    assert r.pfadd("h") == 0
    assert r.exists("h") == 1
    assert r.get("h") == EMPTY_SPARSE  # created with the cache marked invalid
    assert r.pfcount("h") == 0
    assert r.get("h") == EMPTY_SPARSE[:15] + b"\x00" + EMPTY_SPARSE[16:]
    assert r.object("encoding", "h") in (b"raw", "raw")


def test_pfadd_reports_register_changes_and_bytes_match_redis(r):
    assert r.pfadd("h", "a") == 1
    assert r.get("h") == bytes.fromhex("48594c4c01000000000000000000008071a6844e57")
    assert r.pfadd("h", "a") == 0
    r.delete("h")
    assert r.pfadd("h", *[str(i) for i in range(10)]) == 1
    assert r.get("h") == bytes.fromhex(
        "48594c4c01000000000000000000008041ee844823805351804ce08040928048ca8c43738042d78042128c"
        "40cf844322")
    assert r.pfcount("h") == 10
    assert r.get("h")[8:16] == bytes.fromhex("0a00000000000000")  # cached, little endian
    assert r.pfadd("h", "") == 1  # the empty element hashes like any other


def test_estimates_and_bytes_across_the_promotion_match_redis():
    c = make_client()
    recorded = [(100, 285, 0xb8de76dab4a4065e, 100), (1000, 1906, 0x5935de0232806824, 1008),
                (3000, 12304, 0x1b31e02ee1b56bce, 2979), (10000, 12304, 0x7378cbab5ab5c44b, 9973),
                (100000, 12304, 0xafbf1713dc5ba3c8, 100853)]
    for n, length, fingerprint, estimate in recorded:
        c.delete("x")
        c.pfadd("x", *["e%d" % i for i in range(n)])
        v = c.get("x")
        assert (len(v), fnv(v)) == (length, fingerprint), n
        assert c.execute_command("PFDEBUG", "ENCODING", "x") in (b"sparse", b"dense")
        assert c.pfcount("x") == estimate
    c.close()


def test_cache_invalidation_like_redis_tcl_suite(r):
    r.pfadd("hll", "a", "b", "c")
    r.pfcount("hll")
    assert r.getrange("hll", 15, 15) == b"\x00"
    r.pfadd("hll", "a", "b", "c")
    assert r.getrange("hll", 15, 15) == b"\x00"
    r.pfadd("hll", "1", "2", "3")
    assert r.getrange("hll", 15, 15) == b"\x80"


def test_pfcount_of_several_keys_is_the_union_and_touches_nothing(r):
    r.pfadd("b", *["f%d" % i for i in range(500)])
    r.pfadd("c", *["e%d" % i for i in range(300)])
    before = (r.get("b"), r.get("c"))
    assert r.pfcount("b", "c") == 808
    assert r.pfcount("b", "c", "missing") == 808
    assert (r.get("b"), r.get("c")) == before  # no cache written by the union
    assert r.pfcount("missing") == 0
    assert r.pfcount("missing", "missing2") == 0


def test_overflowing_estimate_is_llong_min(r):
    # Every dense register at 63: Redis's estimator divides by zero and llroundl overflows.
    regs = bytearray(12288)
    for i in range(16384):
        bit = i * 6
        regs[bit >> 3] |= (63 << (bit & 7)) & 0xff
        if bit & 7 > 2:
            regs[(bit >> 3) + 1] |= 63 >> (8 - (bit & 7))
    r.set("d", b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80" + bytes(regs))
    assert r.pfcount("d") == -9223372036854775808
    assert r.get("d")[8:16] == b"\x00" * 7 + b"\x80"  # the "cache" stays invalid


# --------------------------------------------------------------------------------------
# PFMERGE.
# --------------------------------------------------------------------------------------

def test_pfmerge_union_and_7_2_edge_cases(r):
    r.pfadd("h1", "a", "b", "c")
    r.pfadd("h2", "b", "c", "d")
    r.pfadd("h3", "c", "d", "e")
    assert r.pfmerge("hll", "h1", "h2", "h3") is True
    assert r.pfcount("hll") == 5
    # Missing sources and no sources create an empty destination.
    assert raw_call("PFMERGE", "dest", "nokey") == b"+OK\r\n"
    assert r.get("dest") == EMPTY_SPARSE
    assert raw_call("PFMERGE", "dest2") == b"+OK\r\n"
    assert r.pfcount("dest2") == 0
    # The destination is one of the sources.
    r.pfadd("self", "a", "b", "c")
    assert raw_call("PFMERGE", "self") == b"+OK\r\n"
    assert r.pfcount("self") == 3


def test_pfmerge_bytes_sparse_and_dense_destinations(r):
    r.pfadd("y", *["f%d" % i for i in range(500)])
    r.pfadd("z", *["e%d" % i for i in range(300)])
    r.pfmerge("m", "y", "z")
    v = r.get("m")
    assert (len(v), fnv(v)) == (1584, 0x415b368f2a4adc10)
    r.pfadd("x", *["e%d" % i for i in range(100000)])
    r.pfmerge("m2", "y", "x")
    v = r.get("m2")
    assert (len(v), fnv(v)) == (12304, 0x7abb74611abd5f54)
    assert r.pfcount("m2") == 101274


def test_writes_keep_the_ttl(r):
    r.set("t", EMPTY_SPARSE, ex=1000)
    r.pfadd("t", "a", "b")
    assert 990 <= r.ttl("t") <= 1000
    r.pfadd("h", "x")
    r.pfmerge("t", "h")
    assert 990 <= r.ttl("t") <= 1000
    r.execute_command("PFDEBUG", "TODENSE", "t")
    assert 990 <= r.ttl("t") <= 1000


# --------------------------------------------------------------------------------------
# Type checks and corrupted values.
# --------------------------------------------------------------------------------------

def test_type_checking(r):
    r.set("foo", "bar")
    assert error_of(r.pfadd, "foo", "1") == NOT_HLL
    assert error_of(r.pfcount, "foo") == NOT_HLL
    assert error_of(r.pfmerge, "bar", "foo") == NOT_HLL
    assert error_of(r.pfmerge, "foo", "bar") == NOT_HLL
    assert r.exists("bar") == 0
    r.rpush("l", "x")
    assert error_of(r.pfadd, "l", "x") == WRONGTYPE
    assert error_of(r.pfcount, "l") == WRONGTYPE
    assert error_of(r.pfcount, "missing", "l") == WRONGTYPE
    assert error_of(r.pfmerge, "d", "l") == WRONGTYPE
    r.set("i", "12345678901234567")
    assert error_of(r.pfcount, "i") == NOT_HLL


@pytest.mark.parametrize("corrupt, error", [
    (lambda r: r.append("hll", "hello"), CORRUPTED),
    (lambda r: r.setrange("hll", 0, "0123"), NOT_HLL),
    (lambda r: r.setrange("hll", 4, "x"), NOT_HLL),
    (lambda r: r.setrange("hll", 4, "\x00"), NOT_HLL),  # dense must be 12304 bytes
])
def test_corrupted_sketches_are_detected(r, corrupt, error):
    r.pfadd("hll", "a", "b", "c")
    corrupt(r)
    assert error_of(r.pfcount, "hll") == error
    assert error_of(r.pfcount, "hll", "missing") == error
    assert error_of(r.pfmerge, "dst", "hll") == error


def test_opcodes_past_the_last_register_are_corrupt(r):
    # 16384 zeros then one more VAL: rejected everywhere, as by the CVE-2025-32023 fix
    # (Redis 7.2.10+, the Debian 7.0.15 package).  Unfixed upstream 7.2.0-7.2.9 accept it.
    info = r.info("server")
    version = tuple(int(x) for x in str(info["redis_version"]).split("."))
    if "apus_version" not in info and (7, 2, 0) <= version < (7, 2, 10):
        pytest.skip("redis-server %s predates the CVE-2025-32023 fix" % info["redis_version"])
    r.set("v", EMPTY_SPARSE + b"\xac")
    assert error_of(r.pfcount, "v") == CORRUPTED
    assert error_of(r.pfcount, "v", "missing") == CORRUPTED
    assert error_of(r.pfmerge, "d", "v") == CORRUPTED
    assert error_of(r.execute_command, "PFDEBUG", "TODENSE", "v") == CORRUPTED


def test_a_valid_cache_is_trusted_without_walking_the_registers(r):
    r.set("e", b"HYLL\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00garbage")
    assert r.pfcount("e") == 5
    assert error_of(r.pfcount, "e", "missing") == CORRUPTED


def test_fuzzed_sketches_never_break_the_server():
    c = make_client()
    rnd = random.Random(1234)
    for _ in range(300):
        c.delete("hll")
        c.pfadd("hll", *[str(rnd.random()) for _ in range(rnd.randint(0, 3000))] or ["x"])
        for _ in range(5):
            n = c.strlen("hll")
            c.setrange("hll", rnd.randrange(n), bytes([rnd.randrange(256)]))
            if rnd.random() < 0.5:
                break
        for cmd in (("PFCOUNT", "hll"), ("PFADD", "hll", "a", "b"), ("PFCOUNT", "hll", "x"),
                    ("PFMERGE", "d", "hll"), ("PFDEBUG", "DECODE", "hll"), ("PFDEBUG", "TODENSE", "hll")):
            try:
                c.execute_command(*cmd)
            except redis.exceptions.ResponseError:
                pass
    assert c.ping() is True
    c.close()


# --------------------------------------------------------------------------------------
# hll-sparse-max-bytes.
# --------------------------------------------------------------------------------------

def test_change_hll_sparse_max_bytes(r):
    r.pfadd("hll", "a", "b", "c", "d", "e", "d", "g", "h", "i", "j", "k")
    assert r.execute_command("PFDEBUG", "ENCODING", "hll") in (b"sparse", "sparse")
    r.config_set("hll-sparse-max-bytes", 30)
    r.pfadd("hll", "new_element")
    assert r.execute_command("PFDEBUG", "ENCODING", "hll") in (b"dense", "dense")


@pytest.mark.parametrize("limit", [0, 100, 500, 3000])
def test_sparse_never_outgrows_the_limit(limit):
    c = make_client()
    c.config_set("hll-sparse-max-bytes", limit)
    c.pfadd("hll")
    rnd = random.Random(limit)
    length = c.strlen("hll")
    while length <= max(limit, 18):
        assert c.execute_command("PFDEBUG", "ENCODING", "hll") == b"sparse"
        c.pfadd("hll", *[str(rnd.random()) for _ in range(10)])
        length = c.strlen("hll")
    assert c.execute_command("PFDEBUG", "ENCODING", "hll") == b"dense"
    c.close()


# --------------------------------------------------------------------------------------
# PFDEBUG and PFSELFTEST.
# --------------------------------------------------------------------------------------

def test_pfdebug_subcommands():
    assert raw_call("PFDEBUG", "GETREG", "nokey") == b"-ERR The specified key does not exist\r\n"
    assert raw_call("PFDEBUG", "foo", "nokey") == b"-ERR The specified key does not exist\r\n"
    raw_call("PFADD", "h", "a")
    assert raw_call("PFDEBUG", "FOO", "h") == b"-ERR Unknown PFDEBUG subcommand 'FOO'\r\n"
    assert raw_call("PFDEBUG", "ENCODING", "h") == b"+sparse\r\n"
    assert raw_call("PFDEBUG", "DECODE", "h") == b"$20\r\nZ:12711 v:2,1 Z:3672\r\n"
    assert raw_call("PFDEBUG", "GETREG", "h", "x") == \
        b"-ERR wrong number of arguments for 'pfdebug' command\r\n"
    reply = raw_call("PFDEBUG", "GETREG", "h")
    assert reply.startswith(b"*16384\r\n")
    values = reply.split(b"\r\n")[1:-1]
    assert values[12711] == b":2" and values.count(b":0") == 16383
    assert raw_call("PFDEBUG", "ENCODING", "h") == b"+dense\r\n"  # GETREG converted it
    assert raw_call("PFDEBUG", "TODENSE", "h") == b":0\r\n"
    assert raw_call("PFDEBUG", "DECODE", "h") == b"-ERR HLL encoding is not sparse\r\n"
    raw_call("PFADD", "h2", "x")
    assert raw_call("PFDEBUG", "TODENSE", "h2") == b":1\r\n"
    assert raw_call("PFDEBUG", "ENCODING", "h2", resp3=True) == b"+dense\r\n"


def test_pfselftest():
    assert raw_call("PFSELFTEST") == b"+OK\r\n"


# --------------------------------------------------------------------------------------
# Cross-loading with a real redis-server (HLL_ORACLE=host:port).
# --------------------------------------------------------------------------------------

@pytest.fixture
def oracle():
    if not ORACLE:
        pytest.skip("set HLL_ORACLE=host:port of a throw-away redis-server")
    host, port = ORACLE.rsplit(":", 1)
    c = make_client(host=host, port=int(port))
    c.flushall()
    c.config_set("hll-sparse-max-bytes", 3000)
    yield c
    c.close()


def test_sketches_cross_load_both_ways(oracle):
    apus = make_client()
    rnd = random.Random(99)
    for step in range(60):
        n = rnd.choice([0, 1, 5, 50, 200, 1000, 5000])
        elements = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 10))) for _ in range(n)]
        src, dst = (oracle, apus) if step % 2 else (apus, oracle)
        src.delete("k")
        src.pfadd("k", *elements) if elements else src.pfadd("k")
        value = src.get("k")
        dst.set("k", value)
        more = [str(rnd.random()) for _ in range(rnd.choice([0, 3, 300]))]
        for c in (src, dst):
            c.pfadd("k", *more) if more else c.pfadd("k")
        assert src.get("k") == dst.get("k")
        assert src.pfcount("k") == dst.pfcount("k")
        assert src.get("k") == dst.get("k")  # the same cache written
        for c in (src, dst):
            c.set("other", value)
            c.pfmerge("m", "k", "other")
        assert src.get("m") == dst.get("m")
    apus.close()
