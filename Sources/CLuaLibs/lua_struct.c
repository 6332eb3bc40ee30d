// The `struct` library Redis scripts rely on (struct.pack / struct.unpack / struct.size),
// with the behaviour of Roberto Ierusalimschy's struct library as bundled by Redis.

#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>

#define MAX_INTSIZE 32

typedef struct {
    int little;  // little-endian?
    int align;   // maximum alignment
} format_state;

static int is_little_host(void) {
    const uint16_t one = 1;
    return *(const char *)&one == 1;
}

/// Reads an optional size after an option character.
static int read_number(const char **fmt, int fallback) {
    if (!isdigit((unsigned char)**fmt)) return fallback;
    int a = 0;
    do {
        a = a * 10 + (*((*fmt)++) - '0');
    } while (isdigit((unsigned char)**fmt) && a <= (INT_MAX - 9) / 10);
    return a;
}

static size_t option_size(lua_State *L, char opt, const char **fmt) {
    switch (opt) {
    case 'B': case 'b': return 1;
    case 'H': case 'h': return sizeof(short);
    case 'L': case 'l': return sizeof(long);
    case 'T': return sizeof(size_t);
    case 'f': return sizeof(float);
    case 'd': return sizeof(double);
    case 'x': return 1;
    case 'c': return (size_t)read_number(fmt, 1);
    case 'i': case 'I': {
        int size = read_number(fmt, sizeof(int));
        if (size > MAX_INTSIZE) luaL_error(L, "integral size %d is larger than limit of %d", size, MAX_INTSIZE);
        return (size_t)size;
    }
    default: return 0;  // other options: no size
    }
}

static int gap_for(const format_state *h, size_t len, size_t size, char opt) {
    if (opt == 'c' || opt == 's') return 0;
    size_t align = size;
    if (align <= 1) return 0;
    if (align > (size_t)h->align) align = (size_t)h->align;
    if ((align & (align - 1)) != 0) return -1;
    return (int)((align - (len & (align - 1))) & (align - 1));
}

/// Handles the options that change state; returns 1 for them.
static int control_option(lua_State *L, int opt, const char **fmt, format_state *h) {
    switch (opt) {
    case ' ': return 1;
    case '>': h->little = 0; return 1;
    case '<': h->little = 1; return 1;
    case '!': {
        int a = read_number(fmt, (int)offsetof(struct { char c; double d; }, d));
        if ((a & (a - 1)) != 0) luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return 1;
    }
    default: return 0;
    }
}

static void put_integral(luaL_Buffer *b, lua_Number n, int little, int size) {
    unsigned char buf[MAX_INTSIZE];
    uint64_t value = n < 0 ? (uint64_t)(int64_t)n : (uint64_t)n;
    for (int i = 0; i < size; i++) {
        buf[little ? i : size - 1 - i] = (unsigned char)(i < 8 ? value & 0xff : (n < 0 ? 0xff : 0));
        if (i < 8) value >>= 8;
    }
    luaL_addlstring(b, (char *)buf, (size_t)size);
}

static void put_float(luaL_Buffer *b, const void *bytes, int size, int little) {
    unsigned char buf[8];
    memcpy(buf, bytes, (size_t)size);
    if (little != is_little_host()) {
        for (int i = 0; i < size / 2; i++) {
            unsigned char t = buf[i];
            buf[i] = buf[size - 1 - i];
            buf[size - 1 - i] = t;
        }
    }
    luaL_addlstring(b, (char *)buf, (size_t)size);
}

