"""MULTI/EXEC and WATCH with a real client (redis-py pipelines and transaction()): queued
replies, per-command runtime errors, EXECABORT, optimistic locking under concurrent writers.
Passes against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_transactions.py -q
"""

import os
import threading

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


@pytest.mark.parametrize("protocol", [2, 3])
def test_pipeline_transaction_returns_every_reply(r, protocol):
    c = client(protocol)
    pipe = c.pipeline(transaction=True)
    pipe.set("a", 1).incr("a").rpush("l", "x", "y").lrange("l", 0, -1).hset("h", "f", "v").hgetall("h")
    assert pipe.execute() == [True, 2, 2, [b"x", b"y"], 1, {b"f": b"v"}]
    c.close()


def test_runtime_error_is_reported_per_command(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("s", "text").incr("s").get("s")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], redis.ResponseError)
    assert results[2] == b"text"


def test_queuing_error_aborts_the_whole_transaction(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("a", 1)
    pipe.execute_command("SET", "onlykey")
    with pytest.raises(redis.ResponseError) as error:
        pipe.execute()
    assert "EXECABORT" in str(error.value) or "wrong number of arguments" in str(error.value)
    assert r.get("a") is None


def test_watch_detects_a_concurrent_change(r):
    r.set("balance", 100)
    other = client()
    with r.pipeline() as pipe:
        pipe.watch("balance")
        value = int(pipe.get("balance"))
        other.incrby("balance", 5)
        pipe.multi()
        pipe.set("balance", value - 10)
        with pytest.raises(redis.WatchError):
            pipe.execute()
    assert r.get("balance") == b"105"
    other.close()


def test_transaction_helper_retries_until_it_wins(r):
    r.set("counter", 0)
    workers, increments = 4, 50

    def work():
        c = client()

        def increment(pipe):
            value = int(pipe.get("counter"))
            pipe.multi()
            pipe.set("counter", value + 1)

        for _ in range(increments):
            c.transaction(increment, "counter")
        c.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert r.get("counter") == str(workers * increments).encode()


def test_transfers_between_shards_keep_the_total(r):
    accounts = [f"acct:{i}" for i in range(10)]
    for a in accounts:
        r.set(a, 100)
    stop = threading.Event()
    bad = []

    def transfer(seed):
        c = client()
        i = seed
        while not stop.is_set():
            a, b = accounts[i % 10], accounts[(i * 7 + 3) % 10]
            i += 1
            if a == b:
                continue
            pipe = c.pipeline(transaction=True)
            pipe.decrby(a, 3).incrby(b, 3)
            pipe.execute()
        c.close()

    def observe():
        c = client()
        for _ in range(300):
            total = sum(int(v) for v in c.mget(accounts))
            if total != 1000:
                bad.append(total)
        c.close()

    writers = [threading.Thread(target=transfer, args=(s,)) for s in range(3)]
    for t in writers:
        t.start()
    observe()
    stop.set()
    for t in writers:
        t.join()
    assert bad == []
    assert sum(int(v) for v in r.mget(accounts)) == 1000


def test_discard_and_unwatch(r):
    c = redis.Redis(host=HOST, port=PORT, single_connection_client=True, socket_timeout=10)
    c.execute_command("WATCH", "k")
    r.set("k", "changed")
    c.execute_command("UNWATCH")
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "v")  # +QUEUED (redis-py parses it as SET's reply)
    c.execute_command("DISCARD")
    assert r.get("k") == b"changed"
    c.execute_command("MULTI")
    c.execute_command("SET", "k", "v")
    assert c.execute_command("EXEC") == [b"OK"]
    assert r.get("k") == b"v"
    c.close()
