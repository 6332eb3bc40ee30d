"""Differential generators for the GEO family (GEOADD ... GEOSEARCHSTORE).

A geo key is a sorted set. Most calls use three keys of this family's own (so searches run
over real point sets); the rest go to the shared key space (`gen.key()`) where they meet
sorted sets written by the zset family (members whose scores are not geohashes: they
decode to clamped coordinates, exactly as in Redis), plain strings, lists, hashes and sets
(WRONGTYPE).  Members come from a pool of 150 names plus a few of the zset family's, so sets
grow past zset-max-listpack-entries (skiplist) over time; points cluster around a few
centres and repeat exact coordinates, so searches meet ties (the order of equal distances
depends on Redis's sorts: glibc's merge sort, or pqsort under COUNT).

Queries draw every option: WITHCOORD/WITHDIST/WITHHASH, COUNT [ANY], ASC/DESC, STORE/STOREDIST,
FROMMEMBER/FROMLONLAT, BYRADIUS/BYBOX, all four units in random case, radii and boxes from
0 to the whole planet (and `inf`), centres on the antimeridian and near the poles, and
malformed ones (bad floats, negative sizes, out-of-range coordinates, unknown units, options
in the wrong command, missing arguments, COUNT 0, ANY without COUNT, conflicting options).

geo.c is identical in 7.0.15 and 7.2.4, so every reply is compared byte for byte (RESP3
doubles of WITHCOORD/GEOPOS print `%.17Lf` in both).  One thing needs care: STOREDIST stores
distances, arbitrary doubles that the 7.0 oracle prints (ZSCORE, WITHSCORES, DEBUG DIGEST)
with %.17g where 7.2 prints the shortest form; so a STOREDIST call is followed at once by
`ZRANGE dst 0 -1` (members only) and `DEL dst`, through `gen.pending`, before any other
generator or digest can read the scores.
"""

import math

SCOPE = """
geoadd geodist geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro
geosearch geosearchstore
"""

INTROSPECTED = "geoadd geosearch geosearchstore georadiusbymember geopos"

# Keys only this family writes (most calls), so searches run over real point sets; the rest go
# to the shared key space where types clash.
_GEO_KEYS = [b"geo:1", b"geo:2", b"geo:{t}3"]
_POOL = [b"p%d" % i for i in range(150)] + [b"a", b"b", b"c", b"foo", b"", b"\x00", b"hello world", b"1"]
_UNITS = [b"m", b"km", b"ft", b"mi"]
_BAD_UNITS = [b"yd", b"", b"meters", b"k", b"m\x00x", b"kmm"]
_BAD_FLOATS = [b"abc", b"nan", b"", b" 1", b"1 ", b"1e", b"--1", b"\x00", b"1e400"]
_COUNTS = [b"1", b"2", b"3", b"5", b"10", b"100", b"1000"]
_BAD_COUNTS = [b"0", b"-1", b"abc", b"1.5", b"99999999999999999999", b""]
# Fixed centres, chosen so points cluster (ties) and searches cross the antimeridian and reach
# the latitude limits.
_CENTRES = [(13.361389, 38.115556), (-73.9798091, 40.7598464), (179.9, 0.5), (-179.9, -0.5),
            (0.0, 84.9), (45.0, -84.9)]


def key(gen):
    return gen.rnd.choice(_GEO_KEYS) if gen.chance(0.75) else gen.key()


def fmt(gen, x):
    """A coordinate as text; shortened forms are truncated toward zero so that a point at a
    limit (85.05112878) stays valid."""
    r = gen.rnd.random()
    if r < 0.7:
        return repr(x).encode()
    digits = 6 if r < 0.9 else 2
    scale = 10 ** digits
    return b"%.*f" % (digits, math.trunc(x * scale) / scale)


def point(gen):
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.08:
        return rnd.choice([(180.0, 0.0), (-180.0, 0.0), (0.0, 85.05112878), (0.0, -85.05112878),
                           (180.0, 85.05112878), (-180.0, -85.05112878)])
    if r < 0.75:
        lon0, lat0 = rnd.choice(_CENTRES)
        spread = rnd.choice([0.0, 0.0001, 0.001, 0.01, 0.1, 1.0])
        lon = min(180.0, max(-180.0, lon0 + rnd.uniform(-spread, spread)))
        lat = min(85.05112878, max(-85.05112878, lat0 + rnd.uniform(-spread, spread)))
        return lon, lat
    return rnd.uniform(-180, 180), rnd.uniform(-85.05112878, 85.05112878)


