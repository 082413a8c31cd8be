#!/usr/bin/env bash
# Real-browser end-to-end tests: Tern + Chromium + Firefox ESR, all inside a
# private loopback-only network namespace (tests/e2e/netns.sh), so ICE can
# only use 127.0.0.1/::1 and no test can send traffic anywhere else.
#
#   tests/e2e/run.sh                        every test, both browsers
#   tests/e2e/run.sh ping-pong              one test, both browsers
#   tests/e2e/run.sh -b firefox ping-pong   one test, one browser
#
# For each (test, browser): a fresh build/tern on its own ports, wait for
# GET /healthz -> 200, run `node tests/e2e/<test>.mjs --browser B --base URL`
# under a time limit, check the server survived, stop it (SIGTERM, then KILL).
# Logs: build/e2e/<test>.<browser>.server.log and .test.log; the server
# log's tail is printed on failure.
# Environment: TERN_BIN (default build/tern, e.g. a sanitizer build),
# E2E_TIMEOUT (seconds per test, default 90), LOG_LEVEL (server, default
# debug), E2E_VERBOSE=1 (echo the page console).
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

browsers=()
tests=()
while [ $# -gt 0 ]; do
  case "$1" in
    -b|--browser) browsers+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) tests+=("${1%.mjs}"); shift ;;
  esac
done

