#!/usr/bin/env bash
# Issue-3 measurements: forwarding cost, one broadcaster → N viewers through
# the /broadcaster and /viewer examples. See bench/README.md.
#
#   bench/broadcast.sh                        build, then measure (≈ 1 minute)
#   VIEWERS="10 50 100 200" SECONDS_PER_RUN=10 NO_BUILD=1 TERN=… TERN_CLIENT=… bench/broadcast.sh
#
# For each N: a fresh build/tern on free loopback ports (LOG_LEVEL=warn),
# `tern-client broadcast --viewers N --server-pid <its pid>`, and one table
# row from the client's "result" line. The client runs on the same machine
# and burns CPU of its own (it decrypts every forwarded packet), so the
# server does not get the whole machine; the server's CPU time per forwarded
# packet is still the server's own (read from /proc/<pid>/stat).
# Every wait is bounded; what it started is killed on exit (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

VIEWERS=${VIEWERS:-"10 50 100 200"}
SECS=${SECONDS_PER_RUN:-10}
BENCH_NAME=broadcast.sh
SERVER_MAX_PEERS=2000
# The last server's log outlives the run, for a look after a bad row.
bench_on_exit() { mkdir -p build && cp "$WORK/server.log" build/bench-broadcast-server.log 2>/dev/null || true; }
. bench/lib.sh

# One UDP socket per client peer, plus HTTP sockets.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
max_n=0
for n in $VIEWERS; do [ "$n" -gt "$max_n" ] && max_n=$n; done
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((max_n + 256)) ] ||
  die "ulimit -n is $(ulimit -n); $((max_n + 256)) file descriptors are needed"

echo "== machine: $(nproc) cores," \
     "CPU $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); $(date -u '+%F %T UTC')"
echo "== uptime:$(uptime | sed 's/^[^,]*,[^,]*,//; s/^ *//;')"
awk '$1 > 0.5 { print "  warning: the machine is busy (1-min load " $1 "): figures will be noisy" }' /proc/loadavg
echo "== broadcast: 1 broadcaster (audio 50 pkt/s + video ~1 Mbit/s = 170 pkt/s) -> N viewers, ${SECS} s window each"
echo "   (the client shares this machine's $(nproc) cores with the server; CPU per packet is the server's own)"
echo "   rcvbuf_drops: the host's UDP RcvbufErrors during the run (/proc/net/snmp): where loss"
echo "   comes from when the client, not the server, falls behind"
rcvbuf_errors() { awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }
echo "   srv_unknown_addr: datagrams the server dropped for an unknown source address (/metrics)"
echo
printf '%8s %12s %8s %14s %12s %16s %14s %13s %17s\n' viewers fwd_pkt/s loss_% srv_cpu_ms/s srv_us/pkt \
  fwd_pkt/s/core cli_cpu_ms/s rcvbuf_drops srv_unknown_addr
for n in $VIEWERS; do
  start_server
  drops0=$(rcvbuf_errors)
  # Setup (≤ timeout per stalled step) + 1 s warm-up + window + drain + hang-up.
  limit=$((SECS + 30 + n / 10))
  "$CLIENT" broadcast --url "$URL" --viewers "$n" --seconds "$SECS" --server-pid "$SERVER_PID" \
    >"$WORK/client.out" 2>"$WORK/client.err" &
  CLIENT_PID=$!
  rc=0
  for _ in $(seq $((limit * 10))); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$CLIENT_PID" 2>/dev/null; then
    kill -KILL "$CLIENT_PID" 2>/dev/null || true
    wait "$CLIENT_PID" 2>/dev/null || true
    CLIENT_PID=""
    die "N=$n: the client did not finish within $limit s"
  fi
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=""
  # Datagrams the server could not route (no peer for the source address):
  # input lost before forwarding, whatever the client did.
  unknown=$(curl -sf --max-time 5 "$URL/metrics" |
    awk '/^tern_udp_drops_total\{reason="unknown_addr"\}/ { print $2 }')
  stop_server
  if [ "$rc" != 0 ] || ! grep -q '^result ' "$WORK/client.out"; then
    echo "broadcast.sh: N=$n failed (exit $rc): $(tail -1 "$WORK/client.err")" >&2
    echo "  (stopping here: the figures above are the machine's limit for this run)" >&2
    break
  fi
  awk -v drops=$(($(rcvbuf_errors) - drops0)) -v unknown="${unknown:-?}" '/^result / {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "%8d %12.0f %8.3f %14.1f %12.2f %16.0f %14.1f %13d %17s\n", v["viewers"], v["fwd_pps"],
           v["loss_pct"], v["srv_cpu_ms_per_s"], v["us_per_pkt"], v["pps_per_core"],
           v["cli_cpu_ms_per_s"], drops, unknown
  }' "$WORK/client.out"
  grep -q 'resyncs' "$WORK/client.out" && sed -n 's/^broadcast: /         note: /p' "$WORK/client.out" | grep resyncs || true
done
echo
echo "== load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
