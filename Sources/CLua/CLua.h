#ifndef APUS_CLUA_H
#define APUS_CLUA_H
// Debian's Lua 5.1 (liblua5.1-0-dev) with the cjson (lua-cjson-dev) and bit (lua-bitop-dev)
// libraries Redis scripts rely on.
#include <lua5.1/lua.h>
#include <lua5.1/lauxlib.h>
#include <lua5.1/lualib.h>
#include <lua5.1/lua-cjson.h>
#include <lua5.1/lua-bitop.h>
#endif
