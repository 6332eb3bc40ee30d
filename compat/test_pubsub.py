"""Pub/Sub with a real client (redis-py's PubSub object): subscribe/psubscribe confirmations,
get_message, pattern messages, shard channels, PUBSUB introspection, RESP3 push messages,
the RESP2 subscribed-mode restrictions, and many publishers/subscribers at once. Passes
against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_pubsub.py -q
"""

import os
import socket
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
    yield c
    c.close()


def next_message(p, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = p.get_message(timeout=0.1)
        if m is not None:
            return m
    raise AssertionError("no message")


@pytest.mark.parametrize("protocol", [2, 3])
def test_subscribe_publish_unsubscribe(r, protocol):
    c = client(protocol)
    p = c.pubsub()
    p.subscribe("compat:a", "compat:b")
    assert next_message(p) == {"type": "subscribe", "pattern": None, "channel": b"compat:a", "data": 1}
    assert next_message(p) == {"type": "subscribe", "pattern": None, "channel": b"compat:b", "data": 2}
    assert r.publish("compat:a", "hello") == 1
    assert next_message(p) == {"type": "message", "pattern": None, "channel": b"compat:a", "data": b"hello"}
    assert r.pubsub_numsub("compat:a", "compat:b", "compat:none") == [
        (b"compat:a", 1), (b"compat:b", 1), (b"compat:none", 0)]
    p.unsubscribe()
    got = {next_message(p)["channel"] for _ in range(2)}
    assert got == {b"compat:a", b"compat:b"}
    assert r.publish("compat:a", "again") == 0
    p.close()
    c.close()


@pytest.mark.parametrize("protocol", [2, 3])
def test_pattern_subscriptions(r, protocol):
    c = client(protocol)
    p = c.pubsub()
    p.psubscribe("compat:news.*", "compat:h?llo")
    assert next_message(p)["type"] == "psubscribe"
    assert next_message(p)["data"] == 2
    assert r.pubsub_numpat() == 2
    assert r.publish("compat:news.art", "x") == 1
    assert next_message(p) == {"type": "pmessage", "pattern": b"compat:news.*",
                               "channel": b"compat:news.art", "data": b"x"}
    assert r.publish("compat:hallo", "y") == 1
    assert next_message(p)["pattern"] == b"compat:h?llo"
    assert r.publish("compat:other", "z") == 0
    p.punsubscribe("compat:news.*")
    assert next_message(p) == {"type": "punsubscribe", "pattern": None, "channel": b"compat:news.*", "data": 1}
    p.close()
    c.close()


def test_handler_thread_receives_in_publish_order(r):
    got = []
    done = threading.Event()

    def handler(message):
        got.append(int(message["data"]))
        if len(got) == 500:
            done.set()

    p = r.pubsub()
    p.subscribe(**{"compat:ordered": handler})
    thread = p.run_in_thread(sleep_time=0.01)
    try:
        while r.pubsub_numsub("compat:ordered")[0][1] != 1:
            time.sleep(0.01)
        publisher = client()
        pipe = publisher.pipeline(transaction=False)
        for i in range(500):
            pipe.publish("compat:ordered", i)
        assert pipe.execute() == [1] * 500
        assert done.wait(10)
        assert got == list(range(500))
        publisher.close()
    finally:
        thread.stop()
        p.close()


def test_many_publishers_and_subscribers():
    subscribers = [client().pubsub() for _ in range(6)]
    for p in subscribers:
        p.subscribe("compat:fan")
        next_message(p)
    publishers = [client() for _ in range(4)]

    def publish(index, c):
        for i in range(100):
            assert c.publish("compat:fan", f"{index}:{i}") == 6

    threads = [threading.Thread(target=publish, args=(i, c)) for i, c in enumerate(publishers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in subscribers:
        seen = {i: -1 for i in range(4)}
        for _ in range(400):
            index, n = next_message(p)["data"].decode().split(":")
            assert int(n) == seen[int(index)] + 1
            seen[int(index)] = int(n)
        p.close()
    for c in publishers:
        c.close()


def test_shard_channels(r):
    p = r.pubsub()
    p.ssubscribe("compat:shard")
    assert next_message(p) == {"type": "ssubscribe", "pattern": None, "channel": b"compat:shard", "data": 1}
    assert r.pubsub_shardnumsub("compat:shard") == [(b"compat:shard", 1)]
    assert b"compat:shard" in r.pubsub_shardchannels("compat:*")
    assert r.spublish("compat:shard", "m") == 1
    assert next_message(p) == {"type": "smessage", "pattern": None, "channel": b"compat:shard", "data": b"m"}
    p.sunsubscribe()
    assert next_message(p)["type"] == "sunsubscribe"
    p.close()


def test_pubsub_channels_lists_active_channels(r):
    p = r.pubsub()
    p.subscribe("compat:list1", "compat:list2")
    next_message(p)
    next_message(p)
    assert sorted(r.pubsub_channels("compat:list*")) == [b"compat:list1", b"compat:list2"]
    p.close()
    for _ in range(100):
        if r.pubsub_channels("compat:list*") == []:
            break
        time.sleep(0.01)
    assert r.pubsub_channels("compat:list*") == []


def raw_exchange(sock, *args, expect_len):
    payload = f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)
    sock.sendall(payload.encode())
    data = b""
    while len(data) < expect_len:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_resp2_subscribed_connection_refuses_other_commands():
    with socket.create_connection((HOST, PORT), timeout=10) as sock:
        subscribed = b"*3\r\n$9\r\nsubscribe\r\n$11\r\ncompat:mode\r\n:1\r\n"
        assert raw_exchange(sock, "SUBSCRIBE", "compat:mode", expect_len=len(subscribed)) == subscribed
        refused = (b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                   b"are allowed in this context\r\n")
        assert raw_exchange(sock, "GET", "k", expect_len=len(refused)) == refused
        pong = b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        assert raw_exchange(sock, "PING", expect_len=len(pong)) == pong
        assert raw_exchange(sock, "RESET", expect_len=8) == b"+RESET\r\n"
        assert raw_exchange(sock, "GET", "compat:nothing", expect_len=5) == b"$-1\r\n"


def test_resp3_subscribed_connection_runs_commands():
    c = client(3)
    seen = []
    p = c.pubsub(push_handler_func=None)
    p.subscribe("compat:r3")
    next_message(p)
    assert c.set("compat:k", "v") is True
    assert c.get("compat:k") == b"v"
    c.delete("compat:k")
    p.close()
    c.close()


def test_client_list_and_info_show_subscriptions(r):
    p = r.pubsub()
    p.subscribe("compat:info")
    p.psubscribe("compat:inf*")
    next_message(p)
    next_message(p)
    mine = [c for c in r.client_list() if c["sub"] == "1" and c["psub"] == "1"]
    assert mine and "P" in mine[0]["flags"]
    assert r.info("stats")["pubsub_channels"] >= 1
    assert r.info("stats")["pubsub_patterns"] >= 1
    p.close()
