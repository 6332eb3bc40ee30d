"""Differential generators for the SORTED SET family (ZADD ... ZUNIONSTORE, non-blocking).

Members come from a small pool (so sets overlap and ZUNION/ZINTER/ZDIFF find common members),
with some long members (past zset-max-listpack-value) and occasional bulk ZADDs crossing
zset-max-listpack-entries (128), so both encodings appear.  Calls go to the shared key space
(`gen.key()`), so they clash with strings, lists, hashes and plain sets (which ZUNION & co.
accept as inputs with score 1).

Scores: the oracle is Redis 7.0.15, which prints doubles with %.17g (RESP2 bulk strings,
DEBUG DIGEST) where 7.2 prints the shortest round-trip form; the two agree on integers below
1e7 and on short binary fractions (x.5, x.25, ...), so the valid scores drawn here stay in
that set, and weights are positive (0 * -w gives -0, which 7.2's listpack stores as 0).
Malformed floats (nan, abc, "1 ", ...) exercise the error paths.

Known 7.0 -> 7.2 differences the comparators must know about (see the sorted-set report):
- ZRANK/ZREVRANK ... WITHSCORE is 7.2-only (7.0 answers a wrong-arity error).
- ZADD on a listpack key converts it to skiplist when the number of pairs alone exceeds
  zset-max-listpack-entries (7.2's zsetTypeMaybeConvert), even if no member is new.
Nondeterministic replies need comparators: ZRANDMEMBER (random members) and ZSCAN of a
skiplist-encoded set (cursor order).
"""

SCOPE = """
zadd zcard zcount zdiff zdiffstore zincrby zinter zintercard zinterstore zlexcount zmpop
zmscore zpopmax zpopmin zrandmember zrange zrangebylex zrangebyscore zrangestore zrank zrem
zremrangebylex zremrangebyrank zremrangebyscore zrevrange zrevrangebylex zrevrangebyscore
zrevrank zscan zscore zunion zunionstore
"""

INTROSPECTED = "zadd zrange zrangestore zunionstore zinterstore zintercard zmpop zrandmember zscan"

_MEMBERS = [b"a", b"b", b"c", b"d", b"e", b"f", b"x", b"y", b"z", b"foo", b"bar", b"m:1", b"",
            b"\x00", b"\xff\xfe", b"hello world", b"1", b"2", b"10", b"-1", b"1.5", b"aa", b"ab",
            b"abc", b"b\x00c"]

# Scores both 7.0 and 7.2 print the same way.
_SCORES = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"5", b"10", b"100", b"-100", b"1.5", b"-2.5",
           b"0.25", b"0.5", b"7.75", b"inf", b"-inf", b"+inf", b"1e3", b".5", b"5.", b"0x10",
           b"+3", b"1000000", b"-0.125", b"42"]
_BAD_FLOATS = [b"nan", b"abc", b"", b" 1", b"1 ", b"1e", b"--1", b"1.5.5", b"\x00", b"NaN",
               b"-nan", b"1e400"]
_BOUNDS = [b"-inf", b"+inf", b"inf", b"0", b"1", b"2", b"(1", b"(2", b"1.5", b"(1.5", b"-1",
           b"(-1", b"5", b"(5", b"100", b"(", b"", b"-100"]
_BAD_BOUNDS = [b"abc", b"nan", b"(nan", b"((1", b"1x", b"[1"]
_LEX = [b"-", b"+", b"[a", b"(a", b"[b", b"(c", b"[x", b"(foo", b"[", b"(", b"[\xff", b"[1",
        b"[hello world", b"(z"]
_BAD_LEX = [b"a", b"", b"--", b"++", b"1", b"*"]
_INTS = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"-3", b"5", b"10", b"100", b"-100",
         b"9223372036854775807", b"-9223372036854775808"]
_BAD_INTS = [b"abc", b"1.5", b"", b"99999999999999999999", b" 1"]


