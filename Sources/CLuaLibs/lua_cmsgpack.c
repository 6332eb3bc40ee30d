// The `cmsgpack` library Redis scripts rely on (MessagePack pack / unpack / unpack_one /
// unpack_limit), with the encoding choices of the lua-cmsgpack module Redis bundles.

#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_NESTING 16

#include <stdlib.h>

/// The output of the running pack (per thread, reused): encoding pushes and pops Lua values,
/// which a luaL_Buffer (kept on the Lua stack) does not allow.
typedef struct {
    char *data;
    size_t len, cap;
} out_buffer;

static _Thread_local out_buffer packed;

static void out_append(out_buffer *b, const char *s, size_t len) {
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len) cap *= 2;
        char *grown = realloc(b->data, cap);
        if (!grown) abort();
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
}

static void put_be(out_buffer *b, unsigned char tag, uint64_t v, int bytes) {
    unsigned char buf[9];
    buf[0] = tag;
    for (int i = 0; i < bytes; i++) buf[bytes - i] = (unsigned char)(v >> (8 * i));
    out_append(b, (char *)buf, (size_t)bytes + 1);
}

static void encode_int(out_buffer *b, int64_t n) {
    if (n >= 0) {
        if (n <= 127) put_be(b, (unsigned char)n, 0, 0);
        else if (n <= 0xff) put_be(b, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) put_be(b, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) put_be(b, 0xce, (uint64_t)n, 4);
        else put_be(b, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) put_be(b, (unsigned char)(int8_t)n, 0, 0);
        else if (n >= -128) put_be(b, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768) put_be(b, 0xd1, (uint64_t)n, 2);
        else if (n >= -2147483648LL) put_be(b, 0xd2, (uint64_t)n, 4);
        else put_be(b, 0xd3, (uint64_t)n, 8);
    }
}

static void encode_number(out_buffer *b, lua_Number n) {
    if (!isinf(n) && !isnan(n) && n == (lua_Number)(int64_t)n && fabs(n) < 9.3e18) {
        encode_int(b, (int64_t)n);
        return;
    }
    float f = (float)n;
    if ((lua_Number)f == n) {
        uint32_t bits;
        memcpy(&bits, &f, 4);
        put_be(b, 0xca, bits, 4);
    } else {
        uint64_t bits;
        memcpy(&bits, &n, 8);
        put_be(b, 0xcb, bits, 8);
    }
}

static void encode_string(out_buffer *b, const char *s, size_t len) {
    if (len < 32) put_be(b, (unsigned char)(0xa0 | len), 0, 0);
    else if (len <= 0xff) put_be(b, 0xd9, len, 1);
    else if (len <= 0xffff) put_be(b, 0xda, len, 2);
    else put_be(b, 0xdb, len, 4);
    out_append(b, s, len);
}

/// 1 when the table at the top holds exactly the keys 1..n (an empty table counts as an array).
static int table_is_array(lua_State *L, size_t *count) {
    size_t n = 0;
    lua_Number max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            lua_pop(L, 1);
            return 0;
        }
        lua_Number k = lua_tonumber(L, -1);
        if (k <= 0 || floor(k) != k) {
            lua_pop(L, 1);
            return 0;
        }
        if (k > max) max = k;
        n++;
    }
    *count = n;
    return max == (lua_Number)n;
}

static void encode(lua_State *L, out_buffer *b, int level);

static void encode_table(lua_State *L, out_buffer *b, int level) {
    size_t n = 0;
    if (table_is_array(L, &n)) {
        if (n < 16) put_be(b, (unsigned char)(0x90 | n), 0, 0);
        else if (n <= 0xffff) put_be(b, 0xdc, n, 2);
        else put_be(b, 0xdd, n, 4);
        for (size_t j = 1; j <= n; j++) {
            lua_rawgeti(L, -1, (int)j);
            encode(L, b, level + 1);
        }
        return;
    }
    n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) { lua_pop(L, 1); n++; }
    if (n < 16) put_be(b, (unsigned char)(0x80 | n), 0, 0);
    else if (n <= 0xffff) put_be(b, 0xde, n, 2);
    else put_be(b, 0xdf, n, 4);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        encode(L, b, level + 1);  // key
        encode(L, b, level + 1);  // value
    }
}

