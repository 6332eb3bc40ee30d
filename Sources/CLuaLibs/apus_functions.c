// The Lua engine of Redis Functions (Redis 7.2's function_lua.c semantics): the load-time
// sandbox, redis.register_function, and calling registered functions.
//
// The interpreter is one made by apus_lua_new (same libraries, redis.* API and readonly
// globals as EVAL's), turned into a functions engine by apus_fn_setup: the globals proxy's
// metatable `__index` is switched between the library API (only `redis` with
// register_function, log, LOG_* and the version fields, everything else a nonexistent
// global) while a library loads, and a readonly view of the real globals while functions run.

#include "apus_functions.h"
#include "apus_lua_internal.h"
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <time.h>
#include <stdint.h>

static const char *CTX_KEY = "apus_fn_ctx";
static const char *GLOBALS_API_KEY = "apus_fn_globals_api";
static const char *LIBRARY_API_KEY = "apus_fn_library_api";
static const char *REAL_GLOBALS_KEY = "apus_fn_real_globals";

static const char *const FLAG_NAMES[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                         "allow-cross-slot-keys", NULL};

/// The engine's state in the interpreter (a userdata in the registry): whether a library is
/// loading, its deadline, and the functions it registered so far.
typedef struct fn_ctx {
    int loading;
    long timeout_ms;
    struct timespec start;
    apus_fn_info *items;
    int count, cap;
} fn_ctx;

static void info_release(apus_fn_info *f) {
    free(f->name);
    free(f->desc);
    f->name = f->desc = NULL;
}

void apus_fn_info_free(apus_fn_info *functions, int count) {
    if (!functions) return;
    for (int i = 0; i < count; i++) info_release(&functions[i]);
    free(functions);
}

static int ctx_gc(lua_State *L) {
    fn_ctx *ctx = lua_touserdata(L, 1);
    apus_fn_info_free(ctx->items, ctx->count);
    ctx->items = NULL;
    ctx->count = ctx->cap = 0;
    return 0;
}

static fn_ctx *ctx_of(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, CTX_KEY);
    fn_ctx *ctx = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return ctx;
}

