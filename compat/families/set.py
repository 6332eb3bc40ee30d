"""Differential generators for the SET family (SADD ... SSCAN).

Members come from a pool that mixes small integers (intsets), short strings (listpacks), long
strings (past set-max-listpack-value) and non-canonical integers, so that sets on the shared
key space overlap, change encoding and clash with other types.  Occasional bulk SADDs cross
the set-max-listpack-entries (128) and set-max-intset-entries (512) thresholds.

Nondeterministic commands need comparators in differential.py (see the lead's notes):
SMEMBERS/SINTER/SUNION/SDIFF replies are compared as unordered ("sorted"), SPOP and
SRANDMEMBER by shape, SSCAN by scanning to completion.  SPOP changes the two servers'
sets differently, so every SPOP is followed by a DEL of its key to bring them back in step.
"""

SCOPE = """
sadd scard sdiff sdiffstore sinter sintercard sinterstore sismember smembers smismember
smove spop srandmember srem sscan sunion sunionstore
"""

INTROSPECTED = "sadd sintercard spop srandmember sscan smove sinterstore"

_STRINGS = [b"a", b"b", b"c", b"x", b"y", b"z", b"foo", b"bar", b"m:1", b"", b"\x00", b"\xff\xfe",
            b"hello world", b"1.5", b"007", b"-0", b"+1", b" 1", b"1e3", b"9223372036854775808",
            b"-9223372036854775809"]
_BIG_INTS = [b"9223372036854775807", b"-9223372036854775808", b"4294967296", b"-2147483649",
             b"65536", b"-32769", b"32767", b"123456789012"]


def member(gen):
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.4:
        return str(rnd.randint(-20, 60)).encode()
    if r < 0.5:
        return rnd.choice(_BIG_INTS)
    if r < 0.85:
        return rnd.choice(_STRINGS)
    if r < 0.93:
        return b"s" + str(rnd.randint(0, 40)).encode()
    # Longer than set-max-listpack-value (64) or right at it.
    return rnd.choice([b"L" * 64, b"L" * 65, b"long:" + b"x" * rnd.randint(60, 90)])


def members(gen, lo=1, hi=5):
    return [member(gen) for _ in range(gen.rnd.randint(lo, hi))]


def bulk_members(gen):
    """Many members at once: integers (to pass 512) or strings (to pass 128)."""
    rnd = gen.rnd
    n = rnd.choice([100, 127, 128, 129, 200, 511, 512, 513, 600])
    if rnd.random() < 0.5:
        start = rnd.randint(-100, 100)
        return [str(start + i).encode() for i in range(n)]
    return [b"b" + str(i).encode() for i in range(n)]


def g_sadd(gen):
    if gen.chance(0.03):
        return Op([gen.tok(b"SADD"), gen.key()] + bulk_members(gen))
    return Op([gen.tok(b"SADD"), gen.key()] + members(gen))


def g_srem(gen):
    return Op([gen.tok(b"SREM"), gen.key()] + members(gen, 1, 6))


def g_smove(gen):
    return Op([gen.tok(b"SMOVE"), gen.key(), gen.key(), member(gen)])


def g_sismember(gen):
    return Op([gen.tok(b"SISMEMBER"), gen.key(), member(gen)])


def g_smismember(gen):
    return Op([gen.tok(b"SMISMEMBER"), gen.key()] + members(gen, 1, 6))


def g_scard(gen):
    return Op([gen.tok(b"SCARD"), gen.key()])


def g_smembers(gen):
    return Op([gen.tok(b"SMEMBERS"), gen.key()])


def g_read_algebra(gen):
    name = gen.rnd.choice([b"SINTER", b"SUNION", b"SDIFF"])
    return Op([gen.tok(name)] + gen.keys(1, 4))


