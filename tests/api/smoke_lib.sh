# smoke_lib.sh — what the *_smoke.sh tests share; source it after naming the
# test:   smoke_name=nats_smoke; . tests/api/smoke_lib.sh
# Gives: $repo (cwd), $tern_bin, a private $work directory, the pids array
# (every pid in it is killed on exit), expect NAME WANT GOT (sets fail=1 on a
# mismatch) and free_port.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
tern_bin=$(realpath "${TERN_BIN:-build/tern}" 2>/dev/null)
[ -x "$tern_bin" ] || { echo "$smoke_name: run 'make' first"; exit 1; }

work=$(mktemp -d "/tmp/tern_$smoke_name.XXXXXX")
pids=()
cleanup() {
  exec 2>/dev/null # no "Killed" job notices
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

fail=0
expect() { # name, expected, actual
  if [ "$2" = "$3" ]; then echo "  ok   $1"; else echo "  FAIL $1  (want '$2', got '$3')"; fail=1; fi
}
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