def member(gen):
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.8:
        return rnd.choice(_MEMBERS)
    if r < 0.95:
        return b"m" + str(rnd.randint(0, 30)).encode()
    return rnd.choice([b"L" * 64, b"L" * 65, b"long:" + b"x" * rnd.randint(60, 90)])


def score(gen):
    rnd = gen.rnd
    if rnd.random() < 0.6:
        return str(rnd.randint(-20, 20)).encode()
    return rnd.choice(_SCORES)


def maybe_bad(gen, good, bad, p=0.05):
    return gen.rnd.choice(bad) if gen.chance(p) else good


def g_zadd(gen):
    rnd = gen.rnd
    args = [gen.tok(b"ZADD"), gen.key()]
    if gen.chance(0.02):
        # Bulk: cross the listpack entry limit.
        n = rnd.choice([127, 128, 129, 200])
        for i in range(n):
            args += [str(i % 37).encode(), b"bulk" + str(i).encode()]
        return Op(args)
    r = rnd.random()
    opts = []
    if r < 0.5:
        pass
    elif r < 0.9:
        pool = [b"NX", b"XX", b"CH", b"GT", b"LT"]
        compatible = [[b"NX"], [b"XX"], [b"GT"], [b"LT"], [b"XX", b"GT"], [b"XX", b"LT"], [b"CH"],
                      [b"CH", b"XX"], [b"NX", b"CH"], [b"GT", b"CH"]]
        opts = list(rnd.choice(compatible)) if rnd.random() < 0.85 else rnd.sample(pool, 2)
    else:
        opts = [b"INCR"] + rnd.sample([b"NX", b"XX", b"GT", b"LT", b"CH"], rnd.randint(0, 1))
    rnd.shuffle(opts)
    args += [gen.tok(o) for o in opts]
    pairs = 1 if b"INCR" in opts and rnd.random() < 0.9 else rnd.randint(1, 5)
    for _ in range(pairs):
        args += [maybe_bad(gen, score(gen), _BAD_FLOATS, 0.04), member(gen)]
    if gen.chance(0.03):
        args.append(score(gen))  # odd count
    return Op(args)


def g_zincrby(gen):
    args = [gen.tok(b"ZINCRBY"), gen.key(), maybe_bad(gen, score(gen), _BAD_FLOATS, 0.06), member(gen)]
    return Op(args)


def g_zrem(gen):
    return Op([gen.tok(b"ZREM"), gen.key()] + [member(gen) for _ in range(gen.rnd.randint(1, 4))])


def g_point_reads(gen):
    rnd = gen.rnd
    k = gen.key()
    r = rnd.random()
    if r < 0.2:
        return Op([gen.tok(b"ZCARD"), k])
    if r < 0.45:
        return Op([gen.tok(b"ZSCORE"), k, member(gen)])
    if r < 0.6:
        return Op([gen.tok(b"ZMSCORE"), k] + [member(gen) for _ in range(rnd.randint(1, 4))])
    # WITHSCORE is 7.2-only (7.0 answers wrong arity): not generated against the 7.0 oracle.
    return Op([gen.tok(rnd.choice([b"ZRANK", b"ZREVRANK"])), k, member(gen)])


def _limit(gen):
    rnd = gen.rnd
    return [gen.tok(b"LIMIT"), maybe_bad(gen, rnd.choice([b"0", b"1", b"2", b"5", b"-1", b"100"]), _BAD_INTS),
            maybe_bad(gen, rnd.choice([b"0", b"1", b"2", b"3", b"-1", b"-5", b"10"]), _BAD_INTS)]


