#!/usr/bin/env python3
"""Differential tester: send the same random command stream to Apus and to redis-server
and compare the replies byte for byte.

    python3 compat/differential.py --apus 127.0.0.1:7000 --redis 127.0.0.1:6379 \
        --ops 100000 --seed 1 --resp 2 [--with-collections] [--log ops.log]

The stream is a pure function of --seed (and --resp / --with-collections): random
commands over a small key space (so keys collide and, with --with-collections, types
clash), malformed calls (wrong arity, bad integers/floats, bad options, unknown commands and
subcommands, out-of-range offsets), binary values, several databases, inline commands,
pipelined batches, and a few connection-level scenarios (QUIT, RESET, CLIENT REPLY,
protocol errors) on side connections.

Every reply is compared byte for byte unless the command is listed in COMPARATORS below
with a documented reason (nondeterministic output, time-dependent values, or a
documented 7.0 -> 7.2 difference: the oracle is Debian's redis-server 7.0.15 while Apus
implements 7.2).  The allowlist is ALLOWLIST below; `--list-allowlist` prints it.

Exit status: 0 when there is no mismatch, 1 on mismatches, 2 on a harness/connection error.
"""

import argparse
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from resp import (  # noqa: E402
    Conn, ConnectionClosed, ProtocolError, encode_command, parse_hostport, parse_reply,
)

# ---------------------------------------------------------------------------------------
# Allowlist: every place where replies are NOT compared byte for byte, and why.
# ---------------------------------------------------------------------------------------

ALLOWLIST = {
    "lex_mixed_scores": "ZRANGEBYLEX/ZREVRANGEBYLEX/ZLEXCOUNT/ZREMRANGEBYLEX/ZRANGE BYLEX on a "
                        "sorted set with different scores are not sent: Redis documents the "
                        "result as unspecified (its skiplist answer depends on random levels)",
    "v72_rank": "ZRANK/ZREVRANK with a 4th argument: 7.2's WITHSCORE (syntax error for any "
                "other word) where the 7.0 oracle replies wrong number of arguments",
    "pairs": "HGETALL of a hashtable-encoded hash: table order differs; pairs compared as a "
             "multiset",
    "srandmember": "SRANDMEMBER/ZRANDMEMBER/HRANDFIELD pick random members: same reply type and length, "
                   "distinct members for a positive count",
    "sscan": "SSCAN/ZSCAN/HSCAN pages: cursors are implementation-defined; complete pages "
             "(cursor 0 on both) are compared as multisets",
    "v72_listpack": "OBJECT ENCODING of a small set of non-integers or a small list: Redis 7.2 "
                    "says listpack (set-max-listpack-*, list-max-listpack-size), the 7.0 oracle "
                    "hashtable / quicklist; accepted only after TYPE confirms the key is a set / "
                    "list on both servers",
    "ttl": "TTL/PTTL/EXPIRETIME/PEXPIRETIME of relative expires: the two servers receive the "
           "command a few microseconds apart and TTL rounds to seconds; integers compared "
           "within a tolerance (1 s / 1500 ms), negative results (-1/-2) exactly.",
    "sorted": "KEYS, COMMAND LIST, SMEMBERS/SINTER/SUNION/SDIFF and HKEYS/HVALS order follow each server's hash table (randomized hash "
              "seed): compared as sorted multisets.",
    "scan": "SCAN cursors are implementation-defined: each server is scanned to completion "
            "and the sets of returned keys are compared (errors compared exactly).",
    "scan_page": "A single valid SCAN call (produced by mutation): only the reply shape "
                 "(cursor + array) is compared.",
    "randomkey": "RANDOMKEY picks a random key: only nil-vs-key is compared.",
    "any_int": "OBJECT IDLETIME/FREQ, CLIENT ID, COMMAND COUNT: value is clock-, random- or "
               "version-dependent (7.0 has 240 commands, 7.2 more); only the reply type is "
               "compared (errors exactly).",
    "type_only": "TIME, LOLWUT (prints the server version and random art), DEBUG HELP (lists "
                 "debug-only internals), COMMAND HELP/DOCS without arguments: only the reply "
                 "type is compared (errors exactly).",
    "hello": "HELLO: 'version' (7.0.15 vs 7.2.x) and 'id' differ by design; the other "
             "fields and their order are compared.",
    "help": "HELP replies: 7.2 prints 'Print this help.' where 7.0 prints 'Prints this help.' "
            "and CLIENT HELP lists the 7.2-only SETINFO and NO-TOUCH; those lines are "
            "normalized/ignored, everything else compared.",
    "config_map": "CONFIG GET: Redis answers in dict order, so pairs are compared as a map.",
    "config_all": "CONFIG GET *: compared as a map, ignoring parameters that exist only in 7.2 "
                  "(set-max-listpack-*, locale-collate, cluster-announce-human-nodename) and "
                  "per-instance ones (port, dir, pidfile, logfile, ...), implementation-"
                  "specific ones listed in CONFIG_IGNORE, and Apus's own db-maxmemory.",
    "command_info": "COMMAND INFO: name, arity, flags (as a set), first/last/step, ACL "
                    "categories (as a set), key specs and subcommand names are compared; "
                    "command tips differ between 7.0 and 7.2 (e.g. RANDOMKEY, SCAN, MSETNX) "
                    "and are ignored; 7.2-only subcommands (client|setinfo, client|no-touch, "
                    "cluster|myshardid) are ignored; the arity of command|getkeys[andflags] "
                    "(-4 -> -3), zrank, zrevrank, sentinel|config and the flags of the blocking "
                    "commands, wait and cluster|shards/slots changed in 7.2 and are not compared.",
    "command_docs": "COMMAND DOCS: summaries were rewritten and deprecation doc flags added in "
                    "7.2; only the documented command names, 'group' and 'since' are compared.",
    "command_list": "COMMAND LIST: compared as sets, ignoring 7.2-only commands (waitaof, "
                    "client|setinfo, client|no-touch, cluster|myshardid).",
    "scope": "COMMAND, COMMAND INFO/DOCS/LIST and the HELP of container commands are compared "
             "on the commands of this issue (SCOPE) unless --full-command-table: Apus lists "
             "only the commands it implements; every in-scope name must still be present on "
             "both sides.  GETKEYS and INFO/DOCS arguments are drawn from in-scope commands.",
    "getkeys72": "COMMAND GETKEYS/GETKEYSANDFLAGS with one argument: arity is -4 in 7.0 and -3 "
                 "in 7.2, so 7.0 answers a wrong-arity error where 7.2 answers one of its "
                 "getkeys errors ('Invalid command specified', 'The command has no key "
                 "arguments', 'Invalid number of arguments specified for command') or *0.",
    "client_fields": "CLIENT INFO/LIST: ids, addresses, ages, buffer sizes differ; for our own "
                     "connection name, db, resp, cmd, user, multi, sub, psub, flags, redir are "
                     "compared and id/addr/laddr/fd/age/idle must be present (7.2 adds "
                     "lib-name/lib-ver).",
    "info": "INFO: server-specific numbers; the db lines of '# Keyspace' are compared on their "
            "keys= and expires= fields (avg_ttl is a sampled estimate).",
    "debug_object": "DEBUG OBJECT: address and LRU clock differ; refcount, encoding and "
                    "serializedlength are compared.",
    "v72": "CLIENT SETINFO and CLIENT NO-TOUCH are 7.2-only: when the oracle (7.0) answers "
           "'unknown subcommand', Apus must answer exactly what 7.2 answers (computed by the "
           "generator from 7.2's networking.c rules).",
    "doubles": "RESP3 doubles (',') are compared numerically: 7.0 prints %.17g, 7.2 the "
               "shortest round-trip form.",
}

# ---------------------------------------------------------------------------------------
# Data pools.
# ---------------------------------------------------------------------------------------

KEYS = [b"k0", b"k1", b"k2", b"k3", b"k4", b"k5", b"{t}a", b"{t}b", b"k:0", b"k:1",
        b"bin\x00\xffkey", b"", b"sp ace", b"\xe2\x82\xac"]
INLINE_SAFE_KEYS = [k for k in KEYS if k and b" " not in k]
NUM_DBS = 4  # databases used routinely (SELECT 15 and invalid indexes appear too)

INT_STRINGS = [b"0", b"1", b"-1", b"2", b"10", b"42", b"100", b"9999", b"10000", b"-10000",
               b"123456789", b"4294967295", b"4294967296", b"2147483647", b"-2147483648",
               b"9223372036854775807", b"-9223372036854775808", b"9223372036854775806",
               b"-9223372036854775807"]
NON_INT_STRINGS = [b"", b"abc", b"1.5", b" 1", b"1 ", b"+1", b"-0", b"007", b"0x10",
                   b"9223372036854775808", b"-9223372036854775809",
                   b"99999999999999999999", b"1e3", b"--1", b"\x00", b"12abc", b"-"]
FLOAT_STRINGS = [b"0", b"1.5", b"-1.5", b"0.1", b"3.0e3", b"1e10", b"-1e-5", b".5", b"5.",
                 b"1e308", b"-1e308", b"1e4000", b"1.7976931348623157e308", b"inf", b"-inf",
                 b"+inf", b"nan", b"  1.0", b"1.0 ", b"0x1p3", b"1e", b"abc", b"",
                 b"3.14159265358979323846", b"-0.0", b"5.0000000000000001", b"1e-320",
                 b"123456789012345678", b"0.30000000000000004"]
BAD_TOKENS = [b"abc", b"-1", b"", b"1.5", b"99999999999999999999", b"0", b"NX", b"\x00"]
GLOB_PATTERNS = [b"*", b"k*", b"k?", b"k[0-3]", b"k[^0-3]", b"*:*", b"{t}*", b"\\{t\\}*",
                 b"[", b"k[", b"*[", b"[a-", b"k\\", b"?", b"??", b"*a*", b"bin*",
                 b"*\x00*", b"k[!0]", b"k[3-1]", b"[k]*", b"*\\*", b"", b"k0", b"K0",
                 b"sp*", b"\xe2*", b"*[0-9]", b"[\\]]*", b"k:[01]"]
ENCODED_TYPES = [b"i1", b"i8", b"u8", b"i16", b"u16", b"i32", b"u32", b"i63", b"u63",
                 b"i64", b"u1", b"i7", b"u5"]
BAD_TYPES = [b"u64", b"i65", b"i0", b"u0", b"x8", b"i", b"8", b"I8x", b"", b"i-1"]

# Configuration parameters whose values may be changed freely (no effect on determinism).
SAFE_CONFIG_SET = {
    b"hz": [b"10", b"20", b"1", b"500", b"0", b"501", b"abc", b"-1"],
    b"slowlog-max-len": [b"128", b"0", b"10", b"-1", b"abc"],
    b"lfu-log-factor": [b"10", b"0", b"5", b"-1"],
    b"lfu-decay-time": [b"1", b"0", b"10"],
    b"maxmemory-policy": [b"noeviction", b"allkeys-lru", b"allkeys-lfu", b"volatile-lfu",
                          b"volatile-ttl", b"allkeys-random", b"NOEVICTION", b"bogus", b""],
    b"notify-keyspace-events": [b"", b"KEA", b"Kx", b"zq", b"E"],
    b"maxmemory-samples": [b"5", b"10", b"0", b"65"],
    b"timeout": [b"0", b"-1", b"abc"],
    b"hash-max-listpack-entries": [b"128", b"2", b"0"],
    b"set-max-intset-entries": [b"512", b"2"],
    b"list-max-listpack-size": [b"-2", b"4", b"-6"],
    b"zset-max-listpack-entries": [b"128", b"1"],
    b"proto-max-bulk-len": [b"abc", b"1"],  # invalid: too small (min 1mb) / not a number
    b"daemonize": [b"yes"],  # immutable
    b"databases": [b"32"],  # immutable
    b"nonexistent-param": [b"1"],
    b"lazyfree-lazy-user-del": [b"yes", b"no", b"maybe"],
    b"active-expire-effort": [b"1", b"10", b"11", b"0"],
}
# Defaults restored on both servers at start-up and after each resync, so that runs do not
# depend on what earlier runs left behind (CONFIG SET is part of the random stream).
CONFIG_DEFAULTS = [
    (b"hz", b"10"), (b"slowlog-max-len", b"128"), (b"lfu-log-factor", b"10"),
    (b"lfu-decay-time", b"1"), (b"maxmemory-policy", b"noeviction"),
    (b"notify-keyspace-events", b""), (b"maxmemory-samples", b"5"), (b"timeout", b"0"),
    (b"hash-max-listpack-entries", b"128"), (b"set-max-intset-entries", b"512"),
    (b"list-max-listpack-size", b"-2"), (b"zset-max-listpack-entries", b"128"),
    (b"lazyfree-lazy-user-del", b"no"), (b"active-expire-effort", b"1"),
    (b"slowlog-log-slower-than", b"10000000"),
]
CONFIG_GET_NAMES = [b"maxmemory", b"maxmemory-policy", b"hz", b"timeout", b"databases",
                    b"slowlog-log-slower-than", b"slowlog-max-len", b"lfu-log-factor",
                    b"lfu-decay-time", b"notify-keyspace-events", b"appendonly", b"save",
                    b"hash-max-listpack-entries", b"list-max-listpack-size",
                    b"proto-max-bulk-len", b"maxclients", b"maxmemory-samples",
                    b"set-max-intset-entries", b"active-expire-effort", b"nonexistent",
                    b"MAXMEMORY", b"lazyfree-lazy-user-del", b"zset-max-listpack-entries",
                    b"hash-max-ziplist-entries", b"slave-read-only", b"replica-read-only"]