static long elapsed_ms(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

// MARK: redis.register_function

static int fail_with(lua_State *L, const char *message) {
    apus_lua_push_error(L, message);
    return lua_error(L);
}

/// A string argument as Redis's luaGetStringSds reads it (numbers convert), malloc'd; NULL
/// when it is neither.
static char *copy_string(lua_State *L, int index, size_t *len) {
    if (!lua_isstring(L, index)) return NULL;
    const char *s = lua_tolstring(L, index, len);
    char *copy = malloc(*len + 1);
    if (!copy) abort();
    memcpy(copy, s, *len);
    copy[*len] = 0;
    return copy;
}

/// Reads the flags table on top of the stack (luaRegisterFunctionReadFlags): 0 on an
/// unknown flag or a non-string entry.
static int read_flags(lua_State *L, int *flags) {
    int result = 0;
    for (int j = 1;; j++) {
        lua_pushnumber(L, j);
        lua_gettable(L, -2);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        if (!lua_isstring(L, -1)) {
            lua_pop(L, 1);
            return 0;
        }
        const char *name = lua_tostring(L, -1);
        int found = 0;
        for (int i = 0; FLAG_NAMES[i]; i++) {
            if (!strcasecmp(FLAG_NAMES[i], name)) {
                result |= 1 << i;
                found = 1;
                break;
            }
        }
        lua_pop(L, 1);
        if (!found) return 0;
    }
    *flags = result;
    return 1;
}

static int valid_name(const char *name, size_t len) {
    if (len == 0) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

static int register_function(lua_State *L) {
    fn_ctx *ctx = lua_touserdata(L, lua_upvalueindex(1));
    if (!ctx->loading) return fail_with(L, "redis.register_function can only be called on FUNCTION LOAD command");
    apus_fn_info f = {NULL, 0, NULL, 0, 0, 0, LUA_NOREF};
    const char *err = NULL;
    int argc = lua_gettop(L);
    if (argc < 1 || argc > 2) return fail_with(L, "wrong number of arguments to redis.register_function");
    if (argc == 1) {
        // Named arguments (luaRegisterFunctionReadNamedArgs).
        if (!lua_istable(L, 1)) {
            return fail_with(L, "calling redis.register_function with a single argument is only applicable to Lua table "
                            "(representing named arguments).");
        }
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            if (!lua_isstring(L, -2)) {
                err = "named argument key given to redis.register_function is not a string";
                goto error;
            }
            const char *key = lua_tostring(L, -2);
            if (!strcasecmp(key, "function_name")) {
                free(f.name);
                if (!(f.name = copy_string(L, -1, &f.name_len))) {
                    err = "function_name argument given to redis.register_function must be a string";
                    goto error;
                }
            } else if (!strcasecmp(key, "description")) {
                free(f.desc);
                if (!(f.desc = copy_string(L, -1, &f.desc_len))) {
                    err = "description argument given to redis.register_function must be a string";
                    goto error;
                }
                f.has_desc = 1;
            } else if (!strcasecmp(key, "callback")) {
                if (!lua_isfunction(L, -1)) {
                    err = "callback argument given to redis.register_function must be a function";
                    goto error;
                }
                if (f.ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
                f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
                continue;  // luaL_ref popped the value
            } else if (!strcasecmp(key, "flags")) {
                if (!lua_istable(L, -1)) {
                    err = "flags argument to redis.register_function must be a table representing function flags";
                    goto error;
                }
                if (!read_flags(L, &f.flags)) {
                    err = "unknown flag given";
                    goto error;
                }
            } else {
                err = "unknown argument given to redis.register_function";
                goto error;
            }
            lua_pop(L, 1);
        }
        if (!f.name) {
            err = "redis.register_function must get a function name argument";
            goto error;
        }
        if (f.ref == LUA_NOREF) {
            err = "redis.register_function must get a callback argument";
            goto error;
        }
    } else {
        if (!(f.name = copy_string(L, 1, &f.name_len))) {
            err = "first argument to redis.register_function must be a string";
            goto error;
        }
        if (!lua_isfunction(L, 2)) {
            err = "second argument to redis.register_function must be a function";
            goto error;
        }
        lua_settop(L, 2);
        f.ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    // functionLibCreateFunction
    if (!valid_name(f.name, f.name_len)) {
        err = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";
        goto error;
    }
    for (int i = 0; i < ctx->count; i++) {
        if (ctx->items[i].name_len == f.name_len && !memcmp(ctx->items[i].name, f.name, f.name_len)) {
            err = "Function already exists in the library";
            goto error;
        }
    }
    if (ctx->count == ctx->cap) {
        int cap = ctx->cap ? ctx->cap * 2 : 4;
        apus_fn_info *grown = realloc(ctx->items, sizeof *grown * (size_t)cap);
        if (!grown) abort();
        ctx->items = grown;
        ctx->cap = cap;
    }
    if (!f.has_desc) f.desc_len = 0;
    ctx->items[ctx->count++] = f;
    return 0;

error:
    info_release(&f);
    if (f.ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, f.ref);
    return fail_with(L, err);
}

// MARK: Set-up

static void copy_field(lua_State *L, int from, int to, const char *name) {
    lua_getfield(L, from, name);
    lua_setfield(L, to, name);
}

static int setup_protected(lua_State *L) {
    fn_ctx *ctx = lua_newuserdata(L, sizeof *ctx);
    memset(ctx, 0, sizeof *ctx);
    lua_newtable(L);
    lua_pushcfunction(L, ctx_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, CTX_KEY);

    // The globals proxy's metatable and the real globals behind it.
    if (!lua_getmetatable(L, LUA_GLOBALSINDEX)) return luaL_error(L, "globals are not sandboxed");
    int meta = lua_gettop(L);
    apus_lua_push_readonly_target(L, LUA_GLOBALSINDEX);
    int real = lua_gettop(L);
    if (!lua_istable(L, real) || lua_rawequal(L, real, LUA_GLOBALSINDEX)) return luaL_error(L, "globals are not sandboxed");
    lua_pushvalue(L, real);
    lua_setfield(L, LUA_REGISTRYINDEX, REAL_GLOBALS_KEY);
    // While functions run, globals resolve through a readonly view of the real table, so
    // `getmetatable(_G).__index` cannot be written through either.
    lua_pushvalue(L, real);
    apus_lua_make_readonly(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, GLOBALS_API_KEY);
    lua_setfield(L, meta, "__index");

    // The library API: `redis` with register_function, log, LOG_* and the version only.
    lua_newtable(L);
    int library = lua_gettop(L);
    lua_newtable(L);
    int redis = lua_gettop(L);
    lua_pushlightuserdata(L, ctx);
    lua_pushcclosure(L, register_function, 1);
    lua_setfield(L, redis, "register_function");
    lua_getfield(L, real, "redis");
    int full = lua_gettop(L);
    static const char *const shared[] = {"log", "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING",
                                         "REDIS_VERSION_NUM", "REDIS_VERSION", NULL};
    for (int i = 0; shared[i]; i++) copy_field(L, full, redis, shared[i]);
    lua_pop(L, 1);
    apus_lua_set_error_metatable(L);
    apus_lua_make_readonly(L);
    lua_setfield(L, library, "redis");
    apus_lua_set_error_metatable(L);
    apus_lua_make_readonly(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LIBRARY_API_KEY);
    return 0;
}

int apus_fn_setup(apus_lua_vm *vm) {
    lua_State *L = apus_lua_state(vm);
    if (lua_cpcall(L, setup_protected, NULL) != 0) {
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}

// MARK: Loading a library

struct create_args {
    const char *code;
    size_t length;
    long timeout_ms;
    apus_buf *error;
    apus_fn_info *functions;
    int count;
    int failed;
};

static void load_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    fn_ctx *ctx = ctx_of(L);
    if (ctx->timeout_ms > 0 && elapsed_ms(&ctx->start) > ctx->timeout_ms) {
        lua_sethook(L, load_hook, LUA_MASKLINE, 0);
        apus_lua_push_error(L, "FUNCTION LOAD timeout");
        lua_error(L);
    }
}

static void set_globals_index(lua_State *L, const char *key) {
    lua_getmetatable(L, LUA_GLOBALSINDEX);
    lua_getfield(L, LUA_REGISTRYINDEX, key);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

static void append(apus_buf *buf, const char *s) { apus_buf_append(buf, s, strlen(s)); }

/// Releases what a failed load registered.
static void drop_pending(lua_State *L, fn_ctx *ctx) {
    for (int i = 0; i < ctx->count; i++) {
        luaL_unref(L, LUA_REGISTRYINDEX, ctx->items[i].ref);
        info_release(&ctx->items[i]);
    }
    ctx->count = 0;
}

static int create_protected(lua_State *L) {
    struct create_args *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    fn_ctx *ctx = ctx_of(L);
    drop_pending(L, ctx);
    set_globals_index(L, LIBRARY_API_KEY);
    if (luaL_loadbuffer(L, a->code, a->length, "@user_function")) {
        append(a->error, "Error compiling function: ");
        size_t len;
        const char *msg = lua_tolstring(L, -1, &len);
        if (msg) apus_buf_append(a->error, msg, strlen(msg));
        lua_pop(L, 1);
        a->failed = 1;
    } else {
        ctx->loading = 1;
        ctx->timeout_ms = a->timeout_ms;
        clock_gettime(CLOCK_MONOTONIC, &ctx->start);
        lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
        int failed = lua_pcall(L, 0, 0, 0);
        lua_sethook(L, NULL, 0, 0);
        ctx->loading = 0;
        if (failed) {
            // luaExtractErrorInformation: a string becomes "ERR <string>", a table gives its err.
            append(a->error, "Error registering functions: ");
            if (lua_isstring(L, -1)) {
                append(a->error, "ERR ");
                append(a->error, lua_tostring(L, -1));
            } else if (lua_istable(L, -1)) {
                lua_getfield(L, -1, "err");
                append(a->error, lua_isstring(L, -1) ? lua_tostring(L, -1) : "(null)");
                lua_pop(L, 1);
            } else {
                append(a->error, "(null)");
            }
            lua_pop(L, 1);
            a->failed = 1;
            drop_pending(L, ctx);
        }
    }
    set_globals_index(L, GLOBALS_API_KEY);
    if (!a->failed) {
        a->functions = ctx->items;
        a->count = ctx->count;
        ctx->items = NULL;
        ctx->count = ctx->cap = 0;
    }
    return 0;
}

int apus_fn_create(apus_lua_vm *vm, const char *code, size_t length, long timeout_ms, const apus_lua_host *host,
                   apus_buf *error, apus_fn_info **functions, int *count) {
    struct create_args a = {code, length, timeout_ms, error, NULL, 0, 0};
    apus_buf out = {0};
    *functions = NULL;
    *count = 0;
    if (apus_lua_run_protected(vm, host, 0, create_protected, &a, &out)) {
        lua_State *L = apus_lua_state(vm);
        lua_sethook(L, NULL, 0, 0);
        // Restores the runtime globals and forgets a half-done load (out of memory).
        lua_getfield(L, LUA_REGISTRYINDEX, GLOBALS_API_KEY);
        if (lua_getmetatable(L, LUA_GLOBALSINDEX)) {
            lua_pushvalue(L, -2);
            lua_setfield(L, -2, "__index");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        error->len = 0;
        append(error, "Error registering functions: ");
        if (out.len > 3) apus_buf_append(error, out.data + 1, out.len - 3);
        apus_buf_free(&out);
        return 1;
    }
    apus_buf_free(&out);
    if (a.failed) return 1;
    *functions = a.functions;
    *count = a.count;
    return 0;
}

static int unref_protected(lua_State *L) {
    int ref = (int)(intptr_t)lua_touserdata(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return 0;
}

void apus_fn_unref(apus_lua_vm *vm, int ref) {
    lua_State *L = apus_lua_state(vm);
    if (lua_cpcall(L, unref_protected, (void *)(intptr_t)ref) != 0) lua_pop(L, 1);
}

// MARK: Calling a function

struct call_args {
    int ref;
    const char *funcname;
    int nkeys, nargs;
    const char *const *keys, *const *args;
    const size_t *key_lengths, *arg_lengths;
    int caller_resp;
    apus_buf *out;
    int is_error;
};

static void push_array(lua_State *L, int n, const char *const *items, const size_t *lengths) {
    lua_createtable(L, n, 0);
    for (int j = 0; j < n; j++) {
        lua_pushlstring(L, items[j], lengths[j]);
        lua_rawseti(L, -2, j + 1);
    }
}

static int call_protected(lua_State *L) {
    struct call_args *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    lua_getfield(L, LUA_REGISTRYINDEX, REAL_GLOBALS_KEY);
    lua_getfield(L, -1, "__redis__err__handler");
    lua_remove(L, -2);
    int handler = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, a->ref);
    push_array(L, a->nkeys, a->keys, a->key_lengths);
    push_array(L, a->nargs, a->args, a->arg_lengths);
    if (lua_pcall(L, 2, 1, handler)) {
        apus_lua_error_reply(L, a->funcname, a->out);
        a->is_error = 1;
    } else {
        size_t before = a->out->len;
        apus_lua_reply(L, a->caller_resp, a->out);
        a->is_error = a->out->len > before && a->out->data[before] == '-';
    }
    return 0;
}

int apus_fn_call(apus_lua_vm *vm, int ref, const char *funcname, const apus_lua_host *host,
                 int nkeys, const char *const *keys, const size_t *key_lengths,
                 int nargs, const char *const *args, const size_t *arg_lengths,
                 int caller_resp, int hook_count, apus_buf *out) {
    struct call_args a = {ref, funcname, nkeys, nargs, keys, args, key_lengths, arg_lengths, caller_resp, out, 0};
    if (apus_lua_run_protected(vm, host, hook_count, call_protected, &a, out)) return 1;
    return a.is_error;
}