# ---- outside: check prerequisites, then re-run this script in the namespace.
if [ -z "${TERN_E2E_INSIDE:-}" ]; then
  bin=${TERN_BIN:-build/tern}
  missing=0
  [ -x "$bin" ] || { echo "run.sh: $bin not found or not executable (run make)" >&2; missing=1; }
  for b in /usr/bin/chromium /usr/bin/firefox-esr; do
    [ -x "$b" ] || { echo "run.sh: $b missing (run make deps)" >&2; missing=1; }
  done
  [ -d node_modules/playwright-core ] && [ -d node_modules/puppeteer-core ] \
    || { echo "run.sh: node_modules missing (run make deps)" >&2; missing=1; }
  [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null \
    || { echo "run.sh: needs root for unshare --net" >&2; missing=1; }
  [ $missing -eq 0 ] || exit 2
  mkdir -p build/e2e
  export TERN_E2E_INSIDE=1
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo -E"

  # The namespace's PID 1 (the inner run.sh) handles INT/TERM and cleans up;
  # if it does not finish within 20 s we kill the namespace, which kills
  # every process inside it.
  args=()
  for b in ${browsers[@]+"${browsers[@]}"}; do args+=(-b "$b"); done
  args+=(${tests[@]+"${tests[@]}"})
  $sudo bash tests/e2e/netns.sh bash "$0" ${args[@]+"${args[@]}"} &
  ns=$!
  on_signal() {
    trap '' INT TERM
    inner=$(ps -o pid= --ppid "$ns" 2>/dev/null | head -n1)
    [ -n "$inner" ] && kill -TERM "$inner" 2>/dev/null
    for _ in $(seq 200); do kill -0 "$ns" 2>/dev/null || exit 130; sleep 0.1; done
    kill -KILL "$ns" 2>/dev/null
    exit 130
  }
  trap on_signal INT TERM
  wait "$ns"
  exit $?
fi

# ---- inside the namespace (this shell is its PID 1).
[ ${#browsers[@]} -gt 0 ] || browsers=(chromium firefox)
if [ ${#tests[@]} -eq 0 ]; then
  # selfcheck first: it tells "browser/namespace broken" from "server broken".
  tests=(selfcheck)
  for f in tests/e2e/*.mjs; do
    t=$(basename "$f" .mjs)
    case "$t" in selfcheck|browsers|_*) ;; *) tests+=("$t") ;; esac
  done
fi
for t in "${tests[@]}"; do
  [ -f "tests/e2e/$t.mjs" ] || { echo "run.sh: no test tests/e2e/$t.mjs" >&2; exit 2; }
done

BIN=${TERN_BIN:-build/tern}
TIMEOUT=${E2E_TIMEOUT:-90}
LOGDIR=build/e2e
server_pid=""
test_pid=""

stop_server() {
  [ -n "$server_pid" ] || return 0
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "  warning: tern did not exit within 5 s of SIGTERM; killing it"
      kill -KILL "$server_pid" 2>/dev/null
    fi
  fi
  wait "$server_pid" 2>/dev/null
  server_pid=""
}

# Browser profiles and other temporary files of this run: removed at exit
# even when a test was killed before it could clean up.
export TMPDIR
TMPDIR=$(mktemp -d /tmp/tern-e2e.XXXXXX)

cleanup() {
  # Tests run in their own process group (setsid): kill the whole group.
  [ -n "$test_pid" ] && kill -KILL -- "-$test_pid" 2>/dev/null
  stop_server
  rm -rf "$TMPDIR"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted"; exit 130' INT TERM

# Waits for GET /healthz -> 200; fails early if the server exits.
wait_healthy() {
  local url=$1 deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$server_pid" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/healthz")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

tail_log() {
  echo "  --- last 30 lines of $1"
  tail -n 30 "$1" | sed 's/^/  | /'
}

results=()
failed=0
port=3000
echo "e2e: $BIN, tests: ${tests[*]}, browsers: ${browsers[*]}, limit ${TIMEOUT}s each"
for t in "${tests[@]}"; do
  for b in "${browsers[@]}"; do
    port=$((port + 1))
    slog="$LOGDIR/$t.$b.server.log"
    tlog="$LOGDIR/$t.$b.test.log"
    base="http://127.0.0.1:$port"
    echo "== $t [$b]"
    start=$SECONDS
    # AUTH_DEV_QUERY=1: the conversation page (beep-* tests) gives its
    # identity as ?userid=&clientid= (loopback only); other tests ignore it.
    LISTEN="127.0.0.1:$port" MEDIA_LISTEN="127.0.0.1:$((port + 10000))" \
      LOG_LEVEL="${LOG_LEVEL:-debug}" WEB_ROOT="$ROOT/web" AUTH_DEV_QUERY=1 \
      RECORDINGS_DIR="$TMPDIR/recordings" \
      "$BIN" >"$slog" 2>&1 &
    server_pid=$!
    if ! wait_healthy "$base"; then
      if kill -0 "$server_pid" 2>/dev/null; then
        why="tern did not answer GET $base/healthz with 200 within 10 s"
      else
        wait "$server_pid"; src=$?; server_pid=""
        why="tern exited with status $src before answering GET /healthz"
      fi
      echo "  $why"
      tail_log "$slog"
      results+=("FAIL  $t [$b] ($why)")
      failed=$((failed + 1))
      stop_server
      continue
    fi

    setsid -w timeout -k 5 "$TIMEOUT" node "tests/e2e/$t.mjs" --browser "$b" --base "$base" \
      > >(tee "$tlog") 2>&1 &
    test_pid=$!
    wait "$test_pid"
    rc=$?
    test_pid=""
    secs=$((SECONDS - start))

    verdict=PASS
    why=""
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      verdict=FAIL; why=" (timed out after ${TIMEOUT}s)"
    elif [ $rc -ne 0 ]; then
      verdict=FAIL
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid"; src=$?
      verdict=FAIL; why="$why (tern died during the test, exit status $src)"
      server_pid=""
    fi
    stop_server
    if [ $verdict = FAIL ]; then
      failed=$((failed + 1))
      echo "  $t [$b] failed$why"
      tail_log "$slog"
    fi
    results+=("$verdict  $t [$b] ${secs}s$why")
  done
done

echo
echo "e2e summary:"
for r in "${results[@]}"; do echo "  $r"; done
for r in "${results[@]}"; do
  case "$r" in "FAIL  selfcheck"*)
    echo "  note: selfcheck failed -- the browser or namespace setup is broken, not (only) the server"; break ;;
  esac
done
echo "  $(( ${#results[@]} - failed )) passed, $failed failed; logs in $LOGDIR/"
[ $failed -eq 0 ]
