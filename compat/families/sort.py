"""Differential generators for SORT and SORT_RO.

Calls over the shared key space (so the source is a list, set, sorted set, string or hash)
with random ASC/DESC, ALPHA, BY (nosort, `*` patterns naming the shared keys, `->field`
lookups into the shared hashes), GET (`#`, patterns, patterns without `*`), LIMIT (negative,
huge, zero) and STORE into a shared key; plus malformed calls (unknown words, missing
arguments, non-integer LIMIT, SORT_RO ... STORE).

Where the reply's order depends on a hash table (each server's randomised table order, and
the 7.0 oracle keeps small sets in a hashtable where 7.2 keeps a listpack), it is compared as
a sorted multiset: `comparator(args)` below says which calls those are ("sorted": BY nosort
on a set; ALPHA, whose equal weights keep the input order, on a sorted set or a hashtable
set).  differential.py's classify() must return `comparator(args)` for SORT/SORT_RO, since
it recomputes every op's comparator from its arguments.  Those forms are never sent with a
LIMIT (the slice itself would depend on the order) nor, for ALPHA BY, with STORE, on the
shared keys; they get LIMIT on two private keys instead, `sort:list` (only ever a list)
and `sort:zset` (only ever a sorted set), where every order is deterministic.

Weight values never underflow or overflow strtod: Redis does not reset errno before its
strtod, so after one ERANGE every later numeric SORT of the process fails too.
"""

SCOPE = "sort sort_ro"

INTROSPECTED = "sort sort_ro"

# Patterns whose `*` lands the element in a shared key name (k0...k5, k:0, {t}a ...), with
# fields of the shared hashes after `->`.
_STAR_PATTERNS = [b"k*", b"k:*", b"*", b"{t}*", b"k*->a", b"k*->f1", b"k*->n", b"k*->",
                  b"*->x", b"k*->\x00", b"{t}*->b", b"no*such", b"k*x"]
_FIXED_PATTERNS = [b"nosort", b"k0", b"", b"x\x00*", b"->"]
_GET_PATTERNS = [b"#", b"#", b"k*", b"*", b"k:*", b"k*->a", b"k*->f1", b"{t}*", b"k0", b"#x",
                 b"k*->", b"*->n"]
# Elements that make the patterns hit shared keys, and weights of every kind.
_ELEMENTS = [b"0", b"1", b"2", b"3", b"4", b"5", b"-1", b"10", b"1.5", b"a", b"b", b"k0",
             b"k1", b":0", b":1", b"", b"\x00", b"0x10", b" 3", b"inf", b"-inf", b"x", b"abc",
             b"t}a", b"9223372036854775807", b"1e5", b"B", b"\xff"]


def comparator(args):
    """"sorted" when the order of the reply depends on a hash table's order, else "exact"."""
    if len(args) < 2:
        return "exact"
    dontsort = alpha = store = False
    by = None
    i = 2
    while i < len(args):
        w = args[i].lower()
        left = len(args) - i - 1
        if w == b"alpha":
            alpha = True
        elif w == b"limit" and left >= 2:
            i += 2
        elif w == b"store" and left >= 1:
            store = True
            i += 1
        elif w in (b"by", b"get") and left >= 1:
            if w == b"by":
                by = args[i + 1]
                if b"*" not in by.split(b"\x00")[0]:
                    dontsort = True
            i += 1
        i += 1
    if store:
        return "exact"
    if dontsort or alpha:
        return "sorted"
    return "exact"


def _pattern(gen, star=0.8):
    return gen.rnd.choice(_STAR_PATTERNS) if gen.rnd.random() < star else gen.rnd.choice(_FIXED_PATTERNS)


def _limit(gen):
    rnd = gen.rnd
    pick = lambda: rnd.choice([b"0", b"1", b"2", b"3", b"-1", b"-5", b"5", b"100",
                               b"9223372036854775807", b"-9223372036854775808"])
    return [gen.tok(b"LIMIT"), pick(), pick()]


