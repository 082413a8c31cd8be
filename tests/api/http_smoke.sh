#!/usr/bin/env bash
# HTTP server smoke test (docs/http.md): starts its own build/tern (or
# $TERN_BIN, linking $TERN_LIB instead of build/libtern.a) and a small
# route/WebSocket test server (tests/api/http_test_server.c, built here
# against build/libtern.a) on free loopback ports with a temporary web root,
# checks what a client sees, and cleans up on any exit. Bounded: every
# request has a time limit, the whole script well under a minute.
set -u
cd "$(dirname "$0")/../.."
tern_bin=$(realpath "${TERN_BIN:-build/tern}" 2>/dev/null)
tern_lib=${TERN_LIB:-build/libtern.a}
[ -x "$tern_bin" ] && [ -f "$tern_lib" ] || { echo "http_smoke: run 'make' first"; exit 1; }

work=$(mktemp -d /tmp/tern_http_smoke.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

fail=0
pass() { echo "  ok   $1"; }
bad() { echo "  FAIL $1${2:+  ($2)}"; fail=1; }
expect() { # name, expected, actual
  if [ "$2" = "$3" ]; then pass "$1"; else bad "$1" "want '$2', got '$3'"; fi
}
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -s -m 1 -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }
C() { curl -s -m 5 "$@"; }

# A web root with a page, a script, a subdirectory, and ways out of it.
mkdir -p "$work/web/sub" "$work/web/.git"
printf '<h1>index</h1>\n' > "$work/web/index.html"
printf 'console.log("app");\n' > "$work/web/app.js"
printf 'sub index\n' > "$work/web/sub/index.html"
printf 'SECRET=1\n' > "$work/web/.env"
printf 'top secret\n' > "$work/secret.txt"
ln -s ../secret.txt "$work/web/escape.txt"

# ---- build/tern ----
port=$(free_port); mport=$(free_port); base=http://127.0.0.1:$port
(cd "$work" && LISTEN=127.0.0.1:$port MEDIA_LISTEN=127.0.0.1:$mport WEB_ROOT=web \
   MAX_BODY_BYTES=65536 exec "$tern_bin") > "$work/tern.log" 2>&1 &
tern=$!; pids+=("$tern")
wait_up "$base/healthz" || { echo "http_smoke: build/tern did not start"; cat "$work/tern.log"; exit 1; }
echo "build/tern on $base"

expect "GET /healthz is 200 ok" "200 ok" "$(C -o "$work/o" -w '%{http_code}' "$base/healthz") $(cat "$work/o")"
expect "a static file with its type" "200 text/javascript; charset=utf-8" \
  "$(C -o /dev/null -w '%{http_code} %{content_type}' "$base/app.js")"
hdrs=$(C -D - -o /dev/null "$base/app.js" | tr -d '\r')
grep -qi '^cache-control: no-cache$' <<<"$hdrs" && pass "Cache-Control: no-cache" || bad "Cache-Control: no-cache" "$hdrs"
grep -qi '^content-length: 20$' <<<"$hdrs" && pass "Content-Length on static files" || bad "Content-Length" "$hdrs"
expect "/ serves index.html" "<h1>index</h1>" "$(C "$base/")"
expect "/sub/ serves its index.html" "sub index" "$(C "$base/sub/")"
expect "/sub redirects to /sub/" "301 $base/sub/" "$(C -o /dev/null -w '%{http_code} %{redirect_url}' "$base/sub")"
expect "a missing file is 404" "404" "$(C -o /dev/null -w '%{http_code}' "$base/nope.html")"
for p in '/../secret.txt' '/%2e%2e/secret.txt' '/sub/../../secret.txt' '/..%2fsecret.txt' \
         '/escape.txt' '/.env' '/.git/' '/..\secret.txt'; do
  code=$(C --path-as-is -o "$work/out" -w '%{http_code}' "$base$p")
  if [ "$code" = 404 ] && ! grep -q secret "$work/out" 2>/dev/null; then pass "no way out: $p is 404"
  else bad "no way out: $p" "got $code"; fi
done
# lws itself drops a request whose path decodes to a NUL byte.
code=$(C --path-as-is -o "$work/out" -w '%{http_code}' "$base/app.js%00.png")
case $code in 404|000) pass "no way out: /app.js%00.png is refused ($code)";;
  *) bad "no way out: /app.js%00.png" "got $code";; esac
expect "a known path with another method: 405 + Allow" "405 GET, HEAD" \
  "$(C -X DELETE -D - -o /dev/null "$base/healthz" | tr -d '\r' | awk 'NR==1{c=$2} tolower($1)=="allow:"{sub(/^[^ ]+ /,""); a=$0} END{print c, a}')"
expect "POST to no route is 404" "404" "$(C -X POST -d x -o /dev/null -w '%{http_code}' "$base/nothing")"
out=$(C -v -d 'some body' "$base/nothing" --next -s -m 5 "$base/healthz" 2>&1)
if grep -q 'Re-using existing connection' <<<"$out" && grep -q '^ok' <<<"$out"; then
  pass "a refused request with a body keeps the connection usable"
else bad "keep-alive after a refusal with a body" "$(tail -5 <<<"$out")"; fi
head -c 1048576 /dev/zero > "$work/big.bin"
expect "a 1 MiB body is refused with 413" "413" \
  "$(C --data-binary @"$work/big.bin" -o /dev/null -w '%{http_code}' "$base/healthz")"