/// Encodes and pops the value at the top. The buffer lives below the values being encoded,
/// so intermediate pushes are kept balanced around every luaL_add call.
static void encode(lua_State *L, out_buffer *b, int level) {
    luaL_checkstack(L, 4, "stack overflow in cmsgpack.pack");
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        encode_string(b, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        put_be(b, lua_toboolean(L, -1) ? 0xc3 : 0xc2, 0, 0);
        break;
    case LUA_TNUMBER:
        encode_number(b, lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        if (level >= MAX_NESTING) put_be(b, 0xc0, 0, 0);
        else encode_table(L, b, level);
        break;
    default:
        put_be(b, 0xc0, 0, 0);
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    packed.len = 0;
    for (int i = 1; i <= nargs; i++) {
        lua_pushvalue(L, i);
        encode(L, &packed, 0);
    }
    lua_pushlstring(L, packed.data ? packed.data : "", packed.len);
    return 1;
}

typedef struct {
    const unsigned char *p;
    size_t left;
    int error;  // 0 ok, 1 missing bytes, 2 bad format
} cursor;

static uint64_t take_be(cursor *c, int bytes) {
    if (c->left < (size_t)bytes) {
        c->error = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | c->p[i];
    c->p += bytes;
    c->left -= (size_t)bytes;
    return v;
}

static void decode(lua_State *L, cursor *c);

static void decode_string(lua_State *L, cursor *c, size_t len) {
    if (c->left < len) {
        c->error = 1;
        return;
    }
    lua_pushlstring(L, (const char *)c->p, len);
    c->p += len;
    c->left -= len;
}

static void decode_array(lua_State *L, cursor *c, size_t n) {
    lua_newtable(L);
    for (size_t j = 1; j <= n && !c->error; j++) {
        lua_pushnumber(L, (lua_Number)j);
        decode(L, c);
        if (c->error) return;
        lua_settable(L, -3);
    }
}

static void decode_map(lua_State *L, cursor *c, size_t n) {
    lua_newtable(L);
    for (size_t j = 0; j < n && !c->error; j++) {
        decode(L, c);
        if (c->error) return;
        decode(L, c);
        if (c->error) return;
        lua_settable(L, -3);
    }
}

static void decode(lua_State *L, cursor *c) {
    luaL_checkstack(L, 4, "too many nested values in cmsgpack.unpack");
    if (c->left < 1) {
        c->error = 1;
        return;
    }
    unsigned char tag = *c->p++;
    c->left--;
    if (tag <= 0x7f) { lua_pushnumber(L, tag); return; }
    if (tag >= 0xe0) { lua_pushnumber(L, (int8_t)tag); return; }
    if ((tag & 0xe0) == 0xa0) { decode_string(L, c, tag & 0x1f); return; }
    if ((tag & 0xf0) == 0x90) { decode_array(L, c, tag & 0x0f); return; }
    if ((tag & 0xf0) == 0x80) { decode_map(L, c, tag & 0x0f); return; }
    uint64_t v;
    switch (tag) {
    case 0xc0: lua_pushnil(L); return;
    case 0xc2: lua_pushboolean(L, 0); return;
    case 0xc3: lua_pushboolean(L, 1); return;
    case 0xca: {
        uint32_t bits = (uint32_t)take_be(c, 4);
        if (c->error) return;
        float f;
        memcpy(&f, &bits, 4);
        lua_pushnumber(L, (lua_Number)f);
        return;
    }
    case 0xcb: {
        uint64_t bits = take_be(c, 8);
        if (c->error) return;
        double d;
        memcpy(&d, &bits, 8);
        lua_pushnumber(L, d);
        return;
    }
    case 0xcc: v = take_be(c, 1); if (!c->error) lua_pushnumber(L, (lua_Number)v); return;
    case 0xcd: v = take_be(c, 2); if (!c->error) lua_pushnumber(L, (lua_Number)v); return;
    case 0xce: v = take_be(c, 4); if (!c->error) lua_pushnumber(L, (lua_Number)v); return;
    case 0xcf: v = take_be(c, 8); if (!c->error) lua_pushnumber(L, (lua_Number)v); return;
    case 0xd0: v = take_be(c, 1); if (!c->error) lua_pushnumber(L, (lua_Number)(int8_t)v); return;
    case 0xd1: v = take_be(c, 2); if (!c->error) lua_pushnumber(L, (lua_Number)(int16_t)v); return;
    case 0xd2: v = take_be(c, 4); if (!c->error) lua_pushnumber(L, (lua_Number)(int32_t)v); return;
    case 0xd3: v = take_be(c, 8); if (!c->error) lua_pushnumber(L, (lua_Number)(int64_t)v); return;
    case 0xc4: case 0xd9: v = take_be(c, 1); if (!c->error) decode_string(L, c, (size_t)v); return;
    case 0xc5: case 0xda: v = take_be(c, 2); if (!c->error) decode_string(L, c, (size_t)v); return;
    case 0xc6: case 0xdb: v = take_be(c, 4); if (!c->error) decode_string(L, c, (size_t)v); return;
    case 0xdc: v = take_be(c, 2); if (!c->error) decode_array(L, c, (size_t)v); return;
    case 0xdd: v = take_be(c, 4); if (!c->error) decode_array(L, c, (size_t)v); return;
    case 0xde: v = take_be(c, 2); if (!c->error) decode_map(L, c, (size_t)v); return;
    case 0xdf: v = take_be(c, 4); if (!c->error) decode_map(L, c, (size_t)v); return;
    default: c->error = 2; return;
    }
}

/// Decodes up to `limit` objects (0: all) from `offset`; returns how many values it pushed.
static int unpack_full(lua_State *L, int limit, int offset) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (offset < 0 || limit < 0) return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", offset, limit);
    if ((size_t)offset > len) return luaL_error(L, "Start offset %d greater than input length %d.", offset, (int)len);
    cursor c = {(const unsigned char *)s + offset, len - (size_t)offset, 0};
    int decode_all = (!limit && !offset);
    int count = 0;
    int base = lua_gettop(L);
    if (!decode_all) lua_pushnil(L);  // the next offset, set below
    for (; c.left > 0 && (!limit || count < limit); count++) {
        decode(L, &c);
        if (c.error == 1) return luaL_error(L, "Missing bytes in input.");
        if (c.error == 2) return luaL_error(L, "Bad data format in input.");
    }
    if (!decode_all) {
        int next = c.left > 0 ? (int)(len - c.left) : -1;
        lua_pushinteger(L, next);
        lua_replace(L, base + 1);
        return count + 1;
    }
    return count;
}

static int mp_unpack(lua_State *L) { return unpack_full(L, 0, 0); }

static int mp_unpack_one(lua_State *L) {
    int offset = (int)luaL_optinteger(L, 2, 0);
    lua_settop(L, 1);
    return unpack_full(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L) {
    int limit = (int)luaL_checkinteger(L, 2);
    int offset = (int)luaL_optinteger(L, 3, 0);
    lua_settop(L, 1);
    return unpack_full(L, limit, offset);
}

static const luaL_Reg cmsgpack_functions[] = {
    {"pack", mp_pack},
    {"unpack", mp_unpack},
    {"unpack_one", mp_unpack_one},
    {"unpack_limit", mp_unpack_limit},
    {NULL, NULL},
};

int luaopen_cmsgpack(lua_State *L) {
    luaL_register(L, "cmsgpack", cmsgpack_functions);
    lua_pushliteral(L, "lua-cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation.");
    lua_setfield(L, -2, "_DESCRIPTION");
    return 1;
}
