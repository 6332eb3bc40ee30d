// The Lua side of Redis scripting: interpreter set-up and sandbox, the redis.* API, and the
// conversions between RESP replies and Lua values (Redis 7.2's script_lua.c semantics).
//
// Everything that may raise a Lua error runs inside lua_cpcall/lua_pcall started here, so a
// longjmp never crosses Swift code: Swift is reached only through apus_lua_host callbacks.

#include "apus_lua.h"
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>
#include <lua5.1/lua-cjson.h>
#include <lua5.1/lua-bitop.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include <errno.h>

int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);

// MARK: Buffers

void apus_buf_append(apus_buf *buf, const void *bytes, size_t len) {
    if (buf->len + len > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap < buf->len + len) cap *= 2;
        char *grown = realloc(buf->data, cap);
        if (!grown) abort();
        buf->data = grown;
        buf->cap = cap;
    }
    if (len) memcpy(buf->data + buf->len, bytes, len);
    buf->len += len;
}

void apus_buf_reset(apus_buf *buf) { buf->len = 0; }

void apus_buf_free(apus_buf *buf) {
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

static void buf_str(apus_buf *buf, const char *s) { apus_buf_append(buf, s, strlen(s)); }

/// "<type><n>\r\n" (by hand: snprintf costs more than the rest of a small reply).
static void buf_header(apus_buf *buf, char type, long long n) {
    char tmp[32];
    char *end = tmp + sizeof tmp;
    char *p = end;
    *--p = '\n';
    *--p = '\r';
    unsigned long long magnitude = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (n < 0) *--p = '-';
    *--p = type;
    apus_buf_append(buf, p, (size_t)(end - p));
}

/// A bulk string, or with `type` '+'/'-' a line whose CR and LF become spaces.
static void buf_bulk(apus_buf *buf, const char *s, size_t len) {
    buf_header(buf, '$', (long long)len);
    apus_buf_append(buf, s, len);
    apus_buf_append(buf, "\r\n", 2);
}

static void buf_line(apus_buf *buf, char type, const char *s, size_t len) {
    apus_buf_append(buf, &type, 1);
    size_t start = buf->len;
    apus_buf_append(buf, s, len);
    for (size_t i = start; i < buf->len; i++)
        if (buf->data[i] == '\r' || buf->data[i] == '\n') buf->data[i] = ' ';
    apus_buf_append(buf, "\r\n", 2);
}

/// The shortest text that reads back as `d` (Redis 7.2 prints doubles in shortest round-trip form).
static int format_double(double d, char *out, size_t size) {
    if (isinf(d)) return snprintf(out, size, d > 0 ? "inf" : "-inf");
    if (isnan(d)) return snprintf(out, size, "nan");
    int len = 0;
    for (int precision = 1; precision <= 17; precision++) {
        len = snprintf(out, size, "%.*g", precision, d);
        if (strtod(out, NULL) == d) break;
    }
    return len;
}

/// A double as Redis 7.2 passes a Lua number to redis.call (its fpconv_dtoa): the shortest
/// digits that read back as `d`, written as a plain integer, a plain decimal, or d.ddde±X
/// by the same thresholds.
static int format_number_argument(double d, char *out, size_t size) {
    if (isnan(d)) return snprintf(out, size, "nan");
    if (isinf(d)) return snprintf(out, size, d > 0 ? "inf" : "-inf");
    if (d == 0) return snprintf(out, size, signbit(d) ? "-0" : "0");
    char sci[40];
    for (int precision = 0; precision <= 16; precision++) {
        snprintf(sci, sizeof sci, "%.*e", precision, d);
        if (strtod(sci, NULL) == d) break;
    }
    int neg = sci[0] == '-';
    char digits[24];
    int ndigits = 0;
    const char *p = sci + neg;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[ndigits++] = *p;
    int exponent = atoi(p + 1);
    while (ndigits > 1 && digits[ndigits - 1] == '0') ndigits--;
    int K = exponent - (ndigits - 1);
    int exp = abs(K + ndigits - 1);
    char body[64];
    int n = 0;
    if (K >= 0 && exp < ndigits + 7) {
        memcpy(body, digits, ndigits);
        memset(body + ndigits, '0', K);
        n = ndigits + K;
    } else if (K < 0 && (K > -7 || exp < 4)) {
        int offset = ndigits - abs(K);
        if (offset <= 0) {
            body[n++] = '0';
            body[n++] = '.';
            memset(body + n, '0', -offset);
            n += -offset;
            memcpy(body + n, digits, ndigits);
            n += ndigits;
        } else {
            memcpy(body, digits, offset);
            body[offset] = '.';
            memcpy(body + offset + 1, digits + offset, ndigits - offset);
            n = ndigits + 1;
        }
    } else {
        if (ndigits > 18 - neg) ndigits = 18 - neg;
        body[n++] = digits[0];
        if (ndigits > 1) {
            body[n++] = '.';
            memcpy(body + n, digits + 1, ndigits - 1);
            n += ndigits - 1;
        }
        n += snprintf(body + n, sizeof body - n, "e%c%d", K + ndigits - 1 < 0 ? '-' : '+', exp);
    }
    return snprintf(out, size, "%s%.*s", neg ? "-" : "", n, body);
}

// MARK: The interpreter

struct apus_lua_vm {
    lua_State *L;
    const apus_lua_host *host;
    /// The script client's protocol (redis.setresp), 2 at the start of every run.
    int resp;
    int in_call;
    apus_buf reply;
    /// Arguments of the running redis.call.
    const char **argv;
    size_t *lengths;
    char (*numbers)[64];
    int argv_capacity;
    /// drand48 state for math.random (Redis's rand.c generator).
    uint64_t rand48;
};

static const char *VM_KEY = "apus_vm";
static const char *READONLY_KEY = "apus_readonly";

static apus_lua_vm *vm_of(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, VM_KEY);
    apus_lua_vm *vm = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return vm;
}

