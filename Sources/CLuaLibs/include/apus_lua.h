#ifndef APUS_LUA_H
#define APUS_LUA_H
#include <stddef.h>
#include <stdint.h>

/// The Lua side of Redis scripting, in C so that no Lua error ever unwinds (longjmp) through
/// a Swift frame: every Lua API call that may raise runs inside a protected call made here,
/// and Swift is only reached through the plain callbacks of `apus_lua_host`, which never
/// touch the Lua state.

/// A growable byte buffer (RESP replies built from Lua values, command replies handed in).
typedef struct apus_buf {
    char *data;
    size_t len;
    size_t cap;
} apus_buf;

void apus_buf_append(apus_buf *buf, const void *bytes, size_t len);
void apus_buf_reset(apus_buf *buf);
void apus_buf_free(apus_buf *buf);

/// What a running script asks of the server. `context` is handed back to every callback.
typedef struct apus_lua_host {
    void *context;
    /// redis.call / redis.pcall: runs the command and appends its reply (RESP, in the version
    /// `resp` the script selected) to `reply`, or appends a rejection message (Redis's
    /// scriptCall errors, e.g. "Unknown Redis command called from script", no leading '-')
    /// to `reply` and returns 1.
    int (*call)(void *context, int argc, const char *const *argv, const size_t *lengths, int resp,
                apus_buf *reply);
    /// The periodic hook: returns 1 when the script must be killed (SCRIPT KILL).
    int (*interrupt)(void *context);
    /// redis.log (level 0 debug ... 3 warning).
    void (*log)(void *context, int level, const char *message, size_t length);
} apus_lua_host;

typedef struct apus_lua_vm apus_lua_vm;

/// A new interpreter with Redis's libraries, API and sandbox; NULL on failure.
apus_lua_vm *apus_lua_new(void);
void apus_lua_free(apus_lua_vm *vm);

/// Compiles `body` (its first `skip` bytes, a shebang line, are left out) as the function
/// named `name` ("f_<sha>"); 0 on success, else 1 with Lua's message in `error`.
int apus_lua_load(apus_lua_vm *vm, const char *name, const char *body, size_t length, size_t skip,
                  apus_buf *error);

/// Whether a function named `name` is loaded.
int apus_lua_exists(apus_lua_vm *vm, const char *name);

/// Calls the function `name` with KEYS and ARGV set from `keys` and `args` (EVAL), appending
/// the reply (RESP in `caller_resp`) to `out`. `hook_count` > 0 installs the interrupt hook
/// every that many instructions. Returns 1 when the reply is an error.
int apus_lua_eval(apus_lua_vm *vm, const char *name, const apus_lua_host *host,
                  int nkeys, const char *const *keys, const size_t *key_lengths,
                  int nargs, const char *const *args, const size_t *arg_lengths,
                  int caller_resp, int hook_count, apus_buf *out);

/// Bytes the interpreter uses (INFO used_memory_lua).
size_t apus_lua_memory(apus_lua_vm *vm);

/// Pushes `reply` (RESP2/RESP3) into Lua and converts it back to RESP for `caller_resp`
/// (tests of both conversions).
int apus_lua_roundtrip(apus_lua_vm *vm, const char *reply, size_t length, int script_resp, int caller_resp,
                       apus_buf *out);

/// Runs `body` as a one-off chunk in the sandbox and converts what it returns (tests).
int apus_lua_run_chunk(apus_lua_vm *vm, const char *body, size_t length, int caller_resp, apus_buf *out);

#endif
