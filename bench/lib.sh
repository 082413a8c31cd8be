# lib.sh — what the bench scripts share; source it after setting BENCH_NAME
# (for messages) and, optionally, SERVER_MAX_PEERS (default 1000) and a
# bench_on_exit function (runs before the work directory goes).
# Gives: $TERN, $CLIENT, $WORK, die, free_port tcp|udp, start_server (a fresh
# build/tern on free loopback ports: $URL, $SERVER_PID, log in
# $WORK/server.log), stop_server; builds unless NO_BUILD=1; kills what it
# started on exit, also on Ctrl-C.
TERN=${TERN:-build/tern}
CLIENT=${TERN_CLIENT:-build/tern-client}
WORK=$(mktemp -d "/tmp/tern-$BENCH_NAME.XXXXXX")
SERVER_PID=""
CLIENT_PID=""

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

cleanup() {
  [ -n "$CLIENT_PID" ] && kill -KILL "$CLIENT_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null || true
  if declare -F bench_on_exit >/dev/null; then bench_on_exit; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${NO_BUILD:-0}" != 1 ]; then
  make -s build/tern build/tern-client >/dev/null || die "build failed (make build/tern build/tern-client)"
fi
[ -x "$TERN" ] || die "$TERN is missing (build it, or set TERN=)"
[ -x "$CLIENT" ] || die "$CLIENT is missing (build it, or set TERN_CLIENT=)"

free_port() { # $1 = tcp|udp: a port the kernel just gave out (and took back)
  python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1]=="tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

start_server() {
  HTTP_PORT=$(free_port tcp)
  MEDIA_PORT=$(free_port udp)
  URL="http://127.0.0.1:$HTTP_PORT"
  LISTEN=127.0.0.1:$HTTP_PORT MEDIA_LISTEN=127.0.0.1:$MEDIA_PORT LOG_LEVEL=${LOG_LEVEL:-warn} \
    MAX_PEERS=${SERVER_MAX_PEERS:-1000} MAX_PEERS_PER_IP=${SERVER_MAX_PEERS:-1000} \
    "$TERN" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 50); do
    curl -sf -o /dev/null "$URL/healthz" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited at start: $(tail -1 "$WORK/server.log")"
    sleep 0.1
  done
  die "the server did not answer /healthz within 5 s"
}

stop_server() {
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