/// Pushes Redis's error table {err="CODE message"} (luaPushErrorBuff): "-CODE msg" keeps its
/// code, a message without '-' gets "ERR"; a trailing CR/LF is trimmed.
static void push_error(lua_State *L, const char *s, size_t len) {
    luaL_Buffer b;
    lua_newtable(L);
    lua_pushstring(L, "err");
    luaL_buffinit(L, &b);
    const char *msg = s;
    size_t msg_len = len;
    if (len > 0 && s[0] == '-') {
        const char *space = memchr(s, ' ', len);
        if (!space) {
            luaL_addstring(&b, "ERR");
            msg = s + 1;
            msg_len = len - 1;
        } else {
            luaL_addlstring(&b, s + 1, (size_t)(space - s - 1));
            msg = space + 1;
            msg_len = len - (size_t)(space + 1 - s);
        }
    } else {
        luaL_addstring(&b, "ERR");
    }
    // sdstrim(msg, "\r\n") trims both ends.
    while (msg_len > 0 && (msg[0] == '\r' || msg[0] == '\n')) { msg++; msg_len--; }
    while (msg_len > 0 && (msg[msg_len - 1] == '\r' || msg[msg_len - 1] == '\n')) msg_len--;
    // The message stops at a NUL like the C string Redis builds.
    const char *nul = memchr(msg, 0, msg_len);
    if (nul) msg_len = (size_t)(nul - msg);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, msg, msg_len);
    luaL_pushresult(&b);
    lua_settable(L, -3);
}

static void push_error_cstr(lua_State *L, const char *s) { push_error(L, s, strlen(s)); }

static void mark_no_stats(lua_State *L) {
    lua_pushstring(L, "ignore_error_stats_update");
    lua_pushboolean(L, 1);
    lua_settable(L, -3);
}

// MARK: RESP -> Lua

/// Parses one reply at *p and pushes its Lua value (or skips it when `push` is 0).
/// Returns 0 on a malformed reply.
static int resp_to_lua(lua_State *L, const char **p, const char *end, int push);

static const char *line_end(const char *p, const char *end) {
    for (const char *q = p; q + 1 < end; q++)
        if (q[0] == '\r' && q[1] == '\n') return q;
    return NULL;
}

static int resp_to_lua(lua_State *L, const char **p, const char *end, int push) {
    const char *s = *p;
    if (s >= end) return 0;
    const char *eol = line_end(s + 1, end);
    if (!eol) return 0;
    char type = s[0];
    const char *body = s + 1;
    size_t body_len = (size_t)(eol - body);
    *p = eol + 2;
    if (push) luaL_checkstack(L, 6, "lua stack limit reach when parsing redis.call reply");
    switch (type) {
    case ':': {
        if (push) lua_pushnumber(L, (lua_Number)strtoll(body, NULL, 10));
        return 1;
    }
    case '+':
        if (push) {
            lua_newtable(L);
            lua_pushstring(L, "ok");
            lua_pushlstring(L, body, body_len);
            lua_settable(L, -3);
        }
        return 1;
    case '-':
        if (push) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            luaL_addchar(&b, '-');
            luaL_addlstring(&b, body, body_len);
            luaL_pushresult(&b);
            size_t len;
            const char *msg = lua_tolstring(L, -1, &len);
            push_error(L, msg, len);
            lua_remove(L, -2);
            mark_no_stats(L);
        }
        return 1;
    case '$': case '=': {
        long long len = strtoll(body, NULL, 10);
        if (len < 0) {
            if (push) lua_pushboolean(L, 0);
            return 1;
        }
        if (*p + len + 2 > end) return 0;
        const char *str = *p;
        *p += len + 2;
        if (!push) return 1;
        if (type == '$') {
            lua_pushlstring(L, str, (size_t)len);
        } else {
            if (len < 4) return 0;
            lua_newtable(L);
            lua_pushstring(L, "verbatim_string");
            lua_newtable(L);
            lua_pushstring(L, "string");
            lua_pushlstring(L, str + 4, (size_t)len - 4);
            lua_settable(L, -3);
            lua_pushstring(L, "format");
            lua_pushlstring(L, str, 3);
            lua_settable(L, -3);
            lua_settable(L, -3);
        }
        return 1;
    }
    case '*': case '>': {
        long long n = strtoll(body, NULL, 10);
        if (n < 0) {
            if (push) lua_pushboolean(L, 0);
            return 1;
        }
        if (push) lua_createtable(L, n > 0 && n < 1024 ? (int)n : 0, 0);
        for (long long j = 0; j < n; j++) {
            if (push) lua_pushnumber(L, (lua_Number)(j + 1));
            if (!resp_to_lua(L, p, end, push)) return 0;
            if (push) lua_settable(L, -3);
        }
        return 1;
    }
    case '%': case '~': {
        long long n = strtoll(body, NULL, 10);
        if (push) {
            lua_newtable(L);
            lua_pushstring(L, type == '%' ? "map" : "set");
            lua_newtable(L);
        }
        for (long long j = 0; j < n; j++) {
            if (!resp_to_lua(L, p, end, push)) return 0;
            if (type == '%') {
                if (!resp_to_lua(L, p, end, push)) return 0;
            } else if (push) {
                luaL_checkstack(L, 1, "lua stack limit reach when parsing redis.call reply");
                lua_pushboolean(L, 1);
            }
            if (push) lua_settable(L, -3);
        }
        if (push) lua_settable(L, -3);
        return 1;
    }
    case '|': {
        // Attributes are not shown to scripts: skip them, then parse the reply itself.
        long long n = strtoll(body, NULL, 10);
        for (long long j = 0; j < 2 * n; j++)
            if (!resp_to_lua(L, p, end, 0)) return 0;
        return resp_to_lua(L, p, end, push);
    }
    case '_':
        if (push) lua_pushnil(L);
        return 1;
    case '#':
        if (push) lua_pushboolean(L, body_len > 0 && body[0] == 't');
        return 1;
    case ',': {
        if (push) {
            char tmp[128];
            size_t n = body_len < sizeof tmp - 1 ? body_len : sizeof tmp - 1;
            memcpy(tmp, body, n);
            tmp[n] = 0;
            lua_newtable(L);
            lua_pushstring(L, "double");
            lua_pushnumber(L, strtod(tmp, NULL));
            lua_settable(L, -3);
        }
        return 1;
    }
    case '(':
        if (push) {
            lua_newtable(L);
            lua_pushstring(L, "big_number");
            lua_pushlstring(L, body, body_len);
            lua_settable(L, -3);
        }
        return 1;
    default:
        return 0;
    }
}

