"""Blocking commands with real clients (redis-py): BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP and
the sorted-set pops wait for a push from another connection, time out with nil, and
CLIENT UNBLOCK ends a wait.  Passes against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_blocking.py -q
"""

import os
import threading
import time

import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))


def client(protocol=2):
    return redis.Redis(host=HOST, port=PORT, protocol=protocol, socket_timeout=10)


@pytest.fixture
def r():
    c = client()
    c.flushall()
    yield c
    c.close()


def push_later(delay, *command):
    def run():
        time.sleep(delay)
        c = client()
        c.execute_command(*command)
        c.close()
    t = threading.Thread(target=run)
    t.start()
    return t


def test_blpop_times_out_with_nil(r):
    start = time.monotonic()
    assert r.blpop(["missing"], timeout=0.2) is None
    assert time.monotonic() - start >= 0.19


def test_blpop_is_served_by_a_push_from_another_client(r):
    t = push_later(0.2, "RPUSH", "jobs", "job-1")
    assert r.blpop(["other", "jobs"], timeout=5) == (b"jobs", b"job-1")
    t.join()
    assert r.exists("jobs") == 0


def test_brpoplpush_and_blmove_move_the_element(r):
    t = push_later(0.1, "RPUSH", "src", "a", "b")
    assert r.brpoplpush("src", "dst", timeout=5) == b"b"
    t.join()
    assert r.blmove("src", "dst", 5, "LEFT", "RIGHT") == b"a"
    assert r.lrange("dst", 0, -1) == [b"b", b"a"]
    assert r.blmove("src", "dst", 0.1, "LEFT", "RIGHT") is None


def test_blmpop_takes_count_elements(r):
    t = push_later(0.1, "RPUSH", "q2", "1", "2", "3")
    assert r.blmpop(5, 2, "q1", "q2", direction="LEFT", count=2) == [b"q2", [b"1", b"2"]]
    t.join()


def test_resp3_timeout_is_a_null(r):
    c = client(protocol=3)
    assert c.blpop(["missing"], timeout=0.1) is None
    c.close()


def test_client_unblock(r):
    waiter = client()
    waiter_id = waiter.client_id()
    result = {}

    def wait():
        result["reply"] = waiter.blpop(["never"], timeout=0)

    t = threading.Thread(target=wait)
    t.start()
    for _ in range(100):
        if int(r.info("clients")["blocked_clients"]) == 1:
            break
        time.sleep(0.02)
    assert r.client_unblock(waiter_id) == 1
    t.join(5)
    assert result["reply"] is None
    assert r.client_unblock(waiter_id) == 0
    waiter.close()


def test_wrong_type_and_bad_timeout(r):
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.blpop(["s"], timeout=1)
    with pytest.raises(redis.ResponseError, match="timeout is not a float or out of range"):
        r.execute_command("BLPOP", "k", "abc")
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        r.execute_command("BLPOP", "k", "-1")


def test_bzpopmin_and_bzmpop(r):
    t = push_later(0.1, "ZADD", "z", "2", "b", "1", "a")
    assert r.bzpopmin(["z"], timeout=5) == (b"z", b"a", 1.0)
    t.join()
    assert r.execute_command("BZMPOP", "1", "1", "z", "MAX", "COUNT", "5") == [b"z", [[b"b", b"2"]]]
    assert r.bzpopmax(["z"], timeout=0.1) is None