static int struct_pack(lua_State *L) {
    luaL_Buffer b;
    const char *fmt = luaL_checkstring(L, 1);
    format_state h = {is_little_host(), 1};
    int arg = 2;
    size_t total = 0;
    lua_pushnil(L);  // mark for the buffer
    luaL_buffinit(L, &b);
    while (*fmt != '\0') {
        int opt = *fmt++;
        if (control_option(L, opt, &fmt, &h)) continue;
        size_t size = option_size(L, (char)opt, &fmt);
        int gap = gap_for(&h, total, size, (char)opt);
        if (gap < 0) luaL_error(L, "format asks for alignment not power of 2");
        total += (size_t)gap;
        while (gap-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I':
            put_integral(&b, luaL_checknumber(L, arg++), h.little, (int)size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            put_float(&b, &f, (int)size, h.little);
            break;
        }
        case 'd': {
            double d = luaL_checknumber(L, arg++);
            put_float(&b, &d, (int)size, h.little);
            break;
        }
        case 'c': case 's': {
            size_t l;
            const char *s = luaL_checklstring(L, arg++, &l);
            if (size == 0) size = l;
            luaL_argcheck(L, l >= size, arg - 1, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            luaL_error(L, "invalid format option '%c'", opt);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number get_integral(const char *buf, int little, int issigned, int size) {
    uint64_t value = 0;
    int limit = size <= 8 ? size : 8;
    for (int i = 0; i < limit; i++) {
        value <<= 8;
        value |= (unsigned char)buf[little ? limit - 1 - i : size - limit + i];
    }
    if (!issigned) return (lua_Number)value;
    if (size < 8) {
        uint64_t mask = (uint64_t)1 << (size * 8 - 1);
        value = (value ^ mask) - mask;
    }
    return (lua_Number)(int64_t)value;
}

static int struct_unpack(lua_State *L) {
    format_state h = {is_little_host(), 1};
    const char *fmt = luaL_checkstring(L, 1);
    size_t ld;
    const char *data = luaL_checklstring(L, 2, &ld);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1) - 1;
    luaL_argcheck(L, pos <= ld, 3, "offset must be 1 or greater");
    lua_settop(L, 2);
    while (*fmt) {
        int opt = *fmt++;
        if (control_option(L, opt, &fmt, &h)) continue;
        size_t size = option_size(L, (char)opt, &fmt);
        int gap = gap_for(&h, pos, size, (char)opt);
        if (gap < 0) luaL_error(L, "format asks for alignment not power of 2");
        pos += (size_t)gap;
        luaL_argcheck(L, pos <= ld && ld - pos >= size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L': case 'T': case 'i': case 'I': {
            int issigned = islower(opt);
            lua_pushnumber(L, get_integral(data + pos, h.little, issigned, (int)size));
            break;
        }
        case 'x':
            break;
        case 'f': {
            float f;
            unsigned char buf[4];
            memcpy(buf, data + pos, 4);
            if (h.little != is_little_host()) {
                unsigned char t = buf[0]; buf[0] = buf[3]; buf[3] = t;
                t = buf[1]; buf[1] = buf[2]; buf[2] = t;
            }
            memcpy(&f, buf, 4);
            lua_pushnumber(L, (lua_Number)f);
            break;
        }
        case 'd': {
            double d;
            unsigned char buf[8];
            memcpy(buf, data + pos, 8);
            if (h.little != is_little_host()) {
                for (int i = 0; i < 4; i++) { unsigned char t = buf[i]; buf[i] = buf[7 - i]; buf[7 - i] = t; }
            }
            memcpy(&d, buf, 8);
            lua_pushnumber(L, d);
            break;
        }
        case 'c': {
            if (size == 0) {
                if (lua_gettop(L) == 2 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)lua_tonumber(L, -1);
                lua_pop(L, 1);
                luaL_argcheck(L, pos <= ld && ld - pos >= size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            break;
        }
        case 's': {
            const char *end = memchr(data + pos, '\0', ld - pos);
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(end - data - pos);
            lua_pushlstring(L, data + pos, size);
            size++;
            break;
        }
        default:
            luaL_error(L, "invalid format option '%c'", opt);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos + 1);
    return lua_gettop(L) - 2;
}

static int struct_size(lua_State *L) {
    format_state h = {is_little_host(), 1};
    const char *fmt = luaL_checkstring(L, 1);
    size_t pos = 0;
    while (*fmt) {
        int opt = *fmt++;
        if (control_option(L, opt, &fmt, &h)) continue;
        size_t size = option_size(L, (char)opt, &fmt);
        int gap = gap_for(&h, pos, size, (char)opt);
        if (gap < 0) luaL_error(L, "format asks for alignment not power of 2");
        pos += (size_t)gap;
        if (opt == 's') luaL_argerror(L, 1, "options 's' has no fixed size");
        else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!strchr("bBhHlLTiIxfdc", opt)) luaL_error(L, "invalid format option '%c'", opt);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

static const luaL_Reg struct_functions[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {NULL, NULL},
};

int luaopen_struct(lua_State *L) {
    luaL_register(L, "struct", struct_functions);
    return 1;
}
