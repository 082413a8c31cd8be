#!/usr/bin/env bash
# PERMISSIONS_HOST (SPEC §2): POST /join/:conversationid asks
# GET $PERMISSIONS_HOST/user/:userid/conversation/:conversationid first.
# Starts its own permission server (node, allows only alice in "ok", records
# the paths it is asked) and its own build/tern (or $TERN_BIN) on free
# loopback ports, from a temporary directory (no .env), and checks:
# 2xx → 200, other statuses → 403, percent-encoded path segments, a client
# that gives up while the check is pending (the server stays up), a
# permission server that never answers → 503 after the ~3 s timeout, and a
# stopped permission server → 503. Bounded: well under a minute.
set -u
smoke_name=permissions_smoke
. "$(dirname "$0")/smoke_lib.sh"
PERM_PORT=$(free_port); HTTP_PORT=$(free_port); MEDIA_PORT=$(free_port)

cat > "$work/perm.mjs" <<'JS'
// 200 for alice in "ok"; /user/slow/… never answers; 403 otherwise. Logs
// each raw request path on stdout.
import http from 'node:http';
const srv = http.createServer((req, res) => {
  console.log(req.method + ' ' + req.url);
  if (req.url.startsWith('/perm/user/slow/')) return; // never answers
  const ok = req.method === 'GET' && req.url === '/perm/user/alice/conversation/ok';
  res.writeHead(ok ? 200 : 403, {'Content-Type': 'text/plain'});
  res.end(ok ? 'yes' : 'no');
});
srv.listen(Number(process.argv[2]), '127.0.0.1');
JS
node "$work/perm.mjs" "$PERM_PORT" > "$work/perm.log" 2>&1 &
perm_pid=$!
pids+=($perm_pid)

(cd "$work" && WEB_ROOT="$repo/web" LISTEN=127.0.0.1:$HTTP_PORT MEDIA_LISTEN=127.0.0.1:$MEDIA_PORT AUTH=header \
  PERMISSIONS_HOST=http://127.0.0.1:$PERM_PORT/perm/ LOG_LEVEL=debug exec "$tern_bin") \
  > "$work/tern.log" 2>&1 &
tern_pid=$!
pids+=($tern_pid)
base=http://127.0.0.1:$HTTP_PORT
for _ in $(seq 100); do curl -fs -m 1 "$base/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
for _ in $(seq 100); do curl -s -m 1 -o /dev/null "http://127.0.0.1:$PERM_PORT/" && break; sleep 0.05; done

join() { # userid, conversation → "status body"
  local out
  out=$(curl -s -m 10 -X POST -H "X-User-Claim: {\"userid\":\"$1\",\"clientid\":\"c1\"}" \
        -w ' %{http_code}' "$base/join/$2")
  echo "${out##* }|${out% *}"
}

expect "alice joins ok → 200" "200|" "$(join alice ok)"
expect "bob joins ok → 403" "403|not allowed in this conversation" "$(join bob ok)"
expect "alice joins other → 403" "403|not allowed in this conversation" "$(join alice other)"
expect "a bad conversation id is refused before asking" "400" "$(join alice 'a%20b' | cut -d'|' -f1)"
join 'a b/%é' ok >/dev/null
expect "path segments are percent-encoded" "1" \
  "$(grep -c '^GET /perm/user/a%20b%2F%25%C3%A9/conversation/ok$' "$work/perm.log")"
expect "no request for the bad id" "0" "$(grep -c 'a%20b/conversation\|conversation/a' "$work/perm.log")"

# A client that gives up while the check is pending: nothing breaks.
curl -s -m 1 -o /dev/null -X POST -H 'X-User-Claim: {"userid":"slow","clientid":"c1"}' \
  "$base/join/ok"
expect "server up after an aborted /join" "200" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/healthz")"

# A permission server that never answers: 503 after the timeout (~3 s).
t0=$(date +%s%N)
r=$(join slow ok)
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "a silent permission server → 503" "503|permission service unavailable" "$r"
expect "… after about 3 s" "1" "$([ $dt -ge 2500 ] && [ $dt -le 6000 ] && echo 1 || echo "0 ($dt ms)")"

kill -TERM $perm_pid; wait $perm_pid 2>/dev/null
expect "a stopped permission server → 503" "503|permission service unavailable" "$(join alice ok)"
expect "server still up" "200" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/healthz")"

kill -TERM $tern_pid
for _ in $(seq 50); do kill -0 $tern_pid 2>/dev/null || break; sleep 0.1; done
wait $tern_pid; rc=$?
expect "clean exit on SIGTERM" "0" "$rc"
[ $fail -eq 0 ] || { echo "--- tern log (tail)"; tail -n 30 "$work/tern.log"; echo "--- permission server log"; cat "$work/perm.log"; }
exit $fail