def lonlat(gen):
    """A centre (sometimes malformed or out of range)."""
    rnd = gen.rnd
    if gen.chance(0.04):
        return rnd.choice([[b"181", b"0"], [b"0", b"86"], [b"-180.0001", b"0"], [b"inf", b"0"],
                           [b"0", b"-85.0512"], [rnd.choice(_BAD_FLOATS), b"0"], [b"0", rnd.choice(_BAD_FLOATS)]])
    lon, lat = point(gen)
    return [fmt(gen, lon), fmt(gen, lat)]


def member(gen):
    rnd = gen.rnd
    if gen.chance(0.85):
        return rnd.choice(_POOL[:40] if gen.chance(0.5) else _POOL)
    return rnd.choice([b"nosuch", b"m1", b"x", b"L" * 70])


def size(gen):
    """A radius, width or height: log-uniform from 0.1 to 20 million units, a few special
    values (0, inf, the whole planet) and malformed ones."""
    rnd = gen.rnd
    if gen.chance(0.03):
        return rnd.choice(_BAD_FLOATS + [b"-1", b"-0.5"])
    r = rnd.random()
    if r < 0.05:
        return rnd.choice([b"0", b"inf", b"1e10", b"0.0001", b"40000000", b"20037726"])
    value = 10 ** rnd.uniform(-1, 7.3)
    return rnd.choice([b"%d" % int(value), b"%g" % value, b"%.3f" % value])


def unit(gen):
    if gen.chance(0.03):
        return gen.rnd.choice(_BAD_UNITS)
    return gen.tok(gen.rnd.choice(_UNITS))


def g_geoadd(gen):
    rnd = gen.rnd
    args = [gen.tok(b"GEOADD"), key(gen)]
    r = rnd.random()
    if r < 0.3:
        opts = rnd.choice([[b"NX"], [b"XX"], [b"CH"], [b"NX", b"CH"], [b"CH", b"XX"], [b"XX", b"NX"]])
        args += [gen.tok(o) for o in opts]
    n = rnd.choice([1, 1, 2, 3, 5, 10, 30])
    for _ in range(n):
        lon, lat = point(gen)
        args += [fmt(gen, lon), fmt(gen, lat), member(gen)]
    if gen.chance(0.04):
        i = rnd.randrange(2, len(args))
        args[i] = rnd.choice(_BAD_FLOATS + [b"181", b"-86", b"GT", b"INCR"])
    if gen.chance(0.02):
        args.append(b"1")  # triples incomplete
    return Op(args)


def g_point_reads(gen):
    rnd = gen.rnd
    k = key(gen)
    r = rnd.random()
    if r < 0.35:
        return Op([gen.tok(b"GEOPOS"), k] + [member(gen) for _ in range(rnd.randint(0, 4))])
    if r < 0.6:
        return Op([gen.tok(b"GEOHASH"), k] + [member(gen) for _ in range(rnd.randint(0, 4))])
    args = [gen.tok(b"GEODIST"), k, member(gen), member(gen)]
    if gen.chance(0.6):
        args.append(unit(gen))
    if gen.chance(0.03):
        args.append(b"extra")
    return Op(args)


def options(gen, with_ok=True):
    """WITH*, COUNT [ANY] and ASC/DESC in random order (sometimes malformed)."""
    rnd = gen.rnd
    parts = []
    if with_ok or gen.chance(0.05):
        for o in (b"WITHCOORD", b"WITHDIST", b"WITHHASH"):
            if gen.chance(0.3):
                parts.append([gen.tok(o)])
    if gen.chance(0.45):
        parts.append([gen.tok(b"COUNT"), rnd.choice(_BAD_COUNTS) if gen.chance(0.05) else rnd.choice(_COUNTS)])
        if gen.chance(0.3):
            parts.append([gen.tok(b"ANY")])
    elif gen.chance(0.03):
        parts.append([gen.tok(b"ANY")])
    r = rnd.random()
    if r < 0.3:
        parts.append([gen.tok(b"ASC")])
    elif r < 0.5:
        parts.append([gen.tok(b"DESC")])
    if gen.chance(0.03):
        parts.append([rnd.choice([b"bogus", b"COUNT", b"STORE", b"FROMMEMBER", b"BYBOX", b"WITHDIST\x00x"])])
    rnd.shuffle(parts)
    return parts