expect "HEAD: headers, no body" "200 0" "$(C -I -o /dev/null -w '%{http_code} %{size_download}' "$base/healthz")"
reuse=$(C -v "$base/healthz" "$base/app.js" 2>&1 | grep -c 'Re-using existing connection')
expect "keep-alive: two requests on one connection" "1" "$reuse"

kill -TERM "$tern"
for _ in $(seq 50); do kill -0 "$tern" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$tern" 2>/dev/null; then bad "SIGTERM: exits within 5 s"; else
  wait "$tern"; expect "SIGTERM: exit status 0" "0" "$?"; fi
grep -q 'shutting down' "$work/tern.log" && grep -q 'bye' "$work/tern.log" \
  && pass "SIGTERM: logs 'shutting down' and 'bye'" || bad "shutdown log" "$(tail -3 "$work/tern.log")"

out=$(cd "$work" && TIME_TO_CONNECTED_MS=abc "$tern_bin" 2>&1); rc=$?
expect "bad config: exit 2 with one line naming the setting" \
  '2 tern: TIME_TO_CONNECTED_MS: "abc" is not a whole number of milliseconds (1..3600000)' "$rc $out"

# ---- route and WebSocket test server ----
cc=${CC:-gcc}
PKGS="libuv libwebsockets jansson openssl libsrtp2 usrsctp opus"
if ! $cc -std=c17 -D_GNU_SOURCE -O1 -g -Isrc $(pkg-config --cflags $PKGS) \
     -o "$work/http_test_server" tests/api/http_test_server.c "$tern_lib" \
     $(pkg-config --libs $PKGS) -lm 2> "$work/cc.log"; then
  bad "build tests/api/http_test_server.c" "$(head -5 "$work/cc.log")"; exit 1
fi
tport=$(free_port); tbase=http://127.0.0.1:$tport
"$work/http_test_server" "$tport" "$work/web" > "$work/ts.log" 2>&1 &
ts=$!; pids+=("$ts")
wait_up "$tbase/healthz" || { echo "http_smoke: test server did not start"; cat "$work/ts.log"; exit 1; }
echo "test server on $tbase"

json=$(C -H 'X-User-Claim: {"userid":"u1"}' "$tbase/show/a%20b?x=1%262")
expect "path parameter, query and captured header" \
  'a b|1&2|{"userid":"u1"}|true' \
  "$(python3 -c 'import json,sys;d=json.loads(sys.argv[1]);print("|".join(str(d[k]).lower() if k=="loopback" else d[k] for k in ("id","x","claim","loopback")))' "$json" 2>&1)"
expect "an asynchronous handler answers later" "late 200" \
  "$(C -w '%{http_code}' "$tbase/late?ms=200" | tr '\n' ' ')"
head -c 3000 /dev/urandom > "$work/small.bin"
C --data-binary @"$work/small.bin" -H 'Content-Type: application/x-test' -o "$work/echo.bin" "$tbase/echo"
cmp -s "$work/small.bin" "$work/echo.bin" && pass "a binary body arrives intact" || bad "binary body echo"
expect "chunked uploads ask for a length (411)" "411" \
  "$(printf hi | C -H 'Transfer-Encoding: chunked' --data-binary @- -o /dev/null -w '%{http_code}' "$tbase/echo")"
expect "a client gone before the answer: abort callback" "1" \
  "$(C -m 0.3 "$tbase/late?ms=5000" >/dev/null; sleep 3.5; grep -c 'late request aborted' "$work/ts.log")"
python3 - "$tport" <<'EOF' && pass "timeouts: idle keep-alive, stalled header, per-IP limit" || fail=1
import socket, sys, time
port = int(sys.argv[1])
def closed_after(payload):
    s = socket.create_connection(("127.0.0.1", port)); s.settimeout(10)
    if payload: s.sendall(payload)
    t = time.time()
    while True:
        try:
            if not s.recv(4096): break
        except OSError: break
    return time.time() - t
ok = True
for name, payload in (("idle keep-alive", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
                      ("stalled header", b"GET / HTTP/1.1\r\nHost: x\r\n"),
                      ("silent client", b"")):
    d = closed_after(payload)
    if not 1.0 < d < 6.0:
        print(f"  FAIL {name} closed after {d:.1f}s (idle timeout is 2 s)"); ok = False
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(24)]
served = 0
for s in socks:
    s.settimeout(2)
    try:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        served += s.recv(12) == b"HTTP/1.1 200"
    except OSError:
        pass
for s in socks: s.close()
if served != 20:
    print(f"  FAIL per-IP limit: {served} of 24 served, want 20"); ok = False
sys.exit(0 if ok else 1)
EOF
if timeout 30 python3 tests/api/ws_check.py "$tport" > "$work/ws.out" 2>&1; then
  pass "WebSocket: echo, fragments, 200 kB, close codes 4000/1009/1003, 403/404 refusals"
else
  bad "WebSocket checks"; sed 's/^/       /' "$work/ws.out"
fi
kill -TERM "$ts"
for _ in $(seq 50); do kill -0 "$ts" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$ts" 2>/dev/null; then bad "test server: exits on SIGTERM"; else
  wait "$ts"; expect "test server: SIGTERM, loop closed, exit 0" "0" "$?"; fi

[ $fail -eq 0 ] || { echo "--- tern log"; tail -20 "$work/tern.log"; echo "--- test server log"; tail -20 "$work/ts.log"; }
exit $fail
