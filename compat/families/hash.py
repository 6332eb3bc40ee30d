"""Differential generators for the HASH family (HDEL ... HVALS).

Fields come from a small pool (so commands on the shared key space hit the same fields) that
mixes short names, the empty field, binary bytes, and fields right at and past
hash-max-listpack-value (64); values are mostly short (listpack) with some long ones, integers
and floats for HINCRBY/HINCRBYFLOAT (including overflow and non-finite cases).  Occasional bulk
HSETs cross hash-max-listpack-entries (128 in the runner, CONFIG SET to 2 or 0 by the stream).

Redis 7.2 converts a listpack before HSET when the call has more pairs than
hash-max-listpack-entries, duplicates included (7.0 counted distinct fields), so fields are
distinct within any HSET/HMSET of three or more pairs: the 7.0 oracle then agrees with 7.2.

Comparators differential.py needs (classify), because a hashtable's order is its table's:
- HGETALL: pairs compared as a multiset (RESP3 map or RESP2 flat array); HKEYS, HVALS:
  "sorted".  Listpack order is exact in Apus's own tests.
- HSCAN: already "sscan" (complete pages compared as multisets, else the shape).
- HRANDFIELD: like "srandmember" (errors exactly; nil vs bulk; with a count the reply type
  and length), where WITHVALUES (not WITHSCORES) marks RESP2's flat field/value list for the
  distinct-fields check of a positive count.
"""

SCOPE = """
hdel hexists hget hgetall hincrby hincrbyfloat hkeys hlen hmget hmset hrandfield hscan hset
hsetnx hstrlen hvals
"""

INTROSPECTED = "hset hmset hrandfield hscan hincrbyfloat hgetall"

_FIELDS = [b"a", b"b", b"c", b"f1", b"f2", b"f3", b"n", b"x", b"", b"\x00", b"\xff\xfe",
           b"sp ace", b"123", b"-1", b"1.5", b"k:1", b"\xe2\x82\xac"]
_LONG_FIELDS = [b"F" * 64, b"F" * 65, b"long:" + b"x" * 70]
_INCRS = [b"1", b"-1", b"5", b"100", b"-100", b"0", b"9223372036854775807",
          b"-9223372036854775808", b"4611686018427387904"]
_BAD_INTS = [b"x", b"", b"1.5", b" 1", b"99999999999999999999", b"+1", b"007", b"-0"]
_FLOAT_INCRS = [b"1", b"0.1", b"-0.1", b"1.5", b"-2.25", b"1e10", b"3.0e3", b"5.0000000000000001",
                b"0x1p3", b".5", b"1e308", b"-1e308", b"1e4000", b"-1e4000", b"1e-320"]
_BAD_FLOATS = [b"inf", b"-inf", b"+inf", b"nan", b"abc", b"", b" 1", b"1e", b"1.0 "]
_NUMBERS = [b"0", b"1", b"-1", b"10", b"9223372036854775807", b"-9223372036854775808",
            b"9223372036854775806", b"1.5", b"-0.5", b"1e3", b"abc", b" 2", b"1e4932",
            b"3.14159265358979323846"]
_PATTERNS = [b"*", b"f*", b"?", b"f[12]", b"*1*", b"[a-c]", b"\\*", b"", b"F*", b"k:*", b"x"]


def field(gen):
    r = gen.rnd.random()
    if r < 0.9:
        return gen.rnd.choice(_FIELDS)
    if r < 0.96:
        return b"g" + str(gen.rnd.randint(0, 30)).encode()
    return gen.rnd.choice(_LONG_FIELDS)


def value(gen):
    r = gen.rnd.random()
    if r < 0.3:
        return gen.rnd.choice(_NUMBERS)
    if r < 0.93:
        return gen.value()[:gen.rnd.choice([8, 20, 64])]
    return gen.value()  # may pass 64 bytes: converts the hash


def distinct_fields(gen, n):
    out = []
    while len(out) < n:
        f = field(gen)
        if f not in out:
            out.append(f)
    return out


def pairs(gen):
    rnd = gen.rnd
    n = rnd.choice([1, 1, 1, 2, 2, 3, 4])
    if n <= 2:
        fields = [field(gen) for _ in range(n)]  # repeats allowed: no conversion difference
    else:
        fields = distinct_fields(gen, n)
    out = []
    for f in fields:
        out += [f, value(gen)]
    return out


def bulk_pairs(gen):
    """Many distinct fields at once: around hash-max-listpack-entries (128)."""
    n = gen.rnd.choice([100, 127, 128, 129, 200])
    out = []
    for i in range(n):
        out += [b"b" + str(i).encode(), str(i).encode()]
    return out


def g_hset(gen):
    rnd = gen.rnd
    name = gen.tok(rnd.choice([b"HSET", b"HSET", b"HSET", b"HMSET"]))
    if gen.chance(0.02):
        return Op([name, gen.key()] + bulk_pairs(gen))
    args = [name, gen.key()] + pairs(gen)
    if gen.chance(0.04):
        args.append(field(gen))  # odd field/value list: arity error
    return Op(args)


def g_hsetnx(gen):
    return Op([gen.tok(b"HSETNX"), gen.key(), field(gen), value(gen)])


def g_hget(gen):
    return Op([gen.tok(b"HGET"), gen.key(), field(gen)])