def storing(gen, args, destination, distance):
    """The op, and for STOREDIST the follow-ups that read the members and drop the key."""
    op = Op(args)
    if distance:
        gen.pending.append(Op([gen.tok(b"ZRANGE"), destination, b"0", b"-1"]))
        gen.pending.append(Op([gen.tok(b"DEL"), destination]))
    return op


def g_georadius(gen):
    rnd = gen.rnd
    by_member = gen.chance(0.4)
    read_only = gen.chance(0.3)
    name = (b"GEORADIUSBYMEMBER" if by_member else b"GEORADIUS") + (b"_RO" if read_only else b"")
    args = [gen.tok(name), key(gen)]
    args += [member(gen)] if by_member else lonlat(gen)
    args += [size(gen), unit(gen)]
    parts = options(gen)
    destination, distance = None, False
    if gen.chance(0.2):
        distance = gen.chance(0.4)
        destination = key(gen)
        parts = [p for p in parts if not p[0].upper().startswith(b"WITH")] if gen.chance(0.9) else parts
        parts.insert(rnd.randint(0, len(parts)), [gen.tok(b"STOREDIST" if distance else b"STORE"), destination])
    for p in parts:
        args += p
    if destination is None:
        return Op(args)
    return storing(gen, args, destination, distance and not read_only)


def g_geosearch(gen):
    rnd = gen.rnd
    store = gen.chance(0.25)
    destination = key(gen) if store else None
    args = [gen.tok(b"GEOSEARCHSTORE"), destination, key(gen)] if store else [gen.tok(b"GEOSEARCH"), key(gen)]
    parts = options(gen, with_ok=not store)
    r = rnd.random()
    if r < 0.45:
        parts.append([gen.tok(b"FROMMEMBER"), member(gen)])
    elif r < 0.95:
        parts.append([gen.tok(b"FROMLONLAT")] + lonlat(gen))
    else:
        parts.append([gen.tok(b"FROMMEMBER"), member(gen)])
        parts.append([gen.tok(b"FROMLONLAT")] + lonlat(gen))
    r = rnd.random()
    if r < 0.45:
        parts.append([gen.tok(b"BYRADIUS"), size(gen), unit(gen)])
    elif r < 0.95:
        parts.append([gen.tok(b"BYBOX"), size(gen), size(gen), unit(gen)])
    elif r < 0.97:
        parts.append([gen.tok(b"BYRADIUS"), size(gen), unit(gen)])
        parts.append([gen.tok(b"BYBOX"), size(gen), size(gen), unit(gen)])
    distance = False
    if store and gen.chance(0.4):
        parts.append([gen.tok(b"STOREDIST")])
        distance = True
    elif not store and gen.chance(0.03):
        parts.append(rnd.choice([[b"STOREDIST"], [b"STORE", key(gen)]]))
    rnd.shuffle(parts)
    for p in parts:
        args += p
    if not store:
        return Op(args)
    return storing(gen, args, destination, distance)


def g_wrong_arity(gen):
    rnd = gen.rnd
    name = rnd.choice([b"GEOADD", b"GEODIST", b"GEOHASH", b"GEOPOS", b"GEORADIUS", b"GEORADIUS_RO",
                       b"GEORADIUSBYMEMBER", b"GEOSEARCH", b"GEOSEARCHSTORE"])
    return Op([gen.tok(name)] + [key(gen) for _ in range(rnd.randint(0, 2))])


Op = None


def generators(gen):
    global Op
    import differential
    Op = differential.Op
    return [
        (10, lambda: g_geoadd(gen)), (5, lambda: g_point_reads(gen)), (8, lambda: g_georadius(gen)),
        (10, lambda: g_geosearch(gen)), (0.5, lambda: g_wrong_arity(gen)),
    ]