// MARK: Lua -> RESP

/// Error text of an error value: a string → "ERR <string>", a table → its err field.
/// Pushes the message (or nil) and leaves the value in place.
static void lua_to_resp(lua_State *L, int caller_resp, int script_resp, apus_buf *out);

static void null_reply(apus_buf *out, int resp) { buf_str(out, resp == 3 ? "_\r\n" : "$-1\r\n"); }

static void double_reply(apus_buf *out, int resp, double d) {
    char tmp[64];
    int len = format_double(d, tmp, sizeof tmp);
    if (resp == 3) buf_line(out, ',', tmp, (size_t)len);
    else buf_bulk(out, tmp, (size_t)len);
}

/// Converts the value on top of the stack (luaReplyToRedisReply) and pops it.
static void lua_to_resp(lua_State *L, int caller_resp, int script_resp, apus_buf *out) {
    if (!lua_checkstack(L, 4)) {
        buf_str(out, "-ERR reached lua stack limit\r\n");
        lua_pop(L, 1);
        return;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        buf_bulk(out, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        if (script_resp == 2) {
            if (lua_toboolean(L, -1)) buf_str(out, ":1\r\n");
            else null_reply(out, caller_resp);
        } else if (caller_resp == 3) {
            buf_str(out, lua_toboolean(L, -1) ? "#t\r\n" : "#f\r\n");
        } else {
            buf_str(out, lua_toboolean(L, -1) ? ":1\r\n" : ":0\r\n");
        }
        break;
    case LUA_TNUMBER:
        buf_header(out, ':', (long long)lua_tonumber(L, -1));
        break;
    case LUA_TTABLE: {
        lua_pushstring(L, "err");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pop(L, 1);
            lua_getfield(L, -1, "err");
            size_t len;
            const char *msg = lua_tolstring(L, -1, &len);
            const char *nul = memchr(msg, 0, len);
            buf_line(out, '-', msg, nul ? (size_t)(nul - msg) : len);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);

        lua_pushstring(L, "ok");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            const char *nul = memchr(s, 0, len);
            buf_line(out, '+', s, nul ? (size_t)(nul - s) : len);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);

        lua_pushstring(L, "double");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            double_reply(out, caller_resp, lua_tonumber(L, -1));
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);

        lua_pushstring(L, "big_number");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            if (caller_resp == 3) buf_line(out, '(', s, len);
            else {
                size_t start = out->len;
                buf_bulk(out, s, len);
                // sdsmapchars(\r\n → spaces) applies to the RESP2 bulk string too.
                for (size_t i = out->len - 2 - len; i < out->len - 2; i++)
                    if (out->data[i] == '\r' || out->data[i] == '\n') out->data[i] = ' ';
                (void)start;
            }
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);

        lua_pushstring(L, "verbatim_string");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_pushstring(L, "format");
            lua_rawget(L, -2);
            if (lua_type(L, -1) == LUA_TSTRING) {
                size_t flen;
                const char *format = lua_tolstring(L, -1, &flen);
                lua_pushstring(L, "string");
                lua_rawget(L, -3);
                if (lua_type(L, -1) == LUA_TSTRING) {
                    size_t len;
                    const char *s = lua_tolstring(L, -1, &len);
                    if (caller_resp == 3) {
                        buf_header(out, '=', (long long)len + 4);
                        char fmt[4] = {' ', ' ', ' ', ':'};
                        memcpy(fmt, format, flen < 3 ? flen : 3);
                        apus_buf_append(out, fmt, 4);
                        apus_buf_append(out, s, len);
                        apus_buf_append(out, "\r\n", 2);
                    } else {
                        buf_bulk(out, s, len);
                    }
                    lua_pop(L, 4);
                    return;
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);

        lua_pushstring(L, "map");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TTABLE) {
            long long n = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) { lua_pop(L, 1); n++; }
            if (caller_resp == 3) buf_header(out, '%', n);
            else buf_header(out, '*', 2 * n);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pushvalue(L, -2);
                lua_to_resp(L, caller_resp, script_resp, out);  // key
                lua_to_resp(L, caller_resp, script_resp, out);  // value
            }
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);

        lua_pushstring(L, "set");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TTABLE) {
            long long n = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) { lua_pop(L, 1); n++; }
            buf_header(out, caller_resp == 3 ? '~' : '*', n);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                lua_to_resp(L, caller_resp, script_resp, out);
            }
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 1);

        // An array: elements 1..n up to the first nil.
        int n = 0;
        for (;;) {
            lua_rawgeti(L, -1, n + 1);
            int nil = lua_isnil(L, -1);
            lua_pop(L, 1);
            if (nil) break;
            n++;
        }
        buf_header(out, '*', n);
        for (int j = 1; j <= n; j++) {
            lua_rawgeti(L, -1, j);
            lua_to_resp(L, caller_resp, script_resp, out);
        }
        break;
    }
    default:
        null_reply(out, caller_resp);
    }
    lua_pop(L, 1);
}

// MARK: redis.* API

/// luaArgsToRedisArgv: strings and numbers only (numbers in shortest round-trip form).
static int collect_args(lua_State *L, apus_lua_vm *vm, int argc) {
    if (argc > vm->argv_capacity) {
        int cap = argc < 16 ? 16 : argc;
        vm->argv = realloc(vm->argv, sizeof(char *) * (size_t)cap);
        vm->lengths = realloc(vm->lengths, sizeof(size_t) * (size_t)cap);
        vm->numbers = realloc(vm->numbers, sizeof(*vm->numbers) * (size_t)cap);
        if (!vm->argv || !vm->lengths || !vm->numbers) abort();
        vm->argv_capacity = cap;
    }
    for (int j = 0; j < argc; j++) {
        int type = lua_type(L, j + 1);
        if (type == LUA_TNUMBER) {
            int len = format_number_argument(lua_tonumber(L, j + 1), vm->numbers[j], sizeof vm->numbers[j]);
            vm->argv[j] = vm->numbers[j];
            vm->lengths[j] = (size_t)len;
        } else if (type == LUA_TSTRING) {
            vm->argv[j] = lua_tolstring(L, j + 1, &vm->lengths[j]);
        } else {
            return 0;
        }
    }
    return 1;
}