CONFIG_GET_PATTERNS = [b"maxmemory*", b"hash-max-*", b"*lfu*", b"slowlog*", b"lazyfree*",
                       b"no-such-*", b"?z", b"list-*", b"*max-ziplist*", b"zset-max-*"]
# Parameters ignored by CONFIG GET * comparison.
CONFIG_7_2_ONLY = {b"set-max-listpack-entries", b"set-max-listpack-value", b"locale-collate",
                   b"cluster-announce-human-nodename",
                   b"aof-disable-auto-gc"}  # hidden from CONFIG GET * since 7.2
# Apus's own parameters (per-database quotas), absent from Redis.
CONFIG_APUS_ONLY = {b"db-maxmemory"}
CONFIG_INSTANCE = {b"port", b"dir", b"pidfile", b"logfile", b"daemonize", b"dbfilename",
                   b"unixsocket", b"bind", b"enable-debug-command", b"supervised",
                   b"appenddirname", b"appendfilename", b"io-threads", b"io-threads-do-reads",
                   b"server_cpulist", b"bio_cpulist", b"aof_rewrite_cpulist",
                   b"bgsave_cpulist", b"set-proc-title", b"proc-title-template",
                   b"always-show-logo", b"syslog-enabled", b"syslog-ident", b"syslog-facility",
                   b"oom-score-adj", b"oom-score-adj-values", b"disable-thp",
                   b"jemalloc-bg-thread", b"hz", b"maxclients", b"tcp-backlog",
                   b"client-query-buffer-limit", b"logfile"}

# The command surface of this issue (full names, lowercase).  Apus registers only the commands
# it implements, so by default COMMAND / COMMAND INFO / DOCS / LIST / HELP replies are compared
# on this set only (every name here must be present on both sides); --full-command-table
# compares the whole table.
SCOPE = set(n.encode() for n in """
append decr decrby get getdel getex getrange getset incr incrby incrbyfloat lcs mget mset
msetnx psetex set setex setnx setrange strlen substr
bitcount bitfield bitfield_ro bitop bitpos getbit setbit
copy del exists expire expireat expiretime keys move object object|encoding object|freq
object|idletime object|refcount object|help persist pexpire pexpireat pexpiretime pttl
randomkey rename renamenx scan touch ttl type unlink
auth client client|id client|getname client|setname client|setinfo client|info client|list
client|kill client|no-evict client|no-touch client|reply client|help echo hello ping quit
reset select
command command|count command|docs command|getkeys command|getkeysandflags command|info
command|list command|help config config|get config|set config|resetstat config|rewrite
config|help dbsize flushall flushdb swapdb time lolwut debug slowlog slowlog|get slowlog|len
slowlog|reset slowlog|help info
""".split())
FULL_TABLE = False  # set by --full-command-table

# Command families plug in from compat/families/<family>.py (one file per family, like the
# server's sources): each module defines SCOPE (a whitespace-separated string of full command
# names, lowercase), optionally INTROSPECTED (names COMMAND INFO/DOCS may query) and
# `generators(gen)` returning [(weight, bound_function)] whose functions build `Op`s with the
# Generator's helpers (gen.key(), gen.value(), gen.tok(), gen.rnd, ...).  They are imported
# lazily by `load_families()` so they can import this module.
FAMILY_MODULES = []


def load_families():
    import importlib
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "families")
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".py") and not name.startswith("_"):
            module = importlib.import_module("families." + name[:-3])
            FAMILY_MODULES.append(module)
            SCOPE.update(n.encode() for n in module.SCOPE.split())
            for n in getattr(module, "INTROSPECTED", "").split():
                if n.encode() not in INTROSPECTED:
                    INTROSPECTED.append(n.encode())


def in_scope(name):
    return FULL_TABLE or name.lower() in SCOPE


# Command metadata that changed between 7.0.15 and 7.2 (diff of src/commands/*.json).
SPEC_ARITY_7_2 = {b"command|getkeys", b"command|getkeysandflags", b"zrank", b"zrevrank",
                  b"sentinel|config"}
SPEC_FLAGS_7_2 = {b"blmove", b"blpop", b"brpop", b"brpoplpush", b"bzpopmax", b"bzpopmin",
                  b"cluster|shards", b"cluster|slots", b"wait"}

COMMANDS_7_2_ONLY = {b"waitaof", b"client|setinfo", b"client|no-touch", b"cluster|myshardid"}
# Commands (with their subcommands) that exist in both versions and may be queried by
# COMMAND INFO / DOCS / GETKEYS.
INTROSPECTED = [b"get", b"set", b"getex", b"mset", b"msetnx", b"lcs", b"bitfield",
                b"bitfield_ro", b"bitop", b"setbit", b"copy", b"del", b"expire", b"object",
                b"object|encoding", b"client", b"client|kill", b"config", b"config|get",
                b"command", b"ping", b"select", b"swapdb", b"scan", b"keys", b"rename",
                b"sort", b"lpush", b"zadd", b"xadd", b"eval", b"georadius", b"migrate",
                b"nosuchcmd", b"GET", b"Object|Freq", b"debug", b"info", b"substr",
                b"getset", b"incrbyfloat", b"getdel", b"move", b"unlink", b"touch",
                b"hello", b"auth", b"reset", b"lolwut", b"slowlog", b"slowlog|get",
                b"randomkey", b"setrange", b"bitpos"]
GETKEYS_CALLS = [
    [b"SET", b"a", b"b"], [b"GET", b"a"], [b"MSET", b"a", b"1", b"b", b"2"],
    [b"MSET", b"a", b"1", b"b"], [b"MGET", b"a", b"b", b"c"], [b"PING"], [b"GET"],
    [b"NOSUCH", b"a"], [b"LCS", b"a", b"b"], [b"BITOP", b"AND", b"d", b"s1", b"s2"],
    [b"COPY", b"a", b"b"], [b"EVAL", b"return 1", b"0"], [b"EVAL", b"return 1", b"2",
                                                              b"x", b"y"],
    [b"EVAL", b"return 1", b"5", b"x"], [b"SORT", b"k", b"STORE", b"d"],
    [b"OBJECT", b"ENCODING", b"k"], [b"DEL", b"a", b"b", b"c"], [b"RENAME", b"a"],
    [b"ZUNIONSTORE", b"d", b"2", b"a", b"b"], [b"ZUNIONSTORE", b"d", b"-1", b"a"],
    [b"XREAD", b"STREAMS", b"s1", b"s2", b"0", b"0"], [b"MIGRATE", b"h", b"1", b"", b"0",
                                                        b"5", b"KEYS", b"a", b"b"],
    [b"SET"], [b"GETEX", b"k", b"PERSIST"], [b"SWAPDB", b"0", b"1"], [b"TOUCH", b"a"],
    [b"BITFIELD_RO", b"k", b"GET", b"u8", b"0"], [b"CLIENT", b"LIST"],
    [b"CONFIG", b"GET", b"x"], [b"georadius", b"k", b"1", b"2", b"3", b"m", b"STORE", b"d"],
]


def lex_range_key(args):
    """The sorted set a lex-range command reads (ZRANGEBYLEX, ZREVRANGEBYLEX, ZLEXCOUNT,
    ZREMRANGEBYLEX, ZRANGE/ZRANGESTORE ... BYLEX), else None."""
    if len(args) < 2:
        return None
    name = args[0].upper()
    if name in (b"ZRANGEBYLEX", b"ZREVRANGEBYLEX", b"ZLEXCOUNT", b"ZREMRANGEBYLEX"):
        return args[1]
    if name == b"ZRANGE" and any(a.upper() == b"BYLEX" for a in args[2:]):
        return args[1]
    if name == b"ZRANGESTORE" and len(args) > 2 and any(a.upper() == b"BYLEX" for a in args[3:]):
        return args[2]
    return None