def _options(gen, source, allow_limit, allow_store):
    """Random SORT options for `source`; `allow_limit` is False where a LIMIT would cut an
    order that depends on a hash table."""
    rnd = gen.rnd
    opts = []
    by = None
    alpha = rnd.random() < 0.4
    if rnd.random() < 0.55:
        by = _pattern(gen)
        opts += [gen.tok(b"BY"), by]
    nosort = by is not None and b"*" not in by.split(b"\x00")[0]
    if alpha:
        opts.append(gen.tok(b"ALPHA"))
    if rnd.random() < 0.4:
        opts.append(gen.tok(rnd.choice([b"ASC", b"DESC"])))
    for _ in range(rnd.choice([0, 0, 1, 1, 2, 3])):
        opts += [gen.tok(b"GET"), rnd.choice(_GET_PATTERNS)]
    order_free = nosort or alpha
    if rnd.random() < 0.35 and (allow_limit or not order_free):
        opts += _limit(gen)
    if allow_store and rnd.random() < 0.2 and not (alpha and by is not None and not nosort and not allow_limit):
        opts += [gen.tok(b"STORE"), gen.key()]
    return opts


def g_sort(gen):
    name = gen.rnd.choice([b"SORT", b"SORT", b"SORT_RO"])
    key = gen.key()
    return Op([gen.tok(name), key] + _options(gen, key, False, name == b"SORT"))


def g_sort_private(gen):
    """LIMIT with BY nosort and ALPHA BY (pqsort's order of equal weights) on keys whose
    type never changes."""
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.25:
        elements = [rnd.choice(_ELEMENTS) for _ in range(rnd.randint(1, 8))]
        if rnd.random() < 0.05:
            elements = [b"e%d" % rnd.randint(0, 300) for _ in range(rnd.randint(100, 160))]
        return Op([gen.tok(b"RPUSH"), b"sort:list"] + elements)
    if r < 0.4:
        args = [gen.tok(b"ZADD"), b"sort:zset"]
        for _ in range(rnd.randint(1, 6)):
            args += [rnd.choice([b"1", b"2", b"-1", b"0.5", b"3"]), rnd.choice(_ELEMENTS)]
        return Op(args)
    if r < 0.43:
        return Op([gen.tok(b"LTRIM"), b"sort:list", b"0", str(rnd.randint(0, 60)).encode()])
    key = b"sort:zset" if rnd.random() < 0.35 else b"sort:list"
    name = rnd.choice([b"SORT", b"SORT_RO"])
    opts = []
    if key == b"sort:zset" or rnd.random() < 0.5:
        opts += [gen.tok(b"BY"), rnd.choice(_FIXED_PATTERNS)]
        if rnd.random() < 0.5:
            opts.append(gen.tok(b"DESC"))
    else:
        opts += [gen.tok(b"BY"), rnd.choice(_STAR_PATTERNS)]
        if rnd.random() < 0.7:
            opts.append(gen.tok(b"ALPHA"))
        if rnd.random() < 0.4:
            opts.append(gen.tok(rnd.choice([b"ASC", b"DESC"])))
    opts += _limit(gen)
    for _ in range(rnd.choice([0, 0, 1, 2])):
        opts += [gen.tok(b"GET"), rnd.choice(_GET_PATTERNS)]
    if name == b"SORT" and rnd.random() < 0.2:
        opts += [gen.tok(b"STORE"), gen.key()]
    return Op([gen.tok(name), key] + opts)


def g_sort_malformed(gen):
    rnd = gen.rnd
    name = gen.tok(rnd.choice([b"SORT", b"SORT_RO"]))
    key = gen.key()
    r = rnd.random()
    if r < 0.2:
        return Op([name, key, rnd.choice([b"FOO", b"LIMIT", b"BY", b"GET", b"STORE", b"\x00", b"ALPHAX"])])
    if r < 0.4:
        return Op([name, key, gen.tok(b"LIMIT"), rnd.choice(BAD_TOKENS), rnd.choice([b"1", b"x"])])
    if r < 0.55:
        return Op([name, key, gen.tok(b"LIMIT"), b"0"])
    if r < 0.7:
        return Op([gen.tok(b"SORT_RO"), key, gen.tok(b"STORE"), gen.key()])
    if r < 0.85:
        return Op([name, key, gen.tok(b"ASC"), gen.tok(b"LIMIT"), b"0", b"1", b"extra"])
    return Op([name])


Op = None
BAD_TOKENS = []


def generators(gen):
    global Op, BAD_TOKENS
    import differential
    Op = differential.Op
    BAD_TOKENS = list(differential.BAD_TOKENS)
    return [
        (8, lambda: g_sort(gen)), (5, lambda: g_sort_private(gen)), (1, lambda: g_sort_malformed(gen)),
    ]
