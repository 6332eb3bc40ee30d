"""MEMORY and INFO memory with real clients (redis-py, RESP2 and RESP3) and raw sockets.
Like test_compat.py, every test must pass against redis-server and against Apus:

    APUS_PORT=6379 python3 -m pytest compat/test_memory.py -q

Byte figures differ between the servers (different data structures and allocators); these
tests compare shapes, errors and relations (grows with, >=, ratios), never exact numbers.
The suite FLUSHALLs the server before every test.
"""

import os
import sys

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compat import (  # noqa: E402,F401  (fixtures are used by name)
    clean_server, make_client, r, r3, raw, raw_call, rp, version, server_info,
)
from resp import parse_reply  # noqa: E402

ResponseError = redis.exceptions.ResponseError

STATS_KEYS = [
    "peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
    "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches",
    "functions.caches", "overhead.total", "keys.count", "keys.bytes-per-key", "dataset.bytes",
    "dataset.percentage", "peak.percentage", "allocator.allocated", "allocator.active",
    "allocator.resident", "allocator-fragmentation.ratio", "allocator-fragmentation.bytes",
    "allocator-rss.ratio", "allocator-rss.bytes", "rss-overhead.ratio", "rss-overhead.bytes",
    "fragmentation", "fragmentation.bytes",
]

INFO_MEMORY_FIELDS = [
    "used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human",
    "used_memory_peak", "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead",
    "used_memory_startup", "used_memory_dataset", "used_memory_dataset_perc",
    "allocator_allocated", "allocator_active", "allocator_resident", "total_system_memory",
    "total_system_memory_human", "used_memory_lua", "used_memory_vm_eval", "used_memory_lua_human",
    "used_memory_scripts_eval", "number_of_cached_scripts", "number_of_functions",
    "number_of_libraries", "used_memory_vm_functions", "used_memory_vm_total",
    "used_memory_vm_total_human", "used_memory_functions", "used_memory_scripts",
    "used_memory_scripts_human", "maxmemory", "maxmemory_human", "maxmemory_policy",
    "allocator_frag_ratio", "allocator_frag_bytes", "allocator_rss_ratio", "allocator_rss_bytes",
    "rss_overhead_ratio", "rss_overhead_bytes", "mem_fragmentation_ratio",
    "mem_fragmentation_bytes", "mem_not_counted_for_evict", "mem_replication_backlog",
    "mem_total_replication_buffers", "mem_clients_slaves", "mem_clients_normal",
    "mem_cluster_links", "mem_aof_buffer", "mem_allocator", "active_defrag_running",
    "lazyfree_pending_objects", "lazyfreed_objects",
]


def stats_pairs(node):
    """(name, Node) pairs of a MEMORY STATS reply or of its db.N entry (RESP2 or RESP3)."""
    return [(k.v.decode(), v) for k, v in node.pairs()]


def info_memory_lines():
    c = raw()
    text = raw_call(c, "INFO", "memory")
    c.close()
    body = text.split(b"\r\n", 1)[1].decode()
    return [line.split(":", 1) for line in body.split("\r\n") if line and not line.startswith("#")]


# --------------------------------------------------------------------------------------
# MEMORY USAGE
# --------------------------------------------------------------------------------------

def test_usage_missing_key_is_nil(rp):
    assert rp.memory_usage("nokey") is None
    assert rp.execute_command("MEMORY", "USAGE", "nokey", "SAMPLES", "0") is None


def test_usage_grows_with_value_size(rp):
    rp.set("small", "x")
    rp.set("big", "x" * 10000)
    small, big = rp.memory_usage("small"), rp.memory_usage("big")
    assert isinstance(small, int) and small > 0
    assert big >= 10000 and big - small >= 9900


@pytest.mark.parametrize("kind", ["list", "set", "zset", "hash"])
def test_usage_of_collections_grows(r, kind):
    def fill(lo, hi):
        p = r.pipeline(transaction=False)
        for i in range(lo, hi):
            if kind == "list":
                p.rpush(kind, f"element:{i}")
            elif kind == "set":
                p.sadd(kind, f"element:{i}")
            elif kind == "zset":
                p.zadd(kind, {f"member:{i}": i})
            else:
                p.hset(kind, f"field:{i}", f"value:{i}")
        p.execute()
    fill(0, 10)
    few = r.memory_usage(kind)
    fill(10, 5000)
    many = r.memory_usage(kind, samples=0)
    assert few > 0
    assert many > few + 4990 * 10