static int redis_generic_call(lua_State *L, int raise) {
    apus_lua_vm *vm = lua_touserdata(L, lua_upvalueindex(1));
    int argc = lua_gettop(L);
    if (argc == 0) {
        push_error_cstr(L, "Please specify at least one argument for this redis lib call");
        return raise ? lua_error(L) : 1;
    }
    if (!collect_args(L, vm, argc)) {
        lua_pop(L, argc);
        push_error_cstr(L, "Lua redis lib command arguments must be strings or integers");
        return raise ? lua_error(L) : 1;
    }
    if (vm->in_call || !vm->host) {
        push_error_cstr(L, "luaRedisGenericCommand() recursive call detected. Are you doing funny stuff with Lua debug hooks?");
        return 1;
    }
    vm->in_call = 1;
    apus_buf_reset(&vm->reply);
    int rejected = vm->host->call(vm->host->context, argc, vm->argv, vm->lengths, vm->resp, &vm->reply);
    vm->in_call = 0;
    lua_pop(L, argc);
    if (rejected) {
        push_error(L, vm->reply.data, vm->reply.len);
        mark_no_stats(L);
        return raise ? lua_error(L) : 1;
    }
    const char *p = vm->reply.data;
    if (!resp_to_lua(L, &p, vm->reply.data + vm->reply.len, 1)) {
        push_error_cstr(L, "ERR could not parse the command's reply");
        return raise ? lua_error(L) : 1;
    }
    if (raise && vm->reply.len > 0 && vm->reply.data[0] == '-') return lua_error(L);
    return 1;
}

static int redis_call(lua_State *L) { return redis_generic_call(L, 1); }
static int redis_pcall(lua_State *L) { return redis_generic_call(L, 0); }

/// The global pcall: an error table raised inside becomes its err string (luaRedisPcall).
static int global_pcall(lua_State *L) {
    int argc = lua_gettop(L);
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1)) lua_replace(L, -2);
            else lua_pop(L, 1);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

static void sha1_hex(const unsigned char *data, size_t len, char out[41]);

static int redis_sha1hex(lua_State *L) {
    if (lua_gettop(L) != 1) {
        push_error_cstr(L, "wrong number of arguments");
        return lua_error(L);
    }
    size_t len = 0;
    const char *s = lua_tolstring(L, 1, &len);
    char hex[41];
    sha1_hex((const unsigned char *)(s ? s : ""), s ? len : 0, hex);
    lua_pushstring(L, hex);
    return 1;
}

static int single_field_table(lua_State *L, const char *field) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        push_error_cstr(L, "wrong number or type of arguments");
        return 1;
    }
    lua_newtable(L);
    lua_pushstring(L, field);
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    return 1;
}

static int redis_status_reply(lua_State *L) { return single_field_table(L, "ok"); }

static int redis_error_reply(lua_State *L) {
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
        push_error_cstr(L, "wrong number or type of arguments");
        return 1;
    }
    const char *err = lua_tostring(L, -1);
    if (err[0] == '-') {
        push_error_cstr(L, err);
    } else {
        lua_pushfstring(L, "-%s", err);
        push_error_cstr(L, lua_tostring(L, -1));
        lua_remove(L, -2);
    }
    return 1;
}

static int redis_set_repl(lua_State *L) {
    if (lua_gettop(L) != 1) {
        push_error_cstr(L, "redis.set_repl() requires one argument.");
        return lua_error(L);
    }
    int flags = (int)lua_tonumber(L, -1);
    if ((flags & ~3) != 0) {
        push_error_cstr(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        return lua_error(L);
    }
    return 0;
}

/// Scripts are always replicated by effects in Redis 7: replicate_commands says yes.
static int redis_replicate_commands(lua_State *L) {
    lua_pushboolean(L, 1);
    return 1;
}

/// redis.breakpoint / redis.debug do something only under the Lua debugger (SCRIPT DEBUG).
static int redis_breakpoint(lua_State *L) {
    lua_pushboolean(L, 0);
    return 1;
}

static int redis_debug(lua_State *L) {
    (void)L;
    return 0;
}

static int redis_setresp(lua_State *L) {
    apus_lua_vm *vm = lua_touserdata(L, lua_upvalueindex(1));
    int argc = lua_gettop(L);
    if (argc != 1) {
        push_error_cstr(L, "redis.setresp() requires one argument.");
        return lua_error(L);
    }
    int resp = (int)lua_tonumber(L, -argc);
    if (resp != 2 && resp != 3) {
        push_error_cstr(L, "RESP version must be 2 or 3.");
        return lua_error(L);
    }
    vm->resp = resp;
    return 0;
}

static int redis_log(lua_State *L) {
    apus_lua_vm *vm = lua_touserdata(L, lua_upvalueindex(1));
    int argc = lua_gettop(L);
    if (argc < 2) {
        push_error_cstr(L, "redis.log() requires two arguments or more.");
        return lua_error(L);
    }
    if (!lua_isnumber(L, -argc)) {
        push_error_cstr(L, "First argument must be a number (log level).");
        return lua_error(L);
    }
    int level = (int)lua_tonumber(L, -argc);
    if (level < 0 || level > 3) {
        push_error_cstr(L, "Invalid debug level.");
        return lua_error(L);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int first = 1;
    for (int j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) continue;
        if (!first) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, len);
        first = 0;
    }
    luaL_pushresult(&b);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (vm->host && vm->host->log) vm->host->log(vm->host->context, level, msg, len);
    return 0;
}

