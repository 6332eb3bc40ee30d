#!/usr/bin/env bash
# Compatibility run: real clients against Apus, then the differential test against
# redis-server.
#
#   compat/run.sh                      # Apus from $APUS_BIN (default .build/release/apus-server)
#   APUS_BIN=.build/debug/apus-server compat/run.sh
#   APUS_BIN=/usr/bin/redis-server compat/run.sh   # harness self-check: Redis vs Redis
#
# Environment:
#   APUS_BIN              server under test (default .build/release/apus-server)
#   REDIS_BIN             reference server (default /usr/bin/redis-server)
#   DIFF_OPS              differential ops in RESP2 (default 100000)
#   DIFF_OPS_RESP3        differential ops in RESP3 (default DIFF_OPS/5)
#   DIFF_SEED             seed (default 20240601)
#   DIFF_ARGS             extra differential.py arguments (e.g. --with-collections)
#   COMPAT_AGAINST_REDIS  1: also run the pytest suite against redis-server (sanity check)
#   PYTEST_ARGS           extra pytest arguments
#   KEEP_LOGS             1: keep the temporary directory with server logs and op logs
# Exit status is non-zero when any step fails.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
APUS_BIN="${APUS_BIN:-.build/release/apus-server}"
REDIS_BIN="${REDIS_BIN:-/usr/bin/redis-server}"
DIFF_OPS="${DIFF_OPS:-100000}"
DIFF_OPS_RESP3="${DIFF_OPS_RESP3:-$(( DIFF_OPS / 5 ))}"
DIFF_SEED="${DIFF_SEED:-20240601}"
DIFF_ARGS="${DIFF_ARGS:-}"
PYTHON="${PYTHON:-python3}"

case "$APUS_BIN" in
  /*) ;;
  *) APUS_BIN="$repo/$APUS_BIN" ;;
esac
if [ ! -x "$APUS_BIN" ]; then
  echo "run.sh: Apus binary not found: $APUS_BIN (build it, or set APUS_BIN)" >&2
  exit 2
fi
if [ ! -x "$REDIS_BIN" ]; then
  echo "run.sh: redis-server not found: $REDIS_BIN" >&2
  exit 2
fi

work="$(mktemp -d /tmp/apus-compat.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
  done
  if [ "${KEEP_LOGS:-0}" = 1 ] || [ "${failed:-0}" != 0 ]; then
    echo "run.sh: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_ping() { # port pid name
  for _ in $(seq 300); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "run.sh: $3 exited during start-up; log:" >&2
      tail -20 "$work/$3.log" >&2
      return 1
    fi
    if [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = "PONG" ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "run.sh: $3 does not answer PING on port $1" >&2
  return 1
}

redis_port="$(free_port)"
apus_port="$(free_port)"
while [ "$apus_port" = "$redis_port" ]; do apus_port="$(free_port)"; done

mkdir -p "$work/redis" "$work/apus"
(cd "$work/redis" && exec "$REDIS_BIN" --port "$redis_port" --bind 127.0.0.1 --save '' \
   --appendonly no --enable-debug-command yes --daemonize no --logfile "$work/redis.log") &
pids+=($!)
redis_pid=$!
apus_runs=0
start_apus() {
  apus_runs=$((apus_runs + 1))
  apus_log="apus-$apus_runs"
  (cd "$work/apus" && exec "$APUS_BIN" --port "$apus_port" --save '' \
     --enable-debug-command yes >"$work/$apus_log.log" 2>&1) &
  pids+=($!)
  apus_pid=$!
  wait_ping "$apus_port" "$apus_pid" "$apus_log"
}

wait_ping "$redis_port" "$redis_pid" redis || exit 2
start_apus || exit 2
echo "run.sh: redis-server on $redis_port, Apus ($APUS_BIN) on $apus_port"

failed=0
step() { # name, command...
  local name="$1"; shift
  echo
  echo "=== $name"
  if "$@"; then
    echo "=== $name: OK"
  else
    echo "=== $name: FAILED"
    failed=1
  fi
}

# After each step: if Apus died, report it (with the crash report from its log) and start a
# fresh one so the remaining steps still run.
server_alive() {
  if ! kill -0 "$apus_pid" 2>/dev/null; then
    echo "run.sh: Apus DIED during the previous step; crash report from $work/$apus_log.log:" >&2
    sleep 3  # the Swift backtracer may still be writing the report
    grep -a -m1 'runtime failure\|Program crashed\|Fatal error' "$work/$apus_log.log" >&2
    grep -a -A6 -m1 ' crashed:' "$work/$apus_log.log" >&2
    failed=1
    apus_port="$(free_port)"
    start_apus || exit 1
    echo "run.sh: restarted Apus on $apus_port"
  fi
}

cd "$here"
if [ "${COMPAT_AGAINST_REDIS:-0}" = 1 ]; then
  step "pytest against redis-server" env APUS_HOST=127.0.0.1 APUS_PORT="$redis_port" \
    "$PYTHON" -m pytest -q -rs --tb=short -p no:cacheprovider -p no:benchmark test_*.py ${PYTEST_ARGS:-}
fi
step "pytest against Apus" env APUS_HOST=127.0.0.1 APUS_PORT="$apus_port" HLL_ORACLE="127.0.0.1:$redis_port" \
  "$PYTHON" -m pytest -q -rs --tb=short -p no:cacheprovider -p no:benchmark test_*.py ${PYTEST_ARGS:-}
server_alive

# shellcheck disable=SC2086
step "differential RESP2 ($DIFF_OPS ops, seed $DIFF_SEED)" \
  "$PYTHON" differential.py --apus "127.0.0.1:$apus_port" --redis "127.0.0.1:$redis_port" \
  --ops "$DIFF_OPS" --seed "$DIFF_SEED" --resp 2 --log "$work/diff-resp2.log" $DIFF_ARGS
server_alive
# shellcheck disable=SC2086
step "differential RESP3 ($DIFF_OPS_RESP3 ops, seed $((DIFF_SEED + 1)))" \
  "$PYTHON" differential.py --apus "127.0.0.1:$apus_port" --redis "127.0.0.1:$redis_port" \
  --ops "$DIFF_OPS_RESP3" --seed "$((DIFF_SEED + 1))" --resp 3 \
  --log "$work/diff-resp3.log" $DIFF_ARGS
server_alive

echo
if [ "$failed" = 0 ]; then
  echo "run.sh: all compatibility checks passed"
else
  echo "run.sh: FAILURES (see above)"
fi
exit "$failed"