def test_usage_errors(r):
    r.set("k", "v")
    c = raw()
    assert raw_call(c, "MEMORY", "USAGE", "k", "SAMPLES") == b"-ERR syntax error\r\n"
    assert raw_call(c, "MEMORY", "USAGE", "k", "FOO", "1") == b"-ERR syntax error\r\n"
    assert raw_call(c, "MEMORY", "USAGE", "k", "SAMPLES", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert raw_call(c, "MEMORY", "USAGE", "k", "SAMPLES", "-1") == b"-ERR syntax error\r\n"
    assert raw_call(c, "MEMORY", "USAGE", "nokey", "SAMPLES", "-1") == b"-ERR syntax error\r\n"
    assert raw_call(c, "MEMORY", "USAGE") == b"-ERR wrong number of arguments for 'memory|usage' command\r\n"
    assert raw_call(c, "MEMORY", "USAGE", "k", "SAMPLES", "3", "SAMPLES", "0").startswith(b":")
    assert raw_call(c, "MEMORY", "NOSUCH") == b"-ERR unknown subcommand 'NOSUCH'. Try MEMORY HELP.\r\n"
    assert raw_call(c, "MEMORY", "STATS", "x") == b"-ERR wrong number of arguments for 'memory|stats' command\r\n"
    c.close()


# --------------------------------------------------------------------------------------
# MEMORY STATS
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", [2, 3])
def test_stats_shape(r, protocol):
    r.set("a", "1")
    r.execute_command("SELECT", "2")
    r.set("b", "2")
    c = raw()
    if protocol == 3:
        raw_call(c, "HELLO", "3")
    node = parse_reply(raw_call(c, "MEMORY", "STATS"))
    c.close()
    assert node.t == ("%" if protocol == 3 else "*")
    pairs = stats_pairs(node)
    names = [n for n, _ in pairs]
    expected = STATS_KEYS[:10] + ["db.0", "db.2"] + STATS_KEYS[10:]
    assert names[:len(expected)] == expected
    values = dict(pairs)
    assert values["keys.count"].v == 2
    for db in ("db.0", "db.2"):
        assert values[db].t == ("%" if protocol == 3 else "*")
        nested = stats_pairs(values[db])
        assert [n for n, _ in nested] == ["overhead.hashtable.main", "overhead.hashtable.expires",
                                         "overhead.hashtable.slot-to-keys"]
        assert all(v.t == ":" for _, v in nested)
    # Doubles: bulk strings in RESP2, doubles in RESP3.
    for name in ("dataset.percentage", "peak.percentage", "fragmentation", "allocator-rss.ratio"):
        assert values[name].t == ("," if protocol == 3 else "$")
        float(values[name].v)
    for name in STATS_KEYS:
        if name not in ("dataset.percentage", "peak.percentage", "fragmentation", "allocator-rss.ratio",
                        "allocator-fragmentation.ratio", "rss-overhead.ratio"):
            assert values[name].t == ":", name
    total = values["total.allocated"].v
    assert total > 0
    assert values["peak.allocated"].v >= total
    assert values["dataset.bytes"].v + values["overhead.total"].v <= total + 1


def test_stats_resp3_is_a_map(r3):
    r3.set("a", "1")
    stats = r3.memory_stats()
    assert list(stats.keys())[:len(STATS_KEYS) + 1] == STATS_KEYS[:10] + ["db.0"] + STATS_KEYS[10:]
    assert isinstance(stats["dataset.percentage"], float)
    assert isinstance(stats["db.0"], dict)


# --------------------------------------------------------------------------------------
# DOCTOR, MALLOC-STATS, PURGE, HELP
# --------------------------------------------------------------------------------------

def test_doctor_is_verbatim_text(r, r3):
    assert r.execute_command("MEMORY", "DOCTOR").decode().startswith(("Hi Sam", "Sam, I detected"))
    report = r3.execute_command("MEMORY", "DOCTOR")
    text = report.decode() if isinstance(report, bytes) else str(report)
    assert text.endswith("\n")


def test_malloc_stats_purge_help(r):
    assert isinstance(r.execute_command("MEMORY", "MALLOC-STATS"), bytes)
    assert r.execute_command("MEMORY", "PURGE") in (True, b"OK")
    help_lines = r.execute_command("MEMORY", "HELP")
    assert help_lines[0] == b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert help_lines[1:3] == [b"DOCTOR", b"    Return memory problems reports."]
    # Redis 7.0 says "Prints this help."; 7.2 (Apus's target) "Print this help.".
    assert help_lines[-2] == b"HELP"
    assert help_lines[-1] in (b"    Print this help.", b"    Prints this help.")
    assert len(help_lines) == 14


# --------------------------------------------------------------------------------------
# INFO memory
# --------------------------------------------------------------------------------------

def test_info_memory_fields_in_redis_order(r):
    names = [n for n, _ in info_memory_lines()]
    assert names[:len(INFO_MEMORY_FIELDS)] == INFO_MEMORY_FIELDS


def test_info_memory_used_memory_follows_the_data(r):
    before = r.info("memory")["used_memory"]
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set(f"key:{i}", "v" * 1000)
    p.execute()
    after = r.info("memory")
    assert after["used_memory"] - before >= 2_000_000
    assert after["used_memory_peak"] >= after["used_memory"]
    assert after["used_memory_dataset"] > 2_000_000
    assert after["maxmemory_policy"] == r.config_get("maxmemory-policy")["maxmemory-policy"]
    r.flushall()
    assert r.info("memory")["used_memory"] < after["used_memory"] - 1_500_000
