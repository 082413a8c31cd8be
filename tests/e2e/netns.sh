#!/usr/bin/env bash
# Runs CMD... inside a private network namespace that has only loopback, so
# ICE can use nothing but 127.0.0.1/::1 and nothing can leave the machine.
# The default routes via lo matter: Firefox on a page without capture gathers
# candidates only on the default route's address (BROWSER-TESTING.md).
# Also a private PID namespace (--pid --fork --kill-child): when CMD exits or
# this script is killed, every process started inside (server, browsers,
# helpers) dies with it -- nothing is left behind.
#   usage: tests/e2e/netns.sh CMD [ARGS...]
set -euo pipefail
if [ $# -eq 0 ]; then echo "usage: $0 CMD [ARGS...]" >&2; exit 2; fi
exec unshare --net --pid --fork --kill-child --mount-proc -- bash -c '
  ip link set lo up &&
  ip route add default dev lo src 127.0.0.1 &&
  ip -6 route add default dev lo src ::1 metric 1024 &&
  exec "$@"' _ "$@"