def g_zrange(gen):
    """ZRANGE with every option combination (valid and conflicting)."""
    rnd = gen.rnd
    args = [gen.tok(b"ZRANGE"), gen.key()]
    kind = rnd.choice([b"", b"", b"BYSCORE", b"BYLEX"])
    if kind == b"BYSCORE":
        args += [maybe_bad(gen, rnd.choice(_BOUNDS), _BAD_BOUNDS), maybe_bad(gen, rnd.choice(_BOUNDS), _BAD_BOUNDS)]
    elif kind == b"BYLEX":
        args += [maybe_bad(gen, rnd.choice(_LEX), _BAD_LEX), maybe_bad(gen, rnd.choice(_LEX), _BAD_LEX)]
    else:
        args += [maybe_bad(gen, rnd.choice(_INTS), _BAD_INTS), maybe_bad(gen, rnd.choice(_INTS), _BAD_INTS)]
    opts = []
    if kind:
        opts.append([gen.tok(kind)])
    if gen.chance(0.4):
        opts.append([gen.tok(b"REV")])
    if gen.chance(0.4):
        opts.append([gen.tok(b"WITHSCORES")])
    if gen.chance(0.3):
        opts.append(_limit(gen))
    if gen.chance(0.03):
        opts.append([rnd.choice([b"BYSCORE", b"BYLEX", b"REV", b"bogus", b"LIMIT"])])
    rnd.shuffle(opts)
    for o in opts:
        args += o
    return Op(args)


