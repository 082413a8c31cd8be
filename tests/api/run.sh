#!/usr/bin/env bash
# HTTP API tests against a real build/tern on loopback: starts the server on
# free ports with short lifecycle timers, runs every tests/api/*.mjs against
# it, then the shell smoke tests; bounded in time, cleans up on any exit.
set -u
cd "$(dirname "$0")/../.."
mkdir -p build/api
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
HTTP_PORT=$(free_port); MEDIA_PORT=$(free_port)
log=build/api/tern.log
TERN_BIN=${TERN_BIN:-build/tern}
# ASan/UBSan (when TERN_BIN is the sanitized build) abort on the first error
# and fail the run below through the exit status.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
LISTEN=127.0.0.1:$HTTP_PORT MEDIA_LISTEN=127.0.0.1:$MEDIA_PORT TIME_TO_CONNECTED_MS=1500 \
  TIME_TO_RECONNECT_MS=1500 MAX_BODY_BYTES=65536 MAX_PEERS_PER_IP=20 LOG_LEVEL=debug \
  "$TERN_BIN" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
base=http://127.0.0.1:$HTTP_PORT
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
fail=0
for t in tests/api/*.mjs; do
  if timeout 60 node "$t" "$base" "127.0.0.1:$MEDIA_PORT"; then echo "ok    $t"; else echo "FAIL  $t"; fail=1; fi
done
if ! kill -0 $pid 2>/dev/null; then echo "FAIL  the server died during the API tests"; fail=1; fi
kill -TERM $pid 2>/dev/null
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then echo "FAIL  the server did not exit within 5 s of SIGTERM"; fail=1; fi
wait $pid; rc=$?
[ $rc -eq 0 ] || { echo "FAIL  the server exited with $rc after SIGTERM"; fail=1; }
for t in tests/api/*_smoke.sh; do
  [ -f "$t" ] || continue
  if timeout 60 bash "$t"; then echo "ok    $t"; else echo "FAIL  $t"; fail=1; fi
done
[ $fail -eq 0 ] || { echo "--- server log (tail)"; tail -n 60 "$log"; }
exit $fail
