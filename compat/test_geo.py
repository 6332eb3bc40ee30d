"""End-to-end checks of the GEO family with real clients (redis-py, RESP2 and RESP3, and raw
sockets where exact bytes matter: coordinates, distances, error strings).

    APUS_HOST=127.0.0.1 APUS_PORT=6379 python3 -m pytest compat/test_geo.py -q

Passes against redis-server 7.0 and 7.2 as well (the expected bytes were read from 7.2.4;
geo.c is the same in both). FLUSHALLs the server before every test.
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
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"

SICILY = [13.361389, 38.115556, "Palermo", 15.087269, 37.502669, "Catania"]
NYC = [-73.9454966, 40.747533, "lic market", -73.9733487, 40.7648057, "central park n/q/r",
       -73.9903085, 40.7362513, "union square", -74.0131604, 40.7126674, "wtc one",
       -73.7858139, 40.6428986, "jfk", -73.9375699, 40.7498929, "q4", -73.9564142, 40.7480973, "4545"]


def make_client(protocol=2, **kw):
    return redis.Redis(host=HOST, port=PORT, protocol=protocol, socket_timeout=10, **kw)


class Raw:
    """One raw connection (optionally RESP3) returning exact reply bytes."""

    def __init__(self, resp3=False):
        self.c = Conn(HOST, PORT, timeout=10)
        if resp3:
            self.call("HELLO", "3")

    def call(self, *args):
        self.c.send(encode_command([a if isinstance(a, bytes) else str(a).encode() for a in args]))
        return self.c.read_reply()

    def close(self):
        self.c.close()


@pytest.fixture(autouse=True)
def clean():
    c = make_client()
    c.flushall()
    c.config_set("zset-max-listpack-entries", 128)
    c.config_set("zset-max-listpack-value", 64)
    c.close()
    yield


@pytest.fixture
def r():
    c = make_client()
    yield c
    c.close()


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def rp(request):
    c = make_client(protocol=request.param)
    yield c
    c.close()


@pytest.fixture
def raw():
    c = Raw()
    yield c
    c.close()


@pytest.fixture
def raw3():
    c = Raw(resp3=True)
    yield c
    c.close()


def test_geoadd_is_a_sorted_set_of_geohash_scores(rp):
    assert rp.geoadd("nyc", NYC) == 7
    assert rp.type("nyc") in (b"zset", "zset")
    assert rp.zscore("nyc", "wtc one") == 1791873972053020
    assert rp.zscore("nyc", "lic market") == 1791875804419201
    assert rp.zcard("nyc") == 7
    assert rp.object("encoding", "nyc") in (b"listpack", "listpack")
    # NX / XX / CH go through ZADD.
    assert rp.geoadd("nyc", [-73.9454966, 40.747533, "lic market"]) == 0
    assert rp.geoadd("nyc", [40.747533, -73.9454966, "lic market"], ch=True) == 1
    assert rp.geoadd("nyc", [-73.9454966, 40.747533, "lic market", 1, 1, "new"], nx=True) == 1
    assert rp.geoadd("nyc", [2, 2, "new", 3, 3, "newer"], xx=True, ch=True) == 1
    assert rp.zscore("nyc", "newer") is None


def test_geoadd_errors(r):
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("GEOADD", "k", "XX", "NX", 1, 2, "m")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("GEOADD", "k", 1, 2, "m", 3)
    with pytest.raises(redis.ResponseError, match="^value is not a valid float$"):
        r.execute_command("GEOADD", "k", 1, 2, "m", "x", 4, "n")
    with pytest.raises(redis.ResponseError, match=r"^invalid longitude,latitude pair 181\.000000,2\.000000$"):
        r.execute_command("GEOADD", "k", 1, 2, "m", 181, 2, "n")
    assert r.exists("k") == 0  # nothing added when any pair is bad
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match=WRONGTYPE):
        r.geoadd("s", [1, 2, "m"])


def test_exact_bytes_of_positions_hashes_and_distances(raw, raw3):
    raw.call("GEOADD", "Sicily", *SICILY)
    assert raw.call("GEOPOS", "Sicily", "Palermo", "nosuch") == (
        b"*2\r\n*2\r\n$20\r\n13.36138933897018433\r\n$20\r\n38.11555639549629859\r\n*-1\r\n")
    assert raw3.call("GEOPOS", "Sicily", "Palermo", "nosuch") == (
        b"*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n")
    assert raw.call("GEOHASH", "Sicily", "Palermo", "nosuch", "Catania") == (
        b"*3\r\n$11\r\nsqc8b49rny0\r\n$-1\r\n$11\r\nsqdtr74hyu0\r\n")
    assert raw.call("GEODIST", "Sicily", "Palermo", "Catania") == b"$11\r\n166274.1516\r\n"
    assert raw.call("GEODIST", "Sicily", "Palermo", "Catania", "km") == b"$8\r\n166.2742\r\n"
    assert raw.call("GEODIST", "Sicily", "Palermo", "Catania", "MI") == b"$8\r\n103.3182\r\n"
    assert raw.call("GEODIST", "Sicily", "Palermo", "Catania", "ft") == b"$11\r\n545518.8700\r\n"
    assert raw.call("GEODIST", "Sicily", "Palermo", "nosuch") == b"$-1\r\n"
    assert raw3.call("GEODIST", "nokey", "a", "b") == b"_\r\n"
    assert raw.call("GEODIST", "Sicily", "a", "b", "furlong") == (
        b"-ERR unsupported unit provided. please use M, KM, FT, MI\r\n")


def test_positions_and_hashes_with_redis_py(rp):
    rp.geoadd("points", [-5.6, 42.6, "test", 10, 20, "a"])
    assert rp.geohash("points", "test", "nosuch") in ([b"ezs42e44yx0", None], ["ezs42e44yx0", None])
    (x, y), missing = rp.geopos("points", "a", "nosuch")
    assert abs(x - 10) < 1e-5 and abs(y - 20) < 1e-5
    assert missing is None
    assert rp.geopos("points") == []


def test_georadius_sorting_count_any_and_with_options(r):
    r.geoadd("nyc", NYC)
    names = lambda rows: [m.decode() if isinstance(m, bytes) else m for m in rows]  # noqa: E731
    assert names(r.georadius("nyc", -73.9798091, 40.7598464, 3, "km", sort="ASC")) == [
        "central park n/q/r", "4545", "union square"]
    # No order: the order Redis scans the geohash cells in.
    assert names(r.georadius("nyc", -73.9798091, 40.7598464, 10, "km")) == [
        "wtc one", "union square", "central park n/q/r", "4545", "lic market", "q4"]
    assert names(r.georadius("nyc", -73.9798091, 40.7598464, 10, "km", count=3)) == [
        "central park n/q/r", "4545", "union square"]
    assert names(r.georadius("nyc", -73.9798091, 40.7598464, 10, "km", count=3, any=True)) == [
        "wtc one", "union square", "central park n/q/r"]
    assert names(r.georadius("nyc", -73.9798091, 40.7598464, 10, "km", count=2, sort="DESC")) == [
        "wtc one", "q4"]
    rows = r.georadius("nyc", -73.9798091, 40.7598464, 10, "km", withdist=True, withhash=True,
                       withcoord=True, count=2)
    assert rows[0][0] in (b"central park n/q/r", "central park n/q/r")
    assert rows[0][1] == 0.775 and rows[0][2] == 1791875761332224
    assert abs(rows[0][3][0] - -73.97334784269332886) < 1e-12


def test_search_replies_byte_for_byte(raw, raw3):
    raw.call("GEOADD", "nyc", *NYC)
    q = ("GEORADIUS", "nyc", -73.9798091, 40.7598464, 10, "km", "WITHDIST", "WITHHASH", "WITHCOORD",
         "COUNT", 2)
    assert raw.call(*q) == (
        b"*2\r\n*4\r\n$18\r\ncentral park n/q/r\r\n$6\r\n0.7750\r\n:1791875761332224\r\n*2\r\n"
        b"$21\r\n-73.97334784269332886\r\n$20\r\n40.76480639569881959\r\n*4\r\n$4\r\n4545\r\n"
        b"$6\r\n2.3651\r\n:1791875796750882\r\n*2\r\n$21\r\n-73.95641237497329712\r\n"
        b"$20\r\n40.74809751381645384\r\n")
    assert raw3.call(*q) == (
        b"*2\r\n*4\r\n$18\r\ncentral park n/q/r\r\n$6\r\n0.7750\r\n:1791875761332224\r\n*2\r\n"
        b",-73.97334784269332886\r\n,40.76480639569881959\r\n*4\r\n$4\r\n4545\r\n$6\r\n2.3651\r\n"
        b":1791875796750882\r\n*2\r\n,-73.95641237497329712\r\n,40.74809751381645384\r\n")
    assert raw.call("GEOSEARCH", "nyc", "FROMLONLAT", -73.9798091, 40.7598464, "BYBOX", 6, 6, "km",
                    "WITHDIST", "ASC") == (
        b"*4\r\n*2\r\n$18\r\ncentral park n/q/r\r\n$6\r\n0.7750\r\n*2\r\n$4\r\n4545\r\n$6\r\n2.3651\r\n"
        b"*2\r\n$12\r\nunion square\r\n$6\r\n2.7697\r\n*2\r\n$10\r\nlic market\r\n$6\r\n3.1991\r\n")
    assert raw.call("GEORADIUSBYMEMBER", "nyc", "wtc one", 7, "km", "WITHDIST") == (
        b"*5\r\n*2\r\n$7\r\nwtc one\r\n$6\r\n0.0000\r\n*2\r\n$12\r\nunion square\r\n$6\r\n3.2544\r\n"
        b"*2\r\n$18\r\ncentral park n/q/r\r\n$6\r\n6.7000\r\n*2\r\n$4\r\n4545\r\n$6\r\n6.1975\r\n"
        b"*2\r\n$10\r\nlic market\r\n$6\r\n6.8969\r\n")
    assert raw.call("GEOSEARCH", "nyc", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km") == b"*0\r\n"


def test_geosearch_and_geosearchstore_with_redis_py(rp):
    rp.geoadd("Sicily", SICILY + [12.758489, 38.788135, "edge1", 17.241510, 38.788135, "edge2"])
    got = rp.geosearch("Sicily", longitude=15, latitude=37, width=400, height=400, unit="km", sort="ASC")
    assert [m.decode() if isinstance(m, bytes) else m for m in got] == ["Catania", "Palermo", "edge2", "edge1"]
    got = rp.geosearch("Sicily", member="Palermo", radius=200, unit="km", sort="DESC", withdist=True)
    assert [row[0] for row in got] in ([b"Catania", b"edge1", b"Palermo"], ["Catania", "edge1", "Palermo"])
    assert got[0][1] == 166.2742
    assert rp.geosearchstore("dst", "Sicily", longitude=15, latitude=37, radius=200, unit="km") == 2
    assert rp.zscore("dst", "Palermo") == 3479099956230698
    assert rp.geosearchstore("dst", "Sicily", longitude=15, latitude=37, radius=200, unit="km",
                             storedist=True) == 2
    assert 56.44 < rp.zscore("dst", "Catania") < 56.45
    # An empty result deletes the destination.
    assert rp.geosearchstore("dst", "Sicily", longitude=0, latitude=0, radius=1, unit="m") == 0
    assert rp.exists("dst") == 0


def test_store_options_replace_any_destination(r):
    r.geoadd("Sicily", SICILY)
    r.set("dst", "string", ex=100)
    assert r.georadius("Sicily", 15, 37, 200, "km", store="dst") == 2
    assert r.type("dst") == b"zset" and r.ttl("dst") == -1
    assert r.zrange("dst", 0, -1) == [b"Palermo", b"Catania"]
    assert r.georadius("Sicily", 15, 37, 200, "km", store_dist="dst") == 2
    assert r.zrange("dst", 0, -1) == [b"Catania", b"Palermo"]
    assert r.georadiusbymember("Sicily", "Palermo", 500, "km", store_dist="dst", sort="DESC", count=1) == 1
    assert r.zrange("dst", 0, -1) == [b"Catania"]
    # A missing source deletes the destination and replies 0.
    assert r.execute_command("GEORADIUS", "nosuch", 0, 0, 1, "km", "STORE", "dst") == 0
    assert r.exists("dst") == 0
    # The result set's encoding follows zset-max-listpack-entries.
    r.config_set("zset-max-listpack-entries", 1)
    assert r.georadius("Sicily", 15, 37, 200, "km", store="dst") == 2
    assert r.object("encoding", "dst") == b"skiplist"


@pytest.mark.parametrize("args,error", [
    (("GEORADIUS", "k", 0, 0, 1, "km", "COUNT", 0), "COUNT must be > 0"),
    (("GEORADIUS", "k", 0, 0, 1, "km", "COUNT", "x"), "value is not an integer or out of range"),
    (("GEORADIUS", "k", 0, 0, 1, "km", "ANY"), "the ANY argument requires COUNT argument"),
    (("GEORADIUS", "k", 0, 0, 1, "km", "STORE"), "syntax error"),
    (("GEORADIUS", "k", 0, 0, 1, "km", "STORE", "d", "WITHDIST"),
     "STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
    (("GEORADIUS_RO", "k", 0, 0, 1, "km", "STORE", "d"), "syntax error"),
    (("GEORADIUS", "k", 0, 0, -1, "km"), "radius cannot be negative"),
    (("GEORADIUS", "k", 0, 0, "x", "km"), "need numeric radius"),
    (("GEORADIUS", "k", 0, 0, 1, "yd"), "unsupported unit provided. please use M, KM, FT, MI"),
    (("GEORADIUS", "k", 0, 86, 1, "km"), "invalid longitude,latitude pair 0.000000,86.000000"),
    (("GEORADIUSBYMEMBER", "k", "nosuch", 1, "km"), "could not decode requested zset member"),
    (("GEOSEARCH", "k", "FROMLONLAT", 0, 0, "FROMMEMBER", "a", "BYRADIUS", 1, "km"), "syntax error"),
    (("GEOSEARCH", "k", "BYRADIUS", 1, "km", "ASC", "DESC"),
     "exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH"),
    (("GEOSEARCH", "k", "FROMLONLAT", 0, 0, "WITHDIST", "ASC"),
     "exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH"),
    (("GEOSEARCH", "k", "FROMLONLAT", 0, 0, "BYBOX", 1, -1, "km"), "height or width cannot be negative"),
    (("GEOSEARCH", "k", "FROMLONLAT", 0, 0, "BYBOX", "w", 1, "km"), "need numeric width"),
    (("GEOSEARCH", "k", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km", "STOREDIST"), "syntax error"),
    (("GEOSEARCHSTORE", "d", "k", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km", "WITHCOORD"),
     "GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"),
])
def test_search_errors(r, args, error):
    r.geoadd("k", [1, 1, "a"])
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    assert str(e.value) == error


def test_missing_and_wrong_type_sources(r):
    assert r.execute_command("GEORADIUS", "nokey", 0, 0, 1, "km") == []
    assert r.execute_command("GEORADIUSBYMEMBER", "nokey", "m", "not-a-number", "not-a-unit") == []
    assert r.execute_command("GEOSEARCH", "nokey", "FROMMEMBER", "m", "BYBOX", 1, 1, "km") == []
    assert r.geopos("nokey", "a") == [None]
    assert r.geodist("nokey", "a", "b") is None
    r.set("s", "x")
    for args in (("GEORADIUS", "s", 0, 0, 1, "km"), ("GEORADIUS", "s", 1000, 0, 1, "km"),
                 ("GEOSEARCH", "s", "FROMLONLAT", 0, 0, "BYRADIUS", 1, "km"), ("GEOPOS", "s", "a"),
                 ("GEOHASH", "s", "a"), ("GEODIST", "s", "a", "b")):
        with pytest.raises(redis.ResponseError, match=WRONGTYPE):
            r.execute_command(*args)


def test_antimeridian_and_big_sets(r):
    r.geoadd("points", [179.5, 36, "point1", -179.5, 36, "point2"])
    assert r.geosearch("points", longitude=179, latitude=37, width=400, height=400, unit="km",
                       sort="ASC") == [b"point1", b"point2"]
    assert r.geosearch("points", longitude=-179, latitude=37, width=400, height=400, unit="km",
                       sort="ASC") == [b"point2", b"point1"]
    # A skiplist-encoded set: every point within the radius is found, ordered by distance.
    rnd = random.Random(7)
    values = []
    for i in range(2000):
        values += [rnd.uniform(-10, 10), rnd.uniform(-10, 10), "p%d" % i]
    assert r.geoadd("many", values) == 2000
    assert r.object("encoding", "many") == b"skiplist"
    rows = r.geosearch("many", longitude=0, latitude=0, radius=300, unit="km", withdist=True, sort="ASC")
    dists = [d for _, d in rows]
    assert dists == sorted(dists) and len(rows) > 10
    assert all(d <= 300 for d in dists)
    assert len(r.geosearch("many", longitude=0, latitude=0, radius=20000, unit="km")) == 2000
