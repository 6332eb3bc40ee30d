"""maxmemory and eviction with a real client (redis-py): the "primary store and cache in one
instance" scenario. Persistent keys (no TTL) live next to TTL'd cache keys, maxmemory sits at
about 70% of what the data needs, policy volatile-lru, and cache keys keep being written:
not one persistent key may be lost, evictions are counted, and once only persistent keys are
left, writes fail with -OOM while reads and deletes still work. The same with a per-database
quota (`db-maxmemory`, Apus only): database 1 filling up never evicts database 0.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_eviction.py -q
"""

import os
import time

import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))

PERSISTENT = 20_000
CACHE = 20_000
VALUE = b"v" * 100


def client(db=0):
    return redis.Redis(host=HOST, port=PORT, db=db, socket_timeout=30)


def is_apus(c):
    return "apus_version" in c.info("server")


@pytest.fixture
def r():
    c = client()
    c.config_set("maxmemory", 0)
    c.flushall()
    c.config_resetstat()
    yield c
    c.config_set("maxmemory", 0)
    c.config_set("maxmemory-policy", "noeviction")
    if is_apus(c):
        c.config_set("db-maxmemory", "")
    c.flushall()
    c.close()


def load(c, prefix, count, ttl=None, db_value=VALUE):
    pipe = c.pipeline(transaction=False)
    for i in range(count):
        if ttl:
            pipe.set(f"{prefix}:{i}", db_value, ex=ttl)
        else:
            pipe.set(f"{prefix}:{i}", db_value)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def missing_persistent(c, prefix, count):
    """Keys of prefix:0..count-1 that MGET (in batches of 200) does not return."""
    missing = 0
    for start in range(0, count, 200):
        keys = [f"{prefix}:{i}" for i in range(start, min(start + 200, count))]
        missing += sum(1 for v in c.mget(keys) if v != VALUE)
    return missing


def used_memory(c):
    return c.info("memory")["used_memory"]


def maxmemory(c):
    return int(c.config_get("maxmemory")["maxmemory"])


