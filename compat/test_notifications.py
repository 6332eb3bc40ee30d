"""Keyspace notifications with a real client: `notify-keyspace-events` flags and their
normalized CONFIG GET form, `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>` messages
for each command family in Redis's order, expiry (lazy and active), eviction and the "new"
event. Passes against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_notifications.py -q
"""

import os
import time

import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))
DB = 9


def client(protocol=2, db=DB):
    return redis.Redis(host=HOST, port=PORT, protocol=protocol, db=db, socket_timeout=10)


@pytest.fixture
def r():
    c = client()
    c.flushall()
    old = c.config_get("notify-keyspace-events")["notify-keyspace-events"]
    yield c
    c.config_set("notify-keyspace-events", old)
    c.config_set("maxmemory", 0)
    c.flushall()
    c.close()


def collect(r, flags, commands, pattern="__key*__:*", settle=0.2):
    """Runs `commands` (callables on `r`) with `flags` set and returns the (channel, data)
    pairs a pattern subscriber received, in order."""
    r.config_set("notify-keyspace-events", flags)
    listener = client()
    p = listener.pubsub(ignore_subscribe_messages=True)
    p.psubscribe(pattern)
    while r.pubsub_numpat() < 1:
        time.sleep(0.01)
    for command in commands:
        command(r)
    got = []
    deadline = time.time() + settle
    while time.time() < deadline:
        m = p.get_message(timeout=0.05)
        if m is not None:
            got.append((m["channel"].decode(), m["data"].decode()))
            deadline = time.time() + settle
    p.close()
    listener.close()
    return got


def events(got, db=DB):
    """The keyevent messages as (event, key) pairs."""
    prefix = f"__keyevent@{db}__:"
    return [(channel[len(prefix):], data) for channel, data in got if channel.startswith(prefix)]


@pytest.mark.parametrize("flags,normalized", [
    # Redis prints n only when A is not complete, and classes before K, E and m.
    ("KEA", "AKE"), ("AKE", "AKE"), ("Ex", "xE"), ("Kgl", "glK"), ("Elsh$zxetd", "$lshzxetdE"),
    ("KEAmn", "AKEm"), ("", ""), ("Kg$lshzxet", "g$lshzxetK"), ("En", "nE"),
])
def test_config_get_returns_the_normalized_flags(r, flags, normalized):
    r.config_set("notify-keyspace-events", flags)
    assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == normalized


def test_invalid_flag_is_refused(r):
    with pytest.raises(redis.ResponseError):
        r.config_set("notify-keyspace-events", "KEq")


def test_keyspace_and_keyevent_channels(r):
    got = collect(r, "KEA", [lambda c: c.set("foo", "bar")])
    assert got == [(f"__keyspace@{DB}__:foo", "set"), (f"__keyevent@{DB}__:set", "foo")]


def test_nothing_is_published_when_off_or_without_k_and_e(r):
    assert collect(r, "", [lambda c: c.set("foo", "bar")]) == []
    assert collect(r, "A", [lambda c: c.set("foo", "bar")]) == []


def test_classes_mask_events(r):
    got = collect(r, "El", [lambda c: c.set("s", "1"), lambda c: c.lpush("l", "a"), lambda c: c.delete("s")])
    assert events(got) == [("lpush", "l")]


def test_generic_events(r):
    got = collect(r, "Eg", [
        lambda c: c.set("a", 1), lambda c: c.expire("a", 100), lambda c: c.persist("a"),
        lambda c: c.rename("a", "b"), lambda c: c.copy("b", "c"), lambda c: c.move("c", 3),
        lambda c: c.delete("b", "nosuch"), lambda c: c.set("d", 1), lambda c: c.pexpire("d", -1),
    ])
    assert events(got) == [("expire", "a"), ("persist", "a"), ("rename_from", "a"), ("rename_to", "b"),
                           ("copy_to", "c"), ("move_from", "c"), ("del", "b"), ("del", "d")]


def test_move_to_is_published_in_the_target_database(r):
    got = collect(r, "Eg", [lambda c: c.set("m", 1), lambda c: c.move("m", 3)])
    assert ("move_to", "m") in events(got, db=3)


def test_string_events(r):
    got = collect(r, "E$", [
        lambda c: c.set("s", "1"), lambda c: c.incr("s"), lambda c: c.incrbyfloat("s", 1.5),
        lambda c: c.append("s", "x"), lambda c: c.setrange("s", 0, "a"), lambda c: c.setbit("b", 3, 1),
        lambda c: c.mset({"m1": 1, "m2": 2}), lambda c: c.getset("s", "z"),
        lambda c: c.set("e", 1, ex=100), lambda c: c.pfadd("h", "a"),
    ])
    assert events(got) == [("set", "s"), ("incrby", "s"), ("incrbyfloat", "s"), ("append", "s"),
                           ("setrange", "s"), ("setbit", "b"), ("set", "m1"), ("set", "m2"), ("set", "s"),
                           ("set", "e"), ("pfadd", "h")]


def test_set_with_expire_also_publishes_expire(r):
    got = collect(r, "EA", [lambda c: c.set("e", 1, ex=100), lambda c: c.getdel("e")])
    assert events(got) == [("set", "e"), ("expire", "e"), ("del", "e")]