def classify(args):
    """The comparator for a command, derived from its arguments (so that mutated or
    hand-written variants of nondeterministic commands are compared the right way)."""
    name = args[0].upper() if args else b""
    sub = args[1].upper() if len(args) > 1 else None
    if name in (b"SORT", b"SORT_RO"):
        # The sort family knows which SORT forms have an order Redis leaves to its hash
        # tables (BY nosort / ALPHA BY on sets and sorted sets).
        from families.sort import comparator
        return comparator(args)
    if name == b"RANDOMKEY":
        return "randomkey"
    if name in (b"SMEMBERS", b"SINTER", b"SUNION", b"SDIFF"):
        return "sorted"
    if name == b"SPOP":
        return "spop"
    if name == b"SRANDMEMBER":
        return "srandmember"
    if name in (b"HKEYS", b"HVALS"):
        return "sorted"
    if name == b"HGETALL":
        return "pairs"
    if name == b"HRANDFIELD":
        return "srandmember"
    if name in (b"SSCAN", b"ZSCAN", b"HSCAN"):
        return "sscan"
    if name == b"ZRANDMEMBER":
        return "srandmember"
    if name in (b"ZRANK", b"ZREVRANK") and len(args) == 4:
        return "v72_rank"
    if name == b"KEYS":
        return "sorted"
    if name == b"SCAN":
        return "scan_page"
    if name in (b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"):
        return "ttl"
    if name in (b"TIME", b"LOLWUT"):
        return "type_only"
    if name == b"INFO":
        return "info"
    if name == b"HELLO":
        return "hello"
    if sub == b"HELP" and name in (b"OBJECT", b"CLIENT", b"COMMAND", b"CONFIG", b"SLOWLOG"):
        return "help"
    if name == b"OBJECT" and sub in (b"IDLETIME", b"FREQ"):
        return "any_int"
    if name == b"CLIENT":
        if sub == b"ID":
            return "any_int"
        if sub in (b"INFO", b"LIST"):
            return "client_fields"
    if name == b"COMMAND":
        if sub is None or sub == b"INFO":
            return "command_info"
        if sub == b"DOCS":
            return "command_docs"
        if sub == b"COUNT":
            return "any_int"
        if sub == b"LIST":
            return "command_list"
        if sub in (b"GETKEYS", b"GETKEYSANDFLAGS") and len(args) == 3:
            return "getkeys72"
    if name == b"CONFIG" and sub == b"GET":
        return "config_all" if any(a == b"*" for a in args[2:]) else "config_map"
    if name == b"DEBUG":
        if sub == b"HELP":
            return "type_only"
        if sub == b"OBJECT":
            return "debug_object"
    return "exact"


def randcase(rnd, tok):
    """Random capitalization of an ASCII token (commands and options are case-insensitive)."""
    r = rnd.random()
    if r < 0.6:
        return tok.upper()
    if r < 0.8:
        return tok.lower()
    return bytes(c ^ 0x20 if (65 <= (c & 0xDF) <= 90 and rnd.random() < 0.5) else c
                 for c in tok)


class Op:
    """One command (or special scenario) with how its replies are compared."""

    __slots__ = ("args", "cmp", "special", "extra", "inline", "state")

    def __init__(self, args, cmp="exact", special=None, extra=None, state=None):
        self.args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.cmp = cmp
        self.special = special
        self.extra = extra
        self.inline = False
        # Generator state change applied once the op is issued: ('db', n) / ('proto', n) ...
        self.state = state


# ---------------------------------------------------------------------------------------
# The generator: a deterministic function of the seed.
# ---------------------------------------------------------------------------------------

class Generator:
    def __init__(self, seed, resp, with_collections):
        self.rnd = random.Random(seed)
        self.resp = resp
        self.with_collections = with_collections
        self.db = 0
        self.pending = []  # follow-up ops to issue next
        table = [
            # strings
            (60, self.g_set), (25, self.g_get), (8, self.g_getdel), (12, self.g_getex),
            (8, self.g_getrange), (8, self.g_getset), (12, self.g_append), (8, self.g_strlen),
            (10, self.g_setrange), (6, self.g_setnx), (6, self.g_setex), (6, self.g_psetex),
            (10, self.g_mset), (6, self.g_msetnx), (10, self.g_mget), (20, self.g_incr),
            (12, self.g_incrbyfloat), (4, self.g_lcs),
            # bitmaps
            (12, self.g_setbit), (8, self.g_getbit), (10, self.g_bitcount), (10, self.g_bitpos),
            (8, self.g_bitop), (14, self.g_bitfield),
            # keys
            (8, self.g_copy), (10, self.g_del), (8, self.g_exists), (20, self.g_expire),
            (12, self.g_ttl), (6, self.g_persist), (5, self.g_keys), (6, self.g_move),
            (10, self.g_object), (2, self.g_randomkey), (8, self.g_rename), (4, self.g_scan),
            (4, self.g_touch), (8, self.g_type),
            # connection
            (2, self.g_auth), (6, self.g_client), (4, self.g_echo_ping), (2, self.g_hello),
            (0.3, self.g_quit), (0.3, self.g_reset), (8, self.g_select),
            # server
            (2, self.g_command), (3, self.g_config), (4, self.g_dbsize), (0.15, self.g_flush),
            (1, self.g_swapdb), (0.5, self.g_time_lolwut), (3, self.g_debug),
            (1, self.g_slowlog), (1, self.g_info),
            # malformed
            (6, self.g_unknown), (0.2, self.g_protocol_error), (1, self.g_client_reply),
        ]
        if with_collections:
            table.append((20, self.g_collection))
        for module in FAMILY_MODULES:
            table.extend(module.generators(self))
        self.table = table
        self.total = sum(w for w, _ in table)
        self.cum = []
        acc = 0.0
        for w, f in table:
            acc += w
            self.cum.append((acc, f))

    # --- small helpers ---------------------------------------------------------------
    def tok(self, t):
        return randcase(self.rnd, t)

    def chance(self, p):
        return self.rnd.random() < p

    def key(self):
        return self.rnd.choice(KEYS)

    def keys(self, lo=1, hi=4):
        return [self.key() for _ in range(self.rnd.randint(lo, hi))]

    def value(self):
        r = self.rnd.random()
        rnd = self.rnd
        if r < 0.25:
            return rnd.choice(INT_STRINGS)
        if r < 0.35:
            return str(rnd.randint(-20000, 20000)).encode()
        if r < 0.40:
            return rnd.choice(FLOAT_STRINGS)
        if r < 0.43:
            return rnd.choice(NON_INT_STRINGS)
        if r < 0.70:
            n = rnd.choice([0, 1, 3, 5, 8, 20, 39, 43, 44, 45, 46, 50, rnd.randint(0, 60)])
            return bytes(rnd.choice(b"abcxyzABC0123456789-_:") for _ in range(n))
        if r < 0.88:
            n = rnd.randint(0, 64)
            return bytes(rnd.getrandbits(8) for _ in range(n))
        if r < 0.95:
            n = rnd.randint(45, 300)
            return bytes(rnd.choice(b"abcdefgh\x00\xff\r\n ") for _ in range(n))
        return rnd.choice([b"", b"\x00", b"\r\n", b"OK", b"-ERR x", b"$3", b"*1", b"\xff" * 8,
                           b"\x00\x01\x02", b"hello world"])

    def small_int(self, lo=-50, hi=200):
        return str(self.rnd.randint(lo, hi)).encode()

    def int_arg(self, good=None, bad_p=0.08):
        """An integer argument: mostly `good()` (or a small int), sometimes garbage."""
        if self.chance(bad_p):
            return self.rnd.choice(NON_INT_STRINGS + BAD_TOKENS)
        if good is not None:
            return good()
        return self.small_int()

    def rel_seconds(self):
        """Relative expire in seconds: long enough never to lapse during a run, or an
        invalid/immediately-expiring value."""
        r = self.rnd.random()
        if r < 0.75:
            return str(self.rnd.randint(10000, 10000000)).encode()
        if r < 0.82:
            return self.rnd.choice([b"0", b"-1", b"-100"])
        if r < 0.9:
            return self.rnd.choice([b"9223372036854775807", b"9223372036854775",
                                    b"9223372036854774", b"-9223372036854775808",
                                    b"92233720368547758", b"4611686018427387"])
        return self.rnd.choice(NON_INT_STRINGS)

    def rel_millis(self):
        r = self.rnd.random()
        if r < 0.75:
            return str(self.rnd.randint(10000000, 10000000000)).encode()
        if r < 0.82:
            return self.rnd.choice([b"0", b"-1", b"-100000"])
        if r < 0.9:
            return self.rnd.choice([b"9223372036854775807", b"9223372036854775806",
                                    b"-9223372036854775808", b"9223372036854000000"])
        return self.rnd.choice(NON_INT_STRINGS)

    def abs_seconds(self):
        r = self.rnd.random()
        if r < 0.6:  # 2100-01-01 plus up to ~11 days
            return str(4102444800 + self.rnd.randint(0, 1000000)).encode()
        if r < 0.8:  # in the past: expires immediately
            return self.rnd.choice([b"1", b"1000000000", b"1500000000", b"0", b"-1"])
        if r < 0.9:
            return self.rnd.choice([b"9223372036854775807", b"9223372036854775",
                                    b"99999999999"])
        return self.rnd.choice(NON_INT_STRINGS)

    def abs_millis(self):
        r = self.rnd.random()
        if r < 0.6:
            return str(4102444800000 + self.rnd.randint(0, 1000000000)).encode()
        if r < 0.8:
            return self.rnd.choice([b"1", b"1000000000000", b"0", b"-1", b"1600000000000"])
        if r < 0.9:
            return self.rnd.choice([b"9223372036854775807", b"99999999999999"])
        return self.rnd.choice(NON_INT_STRINGS)

    def expire_option(self):
        """One of EX/PX/EXAT/PXAT with a value."""
        kind = self.rnd.choice([b"EX", b"PX", b"EXAT", b"PXAT"])
        val = {b"EX": self.rel_seconds, b"PX": self.rel_millis, b"EXAT": self.abs_seconds,
               b"PXAT": self.abs_millis}[kind]()
        return [self.tok(kind), val]

    def db_index(self):
        r = self.rnd.random()
        if r < 0.85:
            return str(self.rnd.randrange(NUM_DBS)).encode()
        if r < 0.9:
            return b"15"
        return self.rnd.choice([b"16", b"-1", b"abc", b"", b"1.0", b"99999999999999999999",
                                b"2147483648"])

    def bit_offset(self, write):
        r = self.rnd.random()
        if r < 0.8:
            return str(self.rnd.randint(0, 2000 if self.chance(0.8) else 16000)).encode()
        if r < 0.9 and not write:
            return self.rnd.choice([b"4294967295", b"4294967294", b"100000000", b"536870911"])
        return self.rnd.choice([b"-1", b"4294967296", b"abc", b"", b"1.5",
                                b"99999999999999999999", b"-9223372036854775808"])

    def pick(self):
        x = self.rnd.random() * self.total
        for acc, f in self.cum:
            if x < acc:
                return f
        return self.cum[-1][1]

    # --- op production ------------------------------------------------------------------
    def next_ops(self):
        """A list of ops: a single op, or a pipelined batch of simple ops."""
        if self.chance(0.08):
            batch = []
            n = self.rnd.randint(2, 30)
            while len(batch) < n:
                op = self._one()
                if op.special is not None:
                    continue
                batch.append(op)
            return batch
        return [self._one()]

    def _one(self):
        if self.pending:
            return self.pending.pop(0)
        op = self.pick()()
        if op.special is None and len(op.args) == 3 and op.args[0].upper() == b"OBJECT" \
                and op.args[1].upper() == b"ENCODING":
            op.special = "encoding"
        if op.special is None and lex_range_key(op.args) is not None:
            op.special = "lex"
        if op.special is None and op.cmp != "v72":
            op.cmp = classify(op.args)
            if op.cmp == "ttl":
                op.extra = 1 if op.args[0].upper() in (b"TTL", b"EXPIRETIME") else 1500
        if op.special is None and not op.args[0].upper() in (b"DEBUG", b"CLIENT", b"CONFIG",
                                                              b"HELLO", b"SELECT"):
            if self.chance(0.04):
                self.mutate(op)
            if self.chance(0.03):
                self.make_inline(op)
        a = op.args
        if op.special is None and a and a[0].upper() == b"SET" and len(a) > 2 and any(
                a[i].upper() in (b"EXAT", b"PXAT") and self.is_past(a[i + 1])
                for i in range(3, len(a) - 1)):
            # Redis 7.0 stores a key SET with a timestamp in the past and lets the expire
            # cycle reclaim it later: until then it still counts in DBSIZE / INFO keyspace /
            # DEBUG DIGEST at a nondeterministic time.  Touch it at once so both servers
            # drop it now.
            self.pending.append(Op([b"EXISTS", a[1]]))
        return op

    def mutate(self, op):
        """Malformed variant: drop the last argument, add an extra one, or replace one
        argument with garbage."""
        r = self.rnd.random()
        if r < 0.35 and len(op.args) > 1:
            op.args = op.args[:-1]
        elif r < 0.7:
            op.args = op.args + [self.rnd.choice(BAD_TOKENS + [b"x", b"EX", b"10"])]
        elif len(op.args) > 1:
            i = self.rnd.randrange(1, len(op.args))
            op.args = list(op.args)
            op.args[i] = self.rnd.choice(BAD_TOKENS)
        op.state = None
        if op.cmp not in ("v72",):
            op.cmp = classify(op.args)
            if op.cmp == "ttl":
                op.extra = 1 if op.args[0].upper() in (b"TTL", b"EXPIRETIME") else 1500

    def make_inline(self, op):
        if all(0 < len(a) < 200 for a in op.args[:1]):
            op.inline = True

    # --- strings ------------------------------------------------------------------------
    def g_set(self):
        args = [self.tok(b"SET"), self.key(), self.value()]
        opts = []
        n = self.rnd.choice([0, 0, 1, 1, 1, 2, 2, 3])
        for _ in range(n):
            r = self.rnd.random()
            if r < 0.45:
                opts.append(self.expire_option())
            elif r < 0.6:
                opts.append([self.tok(b"NX")])
            elif r < 0.75:
                opts.append([self.tok(b"XX")])
            elif r < 0.85:
                opts.append([self.tok(b"KEEPTTL")])
            elif r < 0.97:
                opts.append([self.tok(b"GET")])
            else:
                opts.append([self.rnd.choice([b"EXX", b"PERSIST", b"EX", b"NXX", b"get1"])])
        for o in opts:
            args += o
        return Op(args)

    @staticmethod
    def is_past(v):
        try:
            return int(v) < 4000000000000 and int(v) > 0
        except ValueError:
            return False

    def g_get(self):
        return Op([self.tok(b"GET"), self.key()])

    def g_getdel(self):
        return Op([self.tok(b"GETDEL"), self.key()])

    def g_getex(self):
        args = [self.tok(b"GETEX"), self.key()]
        r = self.rnd.random()
        if r < 0.55:
            args += self.expire_option()
        elif r < 0.75:
            args.append(self.tok(b"PERSIST"))
        elif r < 0.85:
            args += self.expire_option() + [self.tok(b"PERSIST")]
        elif r < 0.9:
            args += self.expire_option() + self.expire_option()
        elif r < 0.95:
            args.append(self.rnd.choice([b"KEEPTTL", b"NX", b"EX", b"bogus"]))
        return Op(args)

    def range_int(self):
        r = self.rnd.random()
        if r < 0.7:
            return str(self.rnd.randint(-70, 70)).encode()
        if r < 0.9:
            return self.rnd.choice([b"9223372036854775807", b"-9223372036854775808",
                                    b"2147483648", b"-2147483649", b"1000000", b"-1000000"])
        return self.rnd.choice(NON_INT_STRINGS)

    def g_getrange(self):
        name = self.tok(self.rnd.choice([b"GETRANGE", b"GETRANGE", b"SUBSTR"]))
        return Op([name, self.key(), self.range_int(), self.range_int()])

    def g_getset(self):
        return Op([self.tok(b"GETSET"), self.key(), self.value()])

    def g_append(self):
        return Op([self.tok(b"APPEND"), self.key(), self.value()[:40]])

    def g_strlen(self):
        return Op([self.tok(b"STRLEN"), self.key()])

    def g_setrange(self):
        r = self.rnd.random()
        v = self.value()[:50]
        if r < 0.85:
            off = str(self.rnd.randint(0, 100 if self.chance(0.7) else 2000)).encode()
        elif r < 0.93:
            off = self.rnd.choice([b"-1", b"abc", b"", b"9223372036854775807", b"1.5"])
        else:
            off = self.rnd.choice([b"536870912", b"536870911", b"536870900"])
            v = self.rnd.choice([b"", b"ab" * 10, b"xyz"]) if off != b"536870900" else b""
            if off == b"536870911" and len(v) < 2:
                v = b"ab"
        return Op([self.tok(b"SETRANGE"), self.key(), off, v])

    def g_setnx(self):
        return Op([self.tok(b"SETNX"), self.key(), self.value()])

    def g_setex(self):
        return Op([self.tok(b"SETEX"), self.key(), self.rel_seconds(), self.value()])

    def g_psetex(self):
        return Op([self.tok(b"PSETEX"), self.key(), self.rel_millis(), self.value()])

    def g_mset(self):
        args = [self.tok(b"MSET")]
        for _ in range(self.rnd.randint(1, 5)):
            args += [self.key(), self.value()]
        if self.chance(0.05):
            args.append(self.key())
        return Op(args)

    def g_msetnx(self):
        args = [self.tok(b"MSETNX")]
        for _ in range(self.rnd.randint(1, 4)):
            args += [self.key(), self.value()]
        if self.chance(0.05):
            args = args[:-1]
        return Op(args)

    def g_mget(self):
        return Op([self.tok(b"MGET")] + self.keys(1, 8))

    def g_incr(self):
        r = self.rnd.random()
        k = self.key()
        if r < 0.3:
            return Op([self.tok(b"INCR"), k])
        if r < 0.5:
            return Op([self.tok(b"DECR"), k])
        name = self.tok(b"INCRBY" if r < 0.8 else b"DECRBY")
        inc = self.int_arg(lambda: self.rnd.choice(
            [self.small_int(-1000, 1000), self.small_int(-1000, 1000),
             self.rnd.choice(INT_STRINGS)]), 0.1)
        return Op([name, k, inc])

    def g_incrbyfloat(self):
        return Op([self.tok(b"INCRBYFLOAT"), self.key(), self.rnd.choice(
            FLOAT_STRINGS + [self.small_int(-100, 100), b"0.1", b"-0.1", b"2.5", b"1e-3"])])

    def g_lcs(self):
        args = [self.tok(b"LCS"), self.key(), self.key()]
        for _ in range(self.rnd.choice([0, 0, 1, 1, 2, 3])):
            r = self.rnd.random()
            if r < 0.25:
                args.append(self.tok(b"LEN"))
            elif r < 0.55:
                args.append(self.tok(b"IDX"))
            elif r < 0.8:
                args += [self.tok(b"MINMATCHLEN"), self.rnd.choice(
                    [b"0", b"1", b"2", b"3", b"5", b"-1", b"abc", b"9223372036854775807"])]
            elif r < 0.95:
                args.append(self.tok(b"WITHMATCHLEN"))
            else:
                args.append(b"bogus")
        return Op(args, special="lcs")

    # --- bitmaps ------------------------------------------------------------------------
    def g_setbit(self):
        bit = self.rnd.choice([b"0", b"1", b"1", b"0", b"2", b"-1", b"abc", b""]) \
            if self.chance(0.1) else self.rnd.choice([b"0", b"1"])
        return Op([self.tok(b"SETBIT"), self.key(), self.bit_offset(True), bit])

    def g_getbit(self):
        return Op([self.tok(b"GETBIT"), self.key(), self.bit_offset(False)])

    def g_bitcount(self):
        args = [self.tok(b"BITCOUNT"), self.key()]
        r = self.rnd.random()
        if r < 0.6:
            args += [self.range_int(), self.range_int()]
            if self.chance(0.5):
                args.append(self.tok(self.rnd.choice([b"BYTE", b"BIT", b"BITS", b"byte"])))
        elif r < 0.7:
            args.append(self.range_int())
        return Op(args)

    def g_bitpos(self):
        args = [self.tok(b"BITPOS"), self.key(),
                self.rnd.choice([b"0", b"1"]) if self.chance(0.92)
                else self.rnd.choice([b"2", b"-1", b"abc"])]
        r = self.rnd.random()
        if r < 0.3:
            args.append(self.range_int())
        elif r < 0.75:
            args += [self.range_int(), self.range_int()]
            if self.chance(0.5):
                args.append(self.tok(self.rnd.choice([b"BYTE", b"BIT", b"BITS"])))
        return Op(args)

    def g_bitop(self):
        opname = self.rnd.choice([b"AND", b"OR", b"XOR", b"NOT", b"NOT", b"and", b"NAND"])
        srcs = self.keys(1, 4)
        if opname.upper() == b"NOT" and self.chance(0.8):
            srcs = srcs[:1]
        return Op([self.tok(b"BITOP"), self.tok(opname), self.key()] + srcs)

    def bf_offset(self, write):
        r = self.rnd.random()
        if r < 0.7:
            return str(self.rnd.randint(0, 300 if self.chance(0.8) else 8000)).encode()
        if r < 0.85:
            return b"#" + str(self.rnd.randint(0, 40)).encode()
        if r < 0.92 and not write:
            return self.rnd.choice([b"4294967295", b"#67108863", b"4294967231"])
        return self.rnd.choice([b"-1", b"4294967296", b"#-1", b"#", b"abc", b"", b"1.5",
                                b"#99999999999"])

    def bf_value(self):
        r = self.rnd.random()
        if r < 0.6:
            return self.small_int(-300, 300)
        if r < 0.9:
            return self.rnd.choice(INT_STRINGS)
        return self.rnd.choice(NON_INT_STRINGS)

    def bf_type(self):
        return self.rnd.choice(ENCODED_TYPES) if self.chance(0.95) \
            else self.rnd.choice(BAD_TYPES)

    def g_bitfield(self):
        ro = self.chance(0.2)
        args = [self.tok(b"BITFIELD_RO" if ro else b"BITFIELD"), self.key()]
        for _ in range(self.rnd.choice([0, 1, 1, 2, 3, 4])):
            r = self.rnd.random()
            if r < 0.35 or ro:
                if ro and self.chance(0.05):
                    args += [self.tok(b"SET"), b"u8", b"0", b"1"]
                else:
                    args += [self.tok(b"GET"), self.bf_type(), self.bf_offset(False)]
            elif r < 0.6:
                args += [self.tok(b"SET"), self.bf_type(), self.bf_offset(True), self.bf_value()]
            elif r < 0.85:
                args += [self.tok(b"INCRBY"), self.bf_type(), self.bf_offset(True),
                         self.bf_value()]
            elif r < 0.97:
                args += [self.tok(b"OVERFLOW"), self.tok(self.rnd.choice(
                    [b"WRAP", b"SAT", b"FAIL", b"FAIL", b"bogus"]))]
            else:
                args += [self.rnd.choice([b"GET", b"SET", b"bogus", b"INCRBY"])]
        return Op(args)

    # --- keys ---------------------------------------------------------------------------
    def g_copy(self):
        args = [self.tok(b"COPY"), self.key(), self.key()]
        for _ in range(self.rnd.choice([0, 0, 1, 1, 2])):
            if self.chance(0.5):
                args += [self.tok(b"DB"), self.db_index()]
            elif self.chance(0.9):
                args.append(self.tok(b"REPLACE"))
            else:
                args.append(b"bogus")
        return Op(args)

    def g_del(self):
        return Op([self.tok(self.rnd.choice([b"DEL", b"UNLINK"]))] + self.keys(1, 4))

    def g_exists(self):
        return Op([self.tok(b"EXISTS")] + self.keys(1, 5))

    def g_touch(self):
        return Op([self.tok(b"TOUCH")] + self.keys(1, 4))

    def g_expire(self):
        name = self.rnd.choice([b"EXPIRE", b"PEXPIRE", b"EXPIREAT", b"PEXPIREAT"])
        val = {b"EXPIRE": self.rel_seconds, b"PEXPIRE": self.rel_millis,
               b"EXPIREAT": self.abs_seconds, b"PEXPIREAT": self.abs_millis}[name]()
        args = [self.tok(name), self.key(), val]
        for _ in range(self.rnd.choice([0, 0, 0, 1, 1, 1, 2])):
            args.append(self.tok(self.rnd.choice([b"NX", b"XX", b"GT", b"LT", b"GT", b"LT",
                                                  b"bogus", b"KEEPTTL"])))
        return Op(args)

    def g_ttl(self):
        name = self.rnd.choice([b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"])
        return Op([self.tok(name), self.key()], cmp="ttl",
                  extra=1 if name in (b"TTL", b"EXPIRETIME") else 1500)

    def g_persist(self):
        return Op([self.tok(b"PERSIST"), self.key()])

    def g_keys(self):
        return Op([self.tok(b"KEYS"), self.rnd.choice(GLOB_PATTERNS)], cmp="sorted")

    def g_move(self):
        return Op([self.tok(b"MOVE"), self.key(), self.db_index()])

    def g_object(self):
        r = self.rnd.random()
        if r < 0.45:
            return Op([self.tok(b"OBJECT"), self.tok(b"ENCODING"), self.key()], special="encoding")
        if r < 0.65:
            return Op([self.tok(b"OBJECT"), self.tok(b"REFCOUNT"), self.key()])
        if r < 0.75:
            return Op([self.tok(b"OBJECT"), self.tok(b"IDLETIME"), self.key()], cmp="any_int")
        if r < 0.85:
            return Op([self.tok(b"OBJECT"), self.tok(b"FREQ"), self.key()], cmp="any_int")
        if r < 0.9:
            return Op([self.tok(b"OBJECT"), self.tok(b"HELP")], cmp="help")
        return Op([self.tok(b"OBJECT")] + self.rnd.choice([
            [b"bogus", b"k0"], [b"ENCODING"], [b"ENCODING", b"k0", b"k1"], [b"HELP", b"x"],
            [b"REFCOUNT"], [], [b"FREQ", b"a", b"b"]]))

    def g_randomkey(self):
        if self.chance(0.1):
            return Op([self.tok(b"RANDOMKEY"), b"x"])
        return Op([self.tok(b"RANDOMKEY")], cmp="randomkey")

    def g_rename(self):
        return Op([self.tok(self.rnd.choice([b"RENAME", b"RENAMENX"])), self.key(), self.key()])

    def g_scan(self):
        args = [self.tok(b"SCAN"), b"0"]
        for _ in range(self.rnd.choice([0, 1, 1, 2, 3])):
            r = self.rnd.random()
            if r < 0.35:
                args += [self.tok(b"MATCH"), self.rnd.choice(GLOB_PATTERNS)]
            elif r < 0.7:
                args += [self.tok(b"COUNT"), self.rnd.choice(
                    [b"1", b"2", b"10", b"100", b"1000", b"0", b"-1", b"abc"])]
            elif r < 0.95:
                args += [self.tok(b"TYPE"), self.rnd.choice(
                    [b"string", b"list", b"set", b"zset", b"hash", b"stream", b"STRING",
                     b"none", b"bogus"])]
            else:
                args.append(b"bogus")
        if self.chance(0.05):
            # ("" and "-1" are accepted by strtoul, so they are not used here.)
            args[1] = self.rnd.choice([b"abc", b" 1", b"18446744073709551616", b"1.5", b"1x"])
            return Op(args)  # an invalid cursor errors before any iteration
        return Op(args, cmp="scan", special="scan")

    def g_type(self):
        return Op([self.tok(b"TYPE"), self.key()])

    # --- connection ---------------------------------------------------------------------
    def g_auth(self):
        return Op([self.tok(b"AUTH")] + self.rnd.choice([
            [b"pass"], [b"default", b"pass"], [b"nobody", b"pass"], [], [b"a", b"b", b"c"],
            [b"default", b""]]))

    def client_name(self):
        return self.rnd.choice([b"", b"apus", b"client-1", b"a b", b"x\ny", b"\xff", b"ok~",
                                b"n" * 100, b"!", b"name\x00"])

    def g_client(self):
        r = self.rnd.random()
        t = self.tok
        if r < 0.12:
            return Op([t(b"CLIENT"), t(b"SETNAME"), self.client_name()])
        if r < 0.22:
            return Op([t(b"CLIENT"), t(b"GETNAME")])
        if r < 0.3:
            return Op([t(b"CLIENT"), t(b"ID")], cmp="any_int")
        if r < 0.38:
            return Op([t(b"CLIENT"), t(b"INFO")], cmp="client_fields")
        if r < 0.45:
            extra = self.rnd.choice([[], [t(b"TYPE"), t(b"normal")], [t(b"TYPE"), b"bogus"],
                                     [t(b"ID"), b"abc"], [t(b"ID")], [b"bogus"]])
            return Op([t(b"CLIENT"), t(b"LIST")] + extra, cmp="client_fields")
        if r < 0.55:
            return Op([t(b"CLIENT"), t(b"KILL")] + self.rnd.choice([
                [b"1.2.3.4:5"], [b"ID", b"999999999"], [b"ID", b"abc"], [b"ADDR", b"1.2.3.4:5"],
                [b"LADDR", b"1.2.3.4:5"], [b"USER", b"nobody"], [b"TYPE", b"pubsub"],
                [b"TYPE", b"master"], [b"TYPE", b"bogus"], [b"SKIPME", b"maybe"],
                [b"ID", b"999999999", b"SKIPME", b"no"], [b"ID"], [], [b"ADDR"],
                [b"MAXAGE", b"1"], [b"TYPE", b"replica", b"SKIPME", b"yes"]]))
        if r < 0.63:
            return Op([t(b"CLIENT"), t(b"NO-EVICT")] + self.rnd.choice(
                [[b"on"], [b"OFF"], [b"maybe"], [], [b"on", b"x"]]))
        if r < 0.7:
            return Op([t(b"CLIENT"), t(b"HELP")], cmp="help")
        if r < 0.8:
            return self.client_setinfo()
        if r < 0.86:
            arg = self.rnd.choice([[b"on"], [b"OFF"], [b"maybe"], [], [b"on", b"x"]])
            if len(arg) != 1:
                exp = b"-ERR wrong number of arguments for 'client|no-touch' command\r\n"
            elif arg[0].lower() in (b"on", b"off"):
                exp = b"+OK\r\n"
            else:
                exp = b"-ERR syntax error\r\n"
            return Op([t(b"CLIENT"), t(b"NO-TOUCH")] + arg, cmp="v72", extra=exp)
        if r < 0.9:
            return Op([t(b"CLIENT"), t(b"REPLY")] + self.rnd.choice(
                [[b"ON"], [b"bogus"], [], [b"on", b"x"]]))
        return Op([t(b"CLIENT")] + self.rnd.choice(
            [[b"bogus"], [], [b"SETNAME"], [b"GETNAME", b"x"], [b"ID", b"x"],
             [b"SETNAME", b"a", b"b"], [b"INFO", b"x"]]))

    def client_setinfo(self):
        attr = self.rnd.choice([b"lib-name", b"LIB-VER", b"lib-ver", b"Lib-Name", b"bogus"])
        val = self.rnd.choice([b"redis-py", b"1.2.3", b"", b"has space", b"new\nline",
                               b"ok~", b"\x7f"])
        args = [self.tok(b"CLIENT"), self.tok(b"SETINFO"), attr, val]
        if self.chance(0.1):
            args = args[:3] if self.chance(0.5) else args + [b"x"]
        if len(args) != 4:
            exp = b"-ERR wrong number of arguments for 'client|setinfo' command\r\n"
        elif attr.lower() not in (b"lib-name", b"lib-ver"):
            exp = b"-ERR Unrecognized option '" + attr + b"'\r\n"
        elif any(c < 0x21 or c > 0x7E for c in val):
            exp = b"-ERR " + attr + b" cannot contain spaces, newlines or special characters.\r\n"
        else:
            exp = b"+OK\r\n"
        return Op(args, cmp="v72", extra=exp)

    def g_echo_ping(self):
        r = self.rnd.random()
        if r < 0.3:
            return Op([self.tok(b"PING")])
        if r < 0.55:
            return Op([self.tok(b"PING"), self.value()])
        if r < 0.9:
            return Op([self.tok(b"ECHO"), self.value()])
        return Op(self.rnd.choice([[b"PING", b"a", b"b"], [b"ECHO"], [b"ECHO", b"a", b"b"]]))

    def g_hello(self):
        r = self.rnd.random()
        proto = str(self.resp).encode()
        if r < 0.3:
            return Op([self.tok(b"HELLO")], cmp="hello", special="hello")
        if r < 0.55:
            return Op([self.tok(b"HELLO"), proto], cmp="hello", special="hello")
        if r < 0.7:
            return Op([self.tok(b"HELLO"), proto, self.tok(b"SETNAME"), self.client_name()],
                      cmp="hello", special="hello")
        if r < 0.85:
            return Op([self.tok(b"HELLO"), proto, self.tok(b"AUTH")] + self.rnd.choice(
                [[b"default", b"any"], [b"nobody", b"x"], [b"default"]]),
                cmp="hello", special="hello")
        return Op([self.tok(b"HELLO")] + self.rnd.choice(
            [[b"4"], [b"1"], [b"abc"], [b"0"], [proto, b"bogus"], [proto, b"SETNAME"],
             [b"-1"], [b"99999999999999999999"]]), cmp="hello", special="hello")

    def g_quit(self):
        return Op([self.tok(b"QUIT")] + ([b"x"] if self.chance(0.2) else []), special="quit")

    def g_reset(self):
        return Op([self.tok(b"RESET")] + ([b"x"] if self.chance(0.1) else []),
                  special="reset")

    def g_select(self):
        idx = self.db_index()
        op = Op([self.tok(b"SELECT"), idx])
        if self.chance(0.03):
            op.args.append(b"1")
        elif idx in (b"0", b"1", b"2", b"3", b"15"):
            op.state = ("db", int(idx))
        return op

    # --- server -------------------------------------------------------------------------
    def g_command(self):
        r = self.rnd.random()
        t = self.tok
        if r < 0.2:
            names = [self.introspected() for _ in range(self.rnd.randint(1, 3))]
            return Op([t(b"COMMAND"), t(b"INFO")] + names, cmp="command_info")
        if r < 0.3:
            names = [self.introspected() for _ in range(self.rnd.randint(1, 3))]
            return Op([t(b"COMMAND"), t(b"DOCS")] + names, cmp="command_docs")
        if r < 0.5:
            call = list(self.rnd.choice(GETKEYS_CALLS))
            while not (in_scope(call[0]) or call[0] == b"NOSUCH"):
                call = list(self.rnd.choice(GETKEYS_CALLS))
            sub = t(self.rnd.choice([b"GETKEYS", b"GETKEYSANDFLAGS"]))
            cmp = "getkeys72" if len(call) == 1 else "exact"
            return Op([t(b"COMMAND"), sub] + call, cmp=cmp)
        if r < 0.6:
            return Op([t(b"COMMAND"), t(b"COUNT")] + ([b"x"] if self.chance(0.1) else []),
                      cmp="any_int")
        if r < 0.75:
            f = self.rnd.choice([
                [], [b"FILTERBY", b"PATTERN", b"get*"], [b"FILTERBY", b"PATTERN", b"*range"],
                [b"FILTERBY", b"ACLCAT", b"string"], [b"FILTERBY", b"ACLCAT", b"keyspace"],
                [b"FILTERBY", b"ACLCAT", b"bitmap"], [b"FILTERBY", b"ACLCAT", b"nosuchcat"],
                [b"FILTERBY", b"MODULE", b"x"], [b"FILTERBY", b"bogus", b"x"], [b"FILTERBY"],
                [b"FILTERBY", b"PATTERN", b"client|*"], [b"FILTERBY", b"PATTERN", b"*|*"]])
            return Op([t(b"COMMAND"), t(b"LIST")] + f, cmp="command_list")
        if r < 0.8:
            return Op([t(b"COMMAND"), t(b"HELP")], cmp="help")
        if r < 0.82:
            return Op([t(b"COMMAND")], cmp="type_only")
        if r < 0.84:
            return Op([t(b"COMMAND"), t(b"DOCS")], cmp="type_only")
        return Op([t(b"COMMAND")] + self.rnd.choice(
            [[b"bogus"], [b"INFO"], [b"GETKEYS"], [b"HELP", b"x"], [b"LIST", b"x"]]),
            cmp="exact" if self.chance(0.999) else "type_only")

    def introspected(self):
        name = self.rnd.choice(INTROSPECTED)
        while not (in_scope(name) or name == b"nosuchcmd"):
            name = self.rnd.choice(INTROSPECTED)
        return name

    def g_config(self):
        r = self.rnd.random()
        t = self.tok
        if r < 0.4:
            names = [self.rnd.choice(CONFIG_GET_NAMES + CONFIG_GET_PATTERNS)
                     for _ in range(self.rnd.choice([1, 1, 1, 2, 3]))]
            return Op([t(b"CONFIG"), t(b"GET")] + names, cmp="config_map")
        if r < 0.43:
            return Op([t(b"CONFIG"), t(b"GET"), b"*"], cmp="config_all")
        if r < 0.8:
            args = [t(b"CONFIG"), t(b"SET")]
            for _ in range(self.rnd.choice([1, 1, 1, 2])):
                name = self.rnd.choice(sorted(SAFE_CONFIG_SET))
                args += [name, self.rnd.choice(SAFE_CONFIG_SET[name])]
            if self.chance(0.05):
                args = args[:-1]
            return Op(args)
        if r < 0.85:
            return Op([t(b"CONFIG"), t(b"RESETSTAT")])
        if r < 0.88:
            return Op([t(b"CONFIG"), t(b"REWRITE")])
        if r < 0.92:
            return Op([t(b"CONFIG"), t(b"HELP")], cmp="help")
        return Op([t(b"CONFIG")] + self.rnd.choice(
            [[b"bogus"], [], [b"GET"], [b"SET", b"hz"], [b"RESETSTAT", b"x"],
             [b"REWRITE", b"x"]]))

    def g_dbsize(self):
        return Op([self.tok(b"DBSIZE")] + ([b"x"] if self.chance(0.05) else []))

    def g_flush(self):
        name = self.tok(self.rnd.choice([b"FLUSHDB", b"FLUSHALL"]))
        opt = self.rnd.choice([[], [], [b"SYNC"], [b"ASYNC"], [b"bogus"], [b"SYNC", b"x"]])
        return Op([name] + opt)

    def g_swapdb(self):
        if self.chance(0.85):
            return Op([self.tok(b"SWAPDB"), str(self.rnd.randrange(NUM_DBS)).encode(),
                       str(self.rnd.randrange(NUM_DBS)).encode()])
        return Op([self.tok(b"SWAPDB"), self.db_index(), self.db_index()])

    def g_time_lolwut(self):
        r = self.rnd.random()
        if r < 0.4:
            return Op([self.tok(b"TIME")], cmp="type_only")
        if r < 0.45:
            return Op([self.tok(b"TIME"), b"x"])
        if r < 0.7:
            return Op([self.tok(b"LOLWUT")] + self.rnd.choice(
                [[], [b"VERSION", b"5"], [b"VERSION", b"6"], [b"VERSION", b"5", b"10", b"2",
                                                            b"2"]]), cmp="type_only")
        return Op([self.tok(b"LOLWUT")] + self.rnd.choice(
            [[b"VERSION", b"abc"], [b"VERSION"]]), cmp="type_only")

    def g_debug(self):
        r = self.rnd.random()
        t = self.tok
        if r < 0.15:
            return Op([t(b"DEBUG"), t(b"OBJECT"), self.key()], cmp="debug_object")
        if r < 0.3:
            return Op([t(b"DEBUG"), t(b"DIGEST")])
        if r < 0.4:
            return Op([t(b"DEBUG"), t(b"DIGEST-VALUE")] + self.keys(0, 3))
        if r < 0.5:
            return Op([t(b"DEBUG"), t(b"SLEEP"), self.rnd.choice([b"0", b"0", b"0.0", b"abc"])],
                      cmp="exact")
        if r < 0.6:
            return Op([t(b"DEBUG"), t(b"POPULATE"), str(self.rnd.randint(0, 6)).encode()]
                      + self.rnd.choice([[], [b"k"], [b"k", b"3"], [b"k", b"50"], [b"k", b"-1"],
                                         [b"k", b"abc"]]))
        if r < 0.75:
            kind = self.rnd.choice([b"string", b"integer", b"double", b"bignum", b"null",
                                    b"array", b"set", b"map", b"attrib", b"push", b"verbatim",
                                    b"true", b"false", b"bogus"])
            return Op([t(b"DEBUG"), t(b"PROTOCOL"), kind])
        if r < 0.8:
            return Op([t(b"DEBUG"), t(b"SET-ACTIVE-EXPIRE"), b"1"])
        if r < 0.85:
            return Op([t(b"DEBUG"), t(b"HELP")], cmp="type_only")
        if r < 0.9:
            return Op([t(b"DEBUG"), t(b"LOG"), b"differential test"])
        return Op([t(b"DEBUG")] + self.rnd.choice(
            [[b"bogus"], [], [b"OBJECT"], [b"SLEEP"], [b"DIGEST", b"x"], [b"PROTOCOL"]]))

    def g_slowlog(self):
        r = self.rnd.random()
        t = self.tok
        if r < 0.3:
            return Op([t(b"SLOWLOG"), t(b"GET")] + self.rnd.choice(
                [[], [b"10"], [b"-1"], [b"0"], [b"abc"]]))
        if r < 0.5:
            return Op([t(b"SLOWLOG"), t(b"LEN")])
        if r < 0.7:
            return Op([t(b"SLOWLOG"), t(b"RESET")])
        if r < 0.8:
            return Op([t(b"SLOWLOG"), t(b"HELP")], cmp="help")
        return Op([t(b"SLOWLOG")] + self.rnd.choice(
            [[b"bogus"], [], [b"LEN", b"x"], [b"GET", b"1", b"2"]]))

    def g_info(self):
        sec = self.rnd.choice([[], [b"keyspace"], [b"KEYSPACE"], [b"server"], [b"all"],
                               [b"everything"], [b"default"], [b"bogus"], [b"keyspace",
                                                                           b"server"],
                               [b"stats"], [b"memory"], [b"clients"]])
        return Op([self.tok(b"INFO")] + sec, cmp="info")

    # --- malformed ------------------------------------------------------------------------
    def g_unknown(self):
        r = self.rnd.random()
        if r < 0.5:
            name = self.rnd.choice([b"FOO", b"GETT", b"sett", b"", b"\x00bad", b"x" * 200,
                                    b"GET\r\n", b"hello world", b"c\xffmd", b"LPUSHX2",
                                    b"SETT"])
            args = [name] + [self.value()[:30] for _ in range(self.rnd.randint(0, 5))]
            return Op(args)
        # Arity errors on known commands.
        cmd = self.rnd.choice([
            [b"GET"], [b"GET", b"a", b"b"], [b"SET", b"a"], [b"SET"], [b"APPEND", b"a"],
            [b"INCR"], [b"INCRBY", b"a"], [b"DECRBY", b"a", b"1", b"2"], [b"GETRANGE", b"a", b"1"],
            [b"SETRANGE", b"a", b"1"], [b"MGET"], [b"MSET"], [b"MSET", b"a"], [b"MSETNX", b"a"],
            [b"STRLEN"], [b"SETEX", b"a", b"10"], [b"PSETEX", b"a"], [b"GETSET", b"a"],
            [b"LCS", b"a"], [b"SETBIT", b"a", b"1"], [b"GETBIT", b"a"], [b"BITCOUNT"],
            [b"BITPOS", b"a"], [b"BITOP", b"AND", b"d"], [b"BITFIELD"], [b"BITFIELD_RO"],
            [b"COPY", b"a"], [b"DEL"], [b"EXISTS"], [b"EXPIRE", b"a"], [b"TTL"], [b"KEYS"],
            [b"MOVE", b"a"], [b"RENAME", b"a"], [b"SCAN"], [b"TYPE"], [b"TOUCH"],
            [b"PERSIST"], [b"ECHO"], [b"SELECT"], [b"SWAPDB", b"1"], [b"DBSIZE", b"x"],
            [b"GETEX"], [b"GETDEL"], [b"GETDEL", b"a", b"b"], [b"SUBSTR", b"a", b"1"],
            [b"INCRBYFLOAT", b"a"], [b"SETNX", b"a"], [b"UNLINK"], [b"EXPIRETIME"],
            [b"PEXPIREAT", b"a"], [b"RANDOMKEY", b"a"], [b"OBJECT"], [b"SLOWLOG"],
            [b"CONFIG"], [b"CLIENT"], [b"COMMAND", b"INFO"], [b"LOLWUT", b"x"]])
        return Op([self.tok(cmd[0])] + cmd[1:])

    def g_protocol_error(self):
        payload = self.rnd.choice([
            b"*abc\r\n", b"*1\r\n$abc\r\n", b"*1\r\nfoo\r\n", b'SET "a b\r\n',
            b"SET 'a\r\n", b'SET "a"b c\r\n', b"*3000000000\r\n", b"*1\r\n$600000000\r\n",
            b"*-1\r\n", b"*0\r\n", b"*1\r\n$-1\r\n", b"*2\r\n$3\r\nGET\r\n$-5\r\n",
            b"*1\r\n$4\r\nPINGxx", b"\r\n", b"   \r\n", b"PING\n", b"*1\r\n$4\r\nPING\r\n",
            b"*1\r\n:4\r\n", b"*\r\n", b"*1\r\n$\r\n", b"*1\r\n$4 \r\nPING\r\n",
            b"x" * 70000, b"*" + b"1" * 70000, b"*1\r\n$" + b"1" * 70000,
            b'"\\x41\\x42" "\\n"\r\n', b"ECHO \"\\x4\"\r\n", b"ECHO \"a\\tb\\\\\"\r\n",
            b"*1\r\n$3\r\nfoo\r\n", b"*2\r\n$4\r\nECHO\r\n$3\r\nfoo\r\n",
        ])
        return Op([payload], special="protoerr")

    def g_client_reply(self):
        kind = self.rnd.choice(["skip", "off"])
        inner = self._one()
        while inner.special is not None:
            inner = self._one()
        return Op([], special="client_reply", extra=(kind, inner))

    # --- collections (opt-in) -----------------------------------------------------------
    def g_collection(self):
        k = self.key()
        r = self.rnd.random()
        vals = [self.value()[:20] for _ in range(self.rnd.randint(1, 4))]
        if r < 0.3:
            return Op([self.tok(b"LPUSH"), k] + vals)
        if r < 0.55:
            return Op([self.tok(b"SADD"), k] + vals)
        if r < 0.8:
            args = [self.tok(b"HSET"), k]
            for v in vals:
                args += [v, self.value()[:20]]
            return Op(args)
        args = [self.tok(b"ZADD"), k]
        for v in vals:
            args += [self.small_int(-10, 10), v]
        return Op(args)


# ---------------------------------------------------------------------------------------
# Comparators.
# ---------------------------------------------------------------------------------------

def _float(b):
    try:
        return float(b)
    except ValueError:
        return None


def trees_equal_numeric(a, b):
    """Equality of parsed replies where RESP3 doubles compare numerically."""
    if a.t != b.t:
        return False
    if a.t == ",":
        fa, fb = _float(a.v), _float(b.v)
        if fa is None or fb is None:
            return a.v == b.v
        return fa == fb or (fa != fa and fb != fb)
    if a.t in "*~>":
        if a.v is None or b.v is None:
            return a.v is b.v
        return len(a.v) == len(b.v) and all(trees_equal_numeric(x, y)
                                            for x, y in zip(a.v, b.v))
    if a.t == "%":
        return len(a.v) == len(b.v) and all(
            trees_equal_numeric(k1, k2) and trees_equal_numeric(v1, v2)
            for (k1, v1), (k2, v2) in zip(a.v, b.v))
    return a.raw == b.raw


def help_lines(node):
    lines = []
    for e in node.items():
        s = e.v if isinstance(e.v, bytes) else b""
        if s == b"    Prints this help.":
            s = b"    Print this help."
        lines.append(s)
    return lines


HELP_7_2_ONLY = {
    b"SETINFO <option> <value>", b"    Set client meta attr. Options are:",
    b"    * LIB-NAME: the client lib name.", b"    * LIB-VER: the client lib version.",
    b"NO-TOUCH (ON|OFF)", b"    Will not touch LRU/LFU stats when this mode is on.",
}


def scoped_help(op, lines):
    """Keep the first line and the blocks (an unindented subcommand line plus its indented
    description) of in-scope subcommands."""
    if FULL_TABLE or not lines:
        return lines
    container = op.args[0].lower()
    out = [lines[0]]
    keep = True
    for line in lines[1:]:
        if not line.startswith(b" "):
            sub = line.split(b" ", 1)[0].lower()
            keep = in_scope(container + b"|" + sub)
        if keep:
            out.append(line)
    return out


def parse_fields(line):
    out = {}
    for part in line.split(b" "):
        k, sep, v = part.partition(b"=")
        if sep:
            out[k] = v
    return out


def keyspace_lines(text):
    res = {}
    in_ks = False
    for line in text.split(b"\r\n"):
        if line.startswith(b"# "):
            in_ks = line.strip().lower() == b"# keyspace"
            continue
        if in_ks and line.startswith(b"db"):
            name, _, rest = line.partition(b":")
            f = dict(p.split(b"=", 1) for p in rest.split(b",") if b"=" in p)
            res[name] = (f.get(b"keys"), f.get(b"expires"))
    return res, (b"# Keyspace" in text)


def bulk_text(node):
    if node.t in "$=" and node.v is not None:
        v = node.v
        if node.t == "=":
            v = v[4:]
        return v
    return None


class Comparator:
    """compare(op, a, r) -> None when acceptable, else a short reason.  `a` is Apus's
    reply, `r` the reference (redis-server).  Byte equality always passes."""

    def __init__(self, conn_ids):
        self.conn_ids = conn_ids

    def compare(self, op, a, r):
        if a == r:
            return None
        try:
            na, nr = parse_reply(a), parse_reply(r)
        except (ProtocolError, ValueError, IndexError) as e:
            return "unparsable reply: %s" % e
        if trees_equal_numeric(na, nr):
            return None
        fn = getattr(self, "c_" + op.cmp, None)
        if fn is None or op.cmp == "exact":
            return "replies differ"
        return fn(op, na, nr)

    @staticmethod
    def _errors(na, nr):
        """If either reply is an error, the result of the comparison (None/reason),
        else False to continue."""
        if na.t == "-" or nr.t == "-":
            return "replies differ" if na.raw != nr.raw else None
        return False

    def c_ttl(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != ":" or nr.t != ":":
            return "replies differ"
        if na.v < 0 or nr.v < 0:
            return "replies differ"
        return None if abs(na.v - nr.v) <= op.extra else "difference above tolerance"

    def c_sorted(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t or na.t not in "*~":
            return "replies differ"
        if sorted(x.raw for x in na.v) != sorted(x.raw for x in nr.v):
            return "different elements"
        return None

    def c_pairs(self, op, na, nr):
        """HGETALL of a hashtable-encoded hash: the order is the table's; compare the
        field/value pairs as a multiset (RESP2 flat array or RESP3 map alike)."""
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t or na.t not in "*%":
            return "replies differ"
        def pairs(n):
            flat = [x.raw for x in n.items()]
            return sorted(zip(flat[0::2], flat[1::2]))
        return None if pairs(na) == pairs(nr) else "different field/value pairs"

    def c_spop(self, op, na, nr):
        """SPOP pops random members: same reply type and size."""
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t or na.is_null != nr.is_null:
            return "reply types differ"
        if na.t in "*~" and len(na.v) != len(nr.v):
            return "different number of members"
        return None

    def c_srandmember(self, op, na, nr):
        """SRANDMEMBER picks random members: same reply type and size; with a positive count
        the members are distinct."""
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t or na.is_null != nr.is_null:
            return "reply types differ"
        if na.t in "*~":
            if len(na.v) != len(nr.v):
                return "different number of members"
            try:
                positive = int(op.args[2]) > 0
            except (IndexError, ValueError):
                positive = False
            members = [x.raw for x in na.v]
            if len(op.args) > 3 and op.args[3].upper() in (b"WITHSCORES", b"WITHVALUES") \
                    and all(x.t != "*" for x in na.v):
                members = members[::2]  # RESP2 ...WITHSCORES/WITHVALUES: member, score, ...
            if positive and len(set(members)) != len(members):
                return "repeated members with a positive count"
        return None

    def c_sscan(self, op, na, nr):
        """SSCAN page: cursors are implementation-defined; when both pages are complete
        (cursor 0) their members are compared as multisets, else only the shape."""
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t or len(na.items()) != 2 or len(nr.items()) != 2:
            return "reply shapes differ"
        (ca, ea), (cr, er) = na.items(), nr.items()
        # Only a scan started at cursor 0 covers the same elements on both servers.
        started = len(op.args) > 2 and op.args[2] == b"0"
        if started and ca.v == b"0" and cr.v == b"0":
            if sorted(x.raw for x in ea.items()) != sorted(x.raw for x in er.items()):
                return "different members"
        return None

    def c_v72_rank(self, op, na, nr):
        """ZRANK/ZREVRANK key member <4th>: Redis 7.2 added WITHSCORE (arity -3), 7.0 refuses
        any fourth argument with a wrong-arity error; then Apus answers as 7.2 does."""
        if nr.t == "-" and b"wrong number of arguments" in nr.raw:
            if op.args[3].upper() == b"WITHSCORE":
                return None if na.t in "*_" or (na.t == "*" and na.is_null) else "not a 7.2 WITHSCORE reply"
            return None if na.raw == b"-ERR syntax error\r\n" else "not 7.2's syntax error"
        return "replies differ"

    def c_randomkey(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.is_null != nr.is_null or na.t != nr.t:
            return "nil vs key"
        return None

    def c_any_int(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        return None if na.t == nr.t else "reply types differ"

    def c_scan_page(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        return None if na.t == nr.t and len(na.items()) == len(nr.items()) == 2 \
            else "reply shapes differ"

    def c_type_only(self, op, na, nr):
        return self.c_any_int(op, na, nr)

    def c_help(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        la = scoped_help(op, [x for x in help_lines(na) if x not in HELP_7_2_ONLY])
        lr = scoped_help(op, [x for x in help_lines(nr) if x not in HELP_7_2_ONLY])
        if la == lr:
            return None
        for i, (x, y) in enumerate(zip(la, lr)):
            if x != y:
                return "help text differs at line %d: apus %r, redis %r" % (i, x, y)
        return "help text differs in length (apus %d lines, redis %d)" % (len(la), len(lr))

    def c_hello(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        pa, pr = na.pairs(), nr.pairs()
        if [k.raw for k, _ in pa] != [k.raw for k, _ in pr]:
            return "different fields"
        for (k, va), (_, vr) in zip(pa, pr):
            if k.v in (b"version", b"id"):
                if va.t != vr.t:
                    return "field %r type differs" % k.v
                continue
            if va.raw != vr.raw:
                return "field %r differs" % k.v
        return None

    @staticmethod
    def _config_dict(node):
        return {k.v: v.v for k, v in node.pairs()}

    def c_config_map(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        da, dr = self._config_dict(na), self._config_dict(nr)
        if len(da) * 2 != len(na.items()) or len(dr) * 2 != len(nr.items()):
            return "duplicate names"
        return None if da == dr else "different parameters/values"

    def c_config_all(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        da, dr = self._config_dict(na), self._config_dict(nr)
        diffs = []
        for k in sorted(set(da) | set(dr)):
            if k in CONFIG_7_2_ONLY or k in CONFIG_INSTANCE or k in CONFIG_APUS_ONLY:
                continue
            if da.get(k) != dr.get(k):
                diffs.append("%s: apus=%r redis=%r" % (k.decode(), da.get(k), dr.get(k)))
        return None if not diffs else "config differs: " + "; ".join(diffs[:12]) + (
            " (+%d more)" % (len(diffs) - 12) if len(diffs) > 12 else "")

    @staticmethod
    def _cmdinfo(node):
        if node.is_null:
            return None
        el = node.items()
        flags = sorted(x.raw for x in el[2].items())
        cats = sorted(x.raw for x in el[6].items()) if len(el) > 6 else None
        specs = el[8].raw if len(el) > 8 else None
        subs = None
        if len(el) > 9:
            subs = sorted(Comparator._cmdinfo(s) for s in el[9].items()
                          if s.items()[0].v not in COMMANDS_7_2_ONLY
                          and in_scope(s.items()[0].v))
        name = el[0].v.lower() if isinstance(el[0].v, bytes) else b""
        arity = b"(changed in 7.2)" if name in SPEC_ARITY_7_2 else el[1].raw
        if name in SPEC_FLAGS_7_2:
            flags = None
        return (el[0].raw, arity, flags, el[3].raw, el[4].raw, el[5].raw, cats, specs, subs)

    @staticmethod
    def _compare_name_sets(sa, sr):
        """Names (lowercase bytes) listed by both sides: equal on the compared scope, and in
        default mode every in-scope name must be present on both sides."""
        sa = {x.lower() for x in sa} - COMMANDS_7_2_ONLY
        sr = {x.lower() for x in sr} - COMMANDS_7_2_ONLY
        if not FULL_TABLE:
            sa = {x for x in sa if x in SCOPE}
            sr = {x for x in sr if x in SCOPE}
        if sa != sr:
            return "command sets differ: only apus %r, only redis %r" % (
                sorted(sa - sr)[:10], sorted(sr - sa)[:10])
        return None

    def c_command_info(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        xs, ys = na.items(), nr.items()
        if len(op.args) <= 2:
            # All commands, in hash table order: compare by name.
            def by_name(items):
                return {x.items()[0].v: x for x in items}
            da, dr = by_name(xs), by_name(ys)
            err = self._compare_name_sets(set(da), set(dr))
            if err:
                return err
            names = sorted(n for n in set(da) & set(dr) if in_scope(n))
            xs, ys = [da[n] for n in names], [dr[n] for n in names]
        else:
            if len(xs) != len(ys):
                return "reply shapes differ"
            keep = [i for i, name in enumerate(op.args[2:]) if in_scope(name)
                    or name.lower() == b"nosuchcmd"]
            xs, ys = [xs[i] for i in keep if i < len(xs)], [ys[i] for i in keep if i < len(ys)]
        for x, y in zip(xs, ys):
            ix, iy = self._cmdinfo(x), self._cmdinfo(y)
            if ix != iy:
                names = ("name", "arity", "flags", "first", "last", "step", "acl", "keyspecs",
                         "subcommands")
                if ix is None or iy is None:
                    return "nil vs info"
                bad = [names[i] for i in range(len(names)) if ix[i] != iy[i]]
                return "command info of %r differs in %s" % (iy[0], ",".join(bad))
        return None

    def c_command_docs(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"

        def summary(node):
            out = {}
            for k, v in node.pairs():
                d = {kk.v: vv for kk, vv in v.pairs()}
                out[k.v] = tuple(d[f].raw if f in d else None for f in (b"group", b"since"))
            return out
        sa, sr = summary(na), summary(nr)
        err = self._compare_name_sets(set(sa), set(sr))
        if err:
            return err
        for n in set(sa) & set(sr):
            if in_scope(n) and sa[n] != sr[n]:
                return "group/since of %r differ" % n
        return None

    def c_command_list(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        return self._compare_name_sets({x.v for x in na.items()}, {x.v for x in nr.items()})

    def c_getkeys72(self, op, na, nr):
        if nr.t == "-" and nr.v.startswith(b"ERR wrong number of arguments for 'command|getkeys"):
            ok72 = (b"ERR Invalid command specified", b"ERR The command has no key arguments",
                    b"ERR Invalid number of arguments specified for command")
            if (na.t == "-" and na.v in ok72) or (na.t == "*" and na.v == []):
                return None
        return "replies differ"

    def c_client_fields(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        ta, tr = bulk_text(na), bulk_text(nr)
        if ta is None or tr is None or na.t != nr.t:
            return "reply types differ"
        la = [x for x in ta.split(b"\n") if x]
        lr = [x for x in tr.split(b"\n") if x]

        def own(lines):
            """Our own connection: the only line, or the one running CLIENT LIST."""
            if len(lines) == 1:
                return parse_fields(lines[0])
            for ln in lines:
                f = parse_fields(ln)
                if f.get(b"cmd", b"") == b"client|list":
                    return f
            return None
        fa, fr = own(la), own(lr)
        if (fa is None) != (fr is None):
            return "own connection not identifiable in apus reply (no cmd=client|list line)"
        if fa is not None:
            # v72: CLIENT NO-TOUCH (7.2 only) shows as flag T; 7.0 never sets it. And 7.2's
            # RESET clears NO-EVICT (flag e) where 7.0 keeps it, so e is not compared either.
            for side in (fa, fr):
                if side is not None and b"flags" in side:
                    side[b"flags"] = side[b"flags"].replace(b"T", b"").replace(b"e", b"") or b"N"
            for fld in (b"name", b"db", b"resp", b"cmd", b"user", b"multi", b"sub", b"psub",
                        b"flags", b"redir"):
                if fld in fa and fld in fr and fa[fld] != fr[fld]:
                    return "field %r differs: apus %r, redis %r" % (fld, fa[fld], fr[fld])
            for fld in (b"id", b"addr", b"laddr", b"fd", b"name", b"age", b"idle", b"flags",
                        b"db", b"cmd", b"user", b"resp"):
                if (fld in fa) != (fld in fr):
                    return "field %r missing" % fld
        return None

    def c_info(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        ta, tr = bulk_text(na), bulk_text(nr)
        if ta is None or tr is None or na.t != nr.t:
            return "reply types differ"
        ka, has_a = keyspace_lines(ta)
        kr, has_r = keyspace_lines(tr)
        if has_a != has_r:
            return "keyspace section presence differs"
        if ka != kr:
            return "keyspace differs: apus %r redis %r" % (ka, kr)
        if (ta == b"") != (tr == b""):
            return "empty vs non-empty"
        return None

    def c_debug_object(self, op, na, nr):
        e = self._errors(na, nr)
        if e is not False:
            return e
        if na.t != nr.t:
            return "reply types differ"
        fa, fr = parse_fields(na.v), parse_fields(nr.v)
        for fld in (b"refcount", b"encoding", b"serializedlength"):
            if fa.get(fld) != fr.get(fld):
                return "field %r differs" % fld
        return None

    def c_v72(self, op, na, nr):
        if nr.t == "-" and nr.v.startswith(b"ERR unknown subcommand"):
            return None if na.raw == op.extra else "expected 7.2 reply %r" % op.extra
        return "replies differ"


# ---------------------------------------------------------------------------------------
# Runner.
# ---------------------------------------------------------------------------------------

def inline_encode(args):
    out = []
    for a in args:
        if a and all(0x21 <= c <= 0x7E and c not in b"\"'\\" for c in a):
            out.append(a)
        else:
            s = bytearray(b'"')
            for c in a:
                if c == 0x22:
                    s += b'\\"'
                elif c == 0x5C:
                    s += b"\\\\"
                elif 0x20 <= c <= 0x7E:
                    s.append(c)
                else:
                    s += b"\\x%02x" % c
            s += b'"'
            out.append(bytes(s))
    return b" ".join(out) + b"\r\n"


def cli_repr(args):
    """A redis-cli command line reproducing `args`."""
    return inline_encode(args).rstrip(b"\r\n").decode("latin-1")


def short(b, n=600):
    r = repr(b)
    return r if len(r) <= n else r[:n] + "...(%d bytes)" % len(b)


class Side:
    def __init__(self, name, hostport, timeout):
        self.name = name
        self.host, self.port = parse_hostport(hostport)
        self.timeout = timeout
        self.conn = Conn(self.host, self.port, timeout=timeout, name=name)

    def side_conn(self):
        return Conn(self.host, self.port, timeout=self.timeout, name=self.name)


class Mismatch(Exception):
    pass


class Runner:
    def __init__(self, args):
        self.args = args
        self.apus = Side("apus", args.apus, args.timeout)
        self.redis = Side("redis", args.redis, args.timeout)
        self.sides = (self.apus, self.redis)
        self.gen = Generator(args.seed, args.resp, args.with_collections)
        self.cmp = Comparator(None)
        self.mismatches = []
        self.by_command = {}
        self.ops = 0
        self.log = open(args.log, "w") if args.log else None
        self.db = 0
        self.last_digest = 0
        self.last_state = 0
        self.checkers = None

    # --- low level ----------------------------------------------------------------------
    def both(self, payload, nreplies=1):
        """Send raw bytes to both servers, read `nreplies` replies from each."""
        for s in self.sides:
            s.conn.send(payload)
        out = []
        for s in self.sides:
            out.append([s.conn.read_reply() for _ in range(nreplies)])
        return out[0], out[1]

    def record(self, op, ra, rr, reason, note=""):
        self.mismatches.append((self.ops, op, ra, rr, reason, note, self.db))
        name = cli_repr([op.args[0].upper()])[:24] if op.args else (op.special or "?")
        if name in ("CLIENT", "CONFIG", "COMMAND", "OBJECT", "DEBUG", "SLOWLOG") \
                and len(op.args) > 1:
            name += " " + cli_repr([op.args[1].upper()])[:24]
        if op.special in ("protoerr", "client_reply", "quit"):
            name = op.special
        self.by_command[name] = self.by_command.get(name, 0) + 1
        if self.log:
            self.log.write("MISMATCH %s\n" % reason)

    def logop(self, op, ra, rr):
        if self.log:
            desc = cli_repr(op.args) if op.special not in ("protoerr", "client_reply") \
                else "%s %r" % (op.special, op.args or op.extra[0])
            self.log.write("#%d db=%d %s%s\n  apus : %s\n  redis: %s\n" % (
                self.ops, self.db, "[inline] " if op.inline else "", desc, short(ra, 300),
                short(rr, 300)))

    def check(self, op, ra, rr):
        self.logop(op, ra, rr)
        reason = self.cmp.compare(op, ra, rr)
        if reason is not None:
            self.record(op, ra, rr, reason)
            return False
        return True

    def apply_state(self, op):
        if op.state and op.state[0] == "db":
            self.db = op.state[1]

    def encode(self, op):
        return inline_encode(op.args) if op.inline else encode_command(op.args)

    # --- setup --------------------------------------------------------------------------
    def setup(self):
        setup_ops = [Op([b"FLUSHALL"]),
                     Op([b"CONFIG", b"SET"] + [x for kv in CONFIG_DEFAULTS for x in kv]),
                     # Entries left by earlier clients (e.g. redis-cli's COMMAND DOCS on a
                     # slow debug build) would show up in SLOWLOG GET.
                     Op([b"SLOWLOG", b"RESET"])]
        if self.args.resp == 3:
            setup_ops.insert(0, Op([b"HELLO", b"3"], cmp="hello"))
        for op in setup_ops:
            ra, rr = self.both(encode_command(op.args))
            if not self.check(op, ra[0], rr[0]):
                print("setup command %s differs: apus=%r redis=%r"
                      % (cli_repr(op.args), ra[0], rr[0]))

    def resync(self):
        """After a mismatch, put both servers back in the same state so one bug does not
        cascade into thousands of mismatches."""
        for s in self.sides:
            s.conn.connect()
        proto = [b"HELLO", b"3"] if self.args.resp == 3 else [b"HELLO", b"2"]
        for s in self.sides:
            for cmd in (proto, [b"FLUSHALL"], [b"SELECT", str(self.db).encode()],
                        [b"CONFIG", b"SET"] + [x for kv in CONFIG_DEFAULTS for x in kv],
                        [b"SLOWLOG", b"RESET"]):
                s.conn.send_command(cmd)
                s.conn.read_reply()

    # --- whole-dataset comparison -------------------------------------------------------
    @staticmethod
    def snapshot(conn):
        """{(db, key): (type, value-or-None, has_ttl)} for the databases the generator uses;
        built from KEYS/TYPE/GET/PTTL only (no DEBUG DIGEST, no DUMP)."""
        out = {}
        for db in list(range(NUM_DBS)) + [15]:
            conn.send_command([b"SELECT", b"%d" % db])
            conn.read_reply()
            conn.send_command([b"KEYS", b"*"])
            keys = [e.v for e in parse_reply(conn.read_reply()).items()]
            if not keys:
                continue
            payload = b"".join(encode_command([c, k]) for k in keys
                               for c in (b"TYPE", b"GET", b"PTTL"))
            conn.send(payload)
            for k in keys:
                t = parse_reply(conn.read_reply()).v
                g = conn.read_reply()
                ttl = parse_reply(conn.read_reply()).v
                out[(db, k)] = (t, g if t == b"string" else None, ttl >= 0)
        return out

    def compare_state(self, last_op):
        if self.checkers is None:
            self.checkers = [s.side_conn() for s in self.sides]
            for c in self.checkers:
                if self.args.resp == 3:
                    c.send_command([b"HELLO", b"3"])
                    c.read_reply()
        sa, sr = (self.snapshot(c) for c in self.checkers)
        if sa == sr:
            return True
        diffs = []
        for k in sorted(set(sa) | set(sr)):
            if sa.get(k) != sr.get(k):
                diffs.append("db%d %s: apus %r redis %r" % (k[0], cli_repr([k[1]]),
                                                            sa.get(k), sr.get(k)))
        op = Op([b"<state check>"])
        self.record(op, "\n    ".join(diffs[:5]).encode(), b"", "datasets differ after op %d (%s)"
                    % (self.ops, cli_repr(last_op.args) if last_op.args else last_op.special))
        return False

    # --- scenarios ----------------------------------------------------------------------
    def run_simple(self, ops):
        payload = b"".join(self.encode(op) for op in ops)
        ra, rr = self.both(payload, len(ops))
        ok = True
        for op, a, r in zip(ops, ra, rr):
            self.ops += 1
            self.apply_state(op)
            ok = self.check(op, a, r) and ok
        # Pushes (DEBUG PROTOCOL push in RESP3) must match too.
        pa, pr = self.apus.conn.pushes, self.redis.conn.pushes
        if pa or pr:
            if pa != pr:
                self.record(ops[-1], b"".join(pa), b"".join(pr), "push messages differ")
                ok = False
            self.apus.conn.pushes, self.redis.conn.pushes = [], []
        return ok

    def run_scan(self, op):
        self.ops += 1
        results = []
        for s in self.sides:
            keys = []
            cursor = b"0"
            first = None
            for _ in range(100000):
                args = list(op.args)
                args[1] = cursor
                s.conn.send_command(args)
                rep = s.conn.read_reply()
                if first is None:
                    first = rep
                node = parse_reply(rep)
                if node.t == "-":
                    break
                cur, elems = node.items()
                keys.extend(e.v for e in elems.items())
                cursor = cur.v
                if cursor == b"0":
                    break
            results.append((first, rep, sorted(set(keys))))
        (fa, la, ka), (fr, lr, kr) = results
        self.logop(op, la if la[:1] == b"-" else repr(ka).encode(),
                   lr if lr[:1] == b"-" else repr(kr).encode())
        if (fa[:1] == b"-") or (fr[:1] == b"-"):
            if fa != fr:
                self.record(op, fa, fr, "replies differ")
                return False
            return True
        if ka != kr:
            self.record(op, repr(ka).encode(), repr(kr).encode(), "full scans differ")
            return False
        return True

    def run_lcs(self, op):
        # Guard: LCS needs O(len1*len2) memory; skip it for long strings.
        lens = []
        for k in op.args[1:3]:
            probe = Op([b"STRLEN", k])
            ra, rr = self.both(encode_command(probe.args))
            self.ops += 1
            if not self.check(probe, ra[0], rr[0]):
                return False
            node = parse_reply(rr[0])
            lens.append(node.v if node.t == ":" else 0)
        if max(lens) > 3000:
            return True
        return self.run_simple([op])

    def run_hello(self, op):
        return self.run_simple([op])

    def run_lex(self, op):
        """A lex-range command is skipped when its sorted set holds different scores:
        Redis documents the result as unspecified, and its skiplist answers depend on
        random node levels (ALLOWLIST "lex_mixed_scores")."""
        key = lex_range_key(op.args)
        self.redis.conn.send_command([b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"])
        node = parse_reply(self.redis.conn.read_reply())
        if node.t in "*" and node.v:
            flat = node.items()
            scores = set(x.raw for x in flat[1::2]) if all(x.t != "*" for x in flat) \
                else set(x.items()[1].raw for x in flat)
            if len(scores) > 1:
                return True
        return self.run_simple([op])

    def run_encoding(self, op):
        """OBJECT ENCODING, alone (never in a batch) so the key's type can be asked right
        after it: Redis 7.2 keeps small sets of strings and small lists as `listpack` where
        the 7.0 oracle says `hashtable` / `quicklist` (ALLOWLIST "v72_listpack"); any other
        difference is a mismatch."""
        ra, rr = self.both(self.encode(op))
        a, r = ra[0], rr[0]
        if a != r and a.endswith(b"listpack\r\n") and len(op.args) == 3 and (
                r.endswith(b"hashtable\r\n") or r.endswith(b"quicklist\r\n")):
            ta, tr = self.both(encode_command([b"TYPE", op.args[2]]))
            expected = b"+set\r\n" if r.endswith(b"hashtable\r\n") else b"+list\r\n"
            if ta[0] == tr[0] == expected:
                self.ops += 1
                self.logop(op, a, r)
                return True
        self.ops += 1
        self.apply_state(op)
        return self.check(op, a, r)

    def run_reset(self, op):
        ok = self.run_simple([op])
        if op.args[1:]:
            return ok
        self.db = 0
        self.gen.db = 0
        if self.args.resp == 3:
            ok = self.run_simple([Op([b"HELLO", b"3"], cmp="hello")]) and ok
        ok = self.run_simple([Op([b"CONFIG", b"SET", b"maxmemory-policy", b"noeviction"])]) \
            and ok
        return ok

    def run_quit(self, op):
        self.ops += 1
        res = []
        for s in self.sides:
            c = s.side_conn()
            try:
                c.send(encode_command(op.args))
                rep = c.read_reply()
                closed = c.wait_closed(2.0)
            finally:
                c.close()
            res.append(rep + (b" <closed>" if closed else b" <open>"))
        return self.check(op, res[0], res[1])

    def run_protoerr(self, op):
        """Send raw bytes on a fresh connection followed by PING and QUIT; compare
        everything received until the server closes the connection."""
        self.ops += 1
        res = []
        tail = encode_command([b"PING"]) + encode_command([b"QUIT"])
        for s in self.sides:
            c = s.side_conn()
            try:
                c.send(op.args[0] + tail)
                closed = c.wait_closed(3.0)
                res.append(bytes(c.buf) + (b" <closed>" if closed else b" <open>"))
            except OSError as e:
                res.append(bytes(c.buf) + (" <%s>" % type(e).__name__).encode())
            finally:
                c.close()
        self.logop(op, res[0], res[1])
        if res[0] != res[1]:
            self.record(op, res[0], res[1], "protocol handling differs")
            return False
        return True

    def run_client_reply(self, op):
        """CLIENT REPLY SKIP|OFF around another command, then a marker: the replies that
        arrive must be exactly the ones Redis sends."""
        kind, inner = op.extra
        self.ops += 2
        marker = Op([b"ECHO", b"sync-%d" % self.ops])
        if kind == "skip":
            seq = [Op([b"CLIENT", b"REPLY", b"SKIP"]), inner, marker]
        else:
            seq = [Op([b"CLIENT", b"REPLY", b"OFF"]), inner, Op([b"CLIENT", b"REPLY", b"ON"]),
                   marker]
        self.apply_state(inner)
        payload = b"".join(encode_command(o.args) for o in seq)
        expect_marker = b"$%d\r\n%s\r\n" % (len(marker.args[1]), marker.args[1])
        out = []
        for s in self.sides:
            s.conn.send(payload)
        for s in self.sides:
            got = []
            while True:
                rep = s.conn.read_reply()
                got.append(rep)
                if rep == expect_marker or len(got) > 10:
                    break
            out.append(b"".join(got))
        op.args = [b"CLIENT", b"REPLY", kind.upper().encode()] + inner.args
        self.logop(op, out[0], out[1])
        if out[0] != out[1]:
            self.record(op, out[0], out[1], "CLIENT REPLY %s: different replies" % kind)
            return False
        return True

    # --- main loop ----------------------------------------------------------------------
    def run(self):
        self.setup()
        start = time.time()
        last_report = start
        while self.ops < self.args.ops:
            ops = self.gen.next_ops()
            op = ops[0]
            try:
                if len(ops) > 1 or op.special is None:
                    ok = self.run_simple(ops)
                else:
                    ok = getattr(self, "run_" + op.special)(op)
            except (ConnectionClosed, ConnectionError, socket.timeout, TimeoutError) as e:
                self.record(op, b"", b"", "connection error: %s: %s" % (type(e).__name__, e))
                ok = False
                print("connection error at op %d (%s): %s" % (self.ops, cli_repr(op.args)
                                                              if op.args else op.special, e))
                try:
                    self.resync()
                except OSError as e2:
                    print("cannot reconnect (%s): server down? stopping" % e2)
                    return 2
            if not ok:
                if len(self.mismatches) >= self.args.max_mismatches:
                    print("stopping after %d mismatches" % len(self.mismatches))
                    break
                if not self.args.no_resync:
                    self.resync()
            if ok and self.args.state_every and not self.gen.pending and \
                    self.ops // self.args.state_every != self.last_state:
                self.last_state = self.ops // self.args.state_every
                ok = self.compare_state(ops[-1])
                if not ok and not self.args.no_resync:
                    self.resync()
            if ok and self.args.digest_every and not self.gen.pending and \
                    self.ops // self.args.digest_every != self.last_digest:
                self.last_digest = self.ops // self.args.digest_every
                dop = Op([b"DEBUG", b"DIGEST"])
                ra, rr = self.both(encode_command(dop.args))
                if ra[0] != rr[0]:
                    self.record(dop, ra[0], rr[0], "dataset digests differ after op %d (%s)"
                                % (self.ops, cli_repr(ops[-1].args) if ops[-1].args else
                                   ops[-1].special))
                    if not self.args.no_resync:
                        self.resync()
            now = time.time()
            if self.args.progress and now - last_report > 10:
                last_report = now
                print("  ... %d ops, %d mismatches, %.0f ops/s"
                      % (self.ops, len(self.mismatches), self.ops / (now - start)), flush=True)
        return 0

    def report(self):
        n = len(self.mismatches)
        print("ops=%d mismatches=%d seed=%d resp=%d%s" % (
            self.ops, n, self.args.seed, self.args.resp,
            " collections" if self.args.with_collections else ""))
        if n:
            print("mismatches by command: " + ", ".join(
                "%s=%d" % kv for kv in sorted(self.by_command.items(), key=lambda kv: -kv[1])))
        for (i, op, ra, rr, reason, note, db) in self.mismatches[:self.args.show]:
            if op.special in ("protoerr",):
                desc = "raw bytes %r" % short(op.args[0], 200)
            else:
                desc = cli_repr(op.args)
            print("--- mismatch at op %d (seed %d, db %d)%s: %s" % (
                i, self.args.seed, db, " [inline]" if op.inline else "", reason))
            print("  command: %s" % desc)
            print("  apus   : %s" % short(ra))
            print("  redis  : %s" % short(rr))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apus", help="host:port of the server under test (required)")
    ap.add_argument("--redis", help="host:port of the reference redis-server (required)")
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resp", type=int, choices=(2, 3), default=2)
    ap.add_argument("--with-collections", action="store_true",
                    help="also create lists/sets/hashes/zsets (both servers must support them)")
    ap.add_argument("--log", help="write every op and both replies to this file")
    ap.add_argument("--show", type=int, default=20, help="mismatches to print")
    ap.add_argument("--max-mismatches", type=int, default=1000,
                    help="stop after this many mismatches")
    ap.add_argument("--no-resync", action="store_true",
                    help="do not FLUSHALL both servers after a mismatch")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--state-every", type=int, default=0, metavar="N",
                    help="compare the datasets (KEYS/TYPE/GET/PTTL of every key) every N ops")
    ap.add_argument("--digest-every", type=int, default=0, metavar="N",
                    help="compare DEBUG DIGEST of both servers every N ops (localizes "
                         "silent state divergence)")
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--full-command-table", action="store_true",
                    help="compare COMMAND/COMMAND INFO/DOCS/LIST/HELP over the whole command "
                         "table instead of the commands in scope (see SCOPE)")
    ap.add_argument("--list-allowlist", action="store_true")
    args = ap.parse_args(argv)
    load_families()
    global FULL_TABLE
    FULL_TABLE = args.full_command_table
    if args.list_allowlist:
        for k, v in ALLOWLIST.items():
            print("%s: %s" % (k, v))
        return 0
    if not args.apus or not args.redis:
        ap.error("--apus and --redis are required")
    try:
        runner = Runner(args)
    except OSError as e:
        print("cannot connect: %s" % e)
        return 2
    rc = runner.run()
    runner.report()
    if runner.log:
        runner.log.close()
    if rc:
        return rc
    return 1 if runner.mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
