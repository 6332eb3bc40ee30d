"""Client-side caching (CLIENT TRACKING) with a real client: invalidation over a RESP2
Pub/Sub redirect connection (the classic two-connection setup) and as RESP3 pushes on the
same connection, BCAST prefixes, and CLIENT TRACKINGINFO.  Passes against redis-server too.

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_tracking.py -q
"""

import os
import pytest
import redis

HOST = os.environ.get("APUS_HOST", "127.0.0.1")
PORT = int(os.environ.get("APUS_PORT", "6379"))


def client(**kwargs):
    return redis.Redis(host=HOST, port=PORT, socket_timeout=10, **kwargs)


@pytest.fixture
def r():
    c = client()
    c.flushall()
    yield c
    c.close()


def connection(protocol=2):
    conn = redis.Connection(host=HOST, port=PORT, protocol=protocol, socket_timeout=10)
    conn.connect()
    # Hand RESP3 invalidation pushes back to the reader instead of a callback.
    if protocol == 3:
        conn._parser.set_invalidation_push_handler(lambda message: message)
    return conn


def call(conn, *args):
    conn.send_command(*args)
    return conn.read_response()


def invalidation_subscriber():
    """A RESP2 connection subscribed to __redis__:invalidate, and its client id (redis-py's
    PubSub object hides this channel's messages, so this reads the connection directly)."""
    conn = connection()
    client_id = call(conn, "CLIENT", "ID")
    assert call(conn, "SUBSCRIBE", "__redis__:invalidate") == [b"subscribe", b"__redis__:invalidate", 1]
    return conn, client_id


def test_redirected_invalidation_reaches_the_subscriber(r):
    sub, redirect = invalidation_subscriber()
    t = client(single_connection_client=True)
    assert t.client_tracking_on(clientid=redirect) in (True, b"OK")
    r.set("user:1", "alice")
    assert t.get("user:1") == b"alice"
    r.set("user:1", "bob")
    assert sub.read_response() == [b"message", b"__redis__:invalidate", [b"user:1"]]
    assert t.execute_command("CLIENT", "GETREDIR") == redirect
    t.close()
    sub.disconnect()


def test_bcast_prefixes(r):
    sub, redirect = invalidation_subscriber()
    t = client(single_connection_client=True)
    t.client_tracking_on(clientid=redirect, bcast=True, prefix=["session:"])
    r.set("other:1", "y")
    r.set("session:9", "x")
    assert sub.read_response() == [b"message", b"__redis__:invalidate", [b"session:9"]]
    info = t.execute_command("CLIENT", "TRACKINGINFO")
    flags = info[b"flags"] if isinstance(info, dict) else info[1]
    assert set(flags) == {b"on", b"bcast"}
    t.close()
    sub.disconnect()


def test_resp3_push_on_the_same_connection(r):
    conn = connection(protocol=3)
    conn.send_command("CLIENT", "TRACKING", "on")
    assert conn.read_response() in (b"OK", "OK", True)
    r.set("k", "v1")
    conn.send_command("GET", "k")
    assert conn.read_response() == b"v1"
    r.set("k", "v2")
    push = conn.read_response(push_request=True)
    assert push == [b"invalidate", [b"k"]]
    conn.disconnect()


def test_flushall_invalidates_everything(r):
    conn = connection(protocol=3)
    conn.send_command("CLIENT", "TRACKING", "on")
    conn.read_response()
    conn.send_command("GET", "k")
    conn.read_response()
    r.flushall()
    push = conn.read_response(push_request=True)
    assert push == [b"invalidate", None]
    conn.disconnect()