def g_store_algebra(gen):
    name = gen.rnd.choice([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"])
    return Op([gen.tok(name), gen.key()] + gen.keys(1, 4))


def g_sintercard(gen):
    rnd = gen.rnd
    keys = gen.keys(1, 4)
    r = rnd.random()
    if r < 0.75:
        numkeys = str(len(keys)).encode()
    elif r < 0.85:
        numkeys = str(len(keys) + rnd.randint(1, 3)).encode()  # more than the arguments
    else:
        numkeys = rnd.choice([b"0", b"-1", b"abc", b"", b"1.5", b"9223372036854775807",
                              b"99999999999999999999"])
    args = [gen.tok(b"SINTERCARD"), numkeys] + keys
    for _ in range(rnd.choice([0, 0, 1, 1, 2])):
        s = rnd.random()
        if s < 0.8:
            args += [gen.tok(b"LIMIT"), rnd.choice([b"0", b"1", b"2", b"3", b"10", b"-1", b"abc",
                                                   b"9223372036854775807"])]
        elif s < 0.9:
            args.append(gen.tok(b"LIMIT"))
        else:
            args.append(b"bogus")
    return Op(args)


def g_spop(gen):
    rnd = gen.rnd
    k = gen.key()
    args = [gen.tok(b"SPOP"), k]
    r = rnd.random()
    if r < 0.3:
        pass
    elif r < 0.85:
        args.append(rnd.choice([b"0", b"1", b"2", b"3", b"5", b"10", b"100", b"1000"]))
    elif r < 0.95:
        args.append(rnd.choice([b"-1", b"abc", b"", b"1.5", b"9223372036854775807",
                                b"-9223372036854775808", b"99999999999999999999"]))
    else:
        args += [b"1", b"2"]
    # The two servers pop different members: drop the key on both to get back in step (and
    # the keys a mutation may have put in its place).
    gen.pending.append(Op([b"DEL", k] + BAD_TOKENS))
    return Op(args)


def g_srandmember(gen):
    rnd = gen.rnd
    args = [gen.tok(b"SRANDMEMBER"), gen.key()]
    r = rnd.random()
    if r < 0.25:
        pass
    elif r < 0.9:
        args.append(rnd.choice([b"0", b"1", b"2", b"5", b"20", b"200", b"-1", b"-5", b"-50",
                                b"-1000"]))
    elif r < 0.97:
        args.append(rnd.choice([b"abc", b"", b"1.5", b"-9223372036854775808",
                                b"9223372036854775807", b"99999999999999999999"]))
    else:
        args += [b"1", b"2"]
    return Op(args)


def g_sscan(gen):
    rnd = gen.rnd
    args = [gen.tok(b"SSCAN"), gen.key(), b"0"]
    if gen.chance(0.05):
        args[2] = rnd.choice([b"abc", b" 1", b"18446744073709551616", b"1.5", b"1x"])
    for _ in range(rnd.choice([0, 1, 1, 2])):
        r = rnd.random()
        if r < 0.45:
            args += [gen.tok(b"MATCH"), rnd.choice([b"*", b"s*", b"?", b"1*", b"*[0-9]", b"[a-c]",
                                                    b"*o*", b"L*", b"\\*", b""])]
        elif r < 0.9:
            args += [gen.tok(b"COUNT"), rnd.choice([b"1", b"10", b"100", b"1000", b"0", b"-1",
                                                    b"abc"])]
        elif r < 0.95:
            args += [gen.tok(b"TYPE"), b"set"]
        else:
            args.append(b"bogus")
    return Op(args)


def g_encoding(gen):
    return Op([gen.tok(b"OBJECT"), gen.tok(b"ENCODING"), gen.key()])


def g_wrong_arity(gen):
    """Too few arguments: none at all, or only a key for the commands that need more."""
    rnd = gen.rnd
    if rnd.random() < 0.5:
        name = rnd.choice([b"SCARD", b"SPOP", b"SRANDMEMBER", b"SINTER", b"SUNION", b"SDIFF",
                           b"SMEMBERS", b"SADD", b"SSCAN", b"SINTERCARD"])
        return Op([gen.tok(name)])
    name = rnd.choice([b"SADD", b"SREM", b"SMOVE", b"SISMEMBER", b"SMISMEMBER", b"SINTERCARD",
                       b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE", b"SSCAN"])
    return Op([gen.tok(name), gen.key()])


Op = None
BAD_TOKENS = []


def generators(gen):
    global Op, BAD_TOKENS
    import differential
    Op = differential.Op
    BAD_TOKENS = list(differential.BAD_TOKENS)
    return [
        (14, lambda: g_sadd(gen)), (6, lambda: g_srem(gen)), (4, lambda: g_smove(gen)),
        (4, lambda: g_sismember(gen)), (3, lambda: g_smismember(gen)), (4, lambda: g_scard(gen)),
        (4, lambda: g_smembers(gen)), (5, lambda: g_read_algebra(gen)),
        (5, lambda: g_store_algebra(gen)), (3, lambda: g_sintercard(gen)),
        (3, lambda: g_spop(gen)), (3, lambda: g_srandmember(gen)), (3, lambda: g_sscan(gen)),
        (3, lambda: g_encoding(gen)), (1, lambda: g_wrong_arity(gen)),
    ]