def g_old_ranges(gen):
    """ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX."""
    rnd = gen.rnd
    k = gen.key()
    r = rnd.random()
    if r < 0.25:
        args = [gen.tok(b"ZREVRANGE"), k, maybe_bad(gen, rnd.choice(_INTS), _BAD_INTS), rnd.choice(_INTS)]
        if gen.chance(0.4):
            args.append(gen.tok(b"WITHSCORES"))
    elif r < 0.65:
        name = rnd.choice([b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"])
        args = [gen.tok(name), k, maybe_bad(gen, rnd.choice(_BOUNDS), _BAD_BOUNDS), rnd.choice(_BOUNDS)]
        if gen.chance(0.4):
            args.append(gen.tok(b"WITHSCORES"))
        if gen.chance(0.3):
            args += _limit(gen)
    else:
        name = rnd.choice([b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"])
        args = [gen.tok(name), k, maybe_bad(gen, rnd.choice(_LEX), _BAD_LEX), rnd.choice(_LEX)]
        if gen.chance(0.3):
            args += _limit(gen)
        if gen.chance(0.05):
            args.append(gen.tok(b"WITHSCORES"))
    if gen.chance(0.03):
        args.append(rnd.choice([b"REV", b"BYSCORE", b"bogus"]))
    return Op(args)


def g_zrangestore(gen):
    rnd = gen.rnd
    args = [gen.tok(b"ZRANGESTORE"), gen.key(), gen.key()]
    kind = rnd.choice([b"", b"BYSCORE", b"BYLEX"])
    if kind == b"BYSCORE":
        args += [rnd.choice(_BOUNDS), rnd.choice(_BOUNDS), gen.tok(kind)]
    elif kind == b"BYLEX":
        args += [rnd.choice(_LEX), rnd.choice(_LEX), gen.tok(kind)]
    else:
        args += [rnd.choice(_INTS), rnd.choice(_INTS)]
    if gen.chance(0.3):
        args.append(gen.tok(b"REV"))
    if gen.chance(0.3):
        args += _limit(gen)
    if gen.chance(0.05):
        args.append(gen.tok(b"WITHSCORES"))
    return Op(args)


def g_counts(gen):
    rnd = gen.rnd
    if rnd.random() < 0.5:
        return Op([gen.tok(b"ZCOUNT"), gen.key(), maybe_bad(gen, rnd.choice(_BOUNDS), _BAD_BOUNDS),
                   rnd.choice(_BOUNDS)])
    return Op([gen.tok(b"ZLEXCOUNT"), gen.key(), maybe_bad(gen, rnd.choice(_LEX), _BAD_LEX), rnd.choice(_LEX)])


def g_zremrange(gen):
    rnd = gen.rnd
    k = gen.key()
    r = rnd.random()
    if r < 0.35:
        return Op([gen.tok(b"ZREMRANGEBYRANK"), k, maybe_bad(gen, rnd.choice(_INTS), _BAD_INTS),
                   rnd.choice(_INTS)])
    if r < 0.7:
        return Op([gen.tok(b"ZREMRANGEBYSCORE"), k, maybe_bad(gen, rnd.choice(_BOUNDS), _BAD_BOUNDS),
                   rnd.choice(_BOUNDS)])
    return Op([gen.tok(b"ZREMRANGEBYLEX"), k, maybe_bad(gen, rnd.choice(_LEX), _BAD_LEX), rnd.choice(_LEX)])


def g_zpop(gen):
    rnd = gen.rnd
    args = [gen.tok(rnd.choice([b"ZPOPMIN", b"ZPOPMAX"])), gen.key()]
    r = rnd.random()
    if r < 0.4:
        pass
    elif r < 0.9:
        args.append(rnd.choice([b"0", b"1", b"2", b"3", b"10", b"1000"]))
    elif r < 0.97:
        args.append(rnd.choice([b"-1", b"abc", b"", b"1.5", b"-9223372036854775808", b"99999999999999999999"]))
    else:
        args += [b"1", b"2"]
    return Op(args)


def g_zmpop(gen):
    rnd = gen.rnd
    keys = gen.keys(1, 3)
    r = rnd.random()
    if r < 0.8:
        numkeys = str(len(keys)).encode()
    elif r < 0.9:
        numkeys = str(len(keys) + rnd.randint(1, 3)).encode()
    else:
        numkeys = rnd.choice([b"0", b"-1", b"abc", b"", b"9223372036854775807"])
    args = [gen.tok(b"ZMPOP"), numkeys] + keys
    args.append(gen.tok(rnd.choice([b"MIN", b"MAX"])) if gen.chance(0.95) else rnd.choice([b"MID", b""]))
    r = rnd.random()
    if r < 0.5:
        args += [gen.tok(b"COUNT"), rnd.choice([b"1", b"2", b"5", b"100"])]
    elif r < 0.6:
        args += [gen.tok(b"COUNT"), rnd.choice([b"0", b"-1", b"abc"])]
    elif r < 0.65:
        args += [gen.tok(b"COUNT"), b"1", gen.tok(b"COUNT"), b"2"]
    elif r < 0.7:
        args.append(gen.tok(b"COUNT"))
    return Op(args)


def _weights(gen, n):
    rnd = gen.rnd
    w = [rnd.choice([b"1", b"2", b"0.5", b"3", b"1.5", b"10"]) for _ in range(n)]
    if gen.chance(0.05):
        w[rnd.randrange(n)] = rnd.choice([b"abc", b"nan", b""])
    if gen.chance(0.05):
        w = w[:-1]  # too few
    return [gen.tok(b"WEIGHTS")] + w


def g_setop(gen):
    """ZUNION/ZINTER/ZDIFF[STORE] and ZINTERCARD with their options."""
    rnd = gen.rnd
    name = rnd.choice([b"ZUNION", b"ZINTER", b"ZDIFF", b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE",
                       b"ZINTERCARD"])
    store = name.endswith(b"STORE")
    keys = gen.keys(1, 4)
    r = rnd.random()
    if r < 0.85:
        numkeys = str(len(keys)).encode()
    elif r < 0.92:
        numkeys = str(len(keys) + rnd.randint(1, 2)).encode()
    else:
        numkeys = rnd.choice([b"0", b"-1", b"abc", b""])
    args = [gen.tok(name)] + ([gen.key()] if store else []) + [numkeys] + keys
    opts = []
    if name != b"ZINTERCARD":
        if name not in (b"ZDIFF", b"ZDIFFSTORE") or gen.chance(0.05):
            if gen.chance(0.4):
                opts.append(_weights(gen, len(keys)))
            if gen.chance(0.4):
                opts.append([gen.tok(b"AGGREGATE"),
                             gen.tok(rnd.choice([b"SUM", b"MIN", b"MAX"])) if gen.chance(0.95) else b"avg"])
        if not store and gen.chance(0.5) or gen.chance(0.03):
            opts.append([gen.tok(b"WITHSCORES")])
    else:
        if gen.chance(0.5):
            opts.append([gen.tok(b"LIMIT"), rnd.choice([b"0", b"1", b"2", b"10", b"-1", b"abc"])])
    if gen.chance(0.03):
        opts.append([b"bogus"])
    rnd.shuffle(opts)
    for o in opts:
        args += o
    return Op(args)


def g_zrandmember(gen):
    """Random replies: compared by the zrandmember comparator (see the module docstring)."""
    rnd = gen.rnd
    args = [gen.tok(b"ZRANDMEMBER"), gen.key()]
    r = rnd.random()
    if r < 0.2:
        pass
    elif r < 0.9:
        args.append(rnd.choice([b"0", b"1", b"2", b"5", b"50", b"200", b"-1", b"-3", b"-20"]))
        if gen.chance(0.5):
            args.append(gen.tok(b"WITHSCORES"))
    else:
        args += rnd.choice([[b"abc"], [b"-9223372036854775808"], [b"-9223372036854775807", b"WITHSCORES"],
                            [b"1", b"bogus"], [b"1", b"WITHSCORES", b"x"]])
    return Op(args)


def g_zscan(gen):
    rnd = gen.rnd
    args = [gen.tok(b"ZSCAN"), gen.key(), b"0"]
    if gen.chance(0.05):
        args[2] = rnd.choice([b"abc", b" 1", b"18446744073709551616", b"1.5", b"-1"])
    for _ in range(rnd.choice([0, 1, 1, 2])):
        r = rnd.random()
        if r < 0.45:
            args += [gen.tok(b"MATCH"), rnd.choice([b"*", b"a*", b"?", b"m*", b"*[0-9]", b"[a-c]", b""])]
        elif r < 0.9:
            args += [gen.tok(b"COUNT"), rnd.choice([b"1", b"10", b"1000", b"0", b"-1", b"abc"])]
        elif r < 0.95:
            args += [gen.tok(b"TYPE"), b"zset"]
        else:
            args.append(b"bogus")
    return Op(args)


def g_encoding(gen):
    return Op([gen.tok(b"OBJECT"), gen.tok(b"ENCODING"), gen.key()])


def g_wrong_arity(gen):
    rnd = gen.rnd
    if rnd.random() < 0.5:
        name = rnd.choice([b"ZADD", b"ZCARD", b"ZRANGE", b"ZPOPMIN", b"ZUNION", b"ZMPOP", b"ZSCAN",
                           b"ZRANDMEMBER", b"ZINTERCARD", b"ZREMRANGEBYLEX"])
        return Op([gen.tok(name)])
    name = rnd.choice([b"ZADD", b"ZREM", b"ZSCORE", b"ZMSCORE", b"ZINCRBY", b"ZCOUNT", b"ZLEXCOUNT",
                       b"ZRANGE", b"ZRANGEBYSCORE", b"ZRANGESTORE", b"ZUNIONSTORE", b"ZDIFFSTORE",
                       b"ZRANK", b"ZSCAN", b"ZREMRANGEBYRANK"])
    return Op([gen.tok(name), gen.key()])


Op = None


def generators(gen):
    global Op
    import differential
    Op = differential.Op
    return [
        (16, lambda: g_zadd(gen)), (4, lambda: g_zincrby(gen)), (5, lambda: g_zrem(gen)),
        (8, lambda: g_point_reads(gen)), (8, lambda: g_zrange(gen)), (6, lambda: g_old_ranges(gen)),
        (3, lambda: g_zrangestore(gen)), (4, lambda: g_counts(gen)), (4, lambda: g_zremrange(gen)),
        (4, lambda: g_zpop(gen)), (3, lambda: g_zmpop(gen)), (6, lambda: g_setop(gen)),
        (2, lambda: g_zrandmember(gen)), (2, lambda: g_zscan(gen)), (2, lambda: g_encoding(gen)),
        (1, lambda: g_wrong_arity(gen)),
    ]
