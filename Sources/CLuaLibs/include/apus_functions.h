#ifndef APUS_FUNCTIONS_H
#define APUS_FUNCTIONS_H
#include <stddef.h>
#include "apus_lua.h"

/// The Lua engine of Redis Functions (Redis 7.2's function_lua.c semantics) on an interpreter
/// of its own: libraries run once at FUNCTION LOAD with only redis.register_function,
/// redis.log and the version fields reachable; the functions they register run later with
/// the full redis.* API, keys and arguments passed as their two parameters.

/// A function a library registered: its name, description (when given), flags (bit i = the
/// i-th of no-writes, allow-oom, allow-stale, no-cluster, allow-cross-slot-keys) and the
/// registry reference of its callback.
typedef struct apus_fn_info {
    char *name;
    size_t name_len;
    char *desc;
    size_t desc_len;
    int has_desc;
    int flags;
    int ref;
} apus_fn_info;

/// Turns an interpreter fresh from apus_lua_new into the functions engine; 0 on success.
int apus_fn_setup(apus_lua_vm *vm);

/// Compiles and runs a library's code (its shebang line left out, the newline kept) under
/// the load-time sandbox, stopping it after `timeout_ms` (0: never). On success returns 0
/// and the registered functions in `*functions` (free with apus_fn_info_free); on failure
/// returns 1 with Redis's message ("Error compiling function: ...", "Error registering
/// functions: ...") in `error`, every callback already released.
int apus_fn_create(apus_lua_vm *vm, const char *code, size_t length, long timeout_ms, const apus_lua_host *host,
                   apus_buf *error, apus_fn_info **functions, int *count);

void apus_fn_info_free(apus_fn_info *functions, int count);

/// Releases a registered callback.
void apus_fn_unref(apus_lua_vm *vm, int ref);

/// Calls the callback `ref` with tables of `keys` and `args` (FCALL), appending its reply
/// (RESP in `caller_resp`) or its error (named `funcname`) to `out`; `hook_count` > 0
/// installs the kill hook. Returns 1 when the reply is an error.
int apus_fn_call(apus_lua_vm *vm, int ref, const char *funcname, const apus_lua_host *host,
                 int nkeys, const char *const *keys, const size_t *key_lengths,
                 int nargs, const char *const *args, const size_t *arg_lengths,
                 int caller_resp, int hook_count, apus_buf *out);

#endif