// math.random / math.randomseed on Redis's drand48-style generator.
static int32_t rand48_next(apus_lua_vm *vm) {
    vm->rand48 = (vm->rand48 * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
    return (int32_t)(vm->rand48 >> 17);
}

static int math_random(lua_State *L) {
    apus_lua_vm *vm = lua_touserdata(L, lua_upvalueindex(1));
    lua_Number r = (lua_Number)(rand48_next(vm) % INT32_MAX) / (lua_Number)INT32_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int math_randomseed(lua_State *L) {
    apus_lua_vm *vm = lua_touserdata(L, lua_upvalueindex(1));
    int32_t seed = (int32_t)luaL_checkint(L, 1);
    vm->rand48 = ((uint64_t)(uint32_t)seed << 16) | 0x330E;
    return 0;
}

// MARK: Sandbox

static int is_readonly(lua_State *L, int index) {
    if (!lua_istable(L, index)) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, READONLY_KEY);
    lua_pushvalue(L, index < 0 && index > LUA_REGISTRYINDEX ? index - 1 : index);
    lua_rawget(L, -2);
    int readonly = !lua_isnil(L, -1);
    lua_pop(L, 2);
    return readonly;
}

static int readonly_error(lua_State *L) {
    luaL_where(L, 1);
    lua_pushstring(L, "Attempt to modify a readonly table");
    lua_concat(L, 2);
    return lua_error(L);
}

static int nonexistent_global(lua_State *L) {
    const char *name = lua_tostring(L, 2);
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", name ? name : "?");
}

/// The table a readonly proxy stands for (the proxy itself otherwise), pushed.
static void push_real(lua_State *L, int index) {
    if (lua_istable(L, index)) {
        lua_getfield(L, LUA_REGISTRYINDEX, READONLY_KEY);
        lua_pushvalue(L, index < 0 && index > LUA_REGISTRYINDEX ? index - 1 : index);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        if (lua_istable(L, -1)) return;
        lua_pop(L, 1);
    }
    lua_pushvalue(L, index);
}

/// A readonly proxy's __index: looks the key up in the real table (its upvalue), so that
/// no table reachable from the script — `getmetatable(proxy).__index` included — is the
/// writable real one.
static int readonly_index(lua_State *L) {
    lua_settop(L, 2);
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1) || !lua_getmetatable(L, lua_upvalueindex(1))) return 1;
    lua_getfield(L, -1, "__index");
    // A missing global: the error names the script's line, as when the VM calls it directly.
    if (lua_tocfunction(L, -1) == nonexistent_global) {
        const char *name = lua_tostring(L, 2);
        return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", name ? name : "?");
    }
    lua_settop(L, 2);
    lua_gettable(L, lua_upvalueindex(1));
    return 1;
}