def test_list_events(r):
    got = collect(r, "Egl", [
        lambda c: c.lpush("l", "a", "b"), lambda c: c.rpush("l", "c"), lambda c: c.linsert("l", "BEFORE", "a", "x"),
        lambda c: c.lset("l", 0, "y"), lambda c: c.lpop("l"), lambda c: c.rpop("l"), lambda c: c.lrem("l", 0, "x"),
        lambda c: c.rpush("m", "1", "2"), lambda c: c.lmove("m", "n", "LEFT", "RIGHT"), lambda c: c.ltrim("l", 1, 0),
    ])
    assert events(got) == [("lpush", "l"), ("rpush", "l"), ("linsert", "l"), ("lset", "l"), ("lpop", "l"),
                           ("rpop", "l"), ("lrem", "l"), ("rpush", "m"), ("rpush", "n"), ("lpop", "m"),
                           ("ltrim", "l"), ("del", "l")]


def test_set_events(r):
    got = collect(r, "Egs", [
        lambda c: c.sadd("s", "a", "b", "c"), lambda c: c.srem("s", "a"), lambda c: c.smove("s", "t", "b"),
        lambda c: c.spop("s"), lambda c: c.sadd("u", "1"), lambda c: c.sinterstore("v", "t", "t"),
        lambda c: c.sunionstore("w", "t", "u"), lambda c: c.sdiffstore("w", "nosuch"),
    ])
    assert events(got) == [("sadd", "s"), ("srem", "s"), ("srem", "s"), ("sadd", "t"), ("spop", "s"),
                           ("del", "s"), ("sadd", "u"), ("sinterstore", "v"), ("sunionstore", "w"), ("del", "w")]


def test_hash_events(r):
    got = collect(r, "Egh", [
        lambda c: c.hset("h", mapping={"a": 1, "b": 2}), lambda c: c.hsetnx("h", "c", 3),
        lambda c: c.hincrby("h", "a", 2), lambda c: c.hincrbyfloat("h", "b", 0.5),
        lambda c: c.hdel("h", "a", "b", "c"),
    ])
    assert events(got) == [("hset", "h"), ("hset", "h"), ("hincrby", "h"), ("hincrbyfloat", "h"),
                           ("hdel", "h"), ("del", "h")]


def test_zset_events(r):
    got = collect(r, "Egz", [
        lambda c: c.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4}), lambda c: c.zincrby("z", 1, "a"),
        lambda c: c.zrem("z", "a"), lambda c: c.zpopmin("z"), lambda c: c.zpopmax("z"),
        lambda c: c.zadd("y", {"x": 1, "y": 2}), lambda c: c.zunionstore("u", ["y"]),
        lambda c: c.zinterstore("i", ["y", "u"]), lambda c: c.zremrangebyscore("y", 1, 1),
        lambda c: c.zremrangebyrank("y", 0, -1), lambda c: c.zadd("l", {"a": 0, "b": 0}),
        lambda c: c.zremrangebylex("l", "[a", "[a"), lambda c: c.zrangestore("r", "u", 0, -1),
        lambda c: c.zdiffstore("d", ["u", "u"]),
    ])
    assert events(got) == [("zadd", "z"), ("zincr", "z"), ("zrem", "z"), ("zpopmin", "z"), ("zpopmax", "z"),
                           ("zadd", "y"), ("zunionstore", "u"), ("zinterstore", "i"),
                           ("zremrangebyscore", "y"), ("zremrangebyrank", "y"), ("del", "y"), ("zadd", "l"),
                           ("zremrangebylex", "l"), ("zrangestore", "r")]


def test_expired_event_lazy_and_active(r):
    r.config_set("notify-keyspace-events", "Ex")
    listener = client()
    p = listener.pubsub(ignore_subscribe_messages=True)
    p.subscribe(f"__keyevent@{DB}__:expired")
    r.psetex("lazy", 50, "v")
    r.psetex("active", 50, "v")
    time.sleep(0.1)
    assert r.get("lazy") is None  # expires on access
    got = []
    deadline = time.time() + 3
    while time.time() < deadline and len(got) < 2:
        m = p.get_message(timeout=0.1)
        if m is not None and m["type"] == "message":
            got.append(m["data"])
    assert sorted(got) == [b"active", b"lazy"]
    p.close()
    listener.close()


def test_evicted_event(r):
    r.config_set("maxmemory-policy", "allkeys-random")
    for i in range(200):
        r.set(f"fill:{i}", "x" * 1000)
    def trigger(c):
        try:
            c.set("trigger", 1)
        except redis.exceptions.OutOfMemoryError:
            pass  # everything evictable is gone and the limit is still exceeded

    got = collect(r, "Ee", [lambda c: c.config_set("maxmemory", 1), trigger])
    r.config_set("maxmemory", 0)
    r.config_set("maxmemory-policy", "noeviction")
    evicted = [e for e in events(got) if e[0] == "evicted"]
    assert evicted


def test_new_key_event(r):
    got = collect(r, "En", [
        lambda c: c.set("n1", 1), lambda c: c.set("n1", 2), lambda c: c.lpush("n2", "a"), lambda c: c.lpush("n2", "b"),
        lambda c: c.sadd("n3", "a"), lambda c: c.hset("n4", "f", "v"), lambda c: c.zadd("n5", {"a": 1}),
        lambda c: c.incr("n6"),
    ])
    assert events(got) == [("new", "n1"), ("new", "n2"), ("new", "n3"), ("new", "n4"), ("new", "n5"), ("new", "n6")]


def test_new_comes_before_the_commands_own_event(r):
    got = collect(r, "KEA$n", [lambda c: c.set("k", 1)])
    assert events(got) == [("new", "k"), ("set", "k")]


def test_keymiss_event(r):
    got = collect(r, "Em", [lambda c: c.get("missing"), lambda c: c.set("present", 1), lambda c: c.get("present")])
    assert events(got) == [("keymiss", "missing")]
