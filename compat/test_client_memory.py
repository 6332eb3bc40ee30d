"""Client buffer memory with real clients (redis-py) and raw sockets: CLIENT LIST/INFO memory
fields, client-output-buffer-limit, client-query-buffer-limit and maxmemory-clients (client
eviction). Like test_compat.py, every test must pass against redis-server and against Apus:

    APUS_PORT=6379 python3 -m pytest compat/test_client_memory.py -q

Byte figures differ between the servers (Apus's buffers grow by powers of two, Redis's by
its allocator's size classes); the tests compare relations (grows with, >=), never exact sizes.
"""

import os
import socket
import sys
import time

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compat import (  # noqa: E402,F401  (fixtures are used by name)
    HOST, PORT, clean_server, make_client, r, raw, raw_call, restore_config, server_info, version,
)

MEMORY_FIELDS = ["qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem"]


def fields(line):
    return dict(part.split("=", 1) for part in line.strip().split(" "))


def client_line(r, name):
    for line in r.execute_command("CLIENT", "LIST").decode().strip().split("\n"):
        if fields(line).get("name") == name:
            return fields(line)
    return None


def eventually(condition, seconds=5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def named_socket(name):
    s = socket.create_connection((HOST, PORT), timeout=10)
    s.sendall(b"CLIENT SETNAME " + name.encode() + b"\r\n")
    assert s.recv(100) == b"+OK\r\n"
    return s


def closed_by_server(s, seconds=5.0):
    """Reads until EOF/reset; returns (closed, bytes received)."""
    s.settimeout(seconds)
    data = b""
    try:
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                return True, data
            data += chunk
    except ConnectionResetError:
        return True, data
    except socket.timeout:
        return False, data


def stat(r, name):
    return r.info("stats").get(name)


def test_client_info_memory_fields_are_numbers(r):
    line = fields(r.execute_command("CLIENT", "INFO").decode())
    for name in MEMORY_FIELDS:
        assert line[name].isdigit(), name
    # The running command's arguments: "client" + "info".
    assert int(line["argv-mem"]) == 10
    assert int(line["omem"]) == 0 and int(line["oll"]) == 0
    assert int(line["tot-mem"]) >= int(line["rbs"])


def test_tot_mem_grows_with_an_incomplete_big_command(r):
    s = named_socket("bigquery")
    before = int(client_line(r, "bigquery")["tot-mem"])
    size = 1 << 20
    s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n" % (size + 1) + b"v" * size)
    assert eventually(lambda: int(client_line(r, "bigquery")["qbuf"]) >= size)
    line = client_line(r, "bigquery")
    # Redis swaps its query buffer for one sized to the argument, so only >= size holds there.
    assert int(line["tot-mem"]) >= size and int(line["tot-mem"]) > before
    s.sendall(b"v\r\n")
    assert s.recv(10) == b"$-1\r\n"
    assert eventually(lambda: int(client_line(r, "bigquery")["tot-mem"]) < size)
    s.close()


def test_reply_over_the_hard_limit_closes_without_a_reply(r, restore_config):
    restore_config("client-output-buffer-limit")
    r.config_set("client-output-buffer-limit", "normal 100000 0 0")
    r.rpush("biglist", *(["x" * 1000] * 150))
    s = named_socket("biglister")
    s.sendall(b"LRANGE biglist 0 -1\r\n")
    closed, data = closed_by_server(s)
    assert closed and data == b""
    assert eventually(lambda: client_line(r, "biglister") is None)
    if stat(r, "client_output_buffer_limit_disconnections") is not None:  # Redis 7.4's counter
        assert stat(r, "client_output_buffer_limit_disconnections") >= 1


def test_client_piling_up_replies_is_cut_off(r, restore_config):
    restore_config("client-output-buffer-limit")
    r.config_set("client-output-buffer-limit", "normal 1mb 0 0")
    r.set("big", "x" * 100_000)
    s = named_socket("piler")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    gone = False
    for _ in range(2000):
        try:
            s.sendall(b"GET big\r\n")
        except OSError:
            gone = True
            break
        if client_line(r, "piler") is None:
            gone = True
            break
    assert gone or eventually(lambda: client_line(r, "piler") is None)
    assert r.ping()
    s.close()


def test_query_buffer_limit_closes_the_client(r, restore_config):
    restore_config("client-query-buffer-limit")
    r.config_set("client-query-buffer-limit", "1mb")
    s = named_socket("hugequery")
    try:
        s.sendall(b"*2\r\n$3\r\nGET\r\n$2000000\r\n" + b"v" * 1_200_000)
    except OSError:
        pass
    closed, _ = closed_by_server(s)
    assert closed
    # The connection closes before its loop drops it from the client list.
    assert eventually(lambda: client_line(r, "hugequery") is None)


def test_maxmemory_clients_evicts_the_biggest_and_spares_no_evict(r, restore_config):
    restore_config("maxmemory-clients")
    r.client_setname("control")
    r.execute_command("CLIENT", "NO-EVICT", "on")
    evicted_before = stat(r, "evicted_clients")
    sockets = {}
    # The NO-EVICT client is the biggest; sizes sit just below powers of two, where Apus's
    # buffers stop growing.
    for name, size, no_evict in (("keep", 4_000_000, True), ("big", 2_000_000, False), ("small", 200_000, False)):
        s = named_socket(name)
        if no_evict:
            s.sendall(b"CLIENT NO-EVICT on\r\n")
            assert s.recv(100) == b"+OK\r\n"
        s.sendall(b"*2\r\n$3\r\nGET\r\n$%d\r\n" % (size + 1) + b"v" * size)
        assert eventually(lambda: int(client_line(r, name)["qbuf"]) >= size)
        sockets[name] = s
    assert "e" in client_line(r, "keep")["flags"]
    # Redis counts NO-EVICT clients' memory only in its clients cron (once a second).
    time.sleep(1.2)
    r.config_set("maxmemory-clients", "5mb")
    # Another event loop may own the evicted client: it leaves the list a moment later.
    assert eventually(lambda: client_line(r, "big") is None)
    assert client_line(r, "small") is not None
    assert client_line(r, "keep") is not None
    assert stat(r, "evicted_clients") == evicted_before + 1
    assert closed_by_server(sockets["big"])[0]
    for s in sockets.values():
        s.close()
    r.execute_command("CLIENT", "NO-EVICT", "off")


def test_client_no_evict_arguments(r):
    assert r.execute_command("CLIENT", "NO-EVICT", "ON") == b"OK"
    with pytest.raises(redis.exceptions.ResponseError, match="syntax error"):
        r.execute_command("CLIENT", "NO-EVICT", "maybe")
    assert r.execute_command("CLIENT", "NO-EVICT", "off") == b"OK"