/// loadstring / load refuse precompiled chunks, as Redis's Lua does: bytecode is not
/// verified by Lua 5.1 and can break out of the sandbox. Like a compile error, the refusal
/// is (nil, message).
static int load_text_chunk(lua_State *L, const char *chunk, size_t length, const char *name) {
    if (length > 0 && chunk[0] == LUA_SIGNATURE[0]) {
        lua_pushnil(L);
        lua_pushstring(L, "binary chunks are not allowed");
        return 2;
    }
    if (luaL_loadbuffer(L, chunk, length, name) == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int sandbox_loadstring(lua_State *L) {
    size_t length;
    const char *chunk = luaL_checklstring(L, 1, &length);
    const char *name = luaL_optstring(L, 2, chunk);
    return load_text_chunk(L, chunk, length, name);
}

static int sandbox_load(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *name = luaL_optstring(L, 2, "=(load)");
    lua_settop(L, 2);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    for (;;) {
        lua_pushvalue(L, 1);
        lua_call(L, 0, 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
        size_t piece;
        lua_tolstring(L, -1, &piece);
        if (piece == 0) {
            lua_pop(L, 1);
            break;
        }
        luaL_addvalue(&buffer);
    }
    luaL_pushresult(&buffer);
    size_t length;
    const char *chunk = lua_tolstring(L, -1, &length);
    return load_text_chunk(L, chunk, length, name);
}

static int sandbox_rawset(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    // Redis's rawset refuses without naming a line.
    if (is_readonly(L, 1)) {
        lua_pushstring(L, "Attempt to modify a readonly table");
        return lua_error(L);
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sandbox_setmetatable(lua_State *L) {
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (is_readonly(L, 1)) return readonly_error(L);
    if (luaL_getmetafield(L, 1, "__metatable")) luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sandbox_next(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    push_real(L, 1);
    lua_replace(L, 1);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

static int sandbox_pairs(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1));
    push_real(L, 1);
    lua_pushnil(L);
    return 3;
}

/// Replaces the table at the top of the stack by a readonly proxy for it. The proxy's
/// metatable reaches the real table only through a closure's upvalue, and getmetatable()
/// shows a readonly copy of it whose own metatable is hidden, so neither `t.x = 1`,
/// `rawset(t, ...)`, nor `getmetatable(t).__index.x = 1` can modify the real table. The
/// registry's READONLY_KEY table maps each proxy to the table it stands for (weak keys).
static void make_readonly(lua_State *L) {
    int real = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, READONLY_KEY);
    int set = lua_gettop(L);

    lua_newtable(L);                       // the proxy
    int proxy = lua_gettop(L);
    lua_newtable(L);                       // its metatable
    int meta = lua_gettop(L);
    lua_pushvalue(L, real);
    lua_pushcclosure(L, readonly_index, 1);
    lua_setfield(L, meta, "__index");
    lua_pushcfunction(L, readonly_error);
    lua_setfield(L, meta, "__newindex");

    // What getmetatable() shows: a readonly proxy of a copy of the metatable.
    lua_newtable(L);
    int shown = lua_gettop(L);
    lua_getfield(L, meta, "__index");
    lua_setfield(L, shown, "__index");
    lua_pushcfunction(L, readonly_error);
    lua_setfield(L, shown, "__newindex");
    lua_newtable(L);                       // the copy's proxy
    int shownProxy = lua_gettop(L);
    lua_newtable(L);
    lua_pushvalue(L, shown);
    lua_pushcclosure(L, readonly_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, readonly_error);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, shownProxy);
    lua_pushvalue(L, shownProxy);
    lua_pushvalue(L, shown);
    lua_rawset(L, set);
    lua_pushvalue(L, shownProxy);
    lua_setfield(L, meta, "__metatable");

    lua_pushvalue(L, meta);
    lua_setmetatable(L, proxy);
    lua_pushvalue(L, proxy);
    lua_pushvalue(L, real);
    lua_rawset(L, set);
    lua_pushvalue(L, proxy);
    lua_replace(L, real);
    lua_settop(L, real);
}

static const char ERROR_HANDLER[] =
    "local getinfo = debug.getinfo\n"
    "function __redis__err__handler(e)\n"
    "  local frame = getinfo(2, 'nSl')\n"
    "  if frame and frame.what == 'C' then frame = getinfo(3, 'nSl') end\n"
    "  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end\n"
    "  if frame then\n"
    "    e['source'] = frame.source\n"
    "    e['line'] = frame.currentline\n"
    "  end\n"
    "  return e\n"
    "end\n";

/// Opens a library and makes sure it is the global `name` (Debian's lua-cjson returns its
/// table without registering a global).
static void open_lib(lua_State *L, const char *name, lua_CFunction open) {
    lua_pushcfunction(L, open);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (name[0] && lua_istable(L, -1)) lua_setfield(L, LUA_GLOBALSINDEX, name);
    else lua_pop(L, 1);
}

static void set_function(lua_State *L, const char *name, lua_CFunction f, apus_lua_vm *vm) {
    lua_pushlightuserdata(L, vm);
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, -2, name);
}

static void set_number(lua_State *L, const char *name, double value) {
    lua_pushnumber(L, value);
    lua_setfield(L, -2, name);
}

static int setup(lua_State *L) {
    apus_lua_vm *vm = lua_touserdata(L, 1);
    lua_pushlightuserdata(L, vm);
    lua_setfield(L, LUA_REGISTRYINDEX, VM_KEY);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushstring(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, READONLY_KEY);

    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_DBLIBNAME, luaopen_debug);
    open_lib(L, "cjson", luaopen_cjson);
    open_lib(L, "struct", luaopen_struct);
    open_lib(L, "cmsgpack", luaopen_cmsgpack);
    open_lib(L, "bit", luaopen_bit);

    lua_pushvalue(L, LUA_GLOBALSINDEX);
    int globals = lua_gettop(L);
    // Redis never adds these to the globals.
    static const char *const denied[] = {"dofile", "loadfile", "print", NULL};
    for (int i = 0; denied[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, globals, denied[i]);
    }
    lua_pushcfunction(L, global_pcall);
    lua_setfield(L, globals, "pcall");
    lua_pushcfunction(L, sandbox_rawset);
    lua_setfield(L, globals, "rawset");
    lua_pushcfunction(L, sandbox_loadstring);
    lua_setfield(L, globals, "loadstring");
    lua_pushcfunction(L, sandbox_load);
    lua_setfield(L, globals, "load");
    lua_pushcfunction(L, sandbox_setmetatable);
    lua_setfield(L, globals, "setmetatable");
    lua_pushcfunction(L, sandbox_next);
    lua_pushvalue(L, -1);
    lua_setfield(L, globals, "next");
    lua_pushcclosure(L, sandbox_pairs, 1);
    lua_setfield(L, globals, "pairs");
    // cjson's lua-cjson 2.1 extras Redis's bundled copy does not have.
    lua_getfield(L, globals, "cjson");
    lua_pushnil(L);
    lua_setfield(L, -2, "new");
    lua_pop(L, 1);

    lua_newtable(L);
    set_function(L, "call", redis_call, vm);
    set_function(L, "pcall", redis_pcall, vm);
    set_function(L, "log", redis_log, vm);
    set_number(L, "LOG_DEBUG", 0);
    set_number(L, "LOG_VERBOSE", 1);
    set_number(L, "LOG_NOTICE", 2);
    set_number(L, "LOG_WARNING", 3);
    set_number(L, "REDIS_VERSION_NUM", 0x070204);
    lua_pushstring(L, "7.2.4");
    lua_setfield(L, -2, "REDIS_VERSION");
    set_function(L, "setresp", redis_setresp, vm);
    set_function(L, "sha1hex", redis_sha1hex, vm);
    set_function(L, "error_reply", redis_error_reply, vm);
    set_function(L, "status_reply", redis_status_reply, vm);
    set_function(L, "set_repl", redis_set_repl, vm);
    set_number(L, "REPL_NONE", 0);
    set_number(L, "REPL_AOF", 1);
    set_number(L, "REPL_SLAVE", 2);
    set_number(L, "REPL_REPLICA", 2);
    set_number(L, "REPL_ALL", 3);
    set_function(L, "replicate_commands", redis_replicate_commands, vm);
    set_function(L, "breakpoint", redis_breakpoint, vm);
    set_function(L, "debug", redis_debug, vm);
    lua_setfield(L, globals, "redis");

    lua_getfield(L, globals, "math");
    set_function(L, "random", math_random, vm);
    set_function(L, "randomseed", math_randomseed, vm);
    lua_pop(L, 1);

    if (luaL_loadbuffer(L, ERROR_HANDLER, sizeof ERROR_HANDLER - 1, "@err_handler_def")) return lua_error(L);
    lua_call(L, 0, 0);
    lua_pushnil(L);
    lua_setfield(L, globals, "debug");

    // Libraries become readonly proxies; the globals table itself is replaced by one whose
    // misses fall to the real table, whose misses raise "nonexistent global variable".
    static const char *const libraries[] = {"redis", "string", "math", "table", "cjson", "bit", "struct",
                                            "cmsgpack", "coroutine", NULL};
    for (int i = 0; libraries[i]; i++) {
        lua_getfield(L, globals, libraries[i]);
        if (!lua_istable(L, -1)) { lua_pop(L, 1); continue; }
        make_readonly(L);
        lua_setfield(L, globals, libraries[i]);
    }
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, globals);
    lua_pushvalue(L, globals);
    make_readonly(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, globals, "_G");
    lua_replace(L, LUA_GLOBALSINDEX);
    vm->rand48 = 0x1234ABCD330EULL;
    return 0;
}

