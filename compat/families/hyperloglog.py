"""Differential generators for the HYPERLOGLOG family (PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST).

A HyperLogLog is a string, so the sketches live on the shared key space next to the strings
and collections of the other families (types clash: WRONGTYPE, and the HLL-specific
"Key is not a valid HyperLogLog string value." for plain strings).  Elements come from a small
pool (repeats leave registers unchanged: PFADD 0) mixed with fresh random ones; occasional bulk
PFADDs cross hll-sparse-max-bytes, which the stream also changes (0, 30, 300, 3000).  Sketches
are corrupted on purpose with SETRANGE/APPEND and crafted SET values (extra opcodes, truncated
XZERO, short dense, bad magic/encoding, a valid cache over garbage), so every command meets
corrupted input.  GET and DEBUG DIGEST (--digest-every) then compare the sketches byte for byte.

Every reply is deterministic (PFSELFTEST answers +OK on both), so no comparator is needed.
"""

SCOPE = """
pfadd pfcount pfmerge pfdebug pfselftest
"""

INTROSPECTED = "pfadd pfcount pfmerge pfdebug pfselftest"

_POOL = [b"a", b"b", b"c", b"x", b"", b"\x00", b"\xff\xfe", b"1", b"2", b"-1", b"foo", b"bar",
         b"hello world", b"e1", b"e2", b"e3", b"long:" + b"x" * 70]

_HEADER_SPARSE = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80"
_HEADER_DENSE = b"HYLL\x00\x00\x00\x00" + b"\x00" * 7 + b"\x80"


def element(gen):
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.5:
        return rnd.choice(_POOL)
    if r < 0.8:
        return str(rnd.random()).encode()
    return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 12)))


def g_pfadd(gen):
    rnd = gen.rnd
    r = rnd.random()
    if r < 0.05:
        n = rnd.choice([300, 1000, 2000, 4000])
        base = rnd.randint(0, 10 ** 6)
        elements = [b"b%d" % (base + i) for i in range(n)]
    elif r < 0.15:
        elements = []
    else:
        elements = [element(gen) for _ in range(rnd.randint(1, 8))]
    return Op([gen.tok(b"PFADD"), gen.key()] + elements)


def g_pfcount(gen):
    if gen.chance(0.6):
        return Op([gen.tok(b"PFCOUNT"), gen.key()])
    return Op([gen.tok(b"PFCOUNT")] + gen.keys(2, 4))


def g_pfmerge(gen):
    return Op([gen.tok(b"PFMERGE"), gen.key()] + gen.keys(0, 3))


def g_pfdebug(gen):
    rnd = gen.rnd
    sub = rnd.choice([b"ENCODING", b"ENCODING", b"DECODE", b"DECODE", b"TODENSE", b"GETREG",
                      b"bogus", b"", b"getreg\x00x"])
    args = [gen.tok(b"PFDEBUG"), gen.tok(sub) if sub.isalpha() else sub, gen.key()]
    if gen.chance(0.05):
        args.append(b"extra")  # arity is exactly 3
    return Op(args)


def g_pfselftest(gen):
    args = [gen.tok(b"PFSELFTEST")]
    if gen.chance(0.3):
        args.append(b"extra")
    return Op(args)


def g_sparse_limit(gen):
    return Op([b"CONFIG", b"SET", b"hll-sparse-max-bytes",
               gen.rnd.choice([b"0", b"30", b"300", b"3000", b"3000", b"3000"])])


def _dense(gen, top):
    rnd = gen.rnd
    regs = bytearray(12288)
    for i in range(0, 16384, rnd.choice([1, 7, 101])):
        v = rnd.randint(0, top)
        bit = i * 6
        regs[bit >> 3] |= (v << (bit & 7)) & 0xff
        if bit & 7 > 2:
            regs[(bit >> 3) + 1] |= v >> (8 - (bit & 7))
    return _HEADER_DENSE + bytes(regs)


def g_crafted(gen):
    """SET a crafted sketch: valid, corrupted, or only HLL-looking."""
    rnd = gen.rnd
    values = [
        _HEADER_SPARSE + b"\x7f\xff",                      # empty sparse
        _HEADER_SPARSE + b"\x7f\xff\xac",                  # an opcode past the last register
        _HEADER_SPARSE + b"\x7f\xfd\xad",                  # two registers at the end
        _HEADER_SPARSE + b"\x7f\xfe\x80",                  # one register at the end
        _HEADER_SPARSE + b"\x7f",                          # truncated XZERO
        _HEADER_SPARSE + b"\x40\xff\x7e\xff",              # 256 + 16128 zeros: valid
        _HEADER_SPARSE,                                    # header only
        _HEADER_SPARSE[:15],                               # too short
        b"HYLL\x02" + _HEADER_SPARSE[5:] + b"\x7f\xff",    # unknown encoding
        b"HYLX" + _HEADER_SPARSE[4:] + b"\x7f\xff",        # bad magic
        _HEADER_DENSE + b"\x00" * 100,                     # short dense
        b"HYLL\x01\x00\x00\x00\x05" + b"\x00" * 7 + b"garbage",  # valid cache over garbage
        _dense(gen, 63),
        _dense(gen, 20),
    ]
    return Op([b"SET", gen.key(), rnd.choice(values)])


def g_corrupt(gen):
    """SETRANGE / APPEND a byte or two into whatever the key holds."""
    rnd = gen.rnd
    if gen.chance(0.3):
        return Op([b"APPEND", gen.key(), bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3)))])
    offset = rnd.choice([0, 4, 5, 15, 16, 17, 18, 20, 40, rnd.randint(0, 3000)])
    return Op([b"SETRANGE", gen.key(), str(offset).encode(),
               bytes(rnd.choice([0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xac, 0xff, rnd.getrandbits(8)])
                     for _ in range(rnd.randint(1, 2)))])


def g_wrong_arity(gen):
    return Op([gen.tok(gen.rnd.choice([b"PFADD", b"PFCOUNT", b"PFMERGE", b"PFDEBUG"]))] + gen.keys(0, 1))


Op = None


def generators(gen):
    global Op
    import differential
    Op = differential.Op
    return [
        (14, lambda: g_pfadd(gen)), (8, lambda: g_pfcount(gen)), (5, lambda: g_pfmerge(gen)),
        (4, lambda: g_pfdebug(gen)), (0.05, lambda: g_pfselftest(gen)),
        (0.5, lambda: g_sparse_limit(gen)), (2, lambda: g_crafted(gen)), (3, lambda: g_corrupt(gen)),
        (1, lambda: g_wrong_arity(gen)),
    ]