def g_hmget(gen):
    return Op([gen.tok(b"HMGET"), gen.key()] + [field(gen) for _ in range(gen.rnd.randint(1, 5))])


def g_hdel(gen):
    return Op([gen.tok(b"HDEL"), gen.key()] + [field(gen) for _ in range(gen.rnd.randint(1, 4))])


def g_small_reads(gen):
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.3:
        return Op([gen.tok(b"HLEN"), gen.key()])
    if r < 0.65:
        return Op([gen.tok(b"HSTRLEN"), gen.key(), field(gen)])
    return Op([gen.tok(b"HEXISTS"), gen.key(), field(gen)])


def g_hgetall(gen):
    name = gen.rnd.choice([b"HGETALL", b"HKEYS", b"HVALS"])
    return Op([gen.tok(name), gen.key()])


def g_hincrby(gen):
    rnd = gen.rnd
    incr = rnd.choice(_INCRS) if not gen.chance(0.1) else rnd.choice(_BAD_INTS)
    return Op([gen.tok(b"HINCRBY"), gen.key(), field(gen), incr])


def g_hincrbyfloat(gen):
    rnd = gen.rnd
    incr = rnd.choice(_FLOAT_INCRS) if not gen.chance(0.12) else rnd.choice(_BAD_FLOATS)
    return Op([gen.tok(b"HINCRBYFLOAT"), gen.key(), field(gen), incr])


def g_hrandfield(gen):
    rnd = gen.rnd
    args = [gen.tok(b"HRANDFIELD"), gen.key()]
    r = rnd.random()
    if r < 0.2:
        return Op(args)
    if r < 0.85:
        args.append(rnd.choice([b"0", b"1", b"2", b"3", b"5", b"20", b"200", b"-1", b"-2", b"-5",
                                b"-50", b"-300"]))
    else:
        # No big *negative* count that is valid: Redis would try to send that many picks
        # (Apus cuts the reply at 1 GiB and closes the connection).  A mutation can drop
        # WITHVALUES, so -4611686018427387904 (an error only with it) is out too.
        args.append(rnd.choice([b"abc", b"", b"1.5", b"-9223372036854775808",
                                b"9223372036854775807", b"4611686018427387904",
                                b"4611686018427387903", b"99999999999999999999"]))
    s = rnd.random()
    if s < 0.45:
        args.append(gen.tok(b"WITHVALUES"))
    elif s < 0.5:
        args.append(rnd.choice([b"WITHSCORES", b"bogus", b""]))
    elif s < 0.53:
        args += [gen.tok(b"WITHVALUES"), b"x"]
    return Op(args)


def g_hscan(gen):
    rnd = gen.rnd
    args = [gen.tok(b"HSCAN"), gen.key(), b"0"]
    if gen.chance(0.06):
        # Invalid cursors only: a valid non-zero cursor on a hashtable returns a different
        # slice on each server, which a single-reply comparator cannot judge.
        args[2] = rnd.choice([b"abc", b" 1", b"18446744073709551616", b"1.5", b"1x"])
    for _ in range(rnd.choice([0, 1, 1, 2])):
        r = rnd.random()
        if r < 0.45:
            args += [gen.tok(b"MATCH"), rnd.choice(_PATTERNS)]
        elif r < 0.9:
            args += [gen.tok(b"COUNT"), rnd.choice([b"1", b"10", b"100", b"1000", b"0", b"-1",
                                                    b"abc"])]
        elif r < 0.95:
            args += [gen.tok(b"TYPE"), b"hash"]
        else:
            args.append(rnd.choice([b"bogus", b"MATCH", b"COUNT"]))
    return Op(args)


def g_encoding(gen):
    return Op([gen.tok(b"OBJECT"), gen.tok(b"ENCODING"), gen.key()])


def g_wrong_arity(gen):
    rnd = gen.rnd
    if rnd.random() < 0.4:
        name = rnd.choice([b"HLEN", b"HKEYS", b"HVALS", b"HGETALL", b"HRANDFIELD", b"HSET",
                           b"HDEL", b"HSCAN"])
        return Op([gen.tok(name)])
    name = rnd.choice([b"HSET", b"HMSET", b"HSETNX", b"HGET", b"HMGET", b"HDEL", b"HSTRLEN",
                       b"HEXISTS", b"HINCRBY", b"HINCRBYFLOAT", b"HSCAN"])
    args = [gen.tok(name), gen.key()]
    if name in (b"HSETNX", b"HINCRBY", b"HINCRBYFLOAT", b"HSET", b"HMSET") and gen.chance(0.5):
        args.append(field(gen))
    if name in (b"HGETALL", b"HKEYS", b"HVALS", b"HLEN"):
        args.append(b"extra")
    return Op(args)


Op = None


def generators(gen):
    global Op
    import differential
    Op = differential.Op
    return [
        (16, lambda: g_hset(gen)), (3, lambda: g_hsetnx(gen)), (6, lambda: g_hget(gen)),
        (3, lambda: g_hmget(gen)), (5, lambda: g_hdel(gen)), (5, lambda: g_small_reads(gen)),
        (5, lambda: g_hgetall(gen)), (5, lambda: g_hincrby(gen)), (5, lambda: g_hincrbyfloat(gen)),
        (3, lambda: g_hrandfield(gen)), (3, lambda: g_hscan(gen)), (3, lambda: g_encoding(gen)),
        (1, lambda: g_wrong_arity(gen)),
    ]
