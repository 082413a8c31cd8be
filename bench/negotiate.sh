#!/usr/bin/env bash
# Issue-2 measurements: REST negotiation latency, the stack's own setup cost,
# and the server's memory per idle connected peer. See bench/README.md.
#
#   bench/negotiate.sh                 build, then measure (≈ 1–2 minutes)
#   COUNT=100 IDLE_COUNTS="100 500" NO_BUILD=1 TERN=… TERN_CLIENT=… bench/negotiate.sh
#
# Starts its own build/tern on free loopback ports (LOG_LEVEL=warn), never
# touches a server already running, bounds every wait, and stops what it
# started on exit (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-100}
IDLE_COUNTS=${IDLE_COUNTS:-"100 500"}
BENCH_NAME=negotiate.sh
. bench/lib.sh

# One UDP socket per client peer, plus HTTP sockets: raise the soft limit.
max_idle=0
for n in $IDLE_COUNTS; do [ "$n" -gt "$max_idle" ] && max_idle=$n; done
need=$((max_idle + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || die "ulimit -n is $(ulimit -n); $need file descriptors are needed"
fi

cpu_ms() { # user+system CPU time of a process, in ms
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) * 1000 / hz }' "/proc/$1/stat"
}

mem_kib() { # $1 = pid, $2 = Pss|Rss|Anonymous (kB, whole process)
  awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"
}

metric() { # $1 = exact metric line prefix; empty when /metrics is absent
  curl -sf "$URL/metrics" 2>/dev/null | awk -v m="$1" 'index($0, m " ") == 1 { print $2 }'
}

echo "== machine"
echo "  $(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), nproc $(nproc)," \
     "CPU $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
     "RAM $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "  $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
awk '$1 > 0.5 { print "  warning: the machine is busy (1-min load " $1 "): figures will be noisy" }' /proc/loadavg

echo
echo "== 1. REST negotiation, $COUNT connections one after the other (client: $CLIENT)"
start_server
cpu0=$(cpu_ms "$SERVER_PID")
timeout 300 "$CLIENT" negotiate --url "$URL" --example ping-pong --count "$COUNT" \
  >"$WORK/negotiate.txt" || die "negotiate failed (see above)"
cpu1=$(cpu_ms "$SERVER_PID")
cat "$WORK/negotiate.txt"
awk -v a="$cpu0" -v b="$cpu1" -v n="$COUNT" \
  'BEGIN { printf "  server CPU time: %.2f ms per connection (POST, answer, ICE, DTLS, SCTP, ping, DELETE)\n", (b - a) / n }'
median=$(awk '/POST \/connections -> response/ { print $5 }' "$WORK/negotiate.txt")
awk -v m="$median" 'BEGIN { printf "  POST /connections median %.3f ms = 1/%.0f of the published ~107 ms of the node-webrtc reference server\n", m, 107 / m }'
stop_server

echo
echo "== 2. The stack alone, in one process (no HTTP)"
timeout 300 "$CLIENT" inproc --count "$COUNT" || die "inproc failed"

echo
echo "== 3. Server memory per idle connected peer (a fresh server for each N)"
for n in $IDLE_COUNTS; do
  start_server
  # Warm-up: one-time allocations (OpenSSL, usrsctp, libwebsockets) belong to the baseline.
  timeout 120 "$CLIENT" negotiate --url "$URL" --count 20 >/dev/null || die "warm-up failed"
  sleep 1
  pss0=$(mem_kib "$SERVER_PID" Pss); rss0=$(mem_kib "$SERVER_PID" Rss); anon0=$(mem_kib "$SERVER_PID" Anonymous)
  : >"$WORK/idle.txt"
  "$CLIENT" idle --url "$URL" --example ping-pong --count "$n" --seconds 120 >"$WORK/idle.txt" &
  CLIENT_PID=$!
  ok=0
  for _ in $(seq 600); do # 60 s to set them all up
    grep -q "^idle: ready $n\$" "$WORK/idle.txt" && { ok=1; break; }
    kill -0 "$CLIENT_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "$ok" = 1 ] || die "idle: $n connections were not all up within 60 s"
  sleep 3 # let setup garbage settle; consent checks keep them connected
  pss1=$(mem_kib "$SERVER_PID" Pss); rss1=$(mem_kib "$SERVER_PID" Rss); anon1=$(mem_kib "$SERVER_PID" Anonymous)
  peers=$(metric tern_peers)
  kill -INT "$CLIENT_PID"
  rc=0
  timeout 60 tail --pid="$CLIENT_PID" -f /dev/null || rc=1
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=""
  [ "$rc" = 0 ] || die "idle client failed (exit $rc)"
  pss2=$(mem_kib "$SERVER_PID" Pss)
  awk -v n="$n" -v p0="$pss0" -v p1="$pss1" -v r0="$rss0" -v r1="$rss1" -v a0="$anon0" -v a1="$anon1" \
      -v p2="$pss2" -v peers="${peers:-?}" 'BEGIN {
    printf "  N=%-4d server peers=%s  PSS %d -> %d KiB: %.1f KiB per peer  (RSS %.1f, anonymous %.1f KiB per peer); PSS %d KiB after all hung up\n",
      n, peers, p0, p1, (p1 - p0) / n, (r1 - r0) / n, (a1 - a0) / n, p2 }'
  stop_server
done