def test_volatile_lru_keeps_every_persistent_key(r):
    base = used_memory(r)
    load(r, "user", PERSISTENT)
    load(r, "cache", CACHE, ttl=3600)
    full = used_memory(r)
    r.config_set("maxmemory-policy", "volatile-lru")
    r.config_set("maxmemory", base + int((full - base) * 0.7))

    # Continuous cache writes at the limit: older cache keys make room.
    for round_ in range(5):
        load(r, f"cache{round_}", CACHE // 2, ttl=3600)
        assert missing_persistent(r, "user", PERSISTENT) == 0
    stats = r.info("stats")
    assert stats["evicted_keys"] > 0
    assert used_memory(r) <= maxmemory(r) * 1.05

    # Persistent writes: they evict the remaining cache keys, then get OOM.
    written = 0
    with pytest.raises(redis.exceptions.ResponseError, match="^command not allowed when used memory > 'maxmemory'"):
        while True:
            r.set(f"more:{written}", VALUE)
            written += 1
            assert written < 10 * (PERSISTENT + CACHE), "writes never hit OOM"
    assert r.info("keyspace")["db0"].get("expires", 0) == 0
    assert missing_persistent(r, "user", PERSISTENT) == 0
    assert missing_persistent(r, "more", written) == 0
    # Reads and deletes still work at the limit; a delete makes room again.
    assert r.get("user:0") == VALUE
    assert r.delete(*[f"user:{i}" for i in range(1000)]) == 1000
    r.set("after-delete", VALUE)


def test_noeviction_refuses_writes_but_serves_reads(r):
    load(r, "k", 1000)
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", 1)
    with pytest.raises(redis.exceptions.ResponseError, match="^command not allowed"):
        r.set("x", "y")
    with pytest.raises(redis.exceptions.ResponseError, match="^command not allowed"):
        r.lpush("l", "a")
    assert r.get("k:1") == VALUE
    assert r.dbsize() == 1000
    assert r.delete("k:1") == 1
    assert r.info("stats")["evicted_keys"] == 0


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_allkeys_policies_evict_to_fit(r, policy):
    base = used_memory(r)
    load(r, "k", 20_000)
    full = used_memory(r)
    r.config_set("maxmemory-policy", policy)
    r.config_set("maxmemory", base + (full - base) // 2)
    load(r, "n", 5_000)
    assert r.info("stats")["evicted_keys"] > 0
    assert used_memory(r) <= maxmemory(r) * 1.05
    assert r.dbsize() < 25_000


def test_volatile_ttl_evicts_soonest_expiring_first(r):
    base = used_memory(r)
    pipe = r.pipeline(transaction=False)
    for i in range(10_000):
        pipe.set(f"soon:{i}", VALUE, ex=1000)
        pipe.set(f"late:{i}", VALUE, ex=100_000)
    pipe.execute()
    full = used_memory(r)
    r.config_set("maxmemory-policy", "volatile-ttl")
    r.config_set("maxmemory", base + int((full - base) * 0.8))
    load(r, "x", 2_000, ttl=50_000)
    soon = sum(1 for v in r.mget([f"soon:{i}" for i in range(10_000)]) if v is not None)
    late = sum(1 for v in r.mget([f"late:{i}" for i in range(10_000)]) if v is not None)
    assert soon < late


def test_database_quota_evicts_only_inside_its_database(r):
    if not is_apus(r):
        pytest.skip("db-maxmemory is an Apus extension")
    db1 = client(1)
    load(r, "user", PERSISTENT)
    load(r, "cache", CACHE, ttl=3600)
    r.config_set("maxmemory-policy", "volatile-lru")
    r.config_set("db-maxmemory", "1 2mb")
    assert r.config_get("db-maxmemory") == {"db-maxmemory": "1 2mb"}

    # Database 1 fills with cache keys far past its quota: it evicts its own keys only.
    load(db1, "tenant", 60_000, ttl=3600)
    assert r.info("stats")["evicted_keys"] > 0
    assert db1.dbsize() < 60_000
    assert r.dbsize() == PERSISTENT + CACHE
    assert missing_persistent(r, "user", PERSISTENT) == 0
    keyspace = r.info("keyspace")
    assert keyspace["db0"]["keys"] == PERSISTENT + CACHE

    # Persistent writes into database 1: OOM once its cache is gone; database 0 unaffected.
    with pytest.raises(redis.exceptions.ResponseError, match="^command not allowed when used memory > 'db-maxmemory' of database 1"):
        for i in range(200_000):
            db1.set(f"own:{i}", VALUE)
    r.set("db0-still-writable", VALUE)
    assert r.get("db0-still-writable") == VALUE
    assert db1.get("own:0") == VALUE
    db1.close()


def test_db_maxmemory_config_errors(r):
    if not is_apus(r):
        pytest.skip("db-maxmemory is an Apus extension")
    for bad in ["1", "x 10mb", "99 10mb", "1 ten", "-1 10mb"]:
        with pytest.raises(redis.exceptions.ResponseError, match="^CONFIG SET failed"):
            r.config_set("db-maxmemory", bad)
    r.config_set("db-maxmemory", "1 100mb 2 1gb")
    assert r.config_get("db-maxmemory")["db-maxmemory"] == "1 100mb 2 1gb"
    r.config_set("db-maxmemory", "")
    assert r.config_get("db-maxmemory")["db-maxmemory"] == ""


def test_object_freq_counts_accesses_under_lfu(r):
    r.config_set("maxmemory-policy", "allkeys-lfu")
    r.config_set("lfu-log-factor", 0)
    r.set("hot", "v")
    r.set("cold", "v")
    for _ in range(20):
        r.get("hot")
    assert r.object("freq", "hot") > r.object("freq", "cold")
    assert r.object("freq", "cold") >= 5
    r.config_set("lfu-log-factor", 10)
    with pytest.raises(redis.exceptions.ResponseError, match="LFU maxmemory policy is selected"):
        r.object("idletime", "hot")


def test_client_output_buffers_never_evict_keys(r):
    """The Redis trap: clients that do not read their big replies pile up output buffers;
    Redis counts them toward maxmemory and evicts data. Apus bounds them with their own
    limits instead (client-output-buffer-limit, maxmemory-clients) and leaves the keys alone."""
    if not is_apus(r):
        pytest.skip("Redis evicts keys for client buffers (the behaviour Apus removes)")
    import socket
    for j in range(50):
        r.setrange(str(j), 100_000, "x")
    r.config_set("maxmemory-policy", "allkeys-lru")
    # Headroom for the replies being built at any instant (a command's reply counts as client
    # memory once the command has run), far below what the unread replies pile up to.
    r.config_set("maxmemory", used_memory(r) + 8 * 1024 * 1024)
    mget = ("*11\r\n$4\r\nMGET\r\n" + "".join(f"${len(str(j))}\r\n{j}\r\n" for j in range(10))).encode()
    sockets = []
    for _ in range(10):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        s.connect((HOST, PORT))
        s.sendall(mget * 10)  # 10 MB of replies each, never read
        sockets.append(s)
    # The unread replies pile up far past the limit's headroom (normal clients have no output
    # limit by default, as in Redis), yet evict nothing.
    deadline = time.time() + 10
    while time.time() < deadline and r.info("memory")["mem_clients_normal"] < 32 * 1024 * 1024:
        time.sleep(0.1)
    memory = r.info("memory")
    assert memory["mem_clients_normal"] > 32 * 1024 * 1024
    assert memory["mem_not_counted_for_evict"] > 32 * 1024 * 1024
    assert memory["used_memory"] > maxmemory(r)  # over the limit, because of client buffers
    r.set("a-write", "still accepted")  # a write runs eviction first: nothing to evict
    assert r.info("stats")["evicted_keys"] == 0
    assert r.dbsize() == 51
    for s in sockets:
        s.close()
    # Leave no slow clients behind for the next test.
    deadline = time.time() + 10
    while time.time() < deadline and len(r.client_list()) > 1:
        time.sleep(0.05)