apus_lua_vm *apus_lua_new(void) {
    apus_lua_vm *vm = calloc(1, sizeof *vm);
    if (!vm) return NULL;
    vm->L = luaL_newstate();
    if (!vm->L || lua_cpcall(vm->L, setup, vm) != 0) {
        if (vm->L) lua_close(vm->L);
        free(vm);
        return NULL;
    }
    vm->resp = 2;
    return vm;
}

void apus_lua_free(apus_lua_vm *vm) {
    if (!vm) return;
    lua_close(vm->L);
    apus_buf_free(&vm->reply);
    free(vm->argv);
    free(vm->lengths);
    free(vm->numbers);
    free(vm);
}

size_t apus_lua_memory(apus_lua_vm *vm) { return (size_t)lua_gc(vm->L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(vm->L, LUA_GCCOUNTB, 0); }

/// Globals of the real table (behind the readonly proxy), pushed.
static void push_real_globals(lua_State *L) {
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    push_real(L, -1);
    lua_remove(L, -2);
}

// MARK: Loading and running

struct load_args {
    const char *name, *body;
    size_t length, skip;
    apus_buf *error;
    int failed;
};

static int load_protected(lua_State *L) {
    struct load_args *a = lua_touserdata(L, 1);
    if (luaL_loadbuffer(L, a->body + a->skip, a->length - a->skip, "@user_script")) {
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        if (msg) apus_buf_append(a->error, msg, len);
        a->failed = 1;
        return 0;
    }
    lua_setfield(L, LUA_REGISTRYINDEX, a->name);
    return 0;
}

int apus_lua_load(apus_lua_vm *vm, const char *name, const char *body, size_t length, size_t skip, apus_buf *error) {
    struct load_args a = {name, body, length, skip, error, 0};
    if (lua_cpcall(vm->L, load_protected, &a) != 0) {
        buf_str(error, "out of memory");
        lua_pop(vm->L, 1);
        return 1;
    }
    return a.failed;
}

struct exists_args { const char *name; int found; };

static int exists_protected(lua_State *L) {
    struct exists_args *a = lua_touserdata(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, a->name);
    a->found = !lua_isnil(L, -1);
    return 0;
}

int apus_lua_exists(apus_lua_vm *vm, const char *name) {
    struct exists_args a = {name, 0};
    if (lua_cpcall(vm->L, exists_protected, &a) != 0) {
        lua_pop(vm->L, 1);
        return 0;
    }
    return a.found;
}

static void kill_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    apus_lua_vm *vm = vm_of(L);
    if (vm->host && vm->host->interrupt && vm->host->interrupt(vm->host->context)) {
        // Fire on every line from now on so pcall cannot swallow the kill for long.
        lua_sethook(L, kill_hook, LUA_MASKLINE, 0);
        push_error_cstr(L, "Script killed by user with SCRIPT KILL...");
        lua_error(L);
    }
}

struct eval_args {
    apus_lua_vm *vm;
    const char *name;
    int nkeys, nargs;
    const char *const *keys, *const *args;
    const size_t *key_lengths, *arg_lengths;
    int caller_resp;
    apus_buf *out;
    int is_error;
    /// A chunk to run instead of a named function (tests).
    const char *chunk;
    size_t chunk_length;
};

static void set_array(lua_State *L, int globals, const char *name, int n, const char *const *items, const size_t *lengths) {
    lua_createtable(L, n, 0);
    for (int j = 0; j < n; j++) {
        lua_pushlstring(L, items[j], lengths[j]);
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, globals, name);
}

/// Formats a failed run the way luaCallFunction does (the error value is on top).
static void error_reply_from(lua_State *L, const char *funcname, apus_buf *out) {
    int error = lua_gettop(L);
    if (!lua_istable(L, error)) {
        const char *msg = lua_isstring(L, error) ? lua_tostring(L, error) : "execution failure";
        lua_pushfstring(L, "ERR Error running script %s, %s", funcname, msg);
    } else {
        lua_getfield(L, error, "err");
        if (!lua_isstring(L, -1)) { lua_pop(L, 1); lua_pushstring(L, ""); }
        lua_getfield(L, error, "source");
        lua_getfield(L, error, "line");
        if (lua_isstring(L, -2) && lua_isstring(L, -1)) {
            lua_pushfstring(L, "%s script: %s, on %s:%s.", lua_tostring(L, -3), funcname, lua_tostring(L, -2),
                            lua_tostring(L, -1));
        } else {
            lua_pushvalue(L, -3);
        }
    }
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    const char *nul = memchr(msg, 0, len);
    buf_line(out, '-', msg, nul ? (size_t)(nul - msg) : len);
    lua_settop(L, error - 1);
}

static int eval_protected(lua_State *L) {
    struct eval_args *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    push_real_globals(L);
    int globals = lua_gettop(L);
    lua_getfield(L, globals, "__redis__err__handler");
    int handler = lua_gettop(L);
    if (a->chunk) {
        if (luaL_loadbuffer(L, a->chunk, a->chunk_length, "@user_script")) {
            size_t len;
            const char *msg = lua_tolstring(L, -1, &len);
            buf_line(a->out, '-', msg, len);
            a->is_error = 1;
            return 0;
        }
    } else {
        lua_getfield(L, LUA_REGISTRYINDEX, a->name);
    }
    set_array(L, globals, "KEYS", a->nkeys, a->keys, a->key_lengths);
    set_array(L, globals, "ARGV", a->nargs, a->args, a->arg_lengths);
    int failed = lua_pcall(L, 0, 1, handler);
    if (failed) {
        error_reply_from(L, a->name + 2, a->out);
        a->is_error = 1;
    } else {
        size_t before = a->out->len;
        lua_to_resp(L, a->caller_resp, a->vm->resp, a->out);
        a->is_error = a->out->len > before && a->out->data[before] == '-';
    }
    return 0;
}

