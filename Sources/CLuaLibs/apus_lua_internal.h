#ifndef APUS_LUA_INTERNAL_H
#define APUS_LUA_INTERNAL_H
// What apus_lua.c shares with the functions engine (apus_functions.c); not part of the
// module's public headers.
#include "apus_lua.h"
#include <lua5.1/lua.h>

lua_State *apus_lua_state(apus_lua_vm *vm);
/// Pushes Redis's error table {err="ERR message"} (a "-CODE msg" keeps its code).
void apus_lua_push_error(lua_State *L, const char *message);
/// Replaces the table on top of the stack by a readonly proxy for it.
void apus_lua_make_readonly(lua_State *L);
/// Pushes the table the readonly proxy at `index` stands for (the value itself if it is not one).
void apus_lua_push_readonly_target(lua_State *L, int index);
/// Gives the table on top of the stack a metatable whose misses raise "Script attempted to
/// access nonexistent global variable".
void apus_lua_set_error_metatable(lua_State *L);
/// Converts the value on top of the stack to RESP for a `caller_resp` client and pops it.
void apus_lua_reply(lua_State *L, int caller_resp, apus_buf *out);
/// Formats the error value on top of the stack as luaCallFunction does for `funcname`, pops it.
void apus_lua_error_reply(lua_State *L, const char *funcname, apus_buf *out);
/// Runs `body(ud)` under lua_cpcall with `host` reachable from the redis.* API, the kill
/// hook every `hook_count` instructions when > 0, RESP2 selected for redis.call. Returns 1
/// (and an error reply in `out`) when the protected call itself failed.
int apus_lua_run_protected(apus_lua_vm *vm, const apus_lua_host *host, int hook_count, lua_CFunction body, void *ud,
                           apus_buf *out);

#endif