static int run(apus_lua_vm *vm, struct eval_args *a, int hook_count) {
    lua_State *L = vm->L;
    vm->resp = 2;
    if (hook_count > 0) lua_sethook(L, kill_hook, LUA_MASKCOUNT, hook_count);
    size_t start = a->out->len;
    if (lua_cpcall(L, eval_protected, a) != 0) {
        a->out->len = start;
        const char *msg = lua_tostring(L, -1);
        char tmp[256];
        int len = snprintf(tmp, sizeof tmp, "ERR %s", msg ? msg : "execution failure");
        buf_line(a->out, '-', tmp, (size_t)len < sizeof tmp ? (size_t)len : sizeof tmp - 1);
        lua_pop(L, 1);
        a->is_error = 1;
    }
    if (hook_count > 0) lua_sethook(L, NULL, 0, 0);
    // Collect a little every 50 runs, like Redis, instead of letting Lua do a full cycle.
    static int runs = 0;
    if (++runs == 50) {
        lua_gc(L, LUA_GCSTEP, 50);
        runs = 0;
    }
    vm->host = NULL;
    return a->is_error;
}

int apus_lua_eval(apus_lua_vm *vm, const char *name, const apus_lua_host *host,
                  int nkeys, const char *const *keys, const size_t *key_lengths,
                  int nargs, const char *const *args, const size_t *arg_lengths,
                  int caller_resp, int hook_count, apus_buf *out) {
    struct eval_args a = {vm, name, nkeys, nargs, keys, args, key_lengths, arg_lengths, caller_resp, out, 0, NULL, 0};
    vm->host = host;
    return run(vm, &a, hook_count);
}

int apus_lua_run_chunk(apus_lua_vm *vm, const char *body, size_t length, int caller_resp, apus_buf *out) {
    struct eval_args a = {vm, "f_chunk", 0, 0, NULL, NULL, NULL, NULL, caller_resp, out, 0, body, length};
    vm->host = NULL;
    return run(vm, &a, 0);
}

struct roundtrip_args {
    const char *reply;
    size_t length;
    int script_resp, caller_resp;
    apus_buf *out;
    int ok;
};

static int roundtrip_protected(lua_State *L) {
    struct roundtrip_args *a = lua_touserdata(L, 1);
    const char *p = a->reply;
    if (!resp_to_lua(L, &p, a->reply + a->length, 1)) return 0;
    lua_to_resp(L, a->caller_resp, a->script_resp, a->out);
    a->ok = 1;
    return 0;
}

int apus_lua_roundtrip(apus_lua_vm *vm, const char *reply, size_t length, int script_resp, int caller_resp, apus_buf *out) {
    struct roundtrip_args a = {reply, length, script_resp, caller_resp, out, 0};
    if (lua_cpcall(vm->L, roundtrip_protected, &a) != 0) {
        lua_pop(vm->L, 1);
        return 0;
    }
    return a.ok;
}

// MARK: SHA1 (redis.sha1hex)

typedef struct { uint32_t h[5]; uint64_t bits; unsigned char block[64]; size_t used; } sha1_ctx;

static uint32_t rol(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(sha1_ctx *c, const unsigned char *p) {
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) { f = (b & cc) | (~b & d); k = 0x5A827999; }
        else if (i < 40) { f = b ^ cc ^ d; k = 0x6ED9EBA1; }
        else if (i < 60) { f = (b & cc) | (b & d) | (cc & d); k = 0x8F1BBCDC; }
        else { f = b ^ cc ^ d; k = 0xCA62C1D6; }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d; d = cc; cc = rol(b, 30); b = a; a = t;
    }
    c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e;
}

static void sha1_hex(const unsigned char *data, size_t len, char out[41]) {
    sha1_ctx c = {{0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0}, 0, {0}, 0};
    c.bits = (uint64_t)len * 8;
    while (len >= 64) { sha1_block(&c, data); data += 64; len -= 64; }
    unsigned char tail[128] = {0};
    memcpy(tail, data, len);
    tail[len] = 0x80;
    size_t total = len + 9 <= 64 ? 64 : 128;
    for (int i = 0; i < 8; i++) tail[total - 1 - i] = (unsigned char)(c.bits >> (8 * i));
    sha1_block(&c, tail);
    if (total == 128) sha1_block(&c, tail + 64);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        unsigned char byte = (unsigned char)(c.h[i / 4] >> (24 - 8 * (i % 4)));
        out[2 * i] = digits[byte >> 4];
        out[2 * i + 1] = digits[byte & 15];
    }
    out[40] = 0;
}

// MARK: For the functions engine (apus_functions.c, through apus_lua_internal.h)

lua_State *apus_lua_state(apus_lua_vm *vm) { return vm->L; }

void apus_lua_push_error(lua_State *L, const char *message) { push_error_cstr(L, message); }

void apus_lua_make_readonly(lua_State *L) { make_readonly(L); }

void apus_lua_push_readonly_target(lua_State *L, int index) { push_real(L, index); }

void apus_lua_set_error_metatable(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
}

void apus_lua_reply(lua_State *L, int caller_resp, apus_buf *out) { lua_to_resp(L, caller_resp, vm_of(L)->resp, out); }

void apus_lua_error_reply(lua_State *L, const char *funcname, apus_buf *out) { error_reply_from(L, funcname, out); }

int apus_lua_run_protected(apus_lua_vm *vm, const apus_lua_host *host, int hook_count, lua_CFunction body, void *ud,
                           apus_buf *out) {
    lua_State *L = vm->L;
    vm->resp = 2;
    vm->host = host;
    if (hook_count > 0) lua_sethook(L, kill_hook, LUA_MASKCOUNT, hook_count);
    size_t start = out->len;
    int failed = 0;
    if (lua_cpcall(L, body, ud) != 0) {
        out->len = start;
        const char *msg = lua_tostring(L, -1);
        char tmp[256];
        int len = snprintf(tmp, sizeof tmp, "ERR %s", msg ? msg : "execution failure");
        buf_line(out, '-', tmp, (size_t)len < sizeof tmp ? (size_t)len : sizeof tmp - 1);
        lua_pop(L, 1);
        failed = 1;
    }
    if (hook_count > 0) lua_sethook(L, NULL, 0, 0);
    static int runs = 0;
    if (++runs == 50) {
        lua_gc(L, LUA_GCSTEP, 50);
        runs = 0;
    }
    vm->host = NULL;
    return failed;
}
